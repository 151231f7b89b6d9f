"""Sign-in invitations: a new user sets their own password through a link, never receives one.

The link carries a random token; only its SHA-256 is stored. It works once and for
:data:`LIFETIME`; issuing a new invitation to the same user revokes the older ones.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from werkzeug.security import generate_password_hash

from ..core import clock
from ..extensions import db
from ..mail import Mail
from ..models import Invitation, School, User
from . import audit
from .errors import Invalid
from .users import hash_token

#: How long a link works.
LIFETIME = timedelta(hours=72)
MIN_PASSWORD = 10


@dataclass(frozen=True)
class Issued:
    """An invitation as shown once to whoever issued it (the token is not stored)."""

    user: User
    link: str
    expires_at: datetime


def link_for(token: str) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/moi/{token}"


def issue(actor: User | None, user: User, *, lifetime: timedelta = LIFETIME) -> Issued:
    """A new single-use link for ``user`` to set their password; older ones stop working."""
    now = clock.now_utc()
    db.session.execute(
        update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None),
               Invitation.revoked_at.is_(None))
        .values(revoked_at=now))
    token = secrets.token_urlsafe(32)
    invitation = Invitation(user_id=user.id, token_hash=hash_token(token),
                            expires_at=now + lifetime,
                            created_by_id=actor.id if actor and actor.id else None)
    db.session.add(invitation)
    db.session.flush()
    audit.record(actor if actor and actor.id else None, user.school_id, "user.invite",
                 f"user:{user.email}", expires_at=invitation.expires_at.isoformat())
    return Issued(user, link_for(token), invitation.expires_at)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def find(token: str) -> tuple[Invitation | None, str]:
    """The invitation of a link and its state: ``valid``, ``used``, ``expired``, ``revoked``,
    or ``unknown`` (with None)."""
    if not token or len(token) > 100:
        return None, "unknown"
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == hash_token(token)))
    if invitation is None:
        return None, "unknown"
    if invitation.used_at is not None:
        return invitation, "used"
    if invitation.revoked_at is not None:
        return invitation, "revoked"
    if _aware(invitation.expires_at) <= clock.now_utc():
        return invitation, "expired"
    return invitation, "valid"


def accept(token: str, password: str, again: str) -> User:
    """Set the password through a valid link, which is then used up. The row is locked, so
    the same link opened twice at once sets one password."""
    invitation, state = find(token)
    if state != "valid":
        raise Invalid("Liên kết không còn dùng được.", "This link no longer works.",
                      state=state)
    locked = db.session.scalar(select(Invitation).where(Invitation.id == invitation.id)
                               .with_for_update().execution_options(populate_existing=True))
    if locked.used_at is not None or locked.revoked_at is not None:
        raise Invalid("Liên kết không còn dùng được.", "This link no longer works.",
                      state="used")
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự.",
                      f"The password needs at least {MIN_PASSWORD} characters.",
                      field="password")
    if password != again:
        raise Invalid("Hai lần nhập mật khẩu không khớp.", "The two passwords differ.",
                      field="password_again")
    user = db.session.get(User, locked.user_id)
    user.password_hash = generate_password_hash(password)
    locked.used_at = clock.now_utc()
    db.session.flush()
    audit.record(user, user.school_id, "user.invitation_accepted", f"user:{user.email}")
    return user


def mail_for(issued: Issued, school: School | None = None) -> Mail:
    """The email that carries an invitation."""
    expires = clock.format_datetime(issued.expires_at)
    where = f" của {school.name}" if school else ""
    return Mail(
        to=issued.user.email,
        subject="Lời mời sử dụng hệ thống thu học phí không dùng tiền mặt",
        body=(
            f"Xin chào {issued.user.name or issued.user.email},\n\n"
            f"Bạn được mời sử dụng hệ thống thu học phí{where}. Hãy mở liên kết dưới đây để "
            f"tự đặt mật khẩu đăng nhập:\n\n{issued.link}\n\n"
            f"Liên kết chỉ dùng được một lần và hết hạn lúc {expires} (giờ Việt Nam). "
            "Nếu liên kết đã hết hạn, hãy đề nghị quản trị viên gửi lại.\n\n"
            f"Email đăng nhập của bạn: {issued.user.email}\n"
        ),
    )
