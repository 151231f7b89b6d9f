"""The cash desk: cash for a student booked like a transfer (same allocations, receipts,
audit and ledger check), a class in one go, the cash book with its locked daily closing,
voided cash receipts, and cash taken to the bank coming back as the school's own money."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.helpers import assert_ledger_ok, invoice, send_sepay, sepay_body
from tests.pdfs import decode_qr_codes, page_text
from tuition.core import clock
from tuition.extensions import db
from tuition.models import AuditEvent, BankTransaction, CashEntry, Receipt
from tuition.services import schools

#: 10:15 in Vietnam on 5 September 2026.
MORNING = datetime(2026, 9, 5, 3, 15, tzinfo=UTC)


@pytest.fixture
def at(monkeypatch):
    """Set the application's clock: ``at(datetime(..., tzinfo=UTC))``."""
    def set_to(moment: datetime) -> None:
        monkeypatch.setattr(clock, "now_utc", lambda: moment)
    set_to(MORNING)
    return set_to


def pay_cash(acct, student="HS001", amount=500_000, **extra):
    body = {"student_code": student, "amount_vnd": amount, "payer_name": "Nguyễn Văn Bình",
            **extra}
    return acct.post("/schools/LQD/cash-payments", json=body)


def book(acct, day="2026-09-05", **query):
    args = "&".join(f"{k}={v}" for k, v in {"date": day, **query}.items())
    return acct.get(f"/schools/LQD/cash-book?{args}").get_json()


def test_cash_pays_the_oldest_open_invoice_with_a_receipt_at_once(billed, at):
    billed.post("/schools/LQD/billing-runs", json={
        "period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15"})
    response = pay_cash(billed, amount=700_000)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["document"] == "PT26-000001"
    payment = body["payment"]
    assert (payment["provider"], payment["status"], payment["amount_vnd"]) == (
        "cash", "matched", 700_000)
    assert payment["occurred_at"] == "2026-09-05 10:15:00"
    # September first (oldest), then 200,000 on October.
    assert invoice(billed, "HS001")["status"] == "paid"
    october = [i for i in billed.get("/schools/LQD/invoices?period=2026-10").get_json()["items"]
               if i["student_code"] == "HS001"][0]
    assert (october["paid_vnd"], october["status"]) == (200_000, "partial")
    assert sorted(r["amount_vnd"] for r in body["receipts"]) == [200_000, 500_000]
    receipt = db.session.get(Receipt, body["receipts"][0]["id"])
    assert receipt.content["method"] == "Tiền mặt"
    assert receipt.content["bank_reference"] == "PT26-000001"
    assert receipt.content["payer_name"] == "Nguyễn Văn Bình"
    txn = db.session.get(BankTransaction, payment["id"])
    assert txn.bank_account_id is None and txn.recorded_by_id is not None
    assert json.loads(txn.raw)["document"] == "PT26-000001"
    event = db.session.query(AuditEvent).filter_by(action="cash.receive").one()
    assert event.details["amount_vnd"] == 700_000
    today = book(billed)
    assert (today["opening_vnd"], today["in_vnd"], today["closing_vnd"]) == (0, 700_000, 700_000)
    report = assert_ledger_ok()
    assert (report.cash_vnd, report.cash_in_hand_vnd) == (700_000, 700_000)


def test_cash_pays_the_invoices_chosen_and_credits_the_rest(billed, at):
    billed.post("/schools/LQD/billing-runs", json={
        "period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15"})
    october = {i["student_code"]: i["code"] for i in
               billed.get("/schools/LQD/invoices?period=2026-10").get_json()["items"]}
    body = pay_cash(billed, student="HS003", amount=600_000,
                    invoices=[october["HS003"]]).get_json()
    # October chosen and paid; the surplus is credit, which at once pays September.
    assert billed.get(f"/invoices/{october['HS003']}").get_json()["status"] == "paid"
    september = invoice(billed, "HS003")
    assert (september["paid_vnd"], september["status"]) == (100_000, "partial")
    assert body["credited_vnd"] == 100_000
    assert assert_ledger_ok().on_credit_vnd == 0


def test_cash_with_nothing_owed_is_credit_and_waits_for_the_next_invoice(billed, at):
    pay_cash(billed, student="HS002", amount=500_000)
    body = pay_cash(billed, student="HS002", amount=300_000).get_json()
    assert body["payment"]["status"] == "credited" and body["receipts"] == []
    assert assert_ledger_ok().on_credit_vnd == 300_000
    billed.post("/schools/LQD/billing-runs", json={
        "period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15"})
    october = [i for i in billed.get("/schools/LQD/invoices?period=2026-10").get_json()["items"]
               if i["student_code"] == "HS002"][0]
    assert october["paid_vnd"] == 300_000
    method = {r.content["method"] for r in db.session.query(Receipt)}
    assert method == {"Tiền mặt", "Tiền mặt (trừ tiền nộp thừa)"}


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"amount_vnd": 0}, 422, "amount_vnd"),
    ({"amount_vnd": 500_000.0}, 422, "amount_vnd"),
    ({"amount_vnd": "500000"}, 422, "amount_vnd"),
    ({"payer_name": "  "}, 422, "payer_name"),
    ({"student_code": "HS999"}, 422, "student_code"),
    ({"paid_at": "2026-09-06T10:00"}, 422, "paid_at"),
    ({"paid_at": "hôm qua"}, 422, "paid_at"),
    ({"invoices": ["XXXXXXXX"]}, 422, "invoices"),
    ({"cashier_id": 99999}, 422, "cashier"),
])
def test_bad_cash_input_is_refused_and_changes_nothing(billed, at, body, status, field):
    response = pay_cash(billed, **body)
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == field and error["message"] and error["message_en"]
    db.session.rollback()
    assert db.session.query(BankTransaction).count() == 0
    assert db.session.query(CashEntry).count() == 0


def test_principals_look_and_other_schools_may_not_touch(billed, at, make_user, make_school):
    school = schools.get_school("LQD")
    _principal, token = make_user("principal", school)

    looker = type(billed)(token)
    assert pay_cash(looker).status_code == 403
    assert looker.get("/schools/LQD/cash-book").status_code == 200
    other = make_school("KHAC", prefix="KH", account="0099887766")
    _stranger, other_token = make_user("accountant", other)
    assert pay_cash(type(billed)(other_token)).status_code == 403
    db.session.rollback()
    assert db.session.query(BankTransaction).count() == 0


def test_a_class_pays_in_one_go_all_or_nothing(billed, at):
    bad = billed.post("/schools/LQD/cash-payments/bulk", json={"items": [
        {"student_code": "HS001", "amount_vnd": 500_000},
        {"student_code": "HS404", "amount_vnd": 500_000}]})
    assert bad.status_code == 422
    assert bad.get_json()["error"]["errors"][0]["student_code"] == "HS404"
    assert db.session.query(BankTransaction).count() == 0
    done = billed.post("/schools/LQD/cash-payments/bulk", json={"items": [
        {"student_code": "HS001", "amount_vnd": 500_000},
        {"student_code": "HS003", "amount_vnd": 400_000, "payer_name": "Lê Thị Hoa"}]})
    assert done.status_code == 201
    assert done.get_json()["total_vnd"] == 900_000
    assert [i["document"] for i in done.get_json()["items"]] == ["PT26-000001", "PT26-000002"]
    assert invoice(billed, "HS003")["balance_vnd"] == 100_000
    receipts = billed.get("/schools/LQD/receipts").get_json()["items"]
    assert {r["payer_name"] for r in receipts} == {"Nguyễn Văn Bình", "Lê Thị Hoa"}
    assert book(billed)["in_vnd"] == 900_000
    assert_ledger_ok()


def test_a_signed_off_day_is_locked_and_a_correction_goes_on_today(billed, at):
    pay_cash(billed, amount=500_000)
    short = billed.post("/schools/LQD/cash-book/close", json={
        "date": "2026-09-05", "counted_vnd": 480_000})
    assert short.status_code == 422 and short.get_json()["error"]["field"] == "note"
    closed = billed.post("/schools/LQD/cash-book/close", json={
        "date": "2026-09-05", "counted_vnd": 500_000})
    assert closed.status_code == 201
    assert closed.get_json()["closing_vnd"] == 500_000
    again = billed.post("/schools/LQD/cash-book/close", json={
        "date": "2026-09-05", "counted_vnd": 500_000})
    assert again.status_code == 409
    # The same day, and any day before it, take nothing more.
    late = pay_cash(billed, student="HS003", amount=100_000, paid_at="2026-09-05T09:00")
    assert late.status_code == 409
    assert "khóa" in late.get_json()["error"]["message"]
    earlier = pay_cash(billed, student="HS003", amount=100_000, paid_at="2026-09-01T09:00")
    assert earlier.status_code == 409
    # The next morning is a new page, opening with yesterday's closing balance.
    at(datetime(2026, 9, 6, 1, 0, tzinfo=UTC))
    assert pay_cash(billed, student="HS003", amount=100_000).status_code == 201
    next_day = book(billed, "2026-09-06")
    assert (next_day["opening_vnd"], next_day["closing_vnd"]) == (500_000, 600_000)
    assert book(billed)["signed"] and book(billed)["locked"]
    assert_ledger_ok()


def test_the_ledger_sees_a_signed_day_changed_behind_the_books_back(billed, at):
    pay_cash(billed, amount=500_000)
    billed.post("/schools/LQD/cash-book/close", json={"date": "2026-09-05",
                                                      "counted_vnd": 500_000})
    entry = db.session.query(CashEntry).one()
    db.session.execute(db.text("UPDATE cash_entries SET day = :day WHERE id = :id"),
                       {"day": date(2026, 9, 4), "id": entry.id})
    db.session.commit()
    from tuition.services import ledger

    problems = ledger.verify_school(schools.get_school("LQD")).problems
    assert any("signed off with 0+500000-0 in 1 entries, now 500000+0-0 in 0" in p
               for p in problems), problems


def test_just_after_midnight_cash_goes_on_the_new_days_page(billed, at):
    # 17:40 UTC on the 5th is 00:40 on the 6th in Vietnam.
    at(datetime(2026, 9, 5, 17, 40, tzinfo=UTC))
    body = pay_cash(billed).get_json()
    assert body["payment"]["occurred_at"] == "2026-09-06 00:40:00"
    assert book(billed, "2026-09-05")["entries"] == []
    assert book(billed, "2026-09-06")["in_vnd"] == 500_000
    # The day is Vietnam's: signing off "today" means the 6th.
    assert billed.post("/schools/LQD/cash-book/close", json={
        "date": "2026-09-07", "counted_vnd": 0}).status_code == 422
    assert billed.post("/schools/LQD/cash-book/close", json={
        "date": "2026-09-06", "counted_vnd": 500_000}).status_code == 201


def test_voiding_a_cash_receipt_takes_the_money_out_of_the_book(billed, at):
    body = pay_cash(billed, amount=500_000).get_json()
    receipt_id = body["receipts"][0]["id"]
    billed.post("/schools/LQD/cash-book/close", json={"date": "2026-09-05",
                                                      "counted_vnd": 500_000})
    at(datetime(2026, 9, 7, 2, 0, tzinfo=UTC))
    voided = billed.post(f"/receipts/{receipt_id}/void", json={"reason": "Ghi nhầm học sinh"})
    assert voided.status_code == 200, voided.get_json()
    assert voided.get_json()["voided"]["status"] == "void"
    assert voided.get_json()["cash_book_entry"]["day"] == "2026-09-07"
    assert invoice(billed, "HS001")["status"] == "open"
    # The locked day is as it was signed; the void is on the day it was made.
    assert book(billed)["closing_vnd"] == 500_000
    seventh = book(billed, "2026-09-07")
    assert (seventh["opening_vnd"], seventh["out_vnd"], seventh["closing_vnd"]) == (
        500_000, 500_000, 0)
    assert seventh["entries"][0]["kind"] == "void"
    sept5 = book(billed)
    assert sept5["entries"][0]["receipts"] == [{"label": "AA-26 / 0000001", "status": "void"}]
    assert billed.get("/schools/LQD/payments?status=review").get_json()["items"] == []
    report = assert_ledger_ok()
    assert (report.cash_voided_vnd, report.cash_in_hand_vnd) == (500_000, 0)
    assert billed.post(f"/receipts/{receipt_id}/void",
                       json={"reason": "lần nữa"}).status_code == 409


def test_replacing_a_cash_receipt_keeps_the_money(billed, at):
    body = pay_cash(billed, amount=500_000).get_json()
    replaced = billed.post(f"/receipts/{body['receipts'][0]['id']}/void", json={
        "reason": "Sai tên người nộp", "replace": True, "payer_name": "Trần Thị Mai"})
    assert replaced.status_code == 201
    assert replaced.get_json()["replacement"]["payer_name"] == "Trần Thị Mai"
    assert invoice(billed, "HS001")["status"] == "paid"
    assert book(billed)["closing_vnd"] == 500_000
    labels = book(billed)["entries"][0]["receipts"]
    assert [r["status"] for r in labels] == ["void", "valid"]
    assert_ledger_ok()


def test_cash_taken_to_the_bank_comes_back_as_the_schools_own_money(client, billed, at):
    pay_cash(billed, amount=500_000)
    pay_cash(billed, student="HS003", amount=500_000)
    too_much = billed.post("/schools/LQD/cash-deposits", json={
        "amount_vnd": 1_500_000, "deposited_on": "2026-09-05", "slip_number": "GNT-0042"})
    assert too_much.status_code == 409
    deposit = billed.post("/schools/LQD/cash-deposits", json={
        "amount_vnd": 1_000_000, "deposited_on": "2026-09-05", "slip_number": "GNT-0042"})
    assert deposit.status_code == 201 and deposit.get_json()["bank_transaction_id"] is None
    assert book(billed)["closing_vnd"] == 0
    # The bank's notification names the slip; it carries no payment code.
    note = sepay_body("NOP TIEN MAT GNT0042 TRUONG LQD", 1_000_000)
    assert send_sepay(client, note).status_code == 200
    txn = db.session.query(BankTransaction).filter_by(provider="sepay").one()
    assert (txn.status, txn.status_reason) == ("ignored", "cash_deposit")
    assert not txn.allocations
    report = assert_ledger_ok()
    assert (report.own_money_vnd, report.set_aside_vnd, report.cash_in_hand_vnd) == (
        1_000_000, 0, 0)
    # Not a fee payment: money received counts the cash once, not the deposit again.
    channels = billed.get("/schools/LQD/reports/channels").get_json()
    assert channels["received_vnd"] == 1_000_000


def test_a_deposit_notified_first_is_recognised_when_recorded(client, billed, at):
    pay_cash(billed, amount=500_000)
    send_sepay(client, sepay_body("Nop tien mat giay nop tien so 7781", 500_000))
    waiting = billed.get("/schools/LQD/payments?status=review").get_json()["items"]
    assert len(waiting) == 1
    body = billed.post("/schools/LQD/cash-deposits", json={
        "amount_vnd": 500_000, "deposited_on": "2026-09-05", "slip_number": "7781"}).get_json()
    assert body["bank_transaction_id"] == waiting[0]["id"]
    assert billed.get("/schools/LQD/payments?status=review").get_json()["items"] == []
    assert assert_ledger_ok().own_money_vnd == 500_000


def test_a_deposit_whose_memo_does_not_name_the_slip_is_linked_by_a_person(client, billed, at):
    pay_cash(billed, amount=500_000)
    deposit = billed.post("/schools/LQD/cash-deposits", json={
        "amount_vnd": 500_000, "deposited_on": "2026-09-05", "slip_number": "GNT-9"}).get_json()
    send_sepay(client, sepay_body("NOP TIEN", 500_000))
    (waiting,) = billed.get("/schools/LQD/payments?status=review").get_json()["items"]
    assert waiting["status_reason"] == "no_known_code"  # never linked by guess
    linked = billed.post(f"/cash-deposits/{deposit['id']}/link",
                         json={"payment_id": waiting["id"]})
    assert linked.status_code == 200 and linked.get_json()["bank_transaction_id"] == waiting["id"]
    again = billed.post(f"/cash-deposits/{deposit['id']}/link",
                        json={"payment_id": waiting["id"]})
    assert again.status_code == 409
    assert assert_ledger_ok().own_money_vnd == 500_000


def test_receipts_print_on_an_80mm_receipt_printer(billed, at, tmp_path: Path):
    body = pay_cash(billed, amount=500_000).get_json()
    receipt_id = body["receipts"][0]["id"]
    response = billed.get(f"/receipts/{receipt_id}.pdf?layout=80mm")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    path = tmp_path / "slip.pdf"
    path.write_bytes(response.data)
    page = PdfReader(io.BytesIO(response.data)).pages[0]
    width_mm = float(page.mediabox.width) / 72 * 25.4
    height_mm = float(page.mediabox.height) / 72 * 25.4
    assert round(width_mm) == 80 and height_mm > 120  # a long, narrow slip
    text = page_text(path, 1)
    for expected in ("BIÊN LAI THU TIỀN", "Số: 0000001", "Nguyễn Thị Ánh Dương", "Học phí",
                     "500.000 đ", "Năm trăm nghìn đồng", "Tiền mặt", "PT26-000001"):
        assert expected in text, expected
    receipt = db.session.get(Receipt, receipt_id)
    assert decode_qr_codes(path, 1, tmp_path) == [
        f"https://hocphi.example.vn/bien-lai/{receipt.verify_token}"]
    assert billed.get(f"/receipts/{receipt_id}.pdf?layout=a3").status_code == 422


def test_the_cash_book_prints_as_a_pdf(billed, at, tmp_path: Path):
    pay_cash(billed, amount=500_000)
    pay_cash(billed, student="HS003", amount=250_000, payer_name="Lê Văn Tâm")
    billed.post("/schools/LQD/cash-book/close", json={"date": "2026-09-05",
                                                      "counted_vnd": 750_000})
    response = billed.get("/schools/LQD/cash-book.pdf?date=2026-09-05")
    assert response.status_code == 200
    path = tmp_path / "book.pdf"
    path.write_bytes(response.data)
    text = page_text(path, 1)
    for expected in ("SỔ QUỸ TIỀN MẶT", "Ngày 05/09/2026", "PT26-000001", "PT26-000002",
                     "Lê Văn Tâm", "750.000", "Tồn cuối ngày", "Đã khóa sổ"):
        assert expected in text, expected


def test_cash_put_on_the_wrong_invoice_is_reversed_and_placed_again(billed, at):
    body = pay_cash(billed, amount=500_000).get_json()
    allocation = body["payment"]["allocations"][0]["id"]
    payment = body["payment"]["id"]
    assert billed.post(f"/allocations/{allocation}/reversal",
                       json={"reason": "Nhầm học sinh"}).status_code == 201
    assert invoice(billed, "HS001")["status"] == "open"
    # Still in the cash box: it waits to be placed, it cannot be set aside.
    assert billed.post(f"/payments/{payment}/set-aside",
                       json={"reason": "x"}).status_code == 409
    assert book(billed)["closing_vnd"] == 500_000
    placed = billed.post(f"/payments/{payment}/allocations", json={
        "allocations": [{"invoice_code": billed.codes["HS003"], "amount_vnd": 500_000}],
        "reason": "Đúng là tiền của Ngọc"})
    assert placed.status_code == 201
    assert invoice(billed, "HS003")["status"] == "paid"
    assert_ledger_ok()


def test_a_strangers_cash_book_is_not_shown(billed, at, make_school, make_user):
    other = make_school("KHAC", prefix="KH", account="0099887766")
    stranger, _token = make_user("accountant", other)
    assert billed.get(f"/schools/LQD/cash-book?cashier_id={stranger.id}").status_code == 404
    assert billed.post("/schools/LQD/cash-book/close", json={
        "date": "2026-09-05", "counted_vnd": 0, "cashier_id": stranger.id}).status_code == 404
