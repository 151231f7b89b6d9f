"""The fast path for webhooks in queue mode (web/fast_webhooks.py): it stores the common
notification without Flask, and answers every request exactly as the Flask view does."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.helpers import KEY, assert_ledger_ok, payments_of, send_sepay, sepay_body
from tests.test_payments import casso_data, casso_request
from tuition.extensions import db
from tuition.models import BankTransaction, RefusedNotification
from tuition.services import schools


@pytest.fixture
def flask_views_called(app):
    """The names of the webhooks' Flask views called during the test, in order (the views
    themselves still answer)."""
    views = {name: app.view_functions[name] for name in ("webhooks.sepay", "webhooks.casso")}
    called = []

    def recording(name):
        def view():
            called.append(name)
            return views[name]()
        return view

    for name in views:
        app.view_functions[name] = recording(name)
    yield called
    app.view_functions.update(views)


def test_a_new_signed_notification_is_stored_without_the_flask_view(
        client, billed, queue_mode, flask_views_called, runner):
    response = send_sepay(client, sepay_body(billed.codes["HS001"], 500_000, txn_id=901))
    assert response.status_code == 200 and response.get_json() == {"success": True}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    casso = casso_request(client, casso_data(billed.codes["HS002"], 500_000, 902))
    assert casso.status_code == 200 and casso.get_json() == {"success": True}
    assert flask_views_called == []
    stored = db.session.execute(select(BankTransaction.provider, BankTransaction.status,
                                       BankTransaction.bank_account_id,
                                       BankTransaction.school_id)
                                .order_by(BankTransaction.id)).all()
    account = schools.get_school("LQD").bank_accounts[0]
    assert [tuple(row) for row in stored] == [
        ("sepay", "received", account.id, account.school_id),
        ("casso", "received", account.id, account.school_id)]
    # The match worker matches them like any other.
    assert runner.invoke(args=["tuition", "match-worker", "--once"]).exit_code == 0
    assert {p["status"] for p in payments_of(billed)} == {"matched"}
    assert_ledger_ok()


def test_a_cleaned_notification_waits_for_review(client, billed, queue_mode,
                                                 flask_views_called):
    body = sepay_body(billed.codes["HS001"] + " \x00 hoc phi", 500_000, txn_id=903)
    assert send_sepay(client, body).status_code == 200
    assert flask_views_called == []
    row = db.session.execute(select(BankTransaction.status, BankTransaction.status_reason,
                                    BankTransaction.memo)).one()
    assert row.status == "review" and row.status_reason == "cleaned_input"
    assert "\x00" not in row.memo


def _requests(billed, base: int):
    """Every kind of request a webhook meets, with ids from ``base``: (label, send)."""
    code = billed.codes["HS001"]

    def sepay(body, key=KEY, raw=None):
        return lambda client: client.post(
            "/webhooks/sepay", data=raw if raw is not None else json.dumps(body),
            headers={"Authorization": f"Apikey {key}", "Content-Type": "application/json"})

    new = sepay_body(code, 100_000, txn_id=base + 1)
    conflicting = dict(new, transferAmount=200_000)
    return [
        ("new", sepay(new)),
        ("repeat", sepay(new)),
        ("conflicting repeat", sepay(conflicting)),
        ("malformed", sepay(None, raw="{not json")),
        ("no amount", sepay({k: v for k, v in new.items() if k != "transferAmount"})),
        ("wrong key", sepay(sepay_body(code, 100_000, txn_id=base + 2),
                            key="wrong-key-0123456789-0123456789")),
        ("unknown account", sepay(sepay_body(code, 100_000, txn_id=base + 3,
                                             account="999999999"))),
        ("casso new", lambda client: casso_request(client, casso_data(code, 100_000,
                                                                      base + 4))),
        ("casso forged", lambda client: casso_request(
            client, casso_data(code, 100_000, base + 5), key="another-key-0123456789")),
        ("no memo code", sepay(sepay_body("hoc phi thang 9", 50_000, txn_id=base + 6))),
    ]


def _answers(client, billed, base: int) -> list[tuple]:
    answers = []
    for label, send in _requests(billed, base):
        response = send(client)
        # Flask adds "Vary: Cookie" when anything read the session (the locale); an answer
        # to a POST is never cached, and the fast path reads no session.
        headers = sorted((k, v) for k, v in response.headers.items()
                         if k not in ("Content-Length", "Vary"))
        answers.append((label, response.status_code, response.get_data(), headers))
    return answers


def _stored(first_id: int) -> list[tuple]:
    columns = (BankTransaction.provider, BankTransaction.school_id,
               BankTransaction.bank_account_id, BankTransaction.account_number,
               BankTransaction.direction, BankTransaction.amount_vnd, BankTransaction.memo,
               BankTransaction.status, BankTransaction.status_reason)
    return [tuple(row) for row in db.session.execute(
        select(*columns).where(BankTransaction.id >= first_id).order_by(BankTransaction.id))]


def test_every_answer_and_every_row_is_the_flask_views(app, client, billed, queue_mode):
    app.config["FAST_WEBHOOKS"] = False
    by_flask = _answers(client, billed, 1000)
    stored_by_flask = _stored(1)
    refusals_by_flask = db.session.query(RefusedNotification).count()
    db.session.rollback()
    first = (db.session.scalar(select(BankTransaction.id).order_by(
        BankTransaction.id.desc()).limit(1)) or 0) + 1
    app.config["FAST_WEBHOOKS"] = True
    fast = _answers(client, billed, 2000)
    assert [a[:2] for a in fast] == [a[:2] for a in by_flask]
    assert fast == by_flask
    assert _stored(first) == stored_by_flask
    assert db.session.query(RefusedNotification).count() == 2 * refusals_by_flask
    assert [a[1] for a in fast] == [200, 200, 409, 400, 400, 401, 401, 200, 401, 200]


def test_a_body_over_the_limit_is_refused_as_before(app, client, billed, queue_mode):
    app.config["MAX_CONTENT_LENGTH"], limit = 1000, app.config["MAX_CONTENT_LENGTH"]
    try:
        body = sepay_body(billed.codes["HS001"] + " " + "x" * 2000, 100_000)
        assert send_sepay(client, body).status_code == 413
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert db.session.query(BankTransaction).count() == 0


def test_what_the_fast_path_does_not_take_goes_to_the_flask_view(
        app, client, billed, queue_mode, flask_views_called):
    body = sepay_body(billed.codes["HS001"], 500_000)
    assert send_sepay(client, body).status_code == 200
    assert send_sepay(client, body).status_code == 200  # a repeat
    assert send_sepay(client, dict(body, id=body["id"] + 1), key="bad").status_code == 401
    assert flask_views_called == ["webhooks.sepay", "webhooks.sepay"]
    app.config["MATCH_IN_REQUEST"] = True  # matching before answering: always the view
    assert send_sepay(client, sepay_body(billed.codes["HS002"], 500_000)).status_code == 200
    assert flask_views_called == ["webhooks.sepay"] * 3
    assert {p["status"] for p in payments_of(billed)} == {"received", "matched"}


def test_a_remembered_account_costs_one_statement_and_a_changed_key_is_refused(
        app, client, billed, queue_mode, flask_views_called):
    from sqlalchemy import event

    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    assert send_sepay(client, sepay_body(billed.codes["HS001"], 100_000)).status_code == 200
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert send_sepay(client, sepay_body(billed.codes["HS002"], 100_000)).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert statements == ["INSERT"]  # no lookup of the account: it was remembered
    assert flask_views_called == []
    # The key is rotated (in another worker, say): this worker still remembers the old one.
    account = schools.get_school("LQD").bank_accounts[0]
    account.sepay_api_key = "a-new-key-0123456789-0123456789"
    db.session.commit()
    old = send_sepay(client, sepay_body(billed.codes["HS003"], 100_000))
    assert old.status_code == 401
    assert flask_views_called == ["webhooks.sepay"]  # the view, reading afresh, refused it
    new = send_sepay(client, sepay_body(billed.codes["HS003"], 100_000),
                     key="a-new-key-0123456789-0123456789")
    assert new.status_code == 200
    assert db.session.query(BankTransaction).count() == 3
