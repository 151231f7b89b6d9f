"""Bank statement upload: turn a bank's XLSX/CSV export into :class:`BankNotification` rows.

For schools without an aggregator, a bookkeeper downloads the account statement from the bank's
internet banking and uploads it. Exports differ per bank, so the uploader confirms a
:class:`StatementMapping` (usually pre-filled by :func:`guess_mapping`). No database here.

Ids must be stable: uploading the same statement twice (or an overlapping one) must give the
same ``provider_txn_id`` for the same line, so ingestion's uniqueness constraint drops repeats.
The bank reference is used when there is one; otherwise a hash of the line's content and of its
occurrence index among identical lines (two equal transfers on the same day are two payments).
Either way the id is scoped to the account: ``provider_txn_id`` is unique per provider across
all schools, and two banks may well hand out the same short reference number.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from tuition.core.money import MAX_VND, too_large
from tuition.core.notifications import BankNotification

from .sheets import FileTooLarge, ImportFileError, Limits, read_sheet

#: Statements of a year for a busy account stay well below these.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: Sheet rows, blank ones included.
MAX_ROWS = 50_000
#: Bank exports put a preamble (bank name, account, period) above the header row.
HEADER_SEARCH_ROWS = 40
#: Longest bank reference stored (bank_transactions.bank_reference); longer means a wrong column.
MAX_REFERENCE_LENGTH = 120
#: ``provider_txn_id`` holds at most this; longer ids are hashed.
MAX_TXN_ID_LENGTH = 80

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

#: What a statement upload may be: bigger than a roster (a year of a busy account), still
#: far from harm. See :class:`~tuition.importing.sheets.Limits`.
LIMITS = Limits(file_bytes=MAX_FILE_BYTES, rows=MAX_ROWS)


def _read_rows(data: bytes, filename: str) -> list[tuple[int, list[Cell]]]:
    """The non-empty rows of the first sheet as (1-based row number, cells), read by the
    guarded reader. A file too large to read stays :class:`FileTooLarge` (413); any other
    unreadable file is a :class:`StatementInvalid` like every other problem of a statement."""
    try:
        return read_sheet(data, filename, limits=LIMITS, csv_suffixes=(".csv", ".txt")).rows
    except FileTooLarge:
        raise
    except ImportFileError as exc:
        raise _file_error(exc.message_vi, exc.message_en) from None


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
    A real fraction is refused: dong have no subunit, so "1.250,50" means a wrong column; so
    is an amount over :data:`~tuition.core.money.MAX_VND`, which no transfer can be.
    """
    amount = _amount(cell)
    if amount is not None and abs(amount) > MAX_VND:
        vi, en = too_large(amount)
        raise _CellProblem(vi, en)
    return amount


def _amount(cell: Cell) -> int | None:
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
    if sum(ch.isdigit() for ch in text) > 40:
        return 10**40  # far past any bound; int() of thousands of digits would fail
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
    cells: list[Cell]


@dataclass(frozen=True)
class StatementLine:
    """One transaction line: its spreadsheet row, its cells as read, and what it means.

    ``cells`` maps every header of the table to the line's value (JSON-ready), so the stored
    raw payload keeps columns the mapping ignores, such as the running balance.
    """

    row: int
    cells: dict[str, Any]
    notification: BankNotification


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
        reference = _cell_text(_cell(cells, columns.get("reference_column"))) or None
        if reference and len(reference) > MAX_REFERENCE_LENGTH:
            collector.add(number, mapping.reference_column, _CellProblem(
                f"Số tham chiếu dài quá {MAX_REFERENCE_LENGTH} ký tự; có thể chọn nhầm cột",
                f"Reference longer than {MAX_REFERENCE_LENGTH} characters; wrong column?",
            ))
            continue
        if occurred_at is None or amount is None:
            continue
        parsed.append(_Row(
            number=number,
            occurred_at=occurred_at,
            direction=amount[0],
            amount_vnd=amount[1],
            memo=_cell_text(_cell(cells, columns["memo_column"])),
            reference=reference,
            cells=cells,
        ))
    return parsed


def _hashed_id(*parts: Any) -> str:
    payload = json.dumps(list(parts), ensure_ascii=False)
    return "stmt-" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def _content_id(account: str, row: _Row, occurrence: int) -> str:
    # Whitespace is collapsed so the XLSX and CSV exports of one statement hash alike.
    return _hashed_id(
        account,
        row.occurred_at.isoformat(),
        row.direction,
        row.amount_vnd,
        " ".join(row.memo.split()),
        occurrence,
    )


def _reference_id(account: str, reference: str) -> str:
    readable = f"{account}:{reference}"
    return readable if len(readable) <= MAX_TXN_ID_LENGTH else _hashed_id(account, reference)


def _assign_ids(account: str, rows: list[_Row]) -> list[tuple[str, str | None]]:
    """Stable (provider_txn_id, bank_reference) per line; see the module docstring."""
    seen_content: Counter[tuple[Any, ...]] = Counter()
    seen_reference: Counter[str] = Counter()
    seen_direction: set[tuple[str, str]] = set()
    ids: list[tuple[str, str | None]] = []
    for row in rows:
        if row.reference:
            # A reversal can repeat its original's reference; "#2" keeps both lines, stably.
            seen_reference[row.reference] += 1
            count = seen_reference[row.reference]
            suffix = "" if count == 1 else f"#{count}"
            # The bank's reference is unique per account and direction in storage; a second
            # line in the same direction keeps its own id but not the reference, or it would
            # be taken for the first one and silently dropped.
            repeated = (row.reference, row.direction) in seen_direction
            seen_direction.add((row.reference, row.direction))
            ids.append((
                _reference_id(account, row.reference + suffix),
                None if repeated else row.reference,
            ))
            continue
        key = (row.occurred_at, row.direction, row.amount_vnd, " ".join(row.memo.split()))
        ids.append((_content_id(account, row, seen_content[key]), None))
        seen_content[key] += 1
    return ids


def _json_cell(cell: Cell) -> Any:
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if cell is None or isinstance(cell, bool | int | float | str):
        return cell
    return str(cell)


def _header_names(cells: list[Cell]) -> list[str]:
    """Header texts usable as keys: blank ones are named by position, repeated ones get a
    suffix, so no cell of the line is lost in the raw payload."""
    names: list[str] = []
    for position, cell in enumerate(cells, start=1):
        base = _cell_text(cell) or f"column {position}"
        name, repeat = base, 1
        while name in names:
            repeat += 1
            name = f"{base} ({repeat})"
        names.append(name)
    return names


def parse_statement_lines(
    data: bytes, filename: str, mapping: StatementMapping
) -> list[StatementLine]:
    """Parse an uploaded statement into lines; raise :class:`StatementInvalid` listing every
    bad row (nothing is returned unless every line is good)."""
    rows = _read_rows(data, filename)
    header_index, columns = _locate_header(rows, mapping)
    header_cells = rows[header_index][1]
    collector = _Collector()
    # Messages name each column as the file writes it (the mapping may differ in case or
    # spacing); the mapping returned to callers stays as given.
    as_in_file = replace(mapping, **{
        name: _cell_text(header_cells[position]) for name, position in columns.items()})
    parsed = _parse_rows(rows[header_index + 1:], columns, as_in_file, collector)
    if collector.errors:
        raise StatementInvalid(collector.errors)
    if not parsed:
        raise _file_error("Sao kê không có giao dịch nào", "The statement has no transactions")
    account = mapping.account_number.strip()
    lines: list[StatementLine] = []
    for row, (txn_id, reference) in zip(parsed, _assign_ids(account, parsed), strict=True):
        width = max(len(header_cells), len(row.cells))
        names = _header_names([*header_cells, *[None] * (width - len(header_cells))])
        cells = {
            name: _json_cell(_cell(row.cells, position))
            for position, name in enumerate(names)
            if not (position >= len(header_cells) and _is_blank(_cell(row.cells, position)))
        }
        lines.append(StatementLine(row.number, cells, BankNotification(
            provider="statement",
            provider_txn_id=txn_id,
            account_number=account,
            direction=row.direction,
            amount_vnd=row.amount_vnd,
            memo=row.memo,
            bank_reference=reference,
            occurred_at=row.occurred_at,
            payer_account=None,
            payer_name=None,
            bank_name=mapping.bank_name,
        )))
    return lines


def parse_statement(
    data: bytes, filename: str, mapping: StatementMapping
) -> list[BankNotification]:
    """Parse an uploaded statement; raise :class:`StatementInvalid` listing every bad row."""
    return [line.notification for line in parse_statement_lines(data, filename, mapping)]


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


#: The column fields a mapping can name, as an upload form or API sends them.
COLUMN_FIELDS: tuple[str, ...] = (
    "date_column",
    "amount_column",
    "credit_column",
    "debit_column",
    "memo_column",
    "reference_column",
)
_AMOUNT_FIELDS = ("amount_column", "credit_column", "debit_column")


def _missing_fields(columns: dict[str, str]) -> list[str]:
    missing = [name for name in ("date_column", "memo_column") if name not in columns]
    if not any(name in columns for name in _AMOUNT_FIELDS):
        missing.append("amount_column")
    return missing


#: How a column the file lacks is named (as people name it, never by a field name).
_MISSING_COLUMNS = {"date_column": "Ngày giao dịch", "memo_column": "Nội dung",
                    "amount_column": "Số tiền"}
_MISSING_LABELS = {
    "date_column": ("ngày giao dịch", "transaction date", "date_column"),
    "memo_column": ("nội dung chuyển khoản", "transfer description", "memo_column"),
    "amount_column": (
        "số tiền (hoặc ghi có / ghi nợ)",
        "amount (or credit / debit)",
        "amount_column, hoặc credit_column và debit_column",
    ),
}


def _best_header_guess(rows: list[tuple[int, list[Cell]]]) -> tuple[dict[str, str], list[str]]:
    """The guess from the row (among the first ones) that looks most like the table's header,
    and that row's headers (to tell the uploader what the file has)."""
    best: tuple[int, dict[str, str], list[Cell]] = (-1, {}, [])
    for _number, cells in rows[:HEADER_SEARCH_ROWS]:
        guess = guess_mapping(cells)
        score = len(guess) + (10 if not _missing_fields(guess) else 0)
        filled = sum(not _is_blank(cell) for cell in cells)
        if (score, filled) > (best[0], sum(not _is_blank(c) for c in best[2])):
            best = (score, guess, cells)
    return best[1], [_cell_text(cell) for cell in best[2] if not _is_blank(cell)]


def resolve_mapping(
    data: bytes,
    filename: str,
    *,
    account_number: str,
    columns: dict[str, str] | None = None,
    date_format: str | None = None,
    bank_name: str | None = None,
) -> StatementMapping:
    """The mapping for an upload: the columns the uploader named, the rest guessed.

    Named columns win; naming ``amount_column`` drops a guessed credit/debit pair and naming
    credit or debit drops a guessed amount column. When the date, description or amount still
    have no column, :class:`StatementInvalid` says which, and lists the headers found.
    """
    chosen = {name: header.strip() for name, header in (columns or {}).items() if header.strip()}
    if unknown := sorted(set(chosen) - set(COLUMN_FIELDS)):
        raise ValueError(f"unknown mapping fields: {unknown}")
    if _missing_fields(chosen):
        guess, headers = _best_header_guess(_read_rows(data, filename))
        if "amount_column" in chosen:
            guess = {k: v for k, v in guess.items() if k not in ("credit_column", "debit_column")}
        if "credit_column" in chosen or "debit_column" in chosen:
            guess.pop("amount_column", None)
        chosen = {**guess, **chosen}
        if missing := _missing_fields(chosen):
            found_vi = ", ".join(f"“{h}”" for h in headers) or "(không có)"
            found_en = ", ".join(f"'{h}'" for h in headers) or "(none)"
            raise StatementInvalid([
                StatementError(
                    None,
                    _MISSING_COLUMNS[name],
                    f"Không nhận ra cột {_MISSING_LABELS[name][0]}. Các cột trong tệp: "
                    f"{found_vi}. Hãy chỉ rõ cột trong trường {_MISSING_LABELS[name][2]}.",
                    f"No column recognised for the {_MISSING_LABELS[name][1]}. Columns in "
                    f"the file: {found_en}. Name it in {_MISSING_LABELS[name][2]}.",
                )
                for name in missing
            ])
    extra = {"date_format": date_format} if date_format else {}
    try:
        return StatementMapping(
            account_number=account_number, bank_name=bank_name, **chosen, **extra
        )
    except ValueError:
        raise _file_error(
            "Chỉ chọn một cách ghi số tiền: cột số tiền (amount_column), hoặc cột ghi có / "
            "ghi nợ (credit_column, debit_column), không chọn cả hai",
            "Give either amount_column or credit_column/debit_column, not both",
        ) from None
