"""Virtual accounts (tài khoản định danh): one account number per student, issued by the
school's bank or aggregator on top of one of the school's accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import created_at_column
from .school import BankAccount


class VirtualAccount(db.Model):
    __tablename__ = "virtual_accounts"
    __table_args__ = (UniqueConstraint("school_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    #: One per student; a new list replaces a student's number (the audit log keeps the old).
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), unique=True)
    #: The school's account it belongs to: its bank (BIN) is the VA's bank.
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    #: As the bank writes it, upper-cased: what SePay puts in subAccount, Casso in
    #: virtualAccountNumber.
    number: Mapped[str] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    bank_account: Mapped[BankAccount] = relationship(lazy="joined")
