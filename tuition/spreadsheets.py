"""CSV and XLSX exports that are safe to open in Excel or Google Sheets.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula there. Names, memos and phone numbers come from rosters and parents, so text is
always written as text: escaped with a leading apostrophe in CSV, typed as a string (and
quote-prefixed) in XLSX.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> object:
    """A value a spreadsheet will show, never run: text that could start a formula gets a
    leading apostrophe; other values pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads the Vietnamese letters right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([inert(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[object]], *,
               widths: Sequence[float] | None = None) -> bytes:
    """One sheet, written row by row (write-only mode): text as text, whole numbers with
    thousands separators, dates as dd/mm/yyyy; a frozen, filterable header row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    for index, width in enumerate(widths or (), 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    # One styled prototype per kind of cell; each new cell shares its style. Setting
    # number_format or quotePrefix on every cell costs more than writing the rows.
    def prototype(**style) -> object:
        proto = WriteOnlyCell(sheet, value="")
        for attribute, setting in style.items():
            setattr(proto, attribute, setting)
        return proto._style

    styles = {"quoted": prototype(quotePrefix=True), "date": prototype(number_format="DD/MM/YYYY"),
              "int": prototype(number_format="#,##0")}

    def cell(value: object) -> WriteOnlyCell:
        result = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            # openpyxl takes any string starting with "=" for a formula; typed as a string
            # it stays text, and the quote prefix keeps it text when edited in Excel.
            result.data_type = "s"
            if value.startswith(FORMULA_START):
                result._style = styles["quoted"]
        elif isinstance(value, date):
            result._style = styles["date"]
        elif isinstance(value, int) and not isinstance(value, bool):
            result._style = styles["int"]
        return result

    header = [cell(h) for h in headers]
    for item in header:
        item.font = bold
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([cell(value) for value in row])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
