"""Refunds: a student's credit paid back in cash or by transfer with a payment voucher, in the
ledger as money out; the school's outgoing transfer recognised as the refund it pays."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import CASSO_KEY, assert_ledger_ok, send_sepay, sepay_body
from tests.pdfs import page_text
from tuition.core import clock
from tuition.extensions import db
from tuition.models import Allocation, BankTransaction, PaymentVoucher, Student
from tuition.services import schools


@pytest.fixture
def owed(client, billed, monkeypatch):
    """HS001 overpaid 300,000 by transfer; 400,000 of cash sits in the accountant's box."""
    monkeypatch.setattr(clock, "now_utc", lambda: datetime(2026, 9, 5, 3, 15, tzinfo=UTC))
    send_sepay(client, sepay_body(f"{billed.codes['HS001']} hoc phi", 800_000))
    billed.post("/schools/LQD/cash-payments", json={
        "student_code": "HS003", "amount_vnd": 400_000, "payer_name": "Lê Văn Tâm"})
    return billed


def refund(acct, **body):
    data = {"student_code": "HS001", "amount_vnd": 300_000, "method": "cash",
            "payee_name": "Nguyễn Văn Bình", "reason": "Học sinh chuyển trường", **body}
    return acct.post("/schools/LQD/refunds", json=data)


def send_casso_out(client, memo: str, amount: int, counter: str, txn_id: int = 77001):
    body = {"error": 0, "data": {
        "id": txn_id, "reference": f"FT26OUT{txn_id}", "description": memo, "amount": -amount,
        "runningBalance": 0, "transactionDateTime": "2026-09-05 15:00:00",
        "accountNumber": "0011001234567", "bankName": "Vietcombank", "bankAbbreviation": "VCB",
        "counterAccountName": "NGUYEN VAN BINH", "counterAccountNumber": counter}}
    stamp = str(int(time.time() * 1000))
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    v1 = hmac.new(CASSO_KEY.encode(), f"{stamp}.{canonical}".encode(),
                  hashlib.sha512).hexdigest()
    return client.post("/webhooks/casso", data=json.dumps(body), headers={
        "X-Casso-Signature": f"t={stamp},v1={v1}", "Content-Type": "application/json"})


def test_a_cash_refund_pays_the_credit_out_of_the_cash_book(owed, tmp_path: Path):
    assert assert_ledger_ok().on_credit_vnd == 300_000
    listed = owed.get("/schools/LQD/refunds").get_json()["owed"]
    assert listed == [{"student_code": "HS001", "credit_vnd": 300_000,
                       "refundable_vnd": 300_000, "status": "studying"}]
    response = refund(owed)
    assert response.status_code == 201, response.get_json()
    voucher = response.get_json()
    assert (voucher["code"], voucher["status"], voucher["method"]) == (
        "PC26-000001", "paid", "cash")
    kinds = sorted((a.kind, a.amount_vnd) for a in db.session.query(Allocation)
                   .filter(Allocation.voucher_id == voucher["id"]))
    assert kinds == [("credit", -300_000), ("refund", 300_000)]
    book = owed.get("/schools/LQD/cash-book?date=2026-09-05").get_json()
    assert (book["in_vnd"], book["out_vnd"], book["closing_vnd"]) == (400_000, 300_000, 100_000)
    assert book["entries"][-1]["document"] == "PC26-000001"
    report = assert_ledger_ok()
    assert (report.on_credit_vnd, report.refunded_vnd, report.vouchers_vnd) == (
        0, 300_000, 300_000)
    pdf = owed.get(f"/vouchers/{voucher['id']}.pdf")
    path = tmp_path / "pc.pdf"
    path.write_bytes(pdf.data)
    text = page_text(path, 1)
    for expected in ("PHIẾU CHI", "PC26-000001", "Nguyễn Văn Bình", "300.000 đồng",
                     "Ba trăm nghìn đồng", "Học sinh chuyển trường", "Ngày 05 tháng 09 năm 2026",
                     "Người nhận tiền", "Thủ quỹ", "C41-BB"):
        assert expected in text, expected


def test_a_refund_cannot_exceed_the_credit_nor_the_cash_in_the_box(owed):
    too_much = refund(owed, amount_vnd=300_001)
    assert too_much.status_code == 409
    assert "300.000" in too_much.get_json()["error"]["message"]
    # The box's 400,000 went to the bank: no cash to pay from, a transfer still works.
    owed.post("/schools/LQD/cash-deposits", json={
        "amount_vnd": 400_000, "deposited_on": "2026-09-05", "slip_number": "GNT-1"})
    empty = refund(owed)
    assert empty.status_code == 409 and "400.000" not in empty.get_json()["error"]["message"]
    assert refund(owed, method="transfer", payee_account="190333444555",
                  payee_bank="TCB").status_code == 201
    assert refund(owed, amount_vnd=1, method="transfer", payee_account="190333444555",
                  payee_bank="TCB").status_code == 409
    assert_ledger_ok()


@pytest.mark.parametrize(("body", "field"), [
    ({"method": "cheque"}, "method"),
    ({"method": "transfer"}, "payee_account"),
    ({"method": "transfer", "payee_account": "0123456789"}, "payee_bank"),
    ({"reason": ""}, "reason"),
    ({"payee_name": ""}, "payee_name"),
    ({"amount_vnd": -5}, "amount_vnd"),
])
def test_bad_refunds_are_refused(owed, body, field):
    response = refund(owed, **body)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field
    db.session.rollback()
    assert db.session.query(PaymentVoucher).count() == 0


def test_principals_cannot_refund(owed, make_user):
    _principal, token = make_user("principal", schools.get_school("LQD"))
    assert refund(type(owed)(token)).status_code == 403


def test_a_transfer_refund_is_paid_when_the_bank_shows_it_leave(client, owed):
    voucher = refund(owed, method="transfer", payee_account="1903 3344 4555",
                     payee_bank="Techcombank").get_json()
    assert (voucher["status"], voucher["payee_account"]) == ("pending", "190333444555")
    assert assert_ledger_ok().refunded_vnd == 300_000
    # Another amount, or another account, is not this refund.
    send_casso_out(client, "HOAN TIEN PC26000001", 250_000, "190333444555", txn_id=77001)
    send_casso_out(client, "HOAN TIEN PC26000001", 300_000, "999999999", txn_id=77002)
    assert db.session.get(PaymentVoucher, voucher["id"]).status == "pending"
    send_casso_out(client, "MBVCB.1234.HOAN TIEN PC26-000001 HS001", 300_000, "190333444555",
                   txn_id=77003)
    db.session.expire_all()
    paid = db.session.get(PaymentVoucher, voucher["id"])
    assert paid.status == "paid"
    txn = db.session.get(BankTransaction, paid.transaction_id)
    assert (txn.direction, txn.status, txn.status_reason) == ("out", "ignored", "refund")
    assert txn.provider_txn_id == "77003"
    assert owed.post(f"/vouchers/{voucher['id']}/cancel",
                     json={"reason": "x"}).status_code == 409
    assert_ledger_ok()


def test_an_outgoing_transfer_seen_before_the_voucher_is_linked_when_it_is_issued(client, owed):
    send_sepay(client, sepay_body("HOAN TIEN PC26000001", 300_000, direction="out"))
    voucher = refund(owed, method="transfer", payee_account="190333444555",
                     payee_bank="TCB").get_json()
    assert voucher["status"] == "paid" and voucher["bank_transaction_id"]


def test_cancelling_a_transfer_refund_gives_the_credit_back(owed):
    voucher = refund(owed, method="transfer", payee_account="190333444555",
                     payee_bank="TCB").get_json()
    cancelled = owed.post(f"/vouchers/{voucher['id']}/cancel",
                          json={"reason": "Phụ huynh đổi ý, để trừ vào học kỳ sau"})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    report = assert_ledger_ok()
    assert (report.on_credit_vnd, report.refunded_vnd, report.vouchers_vnd) == (300_000, 0, 0)
    assert refund(owed).status_code == 201  # the credit is there to refund again


def test_credit_still_in_review_is_not_refunded(client, billed, monkeypatch):
    monkeypatch.setattr(clock, "now_utc", lambda: datetime(2026, 9, 5, 3, 15, tzinfo=UTC))
    code = billed.codes["HS003"]
    send_sepay(client, sepay_body(code, 500_000))
    send_sepay(client, sepay_body(code, 500_000))  # paid twice: credited, but in review
    student = db.session.query(Student).filter_by(code="HS003").one()
    assert student is not None
    listed = billed.get("/schools/LQD/refunds").get_json()["owed"]
    assert listed[0]["credit_vnd"] == 500_000 and listed[0]["refundable_vnd"] == 0
    response = refund(billed, student_code="HS003", amount_vnd=500_000, method="transfer",
                      payee_account="190333444555", payee_bank="TCB")
    assert response.status_code == 409
