"""Files to fill in: the columns each importer reads, named as it expects, with one example row.

A template read back by its importer imports as it is (a test holds that), so whatever an
accountant types into it, the headers are never the problem.
"""

from __future__ import annotations

from datetime import date

from ..spreadsheets import csv_bytes, xlsx_bytes
from .adjustments import TEMPLATE_EXAMPLE as ADJUSTMENT_EXAMPLE
from .adjustments import TEMPLATE_HEADERS as ADJUSTMENT_HEADERS
from .roster import TEMPLATE_EXAMPLE as ROSTER_EXAMPLE
from .roster import TEMPLATE_HEADERS as ROSTER_HEADERS

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"

#: kind -> (headers, example row, sheet title, file name without extension, column widths)
_TEMPLATES = {
    "roster": (list(ROSTER_HEADERS.values()), ROSTER_EXAMPLE, "Danh sach hoc sinh",
               "mau-danh-sach-hoc-sinh", (14, 28, 12, 8, 28, 14)),
    "adjustments": (list(ADJUSTMENT_HEADERS.values()), ADJUSTMENT_EXAMPLE, "Dieu chinh",
                    "mau-dieu-chinh", (14, 14, 40)),
}
KINDS = tuple(_TEMPLATES)


def template(kind: str, fmt: str) -> tuple[bytes, str, str]:
    """The template ``kind`` ("roster" or "adjustments") as ``fmt`` ("xlsx" or "csv"):
    (content, media type, download file name)."""
    headers, example, title, name, widths = _TEMPLATES[kind]
    if fmt == "xlsx":
        return xlsx_bytes(title, headers, [example], widths=widths), XLSX_TYPE, f"{name}.xlsx"
    if fmt == "csv":
        # Dates as Vietnamese write them; the CSV has no cell types to carry a date.
        row = [value.strftime("%d/%m/%Y") if isinstance(value, date) else value
               for value in example]
        return csv_bytes(headers, [row]), CSV_TYPE, f"{name}.csv"
    raise ValueError(f"unknown template format {fmt!r}")
