"""One transfer, one payment: a statement line without the bank's reference and the
aggregator's notification of the same transfer are booked once; when they only probably are
the same, the second waits for a person and is never credited twice."""

from __future__ import annotations

from sqlalchemy import select

from tests.helpers import assert_ledger_ok, invoice, payments_of, send_sepay, sepay_body
from tuition.extensions import db
from tuition.models import BankTransaction

URL = "/schools/LQD/statements"


def statement(*lines: tuple[str, int, str]) -> bytes:
    """A bank export without the reference column: (date, amount, memo) per line."""
    rows = "".join(f"{day},{amount},{memo}\n" for day, amount, memo in lines)
    return ("Ngày giao dịch,Số tiền,Nội dung\n" + rows).encode()


def test_a_statement_line_then_the_webhook_of_the_same_transfer_is_one_payment(client, billed):
    code = billed.codes["HS001"]
    uploaded = billed.upload(URL, statement(("05/09/2026", 500_000, f"{code} hoc phi be Duong")),
                             "sao-ke.csv")
    assert uploaded.status_code == 201, uploaded.get_json()
    assert invoice(billed, "HS001")["status"] == "paid"
    # The aggregator's notification of the same transfer arrives later, with the bank wrapper.
    late = sepay_body(f"MBVCB.55501.{code} hoc phi be Duong.CT tu 0011 NGUYEN VAN BINH",
                      500_000)
    assert send_sepay(client, late).status_code == 200
    db.session.expire_all()
    rows = db.session.scalars(select(BankTransaction).order_by(BankTransaction.id)).all()
    assert [(r.provider, r.status) for r in rows] == [("statement", "matched"),
                                                      ("sepay", "duplicate")]
    assert rows[1].duplicate_of_id == rows[0].id
    assert invoice(billed, "HS001")["paid_vnd"] == 500_000
    report = assert_ledger_ok()
    assert (report.received_vnd, report.on_credit_vnd) == (500_000, 0)


def test_the_webhook_first_then_the_statement_line_is_one_payment(client, billed):
    code = billed.codes["HS002"]
    assert send_sepay(client, sepay_body(f"{code} hoc phi", 500_000)).status_code == 200
    uploaded = billed.upload(URL, statement(("05/09/2026", 500_000, f"{code} hoc phi")),
                             "sao-ke.csv")
    assert uploaded.status_code == 201
    assert sorted((p["provider"], p["status"]) for p in payments_of(billed)) == [
        ("sepay", "matched"), ("statement", "duplicate")]
    assert invoice(billed, "HS002")["paid_vnd"] == 500_000
    assert assert_ledger_ok().received_vnd == 500_000


def test_probably_the_same_transfer_waits_for_a_person_and_is_not_credited_twice(
        client, billed):
    code = billed.codes["HS003"]
    # The statement cut the memo differently: same account, amount and day.
    billed.upload(URL, statement(("05/09/2026", 650_000, "CHUYEN TIEN")), "sao-ke.csv")
    assert send_sepay(client, sepay_body(f"{code} hoc phi thang 9", 650_000)).status_code == 200
    webhook_row = db.session.scalar(select(BankTransaction).where(
        BankTransaction.provider == "sepay"))
    assert (webhook_row.status, webhook_row.status_reason) == ("review", "possible_duplicate")
    assert invoice(billed, "HS003")["paid_vnd"] == 0  # never booked by guess
    # Rematching the queue does not book it either.
    assert billed.post("/schools/LQD/payments/rematch").get_json()["matched"] == 0
    assert invoice(billed, "HS003")["paid_vnd"] == 0
    statement_row = db.session.scalar(select(BankTransaction).where(
        BankTransaction.provider == "statement"))
    assert webhook_row.duplicate_of_id == statement_row.id
    # The accountant decides: it is the statement's transfer.
    refused = billed.post(f"/payments/{webhook_row.id}/duplicate",
                          json={"of": statement_row.id, "reason": ""})
    assert refused.status_code == 422
    done = billed.post(f"/payments/{webhook_row.id}/duplicate",
                       json={"of": statement_row.id, "reason": "Cùng một lần chuyển khoản"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "duplicate"
    report = assert_ledger_ok()
    assert report.received_vnd == 650_000 and report.awaiting_review_vnd == 650_000


def test_two_different_transfers_of_the_same_amount_through_one_channel_stay_two(client, billed):
    """Only two channels can repeat each other: two notifications are two transfers."""
    send_sepay(client, sepay_body(f"{billed.codes['HS001']} hoc phi", 500_000))
    send_sepay(client, sepay_body(f"{billed.codes['HS002']} hoc phi", 500_000))
    assert sorted(p["status"] for p in payments_of(billed)) == ["matched", "matched"]
    assert assert_ledger_ok().received_vnd == 1_000_000


def test_the_accountant_marks_a_probable_duplicate_from_the_transfer_page(
        client, billed, make_staff, staff_login):
    from tuition.services import schools

    billed.upload(URL, statement(("05/09/2026", 650_000, "CHUYEN TIEN")), "sao-ke.csv")
    send_sepay(client, sepay_body(f"{billed.codes['HS003']} hoc phi thang 9", 650_000))
    held = db.session.scalar(select(BankTransaction).where(BankTransaction.provider == "sepay"))
    browser = staff_login(make_staff("accountant", schools.get_school("LQD")).email,
                          "mat-khau-rat-dai-123")
    page = browser.get(f"/app/LQD/cho-xu-ly/{held.id}").get_data(as_text=True)
    assert 'id="co-the-trung"' in page and "CHUYEN TIEN" in page
    token = browser.csrf(f"/app/LQD/cho-xu-ly/{held.id}")
    done = browser.post(f"/app/LQD/cho-xu-ly/{held.id}/trung", data={
        "csrf_token": token, "of": held.duplicate_of_id, "reason": "Cùng một lần chuyển"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(BankTransaction, held.id).status == "duplicate"
    assert_ledger_ok()
