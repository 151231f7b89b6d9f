"""Fee notices (thông báo thu tiền) as PDF, drawn straight onto a reportlab canvas.

A school prints one notice per student and month, often a whole school at once, so the
renderer streams: it pulls one :class:`Notice` at a time from any iterable, draws it with
absolute coordinates and moves on.  Nothing per notice is kept in Python objects (no platypus
story), and QR codes are emitted as one filled path of merged module runs instead of a
``Drawing`` per code, which is what makes thousands of pages a minute possible.

Layouts:

``"a5x2"``
    two A5-landscape notices on each A4 portrait page, separated by a dashed cut line; the
    payment box with the VietQR code sits in a right-hand column.
``"a4"``
    one notice per A4 portrait page, single column, larger type.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO

from reportlab.lib.colors import Color, HexColor, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from tuition.core.clock import format_date
from tuition.pdf.fonts import FONT_BOLD, FONT_ITALIC, FONT_REGULAR, register_fonts
from tuition.pdf.qrcode_fast import qr_rows
from tuition.pdf.text import fit_size as _fit_size
from tuition.pdf.text import nfc as _nfc
from tuition.pdf.text import width as _width
from tuition.pdf.text import wrap as _wrap
from tuition.pdf.writer import PageCanvas, PdfWriter

__all__ = ["LAYOUTS", "Notice", "NoticeLine", "format_vnd", "render_notices"]

#: Accepted values of ``render_notices(layout=...)``.
LAYOUTS = ("a5x2", "a4")


@dataclass(frozen=True, slots=True)
class NoticeLine:
    """One fee item of a notice; all money in whole dong."""

    description: str
    quantity: int
    unit_price_vnd: int
    reduction_vnd: int
    amount_vnd: int
    #: Shown after the quantity, e.g. "ngày" for meals or "tháng" for tuition; may be "".
    unit_label: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Everything printed on one student's fee notice, already decided by the services."""

    school_name: str
    school_address: str
    school_phone: str
    school_tax_code: str
    student_code: str
    student_name: str
    class_name: str
    #: Printed under the title as is, e.g. "Tháng 9/2026".
    period_label: str
    lines: tuple[NoticeLine, ...]
    #: What the lines add up to ("Tổng cộng").
    total_vnd: int
    #: :attr:`due_vnd` in Vietnamese words; printed as the amount still due.
    amount_in_words: str
    due_date: datetime.date
    bank_name: str
    account_number: str
    account_name: str
    #: The VietQR (EMVCo) string the parent's banking app reads.
    qr_payload: str
    #: The transfer description to type when paying without the QR code.
    memo: str
    invoice_code: str
    #: Where a parent checks that the notice is genuine; printed and drawn as a small QR.
    verify_url: str
    #: Already paid on this invoice by transfer ("Đã nộp").
    paid_vnd: int = 0
    #: Already paid from the student's earlier overpayment ("Trừ tiền nộp thừa").
    credit_vnd: int = 0

    def __post_init__(self) -> None:
        # A notice that does not add up costs the school its parents' trust: refuse to draw it.
        if sum(line.amount_vnd for line in self.lines) != self.total_vnd:
            raise ValueError(f"notice {self.invoice_code}: the lines do not add up to the total")
        if self.paid_vnd < 0 or self.credit_vnd < 0 or self.due_vnd < 0:
            raise ValueError(f"notice {self.invoice_code}: paid, credit or due is negative")

    @property
    def due_vnd(self) -> int:
        """What is still to pay: the total less what was paid; the VietQR asks for this."""
        return self.total_vnd - self.paid_vnd - self.credit_vnd


def format_vnd(amount: int) -> str:
    """Format whole dong the Vietnamese way, with dots between thousands: 1250000 -> "1.250.000"."""
    return f"{amount:,}".replace(",", ".")


def _money(amount: int) -> str:
    """An amount as printed on the notice: "1.250.000 đ"."""
    return f"{format_vnd(amount)} đ"


# --------------------------------------------------------------------------------------------
# Look

NAVY = HexColor("#1F3A5F")
GREY = HexColor("#5A6472")
RULE = HexColor("#C5CFDB")
HEAD_BG = HexColor("#E8EEF6")
PANEL_BG = HexColor("#F5F8FC")
RED = HexColor("#A61B1B")
MEMO_BG = HexColor("#FFF5D6")
MEMO_EDGE = HexColor("#D9A931")
CUT = HexColor("#9AA3AE")

A4_WIDTH, A4_HEIGHT = A4
#: Payment QR edge: 4-4.5 cm is what phone cameras read comfortably from a printed sheet.
PAYMENT_QR_A5 = 43 * mm
PAYMENT_QR_A4 = 50 * mm


# --------------------------------------------------------------------------------------------
# Text helpers











def _fit_lines(
    text: str, font: str, size: float, max_width: float, min_size: float, max_lines: int
) -> tuple[float, list[str]]:
    """Fit ``text`` into at most ``max_lines`` lines of ``max_width``: shrink, then wrap.

    Shrinking first keeps short overflows on one line; only if even ``min_size`` does not fit
    is the text wrapped, and if the wrapped text still needs too many lines (or has a word
    wider than the line) the size keeps going down.  Text is never cut off.
    """
    fitted = _fit_size(text, font, size, max_width, min_size)
    if _width(text, font, fitted) <= max_width or max_lines == 1:
        return _fit_size(text, font, fitted, max_width, 3.0), [text]
    current = size
    while True:
        lines = _wrap(text, font, current, max_width)
        widest = max(_width(line, font, current) for line in lines)
        if len(lines) <= max_lines and widest <= max_width:
            return current, lines
        if current <= 3.0:
            return current, lines
        current = max(3.0, current - 0.25 if current > min_size else current * 0.92)


def _draw(
    c: PageCanvas,
    x: float,
    y: float,
    text: str,
    font: str,
    size: float,
    color: Color = black,
    align: str = "left",
    char_space: float = 0,
) -> None:
    c.setFillColor(color)
    if align != "left":
        width = _width(text, font, size) + char_space * (len(text) - 1)
        x -= width if align == "right" else width / 2
    c.drawText(x, y, text, font, size, char_space)


# --------------------------------------------------------------------------------------------
# QR codes (encoded by tuition.pdf.qrcode_fast)

_DARK_RUN = re.compile(r"1+")


@functools.cache
def _byte_runs(byte_index: int) -> tuple[str, ...]:
    """For each value of the ``byte_index``-th byte of a row: its dark runs as ``re`` operators.

    ``Y`` stands for the row number.  Looking up whole bytes instead of finding runs one by one
    makes the QR path six times cheaper to write; a run that crosses a byte boundary becomes
    two touching rectangles, which one fill paints exactly like one.
    """
    table = []
    for value in range(256):
        runs = _DARK_RUN.finditer(f"{value:08b}")
        table.append(
            "".join(f"{8 * byte_index + r.start()} Y {r.end() - r.start()} 1 re " for r in runs)
        )
    return tuple(table)


def _qr_path(rows: list[str]) -> str:
    """The dark modules of ``rows`` as rectangles in module units, the top row being row 0."""
    count = len(rows)
    row_bytes = (count + 7) // 8
    padding = 8 * row_bytes - count
    tables = [_byte_runs(i) for i in range(row_bytes)]
    path = []
    for row_index, row in enumerate(rows):
        values = (int(row, 2) << padding).to_bytes(row_bytes, "big")
        ops = "".join([table[value] for table, value in zip(tables, values, strict=True)])
        path.append(ops.replace("Y", str(row_index)))
    return "".join(path)


def _draw_qr(c: PageCanvas, data: str, x: float, y: float, size: float) -> None:
    """Draw a QR code for ``data`` with its lower-left corner at (x, y), ``size`` wide.

    A white square with the 4-module quiet zone the standard asks for is painted behind the
    code, so it also reads on a tinted panel.  The dark modules are merged into horizontal
    runs and emitted as a single path in module units: one fill operation keeps viewers from
    drawing hairline seams between adjacent modules and is far cheaper than a reportlab
    ``Drawing``.
    """
    rows = qr_rows(data)
    count = len(rows)
    module = size / count
    quiet = 4 * module
    c.setFillColor(white)
    c.rect(x - quiet, y - quiet, size + 2 * quiet, size + 2 * quiet, stroke=0, fill=1)
    c.saveState()
    c.setFillColor(black)
    # Module coordinates: origin at the top-left module, y growing downwards like the matrix.
    c.translate(x, y + size)
    c.scale(module, -module)
    c.addLiteral(_qr_path(rows) + "f")
    c.restoreState()


# --------------------------------------------------------------------------------------------
# One notice


@dataclass(frozen=True, slots=True)
class _Frame:
    """The rectangle one notice is drawn in, and the type scale for it."""

    x: float
    y: float
    width: float
    height: float
    scale: float
    #: True: payment box as a right-hand column (A5); False: below the table (A4).
    side_panel: bool


def _draw_invoice_code(
    c: PageCanvas, n: Notice, x: float, top: float, width: float, s: float
) -> float:
    """The notice number, top right; returns its width."""
    code_text = f"Số: {_nfc(n.invoice_code)}"
    code_size = 7.5 * s
    _draw(c, x + width, top - 9 * s, code_text, FONT_REGULAR, code_size, GREY, "right")
    return _width(code_text, FONT_REGULAR, code_size)


def _draw_header(
    c: PageCanvas, n: Notice, x: float, top: float, width: float, code_width: float, s: float
) -> float:
    """School name, address, phone and tax code; returns the y below the header rule."""
    name_width = width - code_width - 6 * mm
    size, lines = _fit_lines(_nfc(n.school_name), FONT_BOLD, 12 * s, name_width, 8.5, 2)
    y = top - size
    for line in lines:
        _draw(c, x, y, line, FONT_BOLD, size, NAVY)
        y -= size * 1.18
    small = 7.5 * s
    y -= small * 0.25
    address = f"Địa chỉ: {_nfc(n.school_address)}"
    address_size = _fit_size(address, FONT_REGULAR, small, width, 5.5)
    _draw(c, x, y, address, FONT_REGULAR, address_size, GREY)
    y -= small * 1.3
    contact = f"Điện thoại: {_nfc(n.school_phone)}     Mã số thuế: {_nfc(n.school_tax_code)}"
    contact_size = _fit_size(contact, FONT_REGULAR, small, width, 5.5)
    _draw(c, x, y, contact, FONT_REGULAR, contact_size, GREY)
    y -= small * 0.9
    c.setStrokeColor(NAVY)
    c.setLineWidth(0.9)
    c.line(x, y, x + width, y)
    return y


def _draw_title(c: PageCanvas, n: Notice, center_x: float, top: float, s: float) -> float:
    """Title and period, centred; returns the y below them."""
    y = top - 16 * s
    _draw(c, center_x, y, "THÔNG BÁO THU TIỀN", FONT_BOLD, 14 * s, NAVY, "center")
    y -= 11 * s
    _draw(c, center_x, y, _nfc(n.period_label), FONT_REGULAR, 9.5 * s, black, "center")
    return y - 6 * s


def _draw_student(c: PageCanvas, n: Notice, x: float, top: float, width: float, s: float) -> float:
    """Student name, code and class; returns the y below."""
    label_size = 8.5 * s
    y = top - 10 * s
    label = "Học sinh: "
    _draw(c, x, y, label, FONT_REGULAR, label_size)
    label_width = _width(label, FONT_REGULAR, label_size)
    name = _nfc(n.student_name)
    name_size = _fit_size(name, FONT_BOLD, 10.5 * s, width - label_width, 6)
    _draw(c, x + label_width, y, name, FONT_BOLD, name_size)
    y -= 12 * s
    details = f"Mã học sinh: {_nfc(n.student_code)}       Lớp: {_nfc(n.class_name)}"
    _draw(c, x, y, details, FONT_REGULAR, _fit_size(details, FONT_REGULAR, label_size, width, 5))
    return y - 6 * s


#: (heading, share of the table width, alignment) of the table columns.
_COLUMNS = (
    ("STT", 0.065, "center"),
    ("Khoản thu", 0.0, "left"),  # takes what the others leave
    ("Số lượng", 0.12, "center"),
    ("Đơn giá", 0.155, "right"),
    ("Miễn giảm", 0.145, "right"),
    ("Thành tiền", 0.165, "right"),
)


_CELL_PAD = 1.4 * mm


def _columns(x: float, width: float) -> tuple[list[float], list[float]]:
    """Left edges and widths of the table columns."""
    widths = [share * width for _, share, _ in _COLUMNS]
    widths[1] = width - sum(widths)
    lefts = [x]
    for w in widths[:-1]:
        lefts.append(lefts[-1] + w)
    return lefts, widths


def _draw_table_head(c: PageCanvas, x: float, top: float, width: float, s: float) -> None:
    """The tinted band with the column headings."""
    lefts, widths = _columns(x, width)
    pad = _CELL_PAD
    head_h = 6 * mm * s
    c.setFillColor(HEAD_BG)
    c.rect(x, top - head_h, width, head_h, stroke=0, fill=1)
    head_size = min(7.5 * s, head_h * 0.45)
    baseline = top - head_h / 2 - head_size * 0.35
    for (heading, _, align), left, w in zip(_COLUMNS, lefts, widths, strict=True):
        hsize = _fit_size(heading, FONT_BOLD, head_size, w - 2 * pad, 4)
        _cell(c, heading, left, w, pad, baseline, FONT_BOLD, hsize, NAVY, align)


def _draw_table(
    c: PageCanvas, n: Notice, x: float, top: float, width: float, bottom: float, s: float
) -> float:
    """The fee lines and the total between ``top`` and at most ``bottom``; returns the y below.

    Rows are ``6.3 * s`` mm high when there is room, taller for item names that need two or
    three lines; with many lines the rows get lower and the type smaller so that the table
    always stays inside its frame.
    """
    lefts, widths = _columns(x, width)
    pad = _CELL_PAD
    head_h = 6 * mm * s
    summary = _summary_rows(n)
    summary_h = sum(_SUMMARY_HEIGHT[kind] for _, _, kind in summary) * mm * s
    size = 8 * s
    descriptions = [_nfc(line.description) for line in n.lines]
    # A long item name gets a taller row (up to three lines) when the frame has room; if the
    # rows together are too tall, every row and the type shrink by the same factor.
    inner = widths[1] - 2 * pad
    extra = [min(2, len(_wrap(text, FONT_REGULAR, size, inner)) - 1) for text in descriptions]
    base_h = 6.3 * mm * s
    heights = [base_h + k * size * 1.1 for k in extra]
    room = top - bottom - head_h - summary_h
    if sum(heights) > room:
        shrink = max(room, 0.0) / sum(heights)
        heights = [max(h * shrink, 2.6 * mm) for h in heights]
        size = max(4.0, size * max(shrink, 0.6))

    # The header band is the same on every notice: one shared form.
    c.drawForm(("table head", x, top, width, s), lambda f: _draw_table_head(f, x, top, width, s))

    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    y = top - head_h
    for index, (line, row_h) in enumerate(zip(n.lines, heights, strict=True), start=1):
        row_top = y
        y -= row_h
        baseline = y + row_h / 2 - size * 0.35
        cells = (
            str(index),
            None,
            f"{line.quantity} {_nfc(line.unit_label)}".strip(),
            _money(line.unit_price_vnd),
            _money(line.reduction_vnd) if line.reduction_vnd else "-",
            _money(line.amount_vnd),
        )
        for col, text in enumerate(cells):
            if text is None:
                _draw_description(
                    c, descriptions[index - 1], lefts[1], widths[1], pad, row_top, row_h, size
                )
                continue
            cell_size = _fit_size(text, FONT_REGULAR, size, widths[col] - 2 * pad, 3)
            _cell(
                c,
                text,
                lefts[col],
                widths[col],
                pad,
                baseline,
                FONT_REGULAR,
                cell_size,
                black,
                _COLUMNS[col][2],
            )
        c.line(x, y, x + width, y)

    # The total, what was paid, and what is still due, set off by a darker rule.
    c.setStrokeColor(NAVY)
    c.setLineWidth(0.8)
    c.line(x, y, x + width, y)
    amount_w = widths[-1] + widths[-2] - 2 * pad
    for label, amount, kind in summary:
        row_h = _SUMMARY_HEIGHT[kind] * mm * s
        y -= row_h
        if kind == "due":
            c.setFillColor(HEAD_BG)
            c.rect(lefts[1], y, x + width - lefts[1], row_h, stroke=0, fill=1)
        font, label_size, amount_size, color = {
            "total": (FONT_BOLD, 9 * s, 9.5 * s, NAVY),
            "paid": (FONT_REGULAR, 8 * s, 8.5 * s, black),
            "due": (FONT_BOLD, 9.5 * s, 10.5 * s, NAVY),
        }[kind]
        baseline = y + row_h / 2 - amount_size * 0.35
        _draw(c, lefts[1] + pad, baseline, label, font, label_size, color)
        text = _money(amount)
        fitted = _fit_size(text, font, amount_size, amount_w, 5)
        _draw(c, x + width - pad, baseline, text, font, fitted, color, "right")
        if kind == "total":
            c.setStrokeColor(RULE)
            c.setLineWidth(0.5)
            c.line(lefts[1], y, x + width, y)
    c.setStrokeColor(NAVY)
    c.setLineWidth(0.8)
    c.line(x, y, x + width, y)
    return y


#: Height in mm (before scaling) of the rows under the fee lines, by kind.
_SUMMARY_HEIGHT = {"total": 6.2, "paid": 5.2, "due": 6.8}


def _summary_rows(n: Notice) -> list[tuple[str, int, str]]:
    """(label, amount, kind) under the fee lines: they add up, top to bottom, to what is due."""
    rows = [("Tổng cộng", n.total_vnd, "total"), ("Đã nộp", n.paid_vnd, "paid")]
    if n.credit_vnd:
        rows.append(("Trừ tiền nộp thừa trước đó", n.credit_vnd, "paid"))
    rows.append(("Còn phải nộp", n.due_vnd, "due"))
    return rows


def _cell(
    c: PageCanvas,
    text: str,
    left: float,
    width: float,
    pad: float,
    baseline: float,
    font: str,
    size: float,
    color: Color,
    align: str,
) -> None:
    if align == "right":
        _draw(c, left + width - pad, baseline, text, font, size, color, "right")
    elif align == "center":
        _draw(c, left + width / 2, baseline, text, font, size, color, "center")
    else:
        _draw(c, left + pad, baseline, text, font, size, color)


def _draw_description(
    c: PageCanvas,
    text: str,
    left: float,
    width: float,
    pad: float,
    row_top: float,
    row_h: float,
    size: float,
) -> None:
    """An item name: one line if it fits (shrinking a little), else two lines, else smaller."""
    inner = width - 2 * pad
    max_lines = max(1, min(3, int((row_h - 2) / (size * 1.08))))
    fitted, lines = _fit_lines(text, FONT_REGULAR, size, inner, size * 0.85, max_lines)
    leading = fitted * 1.08
    block = leading * (len(lines) - 1)
    y = row_top - row_h / 2 + block / 2 - fitted * 0.35
    for line in lines:
        _draw(c, left + pad, y, line, FONT_REGULAR, fitted)
        y -= leading


def _draw_words_and_due(
    c: PageCanvas, n: Notice, x: float, top: float, width: float, s: float
) -> float:
    """Amount in words and due date under the table; returns the y below."""
    y = top - 10 * s
    words = f"Số tiền còn phải nộp bằng chữ: {_nfc(n.amount_in_words)}"
    size, lines = _fit_lines(words, FONT_ITALIC, 8 * s, width, 6.5, 2)
    for line in lines:
        _draw(c, x, y, line, FONT_ITALIC, size)
        y -= size * 1.25
    y -= 4 * s
    _draw(c, x, y, f"Hạn nộp: {format_date(n.due_date)}", FONT_BOLD, 9.5 * s, RED)
    return y - 4 * s


def _draw_verify(c: PageCanvas, n: Notice, x: float, bottom: float, width: float, s: float) -> None:
    """The authenticity check: small QR of ``verify_url`` with the link beside it."""
    qr = 13 * mm * s
    qr_x = x + 2 * mm * s  # room for the quiet zone, painted white by _draw_qr
    _draw_qr(c, n.verify_url, qr_x, bottom + 2 * mm * s, qr)
    text_x = qr_x + qr + 4 * mm * s
    text_w = x + width - text_x
    top = bottom + 2 * mm * s + qr
    y = top - 8 * s
    line = f"Kiểm tra thông báo: {n.verify_url}"
    size = _fit_size(line, FONT_BOLD, 7.5 * s, text_w, 5.5)
    if _width(line, FONT_BOLD, size) <= text_w:
        _draw(c, text_x, y, line, FONT_BOLD, size, NAVY)
    else:
        # A URL is never broken inside: label and link go on lines of their own.
        _draw(c, text_x, y, "Kiểm tra thông báo:", FONT_BOLD, 7.5 * s, NAVY)
        y -= 9 * s
        url_size = _fit_size(n.verify_url, FONT_REGULAR, 7.5 * s, text_w, 3)
        _draw(c, text_x, y, n.verify_url, FONT_REGULAR, url_size, NAVY)
    y -= 10 * s
    hint = "Quét mã hoặc mở đường dẫn để xác nhận thông báo do nhà trường phát hành."
    size, lines = _fit_lines(hint, FONT_ITALIC, 6.5 * s, text_w, 5.5, 2)
    for hint_line in lines:
        _draw(c, text_x, y, hint_line, FONT_ITALIC, size, GREY)
        y -= size * 1.2


def _draw_label_value(
    c: PageCanvas,
    x: float,
    y: float,
    width: float,
    label: str,
    value: str,
    s: float,
    value_size: float,
) -> float:
    """``label`` in regular type then ``value`` in bold; returns the baseline of the last line.

    A value that would need tiny type beside its label (a long account holder name) moves to
    its own lines under the label instead.
    """
    label_size = 7.8 * s
    _draw(c, x, y, label, FONT_REGULAR, label_size, GREY)
    label_width = _width(label, FONT_REGULAR, label_size)
    size = _fit_size(value, FONT_BOLD, value_size, width - label_width, 3)
    if size >= 6.5 * s:
        _draw(c, x + label_width, y, value, FONT_BOLD, size)
        return y
    size, lines = _fit_lines(value, FONT_BOLD, value_size, width, 6.5 * s, 2)
    for line in lines:
        y -= size * 1.2
        _draw(c, x, y, line, FONT_BOLD, size)
    return y


def _draw_bank_lines(
    c: PageCanvas, n: Notice, x: float, top: float, width: float, s: float
) -> float:
    """Bank, account, holder, the empty memo box and the warning; returns the box's top.

    Nothing here depends on the student, so panels put it in a shared form and fill the box
    with :func:`_draw_memo`.
    """
    y = top
    y = _draw_label_value(c, x, y, width, "Ngân hàng: ", _nfc(n.bank_name), s, 8.5 * s)
    y -= 12 * s
    y = _draw_label_value(c, x, y, width, "Số tài khoản: ", n.account_number, s, 10.5 * s)
    y -= 12 * s
    y = _draw_label_value(c, x, y, width, "Chủ tài khoản: ", _nfc(n.account_name), s, 8.5 * s)
    y -= 8 * s

    # The memo is what reconciles a hand-typed transfer, so it is boxed and large.  Letter
    # spacing makes the bold sans read like a code (no monospace face ships with the fonts
    # we may embed) without breaking text extraction.
    box_top = y
    box_h = _MEMO_BOX * s
    c.setFillColor(MEMO_BG)
    c.setStrokeColor(MEMO_EDGE)
    c.setLineWidth(0.7)
    c.roundRect(x, y - box_h, width, box_h, 1.5 * mm, stroke=1, fill=1)
    y -= box_h + 9 * s

    warning = "Nhà trường chỉ nhận tiền vào tài khoản trên."
    _draw(c, x, y, warning, FONT_BOLD, _fit_size(warning, FONT_BOLD, 7.8 * s, width, 5), RED)
    y -= 9 * s
    advice = "Không chuyển khoản theo hướng dẫn qua tin nhắn hay cuộc gọi lạ."
    _draw(c, x, y, advice, FONT_REGULAR, _fit_size(advice, FONT_REGULAR, 6.8 * s, width, 4), GREY)
    return box_top


#: The box holds two rows: the amount to transfer and the transfer description.
_MEMO_BOX = 13 * mm


def _draw_memo(c: PageCanvas, n: Notice, x: float, box_top: float, width: float, s: float) -> None:
    """What to type in the banking app, large, inside the box drawn by
    :func:`_draw_bank_lines`: the amount still due, then the transfer description."""
    row_h = _MEMO_BOX * s / 2
    inner = width - 4 * mm
    label_size = 7.5 * s
    for row, (label, value, spacing) in enumerate((
        ("Số tiền: ", _money(n.due_vnd), 0.0),
        ("Nội dung chuyển khoản: ", _nfc(n.memo), 0.6 * s),
    )):
        label_w = _width(label, FONT_REGULAR, label_size)
        size = 11 * s
        value_w = _width(value, FONT_BOLD, size) + spacing * len(value)
        if label_w + value_w > inner:
            size = max(5.0, size * (inner - label_w) / value_w)
            spacing *= size / (11 * s)
        baseline = box_top - row_h * row - row_h / 2 - size * 0.35 + (0.6 if row else -0.6) * s
        _draw(c, x + 2 * mm, baseline, label, FONT_REGULAR, label_size, GREY)
        _draw(c, x + 2 * mm + label_w, baseline, value, FONT_BOLD, size, black,
              char_space=spacing)


def _draw_panel_box(c: PageCanvas, x: float, y: float, width: float, height: float) -> None:
    c.setFillColor(PANEL_BG)
    c.setStrokeColor(NAVY)
    c.setLineWidth(0.8)
    c.roundRect(x, y, width, height, 2.5 * mm, stroke=1, fill=1)


# The payment panels are the same on every notice of a school except for the QR code and the
# memo, so each is drawn as two shared forms, one under the QR code (box and heading) and one
# over it (caption, bank details, memo box, warning: the caption touches the QR's white quiet
# zone).  A form is reused only when its key is equal, so every input of the functions that
# draw it must be in the key; that is the bank fields of the notice and the geometry.


def _draw_side_panel(
    c: PageCanvas, n: Notice, x: float, y: float, width: float, height: float, s: float
) -> None:
    """Payment box as a column: heading, VietQR code, caption, bank details, memo, warning."""
    pad = 3 * mm
    center = x + width / 2
    top = y + height
    # Below the heading, leaving room for the QR's white quiet zone (4 modules, ~4.2 mm).
    qr_top = top - 15 - 5.5 * mm
    cap_y = qr_top - PAYMENT_QR_A5 - 2 * mm - 7
    inner = width - 2 * pad

    def under_qr(f: PageCanvas) -> None:
        _draw_panel_box(f, x, y, width, height)
        _draw(f, center, top - 11, "THANH TOÁN CHUYỂN KHOẢN", FONT_BOLD, 8.5 * s, NAVY, "center")

    def over_qr(f: PageCanvas) -> float:
        caption = "Quét mã VietQR bằng ứng dụng ngân hàng"
        size = _fit_size(caption, FONT_ITALIC, 7.2, inner, 5)
        _draw(f, center, cap_y, caption, FONT_ITALIC, size, GREY, "center")
        return _draw_bank_lines(f, n, x + pad, cap_y - 14, inner, s)

    geometry = (x, y, width, height, s)
    c.drawForm(("side panel under QR", *geometry), under_qr)
    _draw_qr(c, n.qr_payload, center - PAYMENT_QR_A5 / 2, qr_top - PAYMENT_QR_A5, PAYMENT_QR_A5)
    bank = (n.bank_name, n.account_number, n.account_name)
    memo_top = c.drawForm(("side panel over QR", *geometry, *bank), over_qr)
    _draw_memo(c, n, x + pad, memo_top, inner, s)


def _draw_wide_panel(
    c: PageCanvas, n: Notice, x: float, top: float, width: float, s: float
) -> float:
    """Payment box across the page: details on the left, VietQR code on the right."""
    qr = PAYMENT_QR_A4
    pad = 4 * mm
    quiet = 6 * mm  # the QR's white quiet zone plus a little panel around it
    height = qr + 2 * quiet + 14
    y = top - height
    qr_x = x + width - quiet - 4 * mm - qr
    qr_y = y + quiet + 14
    text_x = x + pad
    text_w = qr_x - 4 * mm - 6 * mm - text_x

    def under_qr(f: PageCanvas) -> None:
        _draw_panel_box(f, x, y, width, height)

    def over_qr(f: PageCanvas) -> float:
        caption = "Quét mã VietQR bằng ứng dụng ngân hàng"
        size = _fit_size(caption, FONT_ITALIC, 7.5 * s, qr + 12 * mm, 5)
        _draw(f, qr_x + qr / 2, y + 3 * mm + 2, caption, FONT_ITALIC, size, GREY, "center")
        _draw(f, text_x, top - pad - 10 * s, "THANH TOÁN CHUYỂN KHOẢN", FONT_BOLD, 9 * s, NAVY)
        return _draw_bank_lines(f, n, text_x, top - pad - 28 * s, text_w, s)

    geometry = (x, top, width, s)
    c.drawForm(("wide panel under QR", *geometry), under_qr)
    _draw_qr(c, n.qr_payload, qr_x, qr_y, qr)
    bank = (n.bank_name, n.account_number, n.account_name)
    memo_top = c.drawForm(("wide panel over QR", *geometry, *bank), over_qr)
    _draw_memo(c, n, text_x, memo_top, text_w, s)
    return y


def _draw_notice(c: PageCanvas, n: Notice, frame: _Frame) -> None:
    s = frame.scale
    x, width = frame.x, frame.width
    bottom = frame.y
    top = frame.y + frame.height
    code_width = _draw_invoice_code(c, n, x, top, width, s)

    def letterhead(f: PageCanvas) -> float:
        return _draw_title(f, n, x + width / 2, _draw_header(f, n, x, top, width, code_width, s), s)

    # Every input of the two functions is in the key, so the form is shared exactly when the
    # school and the period are (and the notice numbers are equally wide, as they usually are).
    key = (
        "letterhead",
        n.school_name,
        n.school_address,
        n.school_phone,
        n.school_tax_code,
        n.period_label,
        x,
        top,
        width,
        code_width,
        s,
    )
    y = c.drawForm(key, letterhead)
    verify_h = 17 * mm * s
    if frame.side_panel:
        gap = 5 * mm
        left_w = width * 0.6
        panel_x = x + left_w + gap
        _draw_side_panel(c, n, panel_x, bottom, x + width - panel_x, y - bottom, s)
        col_y = _draw_student(c, n, x, y, left_w, s)
        words_h = 30 * s
        col_y = _draw_table(c, n, x, col_y, left_w, bottom + verify_h + words_h, s)
        _draw_words_and_due(c, n, x, col_y, left_w, s)
        _draw_verify(c, n, x, bottom, left_w, s)
    else:
        y = _draw_student(c, n, x, y, width, s)
        panel_h = PAYMENT_QR_A4 + 12 * mm + 14
        reserve = 30 * s + 6 * mm + panel_h + verify_h + 6 * mm
        y = _draw_table(c, n, x, y, width, bottom + reserve, s)
        y = _draw_words_and_due(c, n, x, y, width, s)
        y = _draw_wide_panel(c, n, x, y - 4 * mm, width, s)
        _draw_verify(c, n, x, y - 6 * mm - verify_h, width, s)


# --------------------------------------------------------------------------------------------
# Pages

_MARGIN_X = 11 * mm
_MARGIN_Y = 9 * mm
_HALF = A4_HEIGHT / 2

_A5_TOP = _Frame(
    _MARGIN_X, _HALF + _MARGIN_Y, A4_WIDTH - 2 * _MARGIN_X, _HALF - 2 * _MARGIN_Y, 1.0, True
)
_A5_BOTTOM = _Frame(
    _MARGIN_X, _MARGIN_Y, A4_WIDTH - 2 * _MARGIN_X, _HALF - 2 * _MARGIN_Y, 1.0, True
)
_A4_FRAME = _Frame(16 * mm, 14 * mm, A4_WIDTH - 32 * mm, A4_HEIGHT - 28 * mm, 1.2, False)


def _draw_cut_line(c: PageCanvas) -> None:
    c.saveState()
    c.setStrokeColor(CUT)
    c.setLineWidth(0.5)
    c.setDash(4, 3)
    c.line(6 * mm, _HALF, A4_WIDTH - 6 * mm, _HALF)
    c.restoreState()


def render_notices(
    notices: Iterable[Notice],
    out: BinaryIO,
    *,
    layout: str = "a5x2",
    title: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Draw ``notices`` into a PDF written to ``out``; return how many were drawn.

    The iterable is consumed lazily, one notice at a time, so a generator over a database
    cursor can feed a whole school.  ``progress`` is called with the running count after each
    notice.  ``title`` becomes the PDF document title.  With no notices at all the PDF holds
    one page saying so, because a PDF without pages is not a valid document.

    Each page is written to ``out`` as soon as it is full (see :mod:`tuition.pdf.writer`), so
    memory does not grow with the number of notices; what reaches ``out`` before the end is
    not yet a valid PDF, and ``out`` only needs a ``write`` method.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    register_fonts()
    pdf = PdfWriter(
        out, A4, title=_nfc(title) if title else "Thông báo thu tiền", creator="tuition"
    )
    count = 0
    page: PageCanvas | None = None
    for notice in notices:
        if layout == "a4":
            page = pdf.canvas()
            _draw_notice(page, notice, _A4_FRAME)
            pdf.add_page(page)
            page = None
        elif page is None:
            page = pdf.canvas()
            _draw_notice(page, notice, _A5_TOP)
        else:
            page.drawForm("cut line", _draw_cut_line)
            _draw_notice(page, notice, _A5_BOTTOM)
            pdf.add_page(page)
            page = None
        count += 1
        if progress is not None:
            progress(count)
    if page is not None:
        pdf.add_page(page)
    if count == 0:
        page = pdf.canvas()
        _draw(page, 20 * mm, A4_HEIGHT - 30 * mm, "Không có thông báo nào.", FONT_REGULAR, 11)
        pdf.add_page(page)
    pdf.close()
    return count
