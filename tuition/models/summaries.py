"""Running totals for the education authority's overview, one set per school.

Kept exact by database triggers (created by the migration, on PostgreSQL and SQLite) in the
very transaction that issues, pays, cancels or reverses an invoice or stores a transfer, so they
can never drift from the base tables and every code path (ORM, bulk or set-wise SQL) is covered.
``flask tuition verify-summaries`` recomputes them from the base tables and compares.

Rows are per school and period (never one global row), so schools never wait for each other.
Nothing here is personal: counts and sums of dong.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class InvoiceSummary(db.Model):
    """The live (not cancelled) invoices of a school, period and due date."""

    __tablename__ = "summary_invoices"

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    #: The invoices' period key (2026-09, 2026-2027-HK1, 2026-2027).
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: Kept apart so that arrears can be aged at any day without reading the invoices.
    due_date: Mapped[date] = mapped_column(Date, primary_key=True)
    invoices: Mapped[int] = mapped_column(Integer, default=0)
    #: Invoices with money still owed (total above paid).
    invoices_owing: Mapped[int] = mapped_column(Integer, default=0)
    expected_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    collected_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Sum of max(total - paid, 0).
    outstanding_vnd: Mapped[int] = mapped_column(BigInteger, default=0)


class BilledStudent(db.Model):
    """How many live invoices a student has in a term or school year (its "scope").

    One live invoice per student and period is a constraint, so a month's students are its
    invoices; a term or a year needs this to count each student once.
    """

    __tablename__ = "summary_billed_students"

    school_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: A term (2026-2027-HK1) or a school year (2026-2027).
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    student_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoices: Mapped[int] = mapped_column(Integer, default=0)


class StudentCount(db.Model):
    """Students with at least one live invoice in a term or school year, per school."""

    __tablename__ = "summary_students"

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    students: Mapped[int] = mapped_column(Integer, default=0)


class ReceiptSummary(db.Model):
    """Money received (incoming transactions) per school, month and provider.

    By provider, not by channel: which providers are cash and which are not is decided when
    reading (tuition.core.channels), so that rule lives in one place and can change freely.
    """

    __tablename__ = "summary_receipts"

    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    #: YYYY-MM of when the bank says the money moved (occurred_at, Vietnam time).
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    transactions: Mapped[int] = mapped_column(Integer, default=0)
    amount_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The latest time one of these was stored (for "when did the bank feed last deliver").
    last_received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
