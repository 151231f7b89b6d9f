"""Fee notice PDFs: Vietnamese text survives extraction, fonts are embedded, QR codes scan."""

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
from tuition.pdf.notices import Notice, NoticeLine, format_vnd, render_notices

PAYLOAD = (
    "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA53037045406"
    "1800005802VN62340107NPS68690819thanh toan don hang63042E2E"
)
STUDENTS = (
    ("HS000101", "Nguyễn Thị Ánh Dương"),
    ("HS000102", "Trần Đức Khôi"),
    ("HS000103", "Lê Hoàng Quỳnh Anh"),
    ("HS000104", "Phạm Gia Bảo"),
    ("HS000105", "Võ Ngọc Uyên Phương"),
)

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) not installed",
)


@pytest.fixture
def make_notice() -> Callable[..., Notice]:
    """Factory for a realistic notice of a primary school; keyword arguments override."""

    def make(**overrides: object) -> Notice:
        lines = (
            NoticeLine("Học phí", 1, 500_000, 0, 500_000, "tháng"),
            NoticeLine("Tiền ăn bán trú", 22, 35_000, 20_000, 750_000, ""),
        )
        fields: dict[str, object] = {
            "school_name": "Trường Tiểu học Lê Quý Đôn",
            "school_address": "12 Lê Quý Đôn, Phường Võ Thị Sáu, TP. Hồ Chí Minh",
            "school_phone": "028 3930 1234",
            "school_tax_code": "0301234567",
            "student_code": "HS000101",
            "student_name": "Nguyễn Thị Ánh Dương",
            "class_name": "3A2",
            "period_label": "Tháng 9/2026",
            "lines": lines,
            "total_vnd": 1_250_000,
            "amount_in_words": "Một triệu hai trăm năm mươi nghìn đồng",
            "due_date": datetime.date(2026, 9, 15),
            "bank_name": "Vietcombank",
            "account_number": "0071001234567",
            "account_name": "TRUONG TIEU HOC LE QUY DON",
            "qr_payload": PAYLOAD,
            "memo": "HP2609 HS000101",
            "invoice_code": "HP2609-000101",
            "verify_url": "https://hocphi.lequydon.edu.vn/v/HP2609-000101-7QK4",
        }
        fields.update(overrides)
        return Notice(**fields)  # type: ignore[arg-type]

    return make


@pytest.fixture
def class_notices(make_notice: Callable[..., Notice]) -> list[Notice]:
    """Five students of one class, each with their own code, memo, payload and link."""
    return [
        make_notice(
            student_code=code,
            student_name=name,
            memo=f"HP2609 {code}",
            invoice_code=f"HP2609-{code[2:]}",
            qr_payload=PAYLOAD.replace("NPS6869", f"N{code[2:]}"),
            verify_url=f"https://hocphi.lequydon.edu.vn/v/HP2609-{code[2:]}",
        )
        for code, name in STUDENTS
    ]


def render(notices: list[Notice], layout: str, tmp_path: Path) -> Path:
    path = tmp_path / f"notices-{layout}.pdf"
    with path.open("wb") as out:
        assert render_notices(notices, out, layout=layout) == len(notices)
    return path


def test_format_vnd_uses_dots_between_thousands() -> None:
    assert format_vnd(0) == "0"
    assert format_vnd(15_000) == "15.000"
    assert format_vnd(1_250_000) == "1.250.000"
    assert format_vnd(12_345_678_900) == "12.345.678.900"


@needs_poppler
@pytest.mark.parametrize("layout", ["a5x2", "a4"])
def test_single_notice_text_is_extractable_with_diacritics(
    layout: str, make_notice: Callable[..., Notice], tmp_path: Path
) -> None:
    path = render([make_notice()], layout, tmp_path)
    assert len(PdfReader(path).pages) == 1
    text = page_text(path, 1)
    for expected in (
        "Trường Tiểu học Lê Quý Đôn",
        "THÔNG BÁO THU TIỀN",
        "Tháng 9/2026",
        "Nguyễn Thị Ánh Dương",
        "HS000101",
        "3A2",
        "Tiền ăn bán trú",
        "1.250.000 đ",
        "500.000 đ",
        "750.000 đ",
        "Tổng cộng",
        "Số tiền còn phải nộp bằng chữ: Một triệu hai trăm năm mươi nghìn đồng",
        "Hạn nộp: 15/09/2026",
        "Ngân hàng: Vietcombank",
        "Số tài khoản: 0071001234567",
        "Chủ tài khoản: TRUONG TIEU HOC LE QUY DON",
        "Quét mã VietQR bằng ứng dụng ngân hàng",
        "Nội dung chuyển khoản: HP2609 HS000101",
        "Kiểm tra thông báo: https://hocphi.lequydon.edu.vn/v/HP2609-000101-7QK4",
        "Nhà trường chỉ nhận tiền vào tài khoản trên.",
        "Mã số thuế: 0301234567",
    ):
        assert expected in text, expected
    for heading in ("STT", "Khoản thu", "Số lượng", "Đơn giá", "Miễn giảm", "Thành tiền"):
        assert heading in text


@needs_poppler
def test_amount_in_words_and_pypdf_extraction(
    make_notice: Callable[..., Notice], tmp_path: Path
) -> None:
    notice = make_notice(paid_vnd=500_000, amount_in_words="Bảy trăm năm mươi nghìn đồng")
    path = render([notice], "a4", tmp_path)
    assert "Bảy trăm năm mươi nghìn đồng" in page_text(path, 1)
    # pypdf reads the same ToUnicode maps; a second extractor guards against poppler quirks.
    text = PdfReader(path).pages[0].extract_text()
    for expected in ("Nguyễn Thị Ánh Dương", "Trường Tiểu học Lê Quý Đôn", "Tiền ăn bán trú"):
        assert expected in text


@needs_poppler
@pytest.mark.parametrize(("layout", "pages", "per_page"), [("a5x2", 3, 2), ("a4", 5, 1)])
def test_class_file_puts_each_student_on_the_right_page(
    layout: str, pages: int, per_page: int, class_notices: list[Notice], tmp_path: Path
) -> None:
    path = render(class_notices, layout, tmp_path)
    assert len(PdfReader(path).pages) == pages
    for index, notice in enumerate(class_notices):
        page = index // per_page + 1
        text = page_text(path, page)
        assert notice.student_name in text
        assert f"Nội dung chuyển khoản: {notice.memo}" in text
        others = [n.student_name for i, n in enumerate(class_notices) if i // per_page != page - 1]
        assert not any(name in text for name in others)
    if layout == "a5x2":
        # Reading order follows the page: the first student in the top half.
        first_page = page_text(path, 1)
        assert first_page.index("Nguyễn Thị Ánh Dương") < first_page.index("Trần Đức Khôi")


def test_fonts_are_embedded_roboto_and_no_standard_font(
    class_notices: list[Notice], tmp_path: Path
) -> None:
    for layout in ("a5x2", "a4"):
        reader = PdfReader(render(class_notices, layout, tmp_path))
        for page in reader.pages:
            fonts = page["/Resources"]["/Font"]
            assert fonts
            for ref in fonts.values():
                font = ref.get_object()
                assert "Roboto" in font["/BaseFont"], font["/BaseFont"]
                assert font["/Subtype"] == "/TrueType"
                assert "/FontFile2" in font["/FontDescriptor"]
                assert "/ToUnicode" in font
                assert "Helvetica" not in font["/BaseFont"]


@needs_poppler
@pytest.mark.parametrize("layout", ["a5x2", "a4"])
def test_qr_codes_decode_to_payload_and_verify_url(
    layout: str, class_notices: list[Notice], tmp_path: Path
) -> None:
    path = render(class_notices[:2], layout, tmp_path)
    found = set(decode_qr_codes(path, 1, tmp_path))
    first = class_notices[0]
    assert first.qr_payload in found
    assert first.verify_url in found
    if layout == "a5x2":
        assert {class_notices[1].qr_payload, class_notices[1].verify_url} <= found


@needs_poppler
def test_payment_qr_is_four_to_four_and_a_half_centimetres(
    make_notice: Callable[..., Notice], tmp_path: Path
) -> None:
    pyzbar = pytest.importorskip("pyzbar.pyzbar")
    from PIL import Image

    path = render([make_notice()], "a5x2", tmp_path)
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(path), str(tmp_path / "p")], check=True)
    (png,) = tmp_path.glob("p*.png")
    with Image.open(png) as image:
        (payment,) = [s for s in pyzbar.decode(image) if s.data.decode() == PAYLOAD]
    width_cm = payment.rect.width / 200 * 2.54
    assert 4.0 <= width_cm <= 4.6


@needs_poppler
def test_many_long_lines_and_long_names_stay_inside_the_page(
    make_notice: Callable[..., Notice], tmp_path: Path
) -> None:
    long_item = "Quỹ hội cha mẹ học sinh (tự nguyện, theo nghị quyết cuộc họp đầu năm học)"
    lines = tuple(
        NoticeLine(long_item if k % 2 else f"Khoản thu số {k}", 2, 125_000, 0, 250_000, "tháng")
        for k in range(12)
    )
    notice = make_notice(
        school_name="Trường Trung học cơ sở Nguyễn Bỉnh Khiêm - Phân hiệu Thị trấn Văn Điển, "
        "Huyện Thanh Trì, Thành phố Hà Nội",
        account_name="TRUONG TRUNG HOC CO SO NGUYEN BINH KHIEM PHAN HIEU VAN DIEN THANH TRI",
        lines=lines,
        total_vnd=3_000_000,
        paid_vnd=1_000_000,
        credit_vnd=250_000,
    )
    for layout in ("a5x2", "a4"):
        path = render([notice, notice], layout, tmp_path)
        boxes = word_boxes(path)
        assert boxes
        for x_min, y_min, x_max, y_max in boxes:
            assert 20 <= x_min and x_max <= 595.3 - 20
            assert 15 <= y_min and y_max <= 841.9 - 15
        if layout == "a5x2":
            # Nothing of the top notice may cross the cut line into the bottom one.
            assert not any(y_min < 420.9 < y_max for _, y_min, _, y_max in boxes)
        text = page_text(path, 1)
        for word in ("Bỉnh", "Khiêm", "Thanh", "Trì", "nghị", "quyết"):
            assert word in text
        assert "Khoản thu số 10" in text


@needs_poppler
def test_decomposed_input_is_drawn_and_extracted_as_composed(
    make_notice: Callable[..., Notice], tmp_path: Path
) -> None:
    name = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Dương")
    path = render([make_notice(student_name=name)], "a4", tmp_path)
    assert "Nguyễn Thị Ánh Dương" in page_text(path, 1)


def test_render_streams_the_iterable_and_reports_progress(
    make_notice: Callable[..., Notice],
) -> None:
    pulled: list[int] = []
    reported: list[int] = []

    def notices() -> Iterator[Notice]:
        for i in range(5):
            pulled.append(i)
            yield make_notice(student_code=f"HS{i:06d}")

    def progress(done: int) -> None:
        # The generator must not have been read ahead of what was drawn.
        assert len(pulled) == done
        reported.append(done)

    out = io.BytesIO()
    assert render_notices(notices(), out, layout="a5x2", progress=progress) == 5
    assert reported == [1, 2, 3, 4, 5]
    assert len(PdfReader(out).pages) == 3


def test_output_is_reproducible_and_titled(make_notice: Callable[..., Notice]) -> None:
    first, second = io.BytesIO(), io.BytesIO()
    render_notices([make_notice()], first, title="Lớp 3A2 - Tháng 9/2026")
    render_notices([make_notice()], second, title="Lớp 3A2 - Tháng 9/2026")
    assert first.getvalue() == second.getvalue()
    assert PdfReader(first).metadata.title == "Lớp 3A2 - Tháng 9/2026"


def test_no_notices_gives_a_valid_one_page_pdf() -> None:
    out = io.BytesIO()
    assert render_notices([], out) == 0
    assert len(PdfReader(out).pages) == 1


def test_unknown_layout_is_rejected(make_notice: Callable[..., Notice]) -> None:
    with pytest.raises(ValueError, match="layout"):
        render_notices([make_notice()], io.BytesIO(), layout="letter")


@needs_poppler
@pytest.mark.parametrize("layout", ["a5x2", "a4"])
def test_a_partly_paid_notice_reads_total_paid_credit_and_due(
    layout: str, make_notice: Callable[..., Notice], tmp_path: Path
) -> None:
    notice = make_notice(paid_vnd=400_000, credit_vnd=100_000,
                         amount_in_words="Bảy trăm năm mươi nghìn đồng")
    assert notice.due_vnd == 750_000
    text = " ".join(page_text(render([notice], layout, tmp_path), 1).split())
    for expected in ("Tổng cộng 1.250.000 đ", "Đã nộp 400.000 đ",
                     "Trừ tiền nộp thừa trước đó 100.000 đ", "Còn phải nộp 750.000 đ",
                     "Số tiền còn phải nộp bằng chữ: Bảy trăm năm mươi nghìn đồng",
                     "Số tiền: 750.000 đ"):
        assert expected in text, expected
    # The rows under the lines read top to bottom in that order.
    order = [text.index(label) for label in ("Tổng cộng", "Đã nộp", "Trừ tiền", "Còn phải nộp")]
    assert order == sorted(order)


def test_a_notice_that_does_not_add_up_is_refused(make_notice: Callable[..., Notice]) -> None:
    with pytest.raises(ValueError, match="add up"):
        make_notice(total_vnd=750_000)
    with pytest.raises(ValueError, match="negative"):
        make_notice(paid_vnd=1_000_000, credit_vnd=300_000)


def test_notice_is_frozen(make_notice: Callable[..., Notice]) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_notice().total_vnd = 1  # type: ignore[misc]


@needs_poppler
@pytest.mark.parametrize("layout", ["a5x2", "a4"])
def test_shared_forms_follow_each_notices_school_and_bank(
    layout: str, make_notice: Callable[..., Notice], tmp_path: Path
) -> None:
    # Letterheads and payment panels are drawn once and reused; a notice from another school
    # or with another account must get its own.
    first = make_notice()
    second = make_notice(
        school_name="Trường Tiểu học Kim Đồng",
        account_number="0071009999999",
        bank_name="BIDV",
        student_name="Trần Đức Khôi",
    )
    path = render([first, second, first], layout, tmp_path)
    texts = [page_text(path, page) for page in range(1, len(PdfReader(path).pages) + 1)]
    text = "\f".join(texts)
    assert text.count("Trường Tiểu học Kim Đồng") == 1
    assert text.count("Số tài khoản: 0071009999999") == 1
    assert text.count("Ngân hàng: BIDV") == 1
    assert text.count("Trường Tiểu học Lê Quý Đôn") == 2
    assert text.count("Số tài khoản: 0071001234567") == 2
    with path.open("rb") as pdf:
        assert pdf.read().count(b"/Subtype /Form") < 10  # the third notice reused the first's
