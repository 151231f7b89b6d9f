"""Money is an integer number of dong. These helpers refuse anything else."""

from __future__ import annotations


def require_vnd(value: object, *, field: str = "amount_vnd", allow_zero: bool = False) -> int:
    """Return ``value`` if it is a whole, non-negative number of dong, else raise ValueError.

    Floats are refused even when integral: a float in a money field is a bug upstream.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field} must be an integer number of dong")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{field} must be positive")
    return value


def format_vnd(amount: int) -> str:
    """``1250000`` -> ``"1.250.000"`` (Vietnamese thousands separator)."""
    sign = "-" if amount < 0 else ""
    return sign + f"{abs(amount):,}".replace(",", ".")
