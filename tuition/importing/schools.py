"""Parse the list of schools to onboard (danh sách trường), uploaded as XLSX or CSV.

One row per school: code, name, level, commune/ward, tax code, bank and account, and the
accountant's email. The province is chosen on upload, and each ward must be one of it. The
result is a list of clean :class:`SchoolRow` values, or :class:`SchoolListInvalid` with every
bad cell: one bad row means nothing is created.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core import places
from ..core.banks import Bank, banks
from .tabular import (
    Cell,
    CellError,
    RowCells,
    RowError,
    RowsInvalid,
    clean_text,
    header_errors,
    match_headers,
    normalise_header,
    read_table,
    show,
)

SCHOOL_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("Mã trường", "Mã đơn vị", "Mã", "School code", "Code"),
    "name": ("Tên trường", "Tên đơn vị", "Tên", "School name", "School", "Name"),
    "level": ("Cấp học", "Cấp", "Bậc học", "Level", "Levels"),
    "ward": ("Xã/phường", "Xã, phường", "Phường/xã", "Mã xã/phường", "Xã phường đặc khu",
             "Đơn vị hành chính", "Ward", "Ward code", "Commune"),
    "tax_code": ("Mã số thuế", "MST", "Tax code"),
    "bank": ("Ngân hàng", "Mã ngân hàng", "BIN", "Bank", "Bank BIN"),
    "account_number": ("Số tài khoản", "STK", "Số TK", "Account number", "Account"),
    "account_name": ("Chủ tài khoản", "Tên tài khoản", "Tên chủ tài khoản", "Account name",
                     "Account holder"),
    "email": ("Email kế toán", "Email", "Thư điện tử", "Accountant email", "Accountant's email"),
    "accountant_name": ("Họ tên kế toán", "Tên kế toán", "Kế toán", "Accountant",
                        "Accountant name"),
}
_LABELS = {
    "code": ("Mã trường", "School code"),
    "name": ("Tên trường", "School name"),
    "level": ("Cấp học", "Level"),
    "ward": ("Xã/phường", "Ward"),
    "bank": ("Ngân hàng", "Bank"),
    "account_number": ("Số tài khoản", "Account number"),
    "email": ("Email kế toán", "Accountant email"),
}
_REQUIRED = ("code", "name", "level", "ward", "bank", "account_number", "email")


@dataclass(frozen=True)
class SchoolRow:
    """One school as read from the file, already normalised."""

    row: int
    code: str
    name: str
    levels: tuple[str, ...]
    ward_code: int
    tax_code: str | None
    bin: str
    account_number: str
    account_name: str
    email: str
    accountant_name: str


class SchoolListInvalid(RowsInvalid):
    """The list has errors; :attr:`errors` lists every one of them."""


def parse_school_list(data: bytes, filename: str, *, province_code: int) -> list[SchoolRow]:
    """Parse an uploaded list of schools of ``province_code``, or raise
    :class:`SchoolListInvalid` with every error (the file's row and column for each)."""
    table = read_table(data, filename)
    match = match_headers(table.headers, SCHOOL_COLUMNS, required=_REQUIRED)
    errors = header_errors(table, match, match.missing, _LABELS)
    if errors:
        raise SchoolListInvalid(errors)
    columns = match.columns

    def ward(value: Cell) -> int:
        text = clean_text(value) or ""
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        try:
            return places.find_ward(province_code, text).code
        except places.PlaceError as exc:
            raise CellError(exc.message_vi, exc.message_en) from exc

    result: list[SchoolRow] = []
    first_row: dict[tuple[str, str], int] = {}
    for number, cells in table.rows:
        row = RowCells(table.headers, number, cells, errors)
        before = len(errors)
        values = {
            "code": row.parse(columns["code"], parse_school_code, required=_LABELS["code"]),
            "name": row.parse(columns["name"], _parse_name, required=_LABELS["name"]),
            "levels": row.parse(columns["level"], parse_levels, required=_LABELS["level"]),
            "ward_code": row.parse(columns["ward"], ward, required=_LABELS["ward"]),
            "tax_code": row.parse(columns.get("tax_code"), parse_tax_code),
            "bank": row.parse(columns["bank"], parse_bank, required=_LABELS["bank"]),
            "account_number": row.parse(columns["account_number"], parse_account_number,
                                        required=_LABELS["account_number"]),
            "account_name": row.parse(columns.get("account_name"), _parse_holder),
            "email": row.parse(columns["email"], parse_email, required=_LABELS["email"]),
            "accountant_name": row.parse(columns.get("accountant_name"), _parse_person),
        }
        for field, label_vi, label_en in (("code", "Mã trường", "School code"),
                                          ("account_number", "Số tài khoản", "Account number"),
                                          ("email", "Email", "Email")):
            value = values[field]
            if value is None:
                continue
            first = first_row.setdefault((field, value), number)
            if first != number:
                row.error(columns[field], f"{label_vi} {value} trùng với dòng {first}.",
                          f"{label_en} {value} is already on row {first}.")
        if len(errors) == before:
            bank: Bank = values.pop("bank")
            name = values["name"]
            result.append(SchoolRow(
                row=number, bin=bank.bin,
                account_name=values.pop("account_name") or _holder_from(name),
                accountant_name=values.pop("accountant_name") or "", **values))
    if errors:
        raise SchoolListInvalid(errors)
    return result


# --- Cell parsers ----------------------------------------------------------------------------

_SCHOOL_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{1,31}")


def parse_school_code(value: Cell) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().upper() if value is not None else ""
    if not _SCHOOL_CODE.fullmatch(text):
        raise CellError(
            f"Mã trường {show(value)} không hợp lệ: 2-32 ký tự chữ in hoa không dấu, số, "
            '"-" hoặc "_".',
            f"School code {show(value)} is invalid: 2-32 capital letters, digits, - or _.")
    return text


def _parse_name(value: Cell) -> str:
    text = clean_text(value) or ""
    if not any(ch.isalpha() for ch in text) or len(text) > 200:
        raise CellError(f"Tên trường {show(value)} không hợp lệ (tối đa 200 ký tự).",
                        f"School name {show(value)} is invalid (at most 200 characters).")
    return text


#: Words that name a level, after normalise_header.
_LEVEL_WORDS = {
    "mam non": "mam_non", "mn": "mam_non", "mau giao": "mam_non", "nha tre": "mam_non",
    "mam_non": "mam_non", "preschool": "mam_non", "kindergarten": "mam_non",
    "tieu hoc": "tieu_hoc", "th": "tieu_hoc", "tieu_hoc": "tieu_hoc", "primary": "tieu_hoc",
    "thcs": "thcs", "trung hoc co so": "thcs", "lower secondary": "thcs",
}


def parse_levels(value: Cell) -> tuple[str, ...]:
    """One or several levels: "Tiểu học", "THCS", "Tiểu học, THCS", "MN + TH", "tieu_hoc"."""
    text = str(value or "")
    parts = [normalise_header(p) for p in re.split(r"[,;+/&]|\bva\b|\bvà\b", text)]
    found = [_LEVEL_WORDS.get(p) for p in parts if p]
    if not found or None in found:
        raise CellError(
            f"Cấp học {show(value)} không hợp lệ: ghi Mầm non, Tiểu học, THCS (một hoặc "
            "nhiều, cách nhau bằng dấu phẩy).",
            f"Level {show(value)} is invalid: write Mầm non, Tiểu học or THCS (one or several, "
            "separated by commas).")
    order = ("mam_non", "tieu_hoc", "thcs")
    return tuple(level for level in order if level in found)


def parse_tax_code(value: Cell) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = re.sub(r"\s", "", str(value))
    if isinstance(value, int) and len(text) == 9:  # Excel dropped the leading 0
        text = "0" + text
    if not re.fullmatch(r"\d{10}(-\d{3})?", text):
        raise CellError(
            f"Mã số thuế {show(value)} không hợp lệ: 10 chữ số (hoặc 10 chữ số, “-” và 3 "
            "chữ số).",
            f"Tax code {show(value)} is invalid: 10 digits, optionally '-' and 3 digits.")
    return text


def parse_bank(value: Cell) -> Bank:
    """A bank on the NAPAS list by its BIN (970436), code (VCB) or short name (Vietcombank)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    known = banks()
    if text in known:
        return known[text]
    wanted = normalise_header(text).replace(" ", "")
    for bank in known.values():
        if wanted in (normalise_header(bank.code).replace(" ", ""),
                      normalise_header(bank.short_name).replace(" ", "")):
            return bank
    raise CellError(
        f"Ngân hàng {show(value)} không có trong danh sách NAPAS: ghi mã BIN (ví dụ 970436) "
        "hoặc tên viết tắt (ví dụ Vietcombank).",
        f"Bank {show(value)} is not on the NAPAS list: give its BIN (e.g. 970436) or short "
        "name (e.g. Vietcombank).")


def parse_account_number(value: Cell) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    # A leading apostrophe is how people keep Excel from reading the number as a number.
    text = re.sub(r"[\s.-]", "", str(value)).lstrip("'").upper()
    if not re.fullmatch(r"[0-9A-Z]{4,19}", text):
        raise CellError(
            f"Số tài khoản {show(value)} không hợp lệ: 4-19 chữ số hoặc chữ cái. (Trong "
            "Excel, hãy định dạng cột là Văn bản để giữ số 0 ở đầu.)",
            f"Account number {show(value)} is invalid: 4-19 digits or letters. (In Excel, "
            "format the column as Text to keep leading zeros.)")
    return text


def _parse_holder(value: Cell) -> str:
    text = clean_text(value) or ""
    if len(text) > 100:
        raise CellError("Tên chủ tài khoản dài quá 100 ký tự.",
                        "The account holder's name is longer than 100 characters.")
    return text.upper()


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def parse_email(value: Cell) -> str:
    text = str(value).strip().lower()
    if not _EMAIL.fullmatch(text) or len(text) > 254:
        raise CellError(f"Email {show(value)} không hợp lệ.", f"Email {show(value)} is invalid.")
    return text


def _parse_person(value: Cell) -> str:
    text = clean_text(value) or ""
    if len(text) > 120:
        raise CellError("Họ tên kế toán dài quá 120 ký tự.",
                        "The accountant's name is longer than 120 characters.")
    return text


def _holder_from(name: str) -> str:
    """The account holder as banks print it, from the school's name: capitals, no accents."""
    return places.plain(name).upper()[:100]


__all__ = ["RowError", "SCHOOL_COLUMNS", "SchoolListInvalid", "SchoolRow",
           "parse_school_list"]
