"""Anyone holding a receipt checks it: by its QR link, or by typing the short lookup code
printed on it; wrong codes are rate-limited like wrong parents' links. The receipt check page
and the parents' page switch to English with a plain link."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from tests.helpers import send_sepay, sepay_body
from tuition.extensions import db
from tuition.models import Receipt, Student
from tuition.services import receipts


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def paid_receipt(client, billed) -> Receipt:
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    return db.session.query(Receipt).one()


def test_the_printed_lookup_code_is_stored_and_found(client, billed):
    receipt = paid_receipt(client, billed)
    code = receipt.lookup_code
    assert code == receipt.verify_token[:8].upper() and len(code) == 8
    pdf = billed.get(f"/receipts/{receipt.id}.pdf").data
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert f"Mã tra cứu: {code}" in text
    assert receipts.find_by_lookup_code(f" {code[:4].lower()} {code[4:]} ").id == receipt.id
    assert receipts.find_by_lookup_code(code[:7]) is None


def test_typing_the_code_opens_the_receipt(client, billed):
    receipt = paid_receipt(client, billed)
    form = client.get("/bien-lai")
    assert form.status_code == 200 and 'name="ma"' in form.get_data(as_text=True)
    found = client.get(f"/bien-lai?ma={receipt.lookup_code.lower()}")
    assert found.status_code == 302
    assert found.headers["Location"].endswith(f"/bien-lai/{receipt.verify_token}")
    page = client.get(found.headers["Location"]).get_data(as_text=True)
    assert "Biên lai hợp lệ" in page and "500.000 đ" in page
    # Every receipt page offers the form for checking another one.
    assert 'action="/bien-lai"' in page


def test_wrong_codes_are_404_and_guessing_is_limited(client, billed):
    paid_receipt(client, billed)
    first = client.get("/bien-lai?ma=ZZZZZZZZ")
    assert first.status_code == 404
    assert "Không tìm thấy biên lai có mã “ZZZZZZZZ”" in first.get_data(as_text=True)
    statuses = [client.get(f"/bien-lai?ma=GUESS{n:03d}").status_code for n in range(24)]
    # 20 failures a minute per address; the first one above counted.
    assert statuses.count(404) == 19 and statuses[19:] == [429] * 5


def test_receipt_page_and_parents_page_in_english(client, billed):
    receipt = paid_receipt(client, billed)
    page = text_of(client.get(f"/bien-lai/{receipt.verify_token}?lang=en")
                   .get_data(as_text=True))
    for expected in ("Valid receipt", "Student Nguyễn Thị Ánh Dương — class 1A",
                     "Period September 2026", "Paid by Bank transfer", "Check another receipt"):
        assert expected in page, expected
    assert "Biên lai hợp lệ" not in page
    # The choice holds for the visit: the parents' page of another student is English too.
    token = db.session.query(Student).filter_by(code="HS002").one().parent_token
    parents = text_of(client.get(f"/p/{token}").get_data(as_text=True))
    for expected in ("Amount to pay", "September 2026", "Total 500.000 đ",
                     "Balance due 500.000 đ", "Due by: 15/09/2026", "Student Nguyễn Minh Khôi"):
        assert expected in parents, expected
    back = text_of(client.get(f"/p/{token}?lang=vi").get_data(as_text=True))
    assert "Số tiền cần nộp" in back and "Tháng 9/2026" in back
