"""Throughput and latency of the SePay webhook behind gunicorn on PostgreSQL.

Run from the repository root (PostgreSQL on 127.0.0.1:5432, trust auth)::

    .venv/bin/python bench/bench_webhooks.py                 # the production set-up (below)
    .venv/bin/python bench/bench_webhooks.py --reuse-seed    # skip the load of the school:
                                                            # copy the database an earlier run kept
    .venv/bin/python bench/bench_webhooks.py --reuse-seed --rate 420 --concurrency 32
    .venv/bin/python bench/bench_webhooks.py --reuse-seed --no-match-during   # ingestion alone
    .venv/bin/python bench/bench_webhooks.py --reuse-seed --match-in-request --requests 2000

The default is the set-up README recommends for production: queue mode
(``TUITION_MATCH_IN_REQUEST=false``: a webhook stores the notification durably and answers),
gunicorn with 2 gthread workers, and ``--match-workers`` (2) ``flask tuition match-worker``
processes matching the queue during the load, as they would in production. With
``--match-in-request`` the webhook also matches before it answers (the simple default of a
small deployment).

What it does, in order: drops and recreates the database ``--database`` (default
``tuition_bench``; never the test database), migrates it with ``flask db upgrade``, loads the
demo school (``load_demo``, 2,000 students) and bills three more months so about 6,700
invoices are open, sets the account's SePay key, starts gunicorn on a free loopback port and
waits for ``/healthz``. Then ``--requests`` distinct notifications (70 % paying an open invoice
exactly, 10 % paying part of one, 20 % with no code) are sent by ``--concurrency`` threads,
each on its own keep-alive ``http.client`` connection (stdlib only). A warm-up of two requests
per connection is sent first and not timed. Without ``--rate`` each connection sends its next
request as soon as it has the answer, which measures capacity (and latency at saturation);
with ``--rate`` requests are due at that pace and latency counts from when each was due.
Afterwards the match workers are stopped, what is still queued is drained and timed, and it
checks that the stored bank transactions are exactly the accepted (200) requests and that the
ledger verifies (exit 1 if not). Bounded: at most ``--requests`` requests and
``--max-seconds`` of sending.

The load generator, gunicorn, the match workers and PostgreSQL share this machine's cores: on
a 2-core box the figures are for the whole stack on 2 cores. It also prints the CPU time per
request of the gunicorn processes, of the PostgreSQL backends serving the database and of the
client itself (from ``/proc``, over the timed part): unlike req/s, that figure holds when other
jobs are loading the machine.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tuition.app import create_app  # noqa: E402
from tuition.extensions import db  # noqa: E402
from tuition.models import BankAccount, BankTransaction, Invoice, School, User  # noqa: E402
from tuition.services import billing, ledger  # noqa: E402
from tuition.services.demo import load_demo  # noqa: E402

ACCOUNT = "1023456789"
API_KEY = "bench-sepay-key-0123456789abcdef"
SECRET = "bench-secret-key-not-for-production"
_ids = itertools.count(7_000_000)


def recreate_database(server: str, name: str, *, template: str | None = None) -> str:
    """Drop and create ``name`` (as a copy of ``template`` if given); return its URL."""
    for db_name in (name, template):
        if db_name in ("test", "postgres", "template0", "template1"):
            raise SystemExit(f"refusing to touch database {db_name!r}")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template
                                                     else ""))
    if template:
        # A copy has the planner statistics the template had, which are none for a school
        # loaded a moment ago. A running service's tables have them (autovacuum gathers
        # them); without, every batch's lookups plan sequential scans of every invoice.
        with psycopg.connect(f"{server}/{name}", autocommit=True) as conn:
            conn.execute("ANALYZE")
    return f"{server}/{name}"


def database_exists(server: str, name: str) -> bool:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() is not None


def migrate(url: str) -> None:
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT, check=True, capture_output=True,
        env={**os.environ, "DATABASE_URL": url, "TUITION_SECRET_KEY": SECRET},
    )


def load_school(app) -> list[tuple[str, int]]:
    """The demo school with four issued months; returns (code, balance) of open invoices."""
    with app.app_context():
        today = date.today()
        load_demo(student_count=2000, today=today)
        school = db.session.scalar(select(School).where(School.code == "DEMO"))
        admin = db.session.scalar(select(User).where(User.email == "admin@demo.tuition.vn"))
        following = today.replace(day=1)
        for _ in range(3):
            following = (following + timedelta(days=32)).replace(day=1)
            billing.run_billing(
                admin, school, period=f"{following.year}-{following.month:02d}",
                fee_codes=["HOCPHI", "HOCPHIMN", "TIENAN", "BANTRU", "XEBUS", "NUOCUONG"],
                due_date=following + timedelta(days=10))
        account = db.session.scalar(select(BankAccount).where(
            BankAccount.account_number == ACCOUNT))
        account.sepay_api_key = API_KEY
        db.session.commit()
        return open_invoices()


def open_invoices() -> list[tuple[str, int]]:
    return [tuple(row) for row in db.session.execute(
        select(Invoice.code, Invoice.total_vnd - Invoice.paid_vnd)
        .join(School).where(School.code == "DEMO", Invoice.status == "open")
        .order_by(Invoice.id)
    )]


def notifications(open_invoices: list[tuple[str, int]], count: int,
                  rng: random.Random) -> list[bytes]:
    """``count`` distinct SePay bodies: 70 % exact payments, 10 % partial, 20 % no code."""
    exact, partial = round(count * 0.7), round(count * 0.1)
    if exact + partial > len(open_invoices):
        raise SystemExit(f"{exact + partial} paying notifications need as many open invoices; "
                         f"there are {len(open_invoices)}")
    targets = rng.sample(open_invoices, exact + partial)
    memos = [(f"MBVCB.{rng.randrange(10**10)}.{code} hoc phi.CT tu 0011 NGUYEN VAN BINH", bal)
             for code, bal in targets[:exact]]
    memos += [(f"IBFT {code} dong truoc", max(1, bal // 2)) for code, bal in targets[exact:]]
    memos += [(f"hoc phi be {rng.choice(['An', 'Khoi', 'Ngoc'])} lop 1A",
               rng.choice([150_000, 500_000, 1_250_000]))
              for _ in range(count - len(memos))]
    rng.shuffle(memos)
    return [body(memo, amount) for memo, amount in memos]


def body(memo: str, amount: int) -> bytes:
    txn_id = next(_ids)
    return json.dumps({
        "id": txn_id, "gateway": "Vietcombank", "transactionDate": "2026-09-05 10:15:00",
        "accountNumber": ACCOUNT, "subAccount": "", "code": None, "content": memo,
        "transferType": "in", "description": f"BankAPINotify {memo}",
        "transferAmount": amount, "accumulated": 0, "referenceCode": f"FT26{txn_id:010d}",
    }).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, port: int, args) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv/bin/gunicorn"), "--workers", str(args.workers),
        "--worker-class", args.worker_class, "--bind", f"127.0.0.1:{port}",
        "--log-level", "warning", "--keep-alive", "5",
    ]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    server = subprocess.Popen(
        [*command, "wsgi:app"], cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "TUITION_SECRET_KEY": SECRET,
             "TUITION_MATCH_IN_REQUEST": "true" if args.match_in_request else "false"},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    stop(server)
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def drive(port: int, bodies: list[bytes], concurrency: int, max_seconds: float,
          processes=lambda: {}, rate: float | None = None, path: str = "/webhooks/sepay"):
    """Send every body once over ``concurrency`` keep-alive connections.

    Without ``rate``, each connection sends its next request as soon as it has the answer (the
    server's capacity). With ``rate``, request ``i`` is due ``i / rate`` seconds after the start
    and its latency counts from when it was due, so a server falling behind shows as latency
    (no coordinated omission); ``concurrency`` must then cover rate x latency.

    Returns (results, wall seconds, warm-up requests, CPU seconds by process group); results
    are (HTTP status, seconds) per timed request. ``processes`` names the server processes
    whose CPU time is measured over the timed part (after the warm-up).
    """
    headers = {"Authorization": f"Apikey {API_KEY}", "Content-Type": "application/json"}
    work = iter(bodies)
    take = threading.Lock()
    results: list[tuple[int, float]] = []
    deadline = time.monotonic() + max_seconds
    numbers = itertools.count()
    schedule: list[float] = []  # when the timed part began (set as the barrier opens)
    start = threading.Barrier(concurrency + 1,
                              action=lambda: schedule.append(time.perf_counter()))

    def client(warm_up: list[bytes]):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        try:
            for raw in warm_up:
                conn.request("POST", path, body=raw, headers=headers)
                conn.getresponse().read()
            start.wait()
            while time.monotonic() < deadline:
                with take:
                    raw, number = next(work, None), next(numbers)
                if raw is None:
                    break
                began = time.perf_counter()
                if rate:
                    due = schedule[0] + number / rate
                    if due > began:
                        time.sleep(due - began)
                    began = due
                conn.request("POST", path, body=raw, headers=headers)
                response = conn.getresponse()
                response.read()
                mine.append((response.status, time.perf_counter() - began))
        finally:
            conn.close()
            with take:
                results.extend(mine)

    warm = [[body("bench warm-up", 10_000) for _ in range(2)] for _ in range(concurrency)]
    threads = [threading.Thread(target=client, args=(w,)) for w in warm]
    for thread in threads:
        thread.start()
    start.wait()
    groups = processes()
    cpu_before = {name: cpu_seconds(pids) for name, pids in groups.items()}
    client_before = time.process_time()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    cpu = {name: cpu_seconds(pids) - cpu_before[name] for name, pids in groups.items()}
    cpu["client"] = time.process_time() - client_before
    return results, wall, 2 * concurrency, cpu


def match_workers(url: str, count: int, *, once: bool) -> list[subprocess.Popen]:
    """Start ``count`` ``flask tuition match-worker`` processes (``--once``: drain and exit)."""
    return [subprocess.Popen(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "tuition", "match-worker",
         *(["--once"] if once else ["--idle", "0.1"])], cwd=ROOT, stdout=subprocess.DEVNULL,
        env={**os.environ, "DATABASE_URL": url, "TUITION_SECRET_KEY": SECRET})
        for _ in range(count)]


def queued(app) -> int:
    """Notifications stored but not matched yet."""
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(BankTransaction).where(
            BankTransaction.status == "received"))
        db.session.rollback()
        return count


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time consumed so far by these processes (Linux ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def server_pids(server: subprocess.Popen, server_url: str, database: str) -> dict[str, list[int]]:
    """The gunicorn master and workers, and the PostgreSQL backends serving ``database``."""
    workers = [int(p) for p in Path(f"/proc/{server.pid}/task/{server.pid}/children")
               .read_text().split()]
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        backends = [pid for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]
    return {"gunicorn": [server.pid, *workers], "postgres": backends}


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="tuition_bench")
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="gthread")
    parser.add_argument("--threads", type=int, default=4, help="per gthread worker")
    parser.add_argument("--max-seconds", type=float, default=120)
    parser.add_argument("--match-in-request", action="store_true",
                        help="the webhook matches before answering (no queue, no match workers)")
    parser.add_argument("--match-workers", type=int, default=2,
                        help="match worker processes (queue mode)")
    parser.add_argument("--no-match-during", dest="match_during", action="store_false",
                        help="queue mode: start the match workers only after the load")
    parser.add_argument("--rate", type=float,
                        help="send at this many requests a second (latency counted from when "
                             "each was due) instead of as fast as the server answers")
    parser.add_argument("--reuse-seed", action="store_true",
                        help="copy the database loaded by an earlier run instead of reloading")
    args = parser.parse_args()

    queue = not args.match_in_request
    seed = f"{args.database}_seed"
    t0 = time.perf_counter()
    if args.reuse_seed and database_exists(args.server, seed):
        url = recreate_database(args.server, args.database, template=seed)
        os.environ["DATABASE_URL"] = url
        app = create_app({"SECRET_KEY": SECRET})
        with app.app_context():
            invoices = open_invoices()
            db.session.rollback()
        print(f"setup: copied {seed} ({len(invoices)} open invoices) "
              f"in {time.perf_counter() - t0:.1f} s")
    else:
        url = recreate_database(args.server, args.database)
        os.environ["DATABASE_URL"] = url
        migrate(url)
        app = create_app({"SECRET_KEY": SECRET})
        invoices = load_school(app)
        with app.app_context():
            db.engine.dispose()  # no session may stay open on a template database
        recreate_database(args.server, seed, template=args.database)
        print(f"setup: migrated and loaded {len(invoices)} open invoices "
              f"in {time.perf_counter() - t0:.1f} s (kept as {seed} for --reuse-seed)")
    try:
        bodies = notifications(invoices, args.requests, random.Random(2026))
        with app.app_context():
            # The demo school comes with sample transfers: count only what the run adds.
            before = db.session.scalar(select(func.count()).select_from(BankTransaction))
            db.session.rollback()
        port = free_port()
        server = start_gunicorn(url, port, args)
        try:
            matchers = match_workers(url, args.match_workers, once=False) if (
                queue and args.match_during) else []
            if matchers:
                time.sleep(3)  # their start-up (imports, app) stays out of the timed part
            results, wall, warm_ups, cpu = drive(
                port, bodies, args.concurrency, args.max_seconds,
                processes=lambda: {**server_pids(server, args.server, args.database),
                                   **({"match workers": [m.pid for m in matchers]}
                                      if matchers else {})},
                rate=args.rate)
            for matcher in matchers:
                matcher.send_signal(signal.SIGTERM)
            if any(matcher.wait() for matcher in matchers):
                raise SystemExit("a match worker failed")
        finally:
            stop(server)
        matching = None
        if queue:
            started = time.perf_counter()
            pending = queued(app)
            workers = match_workers(url, args.match_workers, once=True)
            if any(worker.wait() for worker in workers):
                raise SystemExit("a match worker failed")
            matching = time.perf_counter() - started
        with app.app_context():
            stored = db.session.scalar(
                select(func.count()).select_from(BankTransaction)) - before
            statuses = {status: n for status, n in db.session.execute(
                select(BankTransaction.status, func.count()).group_by(BankTransaction.status))}
            report = ledger.verify_school(
                db.session.scalar(select(School).where(School.code == "DEMO")))
            db.session.rollback()
    finally:
        with app.app_context():
            db.engine.dispose()

    codes = Counter(status for status, _ in results)
    accepted = codes.get(200, 0)
    latencies = sorted(seconds * 1000 for _, seconds in results)
    rate = len(results) / wall
    p50, p95, p99 = (percentile(latencies, f) for f in (0.50, 0.95, 0.99))
    label = args.worker_class + (f" x{args.threads} threads" if args.worker_class == "gthread"
                                 else "")
    mode = ("matching in the request" if args.match_in_request else
            "queue mode (store, answer; match workers match)")
    print(f"\n{mode}; gunicorn {args.workers} workers, {label}; {args.concurrency} keep-alive "
          f"connections; {os.cpu_count()} CPUs shared by client, gunicorn and PostgreSQL"
          + (f"; paced at {args.rate:g} req/s" if args.rate else "; as fast as answered")
          + (f"; {args.match_workers} match worker(s) running during the load"
             if queue and args.match_during else ""))
    print(f"{'requests':>9} {'seconds':>8} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7} {'max ms':>7}  HTTP statuses")
    print(f"{len(results):>9} {wall:>8.2f} {rate:>8.1f} {p50:>7.1f} {p95:>7.1f} {p99:>7.1f} "
          f"{latencies[-1]:>7.1f}  {dict(sorted(codes.items()))}")
    print(f"new bank transactions: {stored} (accepted {accepted} + warm-up {warm_ups}); "
          f"statuses {dict(sorted(statuses.items()))}")
    print(f"ledger: {'OK' if report.ok else 'PROBLEMS ' + '; '.join(report.problems[:5])}; "
          f"on invoices {report.on_invoices_vnd:,} đ, awaiting review "
          f"{report.awaiting_review_vnd:,} đ")
    print("CPU ms per request: " + ", ".join(
        f"{name} {seconds * 1000 / len(results):.2f}" for name, seconds in cpu.items())
        + f"; load average at the end {os.getloadavg()[0]:.2f}")
    if matching is not None:
        print(f"queue mode: {pending} of the {stored} new notifications were waiting after the "
              f"load; {args.match_workers} match worker(s) matched them in {matching:.1f} s "
              f"({pending / matching:.0f}/s, including start-up)")
    target = rate >= 400 and p99 < 100
    print(f"target >= 400 req/s with p99 < 100 ms: {'met' if target else 'NOT met'}")
    if len(results) < args.requests:
        print(f"stopped by --max-seconds {args.max_seconds:g} after {len(results)} of "
              f"{args.requests} requests")
    consistent = stored == accepted + warm_ups and report.ok and "received" not in statuses
    if not consistent:
        print("CHECK FAILED: stored transactions, accepted requests or ledger disagree, "
              "or notifications were left unmatched")
    return 0 if consistent else 1


if __name__ == "__main__":
    sys.exit(main())
