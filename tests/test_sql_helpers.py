"""services/sql.py's set-wise helpers give the same rows on both engines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tuition.extensions import db
from tuition.models import AuditEvent
from tuition.services import sql


def test_insert_rows_stores_every_value_and_returns_ids_in_order(ctx):
    when = datetime(2026, 12, 6, 17, 30, tzinfo=UTC)  # 00:30 on the 7th in Vietnam
    rows = [{"school_id": None, "actor_id": None, "action": f"test.{n}",
             "subject": f"row:{n}", "details": {"n": n, "tên": "Nguyễn Văn Bình",
                                                "list": [1, None, "x"]},
             "created_at": when} for n in (3, 1, 2)]
    ids = sql.insert_rows(AuditEvent.__table__, rows, ("subject",))
    db.session.commit()
    assert len(set(ids)) == 3
    stored = {event.id: event for event in db.session.scalars(select(AuditEvent))}
    for event_id, row in zip(ids, rows, strict=True):
        event = stored[event_id]
        assert (event.action, event.subject, event.details) == (
            row["action"], row["subject"], row["details"])
        assert event.created_at.replace(tzinfo=UTC) == when
        assert event.school_id is None and event.actor_id is None


def test_insert_rows_refuses_to_leave_out_a_default(ctx):
    with pytest.raises(ValueError, match="created_at"):
        sql.insert_rows(AuditEvent.__table__, [
            {"action": "x", "subject": "y", "details": {}}], ("subject",))


def test_in_list_matches_any_of_the_list(ctx):
    ids = sql.insert_rows(AuditEvent.__table__, [
        {"action": "t", "subject": f"s{n}", "details": {}, "created_at": datetime.now(UTC)}
        for n in range(5)], ("subject",))
    statement = select(AuditEvent.subject).where(sql.in_list(AuditEvent.id, "ids")) \
        .order_by(AuditEvent.id)
    assert list(db.session.scalars(statement, {"ids": [ids[1], ids[3]]})) == ["s1", "s3"]
    assert list(db.session.scalars(statement, {"ids": ids})) == [f"s{n}" for n in range(5)]
    assert list(db.session.scalars(statement, {"ids": []})) == []


def test_update_rows_sets_each_row_its_own_values(ctx):
    ids = sql.insert_rows(AuditEvent.__table__, [
        {"action": "t", "subject": f"s{n}", "details": {}, "created_at": datetime.now(UTC)}
        for n in range(3)], ("subject",))
    sql.update_rows(AuditEvent.__table__, [
        {"id": ids[2], "action": "hai", "details": {"tên": "Bình"}},
        {"id": ids[0], "action": "không", "details": {}}])
    db.session.commit()
    assert [(e.action, e.details) for e in db.session.scalars(
        select(AuditEvent).order_by(AuditEvent.id))] == [
        ("không", {}), ("t", {}), ("hai", {"tên": "Bình"})]
