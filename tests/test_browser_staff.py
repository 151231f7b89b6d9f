"""The staff app in a real headless Chromium: sign in, issue a billing run, assign a transfer
from the review queue, and see the principal's dashboard change."""

from __future__ import annotations

from tests.helpers import send_sepay, sepay_body
from tuition.extensions import db
from tuition.models import Invoice
from tuition.services.schools import get_school

PASSWORD = "mat-khau-rat-dai-123"


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/dang-nhap")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_accountant_bills_and_assigns_principal_sees_it(client, billed, make_staff,
                                                       live_server, browser):
    school = get_school("LQD")
    accountant = make_staff("accountant", school)
    principal = make_staff("principal", school)
    send_sepay(client, sepay_body("hoc phi be Ngoc lop 1A", 500_000))

    boss = browser.new_context().new_page()
    sign_in(boss, live_server, principal.email)
    boss.goto(f"{live_server}/app/LQD/tong-quan?period=2026-09")
    assert boss.locator("#collected").inner_text() == "0 đ"
    assert boss.locator("#outstanding").inner_text() == "1.500.000 đ"

    page = browser.new_context().new_page()
    sign_in(page, live_server, accountant.email)
    page.goto(f"{live_server}/app/LQD/lap-hoa-don")
    page.select_option("select[name=period]", "2026-10")
    page.fill("input[name=due_date]", "2026-10-15")
    page.check("input[name=fee_items][value=HOCPHI]")
    page.click("button[value=preview]")
    page.click("button[value=issue]")
    page.wait_for_load_state()
    db.session.rollback()
    assert db.session.query(Invoice).filter_by(period="2026-10").count() == 3

    page.goto(f"{live_server}/app/LQD/cho-xu-ly")
    assign = page.locator("form.row button[type=submit]").first
    assert "500.000" in assign.inner_text()
    assign.click()
    page.wait_for_load_state()
    assert page.locator("form.row").count() == 0  # the queue is empty
    db.session.rollback()
    september = db.session.query(Invoice).filter_by(period="2026-09", status="paid").all()
    assert [i.student.code for i in september] == ["HS003"]

    boss.reload()
    assert boss.locator("#collected").inner_text() == "500.000 đ"
    assert boss.locator("#outstanding").inner_text() == "1.000.000 đ"
    # The principal looks but cannot change: no assign buttons on the review page.
    boss.goto(f"{live_server}/app/LQD/cho-xu-ly")
    assert boss.locator("form.row").count() == 0
