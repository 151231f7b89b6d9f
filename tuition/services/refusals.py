"""Notifications refused because they contradict what is stored, kept for an admin.

A signed notification that repeats a stored transaction's id (or bank reference) with another
amount, direction or account is never acknowledged silently and never overwrites anything: it
is refused (409) and recorded here with its raw body. The aggregator's retries of the same body
count up on one row.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from ..core.notifications import BankNotification
from ..extensions import db
from ..models import BankTransaction, RefusedNotification, User
from . import sql
from .access import require_admin


def record(notification: BankNotification, raw: str | bytes, *, school_id: int | None,
           stored_id: int | None, reason: str, details: str) -> None:
    """Keep a refused notification (flushes). Its own transaction: the caller rolled back."""
    body = raw if isinstance(raw, bytes) else raw.encode("utf-8", errors="replace")
    table = RefusedNotification.__table__
    statement = sql.insert(table).values(
        provider=notification.provider, provider_txn_id=notification.provider_txn_id[:80],
        account_number=notification.account_number[:40], school_id=school_id,
        conflicts_with_id=stored_id, reason=reason, details=details[:2000],
        amount_vnd=notification.amount_vnd, direction=notification.direction,
        raw=body.decode("utf-8", errors="replace"),
        body_sha256=hashlib.sha256(body).hexdigest(), deliveries=1,
        first_seen_at=func.now(), last_seen_at=func.now())
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["provider", "account_number", "provider_txn_id", "body_sha256"],
        set_={"deliveries": table.c.deliveries + 1, "last_seen_at": func.now()}))


def recent(actor: User, limit: int = 200) -> list[RefusedNotification]:
    """The latest refused notifications, for admins."""
    require_admin(actor)
    return list(db.session.scalars(
        select(RefusedNotification).order_by(RefusedNotification.last_seen_at.desc(),
                                             RefusedNotification.id.desc()).limit(limit)))


def refused_json(row: RefusedNotification) -> dict:
    stored = db.session.get(BankTransaction, row.conflicts_with_id) if row.conflicts_with_id \
        else None
    return {
        "id": row.id, "provider": row.provider, "provider_txn_id": row.provider_txn_id,
        "account_number": row.account_number, "reason": row.reason, "details": row.details,
        "amount_vnd": row.amount_vnd, "direction": row.direction,
        "deliveries": row.deliveries, "first_seen_at": row.first_seen_at.isoformat(),
        "last_seen_at": row.last_seen_at.isoformat(),
        "conflicts_with": None if stored is None else {
            "id": stored.id, "amount_vnd": stored.amount_vnd, "direction": stored.direction,
            "school_id": stored.school_id},
        "raw": row.raw,
    }
