"""The authority's overview as the Department files it: an Excel workbook and a printed PDF,
each headed with the unit, the period and the date it was made.

Both take the report :func:`tuition.services.authority.overview` built (the caller has checked
who asks). Text cells are written as text, never as formulas (school names are typed by people).
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import BinaryIO

from ..core import clock
from ..core.money import format_vnd
from ..pdf.authority import render_overview
from ..spreadsheets import FORMULA_START
from .authority import AGING, AGING_LABELS

TITLE = "BÁO CÁO TÌNH HÌNH THU PHÍ KHÔNG DÙNG TIỀN MẶT"
FEED_LABELS = {"ok": "", "silent": "Quá 7 ngày không nhận dữ liệu ngân hàng",
               "never": "Chưa nhận dữ liệu ngân hàng"}


def header_lines(report: dict) -> list[str]:
    """The lines under the title: unit, period, day of the figures, filters, date made."""
    today = date.fromisoformat(report["today"])
    lines = [f"Đơn vị: {report['scope']['unit']}",
             f"Kỳ báo cáo: {report['period_label']} (số liệu đến ngày "
             f"{clock.format_date(today)})"]
    narrowed = []
    if report["filters"]["ward"] and not report["scope"]["ward_code"]:
        ward = next((s["ward"] for s in report["schools"]), "")
        narrowed.append(f"xã/phường {ward}" if ward else "một xã/phường")
    if report["filters"]["level"]:
        from ..models.school import LEVELS

        narrowed.append(f"cấp học {LEVELS[report['filters']['level']]}")
    if narrowed:
        lines.append("Chỉ gồm: " + ", ".join(narrowed))
    if report["period"] != report["school_year"]:
        year = report["year_totals"]
        rate = "—" if year["collection_rate"] is None else (
            f"{year['collection_rate'] * 100:.1f}%".replace(".", ","))
        lines.append(f"Cả {report['school_year_label'].lower()}: phải thu "
                     f"{format_vnd(year['expected_vnd'])} đ, đã thu "
                     f"{format_vnd(year['collected_vnd'])} đ ({rate})")
    made = datetime.fromisoformat(report["generated_at"])
    lines.append(f"Ngày lập: {clock.format_date(made)}")
    return lines


def _feed_text(row: dict) -> str:
    if row["last_feed_at"] is None:
        return FEED_LABELS["never"]
    when = clock.format_datetime(datetime.fromisoformat(row["last_feed_at"]))
    return f"{when} ({FEED_LABELS['silent'].lower()})" if row["feed"] == "silent" else when


def _notes(row: dict, filters: dict) -> str:
    notes = []
    if row["low_rate"]:
        notes.append(f"Tỷ lệ thu dưới {filters['min_rate'] * 100:g}%")
    if row["low_cashless"]:
        notes.append(f"Không dùng tiền mặt dưới {filters['min_cashless'] * 100:g}%")
    if row["feed"] != "ok":
        notes.append(FEED_LABELS[row["feed"]])
    return "; ".join(notes)


def _aged(bucket: str):
    return lambda row, _number: row["aging"][bucket]


# --- XLSX --------------------------------------------------------------------------------------

_SCHOOL_COLUMNS = (
    # title, width, value of a row (school or total), format
    ("STT", 6, lambda r, i: i, None),
    ("Mã trường", 12, lambda r, i: r.get("code", ""), None),
    ("Tên trường", 36, lambda r, i: r.get("name", r.get("label", "")), None),
    ("Xã/phường", 22, lambda r, i: r.get("ward", ""), None),
    ("Cấp học", 16, lambda r, i: r.get("level", ""), None),
    ("Số học sinh", 10, lambda r, i: r["students"], "#,##0"),
    ("Phải thu (đ)", 16, lambda r, i: r["expected_vnd"], "#,##0"),
    ("Đã thu (đ)", 16, lambda r, i: r["collected_vnd"], "#,##0"),
    ("Còn phải thu (đ)", 16, lambda r, i: r["outstanding_vnd"], "#,##0"),
    ("Tỷ lệ thu", 9, lambda r, i: r["collection_rate"], "0.0%"),
    *((f"{label} (đ)", 14, _aged(key), "#,##0") for key, label in AGING_LABELS.items()),
    ("Tiền đã nhận (đ)", 16, lambda r, i: r["received_vnd"], "#,##0"),
    ("Tiền mặt (đ)", 14, lambda r, i: r["cash_vnd"], "#,##0"),
    ("Không dùng tiền mặt (đ)", 16, lambda r, i: r["cashless_vnd"], "#,##0"),
    ("Tỷ lệ không dùng tiền mặt", 12, lambda r, i: r["cashless_share"], "0.0%"),
)


def overview_xlsx(report: dict) -> bytes:
    """The workbook: the schools with a total row, then totals per ward, per level and per
    month of the school year; each sheet headed with the unit, the period and the date."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    bold = Font(bold=True)
    warn = PatternFill("solid", fgColor="FDE2E1")

    def put(sheet, row: int, column: int, value, number_format: str | None = None):
        cell = sheet.cell(row=row, column=column)
        if isinstance(value, str):
            cell.value = value
            # openpyxl takes any string starting with "=" for a formula: typed as a string it
            # stays text, and the quote prefix keeps it text when edited in Excel.
            cell.data_type = "s"
            if value.startswith(FORMULA_START):
                cell.quotePrefix = True
        else:
            cell.value = value
            if number_format and value is not None:
                cell.number_format = number_format
        return cell

    def head(sheet, subtitle: str, columns) -> int:
        put(sheet, 1, 1, TITLE).font = Font(bold=True, size=13)
        put(sheet, 2, 1, subtitle).font = bold
        line = 3
        for text in header_lines(report):
            put(sheet, line, 1, text)
            line += 1
        line += 1
        for index, (title, width, *_rest) in enumerate(columns, 1):
            cell = put(sheet, line, index, title)
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = sheet.cell(row=line + 1, column=3)
        return line + 1

    sheet = book.active
    sheet.title = "Tổng hợp"
    columns = (*_SCHOOL_COLUMNS, ("Dữ liệu ngân hàng gần nhất", 24, None, None),
               ("Ghi chú", 40, None, None))
    row = head(sheet, "Theo trường", columns)
    first = row
    for number, school in enumerate(report["schools"], 1):
        for index, (_title, _w, value, fmt) in enumerate(_SCHOOL_COLUMNS, 1):
            cell = put(sheet, row, index, value(school, number), fmt)
            if (_title == "Tỷ lệ thu" and school["low_rate"]) or (
                    _title == "Tỷ lệ không dùng tiền mặt" and school["low_cashless"]):
                cell.fill = warn
        put(sheet, row, len(_SCHOOL_COLUMNS) + 1, _feed_text(school))
        put(sheet, row, len(_SCHOOL_COLUMNS) + 2, _notes(school, report["filters"]))
        row += 1
    sheet.auto_filter.ref = (f"A{first - 1}:{get_column_letter(len(columns))}"
                             f"{max(row - 1, first - 1)}")
    _total_row(sheet, put, row, report["totals"], f"Tổng cộng ({report['totals']['schools']} "
               "trường)", bold)

    for title, groups in (("Theo xã phường", report["by_ward"]),
                          ("Theo cấp học", report["by_level"])):
        sheet = book.create_sheet(title)
        group_columns = (("STT", 6, None, None), (title.replace("Theo ", "").capitalize(), 30,
                                                   None, None), ("Số trường", 9, None, None),
                         *_SCHOOL_COLUMNS[5:])
        row = head(sheet, title, group_columns)
        for number, group in enumerate(groups, 1):
            put(sheet, row, 1, number)
            put(sheet, row, 2, group["label"])
            put(sheet, row, 3, group["schools"])
            for index, (_title, _w, value, fmt) in enumerate(_SCHOOL_COLUMNS[5:], 4):
                put(sheet, row, index, value(group, number), fmt)
            row += 1
        put(sheet, row, 2, "Tổng cộng").font = bold
        put(sheet, row, 3, report["totals"]["schools"]).font = bold
        for index, (_title, _w, value, fmt) in enumerate(_SCHOOL_COLUMNS[5:], 4):
            put(sheet, row, index, value(report["totals"], 0), fmt).font = bold

    sheet = book.create_sheet("Theo tháng")
    month_columns = (("Tháng", 10, None, None), ("Phải thu (đ)", 16, None, None),
                     ("Đã thu (đ)", 16, None, None), ("Tỷ lệ thu", 9, None, None),
                     ("Tiền đã nhận (đ)", 16, None, None), ("Tiền mặt (đ)", 14, None, None),
                     ("Không dùng tiền mặt (đ)", 16, None, None),
                     ("Tỷ lệ không dùng tiền mặt", 12, None, None))
    row = head(sheet, f"Theo tháng của {report['school_year_label'].lower()}", month_columns)
    for month in report["trend"]:
        values = (month["label"], month["expected_vnd"], month["collected_vnd"],
                  month["collection_rate"], month["received_vnd"], month["cash_vnd"],
                  month["cashless_vnd"], month["cashless_share"])
        for index, value in enumerate(values, 1):
            fmt = "0.0%" if index in (4, 8) else "#,##0"
            put(sheet, row, index, value, fmt)
        row += 1

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _total_row(sheet, put, row: int, totals: dict, label: str, bold) -> None:
    put(sheet, row, 3, label).font = bold
    for index, (_title, _w, value, fmt) in enumerate(_SCHOOL_COLUMNS, 1):
        if index > 5:
            put(sheet, row, index, value(totals, 0), fmt).font = bold


# --- PDF ---------------------------------------------------------------------------------------


def overview_pdf(report: dict, out: BinaryIO) -> int:
    """Print the overview: landscape A4, the header on every page. Returns the pages."""
    return render_overview(report, out, title=TITLE, lines=header_lines(report),
                           feed_date=_feed_date, aging=[key for key, _f, _l in AGING])


def _feed_date(row: dict) -> str:
    if row["last_feed_at"] is None:
        return "Chưa có"
    return clock.format_date(datetime.fromisoformat(row["last_feed_at"]))
