"""How one fee item becomes an invoice line: quantity, unit price and reductions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reduction:
    """A miễn giảm that applies to a line: ``percent`` (1-100) or ``fixed`` dong per unit."""

    kind: str
    value: int


@dataclass(frozen=True)
class LineAmount:
    gross_vnd: int
    reduction_vnd: int

    @property
    def amount_vnd(self) -> int:
        return self.gross_vnd - self.reduction_vnd


def charge(unit_price_vnd: int, quantity: int, reductions: list[Reduction]) -> LineAmount:
    """The gross amount and the total reduction, capped so a line never goes below zero.

    Percentages are taken of the gross amount and rounded down to the dong, in the parent's
    favour of a fraction of a dong.
    """
    return charge_gross(unit_price_vnd * quantity, quantity, reductions)


def charge_gross(gross: int, quantity: int, reductions: list[Reduction]) -> LineAmount:
    """As :func:`charge`, for a gross amount that is not a plain unit price times quantity
    (a line recomputed after a leave date): fixed reductions count ``quantity`` units."""
    reduction = 0
    for item in reductions:
        if item.kind == "percent":
            reduction += gross * item.value // 100
        elif item.kind == "fixed":
            reduction += item.value * quantity
        else:
            raise ValueError(f"unknown reduction kind {item.kind!r}")
    return LineAmount(gross, min(reduction, gross))
