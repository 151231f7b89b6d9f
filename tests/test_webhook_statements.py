"""The webhook's hot path stays lean: a guard on the SQL one matched payment costs.

bench/bench_webhooks.py measures throughput; this catches the usual regressions early (a
lazy load, an object reloaded after the commit, a select before the lock) on any database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.helpers import assert_ledger_ok, invoice, send_sepay, sepay_body
from tuition.extensions import db


@pytest.fixture
def statements(app):
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split(None, 1)[0].upper())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def test_a_matched_payment_takes_twelve_statements_at_most(client, billed, statements):
    # The first receipt of the year creates the school's counter row; count the second.
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    statements.clear()
    response = send_sepay(client, sepay_body(billed.codes["HS002"], 500_000))
    assert response.status_code == 200
    # account; (SET LOCAL) insert | lock txn; lock the student, then the invoices; 3 writes;
    # receipt facts; number; receipt. Two commits besides.
    assert len(statements) <= 12, statements
    assert statements.count("SELECT") == 5, statements
    assert invoice(billed, "HS002")["status"] == "paid"
    assert_ledger_ok()


def test_a_repeated_delivery_changes_nothing_and_stays_cheap(client, billed, statements):
    body = sepay_body(billed.codes["HS001"], 500_000)
    send_sepay(client, body)
    statements.clear()
    assert send_sepay(client, body).status_code == 200
    # account; (SET LOCAL) insert that conflicts, the stored id | lock txn: already done.
    assert [s for s in statements if s != "SET"] == ["SELECT", "INSERT", "SELECT", "SELECT"]
    assert invoice(billed, "HS001")["paid_vnd"] == 500_000
