"""The migration that brings billed_months fills it from the invoices already issued, and its
downgrade gives the one-invoice-per-period index back. Run with `flask db` on a scratch SQLite
file, as an operator would (PostgreSQL runs the same statements; CI checks it migrates)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "58fd3c6a647b"
NOW = "2026-09-01 00:00:00"


def flask_db(path: Path, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "TUITION_SECRET_KEY": "x" * 40}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", *args], cwd=ROOT,
                   env=env, check=True, capture_output=True)


def test_billed_months_are_filled_from_issued_invoices(tmp_path):
    path = tmp_path / "old.db"
    flask_db(path, "upgrade", BEFORE)
    with sqlite3.connect(path) as conn:
        conn.executescript(f"""
            INSERT INTO schools (id, code, name, levels, address, payment_prefix, created_at)
              VALUES (1, 'LQD', 'Trường', 'tieu_hoc', '', 'LQ', '{NOW}');
            INSERT INTO classrooms (id, school_id, school_year, name, grade)
              VALUES (1, 1, '2026-2027', '1A', '1');
            INSERT INTO students (id, school_id, code, full_name, classroom_id, status,
                                  created_at)
              VALUES (1, 1, 'HS001', 'A', 1, 'studying', '{NOW}'),
                     (2, 1, 'HS002', 'B', 1, 'studying', '{NOW}');
            INSERT INTO fee_items (id, school_id, code, name, amount_vnd, unit, grades, classes,
                                   mandatory, created_at)
              VALUES (1, 1, 'HOCPHI', 'Học phí', 500000, 'month', '', '', 1, '{NOW}'),
                     (2, 1, 'TIENAN', 'Tiền ăn', 30000, 'school_day', '', '', 1, '{NOW}');
            INSERT INTO invoices (id, school_id, student_id, code, period, total_vnd, paid_vnd,
                                  due_date, status, issued_at)
              VALUES (1, 1, 1, 'LQA', '2026-09', 1100000, 0, '2026-09-15', 'open', '{NOW}'),
                     (2, 1, 1, 'LQB', '2026-2027-HK1', 2000000, 0, '2026-10-15', 'open',
                      '{NOW}'),
                     (3, 1, 2, 'LQC', '2026-10', 500000, 0, '2026-10-15', 'cancelled',
                      '{NOW}');
            INSERT INTO invoice_lines (id, invoice_id, position, fee_item_id, description,
                                       quantity, unit_price_vnd, reduction_vnd, amount_vnd)
              VALUES (1, 1, 1, 1, 'Học phí', 1, 500000, 0, 500000),
                     (2, 1, 2, 2, 'Tiền ăn', 20, 30000, 0, 600000),
                     (3, 2, 1, 1, 'Học phí', 4, 500000, 0, 2000000),
                     (4, 3, 1, 1, 'Học phí', 1, 500000, 0, 500000);
        """)
    flask_db(path, "upgrade")
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT student_id, fee_item_id, month, invoice_id, invoice_line_id, gross_vnd, "
            "unit_price_vnd FROM billed_months ORDER BY invoice_line_id, month").fetchall()
    # September's tuition is the month invoice's (the term billed it twice before this
    # table existed: the earlier invoice keeps it); meals are recorded without a price per
    # month; the cancelled invoice holds nothing.
    assert rows == [
        (1, 1, "2026-09-01", 1, 1, 500000, 500000),
        (1, 2, "2026-09-01", 1, 2, None, None),
        (1, 1, "2026-10-01", 2, 3, 500000, 500000),
        (1, 1, "2026-11-01", 2, 3, 500000, 500000),
        (1, 1, "2026-12-01", 2, 3, 500000, 500000),
    ]
    # Going back needs one live invoice per student and period again; here there is one.
    flask_db(path, "downgrade", BEFORE)
    with sqlite3.connect(path) as conn:
        indexes = {row[1] for row in conn.execute("PRAGMA index_list('invoices')")}
        tables = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "uq_invoices_student_period_live" in indexes and "billed_months" not in tables
