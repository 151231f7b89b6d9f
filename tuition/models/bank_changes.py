"""Changes to a school's receiving bank accounts and webhook keys, asked for and decided.

Whoever controls an account's routing or its webhook key can put money on invoices, so an
accountant does not change them alone: they ask, and the principal (or an admin) decides.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import created_at_column

BANK_CHANGE_ACTIONS = ("add_account", "update_keys", "rotate_sepay_key")
BANK_CHANGE_STATUSES = ("pending", "applied", "rejected")


class BankAccountChange(db.Model):
    __tablename__ = "bank_account_changes"
    __table_args__ = (
        CheckConstraint("action IN ('add_account', 'update_keys', 'rotate_sepay_key')",
                        name="action"),
        CheckConstraint("status IN ('pending', 'applied', 'rejected')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: The account changed (empty for a new account until it is applied).
    bank_account_id: Mapped[int | None] = mapped_column(ForeignKey("bank_accounts.id"))
    action: Mapped[str] = mapped_column(String(20))
    #: What is asked. Secrets typed by the requester (a Casso checksum key, a SePay API token)
    #: wait here until the decision, then are wiped: only "set" / "cleared" stays.
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = created_at_column()
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(String(300))
