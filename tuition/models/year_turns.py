"""The school year's turn (kết chuyển năm học): classes promoted, and what carried over."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import created_at_column, money_column


class YearTurn(db.Model):
    """One school's move from one school year to the next; kept as it was applied.

    Nothing of the old year is rewritten: its classes, invoices and credits stay; students
    move to the new year's classes. What each student owed and held at that moment is
    recorded here, and the ledger check recomputes it from the allocations.
    """

    __tablename__ = "year_turns"
    __table_args__ = (UniqueConstraint("school_id", "from_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    from_year: Mapped[str] = mapped_column(String(9))
    to_year: Mapped[str] = mapped_column(String(9))
    #: Old class name -> new class name, or null when the class graduates.
    classes: Mapped[dict] = mapped_column(JSON)
    #: Per student: code, from class, to class (null: graduated), action.
    moves: Mapped[list] = mapped_column(JSON)
    #: Per student with something to carry: code, debt, credit (dong).
    carried: Mapped[list] = mapped_column(JSON)
    carried_debt_vnd: Mapped[int] = money_column()
    carried_credit_vnd: Mapped[int] = money_column()
    turned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    turned_at: Mapped[datetime] = created_at_column()
