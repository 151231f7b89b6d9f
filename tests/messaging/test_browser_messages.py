"""The messaging pages in a real headless Chromium: preview a template and see its SMS
length, send a campaign and watch it finish, render a background PDF and see the download
appear when the worker is done (the page polls)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.messaging.conftest import run_workers
from tests.test_browser_staff import sign_in


def _shot(page, name: str) -> None:
    """Screenshots for a person to look at, when TUITION_SCREENSHOTS names a folder."""
    folder = os.environ.get("TUITION_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_template_campaign_and_background_pdf_in_a_browser(app, lqd, messaging, make_staff,
                                                           live_server, browser):
    accountant = make_staff("accountant", lqd)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, live_server, accountant.email)

    page.goto(f"{live_server}/app/LQD/tin-nhan/mau/notice")
    page.fill("textarea[name=sms_text]", "{ten_truong}: học phí {ky_thu} của em "
              "{ten_hoc_sinh} là {so_tien}đ, hạn {han_nop}. {duong_dan}")
    page.click("button[value=preview]")
    page.wait_for_load_state()
    assert "hoc phi Thang 9/2026 cua em" in page.locator("#preview-sms").inner_text()
    assert "1 tin · không dấu (GSM-7)" in page.locator("#sms-length").inner_text()
    _shot(page, "template-preview")

    page.goto(f"{live_server}/app/LQD/tin-nhan/chien-dich/moi")
    page.select_option("select[name=kind]", "notice")
    page.check("input[name=classes][value='1A']")
    page.click("form.card button[type=submit]")
    page.wait_for_load_state()
    assert "/tin-nhan/chien-dich/" in page.url
    run_workers(app)
    page.reload()
    assert page.locator("#count-done").inner_text() == "2"
    assert sorted(s.phone for s in messaging.esms.sent) == ["0901234567", "0912345678"]
    _shot(page, "campaign")

    page.goto(f"{live_server}/app/LQD/tep-pdf")
    page.click("form:has(input[value=notices]) button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#export-download").is_hidden()
    run_workers(app)  # RQ needs the main thread; the page keeps polling meanwhile
    page.locator("#export-download").wait_for(state="visible", timeout=60_000)
    assert page.locator("#export-done").inner_text() == "3"
    _shot(page, "export")
    with page.expect_download() as download:
        page.click("#export-download")
    assert download.value.suggested_filename == "thong-bao-LQD-2026-09-toan-truong.pdf"
