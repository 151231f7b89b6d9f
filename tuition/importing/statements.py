"""Bank statement upload: turn a bank's XLSX/CSV export into :class:`BankNotification` rows.

For schools without an aggregator, a bookkeeper downloads the account statement from the bank's
internet banking and uploads it. Exports differ per bank, so the uploader confirms a
:class:`StatementMapping` (usually pre-filled by :func:`guess_mapping`). No database here.

Ids must be stable: uploading the same statement twice (or an overlapping one) must give the
same ``provider_txn_id`` for the same line, so ingestion's uniqueness constraint drops repeats.
The bank reference is used when there is one; otherwise a hash of the line's content and of its
occurrence index among identical lines (two equal transfers on the same day are two payments).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tuition.core.notifications import BankNotification

#: Statements of a year for a busy account stay well below this; it also caps zip bombs' input.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
#: Bank exports put a preamble (bank name, account, period) above the header row.
HEADER_SEARCH_ROWS = 40

DEFAULT_DATE_FORMATS: tuple[str, ...] = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)

Cell = Any  # str | int | float | datetime | date | None, as openpyxl/csv give them


@dataclass(frozen=True)
class StatementMapping:
    """Which columns (by header text) hold what, and the account the statement belongs to.

    Give either ``amount_column`` (signed: negative is money out) or ``credit_column`` and/or
    ``debit_column``. ``date_format`` is tried first, then ``fallback_date_formats``.
    """

    account_number: str
    date_column: str
    memo_column: str
    amount_column: str | None = None
    credit_column: str | None = None
    debit_column: str | None = None
    reference_column: str | None = None
    date_format: str = "%d/%m/%Y %H:%M:%S"
    fallback_date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    bank_name: str | None = None

    def __post_init__(self) -> None:
        if not self.account_number.strip():
            raise ValueError("account_number is required")
        has_split = bool(self.credit_column or self.debit_column)
        if bool(self.amount_column) == has_split:
            raise ValueError("give either amount_column or credit_column/debit_column")

    def columns(self) -> dict[str, str]:
        """Mapped columns as {field name: header text}, unset ones left out."""
        names = (
            "date_column",
            "memo_column",
            "amount_column",
            "credit_column",
            "debit_column",
            "reference_column",
        )
        return {name: getattr(self, name) for name in names if getattr(self, name)}


@dataclass(frozen=True)
class StatementError:
    """One problem, located for the uploader. ``row`` is the spreadsheet's row number."""

    row: int | None
    column: str | None
    message_vi: str
    message_en: str


class StatementInvalid(ValueError):
    """The statement cannot be imported; ``errors`` lists every problem found, not the first."""

    def __init__(self, errors: Sequence[StatementError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(_describe(error) for error in self.errors))


def _describe(error: StatementError) -> str:
    where = f"row {error.row}" if error.row is not None else "file"
    if error.column:
        where += f", column '{error.column}'"
    return f"{where}: {error.message_en}"


def _file_error(message_vi: str, message_en: str) -> StatementInvalid:
    return StatementInvalid([StatementError(None, None, message_vi, message_en)])


# --------------------------------------------------------------------------- reading files
# TODO: switch to tuition.importing.tabular.read_table once it lands; this reader only exists so
# statements are not blocked on it.


def _read_rows(data: bytes, filename: str) -> list[tuple[int, list[Cell]]]:
    """Every row of the first sheet as (1-based row number, cells)."""
    if len(data) > MAX_FILE_BYTES:
        raise _file_error(
            f"Tệp quá lớn (tối đa {MAX_FILE_BYTES // (1024 * 1024)} MB)",
            f"File too large (at most {MAX_FILE_BYTES // (1024 * 1024)} MB)",
        )
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    if name.endswith((".csv", ".txt")):
        return _read_csv(data)
    raise _file_error(
        "Chỉ nhận tệp .xlsx hoặc .csv (tệp .xls cũ: hãy mở và lưu lại dưới dạng .xlsx)",
        "Only .xlsx or .csv files are accepted (old .xls: open and save it as .xlsx)",
    )


def _read_xlsx(data: bytes) -> list[tuple[int, list[Cell]]]:
    from openpyxl import load_workbook  # imported here: CSV uploads do not need it

    try:
        # Bank exports often lack default styles and openpyxl warns about it; that is noise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises zipfile, KeyError, XML errors... for a broken file
        raise _file_error(
            "Không đọc được tệp Excel", "The Excel file could not be read"
        ) from None
    try:
        sheet = workbook.worksheets[0]
        rows: list[tuple[int, list[Cell]]] = []
        for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            if number > MAX_ROWS:
                raise _file_error(
                    f"Tệp có quá nhiều dòng (tối đa {MAX_ROWS})",
                    f"Too many rows (at most {MAX_ROWS})",
                )
            rows.append((number, list(values)))
        return rows
    finally:
        workbook.close()


def _read_csv(data: bytes) -> list[tuple[int, list[Cell]]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # Excel's "Unicode Text" export
    else:
        encoding = "utf-8-sig"  # strips the BOM Excel writes in "CSV UTF-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise _file_error(
            "Tệp CSV phải được lưu với mã hoá UTF-8 (CSV UTF-8)",
            "The CSV file must be saved as UTF-8 (CSV UTF-8)",
        ) from None
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows: list[tuple[int, list[Cell]]] = []
    try:
        # Row numbers count records, which equals lines unless a memo holds a line break.
        for number, record in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
            if number > MAX_ROWS:
                raise _file_error(
                    f"Tệp có quá nhiều dòng (tối đa {MAX_ROWS})",
                    f"Too many rows (at most {MAX_ROWS})",
                )
            rows.append((number, list(record)))
    except csv.Error as exc:
        raise _file_error("Tệp CSV bị lỗi định dạng", f"Malformed CSV file: {exc}") from None
    return rows


# --------------------------------------------------------------------------- cells


def _is_blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _cell_text(cell: Cell) -> str:
    """Text of a cell; whole floats lose their ".0" (Excel stores reference numbers as floats)."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _header_key(text: Cell) -> str:
    return " ".join(unicodedata.normalize("NFC", _cell_text(text)).casefold().split())


_SPACES_RE = re.compile(r"[\s\u00a0\u202f]+")
_CURRENCY_RE = re.compile(r"(vnd|vnđ|đ|₫)$", re.IGNORECASE)
_GROUPED_RE = re.compile(r"(\d{1,3})(?:([.,' ])\d{3})(?:\2\d{3})*")
_DECIMAL_RE = re.compile(r"(?P<whole>[\d.,' ]+?)[.,](?P<fraction>\d{1,2})")


class _CellProblem(ValueError):
    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


def parse_amount(cell: Cell) -> int | None:
    """Integer dong from a cell, None when blank.

    Accepts thousand separators "1.250.000", "1,250,000", "1 250 000", a sign or parentheses,
    a trailing "VND"/"đ", and an all-zero fraction ("1,250,000.00", as some banks export).
    A real fraction is refused: dong have no subunit, so "1.250,50" means a wrong column.
    """
    if _is_blank(cell):
        return None
    if isinstance(cell, bool):
        raise _CellProblem("Số tiền không hợp lệ", "Invalid amount")
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        # Excel keeps every number as a double; whole values below 2**53 are exact.
        if cell.is_integer() and abs(cell) < 2**53:
            return int(cell)
        raise _CellProblem(
            "Số tiền có phần lẻ; số tiền phải là số đồng nguyên",
            "Amount has a fraction; amounts must be whole dong",
        )
    text = _SPACES_RE.sub(" ", str(cell)).strip()
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    text = _CURRENCY_RE.sub("", text).strip()
    if text and text[0] in "+-":
        negative, text = text[0] == "-", text[1:].strip()
    whole = _whole_digits(text)
    if whole is None:
        raise _CellProblem(f"Số tiền không hợp lệ: '{cell}'", f"Invalid amount: '{cell}'")
    return -whole if negative else whole


def _whole_digits(text: str) -> int | None:
    if text.isdigit() and text.isascii():
        return int(text)
    if _GROUPED_RE.fullmatch(text):
        return int(re.sub(r"[.,' ]", "", text))
    decimal = _DECIMAL_RE.fullmatch(text)
    if decimal:
        whole = _whole_digits(decimal["whole"])
        separator_clash = decimal["whole"].count(text[decimal.start("fraction") - 1])
        if whole is None or separator_clash:
            return None
        if set(decimal["fraction"]) != {"0"}:
            raise _CellProblem(
                "Số tiền có phần lẻ; số tiền phải là số đồng nguyên",
                "Amount has a fraction; amounts must be whole dong",
            )
        return whole
    return None


def parse_date(cell: Cell, formats: Sequence[str]) -> datetime:
    """A naive datetime from a cell, trying ``formats`` in order for text."""
    if isinstance(cell, datetime):
        return cell.replace(tzinfo=None)
    if isinstance(cell, date):
        return datetime(cell.year, cell.month, cell.day)
    text = " ".join(_cell_text(cell).split())
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise _CellProblem(f"Ngày không hợp lệ: '{text}'", f"Invalid date: '{text}'")


# --------------------------------------------------------------------------- parsing


@dataclass
class _Row:
    number: int
    occurred_at: datetime
    direction: str
    amount_vnd: int
    memo: str
    reference: str | None


@dataclass
class _Collector:
    errors: list[StatementError] = field(default_factory=list)

    def add(self, row: int | None, column: str | None, problem: _CellProblem) -> None:
        self.errors.append(StatementError(row, column, problem.message_vi, problem.message_en))


def _locate_header(
    rows: list[tuple[int, list[Cell]]], mapping: StatementMapping
) -> tuple[int, dict[str, int]]:
    """Find the header row (below any preamble): the first row naming every mapped column."""
    wanted = mapping.columns()
    for index, (_number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        positions: dict[str, int] = {}
        for position, cell in enumerate(cells):
            positions.setdefault(_header_key(cell), position)
        if all(_header_key(header) in positions for header in wanted.values()):
            return index, {
                name: positions[_header_key(header)] for name, header in wanted.items()
            }
    missing = [
        StatementError(
            None,
            header,
            f"Không tìm thấy cột '{header}' trong {HEADER_SEARCH_ROWS} dòng đầu",
            f"Column '{header}' not found in the first {HEADER_SEARCH_ROWS} rows",
        )
        for header in wanted.values()
    ]
    raise StatementInvalid(missing)


def _cell(cells: list[Cell], position: int | None) -> Cell:
    if position is None or position >= len(cells):
        return None
    return cells[position]


def _signed_amount(
    cells: list[Cell], columns: dict[str, int], mapping: StatementMapping, number: int,
    collector: _Collector,
) -> tuple[str, int] | None:
    """(direction, positive amount) of one line, or None after recording why not."""
    if mapping.amount_column:
        try:
            amount = parse_amount(_cell(cells, columns["amount_column"]))
        except _CellProblem as problem:
            collector.add(number, mapping.amount_column, problem)
            return None
        if not amount:
            collector.add(number, mapping.amount_column, _CellProblem(
                "Thiếu số tiền hoặc số tiền bằng 0", "Amount missing or zero"
            ))
            return None
        return ("in" if amount > 0 else "out"), abs(amount)

    credit = debit = None
    failed = False
    try:
        credit = parse_amount(_cell(cells, columns.get("credit_column")))
    except _CellProblem as problem:
        collector.add(number, mapping.credit_column, problem)
        failed = True
    try:
        debit = parse_amount(_cell(cells, columns.get("debit_column")))
    except _CellProblem as problem:
        collector.add(number, mapping.debit_column, problem)
        failed = True
    if failed:
        return None
    if credit is not None and credit < 0:
        # A negative credit could be a reversal or a wrong column; not ours to guess.
        collector.add(number, mapping.credit_column, _CellProblem(
            "Số tiền ghi có không được âm", "Credit amount must not be negative"
        ))
        return None
    # Exports fill the unused side with 0 or leave it blank; debits are sometimes shown negative.
    credit = credit or None
    debit = abs(debit) if debit else None
    if credit and debit:
        collector.add(number, None, _CellProblem(
            "Dòng có cả ghi có và ghi nợ", "Row has both a credit and a debit amount"
        ))
        return None
    if credit:
        return "in", credit
    if debit:
        return "out", debit
    collector.add(number, mapping.credit_column or mapping.debit_column, _CellProblem(
        "Thiếu số tiền", "Amount missing"
    ))
    return None


def _parse_rows(
    rows: list[tuple[int, list[Cell]]], columns: dict[str, int], mapping: StatementMapping,
    collector: _Collector,
) -> list[_Row]:
    formats = (mapping.date_format, *mapping.fallback_date_formats)
    parsed: list[_Row] = []
    for number, cells in rows:
        mapped = [_cell(cells, position) for position in columns.values()]
        if all(_is_blank(cell) for cell in mapped):
            continue  # spacer lines inside or below the table
        try:
            occurred_at: datetime | None = parse_date(
                _cell(cells, columns["date_column"]), formats
            )
        except _CellProblem as problem:
            collector.add(number, mapping.date_column, problem)
            occurred_at = None
        amount = _signed_amount(cells, columns, mapping, number, collector)
        if occurred_at is None or amount is None:
            continue
        reference = _cell_text(_cell(cells, columns.get("reference_column"))) or None
        parsed.append(_Row(
            number=number,
            occurred_at=occurred_at,
            direction=amount[0],
            amount_vnd=amount[1],
            memo=_cell_text(_cell(cells, columns["memo_column"])),
            reference=reference,
        ))
    return parsed


def _content_id(account: str, row: _Row, occurrence: int) -> str:
    # Whitespace is collapsed so the XLSX and CSV exports of one statement hash alike.
    payload = json.dumps(
        [
            account,
            row.occurred_at.isoformat(),
            row.direction,
            row.amount_vnd,
            " ".join(row.memo.split()),
            occurrence,
        ],
        ensure_ascii=False,
    )
    return "stmt-" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def _assign_ids(account: str, rows: list[_Row]) -> list[str]:
    """Stable ids; see the module docstring."""
    seen_content: Counter[tuple[Any, ...]] = Counter()
    seen_reference: Counter[str] = Counter()
    ids: list[str] = []
    for row in rows:
        if row.reference:
            # A reversal can repeat its original's reference; "#2" keeps both lines, stably.
            seen_reference[row.reference] += 1
            count = seen_reference[row.reference]
            ids.append(row.reference if count == 1 else f"{row.reference}#{count}")
            continue
        key = (row.occurred_at, row.direction, row.amount_vnd, " ".join(row.memo.split()))
        ids.append(_content_id(account, row, seen_content[key]))
        seen_content[key] += 1
    return ids


def parse_statement(
    data: bytes, filename: str, mapping: StatementMapping
) -> list[BankNotification]:
    """Parse an uploaded statement; raise :class:`StatementInvalid` listing every bad row."""
    rows = _read_rows(data, filename)
    header_index, columns = _locate_header(rows, mapping)
    collector = _Collector()
    parsed = _parse_rows(rows[header_index + 1:], columns, mapping, collector)
    if collector.errors:
        raise StatementInvalid(collector.errors)
    if not parsed:
        raise _file_error("Sao kê không có giao dịch nào", "The statement has no transactions")
    account = mapping.account_number.strip()
    return [
        BankNotification(
            provider="statement",
            provider_txn_id=txn_id,
            account_number=account,
            direction=row.direction,
            amount_vnd=row.amount_vnd,
            memo=row.memo,
            bank_reference=row.reference,
            occurred_at=row.occurred_at,
            payer_account=None,
            payer_name=None,
            bank_name=mapping.bank_name,
        )
        for row, txn_id in zip(parsed, _assign_ids(account, parsed), strict=True)
    ]


# --------------------------------------------------------------------------- guessing

# Phrases are compared without diacritics or case. Order matters: earlier phrases win, and
# credit/debit are looked for before the bare "so tien" that their headers also contain.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "date_column": (
        "ngay giao dich", "thoi gian giao dich", "ngay gio giao dich", "transaction date",
        "ngay gd", "ngay hach toan", "posting date", "ngay", "date", "thoi gian",
    ),
    "credit_column": (
        "so tien ghi co", "ghi co", "so tien co", "phat sinh co", "tien vao", "so tien vao",
        "credit amount", "credit", "co",
    ),
    "debit_column": (
        "so tien ghi no", "ghi no", "so tien no", "phat sinh no", "tien ra", "so tien ra",
        "debit amount", "debit", "no",
    ),
    "amount_column": ("so tien giao dich", "so tien", "transaction amount", "amount"),
    "memo_column": (
        "noi dung", "noi dung giao dich", "noi dung chuyen khoan", "dien giai", "mo ta",
        "chi tiet giao dich", "description", "transaction details", "details", "remark",
    ),
    "reference_column": (
        "so tham chieu", "ma tham chieu", "ma giao dich", "so but toan", "ma gd", "so ct",
        "so chung tu", "reference number", "reference", "ref no", "transaction id",
    ),
}


def _fold(text: Cell) -> str:
    """"Số tiền ghi có (VND)" -> "so tien ghi co vnd"."""
    decomposed = unicodedata.normalize("NFD", _cell_text(text).replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def guess_mapping(headers: Sequence[Cell]) -> dict[str, str]:
    """Guess which header is which, for common Vietnamese (and English) bank exports.

    Returns {StatementMapping field: header text as given} for the columns recognised, so a form
    can be pre-filled and then ``StatementMapping(account_number=..., **guess)`` built. Exact
    matches win over headers that merely contain a phrase (bilingual headers such as
    "Ngày GD / Transaction date"); single-word phrases ("Có", "Nợ") must match exactly.
    An amount column is only guessed when no credit/debit column was found.
    """
    folded = [(_fold(header), _cell_text(header)) for header in headers if not _is_blank(header)]
    taken: set[int] = set()
    guess: dict[str, str] = {}

    def find(phrases: tuple[str, ...]) -> int | None:
        for phrase in phrases:
            for index, (key, _) in enumerate(folded):
                if index not in taken and key == phrase:
                    return index
        for phrase in phrases:
            if " " not in phrase:
                continue
            for index, (key, _) in enumerate(folded):
                if index not in taken and f" {phrase} " in f" {key} ":
                    return index
        return None

    for name, phrases in _SYNONYMS.items():
        if name == "amount_column" and ("credit_column" in guess or "debit_column" in guess):
            continue
        index = find(phrases)
        if index is not None:
            taken.add(index)
            guess[name] = folded[index][1]
    return guess
