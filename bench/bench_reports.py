"""Speed of the reports (dashboard, arrears list) for one school, alone and in a province.

Run from the repository root, with PostgreSQL reachable::

    .venv/bin/python bench/bench_reports.py
    .venv/bin/python bench/bench_reports.py --skip-build        # time the databases built before

It builds two databases from scratch (dropping them first), each migrated with
``flask db upgrade`` and then filled with COPY:

* ``tuition_province``: 300 schools, 200,000 students (the measured school has 2,000), nine
  monthly periods (2026-09 to 2027-05) of invoices with two lines each (3% with a credit line
  too), and ~80% of invoices paid through a bank transaction and an allocation (a few partly);
* ``tuition_single``: the measured school alone, with the same data.

Then it times ``reports.dashboard`` and ``reports.arrears`` (and the XLSX export) for that
school on both, one month and the whole year, 20 runs each after two warm-up runs, and prints
the median and 95th percentile. Targets: < 300 ms for the school, < 1 s at province scale.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PERIODS = [f"2026-{m:02d}" for m in (9, 10, 11, 12)] + [f"2027-{m:02d}" for m in (1, 2, 3, 4, 5)]
GRADES = ("1", "2", "3", "4", "5")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng")
MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu", "Bảo", "Hoàng")
GIVEN = ("An", "Bình", "Châu", "Dương", "Giang", "Hà", "Khôi", "Linh", "Mai", "Nam", "Ngọc",
         "Phúc", "Quân", "Sơn", "Tâm", "Uyên", "Việt", "Yến")
TODAY = date(2027, 3, 20)
CREATED = "2026-08-25 08:00:00+07"


def copy_rows(cur, table: str, columns: tuple[str, ...], rows: Iterator[tuple]) -> int:
    """COPY rows (text format) into a table; values must hold no tab, newline or backslash."""
    count = 0
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        chunk: list[str] = []
        for row in rows:
            chunk.append("\t".join("\\N" if v is None else str(v) for v in row))
            count += 1
            if len(chunk) >= 50_000:
                copy.write("\n".join(chunk) + "\n")
                chunk.clear()
        if chunk:
            copy.write("\n".join(chunk) + "\n")
    return count


def prefix(index: int) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "".join(letters[index // len(letters) ** p % len(letters)] for p in (2, 1, 0))


def build(url: str, *, schools: int, students: int, target: int, seed: int = 7) -> None:
    """Fill a migrated, empty database. School 1 is the measured one, with ``target``
    students; the others share the rest."""
    rng = random.Random(seed)
    sizes = [target] + ([(students - target) // (schools - 1)] * (schools - 1)
                        if schools > 1 else [])
    with psycopg.connect(url, autocommit=False) as conn, conn.cursor() as cur:
        # Foreign-key triggers off while loading (the data is consistent by construction).
        cur.execute("SET session_replication_role = replica")
        copy_rows(cur, "schools", ("id", "code", "name", "levels", "address",
                                   "payment_prefix", "receipt_template",
                                   "receipt_series_letters", "created_at"),
                  ((i, f"S{i:03d}", f"Trường Tiểu học số {i}", "tieu_hoc", "", prefix(i),
                    "01BLTT-001", "AA", CREATED) for i in range(1, schools + 1)))
        copy_rows(cur, "bank_accounts", ("id", "school_id", "bin", "account_number",
                                         "account_name", "is_default", "created_at"),
                  ((i, i, "970436", f"00110{i:08d}", f"TRUONG {i}", "t", CREATED)
                   for i in range(1, schools + 1)))
        copy_rows(cur, "fee_items", ("id", "school_id", "code", "name", "amount_vnd", "unit",
                                     "grades", "classes", "mandatory", "created_at"),
                  (row for i in range(1, schools + 1) for row in (
                      (2 * i - 1, i, "HOCPHI", "Học phí", 500_000, "month", "", "", "t",
                       CREATED),
                      (2 * i, i, "TIENAN", "Tiền ăn", 300_000, "month", "", "", "t",
                       CREATED))))

        classrooms, roster = [], []  # (id, school, name, grade); (student id, school, class)
        student_id = class_id = 0
        for school, size in enumerate(sizes, 1):
            per_class = 35
            for start in range(0, size, per_class):
                class_id += 1
                grade = GRADES[(start // per_class) % len(GRADES)]
                classrooms.append((class_id, school, "2026-2027",
                                   f"{grade}A{start // per_class + 1}", grade))
                for _ in range(min(per_class, size - start)):
                    student_id += 1
                    roster.append((student_id, school, class_id))
        copy_rows(cur, "classrooms", ("id", "school_id", "school_year", "name", "grade"),
                  iter(classrooms))
        copy_rows(cur, "students", ("id", "school_id", "code", "full_name", "classroom_id",
                                    "status", "guardian_name", "guardian_phone", "created_at"),
                  ((sid, school, f"HS{sid:07d}",
                    f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}", cid,
                    "studying", f"{rng.choice(FAMILY)} Văn {rng.choice(GIVEN)}",
                    f"09{sid:08d}", CREATED) for sid, school, cid in roster))

        counts = dict.fromkeys(("invoices", "lines", "allocations"), 0)
        invoice_id = line_id = 0
        for period in PERIODS:
            # One period at a time, so memory stays small: 200,000 invoices and their rows.
            invoices, lines, txns, allocations = [], [], [], []
            year, month = map(int, period.split("-"))
            due = date(year, month, 15)
            # Older months are better paid; the last ones are mostly still open.
            paid_share = 0.9 if due < TODAY - timedelta(days=60) else 0.75 if due < TODAY else 0.3
            for sid, school, _cid in roster:
                invoice_id += 1
                amounts = [(2 * school - 1, 500_000), (2 * school, 300_000)]
                if rng.random() < 0.03:
                    amounts.append((None, -50_000))
                total = sum(a for _, a in amounts)
                draw = rng.random()
                paid = total if draw < paid_share else (total // 2 if draw < paid_share + 0.05
                                                        else 0)
                status = "paid" if paid == total else "partial" if paid else "open"
                if rng.random() < 0.005:
                    status, paid = "cancelled", 0
                invoices.append((invoice_id, school, sid, f"{prefix(school)}{invoice_id:09d}",
                                 period, total, paid, due.isoformat(), status, CREATED))
                for position, (item, amount) in enumerate(amounts, 1):
                    line_id += 1
                    lines.append((line_id, invoice_id, position, item,
                                  "Học phí" if item is None or item % 2 else "Tiền ăn", 1,
                                  amount, 0, amount))
                if paid:
                    when = datetime(year, month, 1, 9) + timedelta(
                        days=rng.randrange(40), minutes=rng.randrange(600))
                    txns.append((invoice_id, "sepay", str(invoice_id), school, school,
                                 f"00110{school:08d}", "in", paid, f"HP{invoice_id}",
                                 when.isoformat(sep=" "), "{}", "matched", CREATED))
                    allocations.append((invoice_id, invoice_id, "invoice", invoice_id, paid,
                                        "", CREATED))
            copy_rows(cur, "invoices", ("id", "school_id", "student_id", "code", "period",
                                        "total_vnd", "paid_vnd", "due_date", "status",
                                        "issued_at"), iter(invoices))
            copy_rows(cur, "invoice_lines", ("id", "invoice_id", "position", "fee_item_id",
                                             "description", "quantity", "unit_price_vnd",
                                             "reduction_vnd", "amount_vnd"), iter(lines))
            copy_rows(cur, "bank_transactions", ("id", "provider", "provider_txn_id",
                                                 "school_id", "bank_account_id",
                                                 "account_number", "direction", "amount_vnd",
                                                 "memo", "occurred_at", "raw", "status",
                                                 "received_at"), iter(txns))
            copy_rows(cur, "allocations", ("id", "transaction_id", "kind", "invoice_id",
                                           "amount_vnd", "reason", "created_at"),
                      iter(allocations))
            counts["invoices"] += len(invoices)
            counts["lines"] += len(lines)
            counts["allocations"] += len(allocations)
            print(f"  loaded {period}: {invoice_id:,} invoices so far", flush=True)
        for table in ("schools", "bank_accounts", "fee_items", "classrooms", "students",
                      "invoices", "invoice_lines", "bank_transactions", "allocations"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))")
        conn.commit()
        print(f"  {len(sizes)} schools, {len(roster):,} students, {counts['invoices']:,} "
              f"invoices, {counts['lines']:,} lines, {counts['allocations']:,} allocations",
              flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def recreate(server: str, name: str) -> str:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url = f"{server}/{name}"
    env = {**os.environ, "DATABASE_URL": url, "TUITION_SECRET_KEY": "bench-only"}
    subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    return url


def timings(call: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(2):
        call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * runs) - 1)]


def measure(url: str, runs: int) -> list[tuple[str, float, float]]:
    os.environ["DATABASE_URL"] = url
    from tuition.app import create_app
    from tuition.extensions import db
    from tuition.models import School, User
    from tuition.services import reports

    app = create_app({"SECRET_KEY": "bench-only"})
    results = []
    with app.app_context():
        school = db.session.get(School, 1)
        admin = User(role="admin")  # never stored: only asked whether it may read
        cases = {
            "dashboard, one month": lambda: reports.dashboard(
                admin, school, period="2026-10", today=TODAY),
            "dashboard, whole year": lambda: reports.dashboard(
                admin, school, period=None, today=TODAY),
            "arrears, one month": lambda: reports.arrears(
                admin, school, period="2026-10", group_by=None, today=TODAY),
            "arrears, year, by class": lambda: reports.arrears(
                admin, school, period=None, group_by="class", today=TODAY),
            "arrears, year, by fee item": lambda: reports.arrears(
                admin, school, period=None, group_by="fee_item", today=TODAY),
            "arrears XLSX, whole year": lambda: reports.arrears_xlsx(
                admin, school, period=None, group_by=None, today=TODAY),
        }
        for name, call in cases.items():
            median, p95 = timings(call, runs)
            results.append((name, median, p95))
        db.session.remove()
        db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--students", type=int, default=200_000)
    parser.add_argument("--target", type=int, default=2_000, help="students of the school")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skip-build", action="store_true")
    args = parser.parse_args()

    databases = {"tuition_single": (1, args.target), "tuition_province": (
        args.schools, args.students)}
    urls = {}
    for name, (schools, students) in databases.items():
        if args.skip_build:
            urls[name] = f"{args.server}/{name}"
            continue
        print(f"building {name}: {schools} schools, {students:,} students", flush=True)
        start = time.perf_counter()
        urls[name] = recreate(args.server, name)
        build(urls[name], schools=schools, students=students, target=args.target)
        print(f"  built in {time.perf_counter() - start:.0f} s", flush=True)

    results = {name: measure(url, args.runs) for name, url in urls.items()}
    print(f"\nOne school of {args.target:,} students, {args.runs} runs, ms (median / p95)")
    print(f"{'':28} {'school alone':>18} {'province':>18}")
    for (label, m1, p1), (_, m2, p2) in zip(results["tuition_single"],
                                            results["tuition_province"], strict=True):
        print(f"{label:28} {m1:8.1f} / {p1:7.1f} {m2:8.1f} / {p2:7.1f}")


if __name__ == "__main__":
    main()
