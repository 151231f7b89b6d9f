"""The cash desk in a real headless Chromium: a class's cash recorded in one go, every
receipt printed, then the day's cash book printed."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from tests.pdfs import page_text
from tests.test_browser_staff import PASSWORD, sign_in
from tuition.core import clock
from tuition.extensions import db
from tuition.models import BankTransaction
from tuition.services.schools import get_school

#: Set to a folder to keep the screenshots (they are looked at when the pages change).
SHOTS = os.environ.get("TUITION_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_a_class_pays_cash_in_one_go_and_the_days_book_prints(billed, make_staff, live_server,
                                                              browser, monkeypatch, tmp_path):
    monkeypatch.setattr(clock, "now_utc", lambda: datetime(2026, 9, 5, 3, 15, tzinfo=UTC))
    accountant = make_staff("accountant", get_school("LQD"))
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, live_server, accountant.email)
    page.goto(f"{live_server}/app/LQD/thu-tien-mat/lop")
    page.select_option("select[name=lop]", "1A")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    rows = page.locator("#class-cash tbody tr")
    assert rows.count() == 2
    assert page.locator("input[name=amount_HS001]").input_value() == "500.000"
    page.check("input[name=paid][value=HS001]")
    page.check("input[name=paid][value=HS003]")
    page.fill("input[name=amount_HS003]", "300.000")
    page.fill("input[name=payer_HS003]", "Lê Thị Hoa")
    shot(page, "cash-class")
    page.click("#record-class")
    page.wait_for_load_state()
    assert "Đã thu tiền mặt của 2 học sinh, tổng 800.000 đ." in page.inner_text("main")
    assert page.locator("#payments tbody tr").count() == 2
    shot(page, "cash-done")
    db.session.rollback()
    assert db.session.query(BankTransaction).filter_by(provider="cash").count() == 2

    for link, pages in (("#print-a5", 2), ("#print-80mm", 2)):
        href = page.get_attribute(link, "href")
        pdf = context.request.get(f"{live_server}{href}")
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
        path = tmp_path / f"{link[1:]}.pdf"
        path.write_bytes(pdf.body())
        texts = [page_text(path, n) for n in range(1, pages + 1)]
        assert "Nguyễn Thị Ánh Dương" in texts[0] and "Lê Bảo Ngọc" in texts[1]
        assert all("Tiền mặt" in text for text in texts)

    page.click("nav.menu >> text=Sổ quỹ")
    page.wait_for_load_state()
    assert page.inner_text("#cash-in") == "800.000 đ"
    assert page.inner_text("#closing") == "800.000 đ"
    assert page.locator("#entries tbody tr").count() == 2
    page.fill("#close-form input[name=counted]", "800.000")
    page.click("#close-form button[type=submit]")
    page.wait_for_load_state()
    assert "Đã khóa sổ" in page.inner_text("#book-status")
    shot(page, "cash-book")
    href = page.get_attribute("#book-pdf", "href")
    pdf = context.request.get(f"{live_server}{href}")
    path = tmp_path / "book.pdf"
    path.write_bytes(pdf.body())
    text = page_text(path, 1)
    for expected in ("SỔ QUỸ TIỀN MẶT", "Ngày 05/09/2026", "PT26-000001", "PT26-000002",
                     "Lê Thị Hoa", "800.000", "Đã khóa sổ"):
        assert expected in text, expected
    assert PASSWORD
