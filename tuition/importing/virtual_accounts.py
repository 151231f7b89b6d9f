"""Parse the list of students' virtual accounts (tài khoản định danh) a bank hands a school:
one row per student, the student's code and the account number."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .roster import ROSTER_COLUMNS, parse_student_code
from .tabular import (
    Cell,
    CellError,
    RowCells,
    RowError,
    RowsInvalid,
    header_errors,
    match_headers,
    read_table,
    show,
)

__all__ = ["VIRTUAL_ACCOUNT_COLUMNS", "VirtualAccountRow", "VirtualAccountsInvalid",
           "parse_virtual_account", "parse_virtual_accounts"]

VIRTUAL_ACCOUNT_COLUMNS: dict[str, tuple[str, ...]] = {
    "student_code": ROSTER_COLUMNS["code"],
    "number": (
        "Tài khoản định danh", "Số tài khoản định danh", "TK định danh", "Số TK định danh",
        "Tài khoản ảo", "Số tài khoản ảo", "TK ảo", "Số TK ảo", "Virtual account",
        "Virtual account number", "VA", "Số VA", "VA number",
    ),
}
_LABELS = {"student_code": ("Mã học sinh", "Student code"),
           "number": ("Tài khoản định danh", "Virtual account")}
#: What a VietQR code can carry as the beneficiary (NAPAS: letters and digits, at most 19).
_NUMBER = re.compile(r"[0-9A-Z]{1,19}")


@dataclass(frozen=True)
class VirtualAccountRow:
    row: int
    student_code: str
    number: str


class VirtualAccountsInvalid(RowsInvalid):
    """The list has errors; :attr:`errors` lists every one of them."""


def parse_virtual_account(value: Cell) -> str:
    """An account number as the bank writes it, upper-cased, spaces and dots removed."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = re.sub(r"[\s.\-]", "", str(value)).upper() if value is not None else ""
    if not _NUMBER.fullmatch(text):
        raise CellError(
            f"Số tài khoản định danh {show(value)} không hợp lệ: 1–19 chữ cái không dấu "
            "hoặc chữ số.",
            f"Virtual account {show(value)} is invalid: 1-19 letters or digits.",
        )
    return text


def parse_virtual_accounts(data: bytes, filename: str) -> list[VirtualAccountRow]:
    """Parse the file, or raise :class:`VirtualAccountsInvalid` listing every error."""
    table = read_table(data, filename)
    match = match_headers(table.headers, VIRTUAL_ACCOUNT_COLUMNS,
                          required=tuple(VIRTUAL_ACCOUNT_COLUMNS))
    errors = header_errors(table, match, match.missing, _LABELS)
    if errors:
        raise VirtualAccountsInvalid(errors)
    columns = match.columns
    result: list[VirtualAccountRow] = []
    first_of_code: dict[str, int] = {}
    first_of_number: dict[str, int] = {}
    for number, cells in table.rows:
        row = RowCells(table.headers, number, cells, errors)
        before = len(errors)
        code = row.parse(columns["student_code"], parse_student_code,
                         required=_LABELS["student_code"])
        account = row.parse(columns["number"], parse_virtual_account, required=_LABELS["number"])
        if code is not None and first_of_code.setdefault(code, number) != number:
            row.error(columns["student_code"],
                      f"Mã học sinh {code} trùng với dòng {first_of_code[code]}.",
                      f"Student code {code} is already on row {first_of_code[code]}.")
        if account is not None and first_of_number.setdefault(account, number) != number:
            row.error(columns["number"],
                      f"Số tài khoản {account} trùng với dòng {first_of_number[account]}.",
                      f"Account {account} is already on row {first_of_number[account]}.")
        if len(errors) == before:
            assert code is not None and account is not None
            result.append(VirtualAccountRow(number, code, account))
    if errors:
        raise VirtualAccountsInvalid(errors)
    if not result:
        raise VirtualAccountsInvalid([RowError(table.header_row, "", "Tệp không có dòng nào.",
                                               "The file has no rows.")])
    return result
