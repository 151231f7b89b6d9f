"""What a school charges: fee items, opt-in enrolments, exemptions and one-off adjustments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import created_at_column, money_column
from .student import Student

UNITS = {
    "month": "tháng",
    "term": "học kỳ",
    "year": "năm học",
    "once": "lần",
    "school_day": "ngày",
}


class FeeItem(db.Model):
    """A khoản thu: tuition, meals, boarding, bus, ..."""

    __tablename__ = "fee_items"
    __table_args__ = (
        UniqueConstraint("school_id", "code"),
        CheckConstraint("amount_vnd > 0", name="amount_positive"),
        CheckConstraint(
            "unit IN ('month', 'term', 'year', 'once', 'school_day')", name="unit"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    amount_vnd: Mapped[int] = money_column()
    unit: Mapped[str] = mapped_column(String(12))
    #: Comma-separated grade codes it applies to; empty means every grade.
    grades: Mapped[str] = mapped_column(String(64), default="")
    #: Comma-separated class names it applies to; empty means every class of those grades.
    classes: Mapped[str] = mapped_column(String(500), default="")
    #: Opt-in items (bán trú, xe đưa đón) are billed only to enrolled students.
    mandatory: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_at_column()
    #: Set when the school stops charging it: hidden from new billing runs; what was billed
    #: stays as billed. Never deleted (invoice lines point to it).
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    retire_reason: Mapped[str | None] = mapped_column(String(300))

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    def applies_to(self, grade: str, class_name: str) -> bool:
        grades = [g for g in self.grades.split(",") if g]
        classes = [c for c in self.classes.split(",") if c]
        return (not grades or grade in grades) and (not classes or class_name in classes)


class Enrolment(db.Model):
    """A student's subscription to an opt-in fee item."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("student_id", "fee_item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    fee_item_id: Mapped[int] = mapped_column(ForeignKey("fee_items.id"), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()


class Exemption(db.Model):
    """Miễn giảm: a percentage or fixed reduction for one student, one item or all."""

    __tablename__ = "exemptions"
    __table_args__ = (
        CheckConstraint("kind IN ('percent', 'fixed')", name="kind"),
        CheckConstraint(
            "(kind = 'percent' AND value > 0 AND value <= 100) OR (kind = 'fixed' AND value > 0)",
            name="value_range",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    #: Empty means every fee item.
    fee_item_id: Mapped[int | None] = mapped_column(ForeignKey("fee_items.id"))
    kind: Mapped[str] = mapped_column(String(8))
    #: Percent (1-100) or a fixed amount in dong per billed unit.
    value: Mapped[int] = money_column()
    #: Policy category, e.g. "Hộ nghèo", "Con thương binh".
    reason: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    student: Mapped[Student] = relationship()


class Adjustment(db.Model):
    """A credit (negative) or charge (positive) line for a student's next invoice.

    Whether it is billed is derived from the invoice lines that point to it, so a cancelled
    invoice gives its adjustments back without editing anything.
    """

    __tablename__ = "adjustments"
    __table_args__ = (CheckConstraint("amount_vnd <> 0", name="amount_nonzero"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    amount_vnd: Mapped[int] = money_column()
    description: Mapped[str] = mapped_column(String(200))
    #: The fee item it corrects (a meal refund is on meals), so reports by fee item keep it
    #: there; empty for adjustments of no particular item (spread over the invoice's items).
    fee_item_id: Mapped[int | None] = mapped_column(ForeignKey("fee_items.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    student: Mapped[Student] = relationship()
    fee_item: Mapped[FeeItem | None] = relationship()
