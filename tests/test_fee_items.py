"""Fee items can be corrected or retired, never deleting what was billed; and the staff pages
for corrections: fee items, the part-month rule, joining and leaving, exemptions after issue,
adjustments by fee item and the billing preview's overlaps."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.billing_helpers import with_methods
from tests.helpers import ROSTER, assert_ledger_ok
from tests.test_staff_billing import APP, PASSWORD, page, post, upload
from tuition.core import clock
from tuition.extensions import db
from tuition.models import Adjustment, AuditEvent, FeeItem, Invoice, Student
from tuition.services import schools

NOW = datetime(2026, 10, 20, 17, 40, tzinfo=UTC)  # 00:40 on 21/10/2026 in Vietnam


@pytest.fixture(autouse=True)
def october(monkeypatch):
    monkeypatch.setattr(clock, "now_utc", lambda: NOW)


@pytest.fixture
def acct(billed, client):
    return with_methods(billed, client)


# --- API ----------------------------------------------------------------------------------------


def test_a_corrected_price_applies_to_later_runs_only(acct, ctx):
    listed = acct.get("/schools/LQD/fee-items").get_json()
    assert listed["count"] == 1 and listed["items"][0] == {
        "code": "HOCPHI", "name": "Học phí", "amount_vnd": 500_000, "unit": "month",
        "grades": [], "classes": [], "mandatory": True, "retired": False, "retired_at": None,
        "retire_reason": None}
    assert acct.patch("/schools/LQD/fee-items/HOCPHI",
                      json={"amount_vnd": 550_000}).status_code == 422  # no reason
    changed = acct.patch("/schools/LQD/fee-items/hocphi", json={
        "amount_vnd": 550_000, "name": "Học phí (điều chỉnh)", "reason": "Nghị quyết HĐND"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["changes"] == {"amount_vnd": [500_000, 550_000],
                                             "name": ["Học phí", "Học phí (điều chỉnh)"]}
    # September stays as billed; October is billed at the new price.
    september = acct.get(f"/invoices/{acct.codes['HS001']}").get_json()
    assert (september["total_vnd"], september["lines"][0]["description"]) == (500_000, "Học phí")
    acct.post("/schools/LQD/billing-runs", json={
        "period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15"})
    october = acct.get("/schools/LQD/invoices?period=2026-10").get_json()["items"]
    assert {i["total_vnd"] for i in october} == {550_000}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "fee_item.update"))
    assert event.details["reason"] == "Nghị quyết HĐND"
    # The unit of an item that was billed cannot change; its code never does.
    unit = acct.patch("/schools/LQD/fee-items/HOCPHI", json={"unit": "term", "reason": "x"})
    assert unit.status_code == 409 and unit.get_json()["error"]["field"] == "unit"
    code = acct.patch("/schools/LQD/fee-items/HOCPHI", json={"code": "HP", "reason": "x"})
    assert code.status_code == 422
    for bad in ({"amount_vnd": 0}, {"amount_vnd": 1.5}, {"classes": ["9Z"]},
                {"grades": ["MGL"]}, {"mandatory": "yes"}, {"name": ""}):
        assert acct.patch("/schools/LQD/fee-items/HOCPHI",
                          json={**bad, "reason": "x"}).status_code == 422, bad
    assert acct.get("/schools/LQD/fee-items/HOCPHI").get_json()["amount_vnd"] == 550_000
    assert acct.get("/schools/LQD/fee-items/NOPE").status_code == 404


def test_a_retired_item_is_left_out_of_new_runs_and_stays_on_invoices(acct, ctx):
    retired = acct.post("/schools/LQD/fee-items/HOCPHI/retire",
                        json={"reason": "Miễn học phí từ tháng 10"})
    assert retired.status_code == 200 and retired.get_json()["retired"] is True
    assert acct.post("/schools/LQD/fee-items/HOCPHI/retire",
                     json={"reason": "x"}).status_code == 409
    run = acct.post("/schools/LQD/billing-runs", json={
        "period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15"})
    assert run.status_code == 422 and "ngừng thu" in run.get_json()["error"]["message"]
    assert acct.get("/schools/LQD/fee-items?retired=false").get_json()["count"] == 0
    # Nothing billed changed, nothing was deleted.
    assert acct.get(f"/invoices/{acct.codes['HS001']}").get_json()["total_vnd"] == 500_000
    assert acct.get("/schools/LQD/fee-items").get_json()["count"] == 1
    restored = acct.post("/schools/LQD/fee-items/HOCPHI/restore", json={"reason": "Thu lại"})
    assert restored.status_code == 200 and restored.get_json()["retired"] is False
    assert acct.post("/schools/LQD/billing-runs", json={
        "period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15"}
    ).status_code == 201


def test_only_the_schools_accountants_change_fee_items(acct, make_user, make_school, api, ctx):
    _, principal_token = make_user("principal", schools.get_school("LQD"))
    principal = api(principal_token)
    assert principal.get("/schools/LQD/fee-items").status_code == 200
    assert principal.post("/schools/LQD/fee-items/HOCPHI/retire",
                          json={"reason": "x"}).status_code == 403
    other = make_school("KHAC", prefix="KH", name="Trường khác", account="0099001234567")
    _, stranger_token = make_user("accountant", other)
    stranger = api(stranger_token)
    assert stranger.get("/schools/LQD/fee-items").status_code == 403
    assert stranger.post("/schools/LQD/exemptions", json={}).status_code == 403
    assert stranger.post("/schools/LQD/students/HS001/leave",
                         json={"left_on": "2026-10-01"}).status_code == 403


# --- Staff pages --------------------------------------------------------------------------------


@pytest.fixture
def issued(make_school, make_staff, staff_login):
    """The staff app with the roster, tuition and September issued."""
    school = make_school(prefix="LQ")
    browser = staff_login(make_staff("accountant", school).email, PASSWORD)
    assert upload(browser, f"{APP}/hoc-sinh/nhap", ROSTER.encode(), "ds.csv").status_code == 302
    assert post(browser, f"{APP}/khoan-thu", code="HOCPHI", name="Học phí", amount="500.000",
                unit="month", mandatory="1").status_code == 302
    assert post(browser, f"{APP}/khoan-thu", code="TIENAN", name="Tiền ăn", amount="30.000",
                unit="school_day", mandatory="1").status_code == 302
    assert post(browser, f"{APP}/lap-hoa-don", action="issue", period="2026-09",
                fee_items=["HOCPHI"], due_date="2026-09-15").status_code == 302
    return browser


def code_of(student: str, period: str = "2026-09") -> str:
    db.session.rollback()
    return db.session.scalar(select(Invoice.code).join(Student).where(
        Student.code == student, Invoice.period == period, Invoice.status != "cancelled")
        .order_by(Invoice.id))


def test_staff_correct_and_retire_a_fee_item(issued, ctx):
    fees_page = page(issued.get(f"{APP}/khoan-thu"))
    assert f"{APP}/khoan-thu/HOCPHI/sua" in fees_page
    edit = f"{APP}/khoan-thu/HOCPHI/sua"
    form = page(issued.get(edit))
    assert "Đã lập hóa đơn nên không đổi được đơn vị tính." in form
    no_reason = post(issued, edit, name="Học phí", amount="550.000", unit="month",
                     mandatory="1", reason="")
    assert no_reason.status_code == 422 and "Cần ghi lý do" in page(no_reason)
    done = post(issued, edit, name="Học phí", amount="550.000", unit="month", mandatory="1",
                reason="Nghị quyết HĐND", classes=["1A"])
    assert done.status_code == 302
    assert "hóa đơn đã lập giữ nguyên" in page(issued.get(done.headers["Location"]))
    db.session.rollback()
    item = db.session.scalar(select(FeeItem).where(FeeItem.code == "HOCPHI"))
    assert (item.amount_vnd, item.classes) == (550_000, "1A")

    retire = post(issued, f"{APP}/khoan-thu/TIENAN/ngung-thu",
                  form_page=f"{APP}/khoan-thu/TIENAN/sua", reason="Không tổ chức bán trú")
    assert retire.status_code == 302
    listing = page(issued.get(f"{APP}/khoan-thu"))
    assert "Đã ngừng thu" in listing
    run_form = page(issued.get(f"{APP}/lap-hoa-don"))
    assert 'value="TIENAN"' not in run_form and 'value="HOCPHI"' in run_form


def test_staff_part_month_rule_and_leaving_with_corrections(issued, ctx):
    rule = post(issued, f"{APP}/khoan-thu/thang-le", form_page=f"{APP}/khoan-thu", rule="days")
    assert rule.status_code == 302
    db.session.rollback()
    assert schools.get_school("LQD").partial_month_rule == "days"
    assert post(issued, f"{APP}/khoan-thu/thang-le", form_page=f"{APP}/khoan-thu",
                rule="weekly").status_code == 302  # refused with a message, nothing changed
    db.session.rollback()
    assert schools.get_school("LQD").partial_month_rule == "days"

    path = f"{APP}/hoc-sinh/HS002/vao-nghi"
    assert f"{APP}/hoc-sinh/HS002/vao-nghi" in page(issued.get(f"{APP}/hoc-sinh/HS002/sua"))
    bad = post(issued, path, joined_on="2026-09-10", left_on="2026-09-01", reason="")
    assert bad.status_code == 422 and "Ngày nghỉ học phải sau ngày vào học" in page(bad)
    left = post(issued, path, joined_on="", left_on="2026-09-16", reason="Chuyển trường")
    assert left.status_code == 302
    html = page(issued.get(left.headers["Location"]))
    code = code_of("HS002")
    # 1-15 September 2026: 11 of 22 weekdays; the school bills tuition by days.
    assert f"Hóa đơn {code} (Tháng 9/2026): 500.000 đ → 250.000 đ." in html
    assert "Nghỉ học từ 16/09/2026" in html
    invoice_page = page(issued.get(f"{APP}/hoa-don/{code}"))
    assert 'id="corrections"' in invoice_page and "Chuyển trường" in invoice_page
    assert "250.000 đ" in invoice_page
    assert_ledger_ok()


def test_staff_exemption_after_issue_says_what_changed(issued, ctx):
    response = post(issued, f"{APP}/mien-giam", student_code="HS003", item="HOCPHI",
                    kind="percent", value="100", reason="Hộ nghèo", valid_from="2026-09-01",
                    valid_to="")
    assert response.status_code == 302
    html = page(issued.get(response.headers["Location"]))
    assert f"Hóa đơn {code_of('HS003')} (Tháng 9/2026): 500.000 đ → 0 đ." in html


def test_staff_adjustment_on_a_fee_item_and_the_previews_overlaps(issued, ctx):
    response = post(issued, f"{APP}/dieu-chinh", student_code="HS001", amount="-60.000",
                    description="Trả tiền ăn 2 ngày nghỉ", item="TIENAN")
    assert response.status_code == 302
    db.session.rollback()
    adjustment = db.session.scalar(select(Adjustment))
    assert adjustment.fee_item.code == "TIENAN"
    assert "Tiền ăn" in page(issued.get(f"{APP}/dieu-chinh"))
    csv_file = "Mã học sinh,Số tiền,Nội dung,Mã khoản thu\nHS002,-30.000,Nghỉ ốm,NOPE\n"
    refused = upload(issued, f"{APP}/dieu-chinh/nhap", csv_file.encode(), "dc.csv",
                     form_page=f"{APP}/dieu-chinh")
    assert refused.status_code == 422 and "NOPE" in page(refused)

    preview = post(issued, f"{APP}/lap-hoa-don", action="preview", period="2026-2027-HK1",
                   fee_items=["HOCPHI"], due_date="2026-10-15")
    html = page(preview)
    assert 'id="conflicts"' in html and "Đã thu trước đó" in html
    assert html.count(f"{APP}/hoa-don/{code_of('HS001')}") == 1
    assert "09/2026" in html
    assert re.search(r"Sẽ lập 3 hóa đơn, tổng 4\.500\.000 đ", html)
    refused = post(issued, f"{APP}/lap-hoa-don", action="issue", period="2026-2027-HK1",
                   fee_items=["HOCPHI"], due_date="2026-10-15", overlap="refuse")
    assert refused.status_code == 409 and 'id="conflicts"' in page(refused)
    nothing = post(issued, f"{APP}/lap-hoa-don", action="issue", period="2026-09",
                   fee_items=["HOCPHI"], due_date="2026-09-15")
    assert nothing.status_code == 200
    assert "Không lập hóa đơn nào cho Tháng 9/2026" in page(nothing)
