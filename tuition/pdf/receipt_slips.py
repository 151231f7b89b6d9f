"""Receipts for an 80 mm receipt printer (máy in hóa đơn nhiệt): one narrow page per receipt,
as long as its content.

The same :class:`~tuition.pdf.receipts.ReceiptDoc` as the A5 receipt, laid out in one column
72 mm wide (what 80 mm printers print), top to bottom: school, title, template symbol, series
and number, who paid for whom, the fee items, what this payment changed, the amount in words,
method and issuer, and the verification QR with its lookup code. A void receipt says so at
the top with its reason; a replacement names the receipt it replaces.

Each receipt is laid out first (a list of drawing operations with their heights), so that the
page can be exactly as long as the paper the printer should feed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import BinaryIO

from reportlab.lib.colors import Color, black, white
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from tuition.pdf.fonts import FONT_BOLD, FONT_ITALIC, FONT_REGULAR, register_fonts
from tuition.pdf.notices import format_vnd
from tuition.pdf.qrcode_fast import qr_rows
from tuition.pdf.saving import save
from tuition.pdf.text import nfc, wrap
from tuition.pdf.text import width as text_width

__all__ = ["PAGE_WIDTH", "render_receipt_slips"]

#: The paper is 80 mm wide; the printable band of such printers is 72 mm.
PAGE_WIDTH = 80 * mm
MARGIN_X = 4 * mm
MARGIN_Y = 5 * mm
CONTENT = PAGE_WIDTH - 2 * MARGIN_X
#: A verification QR that a phone reads from thermal paper.
QR_SIZE = 28 * mm
GREY = Color(0.35, 0.35, 0.35)

_Op = Callable[[Canvas, float], None]


class _Slip:
    """Operations laid out top-down; ``y`` is the distance from the top of the content."""

    def __init__(self) -> None:
        self.ops: list[tuple[float, _Op]] = []
        self.y = 0.0

    def text(self, text: str, font: str = FONT_REGULAR, size: float = 8.0, *,
             align: str = "left", color: Color = black, leading: float = 1.3) -> None:
        for line in wrap(nfc(text), font, size, CONTENT):
            line = _break_long(line, font, size)
            for part in line:
                self.y += size * leading
                self.ops.append((self.y, _text_op(part, font, size, align, color)))

    def pair(self, label: str, value: str, *, font: str = FONT_REGULAR,
             size: float = 8.0) -> None:
        """A label on the left and a value (money) on the right of the same line."""
        label, value = nfc(label), nfc(value)
        value_w = text_width(value, font, size)
        room = CONTENT - value_w - 2 * mm
        lines = wrap(label, font, size, room)
        for index, line in enumerate(lines):
            self.y += size * 1.3
            self.ops.append((self.y, _text_op(line, font, size, "left", black)))
            if index == 0:
                self.ops.append((self.y, _text_op(value, font, size, "right", black)))

    def rule(self, *, dashed: bool = True, gap: float = 2.5) -> None:
        self.y += gap + 1.5  # clear of the descenders of the line above

        def op(c: Canvas, y: float) -> None:
            c.saveState()
            c.setLineWidth(0.6)
            if dashed:
                c.setDash(2, 1.5)
            c.line(MARGIN_X, y, MARGIN_X + CONTENT, y)
            c.restoreState()

        self.ops.append((self.y, op))
        self.y += gap

    def space(self, height: float) -> None:
        self.y += height

    def qr(self, data: str, size: float = QR_SIZE) -> None:
        quiet = 4 * size / len(qr_rows(data))  # the white margin _draw_qr paints around it
        self.y += quiet + size

        def op(c: Canvas, y: float) -> None:
            _draw_qr(c, data, MARGIN_X + (CONTENT - size) / 2, y, size)

        self.ops.append((self.y, op))
        self.y += quiet

    def box(self, lines: list[str], size: float = 8.5) -> None:
        """Text in a framed box (the void notice)."""
        wrapped = [part for text in lines for part in wrap(nfc(text), FONT_BOLD, size,
                                                           CONTENT - 4 * mm)]
        top = self.y + 1.5
        height = len(wrapped) * size * 1.3 + 3 * mm

        def frame(c: Canvas, y: float) -> None:
            c.saveState()
            c.setLineWidth(1.2)
            c.rect(MARGIN_X, y, CONTENT, height, stroke=1, fill=0)
            c.restoreState()

        self.ops.append((top + height, frame))
        self.y = top + 1.5 * mm
        for line in wrapped:
            self.y += size * 1.3
            self.ops.append((self.y, _text_op(line, FONT_BOLD, size, "center", black)))
        self.y = top + height + 1.5


def _break_long(line: str, font: str, size: float) -> list[str]:
    """A single word wider than the line (a long link) is cut into pieces that fit."""
    if text_width(line, font, size) <= CONTENT:
        return [line]
    parts, current = [], ""
    for char in line:
        if current and text_width(current + char, font, size) > CONTENT:
            parts.append(current)
            current = ""
        current += char
    return [*parts, current] if current else parts


def _text_op(text: str, font: str, size: float, align: str, color: Color) -> _Op:
    def op(c: Canvas, y: float) -> None:
        c.setFont(font, size)
        c.setFillColor(color)
        if align == "right":
            c.drawRightString(MARGIN_X + CONTENT, y, text)
        elif align == "center":
            c.drawCentredString(MARGIN_X + CONTENT / 2, y, text)
        else:
            c.drawString(MARGIN_X, y, text)

    return op


_DARK_RUN = re.compile(r"1+")


def _draw_qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    """A QR code, lower-left corner at (x, y), dark modules merged into runs (one path)."""
    rows = qr_rows(data)
    module = size / len(rows)
    c.setFillColor(white)
    c.rect(x - 4 * module, y - 4 * module, size + 8 * module, size + 8 * module, stroke=0,
           fill=1)
    ops = [f"{run.start()} {index} {run.end() - run.start()} 1 re"
           for index, row in enumerate(rows) for run in _DARK_RUN.finditer(row)]
    c.saveState()
    c.setFillColor(black)
    c.translate(x, y + size)
    c.scale(module, -module)
    c.addLiteral(" ".join(ops) + " f")
    c.restoreState()


def _money(amount: int) -> str:
    return f"{format_vnd(amount)} đ"


def _layout(r) -> _Slip:
    s = _Slip()
    s.text(r.school_name, FONT_BOLD, 9.5, align="center")
    if r.school_address:
        s.text(r.school_address, size=7, align="center", color=GREY)
    if r.school_tax_code or r.school_phone:
        s.text(f"MST: {r.school_tax_code}   ĐT: {r.school_phone}", size=7, align="center",
               color=GREY)
    s.rule(dashed=False)
    if r.void:
        s.box(["ĐÃ HỦY", f"Lý do: {r.void_reason}"])
    s.text("BIÊN LAI THU TIỀN", FONT_BOLD, 12, align="center", leading=1.5)
    s.text(f"Ký hiệu mẫu: {r.template_symbol}   Ký hiệu: {r.series}", size=7.5, align="center")
    s.text(f"Số: {r.number_text}", FONT_BOLD, 10, align="center")
    d = r.issued_at
    s.text(f"Ngày {d:%d/%m/%Y} {d:%H:%M}", FONT_ITALIC, 8, align="center")
    if r.replaces:
        s.text(f"Thay thế biên lai {r.replaces}", FONT_BOLD, 8, align="center")
    s.rule()
    s.text(f"Người nộp: {r.payer_name}")
    s.text(f"Học sinh: {r.student_name}", FONT_BOLD)
    s.text(f"Mã HS: {r.student_code}   Lớp: {r.class_name}")
    s.text(f"Kỳ thu: {r.period_label}")
    s.rule()
    for index, line in enumerate(r.lines, start=1):
        s.pair(f"{index}. {line.description}", _money(line.amount_vnd))
    s.rule()
    s.pair("Tổng phải nộp", _money(r.invoice_total_vnd))
    s.pair("Đã nộp trước", _money(r.paid_before_vnd))
    s.space(1)
    s.pair("Nộp lần này", _money(r.amount_vnd), font=FONT_BOLD, size=10)
    s.space(1)
    balance = r.balance_after_vnd
    if balance >= 0:
        s.pair("Còn phải nộp", _money(balance))
    else:
        s.pair("Nộp thừa", _money(-balance))
    s.rule()
    s.text(f"Bằng chữ: {r.amount_in_words}", FONT_ITALIC, 7.5)
    via = f" — {r.bank_name}" if r.bank_name else ""
    s.text(f"Hình thức: {r.method}{via}", size=7.5)
    if r.bank_reference:
        s.text(f"Số chứng từ: {r.bank_reference}", size=7.5)
    s.text(f"Người lập: {r.issued_by}", size=7.5)
    s.rule()
    s.space(2)
    s.qr(r.verify_url)
    s.space(2)
    s.text(f"Mã tra cứu: {r.short_code}", FONT_BOLD, 9, align="center")
    s.text(r.verify_url, size=6.5, align="center", color=GREY)
    s.text("Quét mã QR để kiểm tra biên lai do nhà trường phát hành.", FONT_ITALIC, 6.5,
           align="center", color=GREY)
    return s


def render_receipt_slips(receipts: Iterable, out: BinaryIO) -> int:
    """Draw ``receipts`` (:class:`~tuition.pdf.receipts.ReceiptDoc`) as 80 mm slips into a PDF
    written to ``out``, one page each, each page as long as its receipt; return how many."""
    register_fonts()
    canvas = Canvas(out, pagesize=(PAGE_WIDTH, 100 * mm), pageCompression=1, invariant=1,
                    initialFontName=FONT_REGULAR, initialFontSize=8)
    canvas.setTitle("Biên lai thu tiền (khổ 80 mm)")
    canvas.setCreator("tuition")
    count = 0
    for receipt in receipts:
        slip = _layout(receipt)
        height = slip.y + 2 * MARGIN_Y
        canvas.setPageSize((PAGE_WIDTH, height))
        top = height - MARGIN_Y
        for offset, op in slip.ops:
            op(canvas, top - offset)
        canvas.showPage()
        count += 1
    if count == 0:
        canvas.setFont(FONT_REGULAR, 9)
        canvas.drawString(MARGIN_X, 80 * mm, "Không có biên lai nào.")
        canvas.showPage()
    save(canvas)
    return count
