"""Billing runs and the invoices they issue."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import created_at_column, money_column
from .fees import FeeItem
from .student import Student

INVOICE_STATUSES = ("open", "partial", "paid", "cancelled")


class BillingRun(db.Model):
    __tablename__ = "billing_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    #: What was asked: fee item codes, classes, due date, school days.
    parameters: Mapped[dict] = mapped_column(JSON)
    invoices_created: Mapped[int] = mapped_column(Integer, default=0)
    total_vnd: Mapped[int] = money_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class Invoice(db.Model):
    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("total_vnd >= 0", name="total_nonnegative"),
        CheckConstraint("paid_vnd >= 0", name="paid_nonnegative"),
        CheckConstraint("status IN ('open', 'partial', 'paid', 'cancelled')", name="status"),
        # A student may have several invoices for a period (a supplementary run bills a fee
        # item added later); what may not happen twice is billing one fee item for one month,
        # which the unique index of billed_months guarantees (see models/corrections.py).
        Index("ix_invoices_school_period_status", "school_id", "period", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    billing_run_id: Mapped[int | None] = mapped_column(ForeignKey("billing_runs.id"))
    #: The payment code parents put in the transfer memo.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    period: Mapped[str] = mapped_column(String(16))
    total_vnd: Mapped[int] = money_column()
    #: Sum of the allocations to this invoice, kept in step under a row lock.
    paid_vnd: Mapped[int] = money_column(default=0)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    issued_at: Mapped[datetime] = created_at_column()
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancel_reason: Mapped[str | None] = mapped_column(String(300))

    student: Mapped[Student] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.position"
    )

    @property
    def balance_vnd(self) -> int:
        if self.status == "cancelled":
            return 0
        return max(self.total_vnd - self.paid_vnd, 0)


class InvoiceLine(db.Model):
    __tablename__ = "invoice_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    fee_item_id: Mapped[int | None] = mapped_column(ForeignKey("fee_items.id"))
    adjustment_id: Mapped[int | None] = mapped_column(ForeignKey("adjustments.id"), index=True)
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_vnd: Mapped[int] = money_column()
    reduction_vnd: Mapped[int] = money_column(default=0)
    #: quantity * unit_price - reduction; negative for a credit adjustment or a correction.
    amount_vnd: Mapped[int] = money_column()
    #: A line added after issue (see models/corrections.py): the correction it belongs to and
    #: the charge line it corrects. Lines are never edited or deleted.
    correction_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice_corrections.id"), index=True)
    corrects_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_lines.id"))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    fee_item: Mapped[FeeItem | None] = relationship()

    @property
    def is_charge(self) -> bool:
        """A fee item billed by a run (not an adjustment, not a correction)."""
        return (self.fee_item_id is not None and self.adjustment_id is None
                and self.correction_id is None)
