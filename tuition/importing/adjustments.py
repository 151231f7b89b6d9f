"""Parse adjustment files: per-student charges and credits added to the next invoices.

A typical file refunds meals for days a child was absent (negative amounts) or adds a
one-off charge such as a uniform (positive amounts). Amounts are whole dong; nothing here
ever goes through float.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .roster import ROSTER_COLUMNS, parse_student_code
from .tabular import (
    Cell,
    CellError,
    RowCells,
    RowError,
    RowsInvalid,
    clean_text,
    header_errors,
    headers_in_file,
    match_headers,
    read_table,
    show,
)

__all__ = [
    "ADJUSTMENT_COLUMNS",
    "MAX_ADJUSTMENT_VND",
    "TEMPLATE_EXAMPLE",
    "TEMPLATE_HEADERS",
    "AdjustmentRow",
    "AdjustmentsInvalid",
    "RowError",
    "parse_adjustments",
    "parse_amount_vnd",
]

#: Larger than any real adjustment; a bigger number is a typo (an extra 000).
MAX_ADJUSTMENT_VND = 1_000_000_000

ADJUSTMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "student_code": ROSTER_COLUMNS["code"],
    "amount": (
        "Số tiền", "Thành tiền", "Số tiền điều chỉnh", "Tiền", "Amount", "Amount VND",
    ),
    "description": (
        "Nội dung", "Lý do", "Diễn giải", "Nội dung điều chỉnh", "Ghi chú",
        "Description", "Reason", "Note",
    ),
    #: Optional: the fee item it corrects (a meal refund: TIENAN), kept on that item.
    "fee_item": ("Mã khoản thu", "Khoản thu", "Fee item", "Fee item code"),
}
_REQUIRED = ("student_code", "amount", "description")

_LABELS = {
    "student_code": ("Mã học sinh", "Student code"),
    "amount": ("Số tiền", "Amount"),
    "description": ("Nội dung", "Description"),
    "fee_item": ("Mã khoản thu", "Fee item code"),
}
#: The downloadable template's columns (field -> header) and example row: a meal refund.
TEMPLATE_HEADERS = {name: label[0] for name, label in _LABELS.items()}
TEMPLATE_EXAMPLE = ("HS001", -150_000, "Trả tiền ăn 5 ngày nghỉ", "")  # no particular item
_MAX_DESCRIPTION = 200


@dataclass(frozen=True)
class AdjustmentRow:
    """One adjustment: a charge (positive) or a credit (negative) for one student."""

    row: int
    student_code: str
    amount_vnd: int
    description: str
    #: Code of the fee item it corrects; None for no particular item.
    fee_item_code: str | None = None
    #: Field name -> the column's header as the file writes it, for later messages.
    columns: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def column(self, name: str) -> str:
        """The header of field ``name`` as in the file, else as the template writes it."""
        return self.columns.get(name) or _LABELS[name][0]


class AdjustmentsInvalid(RowsInvalid):
    """The file has errors; :attr:`errors` lists every one of them."""


def parse_adjustments(data: bytes, filename: str) -> list[AdjustmentRow]:
    """Parse an uploaded adjustment file, or raise :class:`AdjustmentsInvalid` with every error.

    A student may appear on several rows (e.g. a meal refund and a uniform charge).
    Raises :class:`~tuition.importing.tabular.ImportFileError` when the file is unreadable.
    """
    table = read_table(data, filename)
    match = match_headers(table.headers, ADJUSTMENT_COLUMNS, required=_REQUIRED)
    errors = header_errors(table, match, match.missing, _LABELS)
    if errors:
        raise AdjustmentsInvalid(errors)

    columns = match.columns
    headers = headers_in_file(table, match)
    result: list[AdjustmentRow] = []
    for number, cells in table.rows:
        row = RowCells(table.headers, number, cells, errors)
        before = len(errors)
        code = row.parse(columns["student_code"], parse_student_code,
                         required=_LABELS["student_code"])
        amount = row.parse(columns["amount"], parse_amount_vnd, required=_LABELS["amount"])
        description = row.parse(columns["description"], _parse_description,
                                required=_LABELS["description"])
        item = row.parse(columns.get("fee_item"), _parse_fee_item_code)
        if len(errors) == before:
            assert code is not None and amount is not None and description is not None
            result.append(AdjustmentRow(number, code, amount, description, item, headers))
    if errors:
        raise AdjustmentsInvalid(errors)
    return result


# Optional sign, then either plain digits or groups of three with one consistent separator
# (".", "," or a space: Vietnamese write 150.000, English-locale Excel 150,000).
_AMOUNT = re.compile(
    r"([-−]?)\s*([0-9]+|[0-9]{1,3}([., \u00a0\u202f])[0-9]{3}(?:\3[0-9]{3})*)"
)
_FRACTION = re.compile(r"[-−]?\s*[0-9., \u00a0\u202f]*[0-9][.,][0-9]{1,2}")
_CURRENCY = re.compile(r"\s*(?:đ|₫|đồng|vnđ|vnd)\s*$", re.IGNORECASE)


def parse_amount_vnd(value: Cell) -> int:
    """Whole dong, negative for a credit: -150000, "-150.000", "150,000", "1 500 000 đ".

    Fractions are refused rather than rounded: money is an integer number of dong, and a
    "150.5" is far more likely a typo than a half dong.
    """
    if isinstance(value, float):
        # openpyxl gives numeric cells as float when Excel stored them so; only whole
        # values are money here, and int() of an integral float is exact.
        if not value.is_integer():
            raise _fraction(value)
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        amount = value
    elif isinstance(value, str):
        amount = _parse_amount_text(value)
    else:
        raise _bad_amount(value)
    if amount == 0:
        raise CellError(
            "Số tiền bằng 0; hãy xoá dòng này nếu không cần điều chỉnh.",
            "The amount is zero; delete the row if no adjustment is needed.",
        )
    if abs(amount) > MAX_ADJUSTMENT_VND:
        raise _too_large(amount)
    return amount


def _too_large(value: Cell) -> CellError:
    if isinstance(value, int) and not isinstance(value, bool):
        return CellError(
            f"Số tiền {_dong(value)} đ quá lớn (tối đa {_dong(MAX_ADJUSTMENT_VND)} đ).",
            f"The amount {value:,} VND is too large (at most {MAX_ADJUSTMENT_VND:,} VND).",
        )
    return CellError(
        f"Số tiền {show(value)} quá lớn (tối đa {_dong(MAX_ADJUSTMENT_VND)} đ).",
        f"The amount {show(value)} is too large (at most {MAX_ADJUSTMENT_VND:,} VND).",
    )


def _parse_amount_text(value: str) -> int:
    text = _CURRENCY.sub("", value.strip())
    if match := _AMOUNT.fullmatch(text):
        digits = re.sub(r"[^0-9]", "", match[2]).lstrip("0") or "0"
        if len(digits) > len(str(MAX_ADJUSTMENT_VND)):  # int() of 5,000 digits fails
            raise _too_large(value)
        return -int(digits) if match[1] else int(digits)
    if _FRACTION.fullmatch(text):
        raise _fraction(value)
    if text.startswith("(") and text.endswith(")"):
        raise CellError(
            f"Số tiền {show(value)}: dùng dấu trừ cho khoản giảm, ví dụ -150.000.",
            f"Amount {show(value)}: use a minus sign for a credit, e.g. -150.000.",
        )
    raise _bad_amount(value)


def _parse_description(value: Cell) -> str:
    text = clean_text(value) or ""
    if len(text) > _MAX_DESCRIPTION:
        raise CellError(
            f"Nội dung dài quá {_MAX_DESCRIPTION} ký tự.",
            f"The description is longer than {_MAX_DESCRIPTION} characters.",
        )
    return text


def _parse_fee_item_code(value: Cell) -> str | None:
    text = (clean_text(value) or "").upper()
    if text and not re.fullmatch(r"[A-Z0-9_-]{1,20}", text):
        raise CellError(f"Mã khoản thu {show(value)} không hợp lệ.",
                        f"Fee item code {show(value)} is not valid.")
    return text or None


def _dong(amount: int) -> str:
    """1500000 -> "1.500.000", the Vietnamese way."""
    return f"{amount:,}".replace(",", ".")


def _fraction(value: Cell) -> CellError:
    return CellError(
        f"Số tiền {show(value)} có phần lẻ; số tiền phải là số nguyên đồng.",
        f"Amount {show(value)} has a fractional part; amounts are whole dong.",
    )


def _bad_amount(value: Cell) -> CellError:
    return CellError(
        f"Số tiền {show(value)} không hợp lệ; hãy nhập số nguyên đồng, ví dụ 150000 hoặc "
        "-150.000 cho khoản giảm.",
        f"Amount {show(value)} is not valid; enter whole dong, e.g. 150000, or -150.000 "
        "for a credit.",
    )
