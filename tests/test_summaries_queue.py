"""The authority's totals of money received count a transaction once it left the match queue
(migration e3a1f7c90b25): a webhook's INSERT touches no summary row, so the webhooks of one
school are not stored one at a time behind that row's lock."""

from __future__ import annotations

import threading

from sqlalchemy import select, text

from tests.helpers import send_sepay, sepay_body
from tuition.extensions import db
from tuition.models import ReceiptSummary
from tuition.services import batch_matching, payments, schools, summaries


def totals() -> tuple[int, int]:
    db.session.rollback()
    rows = db.session.execute(select(ReceiptSummary.transactions, ReceiptSummary.amount_vnd)).all()
    return sum(r.transactions for r in rows), sum(r.amount_vnd for r in rows)


def assert_exact():
    checks = summaries.verify()
    assert all(check.ok for check in checks), [(c.table, c.problems) for c in checks if not c.ok]


def test_queued_money_enters_the_totals_when_matched(client, billed, queue_mode):
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    send_sepay(client, sepay_body("khong co ma", 300_000))
    assert totals() == (0, 0)  # waiting in the queue: in no total yet
    assert_exact()
    while batch_matching.match_pending(10).claimed:
        db.session.commit()
    assert totals() == (2, 800_000)  # matched, and in review: both money received
    assert_exact()


def test_a_rematch_keeps_the_totals_exact(client, billed):
    send_sepay(client, sepay_body("hoc phi HS001 " + billed.codes["HS002"][:-1], 500_000))
    assert totals() == (1, 500_000)  # in review
    school = schools.get_school("LQD")
    payments.rematch(school)
    db.session.commit()
    assert totals() == (1, 500_000)
    assert_exact()


def test_a_webhook_is_stored_while_another_transaction_holds_the_summary_row(
        app, client, billed, queue_mode):
    send_sepay(client, sepay_body(billed.codes["HS001"], 100_000))
    while batch_matching.match_pending(10).claimed:
        db.session.commit()
    db.session.rollback()
    answers = []
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as holder:
            # A match worker's batch in the middle of its transaction: the school's row of
            # money received is locked. (On SQLite a writer locks the whole database: only
            # the rule is checked there.)
            holder.execute(text("UPDATE summary_receipts SET transactions = transactions"))
            sender = threading.Thread(target=lambda: answers.append(
                send_sepay(app.test_client(), sepay_body(billed.codes["HS002"], 100_000))
                .status_code))
            sender.start()
            sender.join(timeout=5)
            stored_meanwhile = list(answers)
            holder.rollback()
        sender.join()
        assert stored_meanwhile == [200]  # stored while the row stayed locked
    else:
        answers.append(send_sepay(client, sepay_body(billed.codes["HS002"], 100_000))
                       .status_code)
    assert answers == [200]
    assert totals() == (1, 100_000)
    while batch_matching.match_pending(10).claimed:
        db.session.commit()
    assert totals() == (2, 200_000)
    assert_exact()
