"""Read the spreadsheets school accountants upload: XLSX or CSV, into one plain shape.

Everything here is pure: bytes in, :class:`Table` out, no database and no Flask, so the
parsers built on top (rosters, adjustments) can be tested with files generated in memory.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900

from .sheets import Cell, FileTooLarge, ImportFileError, Limits, read_sheet

__all__ = ["LIMITS", "MAX_DATA_ROWS", "Cell", "CellError", "FileTooLarge", "HeaderMatch",
           "ImportFileError", "RowCells", "RowError", "RowsInvalid", "Table", "clean_text",
           "header_errors", "headers_in_file", "match_headers", "normalise_header", "read_table",
           "show"]

#: More data rows than any school has; beyond this the upload is a mistake.
MAX_DATA_ROWS = 20_000
#: Caps on reading a roster or adjustment file (see :class:`~.sheets.Limits`).
LIMITS = Limits()

_T = TypeVar("_T")


@dataclass(frozen=True)
class RowError:
    """One problem in one cell (or a missing column), shown to the accountant.

    ``row`` is the spreadsheet row number they see; ``column`` is the header as written in
    the file, or, for a missing column, the header the template uses.
    """

    row: int
    column: str
    message: str
    message_en: str


class CellError(ValueError):
    """One cell's value is unacceptable; the caller turns it into a :class:`RowError`."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_vi)
        self.message_vi = message_vi
        self.message_en = message_en


class RowsInvalid(Exception):
    """Some rows are wrong; nothing may be imported. Carries every error, in file order."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} lỗi trong tệp")
        self.errors = errors


@dataclass(frozen=True)
class Table:
    """A sheet as read: the header row, then the non-empty rows below it.

    Each row is ``(row_number, cells)`` where ``row_number`` is 1-based and counts every
    line of the sheet (blank ones and the header too), so it matches what the accountant
    sees in Excel. ``cells`` always has exactly ``len(headers)`` items.
    """

    headers: list[str]
    header_row: int
    rows: list[tuple[int, list[Cell]]]
    #: Day zero of Excel serial numbers in this workbook (1904 for old Mac files).
    epoch: datetime = CALENDAR_WINDOWS_1900


def read_table(data: bytes, filename: str) -> Table:
    """Read the first sheet of an XLSX file, or a CSV file, into a :class:`Table`.

    The header row is the first non-empty row; fully empty rows are skipped. Reading goes
    through the guarded reader (:func:`~tuition.importing.sheets.read_sheet`). Raises
    :class:`ImportFileError` when the file is not XLSX/CSV, is corrupt, too large, or has no
    data.
    """
    sheet = read_sheet(data, filename, limits=LIMITS)
    return _to_table(sheet.rows, sheet.epoch)


def _to_table(lines: list[tuple[int, list[Cell]]], epoch: datetime) -> Table:
    if not lines:
        raise ImportFileError("Tệp không có dữ liệu.", "The file is empty.")
    if len(lines) > MAX_DATA_ROWS + 1:
        raise FileTooLarge(
            f"Tệp có quá nhiều dòng (tối đa {MAX_DATA_ROWS:,}). Hãy chia thành nhiều tệp.",
            f"The file has too many rows (at most {MAX_DATA_ROWS:,}). Split it into several.",
        )
    header_row, header_cells = lines[0]
    headers = ["" if cell is None else str(cell).strip() for cell in header_cells]
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    rows = [(number, (cells + [None] * width)[:width]) for number, cells in lines[1:]]
    # A row whose only values sit in unnamed columns to the right is noise (totals, notes).
    rows = [(number, cells) for number, cells in rows if any(c is not None for c in cells)]
    if not rows:
        raise ImportFileError(
            f"Tệp chỉ có dòng tiêu đề (dòng {header_row}), không có dòng dữ liệu nào.",
            f"The file has only a header row (row {header_row}) and no data rows.",
        )
    return Table(headers=headers, header_row=header_row, rows=rows, epoch=epoch)


# --- Header matching -------------------------------------------------------------------------

_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise_header(text: str) -> str:
    """Reduce a header to lowercase ASCII words: "Mã HS (*)" and "ma_hs" both give "ma hs".

    Bracketed hints such as "(dd/mm/yyyy)" or "(VNĐ)" are dropped; "đ" is mapped by hand
    because Unicode does not decompose it into "d" plus a mark.
    """
    text = _BRACKETED.sub(" ", text).casefold().replace("đ", "d")
    text = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub(" ", text).strip()


@dataclass(frozen=True)
class HeaderMatch:
    """Which column holds each field."""

    #: Field name -> index into :attr:`Table.headers` (the first matching column).
    columns: dict[str, int]
    #: Required fields that no header matched, in spec order.
    missing: list[str] = field(default_factory=list)
    #: Fields matched by more than one column -> all their indexes; ambiguous, so an error.
    duplicated: dict[str, list[int]] = field(default_factory=dict)


def headers_in_file(table: Table, match: HeaderMatch) -> dict[str, str]:
    """Field name -> the header text as the file writes it, for messages about that column."""
    return {name: table.headers[index] for name, index in match.columns.items()}


def match_headers(
    headers: list[str],
    spec: Mapping[str, Collection[str]],
    required: Collection[str] = (),
) -> HeaderMatch:
    """Find each field of ``spec`` (field -> accepted spellings) among ``headers``.

    Both sides go through :func:`normalise_header`, so spellings may be written naturally
    with diacritics. Headers that match nothing (STT, Ghi chú...) are ignored.
    """
    lookup: dict[str, str] = {}
    for name, spellings in spec.items():
        for spelling in spellings:
            key = normalise_header(spelling)
            if lookup.setdefault(key, name) != name:
                raise ValueError(f"{spelling!r} is accepted for both {lookup[key]} and {name}")
    found: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        name = lookup.get(normalise_header(header))
        if name is not None:
            found.setdefault(name, []).append(index)
    return HeaderMatch(
        columns={name: indexes[0] for name, indexes in found.items()},
        missing=[name for name in spec if name in required and name not in found],
        duplicated={name: indexes for name, indexes in found.items() if len(indexes) > 1},
    )


def header_errors(table: Table, match: HeaderMatch, missing: Collection[str],
                  labels: Mapping[str, tuple[str, str]]) -> list[RowError]:
    """Errors for the header row: each ``missing`` field (named by its Vietnamese and English
    ``labels``, the Vietnamese one being the header the template uses) and each field given
    by several columns (named as the file names them)."""
    row = table.header_row
    errors = [RowError(
        row, labels[name][0],
        f'Thiếu cột "{labels[name][0]}" (hoặc "{labels[name][1]}") ở dòng tiêu đề {row}.',
        f'The "{labels[name][1]}" (or "{labels[name][0]}") column is missing from header row '
        f"{row}.",
    ) for name in missing]
    for indexes in match.duplicated.values():
        names = ", ".join(f'"{table.headers[i]}"' for i in indexes)
        errors.append(RowError(
            row, table.headers[indexes[1]],
            f"Các cột {names} có cùng ý nghĩa; hãy giữ lại một cột.",
            f"Columns {names} mean the same thing; keep only one.",
        ))
    return errors


# --- Cell helpers shared by the parsers ------------------------------------------------------


def clean_text(value: Cell) -> str | None:
    """Text as it should be stored: NFC, single spaces, ``None`` when blank.

    Files saved on macOS often carry decomposed (NFD) Vietnamese; without NFC the same name
    would compare unequal to the one typed in the web form.
    """
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(unicodedata.normalize("NFC", str(value)).split())
    return text or None


def show(value: Cell) -> str:
    """A cell value quoted for an error message, the way the accountant would recognise it."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return f'"{text[:40]}…"' if len(text) > 40 else f'"{text}"'


class RowCells:
    """One data row, parsed field by field; errors are collected, never raised.

    Collecting lets a parser report every bad cell of the file in one pass.
    """

    def __init__(
        self, headers: list[str], number: int, cells: list[Cell], errors: list[RowError]
    ) -> None:
        self.headers = headers
        self.number = number
        self.cells = cells
        self.errors = errors

    def parse(
        self,
        index: int | None,
        parse: Callable[[Cell], _T],
        *,
        required: tuple[str, str] | None = None,
    ) -> _T | None:
        """Parse the cell in column ``index`` (``None``: the optional column is absent).

        ``required`` names the field (Vietnamese, English) for the "missing" message;
        without it a blank cell simply gives ``None``.
        """
        if index is None:
            return None
        return self.parse_value(index, self.cells[index], parse, required=required)

    def parse_value(
        self,
        index: int,
        value: Cell,
        parse: Callable[[Cell], _T],
        *,
        required: tuple[str, str] | None = None,
    ) -> _T | None:
        """Like :meth:`parse` for a value assembled from cells; errors go to column ``index``."""
        if value is None:
            if required is not None:
                label_vi, label_en = required
                self.error(index, f"Thiếu {label_vi.lower()}.", f"{label_en} is missing.")
            return None
        try:
            return parse(value)
        except CellError as exc:
            self.error(index, exc.message_vi, exc.message_en)
            return None

    def error(self, index: int, message_vi: str, message_en: str) -> None:
        """Record an error against column ``index`` of this row."""
        self.errors.append(RowError(self.number, self.headers[index], message_vi, message_en))

