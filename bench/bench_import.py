"""Roster import of 5,000 students from XLSX: parse + store, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/bench_import.py [--pg postgresql://postgres@127.0.0.1:5432/DB]
Prints the seconds for parsing (the first time, and again), for storing (a first import: all
new) and for a re-import (all updates). Target from the issue: large files (5,000 rows) import
in seconds.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent.parent


def roster_xlsx(rows: int) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["Mã học sinh", "Họ và tên", "Ngày sinh", "Lớp", "Họ tên phụ huynh",
                  "Số điện thoại"])
    classes = [f"{g}{c}" for g in range(1, 6) for c in "ABCDEFGH"]
    for n in range(rows):
        sheet.append([f"HS{n:05d}", f"Nguyễn Thị Học Sinh {n}", date(2017, 1 + n % 12, 1 + n % 28),
                      classes[n % len(classes)], f"Trần Văn Phụ Huynh {n}", f"09{n:08d}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(url: str, data: bytes) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "TUITION_SECRET_KEY": "bench"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                   env=env, check=True, capture_output=True)
    os.environ.update(env)
    from tuition.app import create_app
    from tuition.extensions import db
    from tuition.importing.roster import parse_roster
    from tuition.services import schools, students, users

    app = create_app()
    figures = {}
    with app.app_context():
        admin, _ = users.create_user(None, email=f"bench{time.time_ns()}@x.vn", role="admin")
        code = f"B{time.time_ns() % 10**8}"
        school = schools.create_school(admin, {"code": code, "name": "Trường thử",
                                               "level": "tieu_hoc"})
        db.session.commit()
        started = time.perf_counter()
        rows = parse_roster(data, "roster.xlsx")
        figures["parse s"] = time.perf_counter() - started
        # The file is read in a child process of a fork server, which the first parse starts
        # (a few hundred ms, once per server process); the second is what every later one costs.
        started = time.perf_counter()
        rows = parse_roster(data, "roster.xlsx")
        figures["parse again s"] = time.perf_counter() - started
        for label in ("first import s", "re-import s"):
            started = time.perf_counter()
            students.import_roster(admin, school, rows)
            db.session.commit()
            figures[label] = time.perf_counter() - started
        figures["rows"] = len(rows)
        db.session.remove()
        db.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--pg", default=None, help="PostgreSQL URL of an existing database")
    args = parser.parse_args()
    data = roster_xlsx(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite:///{tmp}/bench.db"
        figures = run(url, data)
    engine = "postgresql" if args.pg else "sqlite"
    print(f"{engine}: " + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                                     for k, v in figures.items()))


if __name__ == "__main__":
    main()
