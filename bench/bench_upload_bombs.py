"""Upload bombs against the roster reader: seconds, the server process's memory, the answer.

Run: .venv/bin/python bench/bench_upload_bombs.py
Each bomb (built small, in memory, by tests/bombs.py) goes through ``parse_roster``, as the
API, the staff form and the CLI use it. Printed per bomb: the upload's size, the seconds to the
refusal, how far this process's peak memory rose above its memory before (Linux: the peak is
reset through /proc/self/clear_refs), the HTTP status the API answers and the message.
Target from the issue: a clear 4xx within seconds, the server's memory under a few hundred MB.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import bombs  # noqa: E402
from tuition.importing.roster import parse_roster  # noqa: E402
from tuition.importing.sheets import ImportFileError  # noqa: E402

BOMBS = [
    ("XLSX, 5 M empty rows (one cell in column XFD each)", bombs.empty_rows_xlsx, "xlsx"),
    ("XLSX, one 400 MB shared string", bombs.huge_shared_string_xlsx, "xlsx"),
    ("XLSX, 300 rows x 16,384 numbers", bombs.wide_xlsx, "xlsx"),
    ("XLSX, a cell on row 1,048,576", bombs.far_row_xlsx, "xlsx"),
    ("XLSX, 20,000 zip parts", bombs.many_parts_xlsx, "xlsx"),
    ("XLSX, billion laughs", bombs.entity_xlsx, "xlsx"),
    ("CSV, 60,000-column header, 2,000 rows", bombs.wide_csv, "csv"),
    ("CSV, 16,000-column header, 2,000 rows", lambda: bombs.wide_csv(16_000), "csv"),
    ("CSV, first line of 200 KB", bombs.long_line_csv, "csv"),
    ("CSV, 8 M blank lines", bombs.blank_lines_csv, "csv"),
]


def _kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def main() -> None:
    print(f"{'bomb':52} {'size':>9} {'seconds':>8} {'server +MB':>10} {'status':>6}  message")
    for label, build, ext in BOMBS:
        data = build()
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        before = _kb("VmRSS")
        started = time.perf_counter()
        try:
            parse_roster(data, f"ds.{ext}")
            status, message = 200, "imported?!"
        except ImportFileError as exc:
            status, message = exc.status, exc.message_en
        except Exception as exc:  # a refusal the API would have answered 422 (rows invalid)
            status, message = 422, f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - started
        grew = (_kb("VmHWM") - before) / 1024
        print(f"{label:52} {len(data) / 1024:7.0f}KB {seconds:8.2f} {grew:10.1f} {status:>6}  "
              f"{message[:90]}")


if __name__ == "__main__":
    main()
