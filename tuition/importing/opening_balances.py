"""Parse opening balances (số dư đầu kỳ): what each student owed, or had paid in advance,
when the school started with this service (mid-year, or moving from another product).

A row gives the student's code and either a debt (Còn nợ) and/or a credit (Dư có / Nộp thừa)
in separate columns, or one signed balance (Số dư: positive is owed, negative is credit).
"""

from __future__ import annotations

from dataclasses import dataclass

from .adjustments import parse_amount_vnd
from .roster import ROSTER_COLUMNS, parse_student_code
from .tabular import (
    Cell,
    CellError,
    RowCells,
    RowError,
    RowsInvalid,
    clean_text,
    header_errors,
    match_headers,
    read_table,
)

__all__ = ["OPENING_COLUMNS", "OpeningBalanceRow", "OpeningBalancesInvalid",
           "parse_opening_balances"]

OPENING_COLUMNS: dict[str, tuple[str, ...]] = {
    "student_code": ROSTER_COLUMNS["code"],
    "debt": ("Còn nợ", "Số nợ", "Nợ", "Dư nợ", "Số dư nợ", "Phải thu", "Debt", "Owed"),
    "credit": ("Dư có", "Số dư có", "Có", "Nộp thừa", "Tiền thừa", "Credit", "Overpaid"),
    "balance": ("Số dư", "Số dư đầu kỳ", "Balance", "Opening balance"),
    "note": ("Ghi chú", "Diễn giải", "Nội dung", "Note"),
}
_LABELS = {"student_code": ("Mã học sinh", "Student code"),
           "debt": ("Còn nợ", "Debt"), "credit": ("Dư có", "Credit"),
           "balance": ("Số dư", "Balance"), "note": ("Ghi chú", "Note")}


@dataclass(frozen=True)
class OpeningBalanceRow:
    row: int
    student_code: str
    #: What the student owed (>= 0).
    debt_vnd: int
    #: What the student had paid in advance (>= 0).
    credit_vnd: int
    note: str


class OpeningBalancesInvalid(RowsInvalid):
    """The file has errors; :attr:`errors` lists every one of them."""


def _not_negative(value: Cell) -> int:
    if value in (0, 0.0, "0"):
        return 0
    amount = parse_amount_vnd(value)
    if amount < 0:
        raise CellError("Số tiền ở cột này không được âm.", "This column cannot be negative.")
    return amount


def _signed(value: Cell) -> int:
    if value in (0, 0.0, "0"):
        return 0
    return parse_amount_vnd(value)


def _note(value: Cell) -> str:
    text = clean_text(value) or ""
    if len(text) > 120:
        raise CellError("Ghi chú dài quá 120 ký tự.", "The note is longer than 120 characters.")
    return text


def parse_opening_balances(data: bytes, filename: str) -> list[OpeningBalanceRow]:
    """Parse the file, or raise :class:`OpeningBalancesInvalid` listing every error."""
    table = read_table(data, filename)
    match = match_headers(table.headers, OPENING_COLUMNS, required=("student_code",))
    missing = list(match.missing)
    columns = match.columns
    if "balance" not in columns and not {"debt", "credit"} & columns.keys():
        missing.append("debt")
    errors = header_errors(table, match, missing, _LABELS)
    if "balance" in columns and {"debt", "credit"} & columns.keys():
        errors.append(RowError(
            table.header_row, table.headers[columns["balance"]],
            'Dùng cột "Số dư" hoặc các cột "Còn nợ"/"Dư có", không dùng cả hai.',
            'Use either the "Balance" column or the "Debt"/"Credit" columns, not both.'))
    if errors:
        raise OpeningBalancesInvalid(errors)
    result: list[OpeningBalanceRow] = []
    first_of_code: dict[str, int] = {}
    for number, cells in table.rows:
        row = RowCells(table.headers, number, cells, errors)
        before = len(errors)
        code = row.parse(columns["student_code"], parse_student_code,
                         required=_LABELS["student_code"])
        if "balance" in columns:
            balance = row.parse(columns["balance"], _signed) or 0
            debt, credit = max(balance, 0), max(-balance, 0)
        else:
            debt = row.parse(columns.get("debt"), _not_negative) or 0
            credit = row.parse(columns.get("credit"), _not_negative) or 0
        note = row.parse(columns.get("note"), _note) or ""
        if code is not None and first_of_code.setdefault(code, number) != number:
            row.error(columns["student_code"],
                      f"Mã học sinh {code} trùng với dòng {first_of_code[code]}.",
                      f"Student code {code} is already on row {first_of_code[code]}.")
        if len(errors) == before and code is not None and (debt or credit):
            result.append(OpeningBalanceRow(number, code, debt, credit, note))
    if errors:
        raise OpeningBalancesInvalid(errors)
    if not result:
        raise OpeningBalancesInvalid([RowError(table.header_row, "",
                                               "Tệp không có số dư nào khác 0.",
                                               "The file has no non-zero balance.")])
    return result
