"""Small SQL helpers that differ between PostgreSQL and SQLite."""

from __future__ import annotations

import functools
import json
from datetime import date, datetime

from sqlalchemy import Boolean, any_, bindparam, text, update
from sqlalchemy import insert as core_insert
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from ..extensions import db


class in_list(ColumnElement):  # noqa: N801  (reads as the operator it is)
    """``column IN (:name)`` for a list passed as the parameter ``name`` at execution.

    On PostgreSQL it is ``column = ANY(:name)`` with the list as one array parameter, so the
    SQL is the same whatever the list's length: SQLAlchemy compiles it once and psycopg
    prepares it once. An expanding IN renders one placeholder per element, new text for
    every length, which costs the batch matcher more Python than its rows (a 200-element
    list is parsed again by psycopg at each execution). Elsewhere, the expanding IN.
    """

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("name", InternalTraversal.dp_string)]
    type = Boolean()

    def __init__(self, column, name: str) -> None:
        self.column = column
        self.name = name


@compiles(in_list)
def _in_list_expanding(element, compiler, **kw):
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(in_list, "postgresql")
def _in_list_array(element, compiler, **kw):
    return compiler.process(
        element.column == any_(bindparam(element.name, type_=ARRAY(element.column.type))),
        **kw)


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


def insert_rows(table, rows: list[dict], key: tuple[str, ...]) -> list[int]:
    """INSERT ``rows`` (dicts with the same columns, Python-side defaults included) into
    ``table`` in the session's transaction; return their ids, in the rows' order.

    On PostgreSQL one ``INSERT ... SELECT FROM json_to_recordset(:rows)``: the rows travel
    as one JSON document (one parameter, serialised in C; arrays of text would be escaped
    element by element in Python), and the SQL is the same for any number of rows (prepared
    once, as :class:`in_list` explains). The ids come back with ``key``, columns whose values
    together differ from row to row, to put them in order. Elsewhere a multi-row INSERT ...
    RETURNING in parameter order.
    """
    if not rows:
        return []
    names = tuple(rows[0])
    missing = [c.name for c in table.c if c.default is not None and c.name not in names
               and not c.primary_key]
    if missing:  # a default the database does not know would be silently NULL
        raise ValueError(f"insert_rows into {table.name}: give {', '.join(missing)}")
    if db.session.get_bind().dialect.name != "postgresql":
        return list(db.session.scalars(
            core_insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))
    ids = {tuple(found[1:]): found[0] for found in db.session.execute(
        _recordset_insert(table, names, key), {"rows": _document(rows)})}
    return [ids[tuple(row[name] for name in key)] for row in rows]


def update_rows(table, rows: list[dict]) -> None:
    """UPDATE ``table`` set-wise: each of ``rows`` (dicts with the same columns) gives a row's
    ``id`` and its new values; the rows are expected to be locked already.

    On PostgreSQL one ``UPDATE ... FROM json_to_recordset(:rows)``, as :func:`insert_rows`:
    statement-level triggers run once for all the rows, and the SQL is the same for any
    number of them. Elsewhere (SQLite: one writer at a time) one UPDATE per row.
    """
    if not rows:
        return
    names = tuple(name for name in rows[0] if name != "id")
    if db.session.get_bind().dialect.name != "postgresql":
        db.session.execute(_update_by_id(table, names),
                           [{f"b_{k}": v for k, v in row.items()} for row in rows])
        return
    db.session.execute(_recordset_update(table, names), {"rows": _document(rows)})


def _document(rows: list[dict]) -> str:
    return json.dumps(rows, default=_json_value, ensure_ascii=False)


def _json_value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"no JSON for a {type(value).__name__} in a row to write")


def _recordset(table, names: tuple[str, ...]) -> str:
    """``json_to_recordset(:rows) AS given(...)``, typed as ``table``'s columns."""
    dialect = postgresql.dialect()
    columns = ", ".join(f"{name} {table.c[name].type.compile(dialect=dialect)}"
                        for name in names)
    return f"json_to_recordset(CAST(:rows AS json)) AS given({columns})"


@functools.cache
def _recordset_insert(table, names: tuple[str, ...], key: tuple[str, ...]):
    listed = ", ".join(names)
    return text(f"INSERT INTO {table.name} ({listed}) SELECT {listed} FROM "
                f"{_recordset(table, names)} RETURNING id, {', '.join(key)}")


@functools.cache
def _recordset_update(table, names: tuple[str, ...]):
    sets = ", ".join(f"{name} = given.{name}" for name in names)
    return text(f"UPDATE {table.name} SET {sets} FROM {_recordset(table, ('id', *names))} "
                f"WHERE {table.name}.id = given.id")


@functools.cache
def _update_by_id(table, names: tuple[str, ...]):
    return (update(table).where(table.c.id == bindparam("b_id"))
            .values({name: bindparam(f"b_{name}") for name in names}))


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


def guard_sqlite_row_locks(engine) -> None:
    """Give ``SELECT ... FOR UPDATE`` its meaning on SQLite, which ignores it.

    On PostgreSQL a row lock makes "read, decide, write" exactly-once: a concurrent request
    waits, then reads what the first one wrote. SQLite has no row locks, and Python's sqlite3
    runs reads outside any transaction until the first write, so two requests can both read a
    notification as unmatched and both allocate it. SQLite's one lock is the database's write
    lock: wherever a statement asks for a row lock and this connection has not taken the write
    lock yet, ``BEGIN IMMEDIATE`` takes it (waiting for the current writer) before the read.
    From then until commit no other connection writes, so what is read stays true.

    sqlite3 (legacy transaction control) opens a transaction only before a write, and a write
    holds the write lock to the end of its transaction; so "in a transaction" means "holding
    the write lock" here, and nothing needs doing then. Reads outside a locked section still
    see each statement's latest committed state, as under PostgreSQL's read committed.

    Also on every new connection: WAL journal (readers never wait for the writer) and a busy
    timeout long enough for writers to queue rather than fail.
    """
    from sqlalchemy import event

    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            dbapi_connection.execute("PRAGMA journal_mode = WAL")

    @event.listens_for(engine, "before_execute")
    def _write_lock_for_row_locks(conn, statement, *_args):
        if getattr(statement, "_for_update_arg", None) is None:
            return
        dbapi_connection = conn.connection.driver_connection
        if not dbapi_connection.in_transaction:
            dbapi_connection.execute("BEGIN IMMEDIATE")


#: How long a writer waits for SQLite's write lock before giving up ("database is locked").
SQLITE_BUSY_TIMEOUT_MS = 30_000
