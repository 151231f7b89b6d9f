"""What parents and staff read adds up: a partly paid invoice (and one paid partly from an
earlier overpayment) shows its lines, their total, what was paid, the credit used and what is
still due, the same on the printed notice (real PDF text, real QR decoding), the parents'
page, the notice check page, the staff invoice page and the API."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.helpers import assert_ledger_ok, send_sepay, sepay_body
from tests.pdfs import decode_qr_codes, page_text
from tuition.core import vietqr
from tuition.extensions import db
from tuition.models import Allocation, Invoice, Student
from tuition.services import invoices
from tuition.services.receipts import CREDIT_USE_REASON
from tuition.services.schools import get_school

PASSWORD = "mat-khau-rat-dai-123"


def one_line(text: str) -> str:
    return " ".join(text.split())


def notice_text(pdf: bytes, tmp_path: Path, name: str = "notice.pdf") -> tuple[str, list[str]]:
    path = tmp_path / name
    path.write_bytes(pdf)
    return one_line(page_text(path, 1)), decode_qr_codes(path, 1, tmp_path)


def payment_qr(codes: list[str]) -> vietqr.ParsedPayload:
    (payload,) = [code for code in codes if code.startswith("000201")]
    return vietqr.parse_payload(payload)


def token_of(code: str) -> str:
    return db.session.query(Student).filter_by(code=code).one().parent_token


@pytest.fixture
def partly_paid(client, billed):
    """HS002's 500.000 đ invoice with 200.000 đ paid by transfer."""
    send_sepay(client, sepay_body(f"{billed.codes['HS002']} HS002", 200_000))
    return billed


@pytest.fixture
def paid_from_credit(client, billed):
    """HS003 overpaid September by 150.000 đ; October's invoice used that credit, then the
    parent sent 100.000 đ: 500.000 = 100.000 by transfer + 150.000 credit + 250.000 due."""
    send_sepay(client, sepay_body(f"IBFT {billed.codes['HS003']}", 650_000))
    billed.post("/schools/LQD/billing-runs", json={
        "period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15"})
    october = next(i["code"] for i in billed.get("/schools/LQD/invoices?period=2026-10")
                   .get_json()["items"] if i["student_code"] == "HS003")
    send_sepay(client, sepay_body(f"{october} HS003", 100_000))
    billed.october = october
    return billed


def test_breakdown_of_a_partly_paid_invoice(partly_paid, ctx):
    invoice = db.session.query(Invoice).filter_by(code=partly_paid.codes["HS002"]).one()
    paid = invoices.paid_breakdown([invoice])[invoice.id]
    assert (paid.total_vnd, paid.paid_by_transfer_vnd, paid.paid_from_credit_vnd,
            paid.due_vnd) == (500_000, 200_000, 0, 300_000)
    # Ids are accepted too, and give the same figures.
    assert invoices.paid_breakdown([invoice.id]) == {invoice.id: paid}


def test_partly_paid_notice_prints_paid_and_due_and_its_qr_asks_for_the_due(
        partly_paid, tmp_path):
    code = partly_paid.codes["HS002"]
    response = partly_paid.get(f"/invoices/{code}/notice.pdf")
    assert response.status_code == 200
    text, codes = notice_text(response.data, tmp_path)
    for expected in ("Học phí 1 tháng 500.000 đ - 500.000 đ", "Tổng cộng 500.000 đ",
                     "Đã nộp 200.000 đ", "Còn phải nộp 300.000 đ",
                     "Số tiền còn phải nộp bằng chữ: Ba trăm nghìn đồng", "Số tiền: 300.000 đ"):
        assert expected in text, expected
    assert "Trừ tiền nộp thừa" not in text
    qr = payment_qr(codes)
    assert qr.amount_vnd == 300_000
    assert qr.memo == partly_paid.get(f"/invoices/{code}").get_json()["memo"]


def test_class_notices_agree_with_each_invoice(partly_paid, tmp_path):
    # Two A5 notices a page (the single notice above is A4).
    response = partly_paid.get("/schools/LQD/notices.pdf?period=2026-09&layout=a5x2")
    path = tmp_path / "class.pdf"
    path.write_bytes(response.data)
    pages = len(PdfReader(io.BytesIO(response.data)).pages)
    texts = [one_line(page_text(path, page)) for page in range(1, pages + 1)]
    amounts = sorted(payment_qr([code]).amount_vnd for page in range(1, pages + 1)
                     for code in decode_qr_codes(path, page, tmp_path) if code.startswith("000201"))
    assert amounts == [300_000, 500_000, 500_000]
    joined = " | ".join(texts)
    # Three unpaid notices: two ask for 500.000 đ, HS002's for the 300.000 đ left.
    assert joined.count("Tổng cộng 500.000 đ") == 3
    assert joined.count("Còn phải nộp 500.000 đ") == 2
    assert joined.count("Đã nộp 200.000 đ") == 1 and joined.count("Còn phải nộp 300.000 đ") == 1
    # (poppler sets "0 đ" without its narrow space)
    assert len(re.findall(r"Đã nộp 0 ?đ", joined)) == 2


def test_credit_used_is_shown_apart_from_what_was_transferred(paid_from_credit, client, ctx,
                                                               tmp_path, make_staff,
                                                               staff_login):
    code = paid_from_credit.october
    detail = paid_from_credit.get(f"/invoices/{code}").get_json()
    assert (detail["total_vnd"], detail["paid_vnd"], detail["balance_vnd"]) == (
        500_000, 250_000, 250_000)
    assert (detail["paid_by_transfer_vnd"], detail["paid_from_credit_vnd"],
            detail["due_vnd"]) == (100_000, 150_000, 250_000)
    assert vietqr.parse_payload(detail["qr_payload"]).amount_vnd == 250_000

    text, codes = notice_text(paid_from_credit.get(f"/invoices/{code}/notice.pdf").data,
                              tmp_path)
    for expected in ("Tổng cộng 500.000 đ", "Đã nộp 100.000 đ",
                     "Trừ tiền nộp thừa trước đó 150.000 đ", "Còn phải nộp 250.000 đ",
                     "bằng chữ: Hai trăm năm mươi nghìn đồng", "Số tiền: 250.000 đ"):
        assert expected in text, expected
    assert payment_qr(codes).amount_vnd == 250_000

    # The parents' page: the same four figures, and the copy button copies the due amount.
    html = client.get(f"/p/{token_of('HS003')}").get_data(as_text=True)
    card = html[html.index(f'data-code="{code}"'):]
    card = one_line(re.sub(r"<[^>]+>", " ", card[:card.index('class="field"')]))
    for expected in ("Tổng cộng 500.000 đ", "Đã nộp 100.000 đ",
                     "Trừ tiền nộp thừa trước đó 150.000 đ", "Còn phải nộp 250.000 đ"):
        assert expected in card, expected
    assert 'data-copy="250000"' in html
    assert client.get(f"/p/{token_of('HS003')}/state.json").get_json()["due_vnd"] == 250_000

    # The accountant's invoice page.
    accountant = staff_login(make_staff("accountant", get_school("LQD")).email, PASSWORD)
    page = accountant.get(f"/app/LQD/hoa-don/{code}").get_data(as_text=True)
    assert 'id="invoice-total">500.000 đ' in page and 'id="invoice-paid">100.000 đ' in page
    assert 'id="invoice-credit">150.000 đ' in page and 'id="invoice-due">250.000 đ' in page

    # The check page printed on a notice (for a student without a parents' link).
    verify = client.get(invoices.verify_url(db.session.query(Invoice).filter_by(code=code)
                                            .one()).replace("https://hocphi.example.vn", ""))
    verify_text = one_line(re.sub(r"<[^>]+>", " ", verify.get_data(as_text=True)))
    assert "Trừ tiền nộp thừa trước đó 150.000 đ" in verify_text
    assert "Còn phải nộp 250.000 đ" in verify_text
    assert_ledger_ok()


def test_a_reversed_credit_use_no_longer_counts_as_credit(paid_from_credit, ctx):
    invoice = db.session.query(Invoice).filter_by(code=paid_from_credit.october).one()
    used = db.session.query(Allocation).filter_by(
        invoice_id=invoice.id, reason=CREDIT_USE_REASON).one()
    response = paid_from_credit.post(f"/allocations/{used.id}/reversal",
                                     json={"reason": "Phụ huynh xin hoàn tiền thừa"})
    assert response.status_code in (200, 201), response.get_json()
    db.session.expire_all()
    invoice = db.session.get(Invoice, invoice.id)
    paid = invoices.paid_breakdown([invoice])[invoice.id]
    assert (paid.paid_by_transfer_vnd, paid.paid_from_credit_vnd, paid.due_vnd) == (
        100_000, 0, 400_000)
