"""Small SQL helpers that differ between PostgreSQL and SQLite."""

from __future__ import annotations

from sqlalchemy import text

from ..extensions import db


def insert(table):
    """An INSERT that supports ``on_conflict_do_nothing()`` on the engine in use."""
    return insert_for(db.session.get_bind().dialect.name, table)


def insert_for(dialect: str, table):
    """An INSERT with ``on_conflict_do_nothing()`` for PostgreSQL or SQLite."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table)


def commit_without_waiting_for_disk() -> None:
    """Let the current transaction's commit return before its WAL reaches the disk.

    PostgreSQL only (``SET LOCAL synchronous_commit TO OFF``); elsewhere nothing. Only for a
    transaction that is always followed, before anybody is told it happened, by a synchronous
    commit of this session that writes WAL: that later flush covers every earlier WAL record,
    this commit's included. If the server crashes in between, the work is lost together with
    the answer, and whoever did not get the answer retries.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
