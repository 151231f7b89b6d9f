"""A day of a cash book (sổ quỹ tiền mặt) as PDF, A4 portrait, for signing and filing.

Opening balance, every entry with its document (phiếu thu, phiếu chi, bank slip, voided
receipt), cash in, cash out and the balance after each line, the closing balance, and whether
the day is signed off (by whom, when, the cash counted) or still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from reportlab.lib.colors import HexColor, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from tuition.pdf.fonts import FONT_BOLD, FONT_ITALIC, FONT_REGULAR, register_fonts
from tuition.pdf.notices import format_vnd
from tuition.pdf.saving import save
from tuition.pdf.text import fit_size, nfc

__all__ = ["CashBookDoc", "CashBookRow", "render_cash_book"]

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 14 * mm
CONTENT = PAGE_WIDTH - 2 * MARGIN
NAVY = HexColor("#1F3A5F")
GREY = HexColor("#5A6472")
HEAD_BG = HexColor("#E8EEF6")
ROW = 6.2 * mm
#: (heading, width share, alignment)
COLUMNS = (("STT", 0.05, "center"), ("Số chứng từ", 0.14, "left"), ("Diễn giải", 0.45, "left"),
           ("Thu", 0.12, "right"), ("Chi", 0.12, "right"), ("Tồn", 0.12, "right"))


@dataclass(frozen=True, slots=True)
class CashBookRow:
    document: str
    description: str
    in_vnd: int
    out_vnd: int
    balance_vnd: int


@dataclass(frozen=True, slots=True)
class CashBookDoc:
    school_name: str
    school_address: str
    cashier: str
    day: date
    opening_vnd: int
    rows: tuple[CashBookRow, ...]
    in_vnd: int
    out_vnd: int
    closing_vnd: int
    #: "Đã khóa sổ lúc ... bởi ...; tiền đếm được ..." or "Chưa khóa sổ".
    status: str


def _money(amount: int) -> str:
    return format_vnd(amount) if amount else ""


def _row(c: Canvas, y: float, cells: list[str], *, font: str = FONT_REGULAR,
         size: float = 8.2, fill=None) -> float:
    x = MARGIN
    if fill is not None:
        c.setFillColor(fill)
        c.rect(MARGIN, y - ROW, CONTENT, ROW, stroke=0, fill=1)
    c.setFillColor(black)
    baseline = y - ROW / 2 - size * 0.35
    for (_heading, share, align), text in zip(COLUMNS, cells, strict=True):
        width = CONTENT * share
        text = nfc(text)
        fitted = fit_size(text, font, size, width - 3 * mm, 5)
        c.setFont(font, fitted)
        if align == "right":
            c.drawRightString(x + width - 1.5 * mm, baseline, text)
        elif align == "center":
            c.drawCentredString(x + width / 2, baseline, text)
        else:
            c.drawString(x + 1.5 * mm, baseline, text)
        x += width
    c.setStrokeColor(HexColor("#C5CFDB"))
    c.setLineWidth(0.4)
    c.line(MARGIN, y - ROW, MARGIN + CONTENT, y - ROW)
    return y - ROW


def _header(c: Canvas, doc: CashBookDoc, page: int) -> float:
    top = PAGE_HEIGHT - MARGIN
    c.setFillColor(NAVY)
    c.setFont(FONT_BOLD, 11)
    c.drawString(MARGIN, top - 10, nfc(doc.school_name))
    c.setFillColor(GREY)
    c.setFont(FONT_REGULAR, 8)
    c.drawString(MARGIN, top - 21, nfc(doc.school_address))
    c.drawRightString(MARGIN + CONTENT, top - 10, f"Trang {page}")
    c.setFillColor(NAVY)
    c.setFont(FONT_BOLD, 15)
    c.drawCentredString(PAGE_WIDTH / 2, top - 46, nfc("SỔ QUỸ TIỀN MẶT"))
    c.setFillColor(black)
    c.setFont(FONT_REGULAR, 9.5)
    c.drawCentredString(PAGE_WIDTH / 2, top - 61, nfc(
        f"Ngày {doc.day:%d/%m/%Y} — Người giữ quỹ: {doc.cashier}"))
    y = top - 74
    return _row(c, y, [h for h, _s, _a in COLUMNS], font=FONT_BOLD, fill=HEAD_BG)


def render_cash_book(doc: CashBookDoc, out: BinaryIO) -> int:
    """Draw one day of one cash book into ``out``; returns the number of pages."""
    register_fonts()
    c = Canvas(out, pagesize=A4, pageCompression=1, invariant=1,
               initialFontName=FONT_REGULAR, initialFontSize=9)
    c.setTitle(f"Sổ quỹ tiền mặt {doc.day:%d/%m/%Y}")
    c.setCreator("tuition")
    page = 1
    y = _header(c, doc, page)
    y = _row(c, y, ["", "", "Tồn đầu ngày", "", "", format_vnd(doc.opening_vnd)],
             font=FONT_BOLD)
    for index, row in enumerate(doc.rows, start=1):
        if y - ROW < MARGIN + 45 * mm:
            c.showPage()
            page += 1
            y = _header(c, doc, page)
        y = _row(c, y, [str(index), row.document, row.description, _money(row.in_vnd),
                        _money(row.out_vnd), format_vnd(row.balance_vnd)])
    y = _row(c, y, ["", "", "Cộng phát sinh trong ngày", format_vnd(doc.in_vnd),
                    format_vnd(doc.out_vnd), ""], font=FONT_BOLD)
    y = _row(c, y, ["", "", "Tồn cuối ngày", "", "", format_vnd(doc.closing_vnd)],
             font=FONT_BOLD, fill=HEAD_BG)
    y -= 16
    c.setFont(FONT_ITALIC, 9)
    c.drawString(MARGIN, y, nfc(doc.status))
    y -= 30
    for x, role in ((MARGIN + CONTENT * 0.2, "Người giữ quỹ"), (MARGIN + CONTENT * 0.5, "Kế toán"),
                    (MARGIN + CONTENT * 0.8, "Thủ trưởng đơn vị")):
        c.setFont(FONT_BOLD, 9)
        c.drawCentredString(x, y, nfc(role))
        c.setFont(FONT_ITALIC, 7.5)
        c.drawCentredString(x, y - 11, nfc("(Ký, họ tên)"))
    c.showPage()
    save(c)
    return page
