"""Payment vouchers (phiếu chi) as PDF, one A5 portrait page each.

What a voucher carries follows the compulsory form C41-BB as implementations of TT 24/2024 and
TT 107/2017 print it, and the legal minimum of a document (Luật Kế toán 2015, Điều 16): the
unit, the form's code, the voucher's number and date, who receives the money and why, the
amount in figures and in words, how it was paid, and the signatures of the head of the unit,
the chief accountant, the preparer, the cashier and the receiver. The accounts debited and
credited are left for the accountant to write (the service keeps no chart of accounts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from reportlab.lib.colors import HexColor, black
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from tuition.pdf.fonts import FONT_BOLD, FONT_ITALIC, FONT_REGULAR, register_fonts
from tuition.pdf.notices import format_vnd
from tuition.pdf.saving import save
from tuition.pdf.text import fit_size, nfc, width, wrap

__all__ = ["VoucherDoc", "render_vouchers"]

PAGE_WIDTH, PAGE_HEIGHT = A5
MARGIN = 12 * mm
CONTENT = PAGE_WIDTH - 2 * MARGIN
NAVY = HexColor("#1F3A5F")
GREY = HexColor("#5A6472")
RED = HexColor("#A61B1B")


@dataclass(frozen=True, slots=True)
class VoucherDoc:
    school_name: str
    school_address: str
    school_tax_code: str
    #: ``PC26-000012``.
    code: str
    issued_at: datetime
    payee_name: str
    #: Who the payee is to the school (parent of which student, which class).
    payee_address: str
    reason: str
    amount_vnd: int
    amount_in_words: str
    #: "Tiền mặt" or "Chuyển khoản đến tài khoản ... tại ...".
    method: str
    prepared_by: str
    cashier: str
    #: pending / paid / cancelled.
    status: str
    cancel_reason: str | None


def _line(c: Canvas, y: float, label: str, value: str, *, size: float = 9.5,
          bold: bool = False) -> float:
    """``label`` then ``value``, wrapped under itself if long; returns the next baseline."""
    label, value = nfc(label), nfc(value)
    c.setFont(FONT_REGULAR, size)
    c.setFillColor(GREY)
    c.drawString(MARGIN, y, label)
    x = MARGIN + width(label, FONT_REGULAR, size)
    font = FONT_BOLD if bold else FONT_REGULAR
    lines = wrap(value, font, size, MARGIN + CONTENT - x)
    c.setFillColor(black)
    for line in lines:
        c.setFont(font, size)
        c.drawString(x, y, line)
        y -= size * 1.45
    return y - 2


def _draw(c: Canvas, v: VoucherDoc) -> None:
    top = PAGE_HEIGHT - MARGIN
    c.setFillColor(NAVY)
    size = fit_size(nfc(v.school_name), FONT_BOLD, 10.5, CONTENT * 0.6, 7)
    c.setFont(FONT_BOLD, size)
    c.drawString(MARGIN, top - 10, nfc(v.school_name))
    c.setFillColor(GREY)
    c.setFont(FONT_REGULAR, 7.5)
    c.drawString(MARGIN, top - 21, nfc(f"Địa chỉ: {v.school_address}")[:80])
    c.drawString(MARGIN, top - 31, f"MST: {v.school_tax_code}")
    c.setFillColor(black)
    c.setFont(FONT_BOLD, 8)
    c.drawRightString(MARGIN + CONTENT, top - 10, "Mẫu số C41-BB")
    c.setFont(FONT_REGULAR, 8)
    c.drawRightString(MARGIN + CONTENT, top - 21, f"Số: {v.code}")
    c.drawRightString(MARGIN + CONTENT, top - 31, nfc("Nợ: ............  Có: ............"))

    y = top - 68
    c.setFillColor(NAVY)
    c.setFont(FONT_BOLD, 17)
    c.drawCentredString(PAGE_WIDTH / 2, y, nfc("PHIẾU CHI"))
    y -= 15
    d = v.issued_at
    c.setFillColor(black)
    c.setFont(FONT_ITALIC, 9)
    c.drawCentredString(PAGE_WIDTH / 2, y, nfc(f"Ngày {d:%d} tháng {d:%m} năm {d:%Y}"))
    if v.status == "cancelled":
        y -= 14
        c.setFillColor(RED)
        c.setFont(FONT_BOLD, 9)
        c.drawCentredString(PAGE_WIDTH / 2, y, nfc(f"ĐÃ HỦY — {v.cancel_reason or ''}")[:90])
        c.setFillColor(black)
    y -= 26
    y = _line(c, y, "Họ tên người nhận tiền: ", v.payee_name, bold=True)
    y = _line(c, y, "Địa chỉ: ", v.payee_address)
    y = _line(c, y, "Lý do chi: ", v.reason)
    y = _line(c, y, "Số tiền: ", f"{format_vnd(v.amount_vnd)} đồng", size=11, bold=True)
    y = _line(c, y, "Viết bằng chữ: ", v.amount_in_words)
    y = _line(c, y, "Hình thức chi: ", v.method)
    y = _line(c, y, "Kèm theo: ", "........ chứng từ gốc")
    if v.status == "pending":
        y = _line(c, y, "Trạng thái: ", "chờ ngân hàng xác nhận đã chuyển khoản")

    y -= 16
    roles = ("Thủ trưởng đơn vị", "Kế toán trưởng", "Người lập", "Thủ quỹ", "Người nhận tiền")
    names = ("", "", v.prepared_by, v.cashier, v.payee_name)
    column = CONTENT / len(roles)
    for index, (role, name) in enumerate(zip(roles, names, strict=True)):
        x = MARGIN + column * (index + 0.5)
        c.setFont(FONT_BOLD, 7.2)
        c.drawCentredString(x, y, nfc(role))
        c.setFont(FONT_ITALIC, 6)
        c.drawCentredString(x, y - 9, nfc("(Ký, họ tên)"))
        if name:
            c.setFont(FONT_REGULAR, 6.8)
            fitted = fit_size(nfc(name), FONT_REGULAR, 6.8, column - 2, 4.5)
            c.setFont(FONT_REGULAR, fitted)
            c.drawCentredString(x, y - 52, nfc(name))
    y -= 72
    c.setFont(FONT_REGULAR, 8)
    c.drawString(MARGIN, y, nfc("Đã nhận đủ số tiền (viết bằng chữ): "
                                "....................................................."))


def render_vouchers(vouchers: Iterable[VoucherDoc], out: BinaryIO) -> int:
    """Draw ``vouchers`` into a PDF written to ``out``, one A5 page each; return how many."""
    register_fonts()
    canvas = Canvas(out, pagesize=A5, pageCompression=1, invariant=1,
                    initialFontName=FONT_REGULAR, initialFontSize=9)
    canvas.setTitle("Phiếu chi")
    canvas.setCreator("tuition")
    count = 0
    for voucher in vouchers:
        _draw(canvas, voucher)
        canvas.showPage()
        count += 1
    if count == 0:
        canvas.drawString(MARGIN, PAGE_HEIGHT / 2, "Không có phiếu chi nào.")
        canvas.showPage()
    save(canvas)
    return count
