"""Matching in batches (issue 10): webhooks beside the one-row-insert ceiling, end-to-end
matched throughput with batches against one notification per transaction, and how fast the
backlog of a 10-second burst empties.

Run from the repository root (PostgreSQL on 127.0.0.1:5432, trust auth)::

    .venv/bin/python bench/bench_batch_matching.py              # loads the school once (slow)
    .venv/bin/python bench/bench_batch_matching.py --reuse-seed # copies the loaded database
    .venv/bin/python bench/bench_batch_matching.py --reuse-seed --phases ceiling,many
    BENCH_GATHER="--gather 0" .venv/bin/python bench/bench_batch_matching.py --reuse-seed
                                                                # workers' options, to compare

The conditions of the issue: PostgreSQL; gunicorn with 2 sync workers; 2 match workers; 16
keep-alive connections of load, as fast as answered, from this process (on the same cores);
every notification pays a tenth of an open invoice (ten notifications per invoice, so the
matcher meets the same invoice again and again). Phases, each on a fresh copy of the loaded
database (the demo school with 2,000 students and about 6,700 open invoices), analyzed as
autovacuum keeps a running service's tables:

1. rounds (``--rounds``, 3): a shared machine's speed drifts by tens of percent within a
   minute, so the ceiling and the project are measured side by side, round after round, and
   each ratio is taken within its round (the median and every round are printed):

   * ceiling: ``bench/ceiling_app.py`` (one INSERT and commit per request, same Flask,
     SQLAlchemy, psycopg and gunicorn) takes ``--requests`` bodies;
   * project, no match worker (``alone``): the webhook alone, in queue mode;
   * project, batches (``many``): tuition's webhook in queue mode takes the same number of
     notifications while 2 match workers run with ``--batch`` (default 200); end-to-end
     throughput = notifications / (first request -> queue empty);
2. one by one (``one``): the same with ``--batch 1`` (one notification per transaction, what
   matching did before batches);
3. burst: with batches, load for 10 s, then the time until the queue is empty;
4. matching alone (``drain``): the queue filled with no match worker, then emptied by 2
   workers, one by one and in batches (their capacity, which the end-to-end figure hides once
   batches keep up with the webhooks).

For every phase it prints the CPU time per request of each process group (this load
generator, gunicorn, the match workers, every PostgreSQL process): where the time goes.
It checks that every accepted notification was stored and matched and that the ledger
verifies; exit 1 if not. The figures are for the whole stack on this machine's cores.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_webhooks as bw  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from tuition.app import create_app  # noqa: E402
from tuition.extensions import db  # noqa: E402
from tuition.models import BankTransaction, School  # noqa: E402
from tuition.services import ledger  # noqa: E402

CONNECTIONS = 16
GATHER = os.environ.get("BENCH_GATHER", "").split()
SUMMARY_TRIGGERS = [
    ("trg_summaries_invoice_insert", "invoices"), ("trg_summaries_invoice_update", "invoices"),
    ("trg_summaries_invoice_delete", "invoices"),
    ("trg_summaries_transaction_insert", "bank_transactions"),
    ("trg_summaries_transaction_change", "bank_transactions"),
    ("trg_summaries_transaction_status", "bank_transactions"),
    ("trg_summaries_cash_void", "cash_entries"),
]


def tenths(invoices: list[tuple[str, int]], count: int, rng: random.Random) -> list[bytes]:
    """``count`` notifications, each paying a tenth of an invoice (ten per invoice)."""
    payable = [inv for inv in invoices if inv[1] % 10 == 0 and inv[1] >= 10_000]
    chosen = rng.sample(payable, min(len(payable), -(-count // 10)))
    memos = [(f"MBVCB.{rng.randrange(10**10)}.{code} hoc phi dot {part}", balance // 10)
             for code, balance in chosen for part in range(1, 11)][:count]
    rng.shuffle(memos)
    return [bw.body(memo, amount) for memo, amount in memos]


def gunicorn(app_path: str, url: str, port: int, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "--workers", str(workers), "--worker-class", "sync",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--keep-alive", "5",
         app_path], cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "TUITION_SECRET_KEY": bw.SECRET,
             "TUITION_MATCH_IN_REQUEST": "false"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            import urllib.request

            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    bw.stop(server)
    raise SystemExit(f"{app_path} did not answer /healthz within 30 s")


def match_workers(url: str, count: int, batch: int) -> list[subprocess.Popen]:
    return [subprocess.Popen(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "tuition", "match-worker",
         "--idle", "0.05", "--batch", str(batch), *GATHER], cwd=ROOT, stdout=subprocess.DEVNULL,
        env={**os.environ, "DATABASE_URL": url, "TUITION_SECRET_KEY": bw.SECRET})
        for _ in range(count)]


def fresh_copy(args) -> tuple[str, object, list]:
    url = bw.recreate_database(args.server, args.database, template=f"{args.database}_seed")
    os.environ["DATABASE_URL"] = url
    app = create_app({"SECRET_KEY": bw.SECRET})
    with app.app_context():
        if args.without_summaries:  # to see what the authority's running totals cost
            for trigger, table in SUMMARY_TRIGGERS:
                db.session.execute(text(f"DROP TRIGGER {trigger} ON {table}"))
            db.session.commit()
        invoices = bw.open_invoices()
        db.session.rollback()
    return url, app, invoices


def counts(app) -> tuple[int, int]:
    """(notifications stored, still waiting to be matched)."""
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(BankTransaction))
        waiting = db.session.scalar(select(func.count()).select_from(BankTransaction).where(
            BankTransaction.status == "received"))
        db.session.rollback()
        return stored, waiting


def wait_empty(app, timeout: float = 600) -> float:
    """Seconds until no notification waits (polled every 50 ms)."""
    began = time.perf_counter()
    while counts(app)[1] and time.perf_counter() - began < timeout:
        time.sleep(0.05)
    return time.perf_counter() - began


def cpu_groups(server: subprocess.Popen, matchers: list[subprocess.Popen]):
    """The processes whose CPU time is measured over a timed part: gunicorn (master and
    workers), the match workers and every PostgreSQL process (backends and background)."""
    def groups() -> dict[str, list[int]]:
        workers = [int(p) for p in Path(f"/proc/{server.pid}/task/{server.pid}/children")
                   .read_text().split()]
        postgres = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                    and _command(p) in ("postgres", "postmaster")]
        return {"gunicorn": [server.pid, *workers], "matchers": [m.pid for m in matchers],
                "postgres": postgres}
    return groups


def _command(proc: Path) -> str:
    try:
        return (proc / "comm").read_text().strip()
    except OSError:
        return ""


def cpu_per_request(cpu: dict[str, float], requests: int) -> str:
    """CPU milliseconds per request, by process group."""
    return ", ".join(f"{name} {1000 * seconds / requests:.2f}"
                     for name, seconds in sorted(cpu.items()))


def project_phase(args, batch: int, *, seconds: float | None = None,
                  matchers_count: int = 2) -> dict:
    """Webhooks under load with match workers running; see the module doc."""
    url, app, invoices = fresh_copy(args)
    before, _ = counts(app)
    bodies = tenths(invoices, args.requests if seconds is None else 60_000,
                    random.Random(2026 + batch))
    port = bw.free_port()
    server = gunicorn("wsgi:app", url, port, 2)
    matchers = match_workers(url, matchers_count, batch)
    time.sleep(3)  # their start-up stays out of the timed part
    try:
        began = time.perf_counter()
        results, wall, warm, cpu = bw.drive(port, bodies, CONNECTIONS,
                                            seconds if seconds else args.max_seconds,
                                            processes=cpu_groups(server, matchers))
        load_end = time.perf_counter()
        backlog = counts(app)[1]
        drained = wait_empty(app) if matchers else 0.0
        end_to_end = time.perf_counter() - began
    finally:
        for matcher in matchers:
            matcher.send_signal(signal.SIGTERM)
        for matcher in matchers:
            matcher.wait(timeout=60)
        bw.stop(server)
    stored, waiting = counts(app)
    accepted = sum(1 for status, _ in results if status == 200)
    with app.app_context():
        report = ledger.verify_school(db.session.scalar(select(School).where(
            School.code == "DEMO")))
        db.session.rollback()
        db.engine.dispose()
    latencies = sorted(s * 1000 for _, s in results)
    return {"requests": len(results), "rate": len(results) / wall,
            "p99": bw.percentile(latencies, 0.99), "accepted": accepted,
            "stored": stored - before - warm, "waiting": waiting, "backlog": backlog,
            "drained": drained, "matched_rate": (stored - before) / end_to_end,
            "load_seconds": load_end - began, "ledger": report, "cpu": cpu}


def drain_phase(args, batch: int) -> dict:
    """Matching alone: webhooks fill the queue with no match worker running, then 2 workers
    with ``batch`` empty it; timed from their first match (start-up excluded)."""
    url, app, invoices = fresh_copy(args)
    bodies = tenths(invoices, args.requests, random.Random(7 + batch))
    port = bw.free_port()
    server = gunicorn("wsgi:app", url, port, 2)
    try:
        bw.drive(port, bodies, CONNECTIONS, args.max_seconds)
    finally:
        bw.stop(server)
    waiting = counts(app)[1]
    matchers = match_workers(url, 2, batch)
    try:
        while (left := counts(app)[1]) == waiting:
            time.sleep(0.01)
        seconds = wait_empty(app)
    finally:
        for matcher in matchers:
            matcher.send_signal(signal.SIGTERM)
        for matcher in matchers:
            matcher.wait(timeout=60)
    with app.app_context():
        report = ledger.verify_school(db.session.scalar(select(School).where(
            School.code == "DEMO")))
        db.session.rollback()
        db.engine.dispose()
    return {"matched": left, "seconds": seconds, "rate": left / seconds,
            "waiting": counts(app)[1], "ledger": report}


def ceiling_phase(args) -> dict:
    url, app, invoices = fresh_copy(args)
    with app.app_context():
        # Created here: gunicorn's two workers creating it at once can collide, and a worker
        # that fails to boot stops gunicorn.
        db.session.execute(text("CREATE TABLE bench_ceiling (id serial PRIMARY KEY, "
                                "body text NOT NULL)"))
        db.session.commit()
        db.engine.dispose()
    bodies = tenths(invoices, args.requests, random.Random(1))
    port = bw.free_port()
    server = gunicorn("bench.ceiling_app:app", url.replace("postgresql://",
                                                           "postgresql+psycopg://", 1), port, 2)
    try:
        results, wall, _warm, cpu = bw.drive(port, bodies, CONNECTIONS, args.max_seconds,
                                             path="/insert", processes=cpu_groups(server, []))
    finally:
        bw.stop(server)
    latencies = sorted(s * 1000 for _, s in results)
    return {"requests": len(results), "rate": len(results) / wall,
            "p99": bw.percentile(latencies, 0.99), "cpu": cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="tuition_bench_batch")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=120)
    parser.add_argument("--reuse-seed", action="store_true")
    parser.add_argument("--without-summaries", action="store_true",
                        help="drop the triggers that keep the authority's totals (to compare)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="ceiling / webhook rounds (ratios are taken within a round)")
    parser.add_argument("--phases", default="ceiling,alone,one,many,burst,drain",
                        help="comma-separated: ceiling,alone,one,many,burst,drain")
    args = parser.parse_args()

    seed = f"{args.database}_seed"
    if not (args.reuse_seed and bw.database_exists(args.server, seed)):
        t0 = time.perf_counter()
        url = bw.recreate_database(args.server, args.database)
        os.environ["DATABASE_URL"] = url
        bw.migrate(url)
        app = create_app({"SECRET_KEY": bw.SECRET})
        loaded = bw.load_school(app)
        with app.app_context():
            db.engine.dispose()
        bw.recreate_database(args.server, seed, template=args.database)
        print(f"setup: loaded {len(loaded)} open invoices in {time.perf_counter() - t0:.0f} s")

    phases = set(args.phases.split(","))
    runs = {}
    # The machine's speed drifts (shared cores, by tens of percent within a minute): the
    # ceiling and the webhooks are measured in rounds, each a ceiling phase next to the
    # project's phases, and every ratio is taken within its round.
    rounds = []
    for number in range(1, args.rounds + 1):
        this = {}
        if "ceiling" in phases:
            this["ceiling"] = runs[f"ceiling: one-row insert, round {number}"] = \
                ceiling_phase(args)
        if "alone" in phases:
            this["alone"] = runs[f"webhooks, no match worker, round {number}"] = \
                project_phase(args, args.batch, matchers_count=0)
        if "many" in phases:
            this["many"] = runs[f"webhooks, --batch {args.batch}, round {number}"] = \
                project_phase(args, args.batch)
        rounds.append(this)
    if "one" in phases:
        runs["webhooks, workers --batch 1"] = project_phase(args, 1)
    if "burst" in phases:
        runs[f"10 s burst, --batch {args.batch}"] = project_phase(args, args.batch, seconds=10)
    drains = {}
    if "drain" in phases:
        drains["one by one"] = drain_phase(args, 1)
        drains["in batches"] = drain_phase(args, args.batch)

    print(f"\n{os.cpu_count()} CPUs shared by the load generator ({CONNECTIONS} connections), "
          "gunicorn (2 sync workers), 2 match workers and PostgreSQL; every notification pays a "
          "tenth of an invoice")
    print(f"{'phase':<40} {'requests':>8} {'req/s':>7} {'p99 ms':>7} {'matched/s':>10}")
    for label, run in runs.items():
        matched = f"{run['matched_rate']:>10.0f}" if "matched_rate" in run and \
            "no match" not in label else ""
        print(f"{label:<40} {run['requests']:>8} {run['rate']:>7.0f} {run['p99']:>7.1f} "
              f"{matched}")
    print("\nCPU ms per request, by process group (client = this load generator):")
    for label, run in runs.items():
        print(f"  {label:<40} {cpu_per_request(run['cpu'], run['requests'])}")
    many_matched = [r["many"]["matched_rate"] for r in rounds if "many" in r]
    one = runs.get("webhooks, workers --batch 1")
    burst = runs.get(f"10 s burst, --batch {args.batch}")
    for phase, label in (("many", "with 2 match workers (target >= 0.80)"),
                         ("alone", "without match workers")):
        ratios = [r[phase]["rate"] / r["ceiling"]["rate"] for r in rounds
                  if phase in r and "ceiling" in r]
        if ratios:
            print(f"\nwebhooks / ceiling of the same round, {label}: median "
                  f"{statistics.median(ratios):.2f} (rounds: "
                  f"{', '.join(f'{r:.2f}' for r in ratios)})", end="")
    print()
    if one and many_matched:
        print("end-to-end matched, batches (median of the rounds) / one by one: "
              f"{statistics.median(many_matched) / one['matched_rate']:.2f}x (target >= 2)")
    if drains:
        print(f"matching alone (a full queue, 2 workers): {drains['in batches']['rate']:.0f}/s "
              f"in batches against {drains['one by one']['rate']:.0f}/s one by one: "
              f"{drains['in batches']['rate'] / drains['one by one']['rate']:.2f}x")
    if burst:
        print(f"burst: {burst['backlog']} waiting when the 10 s load stopped, queue empty "
              f"{burst['drained']:.1f} s later (target <= 5 s)")
    ok = True
    for label, run in drains.items():
        if run["waiting"] or not run["ledger"].ok:
            ok = False
            print(f"CHECK FAILED (drain {label}): waiting {run['waiting']}, "
                  f"ledger {run['ledger'].problems[:3]}")
    for label, run in runs.items():
        if label.startswith("ceiling"):
            continue
        if run["stored"] != run["accepted"] or ("no match" not in label and run["waiting"]) \
                or not run["ledger"].ok:
            ok = False
            print(f"CHECK FAILED ({label}): stored {run['stored']}, accepted {run['accepted']}, "
                  f"waiting {run['waiting']}, ledger {run['ledger'].problems[:3]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
