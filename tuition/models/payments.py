"""Money received: bank transactions as notified, and where each dong went (allocations).

Both tables are append-only for money: an allocation is never edited or deleted; a reversal
is a new allocation with the opposite amount that points to the one it reverses.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import created_at_column, index_of_set, money_column, partial_index

TRANSACTION_STATUSES = ("received", "matched", "partial", "review", "credited", "ignored",
                        "duplicate")
ALLOCATION_KINDS = ("invoice", "credit", "refund")


class BankTransaction(db.Model):
    """One notification of money moving on a school's account, kept with its raw body."""

    __tablename__ = "bank_transactions"
    __table_args__ = (
        # A repeated delivery (webhook retry, statement re-upload) is the same transaction.
        # Aggregators number transactions per account (SePay's and Casso's ids are sequential
        # per account), so the key includes the receiving account: two schools' accounts
        # may well produce the same id.
        UniqueConstraint("provider", "account_number", "provider_txn_id"),
        CheckConstraint("amount_vnd > 0", name="amount_positive"),
        CheckConstraint("direction IN ('in', 'out')", name="direction"),
        CheckConstraint(
            "status IN ('received', 'matched', 'partial', 'review', 'credited', 'ignored', "
            "'duplicate')",
            name="status",
        ),
        Index("ix_bank_transactions_school_status", "school_id", "status"),
        # The match worker's queue: the few rows stored but not matched yet.
        partial_index("ix_bank_transactions_pending", "id", where="status = 'received'"),
        # A statement line without the bank's reference and an aggregator's notification of
        # the same transfer share account, amount and day: found through this index.
        Index("ix_bank_transactions_account_amount", "account_number", "amount_vnd"),
        # Statement lines without the bank's reference, which a notification of the same
        # transfer is looked for among (services/payments.first_twin).
        partial_index("ix_bank_transactions_statement_twins", "account_number", "amount_vnd",
                      where="provider = 'statement' AND bank_reference IS NULL"),
        # The same transfer seen through two channels (webhook and statement, or two
        # aggregators) carries the bank's own reference: it is one transaction.
        partial_index("uq_bank_transactions_account_reference", "account_number", "direction",
                      "bank_reference", where="bank_reference IS NOT NULL", unique=True),
        index_of_set("ix_bank_transactions_payer_account", "payer_account"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: sepay, casso or statement; cash (counted at the school's office, see services/cash.py);
    #: opening (a credit brought in from before the service: not money received here).
    provider: Mapped[str] = mapped_column(String(16))
    provider_txn_id: Mapped[str] = mapped_column(String(80))
    #: Empty when the receiving account belongs to no school here: kept, shown to admins.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    bank_account_id: Mapped[int | None] = mapped_column(ForeignKey("bank_accounts.id"))
    account_number: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(3))
    amount_vnd: Mapped[int] = money_column()
    memo: Mapped[str] = mapped_column(Text, default="")
    bank_reference: Mapped[str | None] = mapped_column(String(120))
    #: When the bank says the money moved (Vietnam local time, as given).
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    payer_account: Mapped[str | None] = mapped_column(String(40))
    payer_name: Mapped[str | None] = mapped_column(String(120))
    bank_name: Mapped[str | None] = mapped_column(String(80))
    #: The virtual account (tài khoản định danh) it was sent to, as the aggregator said.
    virtual_account: Mapped[str | None] = mapped_column(String(40))
    #: Who typed it in (cash, opening balances); empty for what a bank or aggregator told us.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The body exactly as received (or the statement row), before any interpretation.
    raw: Mapped[str] = mapped_column(Text)
    #: received: stored, not yet matched; then matched / partial / review / credited / ignored.
    status: Mapped[str] = mapped_column(String(10), default="received")
    #: Why it has its status (machine reason), for the review queue.
    status_reason: Mapped[str | None] = mapped_column(String(200))
    #: The same transfer already recorded through another channel (status "duplicate": this
    #: row's money is that row's, counted once), or probably so (held for review).
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("bank_transactions.id"))
    received_at: Mapped[datetime] = created_at_column()
    #: Reconciliation of a notified transfer against the bank's own list (the aggregator's
    #: transaction API or an uploaded statement): "confirmed", "unconfirmed" (listed nowhere:
    #: flagged on the dashboard, its receipts marked for review), or empty (not checked yet).
    bank_check: Mapped[str | None] = mapped_column(String(12))
    bank_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    allocations: Mapped[list[Allocation]] = relationship(
        back_populates="transaction", order_by="Allocation.id",
        foreign_keys="Allocation.transaction_id"
    )


class Allocation(db.Model):
    """A part of a transaction put on an invoice, on a student's credit, or refunded."""

    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("amount_vnd <> 0", name="amount_nonzero"),
        CheckConstraint("kind IN ('invoice', 'credit', 'refund')", name="kind"),
        CheckConstraint(
            "(kind = 'invoice' AND invoice_id IS NOT NULL) OR "
            "(kind = 'credit' AND student_id IS NOT NULL) OR kind = 'refund'",
            name="target",
        ),
        index_of_set("ix_allocations_student_id", "student_id"),
        # A reversal reverses one allocation, once.
        index_of_set("uq_allocations_reverses_id", "reverses_id", unique=True),
        index_of_set("ix_allocations_voucher_id", "voucher_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("bank_transactions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"))
    #: Positive puts money there; negative takes it back (a reversal or credit used).
    amount_vnd: Mapped[int] = money_column()
    #: The allocation this one reverses, if it is a reversal.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("allocations.id"))
    #: The payment voucher (phiếu chi) of a refund, and of the credit it took.
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("payment_vouchers.id"))
    #: Empty for automatic matching.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = created_at_column()

    transaction: Mapped[BankTransaction] = relationship(back_populates="allocations")


class RefusedNotification(db.Model):
    """A signed notification refused because it contradicts one already stored: the same id
    (provider, receiving account, provider's id) or bank reference with another amount,
    direction or account. Never acknowledged silently: kept here, with its raw body, for an
    admin to look at; repeated deliveries of the same body count up on one row."""

    __tablename__ = "refused_notifications"
    __table_args__ = (
        UniqueConstraint("provider", "account_number", "provider_txn_id", "body_sha256",
                         name="uq_refused_notifications_delivery"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_txn_id: Mapped[str] = mapped_column(String(80))
    account_number: Mapped[str] = mapped_column(String(40))
    #: The school whose account was named, if any.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    #: The stored transaction this one contradicts.
    conflicts_with_id: Mapped[int | None] = mapped_column(ForeignKey("bank_transactions.id"))
    #: Machine reason, e.g. ``conflicting_repeat``; and what differs, for people.
    reason: Mapped[str] = mapped_column(String(40))
    details: Mapped[str] = mapped_column(Text, default="")
    amount_vnd: Mapped[int | None] = money_column()
    direction: Mapped[str | None] = mapped_column(String(3))
    raw: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime] = created_at_column()
