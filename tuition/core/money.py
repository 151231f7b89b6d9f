"""Money is an integer number of dong. These helpers refuse anything else."""

from __future__ import annotations

#: The most any one amount may be: more than a whole school's fees for a year, yet far below
#: what sums of amounts need before 64-bit columns overflow. Every amount a person, a file, an
#: API client or a bank notification gives is checked against it.
MAX_VND = 1_000_000_000_000


class AmountTooLarge(ValueError):
    """An amount over :data:`MAX_VND`: a typo (extra zeros) or an attack, never a real one."""


def require_vnd(value: object, *, field: str = "amount_vnd", allow_zero: bool = False) -> int:
    """Return ``value`` if it is a whole, non-negative number of dong, at most
    :data:`MAX_VND`, else raise ValueError (:class:`AmountTooLarge` for one too large).

    Floats are refused even when integral: a float in a money field is a bug upstream.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field} must be an integer number of dong")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{field} must be positive")
    return check_bound(value, field=field)


def check_bound(amount: int, *, field: str = "amount_vnd") -> int:
    """``amount`` if its size is at most :data:`MAX_VND` (either sign), else
    :class:`AmountTooLarge`."""
    if abs(amount) > MAX_VND:
        raise AmountTooLarge(f"{field} must be at most {MAX_VND}")
    return amount


def too_large(amount: object = None) -> tuple[str, str]:
    """The message for an amount over :data:`MAX_VND` (Vietnamese, English)."""
    shown = isinstance(amount, int) and not isinstance(amount, bool) and abs(amount) < 10**30
    return (f"Số tiền{f' {format_vnd(amount)} đ' if shown else ''} quá lớn: tối đa "
            f"{format_vnd(MAX_VND)} đ.",
            f"The amount{f' {amount:,} VND' if shown else ''} is too large: at most "
            f"{MAX_VND:,} VND.")


def format_vnd(amount: int) -> str:
    """``1250000`` -> ``"1.250.000"`` (Vietnamese thousands separator)."""
    sign = "-" if amount < 0 else ""
    return sign + f"{abs(amount):,}".replace(",", ".")
