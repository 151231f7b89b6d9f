"""The parents' page in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import io

from PIL import Image
from pyzbar.pyzbar import decode

from tests.helpers import send_sepay, sepay_body
from tuition.core import vietqr
from tuition.extensions import db
from tuition.models import Student


def test_parent_sees_amount_scans_qr_and_sees_payment_arrive(app, client, billed, live_server,
                                                           browser):
    app.config["PARENT_PAGE_POLL_MS"] = 300
    try:
        token = db.session.query(Student).filter_by(code="HS001").one().parent_token
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.goto(f"{live_server}/p/{token}")
        assert page.locator("#student-name").inner_text() == "Nguyễn Thị Ánh Dương"
        assert page.locator("#amount-due").inner_text() == "500.000 đ"
        assert page.locator(".memo").first.inner_text().startswith(billed.codes["HS001"])

        qr = page.locator("img.qr").first
        qr.wait_for()
        shot = Image.open(io.BytesIO(qr.screenshot()))
        payload = decode(shot)[0].data.decode()
        parsed = vietqr.parse_payload(payload)
        assert (parsed.account_number, parsed.amount_vnd) == ("0011001234567", 500_000)
        assert parsed.memo.startswith(billed.codes["HS001"])

        send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
        # No reload by the parent: the page notices the payment by itself.
        # (A locator, not wait_for_function: the page's CSP forbids evaluating strings.)
        page.locator("#amount-due", has_text="Đã nộp đủ").wait_for(timeout=10_000)
        assert "500.000 đ" in page.locator("#payments").inner_text()
        assert "AA-" in page.locator("#receipts").inner_text()
        assert page.locator("text=Nguyễn Minh Khôi").count() == 0

        missing = page.goto(f"{live_server}/p/not-a-token")
        assert missing.status == 404
    finally:
        app.config["PARENT_PAGE_POLL_MS"] = 10_000
