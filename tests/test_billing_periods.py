"""Periods never overlap: one fee item is billed once per student and month, whatever the runs.

Through the HTTP API. The school: HS001 and HS003 in 1A, HS002 in 2A; tuition (HOCPHI,
500,000 đ a month) for all, meals (TIENAN, 30,000 đ a school day) for grade 1. September
2026 has 22 weekdays, October 22, November 21, December 23 (Monday-Saturday: 26, 27, 25, 27).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.billing_helpers import with_methods
from tests.helpers import ROSTER, assert_ledger_ok
from tuition.core import clock
from tuition.extensions import db
from tuition.models import AuditEvent, BilledMonth, BillingRun, Invoice, Student

#: 00:40 on 21 October 2026 in Vietnam (still the 20th in UTC).
NOW = datetime(2026, 10, 20, 17, 40, tzinfo=UTC)


@pytest.fixture
def acct(make_school, make_user, api, client, monkeypatch):
    monkeypatch.setattr(clock, "now_utc", lambda: NOW)
    school = make_school(prefix="LQ")
    _, token = make_user("accountant", school)
    acct = api(token)
    with_methods(acct, client)
    assert acct.upload("/schools/LQD/students/import", ROSTER.encode(), "ds.csv").status_code \
        == 200
    for item in (
        {"code": "HOCPHI", "name": "Học phí", "amount_vnd": 500_000, "unit": "month"},
        {"code": "TIENAN", "name": "Tiền ăn bán trú", "amount_vnd": 30_000,
         "unit": "school_day", "grades": ["1"]},
    ):
        assert acct.post("/schools/LQD/fee-items", json=item).status_code == 201
    return acct


def run(acct, period, items, *, preview=False, **extra):
    return acct.post("/schools/LQD/billing-runs", json={
        "period": period, "fee_items": items, "due_date": "2026-10-15", "preview": preview,
        **extra})


def invoices_of(acct, period=None):
    query = f"?period={period}" if period else ""
    return acct.get(f"/schools/LQD/invoices{query}").get_json()["items"]


def lines_of(acct, code):
    return [(line["description"], line["quantity"], line["amount_vnd"])
            for line in acct.get(f"/invoices/{code}").get_json()["lines"]]


def billed_twice() -> int:
    """How many (student, fee item, month) are charged by more than one live row."""
    db.session.rollback()
    counts = select(BilledMonth.student_id, BilledMonth.fee_item_id, BilledMonth.month,
                    func.count().label("n")).where(BilledMonth.released_at.is_(None)).group_by(
        BilledMonth.student_id, BilledMonth.fee_item_id, BilledMonth.month).subquery()
    return db.session.scalar(select(func.count()).select_from(counts).where(counts.c.n > 1))


def test_a_first_term_after_september_bills_october_to_december_only(acct, ctx):
    assert run(acct, "2026-09", ["HOCPHI", "TIENAN"], school_days=20).status_code == 201

    preview = run(acct, "2026-2027-HK1", ["HOCPHI", "TIENAN"], preview=True)
    assert preview.status_code == 200
    body = preview.get_json()
    # Three months of tuition each; meals for 1A by the weekdays of Oct-Dec (22+21+23).
    assert body["invoices"] == 3
    assert body["total_vnd"] == 3 * 1_500_000 + 2 * 66 * 30_000
    assert body["conflicts_count"] == 5
    september = {(c["student_code"], c["fee_item"]): c for c in body["conflicts"]}
    assert set(september) == {("HS001", "HOCPHI"), ("HS002", "HOCPHI"), ("HS003", "HOCPHI"),
                              ("HS001", "TIENAN"), ("HS003", "TIENAN")}
    first = september["HS001", "HOCPHI"]
    assert first["months"] == ["2026-09"]
    assert first["invoices"] == [i["code"] for i in invoices_of(acct, "2026-09")
                                 if i["student_code"] == "HS001"]

    issued = run(acct, "2026-2027-HK1", ["HOCPHI", "TIENAN"])
    assert issued.status_code == 201 and issued.get_json()["issued"] == 3
    term = {i["student_code"]: i for i in invoices_of(acct, "2026-2027-HK1")}
    assert lines_of(acct, term["HS001"]["code"]) == [
        ("Học phí (tháng 10, 11, 12/2026)", 3, 1_500_000),
        ("Tiền ăn bán trú (tháng 10, 11, 12/2026)", 66, 1_980_000)]
    assert billed_twice() == 0
    # Four months of tuition for each of 3 students, four of meals for 2: each exactly once.
    assert db.session.scalar(select(func.count()).select_from(BilledMonth)) == 3 * 4 + 2 * 4

    # The whole year, refusing overlaps: refused with the list, nothing issued.
    refused = run(acct, "2026-2027", ["HOCPHI"], overlap="refuse")
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["conflicts_count"] == 3 and "chưa lập hóa đơn nào" in error["message"]
    assert error["conflicts"][0]["months"] == ["2026-09", "2026-10", "2026-11", "2026-12"]
    assert len(invoices_of(acct)) == 6
    # Billing only what is missing: January to May.
    rest = run(acct, "2026-2027", ["HOCPHI"])
    assert rest.get_json()["total_vnd"] == 3 * 5 * 500_000
    assert billed_twice() == 0
    assert_ledger_ok()


def test_a_fee_item_added_later_is_billed_alone_on_a_supplementary_invoice(acct, ctx):
    assert run(acct, "2026-10", ["HOCPHI"]).status_code == 201
    assert acct.post("/schools/LQD/fee-items", json={
        "code": "BAOHIEM", "name": "Bảo hiểm thân thể", "amount_vnd": 80_000,
        "unit": "once"}).status_code == 201
    supplementary = run(acct, "2026-10", ["HOCPHI", "BAOHIEM"])
    assert supplementary.status_code == 201
    body = supplementary.get_json()
    assert (body["issued"], body["total_vnd"], body["conflicts_count"]) == (3, 240_000, 3)
    october = [i for i in invoices_of(acct, "2026-10") if i["student_code"] == "HS001"]
    assert sorted(i["total_vnd"] for i in october) == [80_000, 500_000]
    insurance = next(i for i in october if i["total_vnd"] == 80_000)
    assert lines_of(acct, insurance["code"]) == [("Bảo hiểm thân thể", 1, 80_000)]

    # An opt-in item a child enrols in after the period was billed: just that child, just it.
    assert acct.post("/schools/LQD/fee-items", json={
        "code": "XEBUS", "name": "Xe đưa đón", "amount_vnd": 600_000, "unit": "month",
        "mandatory": False}).status_code == 201
    enrolled = acct.post("/schools/LQD/fee-items/XEBUS/enrolments",
                         json={"student_code": "HS003"})
    assert enrolled.status_code == 201
    assert acct.get("/schools/LQD/fee-items/XEBUS/enrolments").get_json()["count"] == 1
    bus = run(acct, "2026-10", ["HOCPHI", "BAOHIEM", "XEBUS"]).get_json()
    assert (bus["issued"], bus["total_vnd"]) == (1, 600_000)


def test_a_run_that_issues_nothing_says_so_and_leaves_no_run(acct, ctx):
    assert run(acct, "2026-10", ["HOCPHI"]).status_code == 201
    again = run(acct, "2026-10", ["HOCPHI"])
    assert again.status_code == 200
    body = again.get_json()
    assert (body["issued"], body["billing_run_id"], body["skipped_existing"]) == (0, None, 3)
    assert body["message"].startswith("Không lập hóa đơn nào cho Tháng 10/2026")
    assert "No invoice issued" in body["message_en"]
    # Meals for a class without grade 1 children: nobody to bill.
    nobody = run(acct, "2026-10", ["TIENAN"], classes=["2A"]).get_json()
    assert (nobody["issued"], nobody["skipped_nothing_to_bill"]) == (0, 1)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(BillingRun)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "billing_run.issue")) == 1


def test_a_cancelled_invoice_gives_its_months_back(acct, ctx):
    run(acct, "2026-10", ["HOCPHI"])
    code = next(i["code"] for i in invoices_of(acct) if i["student_code"] == "HS002")
    assert acct.post(f"/invoices/{code}/cancel", json={"reason": "Lập nhầm"}).status_code == 200
    rebilled = run(acct, "2026-2027-HK1", ["HOCPHI"]).get_json()
    # HS002 gets all four months; the others September, November and December.
    assert rebilled["total_vnd"] == 4 * 500_000 + 2 * 3 * 500_000
    assert billed_twice() == 0
    released = db.session.scalars(select(BilledMonth).where(
        BilledMonth.released_at.is_not(None))).all()
    assert len(released) == 1 and released[0].invoice_id == db.session.scalar(
        select(Invoice.id).where(Invoice.code == code))


@pytest.mark.parametrize(("extra", "field", "words"), [
    ({"period": "2026-10", "school_days": 40}, "school_days", "từ 1 đến 27"),
    ({"period": "2026-10", "school_days": 0}, "school_days", "từ 1 đến 27"),
    ({"period": "2026-10", "school_days": True}, "school_days", "số nguyên"),
    ({"period": "2026-2027-HK1", "school_days": 200}, "school_days", "từ 1 đến 105"),
    ({"period": "2026-2027-HK1", "school_days": {"2026-10": 28}}, "school_days", "từ 0 đến 27"),
    ({"period": "2026-10", "school_days": {"2026-11": 20}}, "school_days", "không thuộc"),
    ({"period": "2026-10", "overlap": "sometimes"}, "overlap", "bill_missing"),
])
def test_impossible_school_days_and_options_are_refused(acct, ctx, extra, field, words):
    period = extra.pop("period")
    response = run(acct, period, ["HOCPHI", "TIENAN"], **extra)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == field and words in error["message"], error
    assert invoices_of(acct) == []


def test_per_month_school_days(acct, ctx):
    body = run(acct, "2026-2027-HK1", ["TIENAN"], preview=True,
               school_days={"2026-09": 20, "2026-10": 21, "2026-11": 20, "2026-12": 18}
               ).get_json()
    assert body["total_vnd"] == 2 * 79 * 30_000


@pytest.mark.parametrize(("item", "field", "words"), [
    ({"classes": ["1A", "9Z"]}, "classes", "9Z"),
    ({"classes": ["lớp 3c"]}, "classes", "3C"),
    ({"grades": ["6"]}, "grades", "không có khối: 6"),
    ({"grades": ["13"]}, "grades", "không hợp lệ"),
])
def test_fee_items_for_classes_or_grades_the_school_has_not_are_refused(acct, item, field,
                                                                        words):
    response = acct.post("/schools/LQD/fee-items", json={
        "code": "XX", "name": "Khoản thử", "amount_vnd": 100_000, "unit": "month", **item})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["field"] == field and words in error["message"]
    listed = acct.get("/schools/LQD/fee-items").get_json()
    assert [i["code"] for i in listed["items"]] == ["HOCPHI", "TIENAN"]
    # A class written the way people write it is accepted and stored as the roster has it.
    ok = acct.post("/schools/LQD/fee-items", json={
        "code": "HOCTHEM", "name": "Học thêm", "amount_vnd": 100_000, "unit": "month",
        "classes": ["lớp 1a"]})
    assert ok.status_code == 201 and ok.get_json()["classes"] == ["1A"]


def test_a_child_joining_or_leaving_during_the_month_is_billed_by_attendance(acct, ctx):
    assert acct.put("/schools/LQD/billing-settings",
                    json={"partial_month": "days"}).get_json() == {"partial_month": "days"}
    joined = acct.put("/schools/LQD/students/HS001/attendance", json={
        "joined_on": "2026-10-15", "left_on": None, "reason": "Chuyển đến"})
    assert joined.status_code == 200 and joined.get_json()["joined_on"] == "2026-10-15"
    left = acct.post("/schools/LQD/students/HS002/leave", json={"left_on": "2026-10-19"})
    assert left.status_code == 201
    assert left.get_json()["status"] == "left" and left.get_json()["left_on"] == "2026-10-19"

    preview = run(acct, "2026-10", ["HOCPHI", "TIENAN"], preview=True).get_json()
    part = {(p["student_code"], p["description"].split(" ")[0]): p
            for p in preview["part_months"]}
    # HS001 from Thursday 15/10: 12 of 22 school days. HS002 until Friday 16/10: 12 days.
    assert part["HS001", "Học"]["amount_vnd"] == 500_000 * 12 // 22
    assert "vào học từ 15/10/2026: 12/22 ngày học" in part["HS001", "Học"]["description"]
    assert part["HS001", "Tiền"]["quantity"] == 12
    assert part["HS002", "Học"]["amount_vnd"] == 500_000 * 12 // 22
    assert "nghỉ học từ 19/10/2026" in part["HS002", "Học"]["note"]
    assert preview["total_vnd"] == 2 * (500_000 * 12 // 22) + 12 * 30_000 + (
        500_000 + 22 * 30_000)

    # Left before November: not billed for it at all; joining after it ends: not either.
    acct.put("/schools/LQD/students/HS003/attendance", json={"joined_on": "2026-12-01"})
    november = run(acct, "2026-11", ["HOCPHI"], preview=True).get_json()
    assert (november["invoices"], november["skipped_nothing_to_bill"]) == (1, 0)
    db.session.rollback()
    assert db.session.scalar(select(Student.status).where(Student.code == "HS002")) == "left"


def test_dates_that_make_no_sense_are_refused(acct, ctx):
    bad = acct.put("/schools/LQD/students/HS001/attendance", json={
        "joined_on": "2026-10-15", "left_on": "2026-10-01"})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "left_on"
    far = acct.post("/schools/LQD/students/HS001/leave", json={"left_on": "2206-10-01"})
    assert far.status_code == 422 and "năm" in far.get_json()["error"]["message"]
    assert acct.post("/schools/LQD/students/HS404/leave",
                     json={"left_on": "2026-10-01"}).status_code == 404
    assert acct.get("/schools/LQD/students/HS001/attendance").get_json()["left_on"] is None
