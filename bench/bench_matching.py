"""Throughput of memo matching: find_codes() + invoice lookup + decide(), per memo.

Run from the repository root::

    .venv/bin/python bench/bench_matching.py            # 10k, 100k and 1M open invoices
    .venv/bin/python bench/bench_matching.py --memos 20000 --sizes 10000 100000

For each number of open invoices it issues that many codes under two prefixes, builds 100,000
memos the way they arrive (bank wrappers from FORMATS.md, case changes, spaces and dashes inside
codes, diacritics, siblings' codes together, hand-typed memos with no code), and times the whole
per-memo path on one core. A dict stands in for the database's unique index on the code: the
point is that find_codes() never looks at invoices, so the cost per memo must not grow with
their number.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tuition.core.matching import OpenInvoice, decide  # noqa: E402
from tuition.core.memo import find_codes  # noqa: E402
from tuition.core.paycode import new_code  # noqa: E402

PREFIXES = ("HP", "LQD")
NAMES = ("Nguyen Van An", "Tran Thi Binh", "Le Hoang Minh", "Pham Thu Huong", "Do Duc Anh")
HAND_TYPED = (
    "hoc phi be {name} lop {cls}",
    "Học phí tháng 9 bé {name} lớp {cls}",
    "{name} chuyen tien",
    "CHUYEN TIEN",
    "{name} nop tien an ban tru",
)
WRAPPERS: tuple[Callable[[str, random.Random], str], ...] = (
    lambda m, r: (
        f"MBVCB.{r.randrange(10**10):010d}.{m}.CT tu {r.randrange(10**13):013d} "
        f"NGUYEN VAN BINH toi {r.randrange(10**14):014d} TRUONG TIEU HOC"
    ),
    lambda m, r: f"{r.randrange(10**6):06d}.010924.{r.randrange(10**6):06d}.{m}",
    lambda m, r: (
        f"TKThe :{r.randrange(10**14):014d} tai Techcombank. {m} "
        f"-CTLNHIDI{r.randrange(10**15):015d}-1/1-CRE-002"
    ),
    lambda m, r: f"CT nhanh 247 den: {m} (CT1111) NGUYEN VAN BINH",
    lambda m, r: f"{m} FT{r.randrange(10**14):014d}",
    lambda m, r: f"IBFT {m}",
    lambda m, r: f"{m.upper()}-010924-09:30:15 {r.randrange(10**6):06d}",
    lambda m, r: f"BIDV;{r.randrange(10**10):010d};{m}",
    lambda m, r: f"MB({r.randrange(10**6):06d})({m})",
    lambda m, r: f"{m} (by TPBank ChatPay)",
)
STATUSES = ("open",) * 85 + ("partial",) * 10 + ("paid",) * 4 + ("cancelled",)


def _mangle(code: str, rng: random.Random) -> str:
    """How a payer writes a code: as printed, lower case, or with a space or dash inside."""
    roll = rng.random()
    if roll < 0.5:
        return code
    if roll < 0.7:
        return code.lower()
    cut = rng.randrange(2, len(code) - 1)
    return f"{code[:cut]}{rng.choice(' -.')}{code[cut:]}"


def build_invoices(count: int, rng: random.Random) -> dict[str, OpenInvoice]:
    """``count`` invoices keyed by code: the stand-in for the unique index on the code column."""
    index: dict[str, OpenInvoice] = {}
    while len(index) < count:
        code = new_code(PREFIXES[len(index) % 2], rng)
        status = rng.choice(STATUSES)
        balance = 0 if status in {"paid"} else rng.choice((500_000, 1_200_000, 1_500_000))
        index[code] = OpenInvoice(code, balance, status)  # a rare collision just overwrites
    return index


def build_memos(
    index: dict[str, OpenInvoice], count: int, rng: random.Random
) -> list[tuple[str, int]]:
    """``count`` (memo, amount) pairs: ~72% one code, ~8% two codes, ~20% no code."""
    codes = list(index)
    memos: list[tuple[str, int]] = []
    for _ in range(count):
        roll = rng.random()
        name = rng.choice(NAMES)
        words = rng.choice(HAND_TYPED).format(name=name, cls=rng.choice(("2A", "3B", "5C")))
        if roll < 0.72:
            invoice = index[rng.choice(codes)]
            text = f"{_mangle(invoice.code, rng)} {words if rng.random() < 0.5 else ''}".strip()
            amount = invoice.balance_vnd or 1_500_000
            amount += rng.choice((0, 0, 0, 0, -100_000, 100_000))
        elif roll < 0.80:
            first, second = index[rng.choice(codes)], index[rng.choice(codes)]
            text = f"{_mangle(first.code, rng)} {_mangle(second.code, rng)} hoc phi 2 be"
            amount = first.balance_vnd + second.balance_vnd or 1_000_000
        else:
            text = words
            amount = rng.choice((500_000, 1_200_000, 1_500_000))
        memos.append((rng.choice(WRAPPERS)(text, rng), amount))
    return memos


def run(index: dict[str, OpenInvoice], memos: list[tuple[str, int]]) -> tuple[float, Counter]:
    """Seconds for find_codes + lookup + decide over all memos, and the decisions' kinds."""
    kinds: Counter[str] = Counter()
    lookup = index.get
    started = time.perf_counter()
    for memo, amount in memos:
        found = [invoice for code in find_codes(memo, PREFIXES) if (invoice := lookup(code))]
        kinds[decide(found, amount).kind] += 1
    return time.perf_counter() - started, kinds


def time_find_codes_only(memos: list[tuple[str, int]]) -> float:
    started = time.perf_counter()
    for memo, _ in memos:
        find_codes(memo, PREFIXES)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memos", type=int, default=100_000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    print(f"Python {sys.version.split()[0]}, one core, {args.memos:,} memos per run")
    header = (
        f"{'open invoices':>14} {'find_codes memos/s':>19} {'full path memos/s':>18} "
        f"{'us/memo':>8}  decisions"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        rng = random.Random(args.seed)
        index = build_invoices(size, rng)
        memos = build_memos(index, args.memos, rng)
        # The index is long-lived data, like a database's; keep the collector from rescanning it.
        gc.collect()
        gc.freeze()
        find_seconds = time_find_codes_only(memos)
        seconds, kinds = run(index, memos)
        gc.unfreeze()
        summary = ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())
        print(
            f"{size:>14,} {args.memos / find_seconds:>19,.0f} {args.memos / seconds:>18,.0f} "
            f"{seconds / args.memos * 1e6:>8.2f}  {summary}"
        )


if __name__ == "__main__":
    main()
