"""What was billed, month by month, and the corrections made to invoices after issue.

``billed_months`` is the hard guarantee behind idempotent billing: one row per student, fee
item and calendar month an invoice line charges, unique among the rows still in force, and
written in the same transaction as the lines. A September month run and a first-term run can
therefore never both charge September's tuition, whatever runs at the same moment. Cancelling
an invoice (or a leave date that takes a month off) releases its rows: they stay, marked.

An :class:`InvoiceCorrection` changes an issued invoice the only way money records change
here: by new lines (``invoice_lines.correction_id``), each pointing at the charge line it
corrects, with who, when and why; the invoice's total follows under its row lock.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .billing import Invoice
from .common import created_at_column, money_column, partial_index

CORRECTION_CAUSES = ("exemption", "attendance")


class BilledMonth(db.Model):
    __tablename__ = "billed_months"
    __table_args__ = (
        partial_index("uq_billed_months_student_item_month_live", "student_id", "fee_item_id",
                      "month", where="released_at IS NULL", unique=True),
        CheckConstraint("days IS NULL OR days >= 0", name="days_nonnegative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    fee_item_id: Mapped[int] = mapped_column(ForeignKey("fee_items.id"))
    #: The first day of the calendar month charged.
    month: Mapped[date] = mapped_column(Date)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    invoice_line_id: Mapped[int] = mapped_column(ForeignKey("invoice_lines.id"), index=True)
    #: What the line charges for this month before reductions (month and per-day items);
    #: empty for items billed per term, year or once (they are not split by month).
    gross_vnd: Mapped[int | None] = money_column()
    #: School days charged this month (per-day items).
    days: Mapped[int | None] = mapped_column(Integer)
    #: The price it came from: the month's (monthly items, also for a part month) or the
    #: day's (per-day items).
    unit_price_vnd: Mapped[int | None] = money_column()
    #: Set when the charge no longer holds the month (invoice cancelled, child left).
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InvoiceCorrection(db.Model):
    """A change to an issued invoice: an exemption granted later, a child joining or leaving."""

    __tablename__ = "invoice_corrections"
    __table_args__ = (
        CheckConstraint("cause IN ('exemption', 'attendance')", name="cause"),
        CheckConstraint("total_after_vnd >= 0", name="total_after_nonnegative"),
        CheckConstraint("to_credit_vnd >= 0", name="to_credit_nonnegative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    cause: Mapped[str] = mapped_column(String(12))
    exemption_id: Mapped[int | None] = mapped_column(ForeignKey("exemptions.id"), index=True)
    #: What changed, as people read it (printed in the audit log and the staff message).
    reason: Mapped[str] = mapped_column(String(300))
    total_before_vnd: Mapped[int] = money_column()
    total_after_vnd: Mapped[int] = money_column()
    #: Money already paid on the invoice beyond its new total, moved to the student's credit.
    to_credit_vnd: Mapped[int] = money_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    invoice: Mapped[Invoice] = relationship()
