"""The review queue in a real headless Chromium: a transfer with a mistyped code, the right
child suggested first, assigned by searching the child's name, the remainder credited to the
student, then the student page opened from the review list shows the payment, the credit and
the receipt, which reprints.

Screenshots of each step go to ``$TUITION_SCREENSHOTS`` when it is set (to look at them)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers import assert_ledger_ok, payments_of, send_sepay, sepay_body
from tuition.extensions import db
from tuition.services.schools import get_school

PASSWORD = "mat-khau-rat-dai-123"


def shoot(page, name: str) -> None:
    folder = os.environ.get("TUITION_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_mistyped_code_to_the_student_page(client, billed, make_staff, live_server, browser):
    accountant = make_staff("accountant", get_school("LQD"))
    code = billed.codes["HS003"]
    # Two adjacent characters of the random part swapped: the check character refuses it.
    i = next(i for i in range(3, len(code) - 1) if code[i] != code[i + 1])
    typed = code[:i] + code[i + 1] + code[i] + code[i + 2:]
    send_sepay(client, sepay_body(f"MBVCB.8812345678.{typed} hoc phi T9.CT tu 0011002233445 "
                                  "LE VAN TAM toi 0011001234567 TRUONG TH LE QUY DON", 700_000))

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server}/dang-nhap")
    page.fill("input[name=email]", accountant.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()

    page.goto(f"{live_server}/app/LQD/cho-xu-ly")
    first = page.locator("table.suggestions tbody tr").first
    assert "Lê Bảo Ngọc" in first.inner_text()
    assert f"Mã gần giống {code} (đảo 2 ký tự liền nhau" in first.inner_text()
    assert "Khớp rõ nhất" in first.inner_text()
    shoot(page, "1-review-queue")

    # Not the suggestion's button: find the child by name, as for a memo with no clue.
    page.fill("form.find input[name=tim]", "ngoc")
    page.click("form.find button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#ket-qua").is_visible()
    assert page.locator("label.reason").inner_text().startswith("Lý do")
    shoot(page, "2-search-by-name")
    page.click(f"button[name=pick][value={code}]")
    page.wait_for_load_state()
    assert "Đã gán 500.000 đ vào hóa đơn" in page.locator(".flash").inner_text()
    credit = page.locator("form.remainder button")
    assert credit.inner_text() == "Ghi có 200.000 đ còn lại cho Lê Bảo Ngọc"
    shoot(page, "3-remainder")
    credit.click()
    page.wait_for_load_state()

    # Back on the review list: the queue is empty and the message links to the student.
    assert page.url.endswith("/app/LQD/cho-xu-ly")
    assert "Không có giao dịch nào chờ xử lý." in page.content()
    shoot(page, "4-queue-done")
    page.click(".flash a.student-link, .flash a")
    page.wait_for_load_state()
    assert page.url.endswith("/app/LQD/hoc-sinh/HS003")
    assert page.locator("#student-credit").inner_text() == "200.000 đ"
    assert page.locator("#student-open").inner_text() == "0 đ"
    payments = page.locator("#tien-da-nop").inner_text()
    assert "500.000 đ" in payments and "200.000 đ" in payments and typed in payments
    receipts = page.locator("#bien-lai")
    assert "500.000 đ" in receipts.inner_text() and "Hợp lệ" in receipts.inner_text()
    assert page.locator("#parent-link").input_value().startswith("https://hocphi.example.vn/p/")
    shoot(page, "5-student-page")
    reprint = receipts.locator("a", has_text="In lại").first.get_attribute("href")
    pdf = page.request.get(f"{live_server}{reprint}")
    assert pdf.ok and pdf.body().startswith(b"%PDF")

    db.session.rollback()
    (placed,) = payments_of(billed, "matched")
    assert sorted((a["kind"], a["amount_vnd"]) for a in placed["allocations"]) == [
        ("credit", 200_000), ("invoice", 500_000)]
    assert_ledger_ok()
