"""Staff accounts: admins (every school), accountants and principals (their school), and the
education authorities (the aggregates of every school of a province or of one ward)."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import created_at_column
from .school import School

ROLES = ("admin", "accountant", "principal", "authority")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'accountant', 'principal', 'authority')",
                        name="role"),
        CheckConstraint("role IN ('admin', 'authority') OR school_id IS NOT NULL",
                        name="school_for_staff"),
        CheckConstraint(
            "role <> 'authority' OR (province_code IS NOT NULL AND school_id IS NULL)",
            name="authority_scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(16))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    #: An authority's scope: a province, or one ward of it (official codes, tuition.core.places).
    province_code: Mapped[int | None] = mapped_column(Integer)
    ward_code: Mapped[int | None] = mapped_column(Integer)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    #: SHA-256 of the API token; the token itself is shown once and never stored.
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: When the current API token was issued (empty: no token, or issued before this was kept).
    api_token_issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set when the user was disabled: no sign-in, no API token, every session ended.
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    school: Mapped[School | None] = relationship()

    def get_id(self) -> str:
        """The session id carries a fragment of the password hash, so that changing the
        password signs out every other session."""
        return f"{self.id}.{(self.password_hash or '')[-12:]}"

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses inactive users; a disabled user is inactive."""
        return self.disabled_at is None

    def can_read(self, school_id: int) -> bool:
        return self.role == "admin" or self.school_id == school_id

    def can_manage_money(self, school_id: int) -> bool:
        """Principals look; accountants (of their school) and admins change."""
        return self.role == "admin" or (self.role == "accountant" and self.school_id == school_id)
