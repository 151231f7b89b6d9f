"""Background jobs on Redis with RQ: the queues, the job functions, the dispatcher that
enqueues the outbox after commit, and the worker command's loop.

The database is the truth and RQ is the transport. A message or an export is written and
committed first; the dispatcher then claims rows not yet enqueued (``enqueued_at`` empty,
due), marks them and pushes one job each. Every worker runs a dispatcher thread, so a web
request or a webhook never needs Redis to succeed, and a crash between commit and enqueue
loses nothing: the row is still there, not enqueued. The sweep, in the same loop, recovers
what a dead worker left: messages whose lease ran out, queued messages whose job vanished
from Redis, exports whose progress stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import redis
from flask import Flask, current_app, has_app_context
from rq import Queue
from rq.job import Job
from sqlalchemy import or_, select

from ..core import clock
from ..extensions import db
from ..models import Message, PdfExport

log = logging.getLogger(__name__)

MESSAGES = "tuition-messages"
EXPORTS = "tuition-exports"
QUEUES = (MESSAGES, EXPORTS)
#: Failed RQ jobs are kept this long for inspection (the outbox keeps the real story).
FAILURE_TTL = 7 * 86400


def redis_connection(app: Flask | None = None) -> redis.Redis:
    """One client per process and URL (it holds a connection pool)."""
    app = app or current_app
    url = app.config["REDIS_URL"]
    clients = app.extensions.setdefault("tuition_redis", {})
    if url not in clients:
        clients[url] = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5,
                                            health_check_interval=30)
    return clients[url]


def queue(name: str = MESSAGES) -> Queue:
    return Queue(name, connection=redis_connection(),
                 default_timeout=int(current_app.config["MESSAGE_LEASE_SECONDS"]))


# --- Job functions (what RQ runs) -----------------------------------------------------------

_APP: Flask | None = None


def _app() -> Flask:
    """The application: the worker command's, or one built for a plain ``rq worker``."""
    global _APP
    if has_app_context():
        return current_app._get_current_object()
    if _APP is None:
        from ..app import create_app

        _APP = create_app()
    return _APP


def send_message(message_id: int) -> str:
    """RQ job: send one message of the outbox."""
    from .sending import process

    with _app().app_context():  # its own database session, removed at the end
        return process(message_id)


def render_export(export_id: int) -> str:
    """RQ job: render one background PDF."""
    from .exports import render

    with _app().app_context():
        return render(export_id)


def message_job_id(message_id: int, enqueues: int) -> str:
    return f"msg-{message_id}-{enqueues}"


def export_job_id(export_id: int, enqueues: int) -> str:
    return f"pdf-{export_id}-{enqueues}"


# --- Dispatching ---------------------------------------------------------------------------

_TO_ENQUEUE = (
    select(Message.id, Message.enqueues)
    .where(Message.status == "queued", Message.enqueued_at.is_(None))
    .order_by(Message.id)
)


def dispatch(limit: int = 1000) -> int:
    """Enqueue messages and exports written but not enqueued yet; returns how many.

    The rows are claimed (``enqueued_at`` set) and committed before the jobs are pushed, so
    two dispatchers never push the same row. If the push fails (Redis down) they are
    released again; if this process dies in between, the sweep finds them later.
    """
    now = clock.now_utc()
    rows = db.session.execute(
        _TO_ENQUEUE.where(or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now))
        .limit(limit).with_for_update(skip_locked=True)).all()
    exports = db.session.execute(
        select(PdfExport.id).where(PdfExport.status == "queued", PdfExport.enqueued_at.is_(None))
        .limit(50).with_for_update(skip_locked=True)).all()
    if not rows and not exports:
        db.session.rollback()
        return 0
    ids = [row.id for row in rows]
    table = Message.__table__
    for start in range(0, len(ids), 500):
        db.session.execute(table.update().where(table.c.id.in_(ids[start:start + 500]))
                           .values(enqueued_at=now, enqueues=table.c.enqueues + 1))
    export_ids = [row.id for row in exports]
    if export_ids:
        db.session.execute(PdfExport.__table__.update()
                           .where(PdfExport.__table__.c.id.in_(export_ids))
                           .values(enqueued_at=now))
    db.session.commit()
    try:
        _push(rows, export_ids)
    except redis.exceptions.RedisError:
        log.exception("could not enqueue %d messages and %d exports", len(ids), len(export_ids))
        _release(ids, export_ids)
        raise
    return len(ids) + len(export_ids)


def _push(rows, export_ids: list[int]) -> None:
    timeout = int(current_app.config["MESSAGE_LEASE_SECONDS"])
    connection = redis_connection()
    with connection.pipeline() as pipe:
        if rows:
            queue(MESSAGES).enqueue_many([
                Queue.prepare_data(send_message, (row.id,), timeout=timeout, result_ttl=60,
                                   failure_ttl=FAILURE_TTL,
                                   job_id=message_job_id(row.id, row.enqueues + 1),
                                   description=f"message {row.id}")
                for row in rows], pipeline=pipe)
        if export_ids:
            queue(EXPORTS).enqueue_many([
                Queue.prepare_data(render_export, (export_id,), timeout=3600, result_ttl=60,
                                   failure_ttl=FAILURE_TTL,
                                   job_id=export_job_id(export_id, int(time.time())),
                                   description=f"pdf export {export_id}")
                for export_id in export_ids], pipeline=pipe)
        pipe.execute()


def _release(ids: list[int], export_ids: list[int]) -> None:
    table = Message.__table__
    for start in range(0, len(ids), 500):
        db.session.execute(table.update().where(table.c.id.in_(ids[start:start + 500]),
                                                table.c.status == "queued")
                           .values(enqueued_at=None))
    if export_ids:
        db.session.execute(PdfExport.__table__.update()
                           .where(PdfExport.__table__.c.id.in_(export_ids))
                           .values(enqueued_at=None))
    db.session.commit()


def try_dispatch() -> int | None:
    """Dispatch right after a commit (a campaign, an export): how many, or None when Redis is
    unreachable (the workers' dispatchers will enqueue them when it is back)."""
    try:
        return dispatch()
    except redis.exceptions.RedisError:
        db.session.rollback()
        return None


def sweep() -> dict[str, int]:
    """Recover what dead workers or a lost Redis left behind; returns counts."""
    from .exports import recover_stale
    from .sending import recover_interrupted

    done = {"interrupted": recover_interrupted(), "lost": requeue_lost(),
            "exports": recover_stale()}
    return done


def requeue_lost(limit: int = 500) -> int:
    """Queued messages enqueued long ago whose job is no longer in Redis (flushed, or the
    job failed outside our code): enqueue them again."""
    cutoff = clock.now_utc() - timedelta(
        seconds=int(current_app.config["MESSAGE_REQUEUE_AFTER_SECONDS"]))
    rows = db.session.execute(
        select(Message.id, Message.enqueues).where(
            Message.status == "queued", Message.enqueued_at < cutoff)
        .order_by(Message.id).limit(limit)).all()
    lost = []
    connection = redis_connection()
    for row in rows:
        job = Job.fetch(message_job_id(row.id, row.enqueues), connection=connection) \
            if Job.exists(message_job_id(row.id, row.enqueues), connection=connection) else None
        status = job.get_status(refresh=False) if job else None
        if job is None or status in ("finished", "failed", "stopped", "canceled"):
            lost.append(row.id)
    if lost:
        table = Message.__table__
        db.session.execute(table.update().where(table.c.id.in_(lost), table.c.status == "queued",
                                                table.c.enqueued_at < cutoff)
                           .values(enqueued_at=None))
    db.session.commit()
    return len(lost)


class Dispatcher(threading.Thread):
    """Each worker's companion thread: dispatch every interval, sweep every ten."""

    def __init__(self, app: Flask, interval: float) -> None:
        super().__init__(name="tuition-dispatcher", daemon=True)
        self.app = app
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        rounds = 0
        while not self.stopping.is_set():
            try:
                with self.app.app_context():
                    if rounds % 10 == 0:
                        sweep()
                    while dispatch() >= 1000:
                        pass
            except Exception:  # noqa: BLE001 — keep dispatching after a passing failure
                log.exception("dispatcher round failed")
            rounds += 1
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
