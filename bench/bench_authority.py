"""Speed of the education authority's overview over a province, and what its running totals
cost the transactions that move money.

Run from the repository root, with PostgreSQL reachable::

    .venv/bin/python bench/bench_authority.py                 # builds, then measures
    .venv/bin/python bench/bench_authority.py --skip-build    # measures the database built before

It builds ``tuition_authority_bench`` from scratch (dropped first), migrated with
``flask db upgrade`` and filled with COPY as bench/bench_reports.py does, triggers off while
loading: 1,000 schools of 500 students (500,000 in all) spread over the wards of Hà Nội, nine
monthly periods (2026-09 to 2027-05) of invoices with two lines each (3% with a credit line),
about 80% paid through a transfer (SePay mostly; some Casso, statement lines and cash) and
an allocation. The running totals are then built once from the base tables (what
``flask tuition verify-summaries --repair`` does) and checked.

It times, 20 runs each after two warm-up runs, median and 95th percentile:

* the province's overview for the school year and for a month, and a ward's (target: under
  1 s for the province, under 300 ms for a ward), the XLSX and PDF exports, a drill-down;
* the write side: a billing run for one school, and single payments through the webhook path
  (store, match, commit), with the summary triggers on and then off.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_reports import FAMILY, GIVEN, MIDDLE, PERIODS, copy_rows, prefix, recreate, timings  # noqa: E402, I001

DATABASE = "tuition_authority_bench"
TODAY = date(2027, 3, 20)
HANOI = 1
LEVELS = ("tieu_hoc",) * 8 + ("mam_non",) * 6 + ("thcs",) * 5 + ("tieu_hoc,thcs",)
GRADES = {"tieu_hoc": ("1", "2", "3", "4", "5"), "mam_non": ("NT", "MGB", "MGN", "MGL"),
          "thcs": ("6", "7", "8", "9"), "tieu_hoc,thcs": ("1", "3", "5", "7", "9")}
#: Who delivered the money: mostly the SePay webhook, then Casso, statements and the cash desk.
PROVIDERS = ("sepay",) * 17 + ("casso", "statement", "cash")


def _wards() -> list[int]:
    from tuition.core import places

    return [w.code for w in places.wards_of(HANOI)]


def build(url: str, *, schools: int, per_school: int, seed: int = 13) -> None:
    rng = random.Random(seed)
    wards = _wards()
    created = "2026-08-25 08:00:00+07"
    with psycopg.connect(url, autocommit=False) as conn, conn.cursor() as cur:
        # Foreign keys and the summary triggers off while loading; the totals are built after.
        cur.execute("SET session_replication_role = replica")
        levels = {i: LEVELS[i % len(LEVELS)] for i in range(1, schools + 1)}
        copy_rows(cur, "schools", ("id", "code", "name", "levels", "address", "payment_prefix",
                                   "receipt_template", "receipt_series_letters",
                                   "province_code", "ward_code", "created_at"),
                  ((i, f"S{i:04d}", f"Trường số {i}", levels[i], "", prefix(i), "01BLTT-001",
                    "AA", HANOI, wards[(i - 1) % len(wards)], created)
                   for i in range(1, schools + 1)))
        copy_rows(cur, "bank_accounts", ("id", "school_id", "bin", "account_number",
                                         "account_name", "is_default", "created_at"),
                  ((i, i, "970436", f"00220{i:08d}", f"TRUONG {i}", "t", created)
                   for i in range(1, schools + 1)))
        copy_rows(cur, "fee_items", ("id", "school_id", "code", "name", "amount_vnd", "unit",
                                     "grades", "classes", "mandatory", "created_at"),
                  (row for i in range(1, schools + 1) for row in (
                      (2 * i - 1, i, "HOCPHI", "Học phí", 500_000, "month", "", "", "t",
                       created),
                      (2 * i, i, "TIENAN", "Tiền ăn", 300_000, "month", "", "", "t",
                       created))))
        classrooms, roster = [], []
        student_id = class_id = 0
        for school in range(1, schools + 1):
            grades = GRADES[levels[school]]
            for start in range(0, per_school, 35):
                class_id += 1
                grade = grades[(start // 35) % len(grades)]
                classrooms.append((class_id, school, "2026-2027", f"{grade}A{start // 35 + 1}",
                                   grade))
                for _ in range(min(35, per_school - start)):
                    student_id += 1
                    roster.append((student_id, school, class_id))
        copy_rows(cur, "classrooms", ("id", "school_id", "school_year", "name", "grade"),
                  iter(classrooms))
        copy_rows(cur, "students", ("id", "school_id", "code", "full_name", "classroom_id",
                                    "status", "guardian_name", "guardian_phone", "created_at"),
                  ((sid, school, f"HS{sid:07d}",
                    f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}", cid,
                    "studying", f"{rng.choice(FAMILY)} Văn {rng.choice(GIVEN)}",
                    f"09{sid:08d}", created) for sid, school, cid in roster))
        # Schools differ: some collect well, some less; some take much cash.
        skill = {s: rng.uniform(0.55, 1.0) for s in range(1, schools + 1)}
        cashy = {s: rng.random() < 0.1 for s in range(1, schools + 1)}
        invoice_id = line_id = 0
        for period in PERIODS:
            invoices, lines, txns, allocations = [], [], [], []
            year, month = map(int, period.split("-"))
            due = date(year, month, 15)
            base = 0.95 if due < TODAY - timedelta(days=60) else 0.85 if due < TODAY else 0.35
            for sid, school, _cid in roster:
                invoice_id += 1
                amounts = [(2 * school - 1, 500_000), (2 * school, 300_000)]
                if rng.random() < 0.03:
                    amounts.append((None, -50_000))
                total = sum(a for _, a in amounts)
                draw = rng.random()
                share = base * skill[school]
                paid = total if draw < share else (total // 2 if draw < share + 0.05 else 0)
                status = "paid" if paid == total else "partial" if paid else "open"
                if rng.random() < 0.005:
                    status, paid = "cancelled", 0
                invoices.append((invoice_id, school, sid, f"{prefix(school)}{invoice_id:09d}",
                                 period, total, paid, due.isoformat(), status, created))
                for position, (item, amount) in enumerate(amounts, 1):
                    line_id += 1
                    lines.append((line_id, invoice_id, position, item,
                                  "Học phí" if item is None or item % 2 else "Tiền ăn", 1,
                                  amount, 0, amount))
                if paid:
                    when = datetime(year, month, 1, 9) + timedelta(
                        days=rng.randrange(40), minutes=rng.randrange(600))
                    provider = "cash" if cashy[school] and rng.random() < 0.5 else rng.choice(
                        PROVIDERS)
                    txns.append((invoice_id, provider, str(invoice_id), school, school,
                                 f"00220{school:08d}", "in", paid, f"HP{invoice_id}",
                                 when.isoformat(sep=" "), "{}", "matched",
                                 (when + timedelta(seconds=5)).isoformat(sep=" ") + "+07"))
                    allocations.append((invoice_id, invoice_id, "invoice", invoice_id, paid,
                                        "", created))
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
            print(f"  loaded {period}: {invoice_id:,} invoices so far", flush=True)
        for table in ("schools", "bank_accounts", "fee_items", "classrooms", "students",
                      "invoices", "invoice_lines", "bank_transactions", "allocations"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))")
        conn.commit()
        print(f"  {schools} schools, {len(roster):,} students, {invoice_id:,} invoices, "
              f"{line_id:,} lines", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _app(url: str):
    import os

    os.environ["DATABASE_URL"] = url
    from tuition.app import create_app

    return create_app({"SECRET_KEY": "bench-only"})


def build_summaries(url: str) -> None:
    from tuition.extensions import db
    from tuition.services import summaries

    app = _app(url)
    with app.app_context():
        start = time.perf_counter()
        summaries.rebuild()
        db.session.commit()
        built = time.perf_counter() - start
        start = time.perf_counter()
        checks = summaries.verify()
        checked = time.perf_counter() - start
        db.session.rollback()
        rows = ", ".join(f"{c.table} {c.rows:,}" for c in checks)
        print(f"  running totals built in {built:.1f} s ({rows}); verify-summaries "
              f"{'OK' if all(c.ok for c in checks) else 'FAILED'} in {checked:.1f} s",
              flush=True)
        db.engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def measure(url: str, runs: int) -> list[tuple[str, float, float]]:
    from tuition.extensions import db
    from tuition.models import School, User
    from tuition.services import authority, authority_exports, schools

    app = _app(url)
    results = []
    with app.app_context():
        province = User(role="authority", province_code=HANOI)
        busiest = db.session.execute(db.text(
            "SELECT ward_code FROM schools GROUP BY ward_code ORDER BY count(*) DESC, ward_code "
            "LIMIT 1")).scalar()
        ward = User(role="authority", province_code=HANOI, ward_code=busiest)
        in_ward = db.session.scalar(db.select(db.func.count(School.id)).where(
            School.ward_code == busiest))
        code = schools.get_school_by_id(1).code
        report = authority.overview(province, today=TODAY)
        cases = {
            "province, school year": lambda: authority.overview(province, today=TODAY),
            "province, one month": lambda: authority.overview(
                province, period="2026-10", today=TODAY),
            "province, a term, sorted": lambda: authority.overview(
                province, period="2026-2027-HK2", today=TODAY, sort="rate"),
            f"ward ({in_ward} schools), year": lambda: authority.overview(ward, today=TODAY),
            "ward, one month": lambda: authority.overview(ward, period="2026-10", today=TODAY),
            "province XLSX export": lambda: authority_exports.overview_xlsx(report),
            "province PDF export": lambda: authority_exports.overview_pdf(report, io.BytesIO()),
            "drill-down, one school": lambda: authority.school_dashboard(
                province, code, period="2026-10", today=TODAY),
        }
        for name, call in cases.items():
            median, p95 = timings(call, runs)
            results.append((name, median, p95))
            db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    return results


def measure_writes(url: str, payments: int) -> list[tuple[str, float, float]]:
    """Billing runs and webhook payments with the summary triggers on, then off."""
    from sqlalchemy import select

    from tuition.core.notifications import BankNotification
    from tuition.core.paycode import new_code
    from tuition.extensions import db
    from tuition.models import Invoice, School, User
    from tuition.services import billing, summaries
    from tuition.services import payments as payment_service

    app = _app(url)
    admin = User(role="admin")
    results = []
    run = f"{time.time_ns():x}"  # each run stores new notifications
    with app.app_context():
        # Open invoices of many schools, given real payment codes (the loaded ones are not) so
        # that matching pays them. A code change touches no total.
        open_ids = list(db.session.scalars(
            select(Invoice.id).where(Invoice.status == "open", Invoice.period == "2027-05")
            .order_by(Invoice.school_id.desc(), Invoice.id).limit(2 * payments)))
        for invoice in db.session.scalars(select(Invoice).where(Invoice.id.in_(open_ids))):
            prefix_ = db.session.get(School, invoice.school_id).payment_prefix
            invoice.code = new_code(prefix_, random.Random(invoice.id * 7919 + len(run)))
        db.session.commit()
        batches = {"on": open_ids[:payments], "off": open_ids[payments:]}
        # Schools not billed for September 2027 yet (a month that counts in a term and a year).
        unbilled = list(db.session.scalars(
            select(School.id).where(~select(Invoice.id).where(
                Invoice.school_id == School.id, Invoice.period == "2027-09").exists())
            .order_by(School.id).limit(8)))
        counter = iter(range(10**9))
        for state in ("on", "off"):
            if state == "off":
                db.session.execute(db.text("ALTER TABLE invoices DISABLE TRIGGER USER"))
                db.session.execute(db.text("ALTER TABLE bank_transactions DISABLE TRIGGER USER"))
                db.session.commit()
            try:
                # Four schools each way; the first run of a connection also plans the
                # triggers' statements, so the median is what a billing run costs.
                runs = []
                for school_id in unbilled[:4] if state == "on" else unbilled[4:]:
                    school = db.session.get(School, school_id)
                    start = time.perf_counter()
                    billing.run_billing(admin, school, period="2027-09",
                                        fee_codes=["HOCPHI", "TIENAN"],
                                        due_date=date(2027, 9, 15))
                    db.session.commit()
                    runs.append((time.perf_counter() - start) * 1000)
                runs.sort()
                samples, matched = [], 0
                for invoice_id in batches[state]:
                    invoice = db.session.get(Invoice, invoice_id)
                    number = next(counter)
                    note = BankNotification(
                        provider="sepay", provider_txn_id=f"bench-{run}-{state}-{number}",
                        account_number=f"00220{invoice.school_id:08d}", direction="in",
                        amount_vnd=invoice.total_vnd, memo=f"{invoice.code} hoc phi",
                        bank_reference=f"FTBENCH{run}{state}{number}",
                        occurred_at=datetime(2027, 5, 20, 10), payer_account=None,
                        payer_name=None, bank_name="Vietcombank")
                    db.session.commit()
                    start = time.perf_counter()
                    txn_id, _new = payment_service.store(note, "{}")
                    db.session.commit()
                    txn = payment_service.process(txn_id)
                    db.session.commit()
                    samples.append((time.perf_counter() - start) * 1000)
                    matched += txn.status == "matched"
                samples.sort()
                results.append((f"billing run, 500 students, triggers {state}",
                                (runs[1] + runs[2]) / 2, runs[-1]))
                print(f"  triggers {state}: {matched} of {len(samples)} payments matched",
                      flush=True)
                results.append((f"webhook payment (store+match), triggers {state}",
                                samples[len(samples) // 2],
                                samples[min(len(samples) - 1, round(0.95 * len(samples)) - 1)]))
            finally:
                if state == "off":
                    db.session.rollback()
                    db.session.execute(db.text("ALTER TABLE invoices ENABLE TRIGGER USER"))
                    db.session.execute(db.text(
                        "ALTER TABLE bank_transactions ENABLE TRIGGER USER"))
                    db.session.commit()
        # What the triggers were off for is missing from the totals; the check sees it.
        drift = sum(c.differences for c in summaries.verify())
        db.session.rollback()
        summaries.rebuild()
        db.session.commit()
        exact = all(c.ok for c in summaries.verify())
        print(f"  with triggers off, verify-summaries found {drift} rows differing; after "
              f"--repair: {'OK' if exact else 'FAILED'}", flush=True)
        db.session.remove()
        db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--students", type=int, default=500, help="per school")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--payments", type=int, default=200)
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--skip-writes", action="store_true")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()

    url = f"{args.server}/{DATABASE}"
    if not args.skip_build:
        print(f"building {DATABASE}: {args.schools} schools, "
              f"{args.schools * args.students:,} students", flush=True)
        start = time.perf_counter()
        url = recreate(args.server, DATABASE)
        build(url, schools=args.schools, per_school=args.students)
        build_summaries(url)
        print(f"  built in {time.perf_counter() - start:.0f} s", flush=True)
    if args.build_only:
        return
    results = measure(url, args.runs)
    print(f"\nEducation authority's overview, {args.schools} schools / "
          f"{args.schools * args.students:,} students, {args.runs} runs, ms")
    print(f"{'':36} {'median':>8} {'p95':>8}")
    for label, median, p95 in results:
        print(f"{label:36} {median:8.1f} {p95:8.1f}")
    if not args.skip_writes:
        writes = measure_writes(url, args.payments)
        print(f"\nWrites ({args.payments} payments each way), ms")
        print(f"{'':48} {'median':>8} {'p95':>8}")
        for label, median, p95 in writes:
            print(f"{label:48} {median:8.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
