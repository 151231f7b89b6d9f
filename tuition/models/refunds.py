"""Payment vouchers (phiếu chi): money a school pays back to a family, in cash or by transfer.

A refund takes credit the student holds (allocations ``credit`` -x and ``refund`` +x on the
transactions that hold it, pointing here); a cash refund is also a cash-book entry, and a
transfer refund is confirmed by the school's outgoing bank notification, linked here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
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

REFUND_METHODS = {"cash": "Tiền mặt", "transfer": "Chuyển khoản"}
#: pending: a transfer not yet seen leaving the account; paid; cancelled (credit given back).
VOUCHER_STATUSES = {"pending": "Chờ ngân hàng xác nhận", "paid": "Đã chi",
                    "cancelled": "Đã hủy"}


class PaymentVoucher(db.Model):
    __tablename__ = "payment_vouchers"
    __table_args__ = (
        UniqueConstraint("school_id", "code"),
        CheckConstraint("amount_vnd > 0", name="amount_positive"),
        CheckConstraint("method IN ('cash', 'transfer')", name="method"),
        CheckConstraint("status IN ('pending', 'paid', 'cancelled')", name="status"),
        CheckConstraint("method = 'transfer' OR cashier_id IS NOT NULL", name="cash_has_cashier"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: ``PC26-000012``: the series of the year and its number, gapless per school.
    code: Mapped[str] = mapped_column(String(16))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    amount_vnd: Mapped[int] = money_column()
    method: Mapped[str] = mapped_column(String(8))
    payee_name: Mapped[str] = mapped_column(String(120))
    #: For a transfer: the family's account, and the bank (NAPAS BIN or name).
    payee_account: Mapped[str | None] = mapped_column(String(40))
    payee_bank: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(300))
    #: For cash: whose cash box paid it.
    cashier_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = created_at_column()
    status: Mapped[str] = mapped_column(String(10))
    #: The school's outgoing bank notification that paid a transfer refund.
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("bank_transactions.id"), unique=True)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancel_reason: Mapped[str | None] = mapped_column(String(300))

    student: Mapped[Student] = relationship()
