"""Corrections in a real headless Chromium: a child leaves after paying, the invoice shows its
correction, the next term's preview lists what is billed already and who joins late, and a
fee item is corrected and retired. Set TUITION_SCREENSHOTS=<dir> to keep screenshots."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import pytest

from tests.helpers import assert_ledger_ok, send_sepay, sepay_body
from tests.test_browser_staff import sign_in
from tuition.core import clock
from tuition.extensions import db
from tuition.models import Invoice, Student
from tuition.services.schools import get_school

NOW = datetime(2026, 9, 20, 17, 40, tzinfo=UTC)  # 00:40 on 21/09/2026 in Vietnam


def shot(page, name: str) -> None:
    folder = os.environ.get("TUITION_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


@pytest.fixture(autouse=True)
def september(monkeypatch):
    monkeypatch.setattr(clock, "now_utc", lambda: NOW)


def test_a_leaver_is_corrected_and_the_next_term_knows_it(client, billed, make_staff,
                                                         live_server, browser):
    school = get_school("LQD")
    accountant = make_staff("accountant", school)
    code = billed.codes["HS001"]
    send_sepay(client, sepay_body(f"{code} HS001", 500_000))
    late = db.session.scalar(db.select(Student).where(Student.code == "HS003"))
    late.joined_on = date(2026, 10, 19)
    school.partial_month_rule = "days"   # part months billed by the school days attended
    db.session.commit()

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, live_server, accountant.email)
    page.goto(f"{live_server}/app/LQD/hoc-sinh/HS001/sua")
    page.click("text=Ngày vào học, nghỉ học")
    page.fill("input[name=left_on]", "2026-09-16")
    page.fill("input[name=reason]", "Chuyển trường")
    page.click("button[type=submit]:has-text('Lưu')")
    page.wait_for_load_state()
    flashes = page.locator(".flash").all_inner_texts()
    assert any(f"Hóa đơn {code} (Tháng 9/2026): 500.000 đ → 250.000 đ." in f for f in flashes)
    assert any("250.000 đ đã nộp vượt số phải nộp mới" in f for f in flashes)
    shot(page, "1-leave")

    page.goto(f"{live_server}/app/LQD/hoa-don/{code}")
    corrections = page.locator("#corrections li")
    assert corrections.count() == 1
    assert "Chuyển trường" in corrections.inner_text()
    assert "250.000 đ chuyển thành tiền nộp thừa" in corrections.inner_text()
    shot(page, "2-invoice")

    page.goto(f"{live_server}/app/LQD/lap-hoa-don")
    page.select_option("select[name=period]", "2026-2027-HK1")
    page.fill("input[name=due_date]", "2026-10-15")
    page.check("input[name=fee_items][value=HOCPHI]")
    page.click("button[value=preview]")
    page.wait_for_load_state()
    assert page.locator("#conflicts tbody tr").count() == 3  # September, for every child
    part = page.locator("#part-months tbody tr")
    assert part.count() == 1 and "vào học từ 19/10/2026: 10/22 ngày học" in part.inner_text()
    shot(page, "3-preview")
    page.click("button[value=issue]")
    page.wait_for_load_state()
    db.session.rollback()
    term = {i.student.code: i for i in db.session.query(Invoice).filter_by(
        period="2026-2027-HK1")}
    # HS001 left in September: not billed; HS003 from Monday 19/10: 10 of October's 22
    # school days, November, December; HS002 October to December.
    assert sorted(term) == ["HS002", "HS003"]
    assert term["HS002"].total_vnd == 1_500_000
    assert term["HS003"].total_vnd == 500_000 * 10 // 22 + 1_000_000

    page.goto(f"{live_server}/app/LQD/khoan-thu")
    page.click("text=Sửa, ngừng thu")
    page.fill("input[name=amount]", "520.000")
    page.fill("form:has(button:has-text('Lưu thay đổi')) input[name=reason]", "Nghị quyết HĐND")
    shot(page, "4-fee-edit")
    page.click("button:has-text('Lưu thay đổi')")
    page.wait_for_load_state()
    assert "520.000" in page.locator("table.data").inner_text()
    shot(page, "5-fees")
    assert_ledger_ok()
