"""The cash desk: the cash book (sổ quỹ tiền mặt) of each person who takes money, its signed
daily closings, the cash taken to the bank, and the counters that number cash documents.

Cash received is also a :class:`~tuition.models.payments.BankTransaction` (provider ``cash``)
with the same allocations and receipts as a transfer; the cash book records where the notes
are: who holds them, since when, and when they left (a refund, a deposit, a voided receipt).
Every table here is append-only: a day once signed off is never changed, and a correction is
an entry on the day it is made.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import created_at_column, money_column

#: Kinds of cash-book entries: cash in, and the three ways cash leaves a cash box.
CASH_ENTRY_KINDS = {
    "in": "Thu tiền",
    "refund": "Chi hoàn tiền",
    "deposit": "Nộp tiền vào ngân hàng",
    "void": "Hủy biên lai thu tiền mặt",
}


class DocumentCounter(db.Model):
    """The last number of one series of cash documents of a school: ``PT`` (phiếu thu, cash
    in) or ``PC`` (phiếu chi, refunds), per calendar year. Its row lock keeps them gapless."""

    __tablename__ = "document_counters"
    __table_args__ = (
        UniqueConstraint("school_id", "kind", "year"),
        CheckConstraint("kind IN ('PT', 'PC')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    kind: Mapped[str] = mapped_column(String(2))
    year: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class CashEntry(db.Model):
    """One line of a cash book: money into or out of one person's cash box on one day."""

    __tablename__ = "cash_entries"
    __table_args__ = (
        CheckConstraint("amount_vnd > 0", name="amount_positive"),
        CheckConstraint("kind IN ('in', 'refund', 'deposit', 'void')", name="kind"),
        CheckConstraint(
            "(kind = 'in' AND transaction_id IS NOT NULL) OR "
            "(kind = 'refund' AND voucher_id IS NOT NULL) OR "
            "(kind = 'deposit' AND deposit_id IS NOT NULL) OR "
            "(kind = 'void' AND transaction_id IS NOT NULL AND receipt_id IS NOT NULL)",
            name="source",
        ),
        Index("ix_cash_entries_book", "school_id", "cashier_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    #: Whose cash box: the person who took the money (and hands it on).
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: The day of the book the entry is in (Vietnam's calendar).
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    #: Always positive; ``kind`` says whether it came in or went out.
    amount_vnd: Mapped[int] = money_column()
    #: The document: PT/PC number, the bank's deposit slip, or the voided receipt.
    document: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(300), default="")
    #: The cash payment (kind ``in``), or the one whose receipt was voided (``void``).
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("bank_transactions.id"), index=True)
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("payment_vouchers.id"))
    deposit_id: Mapped[int | None] = mapped_column(ForeignKey("cash_deposits.id"))
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    @property
    def signed_vnd(self) -> int:
        return self.amount_vnd if self.kind == "in" else -self.amount_vnd


class CashClosing(db.Model):
    """A signed-off day of one cash book. Once it exists the day is locked: nothing is added
    to it or taken from it, and the ledger check compares these figures with the entries."""

    __tablename__ = "cash_closings"
    __table_args__ = (
        UniqueConstraint("school_id", "cashier_id", "day"),
        CheckConstraint("closing_vnd = opening_vnd + in_vnd - out_vnd", name="balanced"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    day: Mapped[date] = mapped_column(Date)
    opening_vnd: Mapped[int] = money_column()
    in_vnd: Mapped[int] = money_column()
    out_vnd: Mapped[int] = money_column()
    closing_vnd: Mapped[int] = money_column()
    entries: Mapped[int] = mapped_column(Integer)
    #: Cash counted in the box at the closing, as the person signing says.
    counted_vnd: Mapped[int] = money_column()
    note: Mapped[str] = mapped_column(String(300), default="")
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = created_at_column()


class CashDeposit(db.Model):
    """Cash taken from a cash box to the school's bank account (nộp tiền mặt vào ngân hàng).

    The bank then notifies the money like any transfer; that notification is linked here and
    reported as the school's own money, never as a fee payment.
    """

    __tablename__ = "cash_deposits"
    __table_args__ = (CheckConstraint("amount_vnd > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    bank_account_id: Mapped[int | None] = mapped_column(ForeignKey("bank_accounts.id"))
    amount_vnd: Mapped[int] = money_column()
    #: The day the cash was handed in at the bank (Vietnam's calendar).
    deposited_on: Mapped[date] = mapped_column(Date)
    #: Số giấy nộp tiền, as printed on the bank's slip.
    slip_number: Mapped[str] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    #: The bank's notification of this money, once recognised.
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("bank_transactions.id"), unique=True)
    matched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Empty when recognised automatically.
    matched_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
