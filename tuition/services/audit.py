"""Writing the audit trail."""

from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import AuditEvent, User


def record(
    actor: User | None, school_id: int | None, action: str, subject: str, **details: Any
) -> AuditEvent:
    """Append an audit event in the current transaction (it commits with the change)."""
    event = AuditEvent(
        school_id=school_id,
        actor_id=actor.id if actor else None,
        action=action,
        subject=subject,
        details=details,
    )
    db.session.add(event)
    return event
