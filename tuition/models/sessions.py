"""Signed-in staff sessions, kept on the server.

The session cookie only carries a random key; the row it names is the session. Signing out,
changing the password, disabling the user or "sign out everywhere" end rows, so a copied or
old cookie stops working at once; rows expire after a time even when nobody signs out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import created_at_column
from .user import User

#: Why a session ended.
END_REASONS = ("sign_out", "password", "disabled", "revoked", "expired")


class StaffSession(db.Model):
    __tablename__ = "staff_sessions"
    __table_args__ = (
        Index("ix_staff_sessions_live", "user_id", "ended_at"),
        CheckConstraint("end_reason IN ('sign_out', 'password', 'disabled', 'revoked', "
                        "'expired')", name="end_reason"),
        CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ended_with_reason"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: SHA-256 of the random key in the cookie; the key itself is never stored.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    #: Last request seen (refreshed at most every few minutes, not on every request).
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The session ends at this moment whatever happens (absolute lifetime).
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: One of :data:`END_REASONS`.
    end_reason: Mapped[str | None] = mapped_column(String(16))
    #: Address and browser at sign-in, so that a user can recognise their sessions.
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()
