"""Benchmark the fee-notice renderer: pages per second and peak memory.

Each run renders lazily generated synthetic notices (6 fee lines, varied Vietnamese names,
a unique VietQR payload and verify link per notice) into a temporary file, in a fresh child
process so that the peak RSS of a 200-notice run is not inflated by an earlier, larger run.
Besides wall-clock pages/s it prints pages per CPU second, which stays meaningful on a machine
shared with other work.
Flat memory shows as nearly the same peak RSS for 200, 2,000 and 5,000 notices.  "pages" are
A4 sheets: an a5x2 sheet carries two notices, so its notices/s is twice its pages/s.

    .venv/bin/python bench/bench_notices.py [--counts 200 2000 5000] [--layouts a4 a5x2]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from tuition.pdf.notices import Notice, NoticeLine, render_notices

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi")
MIDDLE = ("Thị", "Văn", "Ngọc", "Minh", "Gia", "Bảo", "Thanh", "Đức", "Hoài", "Khánh")
GIVEN = (
    "Ánh Dương",
    "An",
    "Bình",
    "Chi",
    "Dũng",
    "Hà My",
    "Khôi",
    "Linh",
    "Nhật Minh",
    "Phúc",
    "Quỳnh Anh",
    "Thảo",
    "Tuấn Kiệt",
    "Uyên",
    "Vy",
    "Yến",
)
ITEMS = (
    ("Học phí", 1, 500_000, "tháng"),
    ("Tiền ăn bán trú", 22, 35_000, "ngày"),
    ("Tiền nước uống", 1, 15_000, "tháng"),
    ("Tiếng Anh tăng cường với giáo viên nước ngoài", 8, 50_000, "buổi"),
    ("Câu lạc bộ năng khiếu", 4, 30_000, "buổi"),
    ("Sổ liên lạc điện tử", 1, 10_000, "tháng"),
)


def _crc16(data: str) -> str:
    """CRC-16/CCITT-FALSE as VietQR uses it, so the synthetic payloads look real."""
    crc = 0xFFFF
    for byte in data.encode():
        crc ^= byte << 8
        for _ in range(8):
            crc = (crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _payload(amount: int, memo: str) -> str:
    def field(tag: str, value: str) -> str:
        return f"{tag}{len(value):02d}{value}"

    account = field("00", "970436") + field("01", "0071001234567")
    merchant = field("00", "A000000727") + field("01", account) + field("02", "QRIBFTTA")
    body = (
        field("00", "01")
        + field("01", "12")
        + field("38", merchant)
        + field("53", "704")
        + field("54", str(amount))
        + field("58", "VN")
        + field("62", field("08", memo))
        + "6304"
    )
    return body + _crc16(body)


def synthetic_notices(count: int) -> Iterator[Notice]:
    """Yield ``count`` distinct notices one at a time, as a database cursor would."""
    for i in range(count):
        name = f"{FAMILY[i % 11]} {MIDDLE[i // 11 % 10]} {GIVEN[i // 7 % 16]}"
        lines = []
        for k, (description, quantity, price, unit) in enumerate(ITEMS):
            reduction = 20_000 if (i + k) % 5 == 0 else 0
            lines.append(
                NoticeLine(
                    description, quantity, price, reduction, quantity * price - reduction, unit
                )
            )
        total = sum(line.amount_vnd for line in lines)
        code = f"HS{i:06d}"
        memo = f"HP2609 {code}"
        yield Notice(
            school_name="Trường Tiểu học Lê Quý Đôn",
            school_address="12 Lê Quý Đôn, Phường Võ Thị Sáu, TP. Hồ Chí Minh",
            school_phone="028 3930 1234",
            school_tax_code="0301234567",
            student_code=code,
            student_name=name,
            class_name=f"{1 + i % 5}A{1 + i % 4}",
            period_label="Tháng 9/2026",
            lines=tuple(lines),
            total_vnd=total,
            amount_in_words="Một triệu tám trăm nghìn đồng",
            due_date=datetime.date(2026, 9, 15),
            bank_name="Vietcombank",
            account_number="0071001234567",
            account_name="TRUONG TIEU HOC LE QUY DON",
            qr_payload=_payload(total, memo),
            memo=memo,
            invoice_code=f"HP2609-{i:06d}",
            verify_url=f"https://hocphi.lequydon.edu.vn/v/HP2609-{i:06d}-{i * 7919 % 9973:04d}",
        )


def run_once(count: int, layout: str) -> dict[str, float]:
    """Render ``count`` notices in this process and measure it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "notices.pdf")
        start = time.perf_counter()
        cpu_start = time.process_time()
        with open(path, "wb") as out:
            drawn = render_notices(synthetic_notices(count), out, layout=layout)
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu_start
        size = os.path.getsize(path)
    pages = drawn if layout == "a4" else (drawn + 1) // 2
    # ru_maxrss is in kilobytes on Linux.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "notices": drawn,
        "pages": pages,
        "seconds": seconds,
        "pages_per_s": pages / seconds,
        "pages_per_cpu_s": pages / cpu_seconds,
        "notices_per_s": drawn / seconds,
        "peak_rss_mb": peak_mb,
        "file_mb": size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[200, 2000, 5000])
    parser.add_argument("--layouts", nargs="+", default=["a4", "a5x2"])
    parser.add_argument("--child", nargs=2, metavar=("COUNT", "LAYOUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_once(int(args.child[0]), args.child[1])))
        return
    print(
        f"{'layout':<6} {'notices':>7} {'pages':>6} {'seconds':>8} {'pages/s':>8} "
        f"{'pages/cpu-s':>11} {'notices/s':>9} {'peak RSS MB':>11} {'file MB':>8}"
    )
    for layout in args.layouts:
        for count in args.counts:
            child = subprocess.run(
                [sys.executable, __file__, "--child", str(count), layout],
                check=True,
                capture_output=True,
                text=True,
            )
            r = json.loads(child.stdout)
            print(
                f"{layout:<6} {r['notices']:>7} {r['pages']:>6} {r['seconds']:>8.2f} "
                f"{r['pages_per_s']:>8.1f} {r['pages_per_cpu_s']:>11.1f} "
                f"{r['notices_per_s']:>9.1f} {r['peak_rss_mb']:>11.1f} {r['file_mb']:>8.2f}"
            )


if __name__ == "__main__":
    main()
