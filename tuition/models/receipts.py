"""Receipts (biên lai thu tiền): numbered per school and series with no gaps, never reused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import created_at_column, index_of_set, money_column, partial_index


class ReceiptSeries(db.Model):
    """The counter of one series (ký hiệu) of a school; its row lock makes numbers gapless."""

    __tablename__ = "receipt_series"
    __table_args__ = (UniqueConstraint("school_id", "series"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    #: Ký hiệu: capital letters and the year's last two digits, e.g. ``AA-26``.
    series: Mapped[str] = mapped_column(String(12))
    #: Ký hiệu mẫu printed on every receipt of the series.
    template_symbol: Mapped[str] = mapped_column(String(20))
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Receipt(db.Model):
    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("school_id", "series", "number"),
        CheckConstraint("amount_vnd > 0", name="amount_positive"),
        CheckConstraint("number BETWEEN 1 AND 9999999", name="number_range"),
        CheckConstraint("status IN ('valid', 'void')", name="status"),
        # One valid receipt per allocation: a replacement comes only after a void.
        partial_index("uq_receipts_allocation_valid", "allocation_id", where="status = 'valid'",
                      unique=True),
        Index("ix_receipts_school_issued", "school_id", "issued_at"),
        # A receipt replaces at most one void receipt, and is replaced at most once.
        index_of_set("uq_receipts_replaces_id", "replaces_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    series: Mapped[str] = mapped_column(String(12))
    template_symbol: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(Integer)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocations.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    amount_vnd: Mapped[int] = money_column()
    #: What the receipt says, frozen when issued (names, class, items, bank reference).
    content: Mapped[dict] = mapped_column(JSON)
    #: Unguessable token of the public verification link.
    verify_token: Mapped[str] = mapped_column(String(32), unique=True)
    #: "Mã tra cứu": the token's first eight characters in capitals, printed to be typed in
    #: on the verification page (not unique by construction, so looked up through an index).
    lookup_code: Mapped[str | None] = mapped_column(String(12), index=True)
    #: Empty for receipts issued automatically.
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = created_at_column()
    status: Mapped[str] = mapped_column(String(5), default="valid")
    void_reason: Mapped[str | None] = mapped_column(String(300))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id"))
    #: Set while the money behind the receipt is in doubt (e.g. "unconfirmed_by_bank": the
    #: bank's own list does not show the transfer); the verification page says so.
    review_reason: Mapped[str | None] = mapped_column(String(40))

    replaces: Mapped[Receipt | None] = relationship(remote_side=[id])

    @property
    def label(self) -> str:
        return f"{self.series} / {self.number:07d}"
