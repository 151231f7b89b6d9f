"""Column helpers shared by the models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, text
from sqlalchemy.orm import mapped_column

from ..core import clock


def utcnow() -> datetime:
    return clock.now_utc()


def created_at_column():
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


def money_column(**kwargs):
    """An integer number of dong. Never a float."""
    return mapped_column(BigInteger, **kwargs)


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of the rows where ``where`` holds, on both engines."""
    condition = text(where)
    return Index(name, *columns, unique=unique, postgresql_where=condition,
                 sqlite_where=condition)


def index_of_set(name: str, column: str, *, unique: bool = False) -> Index:
    """An index of the rows where ``column`` is set. For a column empty on most rows (the
    payer's account of an aggregator that does not give it, a reversal's original): the
    rows written all day add nothing to it, and ``column = x`` still finds its rows."""
    return partial_index(name, column, where=f"{column} IS NOT NULL", unique=unique)
