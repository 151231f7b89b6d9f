"""Receipt PDFs: Vietnamese text extracts exactly, fonts are embedded, the QR code scans."""

from __future__ import annotations

import dataclasses
import datetime
import io
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.pdfs import decode_qr_codes, page_text, word_boxes
from tuition.pdf.receipts import ReceiptDoc, ReceiptLine, render_receipts

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) not installed",
)

VERIFY_URL = "https://hocphi.lequydon.edu.vn/b/AA26-0000042-7QK4"


@pytest.fixture
def make_receipt() -> Callable[..., ReceiptDoc]:
    """Factory for the second payment on a September invoice; keyword arguments override."""

    def make(**overrides: object) -> ReceiptDoc:
        fields: dict[str, object] = {
            "school_name": "Trường Tiểu học Lê Quý Đôn",
            "school_address": "12 Lê Quý Đôn, Phường Võ Thị Sáu, TP. Hồ Chí Minh",
            "school_tax_code": "0301234567",
            "school_phone": "028 3930 1234",
            "template_symbol": "01BLTT-001",
            "series": "AA-26",
            "number": 42,
            "issued_at": datetime.datetime(2026, 9, 5, 14, 32),
            "payer_name": "Nguyễn Văn Hùng",
            "student_name": "Nguyễn Thị Ánh Dương",
            "student_code": "HS000101",
            "class_name": "3A2",
            "period_label": "Tháng 9/2026",
            "lines": (
                ReceiptLine("Học phí", 500_000),
                ReceiptLine("Tiền ăn bán trú", 770_000),
                ReceiptLine("Quỹ hội cha mẹ học sinh", 150_000),
            ),
            "invoice_total_vnd": 1_420_000,
            "paid_before_vnd": 400_000,
            "amount_vnd": 750_000,
            "balance_after_vnd": 270_000,
            "amount_in_words": "Bảy trăm năm mươi nghìn đồng",
            "method": "Chuyển khoản",
            "bank_name": "Vietcombank",
            "bank_reference": "FT26248913576",
            "issued_by": "Tự động",
            "verify_url": VERIFY_URL,
            "short_code": "7QK4-M2XP",
            "void": False,
            "void_reason": None,
            "replaces": None,
        }
        fields.update(overrides)
        return ReceiptDoc(**fields)  # type: ignore[arg-type]

    return make


def render(receipts: list[ReceiptDoc], tmp_path: Path, name: str = "receipts") -> Path:
    path = tmp_path / f"{name}.pdf"
    with path.open("wb") as out:
        assert render_receipts(receipts, out) == len(receipts)
    return path


EXPECTED = (
    "Trường Tiểu học Lê Quý Đôn",
    "Địa chỉ: 12 Lê Quý Đôn, Phường Võ Thị Sáu, TP. Hồ Chí Minh",
    "MST: 0301234567",
    "Điện thoại: 028 3930 1234",
    "BIÊN LAI THU TIỀN",
    "Ký hiệu mẫu: 01BLTT-001",
    "Ký hiệu: AA-26",
    "Số: 0000042",
    "Ngày 05 tháng 09 năm 2026",
    "Họ tên người nộp: Nguyễn Văn Hùng",
    "Học sinh: Nguyễn Thị Ánh Dương — Lớp 3A2",
    "Mã học sinh: HS000101",
    "Kỳ thu: Tháng 9/2026",
    "Học phí",
    "Tiền ăn bán trú",
    "Quỹ hội cha mẹ học sinh",
    "500.000 đ",
    "770.000 đ",
    "150.000 đ",
    "1.420.000 đ",
    "400.000 đ",
    "750.000 đ",
    "270.000 đ",
    "Bằng chữ: Bảy trăm năm mươi nghìn đồng",
    "Hình thức thanh toán: Chuyển khoản — Vietcombank, mã giao dịch FT26248913576",
    "Người lập: Tự động",
    f"Kiểm tra biên lai: {VERIFY_URL}",
    "Mã tra cứu: 7QK4-M2XP",
)


@needs_poppler
def test_receipt_text_extracts_exactly_with_diacritics(
    make_receipt: Callable[..., ReceiptDoc], tmp_path: Path
) -> None:
    path = render([make_receipt()], tmp_path)
    assert len(PdfReader(path).pages) == 1
    text = page_text(path, 1)
    for expected in EXPECTED:
        assert expected in text, expected
    # Each item on the same line as its amount, and each total beside its label.
    for label, amount in (
        ("Học phí", "500.000 đ"),
        ("Tiền ăn bán trú", "770.000 đ"),
        ("Quỹ hội cha mẹ học sinh", "150.000 đ"),
        ("Tổng phải nộp", "1.420.000 đ"),
        ("Đã nộp trước", "400.000 đ"),
        ("Số tiền nộp lần này", "750.000 đ"),
        ("Còn phải nộp", "270.000 đ"),
    ):
        (line,) = [line for line in text.splitlines() if label in line]
        assert line.split(label, 1)[1].strip() == amount
    for absent in ("ĐÃ HỦY", "Thay thế", "Nộp thừa"):
        assert absent not in text


def test_pypdf_reads_the_same_text(make_receipt: Callable[..., ReceiptDoc], tmp_path: Path) -> None:
    # pypdf reads the same ToUnicode maps; a second extractor guards against poppler quirks.
    text = " ".join(PdfReader(render([make_receipt()], tmp_path)).pages[0].extract_text().split())
    for expected in (
        "Trường Tiểu học Lê Quý Đôn",
        "BIÊN LAI THU TIỀN",
        "Số: 0000042",
        "Nguyễn Thị Ánh Dương — Lớp 3A2",
        "Bảy trăm năm mươi nghìn đồng",
        "Chuyển khoản — Vietcombank, mã giao dịch FT26248913576",
        "Người lập: Tự động",
    ):
        assert expected in text, expected


@needs_poppler
def test_three_receipts_three_pages_each_with_its_own_number(
    make_receipt: Callable[..., ReceiptDoc], tmp_path: Path
) -> None:
    payers = ("Nguyễn Văn Hùng", "Trần Thị Thu Hà", "Lê Đức Thắng")
    receipts = [
        make_receipt(number=40 + i, payer_name=payer, bank_reference=f"FT2624800000{i}")
        for i, payer in enumerate(payers)
    ]
    path = render(receipts, tmp_path)
    assert len(PdfReader(path).pages) == 3
    for page, receipt in enumerate(receipts, start=1):
        text = page_text(path, page)
        assert f"Số: {40 + page - 1:07d}" in text
        assert f"Họ tên người nộp: {receipt.payer_name}" in text
        assert receipt.bank_reference in text
        assert not any(other in text for other in payers if other != receipt.payer_name)


def test_fonts_are_embedded_roboto_and_no_helvetica(
    make_receipt: Callable[..., ReceiptDoc], tmp_path: Path
) -> None:
    receipts = [make_receipt(), make_receipt(void=True, void_reason="Lập nhầm")]
    reader = PdfReader(render(receipts, tmp_path))
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        assert fonts
        for ref in fonts.values():
            font = ref.get_object()
            assert "Roboto" in font["/BaseFont"], font["/BaseFont"]
            assert "Helvetica" not in font["/BaseFont"]
            assert font["/Subtype"] == "/TrueType"
            assert "/FontFile2" in font["/FontDescriptor"]
            assert "/ToUnicode" in font
    pdffonts = shutil.which("pdffonts")
    if pdffonts:
        listing = subprocess.run(
            [pdffonts, str(tmp_path / "receipts.pdf")], check=True, capture_output=True, text=True
        ).stdout
        assert "Helvetica" not in listing


@needs_poppler
def test_verify_qr_decodes_to_exactly_the_url(
    make_receipt: Callable[..., ReceiptDoc], tmp_path: Path
) -> None:
    path = render([make_receipt()], tmp_path)
    assert decode_qr_codes(path, 1, tmp_path) == [VERIFY_URL]


@needs_poppler
def test_void_receipt_is_stamped_and_says_why(
    make_receipt: Callable[..., ReceiptDoc], tmp_path: Path
) -> None:
    receipt = make_receipt(void=True, void_reason="Ghi nhầm học sinh")
    path = render([receipt], tmp_path)
    text = page_text(path, 1)
    assert "ĐÃ HỦY" in text
    assert "Biên lai đã bị hủy. Lý do: Ghi nhầm học sinh" in text
    # The stamp across the page must not scramble the rest of the receipt.
    for expected in EXPECTED:
        assert expected in text, expected
    assert "Biên lai đã bị hủy" in PdfReader(path).pages[0].extract_text()
    # And the QR code still scans through it.
    assert decode_qr_codes(path, 1, tmp_path) == [VERIFY_URL]


def test_void_stamp_is_drawn_see_through(
    make_receipt: Callable[..., ReceiptDoc], tmp_path: Path
) -> None:
    pages = PdfReader(
        render([make_receipt(), make_receipt(void=True, void_reason="Lập nhầm")], tmp_path)
    ).pages
    assert "/ExtGState" not in pages[0]["/Resources"]
    states = pages[1]["/Resources"]["/ExtGState"]
    assert any(0 < float(state.get_object().get("/ca", 1)) < 0.5 for state in states.values())


@needs_poppler
def test_replacement_names_the_receipt_it_replaces(
    make_receipt: Callable[..., ReceiptDoc], tmp_path: Path
) -> None:
    path = render([make_receipt(number=43, replaces="AA-26 / 0000041")], tmp_path)
    text = page_text(path, 1)
    assert "Thay thế biên lai AA-26 / 0000041" in text
    assert "Số: 0000043" in text


@needs_poppler
def test_overpayment_is_shown_as_such(
    make_receipt: Callable[..., ReceiptDoc], tmp_path: Path
) -> None:
    receipt = make_receipt(amount_vnd=1_100_000, balance_after_vnd=-80_000)
    text = page_text(render([receipt], tmp_path), 1)
    assert "Nộp thừa" in text and "80.000 đ" in text
    assert "Còn phải nộp" not in text and "-80.000" not in text


@needs_poppler
def test_cash_receipt_and_a_named_issuer(
    make_receipt: Callable[..., ReceiptDoc], tmp_path: Path
) -> None:
    receipt = make_receipt(
        method="Tiền mặt", bank_name="", bank_reference="", issued_by="Phạm Thị Lan"
    )
    text = page_text(render([receipt], tmp_path), 1)
    (method,) = [line for line in text.splitlines() if "Hình thức thanh toán" in line]
    assert method.strip() == "Hình thức thanh toán: Tiền mặt"
    assert "mã giao dịch" not in text
    assert "Người lập: Phạm Thị Lan" in text


@needs_poppler
def test_many_items_and_long_names_stay_inside_the_page(
    make_receipt: Callable[..., ReceiptDoc], tmp_path: Path
) -> None:
    lines = tuple(ReceiptLine(f"Khoản thu số {k} (theo nghị quyết)", 100_000) for k in range(20))
    receipt = make_receipt(
        school_name="Trường Trung học cơ sở Nguyễn Bỉnh Khiêm - Phân hiệu Thị trấn Văn Điển, "
        "Huyện Thanh Trì, Thành phố Hà Nội",
        lines=lines,
        void=True,
        void_reason="Nhập nhầm số tiền của giao dịch ngân hàng, " * 3,
    )
    path = render([receipt], tmp_path)
    boxes = word_boxes(path)
    assert boxes
    for x_min, y_min, x_max, y_max in boxes:
        assert 20 <= x_min and x_max <= 419.5 - 20
        assert 15 <= y_min and y_max <= 595.3 - 15
    text = page_text(path, 1)
    assert "Khoản thu số 19" in text and "Bỉnh" in text
    assert decode_qr_codes(path, 1, tmp_path) == [VERIFY_URL]


def test_decomposed_input_is_drawn_and_extracted_as_composed(
    make_receipt: Callable[..., ReceiptDoc], tmp_path: Path
) -> None:
    name = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Dương")
    text = PdfReader(render([make_receipt(student_name=name)], tmp_path)).pages[0].extract_text()
    assert "Nguyễn Thị Ánh Dương" in text


def test_render_streams_the_iterable(make_receipt: Callable[..., ReceiptDoc]) -> None:
    pulled: list[int] = []

    def receipts() -> Iterator[ReceiptDoc]:
        for i in range(4):
            pulled.append(i)
            yield make_receipt(number=i + 1)

    out = io.BytesIO()
    assert render_receipts(receipts(), out) == 4
    assert pulled == [0, 1, 2, 3]
    assert len(PdfReader(out).pages) == 4


def test_output_is_reproducible(make_receipt: Callable[..., ReceiptDoc]) -> None:
    first, second = io.BytesIO(), io.BytesIO()
    render_receipts([make_receipt()], first)
    render_receipts([make_receipt()], second)
    assert first.getvalue() == second.getvalue()


def test_no_receipts_gives_a_valid_one_page_pdf() -> None:
    out = io.BytesIO()
    assert render_receipts([], out) == 0
    assert len(PdfReader(out).pages) == 1


def test_unknown_layout_is_rejected(make_receipt: Callable[..., ReceiptDoc]) -> None:
    with pytest.raises(ValueError, match="layout"):
        render_receipts([make_receipt()], io.BytesIO(), layout="a4x3")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"number": 10_000_000}, "seven digits"),
        ({"number": 0}, "seven digits"),
        ({"void": True, "void_reason": " "}, "why"),
    ],
)
def test_invalid_receipts_are_refused(
    make_receipt: Callable[..., ReceiptDoc], overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_receipt(**overrides)


def test_receipt_is_frozen(make_receipt: Callable[..., ReceiptDoc]) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_receipt().amount_vnd = 1  # type: ignore[misc]




@needs_poppler
@pytest.mark.parametrize(("issued_by", "collector"), [
    ("Tự động", "Thu tự động qua chuyển khoản"), ("Phạm Thị Lan", "Phạm Thị Lan")])
def test_signature_block_of_payer_and_collector(
    make_receipt: Callable[..., ReceiptDoc], tmp_path: Path, issued_by: str, collector: str
) -> None:
    path = render([make_receipt(issued_by=issued_by)], tmp_path)
    lines = [" ".join(line.split()) for line in page_text(path, 1).splitlines() if line.strip()]
    (titles,) = [i for i, line in enumerate(lines) if "Người nộp tiền" in line]
    assert "Người thu tiền" in lines[titles]
    assert lines[titles + 1].count("(Ký, ghi rõ họ tên)") == 2
    # Names under the space to sign in, the payer's under "Người nộp tiền".
    (names,) = [i for i, line in enumerate(lines) if "Nguyễn Văn Hùng" in line and i > titles]
    assert collector in lines[names]
    assert lines[names].index("Nguyễn Văn Hùng") < lines[names].index(collector)
    # Between what the receipt says and the verification footer.
    assert max(i for i, line in enumerate(lines) if "Người lập" in line) < titles
    assert names < min(i for i, line in enumerate(lines) if "Kiểm tra biên lai" in line)
    # Room to sign: the names sit well below the hints (15 mm is 42.5 pt).
    boxes = word_boxes(path)
    text = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    words = [w for w in text.split("<word ")[1:]]
    hint_y = max(b[3] for b, w in zip(boxes, words, strict=True) if "tên)" in w)
    name_y = max(b[1] for b, w in zip(boxes, words, strict=True) if ">Hùng<" in w)
    assert name_y - hint_y > 35
