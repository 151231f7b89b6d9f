"""Receipts (biên lai thu tiền) as PDF, one A5 portrait page each, drawn straight on a canvas.

Receipts are printed one at a time when a payment arrives and in bulk for a class or a day,
so :func:`render_receipts` streams like the fee notices do: it pulls one :class:`ReceiptDoc`
at a time, draws it with absolute coordinates, finishes the page and forgets it.

A5 portrait because a receipt reads top to bottom: who issued it and under which number, who
paid for whom, the fee items, what this payment changed, and how to check it is genuine.

What a receipt carries follows Nghị định 123/2020/NĐ-CP, Điều 32: template symbol (ký hiệu
mẫu), series (ký hiệu) and a number of at most seven digits.  A voided receipt keeps its
number and says so on every copy (a diagonal "ĐÃ HỦY" stamp and the reason under the
header); its replacement names it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from reportlab.lib.colors import Color, HexColor, black, white
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFontFace
from reportlab.pdfgen.canvas import Canvas

from tuition.pdf.fonts import FONT_BOLD, FONT_ITALIC, FONT_REGULAR, register_fonts
from tuition.pdf.notices import format_vnd
from tuition.pdf.qrcode_fast import qr_rows
from tuition.pdf.saving import save
from tuition.pdf.text import fit_size as _fit_size
from tuition.pdf.text import nfc as _nfc
from tuition.pdf.text import width as _width
from tuition.pdf.text import wrap as _wrap

__all__ = ["LAYOUTS", "ReceiptDoc", "ReceiptLine", "render_receipts"]

#: Accepted values of ``render_receipts(layout=...)``: A5 pages, or 80 mm receipt-printer
#: slips (:mod:`tuition.pdf.receipt_slips`).
LAYOUTS = ("a5", "80mm")

#: The number (số) of a receipt has at most seven digits (Nghị định 123/2020, Điều 32).
MAX_NUMBER = 9_999_999


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """One fee item of the invoice the receipt is for; money in whole dong."""

    description: str
    amount_vnd: int


@dataclass(frozen=True, slots=True)
class ReceiptDoc:
    """Everything printed on one receipt, already decided by the services."""

    school_name: str
    school_address: str
    school_tax_code: str
    school_phone: str
    #: Ký hiệu mẫu: kind of receipt, number of copies, template number, e.g. "01BLTT-001".
    template_symbol: str
    #: Ký hiệu: letters and the year's last two digits, e.g. "AA-26".
    series: str
    #: Số: counts up inside the series; printed with seven digits, "0000042".
    number: int
    issued_at: datetime
    payer_name: str
    student_name: str
    student_code: str
    class_name: str
    #: Printed as is after "Kỳ thu: ", e.g. "Tháng 9/2026".
    period_label: str
    #: The fee items of the invoice and their amounts.
    lines: tuple[ReceiptLine, ...]
    invoice_total_vnd: int
    #: Paid on this invoice by earlier receipts.
    paid_before_vnd: int
    #: What this receipt acknowledges.
    amount_vnd: int
    #: Left to pay after this receipt; negative when the parent paid more than was due.
    balance_after_vnd: int
    #: ``amount_vnd`` in Vietnamese words, e.g. "Bảy trăm năm mươi nghìn đồng".
    amount_in_words: str
    #: "Chuyển khoản" (or "Tiền mặt"; then bank name and reference may be empty).
    method: str
    bank_name: str
    #: The bank's reference of the transfer (mã giao dịch).
    bank_reference: str
    #: "Tự động" or the name of the person who issued it.
    issued_by: str
    #: Where anyone holding the receipt checks it; printed and drawn as a QR code.
    verify_url: str
    #: Short lookup code printed next to the link, for typing in by hand.
    short_code: str
    void: bool
    void_reason: str | None
    #: "<series> / <number>" of the voided receipt this one replaces, e.g. "AA-26 / 0000041".
    replaces: str | None

    def __post_init__(self) -> None:
        if not 1 <= self.number <= MAX_NUMBER:
            raise ValueError(f"receipt number {self.number} is not 1 to seven digits")
        if self.void and not (self.void_reason or "").strip():
            raise ValueError("a void receipt must say why it was voided")

    @property
    def number_text(self) -> str:
        """The number as printed: seven digits, "0000042"."""
        return f"{self.number:07d}"


# --------------------------------------------------------------------------------------------
# Look (the colours of the fee notices, so that a school's papers belong together)

NAVY = HexColor("#1F3A5F")
GREY = HexColor("#5A6472")
RULE = HexColor("#C5CFDB")
HEAD_BG = HexColor("#E8EEF6")
PAID_BG = HexColor("#EEF4EA")
PAID_EDGE = HexColor("#7FA36B")
RED = HexColor("#A61B1B")
VOID_BG = HexColor("#FCECEC")
STAMP_ALPHA = 0.16

PAGE_WIDTH, PAGE_HEIGHT = A5
MARGIN_X = 12 * mm
MARGIN_TOP = 10 * mm
MARGIN_BOTTOM = 9 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
#: The verification QR: about 2 cm reads from paper with any phone.
VERIFY_QR = 21 * mm


# --------------------------------------------------------------------------------------------
# Text helpers




def _normalised(r: ReceiptDoc) -> ReceiptDoc:
    """The receipt with every text field in NFC, so the drawing code need not think of it."""
    changes: dict[str, object] = {
        field.name: _nfc(value)
        for field in dataclasses.fields(r)
        if isinstance(value := getattr(r, field.name), str)
    }
    changes["lines"] = tuple(
        ReceiptLine(_nfc(line.description), line.amount_vnd) for line in r.lines
    )
    return dataclasses.replace(r, **changes)


def _money(amount: int) -> str:
    return f"{format_vnd(amount)} đ"









def _fit_lines(
    text: str, font: str, size: float, max_width: float, max_lines: int
) -> tuple[float, list[str]]:
    """Wrap ``text`` into at most ``max_lines`` lines, making the type smaller if it must."""
    while True:
        lines = _wrap(text, font, size, max_width)
        widest = max(_width(line, font, size) for line in lines)
        if (len(lines) <= max_lines and widest <= max_width) or size <= 4:
            return size, lines
        size = max(4.0, size - 0.25)


def _draw(
    c: Canvas,
    x: float,
    y: float,
    text: str,
    font: str,
    size: float,
    color: Color = black,
    align: str = "left",
) -> None:
    c.setFont(font, size)
    c.setFillColor(color)
    if align == "right":
        c.drawRightString(x, y, text)
    elif align == "center":
        c.drawCentredString(x, y, text)
    else:
        c.drawString(x, y, text)


def _draw_label_value(
    c: Canvas,
    x: float,
    y: float,
    width: float,
    label: str,
    value: str,
    size: float,
    value_font: str = FONT_BOLD,
    value_size: float | None = None,
) -> None:
    """``label`` in grey regular type, then ``value``, shrunk if needed to stay on the line."""
    _draw(c, x, y, label, FONT_REGULAR, size, GREY)
    label_w = _width(label, FONT_REGULAR, size)
    fitted = _fit_size(value, value_font, value_size or size, width - label_w, 4)
    _draw(c, x + label_w, y, value, value_font, fitted)


# --------------------------------------------------------------------------------------------
# Parts of a receipt, top to bottom; each takes the y to start below and returns the next one.


def _draw_header(c: Canvas, r: ReceiptDoc, top: float) -> float:
    """School on the left, template symbol, series and number on the right, then a rule."""
    right = MARGIN_X + CONTENT_WIDTH
    small = 7.5
    # (label, label size, value, value font size, value colour), right-aligned as pairs.
    symbols = (
        ("Ký hiệu mẫu: ", small, r.template_symbol, small, black),
        ("Ký hiệu: ", small, r.series, small, black),
        ("Số: ", 8.5, r.number_text, 11.0, RED),
    )
    widths = [
        (_width(label, FONT_REGULAR, label_size), _width(value, FONT_BOLD, value_size))
        for label, label_size, value, value_size, _ in symbols
    ]
    symbols_w = max(label_w + value_w for label_w, value_w in widths)

    # School first, so that text extraction reads the page from the top left.
    name_w = CONTENT_WIDTH - symbols_w - 6 * mm
    size, lines = _fit_lines(r.school_name, FONT_BOLD, 11, name_w, 2)
    y = top - size
    for line in lines:
        _draw(c, MARGIN_X, y, line, FONT_BOLD, size, NAVY)
        y -= size * 1.2
    for text in (
        f"Địa chỉ: {r.school_address}",
        f"MST: {r.school_tax_code}    Điện thoại: {r.school_phone}",
    ):
        y -= 1
        fitted = _fit_size(text, FONT_REGULAR, small, name_w, 5)
        _draw(c, MARGIN_X, y, text, FONT_REGULAR, fitted, GREY)
        y -= small * 1.35
    school_bottom = y + small * 0.35

    y = top - 9
    for (label, label_size, value, value_size, color), (label_w, value_w) in zip(
        symbols, widths, strict=True
    ):
        if label == "Số: ":
            y -= 3
        _draw(c, right - value_w - label_w, y, label, FONT_REGULAR, label_size, GREY)
        _draw(c, right - value_w, y, value, FONT_BOLD, value_size, color)
        y -= small * 1.45
    y = min(school_bottom, y + small * 1.45 - 5)
    c.setStrokeColor(NAVY)
    c.setLineWidth(0.9)
    c.line(MARGIN_X, y, right, y)
    return y


def _draw_void_notice(c: Canvas, r: ReceiptDoc, top: float) -> float:
    """A red box right under the header: an "ĐÃ HỦY" tag and the reason for the void."""
    tag = "ĐÃ HỦY"
    tag_size = 8.5
    tag_w = _width(tag, FONT_BOLD, tag_size) + 4 * mm
    text = f"Biên lai đã bị hủy. Lý do: {r.void_reason}"
    text_x = MARGIN_X + 2 * mm + tag_w + 2.5 * mm
    inner = MARGIN_X + CONTENT_WIDTH - 2.5 * mm - text_x
    size, lines = _fit_lines(text, FONT_BOLD, 8.5, inner, 2)
    leading = size * 1.25
    box_h = max(leading * len(lines), tag_size * 1.4) + 3.5 * mm
    y = top - 2.5 * mm
    c.setFillColor(VOID_BG)
    c.setStrokeColor(RED)
    c.setLineWidth(0.8)
    c.roundRect(MARGIN_X, y - box_h, CONTENT_WIDTH, box_h, 1.5 * mm, stroke=1, fill=1)
    middle = y - box_h / 2
    tag_h = tag_size * 1.6
    c.setFillColor(RED)
    c.roundRect(MARGIN_X + 2 * mm, middle - tag_h / 2, tag_w, tag_h, 1 * mm, stroke=0, fill=1)
    _draw(
        c,
        MARGIN_X + 2 * mm + tag_w / 2,
        middle - tag_size * 0.35,
        tag,
        FONT_BOLD,
        tag_size,
        white,
        "center",
    )
    baseline = middle + leading * (len(lines) - 1) / 2 - size * 0.35
    for line in lines:
        _draw(c, text_x, baseline, line, FONT_BOLD, size, RED)
        baseline -= leading
    return y - box_h


def _draw_title(c: Canvas, r: ReceiptDoc, top: float) -> float:
    center = PAGE_WIDTH / 2
    y = top - 22
    _draw(c, center, y, "BIÊN LAI THU TIỀN", FONT_BOLD, 16, NAVY, "center")
    y -= 14
    d = r.issued_at
    date = f"Ngày {d:%d} tháng {d:%m} năm {d:%Y}"
    _draw(c, center, y, date, FONT_ITALIC, 9, black, "center")
    if r.replaces:
        y -= 12
        text = f"Thay thế biên lai {r.replaces}"
        _draw(c, center, y, text, FONT_BOLD, 8.5, RED, "center")
    return y - 8


def _draw_parties(c: Canvas, r: ReceiptDoc, top: float) -> float:
    """Payer, student with class and code, and the period."""
    size = 8.5
    step = 13
    y = top - 10
    x, width = MARGIN_X, CONTENT_WIDTH
    _draw_label_value(c, x, y, width, "Họ tên người nộp: ", r.payer_name, size, value_size=9.5)
    y -= step
    student = f"{r.student_name} — Lớp {r.class_name}"
    _draw_label_value(c, x, y, width, "Học sinh: ", student, size, value_size=9.5)
    y -= step
    _draw_label_value(c, x, y, width / 2, "Mã học sinh: ", r.student_code, size, FONT_REGULAR)
    _draw_label_value(c, x + width / 2, y, width / 2, "Kỳ thu: ", r.period_label, size, FONT_BOLD)
    return y - 9


#: (heading, width share, alignment) of the fee table; "Khoản thu" takes what is left.
_COLUMNS = (("STT", 0.08, "center"), ("Khoản thu", 0.0, "left"), ("Số tiền", 0.27, "right"))
_PAD = 1.6 * mm


def _cell(
    c: Canvas,
    text: str,
    left: float,
    width: float,
    y: float,
    font: str,
    size: float,
    color: Color,
    align: str,
) -> None:
    if align == "right":
        _draw(c, left + width - _PAD, y, text, font, size, color, "right")
    elif align == "center":
        _draw(c, left + width / 2, y, text, font, size, color, "center")
    else:
        _draw(c, left + _PAD, y, text, font, size, color)


def _summary_rows(r: ReceiptDoc) -> list[tuple[str, int]]:
    balance = r.balance_after_vnd
    return [
        ("Tổng phải nộp", r.invoice_total_vnd),
        ("Đã nộp trước", r.paid_before_vnd),
        ("Số tiền nộp lần này", r.amount_vnd),
        # An overpayment is shown as what it is, not as a negative debt.
        ("Còn phải nộp", balance) if balance >= 0 else ("Nộp thừa", -balance),
    ]


_HEAD_H = 6 * mm
_ROW_H = 6 * mm
_SUMMARY_H = 5.6 * mm
_PAID_H = 7.6 * mm
_SUMMARY_TOTAL_H = 3 * _SUMMARY_H + _PAID_H + 2


def _draw_amounts(c: Canvas, r: ReceiptDoc, top: float, bottom: float) -> float:
    """Fee items between ``top`` and at most ``bottom``, then the four totals; returns y below.

    Rows are 6 mm high; when an invoice has more items than fit, rows and type shrink together
    so that the table never runs into the payment lines below it.
    """
    x, width = MARGIN_X, CONTENT_WIDTH
    widths = [share * width for _, share, _ in _COLUMNS]
    widths[1] = width - sum(widths)
    lefts = [x, x + widths[0], x + widths[0] + widths[1]]

    count = max(len(r.lines), 1)
    room = top - bottom - _HEAD_H - _SUMMARY_TOTAL_H
    row_h = min(_ROW_H, room / count)
    size = min(8.5, max(4.0, row_h * 0.5))

    c.setFillColor(HEAD_BG)
    c.rect(x, top - _HEAD_H, width, _HEAD_H, stroke=0, fill=1)
    baseline = top - _HEAD_H / 2 - 7.5 * 0.35
    for (heading, _, align), left, w in zip(_COLUMNS, lefts, widths, strict=True):
        _cell(c, heading, left, w, baseline, FONT_BOLD, 7.5, NAVY, align)

    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    y = top - _HEAD_H
    for index, line in enumerate(r.lines, start=1):
        y -= row_h
        baseline = y + row_h / 2 - size * 0.35
        _cell(c, str(index), lefts[0], widths[0], baseline, FONT_REGULAR, size, black, "center")
        desc_size = _fit_size(line.description, FONT_REGULAR, size, widths[1] - 2 * _PAD, 4)
        _cell(
            c,
            line.description,
            lefts[1],
            widths[1],
            baseline,
            FONT_REGULAR,
            desc_size,
            black,
            "left",
        )
        _cell(
            c,
            _money(line.amount_vnd),
            lefts[2],
            widths[2],
            baseline,
            FONT_REGULAR,
            size,
            black,
            "right",
        )
        c.line(x, y, x + width, y)

    c.setStrokeColor(NAVY)
    c.setLineWidth(0.8)
    c.line(x, y, x + width, y)
    label_x = lefts[1]
    for label, amount in _summary_rows(r):
        if label == "Số tiền nộp lần này":
            # What this receipt is about: set apart in a tinted band, larger and bold.
            y -= 1
            c.setFillColor(PAID_BG)
            c.setStrokeColor(PAID_EDGE)
            c.setLineWidth(0.6)
            c.rect(label_x, y - _PAID_H, x + width - label_x, _PAID_H, stroke=1, fill=1)
            y -= _PAID_H
            baseline = y + _PAID_H / 2 - 10.5 * 0.35
            _draw(c, label_x + _PAD, baseline, label, FONT_BOLD, 9.5, NAVY)
            _draw(c, x + width - _PAD, baseline, _money(amount), FONT_BOLD, 10.5, NAVY, "right")
            y -= 1
            continue
        y -= _SUMMARY_H
        baseline = y + _SUMMARY_H / 2 - 8.5 * 0.35
        bold = label == "Tổng phải nộp"
        font = FONT_BOLD if bold else FONT_REGULAR
        _draw(c, label_x + _PAD, baseline, label, font, 8.5, black if bold else GREY)
        _draw(c, x + width - _PAD, baseline, _money(amount), font, 8.5, black, "right")
    return y


def _payment_text(r: ReceiptDoc) -> str:
    via = ", ".join(
        part
        for part in (r.bank_name, f"mã giao dịch {r.bank_reference}" if r.bank_reference else "")
        if part
    )
    return f"Hình thức thanh toán: {r.method}" + (f" — {via}" if via else "")


def _draw_closing(c: Canvas, blocks: list[tuple[str, float, list[str]]], top: float) -> float:
    """Amount in words, payment method and issuer (already fitted); returns the y below."""
    y = top - 4
    for font, size, lines in blocks:
        for line in lines:
            y -= size * 1.35
            _draw(c, MARGIN_X, y, line, font, size)
    return y


def _closing_blocks(r: ReceiptDoc) -> list[tuple[str, float, list[str]]]:
    """The closing lines, wrapped to the page: (font, size, lines) each."""
    blocks = []
    for text, font, size in (
        (f"Bằng chữ: {r.amount_in_words}", FONT_ITALIC, 8.5),
        (_payment_text(r), FONT_REGULAR, 8.5),
        (f"Người lập: {r.issued_by}", FONT_REGULAR, 8.5),
    ):
        fitted, lines = _fit_lines(text, font, size, CONTENT_WIDTH, 2)
        blocks.append((font, fitted, lines))
    return blocks


def _closing_height(blocks: list[tuple[str, float, list[str]]]) -> float:
    return 4 + sum(size * 1.35 * len(lines) for _, size, lines in blocks) + 8


#: Room to sign in; a receipt with many fee items gives up some of it, down to the minimum.
SIGNATURE_SPACE = 15 * mm
SIGNATURE_SPACE_MIN = 9 * mm
#: Headings, hint and names around the space to sign in.
_SIGNATURE_TEXT = 8 + 11 + 9 + 10 + 4


def _signature_space(r: ReceiptDoc, top: float, closing: float) -> float:
    """The signing space that still leaves the fee rows their full height, within limits."""
    table = _HEAD_H + _ROW_H * max(len(r.lines), 1) + _SUMMARY_TOTAL_H
    spare = top - FOOTER_TOP - closing - _SIGNATURE_TEXT - table
    return max(SIGNATURE_SPACE_MIN, min(SIGNATURE_SPACE, spare))


def _draw_signatures(c: Canvas, r: ReceiptDoc, top: float, space: float) -> float:
    """Two columns as on a paper receipt: who paid and who collected, each with ``space`` to
    sign in and the name under it. An automatic receipt names the system as the collector."""
    collector = r.issued_by if r.issued_by and r.issued_by != "Tự động" else (
        "Thu tự động qua chuyển khoản")
    half = CONTENT_WIDTH / 2
    y = top - 8 - 11
    for column, (title, name) in enumerate((("Người nộp tiền", r.payer_name),
                                            ("Người thu tiền", collector))):
        centre = MARGIN_X + half * column + half / 2
        _draw(c, centre, y, title, FONT_BOLD, 9, NAVY, "center")
        _draw(c, centre, y - 10, "(Ký, ghi rõ họ tên)", FONT_ITALIC, 7.5, GREY, "center")
        if name:
            size = _fit_size(name, FONT_BOLD, 9, half - 6 * mm, 5)
            _draw(c, centre, y - 10 - space - 9, name, FONT_BOLD, size, black, "center")
    return top - _SIGNATURE_TEXT - space


_DARK_RUN = re.compile(r"1+")


def _draw_qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    """A QR code of ``data``, lower-left corner at (x, y), ``size`` wide, on a white quiet zone.

    Like the notices' codes: dark modules merged into horizontal runs and filled as one path
    in module units, which is cheap and leaves no hairline seams between modules.
    """
    rows = qr_rows(data)
    module = size / len(rows)
    quiet = 4 * module
    c.setFillColor(white)
    c.rect(x - quiet, y - quiet, size + 2 * quiet, size + 2 * quiet, stroke=0, fill=1)
    ops = [
        f"{run.start()} {row_index} {run.end() - run.start()} 1 re"
        for row_index, row in enumerate(rows)
        for run in _DARK_RUN.finditer(row)
    ]
    c.saveState()
    c.setFillColor(black)
    # Module coordinates: origin at the top-left module, y growing downwards like the matrix.
    c.translate(x, y + size)
    c.scale(module, -module)
    c.addLiteral(" ".join(ops) + " f")
    c.restoreState()


_QUIET = 4 * mm  # room for the white quiet zone that _draw_qr paints around the code
_QR_X = MARGIN_X + _QUIET / 2
_QR_Y = MARGIN_BOTTOM + _QUIET / 2
#: The rule over the verification footer; the rest of the receipt stays above it.
FOOTER_TOP = _QR_Y + VERIFY_QR + _QUIET


def _draw_verify(c: Canvas, r: ReceiptDoc) -> None:
    """QR of the verification link at the foot of the page, link and code beside it."""
    c.setStrokeColor(RULE)
    c.setLineWidth(0.6)
    c.line(MARGIN_X, FOOTER_TOP, MARGIN_X + CONTENT_WIDTH, FOOTER_TOP)
    qr_x, qr_y, quiet = _QR_X, _QR_Y, _QUIET
    _draw_qr(c, r.verify_url, qr_x, qr_y, VERIFY_QR)

    text_x = qr_x + VERIFY_QR + quiet
    text_w = MARGIN_X + CONTENT_WIDTH - text_x
    y = qr_y + VERIFY_QR - 8
    label = "Kiểm tra biên lai: "
    line = label + r.verify_url
    size = _fit_size(line, FONT_REGULAR, 7.5, text_w, 6)
    if _width(line, FONT_REGULAR, size) <= text_w:
        _draw_label_value(c, text_x, y, text_w, label, r.verify_url, size, FONT_REGULAR)
    else:
        # A link is never broken inside: label and link get lines of their own.
        _draw(c, text_x, y, label.strip(), FONT_REGULAR, 7.5, GREY)
        y -= 10
        url_size = _fit_size(r.verify_url, FONT_REGULAR, 7.5, text_w, 3)
        _draw(c, text_x, y, r.verify_url, FONT_REGULAR, url_size)
    y -= 13
    _draw_label_value(c, text_x, y, text_w, "Mã tra cứu: ", r.short_code, 7.5, FONT_BOLD, 10)
    y -= 12
    hint = "Quét mã QR hoặc mở đường dẫn để kiểm tra biên lai do nhà trường phát hành."
    size, lines = _fit_lines(hint, FONT_ITALIC, 6.8, text_w, 2)
    for hint_line in lines:
        _draw(c, text_x, y, hint_line, FONT_ITALIC, size, GREY)
        y -= size * 1.25


# The stamp is drawn from the font's glyph outlines rather than as text.  Text set at an angle
# across the page makes text extractors (poppler's layout mode in particular) split the table
# into columns around the huge letters and scramble the receipt; as a shape it leaves the text
# of the receipt intact, and the words "ĐÃ HỦY" are extractable from the red notice instead.
# reportlab can only turn text into paths with an optional freetype extra, so the few glyphs
# are read from the TrueType ``glyf`` table that reportlab has already loaded.

_ON_CURVE, _X_SHORT, _Y_SHORT, _REPEAT, _X_SAME, _Y_SAME = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
_ARGS_ARE_WORDS, _SCALE, _MORE_COMPONENTS, _XY_SCALE, _TWO_BY_TWO = 0x1, 0x8, 0x20, 0x40, 0x80

_Point = tuple[float, float, bool]
#: (xx, xy, yx, yy, dx, dy): where a glyph's point (x, y) lands, as in a PDF ``cm``.
_Matrix = tuple[float, float, float, float, float, float]


def _glyph_contours(face: TTFontFace, glyf: bytes, glyph: int, m: _Matrix) -> list[list[_Point]]:
    """The contours of ``glyph`` (points and whether each is on the curve), transformed."""
    start, end = face.glyphPos[glyph], face.glyphPos[glyph + 1]
    if end <= start:
        return []  # a space
    (count,) = struct.unpack_from(">h", glyf, start)
    pos = start + 10  # after the bounding box
    if count < 0:
        contours: list[list[_Point]] = []
        while True:
            flags, component = struct.unpack_from(">HH", glyf, pos)
            pos += 4
            fmt = ">hh" if flags & _ARGS_ARE_WORDS else ">bb"
            dx, dy = struct.unpack_from(fmt, glyf, pos)  # Roboto's accents are x/y offsets
            pos += struct.calcsize(fmt)
            xx, xy, yx, yy = 1.0, 0.0, 0.0, 1.0
            if flags & _SCALE:
                xx = yy = struct.unpack_from(">h", glyf, pos)[0] / 16384
                pos += 2
            elif flags & _XY_SCALE:
                xx, yy = (v / 16384 for v in struct.unpack_from(">hh", glyf, pos))
                pos += 4
            elif flags & _TWO_BY_TWO:
                xx, xy, yx, yy = (v / 16384 for v in struct.unpack_from(">hhhh", glyf, pos))
                pos += 8
            inner = (xx, xy, yx, yy, dx, dy)
            contours += _glyph_contours(face, glyf, component, _compose(inner, m))
            if not flags & _MORE_COMPONENTS:
                return contours
    ends = struct.unpack_from(f">{count}H", glyf, pos)
    pos += 2 * count
    (instructions,) = struct.unpack_from(">H", glyf, pos)
    pos += 2 + instructions
    total = ends[-1] + 1 if ends else 0
    flags_list: list[int] = []
    while len(flags_list) < total:
        flag = glyf[pos]
        pos += 1
        repeat = 1
        if flag & _REPEAT:
            repeat += glyf[pos]
            pos += 1
        flags_list += [flag] * repeat
    coordinates: list[list[int]] = []
    for short, same in ((_X_SHORT, _X_SAME), (_Y_SHORT, _Y_SAME)):
        values, value = [], 0
        for flag in flags_list:
            if flag & short:
                value += glyf[pos] if flag & same else -glyf[pos]
                pos += 1
            elif not flag & same:
                value += struct.unpack_from(">h", glyf, pos)[0]
                pos += 2
            values.append(value)
        coordinates.append(values)
    xx, xy, yx, yy, dx, dy = m
    points = [
        (xx * x + yx * y + dx, xy * x + yy * y + dy, bool(flag & _ON_CURVE))
        for x, y, flag in zip(*coordinates, flags_list, strict=True)
    ]
    return [points[a : b + 1] for a, b in zip((0, *(e + 1 for e in ends)), ends, strict=False)]


def _compose(inner: _Matrix, outer: _Matrix) -> _Matrix:
    a1, b1, c1, d1, e1, f1 = inner
    a2, b2, c2, d2, e2, f2 = outer
    return (
        a1 * a2 + b1 * c2,
        a1 * b2 + b1 * d2,
        c1 * a2 + d1 * c2,
        c1 * b2 + d1 * d2,
        e1 * a2 + f1 * c2 + e2,
        e1 * b2 + f1 * d2 + f2,
    )


def _contour_ops(points: list[_Point]) -> list[str]:
    """PDF path operators for one closed TrueType contour (quadratic curves made cubic)."""
    if not any(on for _, _, on in points):
        # Only off-curve points: the curve starts between the first two.
        (x0, y0, _), (x1, y1, _) = points[0], points[1]
        points = [((x0 + x1) / 2, (y0 + y1) / 2, True), *points]
    first = next(i for i, (_, _, on) in enumerate(points) if on)
    points = points[first:] + points[:first]
    cx, cy, _ = points[0]
    ops = [f"{cx:.1f} {cy:.1f} m"]
    control: tuple[float, float] | None = None

    def curve(qx: float, qy: float, x: float, y: float) -> None:
        ops.append(
            f"{cx + 2 / 3 * (qx - cx):.1f} {cy + 2 / 3 * (qy - cy):.1f} "
            f"{x + 2 / 3 * (qx - x):.1f} {y + 2 / 3 * (qy - y):.1f} {x:.1f} {y:.1f} c"
        )

    for x, y, on in [*points[1:], points[0]]:
        if on:
            if control is None:
                ops.append(f"{x:.1f} {y:.1f} l")
            else:
                curve(*control, x, y)
            cx, cy, control = x, y, None
        elif control is None:
            control = (x, y)
        else:
            # Two off-curve points in a row imply an on-curve point halfway between them.
            mx, my = (control[0] + x) / 2, (control[1] + y) / 2
            curve(*control, mx, my)
            cx, cy, control = mx, my, (x, y)
    ops.append("h")
    return ops


@functools.cache
def _text_outline(text: str, font: str) -> tuple[str, float, float]:
    """``text`` as one PDF path in font units: (operators, advance width, cap height)."""
    face = pdfmetrics.getFont(font).face
    glyf = face.get_table("glyf")
    ops: list[str] = []
    x = 0.0
    for char in text:
        glyph = face.charToGlyph[ord(char)]
        for contour in _glyph_contours(face, glyf, glyph, (1, 0, 0, 1, x, 0)):
            ops += _contour_ops(contour)
        x += face.hmetrics[glyph][0]
    cap_height = face.capHeight * face.unitsPerEm / 1000  # reportlab keeps it per mille
    return " ".join(ops), x, cap_height


def _draw_void_stamp(c: Canvas) -> None:
    """ "ĐÃ HỦY" across the page, large, red and see-through, so the text below stays legible."""
    ops, advance, cap_height = _text_outline("ĐÃ HỦY", FONT_BOLD)
    units_per_em = pdfmetrics.getFont(FONT_BOLD).face.unitsPerEm
    angle = math.degrees(math.atan2(PAGE_HEIGHT, PAGE_WIDTH))
    size = min(110.0, 0.62 * math.hypot(PAGE_WIDTH, PAGE_HEIGHT) * units_per_em / advance)
    c.saveState()
    c.setFillColor(RED)
    c.setFillAlpha(STAMP_ALPHA)
    c.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    c.rotate(angle)
    c.scale(size / units_per_em, size / units_per_em)
    c.translate(-advance / 2, -cap_height / 2)
    c.addLiteral(ops + " f")
    c.restoreState()


def _draw_receipt(c: Canvas, r: ReceiptDoc) -> None:
    r = _normalised(r)
    y = _draw_header(c, r, PAGE_HEIGHT - MARGIN_TOP)
    if r.void:
        y = _draw_void_notice(c, r, y)
    y = _draw_title(c, r, y)
    y = _draw_parties(c, r, y)
    blocks = _closing_blocks(r)
    closing = _closing_height(blocks)
    space = _signature_space(r, y, closing)
    y = _draw_amounts(c, r, y, FOOTER_TOP + closing + _SIGNATURE_TEXT + space)
    y = _draw_closing(c, blocks, y)
    _draw_signatures(c, r, y, space)
    _draw_verify(c, r)
    if r.void:
        # Drawn last, over everything, so that no panel can hide it.
        _draw_void_stamp(c)


# --------------------------------------------------------------------------------------------
# The document


def render_receipts(receipts: Iterable[ReceiptDoc], out: BinaryIO, *, layout: str = "a5") -> int:
    """Draw ``receipts`` into a PDF written to ``out``, one A5 page each; return how many.

    The iterable is consumed lazily, one receipt at a time, so a generator over a database
    cursor can feed a whole class or a day.  With no receipts the PDF holds one page saying
    so, because a PDF without pages is not a valid document.

    reportlab keeps each finished page's compressed content stream (a few kilobytes) until
    ``save``; that is the only memory that grows with the number of receipts.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    if layout == "80mm":
        from tuition.pdf.receipt_slips import render_receipt_slips

        return render_receipt_slips(receipts, out)
    register_fonts()
    canvas = Canvas(
        out,
        pagesize=A5,
        pageCompression=1,
        invariant=1,  # same input, same bytes: reprints and tests can compare output
        initialFontName=FONT_REGULAR,  # keeps Helvetica out of the page resources
        initialFontSize=9,
    )
    canvas.setTitle("Biên lai thu tiền")
    canvas.setCreator("tuition")

    count = 0
    for receipt in receipts:
        _draw_receipt(canvas, receipt)
        canvas.showPage()
        count += 1
    if count == 0:
        canvas.setFont(FONT_REGULAR, 11)
        canvas.drawString(MARGIN_X, PAGE_HEIGHT - 30 * mm, "Không có biên lai nào.")
        canvas.showPage()
    save(canvas)
    return count
