"""The printed overview of the education authority (báo cáo tổng hợp thu phí), from the report
as plain data: the schools, then totals per ward, per level and per month."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import BinaryIO

from reportlab.lib.colors import HexColor, black
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase.pdfmetrics import stringWidth

from ..core.clock import to_vn
from ..core.money import format_vnd
from ..core.numbers import format_percent
from .fonts import FONT_BOLD, FONT_ITALIC, FONT_REGULAR, register_fonts
from .writer import PdfWriter

_FONT_SIZE = 7.5
_ROW = 12.5
_MARGIN = 28.0
_SHADE = HexColor("#E8EEF4")
_RULE = HexColor("#9AA5B1")
_WARN = HexColor("#FDE2E1")

#: (title, width in points, right-aligned)
Column = tuple[str, float, bool]

_SCHOOLS: Sequence[Column] = (
    ("STT", 22, True), ("Trường", 136, False), ("Xã/phường", 82, False),
    ("Cấp học", 50, False), ("Số HS", 34, True), ("Phải thu", 66, True),
    ("Đã thu", 66, True), ("Tỷ lệ thu", 40, True), ("Quá hạn", 62, True),
    ("Tiền đã nhận", 62, True), ("Không TM", 62, True), ("Tỷ lệ KTM", 42, True),
    ("Dữ liệu NH", 56, False),
)
_GROUPS: Sequence[Column] = (
    ("STT", 22, True), ("", 190, False), ("Số trường", 44, True), ("Số HS", 44, True),
    ("Phải thu", 74, True), ("Đã thu", 74, True), ("Tỷ lệ thu", 44, True),
    ("Quá hạn", 70, True), ("Tiền đã nhận", 74, True), ("Không TM", 74, True),
    ("Tỷ lệ KTM", 44, True),
)
_MONTHS: Sequence[Column] = (
    ("Tháng", 60, False), ("Phải thu", 90, True), ("Đã thu", 90, True),
    ("Tỷ lệ thu", 56, True), ("Tiền đã nhận", 90, True), ("Tiền mặt", 90, True),
    ("Không TM", 90, True), ("Tỷ lệ KTM", 56, True),
)


def _percent(value: float | None) -> str:
    """The Department's PDF is in Vietnamese: "2,4 %"."""
    return format_percent(value)


def render_overview(report: dict, out: BinaryIO, *, title: str, lines: Sequence[str],
                    feed_date: Callable[[dict], str], aging: Sequence[str]) -> int:
    """Print the overview: landscape A4, the title block on every page, pages written to
    ``out`` as they fill. Returns the number of pages."""
    register_fonts()
    width, height = landscape(A4)
    pdf = PdfWriter(out, (width, height), title=f"{title} - {report['scope']['unit']}",
                    creator="tuition")
    bottom = _MARGIN + 16
    state = {"page": None, "pages": 0, "y": 0.0, "columns": _SCHOOLS, "heading": None}

    def fit(text: str, limit: float, font: str) -> str:
        text = unicodedata.normalize("NFC", text)
        if stringWidth(text, font, _FONT_SIZE) <= limit:
            return text
        while text and stringWidth(text + "…", font, _FONT_SIZE) > limit:
            text = text[:-1]
        return text + "…"

    def cells(values: Sequence[str], font: str, shaded: Sequence[bool] = ()) -> None:
        page, y, x = state["page"], state["y"], _MARGIN
        for index, (_title, col_width, right) in enumerate(state["columns"]):
            if index < len(shaded) and shaded[index]:
                page.setFillColor(_WARN)
                page.rect(x, y - _ROW + 1, col_width, _ROW - 1, stroke=0, fill=1)
                page.setFillColor(black)
            text = fit(str(values[index]) if index < len(values) else "", col_width - 4, font)
            left = x + col_width - 2 - stringWidth(text, font, _FONT_SIZE) if right else x + 2
            page.drawText(left, y - _ROW + 4, text, font, _FONT_SIZE)
            x += col_width

    def finish() -> None:
        state["pages"] += 1
        page = state["page"]
        page.setFillColor(black)
        page.drawText(width - _MARGIN - 40, _MARGIN, f"Trang {state['pages']}", FONT_REGULAR, 8)
        pdf.add_page(page)
        state["page"] = None

    def start() -> None:
        page = state["page"] = pdf.canvas()
        page.setFillColor(black)
        page.drawText(_MARGIN, height - _MARGIN - 12, title, FONT_BOLD, 12)
        y = height - _MARGIN - 26
        for line in lines:
            page.drawText(_MARGIN, y, unicodedata.normalize("NFC", line), FONT_REGULAR, 8.5)
            y -= 11
        state["y"] = y - 4
        if state["heading"]:
            header()

    def header() -> None:
        page, y = state["page"], state["y"]
        if state["heading"][0]:
            page.drawText(_MARGIN, y - 10, state["heading"][0], FONT_BOLD, 9)
            y -= 14
        table_width = sum(c[1] for c in state["columns"])
        page.setFillColor(_SHADE)
        page.rect(_MARGIN, y - _ROW - 1, table_width, _ROW + 1, stroke=0, fill=1)
        page.setFillColor(black)
        state["y"] = y - 1
        titles = [column[0] for column in state["columns"]]
        if state["heading"][1]:
            titles[1] = state["heading"][1]
        cells(titles, FONT_BOLD)
        state["y"] -= _ROW + 1
        page.setStrokeColor(_RULE)
        page.setLineWidth(0.5)
        page.line(_MARGIN, state["y"], _MARGIN + table_width, state["y"])

    def table(heading: str, columns: Sequence[Column], label: str | None = None) -> None:
        state["columns"] = columns
        state["heading"] = (heading, label)
        if state["y"] - 6 * _ROW < bottom:
            finish()
            start()  # draws the new table's header
        else:
            state["y"] -= 8
            header()

    def emit(values: Sequence[str], font: str = FONT_REGULAR,
             shaded: Sequence[bool] = ()) -> None:
        if state["page"] is None or state["y"] - _ROW < bottom:
            if state["page"] is not None:
                finish()
            start()
        cells(values, font, shaded)
        state["y"] -= _ROW

    def note(text: str) -> None:
        """A line across the page, under a table."""
        if state["page"] is None or state["y"] - _ROW < bottom:
            if state["page"] is not None:
                finish()
            start()
        state["page"].drawText(_MARGIN, state["y"] - _ROW + 3, unicodedata.normalize(
            "NFC", text), FONT_ITALIC, _FONT_SIZE)
        state["y"] -= _ROW

    def overdue(row: dict) -> int:
        return sum(row["aging"][key] for key in aging[1:])

    def money(row: dict) -> list[str]:
        return [format_vnd(row["expected_vnd"]), format_vnd(row["collected_vnd"]),
                _percent(row["collection_rate"]), format_vnd(overdue(row)),
                format_vnd(row["received_vnd"]), format_vnd(row["cashless_vnd"]),
                _percent(row["cashless_share"])]

    state["columns"] = _SCHOOLS
    state["heading"] = ("DANH SÁCH TRƯỜNG", None)
    start()
    for number, school in enumerate(report["schools"], 1):
        emit([number, f"{school['name']} ({school['code']})", school["ward"], school["level"],
              format_vnd(school["students"]), *money(school), feed_date(school)],
             shaded=[False] * 7 + [school["low_rate"]] + [False] * 3
             + [school["low_cashless"], school["feed"] != "ok"])
    if not report["schools"]:
        emit(["", "Không có trường nào trong phạm vi đã chọn."])
    totals = report["totals"]
    emit(["", f"Tổng cộng ({totals['schools']} trường)", "", "",
          format_vnd(totals["students"]), *money(totals), ""], FONT_BOLD)
    note(f"Ô tô màu: trường có tỷ lệ thu dưới {report['filters']['min_rate'] * 100:g}% "
         f"({totals['low_rate']} trường), tỷ lệ không dùng tiền mặt (KTM) dưới "
         f"{report['filters']['min_cashless'] * 100:g}% ({totals['low_cashless']} trường), quá "
         f"7 ngày không nhận dữ liệu ngân hàng (NH) ({totals['feed_silent']} trường).")

    for heading, groups, label in (("TỔNG HỢP THEO XÃ/PHƯỜNG", report["by_ward"], "Xã/phường"),
                                   ("TỔNG HỢP THEO CẤP HỌC", report["by_level"], "Cấp học")):
        table(heading, _GROUPS, label)
        for number, group in enumerate(groups, 1):
            emit([number, group["label"], group["schools"], format_vnd(group["students"]),
                  *money(group)])
        emit(["", "Tổng cộng", totals["schools"], format_vnd(totals["students"]),
              *money(totals)], FONT_BOLD)

    table(f"THEO THÁNG CỦA {report['school_year_label'].upper()}", _MONTHS)
    for month in report["trend"]:
        emit([month["label"], format_vnd(month["expected_vnd"]),
              format_vnd(month["collected_vnd"]), _percent(month["collection_rate"]),
              format_vnd(month["received_vnd"]), format_vnd(month["cash_vnd"]),
              format_vnd(month["cashless_vnd"]), _percent(month["cashless_share"])])

    # Signatures, as a filed report has them.
    state["heading"] = None
    if state["y"] - 56 < bottom:
        finish()
        start()
    page, y = state["page"], state["y"] - 16
    made = to_vn(datetime.fromisoformat(report["generated_at"])).date()
    page.drawText(width - _MARGIN - 250, y, f"Ngày {made.day:02d} tháng {made.month:02d} năm "
                  f"{made.year}", FONT_ITALIC, 8.5)
    y -= 14
    for x, role in ((_MARGIN + 60, "NGƯỜI LẬP BIỂU"), (width - _MARGIN - 220, "THỦ TRƯỞNG ĐƠN VỊ")):
        page.drawText(x, y, role, FONT_BOLD, 9)
        page.drawText(x, y - 12, "(Ký, ghi rõ họ tên)", FONT_ITALIC, 8)
    state["y"] = y - 40
    finish()
    pdf.close()
    return state["pages"]
