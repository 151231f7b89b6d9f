"""Bank notifications in, matched to invoices, corrected by the accountant; the ledger holds."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from tests.helpers import (
    CASSO_KEY,
    KEY,
    assert_ledger_ok,
    invoice,
    payments_of,
    send_sepay,
    sepay_body,
)
from tuition.extensions import db
from tuition.models import BankTransaction
from tuition.services import schools


def test_exact_payment_through_a_mangled_memo_marks_the_invoice_paid(client, billed):
    code = billed.codes["HS001"]
    memo = (f"MBVCB.1234567890.{code[:4].lower()} {code[4:].lower()} hoc phi be Duong.CT tu "
            "0011 NGUYEN VAN BINH toi 0011001234567 TRUONG")
    response = send_sepay(client, sepay_body(memo, 500_000))
    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert invoice(billed, "HS001")["status"] == "paid"
    (payment,) = payments_of(billed, "matched")
    assert payment["allocations"][0]["invoice_code"] == code
    assert payment["allocations"][0]["amount_vnd"] == 500_000
    assert payment["memo"] == memo
    assert_ledger_ok()


def test_partial_then_rest(client, billed):
    code = billed.codes["HS002"]
    send_sepay(client, sepay_body(f"{code} HS002", 200_000))
    detail = invoice(billed, "HS002")
    assert (detail["status"], detail["paid_vnd"], detail["balance_vnd"]) == (
        "partial", 200_000, 300_000)
    assert payments_of(billed)[0]["status"] == "partial"
    send_sepay(client, sepay_body(f"{code} HS002", 300_000))
    assert invoice(billed, "HS002")["status"] == "paid"
    assert_ledger_ok()


def test_overpayment_becomes_credit_used_by_the_next_invoice(client, billed):
    code = billed.codes["HS003"]
    send_sepay(client, sepay_body(f"IBFT {code}", 650_000))
    assert invoice(billed, "HS003")["status"] == "paid"
    (payment,) = payments_of(billed)
    assert sorted((a["kind"], a["amount_vnd"]) for a in payment["allocations"]) == [
        ("credit", 150_000), ("invoice", 500_000)]
    report = assert_ledger_ok()
    assert report.on_credit_vnd == 150_000
    billed.post("/schools/LQD/billing-runs", json={
        "period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15"})
    october = [i for i in billed.get("/schools/LQD/invoices?period=2026-10").get_json()["items"]
               if i["student_code"] == "HS003"][0]
    assert (october["paid_vnd"], october["balance_vnd"], october["status"]) == (
        150_000, 350_000, "partial")
    assert assert_ledger_ok().on_credit_vnd == 0


def test_siblings_paid_together_are_split_exactly(client, billed):
    memo = f"{billed.codes['HS001']} {billed.codes['HS002']} hoc phi 2 chau"
    send_sepay(client, sepay_body(memo, 1_000_000))
    assert invoice(billed, "HS001")["status"] == "paid"
    assert invoice(billed, "HS002")["status"] == "paid"
    assert payments_of(billed)[0]["status"] == "matched"
    assert_ledger_ok()


def test_siblings_with_a_wrong_total_go_to_review(client, billed):
    memo = f"{billed.codes['HS001']} {billed.codes['HS002']}"
    send_sepay(client, sepay_body(memo, 700_000))
    (payment,) = payments_of(billed, "review")
    assert payment["allocations"] == [] and payment["unallocated_vnd"] == 700_000
    assert invoice(billed, "HS001")["paid_vnd"] == 0
    assert_ledger_ok()


def test_no_code_goes_to_review_with_ranked_suggestions(client, billed):
    send_sepay(client, sepay_body("hoc phi be Ngoc lop 1A", 500_000))
    (payment,) = payments_of(billed, "review")
    detail = billed.get(f"/payments/{payment['id']}").get_json()
    top = detail["suggestions"][0]
    assert top["student_code"] == "HS003" and top["invoice_code"] == billed.codes["HS003"]
    assert top["reasons"]
    assert all(invoice(billed, s)["paid_vnd"] == 0 for s in ("HS001", "HS002", "HS003"))
    assert assert_ledger_ok().awaiting_review_vnd == 500_000


def test_damaged_code_is_not_matched(client, billed):
    code = billed.codes["HS001"]
    # Swap the first adjacent pair of the random part that differs (a code may hold "77").
    i = next(i for i in range(2, len(code) - 1) if code[i] != code[i + 1])
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
    assert swapped != code
    send_sepay(client, sepay_body(f"{swapped} hoc phi", 500_000))
    assert payments_of(billed)[0]["status"] == "review"
    assert invoice(billed, "HS001")["paid_vnd"] == 0


def test_paying_a_paid_invoice_again_is_credited_and_reviewed(client, billed):
    code = billed.codes["HS001"]
    send_sepay(client, sepay_body(code, 500_000))
    send_sepay(client, sepay_body(code, 500_000))
    review = payments_of(billed, "review")
    assert len(review) == 1
    assert [(a["kind"], a["amount_vnd"]) for a in review[0]["allocations"]] == [
        ("credit", 500_000)]
    assert assert_ledger_ok().on_credit_vnd == 500_000


def test_repeated_delivery_is_one_payment(client, billed):
    body = sepay_body(billed.codes["HS001"], 500_000)
    for _ in range(3):
        assert send_sepay(client, body).get_json() == {"success": True}
    assert len(payments_of(billed)) == 1
    assert invoice(billed, "HS001")["paid_vnd"] == 500_000


def test_outgoing_and_unknown_account_are_kept(client, billed):
    send_sepay(client, sepay_body("chi tien dien", 90_000, direction="out"))
    assert payments_of(billed, "ignored")[0]["direction"] == "out"
    with_default = client.application.config
    with_default["SEPAY_API_KEY"] = "deployment-wide-key-0123456789"
    try:
        response = send_sepay(client, sepay_body("xyz", 10_000, account="999888777"),
                              key="deployment-wide-key-0123456789")
    finally:
        with_default["SEPAY_API_KEY"] = None
    assert response.status_code == 200
    stored = db.session.query(BankTransaction).filter_by(account_number="999888777").one()
    assert stored.school_id is None and stored.status == "review"
    assert json.loads(stored.raw)["content"] == "xyz"


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Apikey wrong-key"},
    {"Authorization": f"Bearer {KEY}"},
])
def test_unauthenticated_notifications_are_refused_and_not_stored(client, billed, headers):
    body = sepay_body(billed.codes["HS001"], 500_000)
    response = client.post("/webhooks/sepay", data=json.dumps(body),
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["success"] is False
    assert db.session.query(BankTransaction).count() == 0


@pytest.mark.parametrize("raw", [
    b"not json", b"[]", b'{"id": 1}',
    json.dumps({**sepay_body("x", 1), "transferAmount": 1000.5}).encode(),
])
def test_malformed_notifications_are_refused(client, billed, raw):
    response = client.post("/webhooks/sepay", data=raw,
                           headers={"Authorization": f"Apikey {KEY}"})
    assert response.status_code == 400
    assert response.get_json()["message"] and response.get_json()["message_en"]
    assert db.session.query(BankTransaction).count() == 0


def test_sepay_hmac_mode(client, billed):
    raw = json.dumps(sepay_body(billed.codes["HS002"], 500_000)).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(KEY.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    response = client.post("/webhooks/sepay", data=raw, headers={
        "X-SePay-Timestamp": stamp, "X-SePay-Signature": f"sha256={signature}"})
    assert response.status_code == 200
    assert invoice(billed, "HS002")["status"] == "paid"
    bad = client.post("/webhooks/sepay", data=raw.replace(b"500000", b"900000"), headers={
        "X-SePay-Timestamp": stamp, "X-SePay-Signature": f"sha256={signature}"})
    assert bad.status_code == 401


def casso_request(client, data: dict, *, key=CASSO_KEY, stamp_ms=None):
    body = {"error": 0, "data": data}
    stamp = str(stamp_ms or int(time.time() * 1000))
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    v1 = hmac.new(key.encode(), f"{stamp}.{canonical}".encode(), hashlib.sha512).hexdigest()
    return client.post("/webhooks/casso", data=json.dumps(body), headers={
        "X-Casso-Signature": f"t={stamp},v1={v1}", "Content-Type": "application/json"})


def casso_data(memo: str, amount: int, txn_id: int) -> dict:
    return {
        "id": txn_id, "reference": f"FT26CASSO{txn_id}", "description": memo, "amount": amount,
        "runningBalance": 0, "transactionDateTime": "2026-09-05 11:00:00",
        "accountNumber": "0011001234567", "bankName": "Vietcombank", "bankAbbreviation": "VCB",
        "virtualAccountNumber": "", "virtualAccountName": "",
        "counterAccountName": "LE VAN TAM", "counterAccountNumber": "190333444555",
        "counterAccountBankId": "970407", "counterAccountBankName": "Techcombank",
    }


def test_casso_signed_notification_is_matched(client, billed):
    response = casso_request(client, casso_data(f"{billed.codes['HS003']} Ngọc", 500_000, 77))
    assert response.status_code == 200 and response.get_json() == {"success": True}
    assert invoice(billed, "HS003")["status"] == "paid"
    payment = payments_of(billed)[0]
    assert payment["provider"] == "casso" and payment["payer_account"] == "190333444555"


def test_casso_forged_or_stale_is_refused(client, billed):
    data = casso_data(billed.codes["HS003"], 500_000, 78)
    assert casso_request(client, data, key="another-key-0123456789").status_code == 401
    old = int(time.time() * 1000) - 3600 * 1000
    assert casso_request(client, data, stamp_ms=old).status_code == 401
    assert db.session.query(BankTransaction).count() == 0


def test_same_transfer_via_two_channels_is_one_payment(client, billed):
    code = billed.codes["HS001"]
    send_sepay(client, sepay_body(code, 500_000, txn_id=501, reference="FT26000000777"))
    data = casso_data(code, 500_000, 9001)
    data["reference"] = "FT26000000777"
    assert casso_request(client, data).status_code == 200
    assert len(payments_of(billed)) == 1
    assert invoice(billed, "HS001")["paid_vnd"] == 500_000


def test_accountant_assigns_splits_and_reverses_with_reasons(client, billed):
    send_sepay(client, sepay_body("chuyen tien hoc phi", 800_000))
    (payment,) = payments_of(billed, "review")
    url = f"/payments/{payment['id']}/allocations"
    no_reason = billed.post(url, json={"allocations": [
        {"invoice_code": billed.codes["HS001"], "amount_vnd": 500_000}]})
    assert no_reason.status_code == 422
    too_much = billed.post(url, json={"reason": "x", "allocations": [
        {"invoice_code": billed.codes["HS001"], "amount_vnd": 900_000}]})
    assert too_much.status_code == 409
    split = billed.post(url, json={"reason": "Phụ huynh gọi điện xác nhận", "allocations": [
        {"invoice_code": billed.codes["HS001"], "amount_vnd": 500_000},
        {"invoice_code": billed.codes["HS002"], "amount_vnd": 300_000}]})
    assert split.status_code == 201, split.get_json()
    assert split.get_json()["status"] == "matched"
    assert invoice(billed, "HS002")["status"] == "partial"
    assert_ledger_ok()

    allocation = split.get_json()["allocations"][1]
    reversed_ = billed.post(f"/allocations/{allocation['id']}/reversal",
                            json={"reason": "Gán nhầm học sinh"})
    assert reversed_.status_code == 201
    body = reversed_.get_json()
    assert body["status"] == "review" and body["unallocated_vnd"] == 300_000
    assert body["allocations"][-1]["amount_vnd"] == -300_000
    assert body["allocations"][-1]["reverses"] == allocation["id"]
    assert invoice(billed, "HS002")["paid_vnd"] == 0
    again = billed.post(f"/allocations/{allocation['id']}/reversal", json={"reason": "x"})
    assert again.status_code == 409
    assert_ledger_ok()


def test_principal_cannot_assign(client, billed, make_user, api):
    send_sepay(client, sepay_body("khong ro", 500_000))
    payment = payments_of(billed, "review")[0]
    _, token = make_user("principal", schools.get_school("LQD"))
    response = api(token).post(f"/payments/{payment['id']}/allocations", json={
        "reason": "x", "allocations": [
            {"invoice_code": billed.codes["HS001"], "amount_vnd": 500_000}]})
    assert response.status_code == 403


def test_rematch_after_invoice_issued(client, billed):
    """A transfer whose code was not issued yet waits in review; rematch finds it later."""
    from tuition.core.paycode import new_code
    from tuition.models import Invoice, Student

    code = new_code("LQ")
    send_sepay(client, sepay_body(f"{code} thang 10", 500_000))
    assert payments_of(billed)[0]["status"] == "review"
    assert billed.post("/schools/LQD/payments/rematch").get_json() == {"matched": 0}
    student = db.session.query(Student).filter_by(code="HS001").one()
    db.session.add(Invoice(school_id=student.school_id, student_id=student.id, code=code,
                           period="2026-10", total_vnd=500_000, paid_vnd=0,
                           due_date=db.func.current_date(), status="open"))
    db.session.commit()
    assert billed.post("/schools/LQD/payments/rematch").get_json() == {"matched": 1}
    assert billed.get(f"/invoices/{code}").get_json()["status"] == "paid"
    assert_ledger_ok()


def test_verify_ledger_cli_names_bad_rows(client, billed, runner):
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    ok = runner.invoke(args=["tuition", "verify-ledger"])
    assert ok.exit_code == 0, ok.output
    db.session.execute(db.text("UPDATE invoices SET paid_vnd = 1 WHERE paid_vnd = 500000"))
    db.session.commit()
    broken = runner.invoke(args=["tuition", "verify-ledger"])
    assert broken.exit_code == 1
    assert billed.codes["HS001"] in broken.output


def test_account_cache_is_dropped_when_keys_change(client, billed, app, admin):
    """With ACCOUNT_CACHE_SECONDS a worker reuses the account it looked up, but a key changed
    through the service takes effect at once in that worker."""
    from tuition.services import bank_accounts, payments
    from tuition.services.schools import get_school

    app.config["ACCOUNT_CACHE_SECONDS"] = 60
    try:
        assert send_sepay(client, sepay_body(billed.codes["HS001"], 500_000)).status_code == 200
        school = get_school("LQD")
        _change, new_key = bank_accounts.request(admin, school, "rotate_sepay_key", {},
                                                 account_id=school.bank_accounts[0].id)
        db.session.commit()
        assert send_sepay(client, sepay_body(billed.codes["HS002"], 500_000)).status_code == 401
        assert send_sepay(client, sepay_body(billed.codes["HS002"], 500_000),
                          key=new_key).status_code == 200
    finally:
        app.config["ACCOUNT_CACHE_SECONDS"] = 0
        payments.forget_accounts()
