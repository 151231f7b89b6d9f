"""The printed arrears list (danh sách công nợ), from the report as plain data."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import BinaryIO

from reportlab.lib.colors import HexColor, black
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase.pdfmetrics import stringWidth

from ..core.clock import format_date
from ..core.money import format_vnd
from ..core.periods import PeriodError, parse_period
from .fonts import FONT_BOLD, FONT_REGULAR, register_fonts
from .writer import PdfWriter

_PDF_COLUMNS = (
    # key, title, width (pt), right-aligned
    ("no", "STT", 24, True),
    ("student_code", "Mã HS", 52, False),
    ("student_name", "Họ và tên", 120, False),
    ("class", "Lớp", 34, False),
    ("guardian_name", "Phụ huynh", 104, False),
    ("guardian_phone", "Điện thoại", 62, False),
    ("period", "Kỳ thu", 58, False),
    ("invoice_code", "Mã hóa đơn", 62, False),
    ("total_vnd", "Phải nộp", 62, True),
    ("paid_vnd", "Đã nộp", 62, True),
    ("balance_vnd", "Còn nợ", 62, True),
    ("due_date", "Hạn nộp", 52, False),
    ("days_overdue", "Quá hạn", 40, True),
)
_FONT_SIZE = 8
_ROW = 13.0
_MARGIN = 28.0


def _period(key: str, *, short: bool = True) -> str:
    """A period as people say it ("Tháng 9/2026"); the short form fits the table column."""
    try:
        period = parse_period(key)
    except PeriodError:
        return key
    return period.short_label if short else period.label


def render_arrears(report: dict, out: BinaryIO) -> int:
    """Print the arrears report (as built by services.reports.arrears): landscape A4, the
    header repeated on every page, each page written to ``out`` when full. Returns pages."""
    register_fonts()
    width, height = landscape(A4)
    shade, rule = HexColor("#E8EEF4"), HexColor("#9AA5B1")
    title = f"Danh sách công nợ - {report['school_name']}"
    pdf = PdfWriter(out, (width, height), title=title, creator="tuition")
    period = _period(report["period"], short=False) if report["period"] else "tất cả các kỳ"
    day = format_date(date.fromisoformat(report["today"]))
    bottom = _MARGIN + 14
    pages = 0
    page = None
    y = 0.0

    def fit(text: str, limit: float, font: str) -> str:
        text = unicodedata.normalize("NFC", text)
        if stringWidth(text, font, _FONT_SIZE) <= limit:
            return text
        while text and stringWidth(text + "…", font, _FONT_SIZE) > limit:
            text = text[:-1]
        return text + "…"

    def cells(values: dict, font: str) -> None:
        x = _MARGIN
        for key, _title, col_width, right in _PDF_COLUMNS:
            value = values.get(key, "")
            text = fit(str(value), col_width - 4, font)
            if right:
                page.drawText(x + col_width - 2 - stringWidth(text, font, _FONT_SIZE),
                              y - _ROW + 4, text, font, _FONT_SIZE)
            else:
                page.drawText(x + 2, y - _ROW + 4, text, font, _FONT_SIZE)
            x += col_width

    def finish() -> None:
        nonlocal page, pages
        pages += 1
        page.setFillColor(black)
        page.drawText(width - _MARGIN - 40, _MARGIN, f"Trang {pages}", FONT_REGULAR, 8)
        pdf.add_page(page)
        page = None

    def start() -> None:
        nonlocal page, y
        page = pdf.canvas()
        page.setFillColor(black)
        page.drawText(_MARGIN, height - _MARGIN - 12, "DANH SÁCH CÔNG NỢ", FONT_BOLD, 13)
        page.drawText(_MARGIN, height - _MARGIN - 28,
                      unicodedata.normalize("NFC", f"{report['school_name']} - Kỳ thu: "
                                                   f"{period} - Tính đến ngày {day}"),
                      FONT_REGULAR, 9)
        y = height - _MARGIN - 40
        table_width = sum(c[2] for c in _PDF_COLUMNS)
        page.setFillColor(shade)
        page.rect(_MARGIN, y - _ROW - 2, table_width, _ROW + 2, stroke=0, fill=1)
        page.setFillColor(black)
        y -= 1
        cells({key: col_title for key, col_title, _w, _r in _PDF_COLUMNS}, FONT_BOLD)
        y -= _ROW + 1
        page.setStrokeColor(rule)
        page.setLineWidth(0.5)
        page.line(_MARGIN, y, _MARGIN + table_width, y)

    def emit(values: dict, font: str = FONT_REGULAR) -> None:
        nonlocal y
        if page is None or y - _ROW < bottom:
            if page is not None:
                finish()
            start()
        cells(values, font)
        y -= _ROW

    def money(values: dict) -> dict:
        return {k: format_vnd(values[k]) for k in ("total_vnd", "paid_vnd", "balance_vnd")}

    number = 0

    def rows(items: list[dict]) -> None:
        nonlocal number
        for row in items:
            number += 1
            emit({**row, **money(row), "no": number,
                  "due_date": format_date(date.fromisoformat(row["due_date"])),
                  "period": _period(row["period"]),
                  "days_overdue": row["days_overdue"] or ""})

    if report["group_by"] is None:
        rows(report["items"])
    else:
        for group in report["groups"]:
            emit({"student_name": group["label"]}, FONT_BOLD)
            rows(group["items"])
            emit({"student_name": f"Cộng {group['label']}", **money(group)}, FONT_BOLD)
    totals = report["totals"]
    if totals["invoices"] == 0:
        emit({"student_name": "Không có khoản nợ nào."})
    emit({"student_name": f"Tổng cộng: {totals['students']} học sinh", **money(totals)},
         FONT_BOLD)
    finish()
    pdf.close()
    return pages
