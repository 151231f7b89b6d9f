"""Corrections reach issued invoices: an exemption granted later, a child who leaves.

Through the HTTP API and SePay webhooks, judged by the ledger check. The ``billed`` school:
HS001 and HS003 in 1A, HS002 in 2A, each with a 500,000 đ tuition invoice for 2026-09.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image
from pypdf import PdfReader
from pyzbar.pyzbar import decode
from sqlalchemy import select

from tests.billing_helpers import with_methods
from tests.helpers import assert_ledger_ok, invoice, payments_of, send_sepay, sepay_body
from tuition.core import clock, vietqr
from tuition.extensions import db
from tuition.models import Adjustment, AuditEvent, BilledMonth, Invoice, Student

NOW = datetime(2026, 11, 20, 17, 40, tzinfo=UTC)  # 00:40 on 21/11/2026 in Vietnam


@pytest.fixture
def acct(billed, client, monkeypatch):
    monkeypatch.setattr(clock, "now_utc", lambda: NOW)
    return with_methods(billed, client)


def bill(acct, period, items=("HOCPHI",), **extra):
    response = acct.post("/schools/LQD/billing-runs", json={
        "period": period, "fee_items": list(items), "due_date": "2026-10-15", **extra})
    assert response.status_code == 201, response.get_json()
    return {i["student_code"]: i["code"] for i in
            acct.get(f"/schools/LQD/invoices?period={period}").get_json()["items"]}


def grant(acct, **body):
    response = acct.post("/schools/LQD/exemptions", json={
        "kind": "percent", "reason": "Hộ nghèo", "valid_from": "2026-09-01", **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def qr_amount(acct, code) -> int:
    png = acct.get(f"/invoices/{code}/qr.png")
    payload = decode(Image.open(io.BytesIO(png.data)))[0].data.decode()
    return vietqr.parse_payload(payload).amount_vnd


def test_an_exemption_after_issue_corrects_the_open_invoice_and_its_vietqr(acct, ctx):
    code = acct.codes["HS001"]
    body = grant(acct, student_code="HS001", value=50, fee_item="HOCPHI")
    assert body["fee_item"] == "HOCPHI" and body["valid_to"] is None
    corrections = body["corrections"]
    assert corrections["invoices"] == [{"code": code, "period": "2026-09",
                                        "total_before_vnd": 500_000, "total_after_vnd": 250_000,
                                        "to_credit_vnd": 0}]
    assert f"Hóa đơn {code} (Tháng 9/2026): 500.000 đ → 250.000 đ." in corrections["message"]

    detail = acct.get(f"/invoices/{code}").get_json()
    assert (detail["total_vnd"], detail["balance_vnd"], detail["status"]) == (
        250_000, 250_000, "open")
    assert [(line["kind"], line["fee_item"], line["amount_vnd"]) for line in detail["lines"]] \
        == [("charge", "HOCPHI", 500_000), ("correction", "HOCPHI", -250_000)]
    assert "Miễn giảm 50% (Hộ nghèo)" in detail["lines"][1]["description"]
    assert qr_amount(acct, code) == 250_000
    assert vietqr.parse_payload(detail["qr_payload"]).amount_vnd == 250_000
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        acct.get(f"/invoices/{code}/notice.pdf").data)).pages)
    assert "250.000" in text and "Hai trăm năm mươi nghìn đồng" in text
    assert "Điều chỉnh Học phí" in text

    listed = acct.get(f"/invoices/{code}/corrections").get_json()
    assert listed["count"] == 1
    assert listed["items"][0]["cause"] == "exemption"
    assert listed["items"][0]["lines"] == [{
        "description": detail["lines"][1]["description"], "amount_vnd": -250_000,
        "fee_item": "HOCPHI"}]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "invoice.correct"))
    assert event.actor_id is not None and event.details["total_after_vnd"] == 250_000
    # Asking again changes nothing: the invoice already reflects the exemption.
    exemptions = acct.get("/schools/LQD/exemptions").get_json()
    assert exemptions["count"] == 1 and exemptions["items"][0]["student_code"] == "HS001"
    # The other students are untouched.
    assert invoice(acct, "HS003")["total_vnd"] == 500_000
    assert_ledger_ok()


def test_money_already_paid_becomes_credit_that_pays_the_next_open_invoice(acct, client, ctx):
    october = bill(acct, "2026-10")
    september = acct.codes["HS001"]
    assert send_sepay(client, sepay_body(f"{september} hoc phi", 500_000)).status_code == 200
    assert invoice(acct, "HS001")["status"] == "paid"

    body = grant(acct, student_code="HS001", value=100, valid_to="2026-09-30")
    corrections = body["corrections"]
    assert corrections["to_credit_vnd"] == 500_000
    assert corrections["credit_applied_vnd"] == 500_000 and corrections["credit_left_vnd"] == 0
    assert "500.000 đ đã nộp vượt số phải nộp mới" in corrections["message"]
    # September now asks nothing; October is paid by the credit, with its own receipt.
    assert (invoice(acct, "HS001")["total_vnd"], invoice(acct, "HS001")["paid_vnd"]) == (0, 0)
    assert acct.get(f"/invoices/{october['HS001']}").get_json()["status"] == "paid"
    (payment,) = payments_of(acct)
    assert [(a["kind"], a["invoice_code"], a["amount_vnd"]) for a in payment["allocations"]] == [
        ("invoice", september, 500_000), ("invoice", september, -500_000),
        ("credit", None, 500_000), ("credit", None, -500_000),
        ("invoice", october["HS001"], 500_000)]
    assert "Điều chỉnh hóa đơn" in payment["allocations"][1]["reason"]
    receipts = acct.get("/schools/LQD/receipts").get_json()["items"]
    assert sorted(r["amount_vnd"] for r in receipts) == [500_000, 500_000]
    report = assert_ledger_ok()
    assert report.on_invoices_vnd == 500_000 and report.on_credit_vnd == 0

    # The original allocation can no longer be reversed as a whole: refused, not a 500.
    original = payment["allocations"][0]["id"]
    refused = acct.post(f"/allocations/{original}/reversal", json={"reason": "Nhầm"})
    assert refused.status_code == 409, refused.get_json()
    assert_ledger_ok()


def test_a_partly_paid_invoice_keeps_what_it_needs_and_credits_the_rest(acct, client, ctx):
    code = acct.codes["HS002"]
    send_sepay(client, sepay_body(f"{code} HS002", 300_000))
    body = grant(acct, student_code="HS002", kind="fixed", value=300_000, fee_item="HOCPHI",
                 reason="Con thương binh")
    assert body["corrections"]["invoices"][0]["to_credit_vnd"] == 100_000
    assert body["corrections"]["credit_left_vnd"] == 100_000
    after = invoice(acct, "HS002")
    assert (after["total_vnd"], after["paid_vnd"], after["status"]) == (200_000, 200_000, "paid")
    assert assert_ledger_ok().on_credit_vnd == 100_000
    # The credit pays the next invoice as soon as it is issued.
    october = bill(acct, "2026-10")
    detail = acct.get(f"/invoices/{october['HS002']}").get_json()
    assert (detail["total_vnd"], detail["paid_vnd"]) == (200_000, 100_000)
    assert qr_amount(acct, october["HS002"]) == 100_000


def test_a_fixed_exemption_larger_than_the_price_is_refused(acct, ctx):
    refused = acct.post("/schools/LQD/exemptions", json={
        "student_code": "HS001", "kind": "fixed", "value": 600_000, "fee_item": "HOCPHI",
        "reason": "x", "valid_from": "2026-09-01"})
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "value"
    for bad in ({"value": 0}, {"value": 101}, {"value": "50"}, {"kind": "gift"},
                {"reason": " "}, {"valid_to": "2026-08-01"}, {"student_code": "HS404"}):
        response = acct.post("/schools/LQD/exemptions", json={
            "student_code": "HS001", "kind": "percent", "value": 50, "reason": "Hộ nghèo",
            "valid_from": "2026-09-01", **bad})
        assert 400 <= response.status_code < 500 and response.status_code != 401, bad
    assert invoice(acct, "HS001")["total_vnd"] == 500_000
    assert acct.get("/schools/LQD/exemptions").get_json()["count"] == 0


def test_what_an_invoice_cannot_take_waits_for_the_next_one(acct, ctx):
    added = acct.post("/schools/LQD/adjustments", json={
        "student_code": "HS003", "amount_vnd": -400_000, "description": "Hoàn tiền ăn tháng 9"})
    assert added.status_code == 201 and added.get_json()["fee_item"] is None
    october = bill(acct, "2026-10")
    assert acct.get(f"/invoices/{october['HS003']}").get_json()["total_vnd"] == 100_000
    body = grant(acct, student_code="HS003", value=100, fee_item="HOCPHI",
                 valid_from="2026-10-01", valid_to="2026-10-31")
    assert body["corrections"]["carried_vnd"] == 400_000
    assert "400.000 đ còn lại sẽ được trừ vào hóa đơn kỳ sau" in body["corrections"]["message"]
    assert acct.get(f"/invoices/{october['HS003']}").get_json()["total_vnd"] == 0
    carried = db.session.scalar(select(Adjustment).where(Adjustment.amount_vnd == -400_000,
                                                         Adjustment.fee_item_id.is_not(None)))
    assert carried is not None
    november = bill(acct, "2026-11")
    assert acct.get(f"/invoices/{november['HS003']}").get_json()["total_vnd"] == 100_000
    assert_ledger_ok()


def test_corrections_and_item_credits_stay_on_their_fee_item_in_reports(acct, ctx):
    assert acct.post("/schools/LQD/fee-items", json={
        "code": "TIENAN", "name": "Tiền ăn", "amount_vnd": 300_000, "unit": "month",
        "grades": ["1"]}).status_code == 201
    refund = acct.post("/schools/LQD/adjustments", json={
        "student_code": "HS001", "amount_vnd": -100_000, "fee_item": "tienan",
        "description": "Trả tiền ăn 5 ngày nghỉ"})
    assert refund.status_code == 201 and refund.get_json()["fee_item"] == "TIENAN"
    bad = acct.post("/schools/LQD/adjustments", json={
        "student_code": "HS001", "amount_vnd": -100_000, "fee_item": "NOPE",
        "description": "x"})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "fee_item"
    huge = acct.post("/schools/LQD/adjustments", json={
        "student_code": "HS001", "amount_vnd": -10**20, "description": "x"})
    # Past 64 bits it is refused at the door (400), naming the field.
    assert huge.status_code == 400 and "amount_vnd" in huge.get_json()["error"]["message_en"]

    october = bill(acct, "2026-10", ("HOCPHI", "TIENAN"))
    lines = acct.get(f"/invoices/{october['HS001']}").get_json()["lines"]
    assert [(line["kind"], line["fee_item"], line["amount_vnd"]) for line in lines] == [
        ("charge", "HOCPHI", 500_000), ("charge", "TIENAN", 300_000),
        ("adjustment", "TIENAN", -100_000)]
    grant(acct, student_code="HS003", value=50, fee_item="HOCPHI", valid_from="2026-10-01")
    dashboard = acct.get("/schools/LQD/reports/dashboard?period=2026-10&today=2026-11-20")
    by_item = {row["code"]: row for row in dashboard.get_json()["by_fee_item"]}
    # Tuition: 3 x 500,000 less HS003's 250,000; meals: 2 x 300,000 less HS001's refund.
    assert (by_item["HOCPHI"]["billed_vnd"], by_item["HOCPHI"]["credits_vnd"]) == (
        1_500_000, -250_000)
    assert (by_item["TIENAN"]["billed_vnd"], by_item["TIENAN"]["credits_vnd"]) == (
        600_000, -100_000)
    listed = acct.get("/schools/LQD/adjustments").get_json()["items"]
    assert listed[0]["invoice_code"] == october["HS001"]


def test_a_child_who_leaves_gets_back_what_was_billed_after_the_leaving_day(acct, client, ctx):
    assert acct.post("/schools/LQD/fee-items", json={
        "code": "TIENAN", "name": "Tiền ăn", "amount_vnd": 30_000, "unit": "school_day",
        "grades": ["1"]}).status_code == 201
    term = bill(acct, "2026-2027-HK1", ("HOCPHI", "TIENAN"))
    detail = acct.get(f"/invoices/{term['HS001']}").get_json()
    # Tuition Oct-Dec (September was billed as a month); meals Sep-Dec: 22+22+21+23 days.
    assert detail["total_vnd"] == 3 * 500_000 + 88 * 30_000
    send_sepay(client, sepay_body(f"{term['HS001']}", detail["total_vnd"]))
    send_sepay(client, sepay_body(f"{acct.codes['HS001']}", 500_000))

    left = acct.post("/schools/LQD/students/HS001/leave",
                     json={"left_on": "2026-11-16", "reason": "Chuyển trường"})
    assert left.status_code == 201, left.get_json()
    corrections = left.get_json()["corrections"]
    # November: 10 of 21 school days eaten, tuition whole (the school's rule); December: none.
    returned = 500_000 + (11 + 23) * 30_000
    assert corrections["invoices"] == [{
        "code": term["HS001"], "period": "2026-2027-HK1",
        "total_before_vnd": detail["total_vnd"],
        "total_after_vnd": detail["total_vnd"] - returned, "to_credit_vnd": returned}]
    assert corrections["credit_left_vnd"] == returned
    assert corrections["message"].startswith(
        f"Học sinh nghỉ học từ 16/11/2026: Chuyển trường. Hóa đơn {term['HS001']}")
    after = acct.get(f"/invoices/{term['HS001']}").get_json()
    assert [(line["fee_item"], line["amount_vnd"]) for line in after["lines"]
            if line["kind"] == "correction"] == [("HOCPHI", -500_000), ("TIENAN", -34 * 30_000)]
    assert assert_ledger_ok().on_credit_vnd == returned
    # December is free again; November stays billed.
    db.session.rollback()
    student = db.session.scalar(select(Student).where(Student.code == "HS001"))
    live = {(row.fee_item_id, row.month.month) for row in db.session.scalars(
        select(BilledMonth).where(BilledMonth.student_id == student.id,
                                  BilledMonth.released_at.is_(None)))}
    assert {month for _item, month in live} == {9, 10, 11}
    # Later runs do not bill a child who left.
    january = acct.post("/schools/LQD/billing-runs", json={
        "period": "2027-01", "fee_items": ["HOCPHI"], "due_date": "2027-01-15"}).get_json()
    assert january["issued"] == 2
    assert db.session.scalar(select(Invoice.id).where(
        Invoice.student_id == student.id, Invoice.period == "2027-01")) is None
    # Recording the same leave again corrects nothing more.
    again = acct.post("/schools/LQD/students/HS001/leave",
                      json={"left_on": "2026-11-16"}).get_json()
    assert again["corrections"]["invoices"] == []
    assert assert_ledger_ok().on_credit_vnd == returned


def test_a_later_joining_date_corrects_what_was_billed_before_it(acct, ctx):
    assert acct.post("/schools/LQD/fee-items", json={
        "code": "TIENAN", "name": "Tiền ăn", "amount_vnd": 30_000, "unit": "school_day",
        "grades": ["1"]}).status_code == 201
    october = bill(acct, "2026-10", ("TIENAN",), school_days=20)
    assert acct.get(f"/invoices/{october['HS003']}").get_json()["total_vnd"] == 600_000
    joined = acct.put("/schools/LQD/students/HS003/attendance",
                      json={"joined_on": "2026-10-19", "reason": "Nhập học muộn"})
    assert joined.status_code == 200, joined.get_json()
    assert joined.get_json()["left_on"] is None and joined.get_json()["status"] == "studying"
    # September (billed before anyone knew) is not owed at all; October's meals from Monday
    # 19/10: 10 school days of the 20 billed.
    changes = {c["period"]: c for c in joined.get_json()["corrections"]["invoices"]}
    assert {p: (c["total_before_vnd"], c["total_after_vnd"]) for p, c in changes.items()} == {
        "2026-09": (500_000, 0), "2026-10": (600_000, 300_000)}
    assert acct.get(f"/invoices/{october['HS001']}").get_json()["total_vnd"] == 600_000
    assert_ledger_ok()


def test_an_exemption_after_a_leave_applies_to_what_is_still_charged(acct, ctx):
    assert acct.post("/schools/LQD/fee-items", json={
        "code": "TIENAN", "name": "Tiền ăn", "amount_vnd": 30_000, "unit": "school_day",
        "grades": ["1"]}).status_code == 201
    october = bill(acct, "2026-10", ("TIENAN",), school_days=20)
    acct.post("/schools/LQD/students/HS001/leave", json={"left_on": "2026-10-19"})
    # Until Friday 16/10: 12 weekdays of the 20 billed.
    assert acct.get(f"/invoices/{october['HS001']}").get_json()["total_vnd"] == 12 * 30_000
    body = grant(acct, student_code="HS001", value=50, fee_item="TIENAN",
                 valid_from="2026-10-01")
    assert body["corrections"]["invoices"] == [{
        "code": october["HS001"], "period": "2026-10", "total_before_vnd": 360_000,
        "total_after_vnd": 180_000, "to_credit_vnd": 0}]
    assert_ledger_ok()
