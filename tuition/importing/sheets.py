"""The one reader of uploaded spreadsheets (XLSX or CSV): rosters, adjustments, statements.

An upload is hostile until read. Before openpyxl sees an XLSX its zip directory is checked
(how many parts, how big each unpacks, how much it is compressed); while reading, rows (blank
ones too), columns, cells and text are counted and reading stops at the first cap; a CSV's
lines, line length and columns are capped the same way. All of it runs in a child process with
a memory and time budget (:mod:`tuition.importing.sandbox`), so what the checks cannot foresee
still ends in a clear refusal and never in the server's memory. The caps are far above any
school's file: a roster has hundreds of rows and ten columns, a year of statements a few
thousand lines.

Pure: bytes in, :class:`Sheet` out; no database, no Flask.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900

from . import sandbox

#: What a cell can hold once read: openpyxl gives numbers, text, dates and times;
#: CSV gives text. Blank text is turned into ``None`` so both formats agree on "empty".
Cell = str | int | float | bool | datetime | date | time | timedelta | None

_ZIP_MAGIC = b"PK\x03\x04"
# Excel 97-2003 .xls files (and password-protected .xlsx) are OLE compound documents.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_CSV_DELIMITERS = (",", ";", "\t")
#: Lines looked at to tell the CSV delimiter (a bank's preamble may come first).
_SNIFF_RECORDS = 40
_MB = 1024 * 1024
_log = logging.getLogger(__name__)


class ImportFileError(Exception):
    """The uploaded file cannot be read at all (wrong format, corrupt, empty, wrong encoding)."""

    #: HTTP status for the API.
    status = 400

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_vi)
        self.message_vi = message_vi
        self.message_en = message_en

    def __reduce__(self):  # travels back from the child process
        return type(self), (self.message_vi, self.message_en)


class FileTooLarge(ImportFileError):
    """The file, as unpacked or as read, is beyond what any school's file is (HTTP 413)."""

    status = 413


class FileTooSlow(ImportFileError):
    """Reading the file took longer than the budget (HTTP 422)."""

    status = 422


@dataclass(frozen=True)
class Limits:
    """Caps on one upload. Every one is far above a real file and far below harm."""

    #: The upload itself.
    file_bytes: int = 16 * _MB
    #: Sheet rows read, blank ones included (an XLSX row number, a CSV line).
    rows: int = 50_000
    #: Columns a row may use; cells further right must be empty (they are dropped).
    columns: int = 200
    #: Cells read, empty ones included (openpyxl pads a row up to its last cell).
    cells: int = 1_000_000
    #: Characters in one cell, and in all cells together.
    cell_chars: int = 4_000
    text_chars: int = 16_000_000
    #: Characters on one line of a CSV file.
    line_chars: int = 32_768
    #: The XLSX package: parts, size of a part and of all parts unpacked, and the
    #: compression ratio allowed for a part bigger than ``ratio_above`` bytes.
    zip_parts: int = 500
    part_bytes: int = 50 * _MB
    total_bytes: int = 100 * _MB
    ratio: int = 100
    ratio_above: int = 1 * _MB


@dataclass(frozen=True)
class Sheet:
    """The first sheet's non-empty rows, each ``(row number, cells)``.

    Row numbers are 1-based and count every line of the sheet (blank ones too), as Excel
    shows them; for a CSV they count records, so a quoted cell spanning lines is one row.
    """

    rows: list[tuple[int, list[Cell]]]
    #: Day zero of Excel serial numbers in this workbook (1904 for old Mac files).
    epoch: datetime = CALENDAR_WINDOWS_1900


def read_sheet(data: bytes, filename: str, *, limits: Limits = Limits(),
               csv_suffixes: tuple[str, ...] = (".csv",)) -> Sheet:
    """Read the first sheet of an XLSX file, or a CSV file (``csv_suffixes``), guarded.

    Raises :class:`ImportFileError` when the file is not XLSX/CSV, is corrupt or not UTF-8,
    and :class:`FileTooLarge` / :class:`FileTooSlow` when it is beyond the caps or the budget.
    """
    if len(data) > limits.file_bytes:
        raise FileTooLarge(
            f"Tệp lớn hơn {limits.file_bytes // _MB} MB.",
            f"The file is larger than {limits.file_bytes // _MB} MB.",
        )
    kind = _kind(data, filename, csv_suffixes)
    try:
        return sandbox.run(_read, kind, data, limits, expected=(ImportFileError,))
    except sandbox.OutOfTime:
        seconds = sandbox.current_budget().seconds
        raise FileTooSlow(
            f"Đọc tệp mất hơn {seconds:g} giây nên đã dừng. Tệp quá lớn hoặc có cấu trúc bất "
            "thường; hãy lưu lại chỉ phần danh sách rồi tải lên.",
            f"Reading the file took more than {seconds:g} seconds and was stopped. The file is "
            "too large or unusually built; save just the table and upload it again.",
        ) from None
    except sandbox.OutOfMemory:
        raise FileTooLarge(
            "Tệp cần quá nhiều bộ nhớ để đọc (tệp quá lớn khi giải nén hoặc có ô quá dài). "
            "Hãy lưu lại chỉ phần danh sách rồi tải lên.",
            "Reading the file needs too much memory (it unpacks too large or has huge cells). "
            "Save just the table and upload it again.",
        ) from None
    except sandbox.ChildFailed as exc:
        # A file that breaks the reader in a way not foreseen is still just a bad file; the
        # traceback goes to the log, for whoever wants to teach the reader about it.
        _log.warning("reading an uploaded %s failed:\n%s", kind, exc.details)
        raise _corrupt(kind) from None


def _kind(data: bytes, filename: str, csv_suffixes: tuple[str, ...]) -> str:
    name = filename.lower().strip()
    if name.endswith(".xls") or data.startswith(_OLE_MAGIC):
        raise ImportFileError(
            "Tệp Excel 97-2003 (.xls) không được hỗ trợ. Hãy mở tệp trong Excel và chọn "
            "Lưu thành (Save As) → Sổ làm việc Excel (*.xlsx).",
            "Excel 97-2003 (.xls) files are not supported. Open the file in Excel and save it "
            "as an Excel Workbook (*.xlsx).",
        )
    if name.endswith(_XLSX_SUFFIXES):
        if not data.startswith(_ZIP_MAGIC):
            raise _corrupt("xlsx")
        return "xlsx"
    if name.endswith(csv_suffixes):
        if data.startswith(_ZIP_MAGIC):
            # An .xlsx renamed to .csv: reading it as text would produce garbage errors.
            raise ImportFileError(
                "Tệp này là tệp Excel (.xlsx) nhưng có đuôi .csv. Hãy đổi lại đuôi .xlsx "
                "hoặc lưu lại dưới dạng CSV UTF-8.",
                "This is an Excel (.xlsx) file named .csv. Rename it to .xlsx or save it "
                "as CSV UTF-8.",
            )
        return "csv"
    raise ImportFileError(
        "Chỉ nhận tệp Excel (.xlsx) hoặc CSV (.csv).",
        "Only Excel (.xlsx) or CSV (.csv) files are accepted.",
    )


def _read(kind: str, data: bytes, limits: Limits) -> Sheet:
    """In the child process."""
    if kind == "xlsx":
        return _read_xlsx(data, limits)
    return Sheet(_read_csv(data, limits))


# --- Counting what is read -------------------------------------------------------------------


class _Tally:
    """Rows, cells and characters read so far; raises at the first cap passed."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.cells = 0
        self.chars = 0
        self.rows: list[tuple[int, list[Cell]]] = []

    def add(self, number: int, values: tuple | list) -> None:
        limits = self.limits
        if number > limits.rows:
            raise FileTooLarge(
                f"Tệp có hơn {_n(limits.rows)} dòng (kể cả dòng trống). Hãy xoá các dòng thừa "
                "hoặc chia thành nhiều tệp.",
                f"The file has more than {limits.rows:,} rows (blank ones included). Delete "
                "the extra rows or split the file.",
            )
        self.cells += len(values)
        if self.cells > limits.cells:
            raise FileTooLarge(
                f"Tệp có quá nhiều ô (hơn {_n(limits.cells)}, kể cả ô trống). Hãy lưu lại chỉ "
                "phần danh sách rồi tải lên.",
                f"The file has too many cells (over {limits.cells:,}, empty ones included). "
                "Save just the table and upload it again.",
            )
        if len(values) > limits.columns:
            extra = next((i for i in range(limits.columns, len(values))
                          if not _blank(values[i])), None)
            if extra is not None:
                raise FileTooLarge(
                    f"Dòng {number} có dữ liệu ở cột {get_column_letter(extra + 1)} (cột thứ "
                    f"{extra + 1}); tệp chỉ được có tối đa {limits.columns} cột.",
                    f"Row {number} has data in column {get_column_letter(extra + 1)} (column "
                    f"{extra + 1}); a file may have at most {limits.columns} columns.",
                )
            values = values[:limits.columns]
        cells: list[Cell] = []
        for index, value in enumerate(values):
            if isinstance(value, str):
                if not value.strip():
                    value = None
                else:
                    if len(value) > limits.cell_chars:
                        raise FileTooLarge(
                            f"Ô {get_column_letter(index + 1)}{number} dài {_n(len(value))} ký "
                            f"tự; mỗi ô tối đa {_n(limits.cell_chars)} ký tự.",
                            f"Cell {get_column_letter(index + 1)}{number} holds "
                            f"{len(value):,} characters; a cell may hold at most "
                            f"{limits.cell_chars:,}.",
                        )
                    self.chars += len(value)
            cells.append(value)
        if self.chars > limits.text_chars:
            raise FileTooLarge(
                f"Tệp có quá nhiều chữ (hơn {_n(limits.text_chars)} ký tự).",
                f"The file holds too much text (over {limits.text_chars:,} characters).",
            )
        if any(cell is not None for cell in cells):
            self.rows.append((number, cells))


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _n(number: int) -> str:
    """12345 -> "12.345", as Vietnamese write numbers."""
    return f"{number:,}".replace(",", ".")


def _megabytes(size: int) -> str:
    """1572864 -> "1,5", as Vietnamese write decimals."""
    return f"{size / _MB:,.1f}".replace(",", " ").replace(".", ",")


# --- XLSX ------------------------------------------------------------------------------------


def _read_xlsx(data: bytes, limits: Limits) -> Sheet:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise _corrupt("xlsx") from exc
    _inspect_package(archive, limits)

    from openpyxl import load_workbook  # in the child only: CSV never needs it

    try:
        # Files from other programs often lack default styles and openpyxl warns; noise here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    # openpyxl reports a malformed package with whatever its zip/XML layers raise
    # (BadZipFile, KeyError for a missing part, XML parse errors, ValueError...);
    # for an uploaded file they all mean the same thing to the accountant.
    except Exception as exc:
        raise _corrupt_or_out_of_memory(exc) from exc
    tally = _Tally(limits)
    try:
        if not workbook.worksheets:
            raise _corrupt("xlsx")
        sheet = workbook.worksheets[0]
        # Some generators write a wrong <dimension>; read-only mode would trust it and
        # silently drop rows. Forgetting it makes openpyxl read every row present.
        sheet.reset_dimensions()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                tally.add(number, values)
        return Sheet(tally.rows, workbook.epoch)
    except ImportFileError:
        raise
    except Exception as exc:
        # Sheet XML is parsed lazily, so a damaged sheet only shows up while iterating.
        raise _corrupt_or_out_of_memory(exc) from exc
    finally:
        workbook.close()


def _inspect_package(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse a package that unpacks to far more than a spreadsheet, before parsing any of it.

    The sizes come from the zip directory; zipfile stops a part at its declared size (and fails
    its CRC), so a part cannot unpack to more than the directory says.
    """
    parts = archive.infolist()
    if len(parts) > limits.zip_parts:
        raise FileTooLarge(
            f"Tệp Excel có {_n(len(parts))} phần bên trong (một bảng tính bình thường có vài "
            "chục); đây không phải danh sách bình thường.",
            f"The Excel file holds {len(parts):,} parts (a normal workbook has a few dozen); "
            "it is not a normal list.",
        )
    total = 0
    for part in parts:
        total += part.file_size
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > limits.part_bytes or (
            part.file_size > limits.ratio_above and ratio > limits.ratio
        ):
            raise FileTooLarge(
                f"Tệp Excel có một phần giải nén ra {_megabytes(part.file_size)} MB từ "
                f"{_megabytes(part.compress_size)} MB; đây không phải danh sách bình thường. "
                "Hãy lưu lại chỉ phần danh sách rồi tải lên.",
                f"A part of the Excel file unpacks to {part.file_size / _MB:,.1f} MB from "
                f"{part.compress_size / _MB:,.1f} MB; it is not a normal list. Save just the "
                "table and upload it again.",
            )
        if total > limits.total_bytes:
            raise FileTooLarge(
                f"Tệp Excel giải nén ra hơn {limits.total_bytes // _MB} MB; đây không phải "
                "danh sách bình thường.",
                f"The Excel file unpacks to more than {limits.total_bytes // _MB} MB; it is "
                "not a normal list.",
            )


# --- CSV -------------------------------------------------------------------------------------


def _read_csv(data: bytes, limits: Limits) -> list[tuple[int, list[Cell]]]:
    """Non-empty records, with the row number Excel would show for each."""
    text = _decode_csv(data)
    lines = max(text.count("\n"), text.count("\r")) + 1
    if lines > limits.rows + 1:  # + 1: the empty "line" after a final line break
        raise FileTooLarge(
            f"Tệp có {_n(lines)} dòng (kể cả dòng trống); tối đa {_n(limits.rows)}. Hãy xoá "
            "các dòng thừa hoặc chia thành nhiều tệp.",
            f"The file has {lines:,} lines (blank ones included); at most {limits.rows:,}. "
            "Delete the extra lines or split the file.",
        )
    # Anchored at line starts, so the search is linear in the text.
    if long := re.search(f"^[^\r\n]{{{limits.line_chars + 1}}}", text, re.MULTILINE):
        number = len(re.findall(r"\r\n|\r|\n", text[:long.start()])) + 1
        raise FileTooLarge(
            f"Dòng {number} của tệp dài hơn {_n(limits.line_chars)} ký tự; đây không phải "
            "danh sách bình thường.",
            f"Line {number} of the file is longer than {limits.line_chars:,} characters; it "
            "is not a normal list.",
        )
    # A quoted cell may span lines; none may exceed a cell's cap (a missing closing quote
    # would otherwise swallow the rest of the file into one cell).
    csv.field_size_limit(limits.cell_chars)
    delimiter = _sniff_delimiter(text)
    tally = _Tally(limits)
    number = 0
    try:
        # Numbering records (not physical lines) matches Excel, where a quoted cell
        # spanning several lines still occupies one row.
        for number, record in enumerate(
                csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            tally.add(number, record)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise FileTooLarge(
                f"Một ô ở dòng {number + 1} dài hơn {_n(limits.cell_chars)} ký tự (có thể "
                "thiếu dấu ngoặc kép đóng).",
                f"A cell on row {number + 1} is longer than {limits.cell_chars:,} characters "
                "(perhaps a closing quote is missing).",
            ) from exc
        raise ImportFileError(
            f"Tệp CSV bị lỗi định dạng ở dòng {number + 1}: {exc}.",
            f"The CSV file is malformed at row {number + 1}: {exc}.",
        ) from exc
    return tally.rows


def _decode_csv(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or BOM-marked UTF-16; refuse anything else.

    Guessing a legacy code page (cp1258, TCVN3, VNI) would silently turn names into
    mojibake that then gets imported, so a non-UTF-8 file is rejected with instructions.
    """
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            # Excel's "Unicode Text" export; the BOM makes the encoding certain.
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8() from exc
    if "\x00" in text:
        # Not text at all (or UTF-16 without its mark); PostgreSQL cannot store NUL either.
        raise _not_utf8()
    return text


def _sniff_delimiter(text: str) -> str:
    """The delimiter on which the first lines agree best.

    Excel uses ";" when the Windows list separator is ";" (Vietnamese regional settings,
    where "," is the decimal mark) and "," otherwise; tab comes from "Unicode Text". For each
    candidate, the most common number of fields (two or more) among the first non-empty
    records is found; the candidate that most records agree on wins, then the one that gives
    more fields. A bank's title lines above the table and unquoted "1,250,000" amounts in a
    ";" file do not mislead it: the header and every line of the table agree on ";".
    """
    best, best_score = ",", (0, 0)
    for delimiter in _CSV_DELIMITERS:
        counts: Counter[int] = Counter()
        try:
            records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            seen = 0
            for record in records:
                if any(cell.strip() for cell in record):
                    seen += 1
                    if len(record) > 1:
                        counts[len(record)] += 1
                    if seen >= _SNIFF_RECORDS:
                        break
        except csv.Error:
            pass  # this delimiter reads the file as malformed: it scores what it got
        if counts:
            fields, agreeing = max(counts.items(), key=lambda item: (item[1], item[0]))
            score = (agreeing, fields)
            if score > best_score:
                best, best_score = delimiter, score
    return best


# --- Messages --------------------------------------------------------------------------------


def _corrupt_or_out_of_memory(exc: Exception) -> Exception:
    """What to raise for an exception out of openpyxl: the memory budget running out (the
    XML parser says so in its own words) is not a damaged file."""
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower() or (
            "memory allocation failed" in str(exc).lower()):
        return MemoryError()
    return _corrupt("xlsx")


def _corrupt(kind: str) -> ImportFileError:
    if kind == "csv":
        return ImportFileError("Không đọc được tệp CSV.", "The CSV file cannot be read.")
    return ImportFileError(
        "Không đọc được tệp Excel: tệp bị hỏng hoặc không phải định dạng .xlsx.",
        "The Excel file cannot be read: it is damaged or not in .xlsx format.",
    )


def _not_utf8() -> ImportFileError:
    return ImportFileError(
        'Tệp CSV không dùng bảng mã UTF-8 nên tiếng Việt sẽ bị lỗi font. Trong Excel, hãy '
        'chọn Lưu thành (Save As) → "CSV UTF-8 (Comma delimited) (*.csv)" rồi tải lên lại, '
        "hoặc tải lên tệp .xlsx.",
        'The CSV file is not UTF-8 encoded. In Excel, use Save As → "CSV UTF-8 (Comma '
        'delimited) (*.csv)" and upload again, or upload the .xlsx file.',
    )


__all__ = ["Cell", "FileTooLarge", "FileTooSlow", "ImportFileError", "Limits", "Sheet",
           "read_sheet"]
