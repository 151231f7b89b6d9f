"""Small SQL helpers that differ between PostgreSQL and SQLite."""

from __future__ import annotations

from ..extensions import db


def insert(table):
    """An INSERT that supports ``on_conflict_do_nothing()`` on the engine in use."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table)
