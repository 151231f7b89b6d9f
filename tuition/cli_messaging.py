"""``flask --app wsgi tuition worker``: an RQ worker for messages and background PDFs.

Run as many as wanted, next to gunicorn (systemd or a supervisor keeps them running)::

    flask --app wsgi tuition worker              # both queues, with a dispatcher thread
    flask --app wsgi tuition worker --burst      # work until nothing is due, then exit

Each worker is an ``rq`` SimpleWorker (jobs run in the worker process, no fork per job, so a
provider's HTTP connection is kept between messages) plus a dispatcher thread that enqueues
the outbox after commit and sweeps what dead workers left (see :mod:`tuition.messaging.jobs`).
SIGTERM finishes the current job and stops.
"""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from .messaging import jobs


@click.command("worker")
@click.option("--queues", default=",".join(jobs.QUEUES), show_default=True,
              help="Comma-separated RQ queues, in priority order.")
@click.option("--burst", is_flag=True, help="Dispatch and work until nothing is due, then exit.")
@click.option("--no-dispatch", is_flag=True, help="Only work; another worker dispatches.")
@click.option("--name", default=None, help="Worker name (default: RQ's).")
@click.option("--verbose", is_flag=True, help="Log every job.")
@with_appcontext
def worker(queues: str, burst: bool, no_dispatch: bool, name: str | None, verbose: bool):
    """Send queued messages and render background PDFs (RQ worker + dispatcher)."""
    from rq import Queue
    from rq.worker import SimpleWorker

    app = current_app._get_current_object()
    connection = jobs.redis_connection()
    names = [q.strip() for q in queues.split(",") if q.strip()]
    level = "INFO" if verbose else "WARNING"
    logging.basicConfig(level=getattr(logging, level))

    def make_worker() -> SimpleWorker:
        return SimpleWorker([Queue(q, connection=connection) for q in names],
                            connection=connection, name=name)

    if burst:
        total = 0
        while True:
            with app.app_context():
                jobs.sweep()
                dispatched = 0 if no_dispatch else jobs.dispatch()
            worked = make_worker().work(burst=True, logging_level=level)
            total += dispatched
            if not dispatched and not worked:
                break
        click.echo(f"Đã đưa {total} việc vào hàng đợi và xử lý xong.")
        return
    dispatcher = None
    if not no_dispatch:
        dispatcher = jobs.Dispatcher(app, float(app.config["DISPATCH_INTERVAL_SECONDS"]))
        dispatcher.start()
    try:
        make_worker().work(logging_level=level)
    finally:
        if dispatcher is not None:
            dispatcher.stop()


@click.command("dispatch")
@with_appcontext
def dispatch():
    """Enqueue the outbox once and sweep (for cron, when no worker runs a dispatcher)."""
    swept = jobs.sweep()
    count = jobs.dispatch()
    click.echo(f"Đã đưa {count} việc vào hàng đợi; khôi phục {swept}.")
