"""Messages and background PDFs at the size of a big school, with real RQ workers.

Run from the repository root (PostgreSQL on 127.0.0.1:5432 with trust auth, Redis on
127.0.0.1:6379)::

    .venv/bin/python bench/bench_messages.py                      # 1 then 2 workers, + PDF
    .venv/bin/python bench/bench_messages.py --latency-ms 150     # a provider answering slowly
    .venv/bin/python bench/bench_messages.py --workers 1 2 4 --no-pdf

What it does: drops and recreates the database ``--database`` (default
``tuition_messages_bench``; never the test database), migrates it, loads the demo school with
2,000 students (``load_demo``) and bills the next month, so about 2,000 invoices are open for
one period; turns SMS on for the school with the eSMS stand-in's credentials (the stand-in is
``tests/standins.py``: it checks every request as eSMS would, and keeps what it "sent"; with
``--latency-ms`` it answers after that long). Then, for each count of ``--workers``: empties
the outbox and the Redis database ``--redis`` (flushed), starts that many
``flask tuition worker`` processes and waits until RQ lists them, creates the notice campaign
for the whole school (timed: writing ~2,000 outbox rows in one transaction) and enqueues it
(timed), and measures the time until every message is final. It prints messages per second,
the workers' CPU time per message (from ``/proc``: a figure that holds when other jobs share
the machine), and checks that every guardian got exactly one SMS. Finally one worker renders
the whole period's notices as a background PDF job (``--layout``), and it prints the time from
enqueue to file, the pages and the size.

Everything runs on this machine: the workers, PostgreSQL, Redis and the stand-in share its
cores, so the figures are for the whole stack.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402

from tests.standins import EsmsStandIn  # noqa: E402
from tuition.app import create_app  # noqa: E402
from tuition.extensions import db  # noqa: E402
from tuition.messaging import campaigns, jobs  # noqa: E402
from tuition.messaging import exports as export_service  # noqa: E402
from tuition.messaging import settings as messaging_settings  # noqa: E402
from tuition.models import (  # noqa: E402
    Campaign,
    Invoice,
    Message,
    MessageEvent,
    PdfExport,
    School,
    User,
)
from tuition.services import billing  # noqa: E402
from tuition.services.demo import load_demo  # noqa: E402

SECRET = "bench-secret-key-not-for-production"


def recreate_database(server: str, name: str) -> str:
    if name in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to touch database {name!r}")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def migrate(url: str) -> None:
    subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "DATABASE_URL": url, "TUITION_SECRET_KEY": SECRET})


def load_school(esms: EsmsStandIn) -> tuple[str, int]:
    """The demo school, its next month billed, SMS on; returns (period, open invoices)."""
    today = date.today()
    load_demo(student_count=2000, today=today)
    school = db.session.scalar(select(School).where(School.code == "DEMO"))
    admin = db.session.scalar(select(User).where(User.email == "admin@demo.tuition.vn"))
    following = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    period = f"{following.year}-{following.month:02d}"
    billing.run_billing(admin, school, period=period,
                        fee_codes=["HOCPHI", "HOCPHIMN", "TIENAN", "BANTRU", "XEBUS",
                                   "NUOCUONG"], due_date=following + timedelta(days=10))
    messaging_settings.update(admin, school, {
        "enabled": True, "channels": "sms", "confirmations": True,
        "sms_api_key": esms.api_key, "sms_secret_key": esms.secret_key,
        "sms_brandname": "TRUONGLQD"})
    db.session.commit()
    count = db.session.scalar(select(func.count()).select_from(Invoice).where(
        Invoice.period == period, Invoice.status.in_(("open", "partial"))))
    return period, count


def worker_env(url: str, redis_url: str, esms: EsmsStandIn) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUITION_")}
    env.update({"DATABASE_URL": url, "TUITION_SECRET_KEY": SECRET,
                "TUITION_REDIS_URL": redis_url, "TUITION_ESMS_API_URL": esms.url,
                "TUITION_PUBLIC_URL": "https://hocphi.example.vn",
                "TUITION_DISPATCH_INTERVAL_SECONDS": "0.2",
                "TUITION_MESSAGE_RATE_PER_SECOND": json.dumps({"sms": 100000}),
                "TUITION_MESSAGE_DAILY_QUOTA": json.dumps({"sms": 1000000})})
    return env


def start_workers(count: int, env: dict, connection) -> list[subprocess.Popen]:
    from rq import Worker

    processes = [subprocess.Popen(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "tuition", "worker"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)]
    deadline = time.monotonic() + 120
    while Worker.count(connection=connection) < count:
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not start")
        time.sleep(0.2)
    return processes


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def reset(connection) -> None:
    db.session.execute(delete(MessageEvent))
    db.session.execute(delete(Message))
    db.session.execute(delete(Campaign))
    db.session.commit()
    connection.flushdb()


def final_count(campaign_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Message).where(
        Message.campaign_id == campaign_id,
        Message.status.not_in(("queued", "sending"))))


def run_campaign(workers: int, period: str, env: dict, connection, esms: EsmsStandIn) -> dict:
    reset(connection)
    esms.sent.clear()
    esms.request_ids.clear()
    esms.answers.clear()
    processes = start_workers(workers, env, connection)
    try:
        cpu_before = sum(cpu_seconds(p.pid) for p in processes)
        school = db.session.scalar(select(School).where(School.code == "DEMO"))
        admin = db.session.scalar(select(User).where(User.email == "admin@demo.tuition.vn"))
        started = time.perf_counter()
        campaign = campaigns.create(admin, school, kind="notice", period=period)
        db.session.commit()
        written = time.perf_counter()
        jobs.dispatch(limit=100000)
        enqueued = time.perf_counter()
        total = campaign.created_count
        while final_count(campaign.id) < total:
            if time.perf_counter() - enqueued > 900:
                raise SystemExit("messages still pending after 15 minutes")
            time.sleep(0.1)
        done = time.perf_counter()
        cpu = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
    finally:
        stop(processes)
    statuses = dict(db.session.execute(select(Message.status, func.count()).where(
        Message.campaign_id == campaign.id).group_by(Message.status)).all())
    phones = [s.phone for s in esms.sent]
    per_request = {}
    for sms in esms.sent:
        per_request[sms.request_id] = per_request.get(sms.request_id, 0) + 1
    return {
        "workers": workers, "messages": total, "statuses": statuses,
        "skipped_at_creation": len(campaign.skipped),
        "write_outbox_s": round(written - started, 2), "enqueue_s": round(enqueued - written, 2),
        "send_s": round(done - enqueued, 2), "per_second": round(total / (done - enqueued), 1),
        "per_second_per_worker": round(total / (done - enqueued) / workers, 1),
        "worker_cpu_ms_per_message": round(1000 * cpu / max(total, 1), 2),
        "sms_at_standin": len(phones), "twice": sum(1 for n in per_request.values() if n > 1),
    }


def run_pdf(period: str, layout: str, env: dict, connection) -> dict:
    connection.flushdb()
    processes = start_workers(1, env, connection)
    try:
        school = db.session.scalar(select(School).where(School.code == "DEMO"))
        admin = db.session.scalar(select(User).where(User.email == "admin@demo.tuition.vn"))
        export = export_service.start(admin, school, "notices",
                                      {"period": period, "layout": layout})
        db.session.commit()
        started = time.perf_counter()
        jobs.dispatch()
        while True:
            db.session.rollback()
            state = db.session.get(PdfExport, export.id)
            if state.status in ("done", "failed"):
                break
            if time.perf_counter() - started > 1800:
                raise SystemExit("the PDF is still not done after 30 minutes")
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
    finally:
        stop(processes)
    path = export_service.file_path(state)
    pages = None
    if path is not None:
        from pypdf import PdfReader

        pages = len(PdfReader(str(path)).pages)
    return {"status": state.status, "notices": state.done, "layout": layout,
            "seconds_to_file": round(elapsed, 1), "pages": pages,
            "megabytes": round((state.size_bytes or 0) / 1e6, 1),
            "notices_per_second": round(state.done / elapsed, 1), "error": state.error}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="tuition_messages_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/4",
                        help="a Redis database the benchmark may flush")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="how long the eSMS stand-in takes to answer")
    parser.add_argument("--layout", default="a5x2", choices=["a5x2", "a4"])
    parser.add_argument("--no-pdf", action="store_true")
    args = parser.parse_args()

    url = recreate_database(args.server, args.database)
    migrate(url)
    os.environ["DATABASE_URL"] = url
    esms = EsmsStandIn(delay=args.latency_ms / 1000).start()
    app = create_app({"SECRET_KEY": SECRET, "REDIS_URL": args.redis,
                      "ESMS_API_URL": esms.url})
    connection = redis.Redis.from_url(args.redis)
    env = worker_env(url, args.redis, esms)
    results = []
    with app.app_context():
        t0 = time.perf_counter()
        period, invoices = load_school(esms)
        print(f"school loaded in {time.perf_counter() - t0:.0f} s: {invoices} open invoices "
              f"for {period}; eSMS stand-in answers after {args.latency_ms:g} ms")
        for workers in args.workers:
            result = run_campaign(workers, period, env, connection, esms)
            results.append(result)
            print(json.dumps(result, ensure_ascii=False))
        if not args.no_pdf:
            print(json.dumps(run_pdf(period, args.layout, env, connection), ensure_ascii=False))
    esms.stop()
    connection.flushdb()
    ok = all(r["twice"] == 0 and r["statuses"].get("sent") == r["messages"] for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
