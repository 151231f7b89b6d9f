"""Sign-in invitations: a link that lets a new user set their own password, once, for a while."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import created_at_column
from .user import User


class Invitation(db.Model):
    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: SHA-256 of the token in the link; the token itself is shown (and sent) once, never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: When the password was set through it; a used link never works again.
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When a newer invitation for the same user replaced it.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Empty when issued from the server's console.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    user: Mapped[User] = relationship(foreign_keys=[user_id])
