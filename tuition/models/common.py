"""Column helpers shared by the models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.orm import mapped_column

from ..core import clock


def utcnow() -> datetime:
    return clock.now_utc()


def created_at_column():
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


def money_column(**kwargs):
    """An integer number of dong. Never a float."""
    return mapped_column(BigInteger, **kwargs)
