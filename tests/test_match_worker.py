"""Queue mode: webhooks only store (durably) and answer; match workers do the matching."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from tests.helpers import assert_ledger_ok, invoice, payments_of, send_sepay, sepay_body
from tuition.extensions import db
from tuition.models import Allocation, AuditEvent, BankTransaction, Receipt
from tuition.services import payments, schools, users


def test_webhook_stores_and_the_worker_matches(client, billed, runner, queue_mode):
    assert send_sepay(client, sepay_body(billed.codes["HS001"], 500_000)).get_json() == {
        "success": True}
    send_sepay(client, sepay_body("khong co ma", 300_000))
    assert {p["status"] for p in payments_of(billed)} == {"received"}
    assert invoice(billed, "HS001")["paid_vnd"] == 0
    assert assert_ledger_ok().awaiting_review_vnd == 800_000  # stored money is accounted for

    result = runner.invoke(args=["tuition", "match-worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Đã xử lý 2 giao dịch." in result.output
    assert invoice(billed, "HS001")["status"] == "paid"
    assert sorted(p["status"] for p in payments_of(billed)) == ["matched", "review"]
    assert db.session.query(Receipt).count() == 1
    assert_ledger_ok()
    again = runner.invoke(args=["tuition", "match-worker", "--once"])
    assert "Đã xử lý 0 giao dịch." in again.output


def test_after_a_small_batch_the_worker_lets_the_queue_fill(client, billed, runner,
                                                            queue_mode, monkeypatch):
    import os
    import signal
    import time

    for n in (1, 2, 3):
        send_sepay(client, sepay_body(billed.codes[f"HS00{n}"], 100_000, txn_id=500 + n))
    waits = []

    def sleep(seconds):  # the first wait ends the worker, as SIGTERM does
        waits.append(seconds)
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(time, "sleep", sleep)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        result = runner.invoke(args=["tuition", "match-worker", "--batch", "10",
                                     "--gather", "0.3", "--idle", "0.01"])
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert result.exit_code == 0, result.output
    assert "Đã xử lý 3 giao dịch." in result.output
    assert waits == [0.3]  # 3 < 10: it waited --gather, not --idle, before claiming again
    assert {p["status"] for p in payments_of(billed)} == {"partial"}  # a part of each
    assert_ledger_ok()


def test_a_notification_that_cannot_be_matched_does_not_hold_up_the_queue(
        client, billed, runner, queue_mode, monkeypatch):
    send_sepay(client, sepay_body("HONG " + billed.codes["HS002"], 500_000))
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    from tuition.services import batch_matching

    real_find = payments.find_codes
    tries, batches = [], []

    def breaks_on_one(memo, prefixes, into=None):
        if memo.startswith("HONG"):
            into.append(memo)
            raise RuntimeError("matcher bug")
        return real_find(memo, prefixes)

    # The batch fails as a whole; then each notification is matched on its own.
    monkeypatch.setattr(batch_matching, "find_codes",
                        lambda memo, prefixes: breaks_on_one(memo, prefixes, batches))
    monkeypatch.setattr(payments, "find_codes",
                        lambda memo, prefixes: breaks_on_one(memo, prefixes, tries))
    result = runner.invoke(args=["tuition", "match-worker", "--once", "--idle", "0"])
    assert result.exit_code == 0, result.output
    assert len(batches) == 1
    assert len(tries) == payments.MATCH_ATTEMPTS  # tried again, then handed to a person
    assert "không ghép được sau 3 lần" in result.output
    assert invoice(billed, "HS001")["status"] == "paid"  # the one behind it was matched
    assert invoice(billed, "HS002")["paid_vnd"] == 0
    failed = db.session.scalar(db.select(BankTransaction).where(
        BankTransaction.memo.startswith("HONG")))
    assert (failed.status, failed.status_reason) == ("review", "match_failed")
    event = db.session.query(AuditEvent).filter_by(action="payment.match_failed").one()
    assert event.subject == f"payment:{failed.id}"
    assert "matcher bug" in event.details["error"]
    assert assert_ledger_ok().awaiting_review_vnd == 500_000


def test_several_workers_share_the_queue_and_match_each_payment_once(app, client, billed,
                                                                     queue_mode):
    for _ in range(4):
        for code in billed.codes.values():
            send_sepay(client, sepay_body(code, 125_000))
    assert db.session.query(BankTransaction).filter_by(status="received").count() == 12
    barrier = threading.Barrier(3)
    done: list[int] = []
    errors: list[BaseException] = []

    def work():
        try:
            with app.app_context():
                barrier.wait()
                count = 0
                while (txn_id := payments.claim_pending()) is not None:
                    payments.process(txn_id)
                    db.session.commit()
                    count += 1
                db.session.rollback()
                done.append(count)
        except BaseException as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(done) == 12
    db.session.rollback()
    assert db.session.query(BankTransaction).filter_by(status="received").count() == 0
    assert db.session.query(Allocation).filter(Allocation.kind == "invoice").count() == 12
    for code in ("HS001", "HS002", "HS003"):
        assert invoice(billed, code)["paid_vnd"] == 500_000
    numbers = sorted(r.number for r in db.session.query(Receipt).all())
    assert numbers == list(range(1, 13))
    assert_ledger_ok()


def test_the_match_queue_backlog_is_visible_to_admins_and_to_the_school_when_late(
        client, billed, api, queue_mode, make_staff, staff_login):
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    send_sepay(client, sepay_body("khong co ma", 300_000))
    _admin, token = users.create_user(None, email="ops@test.vn", role="admin")
    db.session.commit()
    fresh = api(token).get("/match-queue")
    assert fresh.status_code == 200
    assert fresh.get_json()["waiting"] == 2
    assert fresh.get_json()["late"] is False
    assert billed.get("/match-queue").status_code == 403  # an accountant is not an admin
    accountant = staff_login(make_staff("accountant", schools.get_school("LQD")).email,
                             "mat-khau-rat-dai-123")
    assert "match-queue-late" not in accountant.get("/app/LQD/cho-xu-ly").get_data(as_text=True)

    # The match workers stopped ten minutes ago.
    db.session.execute(update(BankTransaction).values(
        received_at=datetime.now(UTC) - timedelta(minutes=10)))
    db.session.commit()
    late = api(token).get("/match-queue").get_json()
    assert late["late"] is True and late["oldest_waiting_seconds"] >= 600
    page = accountant.get("/app/LQD/cho-xu-ly").get_data(as_text=True)
    assert "2 giao dịch mới nhận đã chờ ghép tự động hơn 10 phút" in page

    runner_result = client.application.test_cli_runner().invoke(
        args=["tuition", "match-worker", "--once"])
    assert runner_result.exit_code == 0, runner_result.output
    assert api(token).get("/match-queue").get_json() == {
        "waiting": 0, "oldest_received_at": None, "oldest_waiting_seconds": 0, "late": False}
    assert "match-queue-late" not in accountant.get("/app/LQD/cho-xu-ly").get_data(as_text=True)
