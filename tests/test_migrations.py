"""Migrations move existing data safely: run the real `flask db upgrade` from the previous
head on a database holding money, then check what the new rules made of it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, text

BEFORE = "58fd3c6a647b"  # the head before per-account deduplication


@pytest.fixture
def scratch_url(tmp_path, database_url):
    """An empty database of the engine under test (a fresh PostgreSQL database, or a file)."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"tuition_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield database_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def flask_db(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", *args],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "DATABASE_URL": url, "TUITION_SECRET_KEY": "x" * 40},
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def engine_for(url: str):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def test_per_account_keys_and_deployment_key_attachment_migrate_existing_money(scratch_url):
    assert flask_db(scratch_url, "upgrade", BEFORE).returncode == 0
    engine = engine_for(scratch_url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO schools (id, code, name, levels, address, payment_prefix, "
            "receipt_template, receipt_series_letters, created_at) VALUES "
            "(1, 'LQD', 'Trường LQD', 'tieu_hoc', '', 'LQ', '01BLTT-001', 'AA', "
            "CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO bank_accounts (id, school_id, bin, account_number, account_name, "
            "is_default, sepay_api_key, created_at) VALUES "
            "(1, 1, '970436', '0011001234567', 'LQD', true, NULL, CURRENT_TIMESTAMP), "
            "(2, 1, '970418', '8800112233', 'LQD', false, 'own-key-0123456789abcdef', "
            "CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO bank_transactions (provider, provider_txn_id, school_id, "
            "bank_account_id, account_number, direction, amount_vnd, memo, occurred_at, raw, "
            "status, received_at) VALUES ('sepay', '7001', 1, 1, '0011001234567', 'in', "
            "500000, 'x', CURRENT_TIMESTAMP, '{}', 'review', CURRENT_TIMESTAMP)"))
    engine.dispose()

    upgraded = flask_db(scratch_url, "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    engine = engine_for(scratch_url)
    with engine.begin() as conn:
        attached = dict(conn.execute(text(
            "SELECT id, uses_deployment_key FROM bank_accounts")).all())
        # The account that relied on the deployment key keeps working; the other had its own
        # SePay key but no Casso key, so it stays attached for Casso's deployment key.
        assert attached == {1: True, 2: True}
        assert conn.execute(text("SELECT COUNT(*) FROM bank_transactions")).scalar() == 1
        # Another account may now use the same provider id.
        conn.execute(text(
            "INSERT INTO bank_transactions (provider, provider_txn_id, school_id, "
            "bank_account_id, account_number, direction, amount_vnd, memo, occurred_at, raw, "
            "status, received_at) VALUES ('sepay', '7001', 1, 2, '8800112233', 'in', "
            "300000, 'y', CURRENT_TIMESTAMP, '{}', 'review', CURRENT_TIMESTAMP)"))
        with pytest.raises(Exception, match="(?i)unique"):
            with conn.begin_nested():
                conn.execute(text(
                    "INSERT INTO bank_transactions (provider, provider_txn_id, school_id, "
                    "bank_account_id, account_number, direction, amount_vnd, memo, "
                    "occurred_at, raw, status, received_at) VALUES ('sepay', '7001', 1, 2, "
                    "'8800112233', 'in', 1, 'z', CURRENT_TIMESTAMP, '{}', 'review', "
                    "CURRENT_TIMESTAMP)"))
    engine.dispose()
    # Going back would merge the two accounts' ids: refused, nothing lost.
    refused = flask_db(scratch_url, "downgrade", BEFORE)
    assert refused.returncode != 0
    assert "Cannot downgrade" in refused.stderr
    engine = engine_for(scratch_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM bank_transactions")).scalar() == 2
    engine.dispose()


def test_indexes_of_set_values_keep_their_rows_and_their_uniqueness(scratch_url):
    """The indexes of mostly empty columns become indexes of the rows where the column is set
    (8f5dde1e5d76): existing rows stay, a reversal still reverses one allocation once, and
    going back restores the whole-column constraint."""
    assert flask_db(scratch_url, "upgrade", "f4b2c8d1e6a7").returncode == 0
    engine = engine_for(scratch_url)

    def allocate(conn, amount: int, reverses: int | None = None) -> None:
        conn.execute(text(
            "INSERT INTO allocations (transaction_id, kind, amount_vnd, reverses_id, reason, "
            "created_at) SELECT id, 'refund', :amount, :reverses, '', CURRENT_TIMESTAMP "
            "FROM bank_transactions"), {"amount": amount, "reverses": reverses})

    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO schools (code, name, levels, address, payment_prefix, "
            "receipt_template, receipt_series_letters, created_at) VALUES "
            "('LQD', 'Trường LQD', 'tieu_hoc', '', 'LQ', '01BLTT-001', 'AA', "
            "CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO bank_transactions (provider, provider_txn_id, school_id, "
            "account_number, direction, amount_vnd, memo, occurred_at, raw, status, "
            "received_at) SELECT 'sepay', '7001', id, '0011001234567', 'in', 500000, 'x', "
            "CURRENT_TIMESTAMP, '{}', 'credited', CURRENT_TIMESTAMP FROM schools"))
        allocate(conn, 500000)
        original = conn.execute(text("SELECT id FROM allocations")).scalar_one()
        allocate(conn, -500000, original)
        allocate(conn, 500000)
    engine.dispose()

    upgraded = flask_db(scratch_url, "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "No new upgrade operations" in flask_db(scratch_url, "check").stdout
    engine = engine_for(scratch_url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM allocations WHERE reverses_id = :id"),
                            {"id": original}).scalar() == 1
        with pytest.raises(Exception, match="reverses_id"):
            with conn.begin_nested():
                allocate(conn, -500000, original)
        # Allocations that reverse nothing are as many as they like.
        allocate(conn, -500000)
        allocate(conn, -500000)
    engine.dispose()

    assert flask_db(scratch_url, "downgrade", "f4b2c8d1e6a7").returncode == 0
    engine = engine_for(scratch_url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM allocations")).scalar() == 5
        with pytest.raises(Exception, match="reverses_id"):
            with conn.begin_nested():
                allocate(conn, -500000, original)
    engine.dispose()


def test_status_totals_trigger_is_planned_without_nested_loops(scratch_url):
    """Its transition tables have no statistics: planned as one row each, the old and new
    rows of a batch were joined pairwise (a1d7e4c2b9f3 plans the function without nested
    loops; going back restores the default)."""
    if not scratch_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL function setting; SQLite's triggers are row triggers")
    settings = text("SELECT proconfig FROM pg_proc "
                    "WHERE proname = 'summaries_transaction_statuses'")
    assert flask_db(scratch_url, "upgrade").returncode == 0
    engine = engine_for(scratch_url)
    with engine.connect() as conn:
        assert conn.execute(settings).scalar_one() == ["enable_nestloop=off"]
    engine.dispose()
    assert flask_db(scratch_url, "downgrade", "8f5dde1e5d76").returncode == 0
    engine = engine_for(scratch_url)
    with engine.connect() as conn:
        assert conn.execute(settings).scalar_one() is None
    engine.dispose()
