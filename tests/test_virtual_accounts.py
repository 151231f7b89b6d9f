"""Virtual accounts (tài khoản định danh): SePay's subAccount and Casso's virtualAccountNumber
route a transfer to the student whatever the memo says; the list comes from Excel; notices,
the VietQR and the parents' page name the student's own account."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
from pathlib import Path

import pytest
from openpyxl import Workbook
from PIL import Image
from pyzbar.pyzbar import decode

from tests.helpers import CASSO_KEY, assert_ledger_ok, invoice, send_sepay, sepay_body
from tests.pdfs import decode_qr_codes, page_text
from tuition.core import notifications, vietqr
from tuition.extensions import db
from tuition.models import AuditEvent, BankTransaction, Student
from tuition.services import channels, schools

VA = {"HS001": "963869000001", "HS002": "963869000002", "HS003": "963869000003"}


def xlsx(rows: list[tuple]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def with_vas(billed):
    """Every student of ``billed`` has a virtual account; the school uses them."""
    data = xlsx([("Mã học sinh", "Số tài khoản định danh"),
                 *((code, number) for code, number in VA.items())])
    response = billed.upload("/schools/LQD/virtual-accounts/import", data, "tk.xlsx")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"created": 3, "updated": 0, "unchanged": 0}
    assert billed.post("/schools/LQD/virtual-accounts/usage",
                       json={"uses": True}).status_code == 200
    return billed


def to_va(client, number: str, memo: str, amount: int):
    body = sepay_body(memo, amount)
    body["subAccount"] = number
    return send_sepay(client, body)


def latest() -> BankTransaction:
    db.session.rollback()
    return db.session.query(BankTransaction).order_by(BankTransaction.id.desc()).first()


def test_sepay_sub_account_and_casso_virtual_account_number_are_read():
    body = sepay_body("chuyen tien", 100_000)
    body["subAccount"] = " sbsepay0000abcd1234 "
    parsed = notifications.parse_sepay(json.dumps(body).encode())
    assert parsed.virtual_account == "SBSEPAY0000ABCD1234"
    body["subAccount"] = ""
    assert notifications.parse_sepay(json.dumps(body).encode()).virtual_account is None
    body["subAccount"] = 963869
    with pytest.raises(notifications.NotificationError):
        notifications.parse_sepay(json.dumps(body).encode())
    casso = {"error": 0, "data": {
        "id": 1, "reference": "R1", "description": "x", "amount": 1000, "runningBalance": 0,
        "transactionDateTime": "2026-09-05 10:00:00", "accountNumber": "0011001234567",
        "virtualAccountNumber": "963869000001", "virtualAccountName": "NGUYEN THI ANH DUONG"}}
    parsed = notifications.parse_casso(json.dumps(casso).encode())
    assert parsed.virtual_account == "963869000001"


def test_the_list_is_imported_from_excel_all_or_nothing(billed):
    bad = xlsx([("Mã HS", "Tài khoản định danh"), ("HS001", "963869000001"),
                ("HS404", "963869000009"), ("HS002", "963869000001"), ("HS003", "12 34.5")])
    response = billed.upload("/schools/LQD/virtual-accounts/import", bad, "tk.xlsx")
    assert response.status_code == 422
    rows = {(r["row"], r["column"]) for r in response.get_json()["error"]["rows"]}
    assert rows == {(4, "Tài khoản định danh")}  # the duplicate; the file's own checks first
    bad = xlsx([("Mã HS", "Tài khoản định danh"), ("HS404", "963869000009")])
    response = billed.upload("/schools/LQD/virtual-accounts/import", bad, "tk.xlsx")
    assert response.status_code == 422 and response.get_json()["error"]["rows"][0]["row"] == 2
    assert billed.get("/schools/LQD/virtual-accounts").get_json()["count"] == 0
    assert billed.post("/schools/LQD/virtual-accounts/usage",
                       json={"uses": True}).status_code == 422


def test_a_new_list_changes_numbers_and_the_audit_keeps_the_old(with_vas):
    swapped = xlsx([("Mã học sinh", "VA"), ("HS001", VA["HS002"]), ("HS002", VA["HS001"])])
    response = with_vas.upload("/schools/LQD/virtual-accounts/import", swapped, "tk.csv.xlsx")
    assert response.get_json() == {"created": 0, "updated": 2, "unchanged": 0}
    listed = {i["student_code"]: i["number"] for i in
              with_vas.get("/schools/LQD/virtual-accounts").get_json()["items"]}
    assert listed["HS001"] == VA["HS002"] and listed["HS002"] == VA["HS001"]
    event = db.session.query(AuditEvent).filter_by(action="virtual_accounts.import").order_by(
        AuditEvent.id).all()[-1]
    assert {"student": "HS001", "from": VA["HS001"], "to": VA["HS002"]} in event.details["changes"]
    taken = xlsx([("Mã học sinh", "VA"), ("HS003", VA["HS002"])])  # HS001 keeps it
    assert with_vas.upload("/schools/LQD/virtual-accounts/import", taken,
                           "tk.xlsx").status_code == 422


def test_a_transfer_to_a_virtual_account_belongs_to_its_student_whatever_the_memo(client,
                                                                                  with_vas):
    # The memo names another family's invoice; the money is HS001's all the same.
    to_va(client, VA["HS001"], f"{with_vas.codes['HS003']} chuyen tien", 500_000)
    txn = latest()
    assert (txn.virtual_account, txn.status, txn.status_reason) == (
        VA["HS001"], "matched", "virtual_account")
    assert invoice(with_vas, "HS001")["status"] == "paid"
    assert invoice(with_vas, "HS003")["status"] == "open"
    receipts = with_vas.get("/schools/LQD/receipts").get_json()["items"]
    assert [r["student_code"] for r in receipts] == ["HS001"]
    # No open invoice: it is the student's credit, spent on the next invoice.
    to_va(client, VA["HS001"], "", 200_000)
    assert latest().status == "credited"
    assert assert_ledger_ok().on_credit_vnd == 200_000


def test_a_sibling_code_in_the_memo_still_splits_it(client, with_vas):
    # HS001 and HS002 share a guardian (same phone): one transfer for both.
    to_va(client, VA["HS001"], f"{with_vas.codes['HS002']} hoc phi 2 con", 1_000_000)
    assert latest().status_reason == "virtual_account_family"
    assert invoice(with_vas, "HS001")["status"] == "paid"
    assert invoice(with_vas, "HS002")["status"] == "paid"
    assert_ledger_ok()


def test_a_sibling_code_the_money_cannot_cover_waits_for_a_person(client, with_vas):
    to_va(client, VA["HS001"], f"{with_vas.codes['HS002']}", 300_000)
    txn = latest()
    assert (txn.status, txn.status_reason) == ("review", "virtual_account_family_short")
    assert invoice(with_vas, "HS001")["paid_vnd"] == 300_000  # it is HS001's money
    assert invoice(with_vas, "HS002")["paid_vnd"] == 0
    assert_ledger_ok()


def test_an_unknown_virtual_account_goes_to_review_with_the_reason(client, with_vas):
    to_va(client, "963869999999", f"{with_vas.codes['HS001']}", 500_000)
    txn = latest()
    assert (txn.status, txn.status_reason) == ("review", "unknown_virtual_account")
    assert not txn.allocations  # not even the memo's code decides
    assert assert_ledger_ok().awaiting_review_vnd == 500_000


def test_a_school_not_using_virtual_accounts_matches_unknown_ones_by_memo(client, billed):
    to_va(client, "TKPABC", f"{billed.codes['HS001']}", 500_000)
    assert latest().status == "matched"
    assert invoice(billed, "HS001")["status"] == "paid"


def test_casso_virtual_account_routes_too(client, with_vas):
    body = {"error": 0, "data": {
        "id": 55001, "reference": "FT26VA55001", "description": "CK hoc phi",
        "amount": 500_000, "runningBalance": 0, "transactionDateTime": "2026-09-05 10:15:00",
        "accountNumber": "0011001234567", "bankName": "Vietcombank", "bankAbbreviation": "VCB",
        "virtualAccountNumber": VA["HS003"], "virtualAccountName": "LE BAO NGOC"}}
    stamp = str(int(time.time() * 1000))
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    v1 = hmac.new(CASSO_KEY.encode(), f"{stamp}.{canonical}".encode(),
                  hashlib.sha512).hexdigest()
    response = client.post("/webhooks/casso", data=json.dumps(body), headers={
        "X-Casso-Signature": f"t={stamp},v1={v1}", "Content-Type": "application/json"})
    assert response.status_code == 200
    assert invoice(with_vas, "HS003")["status"] == "paid"
    school = schools.get_school("LQD")
    figures = channels.received_by_channel([school.id])[school.id]
    assert figures["virtual_account"] == 500_000 and figures["transfer"] == 0


def test_notices_vietqr_and_the_parents_page_name_the_students_account(client, with_vas,
                                                                       tmp_path: Path):
    code = with_vas.codes["HS001"]
    detail = with_vas.get(f"/invoices/{code}").get_json()
    parsed = vietqr.parse_payload(detail["qr_payload"])
    assert (parsed.bin, parsed.account_number, parsed.amount_vnd) == (
        "970436", VA["HS001"], 500_000)
    png = with_vas.get(f"/invoices/{code}/qr.png")
    payload = decode(Image.open(io.BytesIO(png.data)))[0].data.decode()
    assert vietqr.parse_payload(payload).account_number == VA["HS001"]
    notice = with_vas.get(f"/invoices/{code}/notice.pdf")
    path = tmp_path / "notice.pdf"
    path.write_bytes(notice.data)
    assert VA["HS001"] in page_text(path, 1)
    assert "0011001234567" not in page_text(path, 1)
    scanned = decode_qr_codes(path, 1, tmp_path)
    assert any(vietqr.parse_payload(p).account_number == VA["HS001"]
               for p in scanned if p.startswith("000201"))
    student = db.session.query(Student).filter_by(code="HS001").one()
    page = client.get(f"/p/{student.parent_token}").get_data(as_text=True)
    assert VA["HS001"] in page
    # Turned off: the school's own account again.
    with_vas.post("/schools/LQD/virtual-accounts/usage", json={"uses": False})
    detail = with_vas.get(f"/invoices/{code}").get_json()
    assert vietqr.parse_payload(detail["qr_payload"]).account_number == "0011001234567"


def test_rematching_routes_by_virtual_account_not_by_memo(client, with_vas):
    to_va(client, "963869000099", f"{with_vas.codes['HS003']}", 500_000)
    assert with_vas.post("/schools/LQD/payments/rematch").get_json() == {"matched": 0}
    assert invoice(with_vas, "HS003")["status"] == "open"  # the memo's code decides nothing
    with_vas.upload("/schools/LQD/virtual-accounts/import",
                    xlsx([("Mã học sinh", "VA"), ("HS002", "963869000099")]), "tk.xlsx")
    assert with_vas.post("/schools/LQD/payments/rematch").get_json() == {"matched": 1}
    assert invoice(with_vas, "HS002")["status"] == "paid"
    assert_ledger_ok()
