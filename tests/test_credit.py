"""A family's credit pays what is open, at once; money waiting for a person is never spent."""

from __future__ import annotations

import io

from PIL import Image
from pyzbar.pyzbar import decode

from tests.helpers import assert_ledger_ok, invoice, payments_of, send_sepay, sepay_body
from tuition.core import vietqr
from tuition.extensions import db
from tuition.models import AuditEvent, Student
from tuition.services import credits, schools


def bill_october(acct):
    response = acct.post("/schools/LQD/billing-runs", json={
        "period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15"})
    assert response.status_code == 201, response.get_json()
    return {i["student_code"]: i for i in
            acct.get("/schools/LQD/invoices?period=2026-10").get_json()["items"]}


def test_a_surplus_pays_the_familys_next_open_invoice_at_once(client, billed):
    october = bill_october(billed)
    code = billed.codes["HS001"]
    assert send_sepay(client, sepay_body(f"{code} hoc phi", 800_000)).status_code == 200
    assert invoice(billed, "HS001")["status"] == "paid"
    oct_code = october["HS001"]["code"]
    after = billed.get(f"/invoices/{oct_code}").get_json()
    assert (after["paid_vnd"], after["balance_vnd"], after["status"]) == (
        300_000, 200_000, "partial")
    # Nothing is held back while something is owed; the VietQR asks for the net amount.
    school = schools.get_school("LQD")
    student = db.session.scalar(db.select(Student).where(Student.code == "HS001"))
    assert credits.balance_vnd(student.id) == 0
    qr = billed.get(f"/invoices/{oct_code}/qr.png")
    payload = decode(Image.open(io.BytesIO(qr.data)))[0].data.decode()
    assert vietqr.parse_payload(payload).amount_vnd == 200_000
    receipts = billed.get("/schools/LQD/receipts").get_json()["items"]
    assert sorted(r["amount_vnd"] for r in receipts) == [300_000, 500_000]
    event = db.session.query(AuditEvent).filter_by(action="credit.apply").one()
    assert event.details["invoices"] == [{"invoice": oct_code, "amount_vnd": 300_000}]
    assert event.school_id == school.id
    assert assert_ledger_ok().on_credit_vnd == 0


def test_credit_pays_the_oldest_open_invoices_first_and_keeps_the_rest(client, billed):
    october = bill_october(billed)
    code = billed.codes["HS002"]
    # Pays September (500,000), then October (500,000); 100,000 stays as credit.
    send_sepay(client, sepay_body(code, 1_100_000))
    assert invoice(billed, "HS002")["status"] == "paid"
    assert billed.get(f"/invoices/{october['HS002']['code']}").get_json()["status"] == "paid"
    assert assert_ledger_ok().on_credit_vnd == 100_000
    # November's invoice takes the remaining credit when it is issued.
    billed.post("/schools/LQD/billing-runs", json={
        "period": "2026-11", "fee_items": ["HOCPHI"], "due_date": "2026-11-15"})
    november = [i for i in billed.get("/schools/LQD/invoices?period=2026-11").get_json()["items"]
                if i["student_code"] == "HS002"][0]
    assert (november["paid_vnd"], november["balance_vnd"]) == (100_000, 400_000)
    assert assert_ledger_ok().on_credit_vnd == 0


def test_credit_from_a_payment_in_review_is_not_spent_until_confirmed(client, billed):
    code = billed.codes["HS001"]
    send_sepay(client, sepay_body(code, 500_000))
    send_sepay(client, sepay_body(code, 500_000))  # paid again: credit, waiting for a person
    (waiting,) = payments_of(billed, "review")
    october = bill_october(billed)
    oct_code = october["HS001"]["code"]
    assert billed.get(f"/invoices/{oct_code}").get_json()["paid_vnd"] == 0
    assert assert_ledger_ok().on_credit_vnd == 500_000

    refused = billed.post(f"/payments/{waiting['id']}/confirm", json={"reason": ""})
    assert refused.status_code == 422
    confirmed = billed.post(f"/payments/{waiting['id']}/confirm",
                            json={"reason": "Phụ huynh nộp trước tháng 10"})
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["status"] == "credited"
    assert billed.get(f"/invoices/{oct_code}").get_json()["status"] == "paid"
    assert assert_ledger_ok().on_credit_vnd == 0
    again = billed.post(f"/payments/{waiting['id']}/confirm", json={"reason": "lần nữa"})
    assert again.status_code == 409


def test_credit_given_by_the_accountant_pays_open_invoices(client, billed):
    send_sepay(client, sepay_body("chuyen tien cho con", 700_000))
    (waiting,) = payments_of(billed, "review")
    response = billed.post(f"/payments/{waiting['id']}/allocations", json={
        "allocations": [], "credit": {"student_code": "HS003", "amount_vnd": 700_000},
        "reason": "Phụ huynh em Ngọc gọi điện"})
    assert response.status_code == 201, response.get_json()
    assert invoice(billed, "HS003")["status"] == "paid"
    assert assert_ledger_ok().on_credit_vnd == 200_000


def test_a_set_aside_payment_cannot_be_assigned(client, billed):
    send_sepay(client, sepay_body("tien quy lop", 300_000))
    (waiting,) = payments_of(billed, "review")
    assert billed.post(f"/payments/{waiting['id']}/set-aside",
                       json={"reason": "Quỹ lớp, không phải học phí"}).status_code == 200
    response = billed.post(f"/payments/{waiting['id']}/allocations", json={
        "allocations": [{"invoice_code": billed.codes["HS001"], "amount_vnd": 300_000}],
        "reason": "thử"})
    assert response.status_code == 409
    assert "để riêng" in response.get_json()["error"]["message"]
    assert invoice(billed, "HS001")["paid_vnd"] == 0
    assert assert_ledger_ok().set_aside_vnd == 300_000


def test_reports_show_gross_arrears_credit_held_and_net_arrears(client, billed):
    # HS001 pays a paid invoice again: 500,000 of credit waiting for a person, while October
    # is open; HS002 owes both months.
    code = billed.codes["HS001"]
    send_sepay(client, sepay_body(code, 500_000))
    send_sepay(client, sepay_body(code, 300_000))
    bill_october(billed)
    dashboard = billed.get("/schools/LQD/reports/dashboard").get_json()["totals"]
    # Every period: HS001 owes October (500,000), HS002 and HS003 owe two months each.
    assert dashboard["gross_arrears_vnd"] == 500_000 + 2 * 1_000_000
    assert dashboard["credit_held_vnd"] == 300_000
    assert dashboard["net_arrears_vnd"] == 200_000 + 2 * 1_000_000
    arrears = billed.get("/schools/LQD/reports/arrears").get_json()["totals"]
    assert (arrears["balance_vnd"], arrears["credit_held_vnd"], arrears["net_arrears_vnd"]) == (
        2_500_000, 300_000, 2_200_000)


def test_verify_ledger_catches_unspent_credit_and_figures_that_disagree(client, billed, runner):
    from tuition.models import Allocation, BankTransaction, Invoice

    code = billed.codes["HS001"]
    send_sepay(client, sepay_body(code, 500_000))
    bill_october(billed)
    assert_ledger_ok()
    # Credit slipped in beside an open invoice (as a buggy path would leave it).
    txn = db.session.scalar(db.select(BankTransaction))
    student = db.session.scalar(db.select(Student).where(Student.code == "HS001"))
    db.session.add(Allocation(transaction_id=txn.id, kind="credit", student_id=student.id,
                              amount_vnd=50_000, reason="test"))
    # And an invoice whose paid figure drifted from its allocations.
    drifted = db.session.scalar(db.select(Invoice).where(Invoice.code == billed.codes["HS002"]))
    drifted.paid_vnd = 100_000
    drifted.status = "partial"
    db.session.commit()
    result = runner.invoke(args=["tuition", "verify-ledger"])
    assert result.exit_code == 1
    assert "confirmed credit unspent while invoice" in result.output
    assert f"invoice {drifted.code}: 500000 dong due by the ledger but asked" in result.output
