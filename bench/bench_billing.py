"""Time a billing run for a 2,000-student school with 6 fee items, on SQLite and PostgreSQL.

Run from the repository root (PostgreSQL on 127.0.0.1:5432, trust auth)::

    .venv/bin/python bench/bench_billing.py                    # both engines
    .venv/bin/python bench/bench_billing.py --engines sqlite   # or: --engines postgresql

For each engine: a fresh database (a temporary SQLite file; the PostgreSQL database
``--database``, default ``tuition_bench_billing``, dropped and recreated), migrated with
``flask db upgrade``, loaded with ``load_demo(student_count=2000)`` (which issues the current
month), then the next month is billed with all 6 fee items: once as a preview, once issued
(with its commit), and once more to show that a repeated run issues nothing. Target: < 3 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tuition.app import create_app  # noqa: E402
from tuition.extensions import db  # noqa: E402
from tuition.models import InvoiceLine, School, User  # noqa: E402
from tuition.services import billing  # noqa: E402
from tuition.services.demo import load_demo  # noqa: E402

SECRET = "bench-secret-key-not-for-production"
FEES = ["HOCPHI", "HOCPHIMN", "TIENAN", "BANTRU", "XEBUS", "NUOCUONG"]


def fresh_postgresql(server: str, name: str) -> str:
    if name in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to drop database {name!r}")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def bench(url: str) -> dict[str, float | int]:
    env = {**os.environ, "DATABASE_URL": url, "TUITION_SECRET_KEY": SECRET}
    subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ["DATABASE_URL"] = url
    app = create_app({"SECRET_KEY": SECRET})
    figures: dict[str, float | int] = {}
    try:
        with app.app_context():
            today = date.today()
            started = time.perf_counter()
            load_demo(student_count=2000, today=today)
            db.session.commit()
            figures["load_demo s"] = time.perf_counter() - started
            school = db.session.scalar(select(School).where(School.code == "DEMO"))
            admin = db.session.scalar(select(User).where(User.email == "admin@demo.tuition.vn"))
            following = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
            run = {"period": f"{following.year}-{following.month:02d}", "fee_codes": FEES,
                   "due_date": following + timedelta(days=10)}
            lines_before = db.session.scalar(select(func.count()).select_from(InvoiceLine))

            started = time.perf_counter()
            preview = billing.run_billing(admin, school, preview=True, **run)
            figures["preview s"] = time.perf_counter() - started
            db.session.rollback()

            started = time.perf_counter()
            issued = billing.run_billing(admin, school, **run)
            db.session.commit()
            figures["issue s"] = time.perf_counter() - started
            figures["invoices"] = len(issued.issued)
            figures["lines"] = db.session.scalar(
                select(func.count()).select_from(InvoiceLine)) - lines_before
            if len(preview.invoices) != len(issued.issued):
                raise SystemExit("preview and issue disagree")

            started = time.perf_counter()
            again = billing.run_billing(admin, school, **run)
            db.session.commit()
            figures["re-run s"] = time.perf_counter() - started
            if again.issued:
                raise SystemExit("a repeated billing run issued invoices again")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", choices=["sqlite", "postgresql"],
                        default=["sqlite", "postgresql"])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="tuition_bench_billing")
    args = parser.parse_args()

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine in args.engines:
            url = (f"sqlite:///{tmp}/bench.db" if engine == "sqlite"
                   else fresh_postgresql(args.server, args.database))
            results[engine] = bench(url)

    columns = ["load_demo s", "preview s", "issue s", "re-run s", "invoices", "lines"]
    print(f"\n{'engine':<11}" + "".join(f"{c:>12}" for c in columns))
    for engine, figures in results.items():
        print(f"{engine:<11}" + "".join(
            f"{figures[c]:>12.2f}" if isinstance(figures[c], float) else f"{figures[c]:>12}"
            for c in columns))
    slowest = max(max(f["preview s"], f["issue s"]) for f in results.values())
    print(f"target: preview and issue each < 3 s: {'met' if slowest < 3 else 'NOT met'} "
          f"(slowest {slowest:.2f} s; {os.cpu_count()} CPUs, shared with anything else running)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
