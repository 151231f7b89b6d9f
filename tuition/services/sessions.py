"""Staff sessions kept on the server (see :mod:`tuition.models.sessions`).

The cookie holds a random key; :func:`live` finds the session it names, if that session is
still open: not ended, not past its absolute lifetime, not idle too long, its user enabled.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..core import clock
from ..extensions import db
from ..models import StaffSession, User

#: ``last_seen_at`` is written at most this often per session, not on every request.
TOUCH_EVERY = timedelta(minutes=5)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def start(user: User, *, lifetime: timedelta, ip: str | None, user_agent: str | None) -> str:
    """Open a session for ``user`` (who has just proved their password); return its key."""
    key = secrets.token_urlsafe(32)
    now = clock.now_utc()
    db.session.add(StaffSession(
        user_id=user.id, key_hash=_hash(key), created_at=now, last_seen_at=now,
        expires_at=now + lifetime, ip=(ip or "")[:45] or None,
        user_agent=(user_agent or "")[:200] or None,
    ))
    db.session.flush()
    return key


def find(key: str | None) -> StaffSession | None:
    """The session a cookie's key names, open or not."""
    if not key or not isinstance(key, str) or len(key) > 100:
        return None
    return db.session.scalar(select(StaffSession).options(joinedload(StaffSession.user))
                             .where(StaffSession.key_hash == _hash(key)))


def is_open(row: StaffSession, *, idle: timedelta, now: datetime | None = None) -> bool:
    now = now or clock.now_utc()
    return (row.ended_at is None and _aware(row.expires_at) > now
            and _aware(row.last_seen_at) + idle > now)


def live(key: str | None, *, idle: timedelta) -> StaffSession | None:
    """The open session named by ``key``, with an enabled user; None otherwise.

    Seen sessions are marked as such at most every :data:`TOUCH_EVERY`, in a transaction of
    their own (the request's own transaction may read only, or roll back).
    """
    row = find(key)
    if row is None or row.user.disabled_at is not None:
        return None
    now = clock.now_utc()
    if not is_open(row, idle=idle, now=now):
        return None
    if now - _aware(row.last_seen_at) >= TOUCH_EVERY:
        with db.engine.begin() as conn:
            conn.execute(update(StaffSession).where(StaffSession.id == row.id)
                         .values(last_seen_at=now))
    return row


def end(row: StaffSession, reason: str) -> None:
    """End one session (sign-out); nothing happens to one that has ended already."""
    if row.ended_at is None:
        row.ended_at = clock.now_utc()
        row.end_reason = reason
        db.session.flush()


def end_all(user: User, reason: str, *, keep: StaffSession | None = None) -> int:
    """End every open session of ``user`` except ``keep``; return how many were open."""
    query = (update(StaffSession)
             .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
             .values(ended_at=clock.now_utc(), end_reason=reason))
    if keep is not None:
        query = query.where(StaffSession.id != keep.id)
    return db.session.execute(query).rowcount


def open_sessions(user: User, *, idle: timedelta) -> list[StaffSession]:
    """The user's sessions still open, newest first."""
    rows = db.session.scalars(
        select(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .order_by(StaffSession.created_at.desc(), StaffSession.id.desc()))
    now = clock.now_utc()
    return [row for row in rows if is_open(row, idle=idle, now=now)]


def open_counts(user_ids: list[int], *, idle: timedelta) -> dict[int, int]:
    """How many open sessions each of these users has."""
    counts: dict[int, int] = dict.fromkeys(user_ids, 0)
    if not user_ids:
        return counts
    now = clock.now_utc()
    for row in db.session.scalars(select(StaffSession).where(
            StaffSession.user_id.in_(user_ids), StaffSession.ended_at.is_(None),
            StaffSession.expires_at > now)):
        if is_open(row, idle=idle, now=now):
            counts[row.user_id] += 1
    return counts
