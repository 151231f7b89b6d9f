"""A school, its receiving bank accounts and its classes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import created_at_column

#: Levels a school may teach; a school may teach several.
LEVELS = {"mam_non": "Mầm non", "tieu_hoc": "Tiểu học", "thcs": "Trung học cơ sở"}


#: How a monthly fee item is billed for a month a child attends only in part (joining or
#: leaving mid-month): the whole month, half of it (for fewer than half of the month's school
#: days), or by the school days attended.
PARTIAL_MONTH_RULES = {"whole": "Thu cả tháng", "half": "Thu nửa tháng",
                       "days": "Thu theo số ngày học"}


class School(db.Model):
    __tablename__ = "schools"
    __table_args__ = (
        CheckConstraint("partial_month_rule IN ('whole', 'half', 'days')",
                        name="partial_month_rule"),
        CheckConstraint("(ward_code IS NULL) = (province_code IS NULL)", name="place"),
        Index("ix_schools_province_ward", "province_code", "ward_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Comma-separated keys of :data:`LEVELS`, e.g. ``"tieu_hoc,thcs"``.
    levels: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(300), default="")
    tax_code: Mapped[str | None] = mapped_column(String(14))
    phone: Mapped[str | None] = mapped_column(String(20))
    #: 2-4 capital letters that start every payment code of this school.
    payment_prefix: Mapped[str] = mapped_column(String(4), unique=True)
    #: Receipts: ký hiệu mẫu, and the letters of the series (the year's digits are added).
    receipt_template: Mapped[str] = mapped_column(
        String(20), default="01BLTT-001", server_default="01BLTT-001"
    )
    receipt_series_letters: Mapped[str] = mapped_column(
        String(8), default="AA", server_default="AA"
    )
    #: Each student pays into a virtual account of their own (tài khoản định danh): notices and
    #: VietQR codes name it instead of the main account, and an unknown one goes to review.
    uses_virtual_accounts: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )
    #: See :data:`PARTIAL_MONTH_RULES`.
    partial_month_rule: Mapped[str] = mapped_column(
        String(5), default="whole", server_default="whole"
    )
    #: Official codes of the province and of the commune/ward (see tuition.core.places);
    #: empty for schools created before they were asked. Names come from the package.
    province_code: Mapped[int | None] = mapped_column(Integer)
    ward_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()

    bank_accounts: Mapped[list[BankAccount]] = relationship(
        back_populates="school", order_by="BankAccount.id"
    )

    @property
    def level_list(self) -> list[str]:
        return [level for level in self.levels.split(",") if level]

    @property
    def default_account(self) -> BankAccount | None:
        for account in self.bank_accounts:
            if account.is_default:
                return account
        return self.bank_accounts[0] if self.bank_accounts else None


class BankAccount(db.Model):
    """An account the school receives fees into; notifications are routed by its number."""

    __tablename__ = "bank_accounts"
    __table_args__ = (UniqueConstraint("bin", "account_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: NAPAS BIN of the bank (6 digits).
    bin: Mapped[str] = mapped_column(String(6))
    account_number: Mapped[str] = mapped_column(String(19), index=True)
    account_name: Mapped[str] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Per-account webhook secrets; the deployment-wide ones apply when these are empty.
    sepay_api_key: Mapped[str | None] = mapped_column(String(200))
    casso_checksum_key: Mapped[str | None] = mapped_column(String(200))
    #: SePay user API token, for the pull backstop (`flask tuition sync`).
    sepay_api_token: Mapped[str | None] = mapped_column(String(200))
    #: Whether the deployment-wide webhook secrets (TUITION_SEPAY_API_KEY,
    #: TUITION_CASSO_CHECKSUM_KEY) may sign this account's notifications. Only an admin
    #: attaches an account to them; an account's own key always wins.
    uses_deployment_key: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false())
    created_at: Mapped[datetime] = created_at_column()

    school: Mapped[School] = relationship(back_populates="bank_accounts")


class Classroom(db.Model):
    __tablename__ = "classrooms"
    __table_args__ = (UniqueConstraint("school_id", "school_year", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: e.g. ``"2026-2027"``.
    school_year: Mapped[str] = mapped_column(String(9))
    name: Mapped[str] = mapped_column(String(40))
    #: Grade code: NT, MGB, MGN, MGL (mầm non) or 1..9.
    grade: Mapped[str] = mapped_column(String(3), index=True)
