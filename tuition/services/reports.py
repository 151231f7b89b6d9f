"""Reports for the staff: a period's dashboard and the arrears list, with its exports.

Every figure is aggregate SQL over the invoices of one school; Python only apportions, sorts
and formats. Cancelled invoices are left out everywhere. The definitions:

expected
    the invoices' totals (after exemptions and adjustments);
collected
    their paid amounts, i.e. the money allocated to them (credit used included);
outstanding
    ``max(total - paid, 0)`` per invoice; collection rate is collected / expected;
by class, by grade
    the student's *current* class: invoices do not record the class they were billed in;
by fee item
    see :func:`split_invoice`: a credit on a fee item (a meal refund, a correction after an
    exemption) stays on that item; credits of no item are netted into the invoice's charges
    in proportion; then the paid amount is spread over what is left in proportion, to the
    dong;
collections per day
    invoice allocations by the day the bank says the money moved (``occurred_at``, Vietnam
    time). Credit used on a later invoice counts on the day of the original transfer, and a
    reversal cancels its allocation on that same day, so the days always add up to collected;
aging
    the open balance by days past the due date at ``today``: not yet due (due today or
    later), 1-30, 31-60 and over 60 days;
channels
    money received in the period's days, per channel, and the cashless share: see
    :mod:`tuition.services.channels` (the authority's view reads the same function).

A period selects the invoices billed for it or for any period inside it: ``2026-2027-HK1``
takes the term's invoices and those of September to December 2026; a month takes only its own
(a term invoice cannot be cut into months).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, BinaryIO

from sqlalchemy import and_, case, distinct, exists, func, select
from sqlalchemy.orm import aliased

from ..core.clock import format_date
from ..core.names import sort_key
from ..core.periods import PeriodError, parse_period
from ..extensions import db
from ..models import (
    Allocation,
    BankTransaction,
    Classroom,
    FeeItem,
    Invoice,
    InvoiceLine,
    School,
    Student,
    User,
)
from ..pdf.arrears import render_arrears
from ..spreadsheets import csv_bytes, xlsx_bytes
from . import channels
from .access import require_read
from .errors import Invalid

#: Grades in school order: nhà trẻ, mẫu giáo bé/nhỡ/lớn, then classes 1 to 9.
GRADE_ORDER = ("NT", "MGB", "MGN", "MGL", "1", "2", "3", "4", "5", "6", "7", "8", "9")
GRADE_LABELS = {"NT": "Nhà trẻ", "MGB": "Mẫu giáo bé", "MGN": "Mẫu giáo nhỡ",
                "MGL": "Mẫu giáo lớn"}
GROUP_BY = ("class", "grade", "fee_item")
#: Aging buckets: key, Vietnamese label, first and last day past due (None: open-ended).
AGING = (
    ("not_due", "Chưa đến hạn", None, 0),
    ("1_30", "Quá hạn 1-30 ngày", 1, 30),
    ("31_60", "Quá hạn 31-60 ngày", 31, 60),
    ("over_60", "Quá hạn trên 60 ngày", 61, None),
)
#: Lines without a fee item (adjustments that charge) are reported under this name.
OTHER_ITEM = ("", "Khoản khác (điều chỉnh)")
#: What Excel and LibreOffice read as the start of a formula (OWASP "CSV injection").


# --------------------------------------------------------------------------------------------
# Apportioning (pure)


def apportion(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` dong in proportion to non-negative ``weights``, exactly.

    Largest remainder: each part is rounded down, and the dong left over go one each to the
    parts with the largest remainders (the earlier part on a tie), so the parts add up to
    ``amount``. All-zero weights take nothing.
    """
    total = sum(weights)
    if total <= 0:
        return [0] * len(weights)
    parts = [amount * w // total for w in weights]
    left = amount - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return parts


@dataclass(frozen=True, slots=True)
class LineShare:
    """What one charge of an invoice comes to, after credits, and how much of it is paid."""

    key: Hashable
    billed_vnd: int
    #: The share of the invoice's credit lines netted into this charge (zero or negative).
    credit_vnd: int
    collected_vnd: int

    @property
    def expected_vnd(self) -> int:
        return self.billed_vnd + self.credit_vnd

    @property
    def outstanding_vnd(self) -> int:
        return self.expected_vnd - self.collected_vnd


def split_invoice(lines: Sequence[tuple[Hashable, int]], paid_vnd: int) -> list[LineShare]:
    """Spread an invoice's paid amount over its charges, one share per fee item.

    A payment names an invoice, not its lines, so the rule is a convention. A credit line on
    a fee item (a meal refund, a correction of tuition after an exemption) reduces that
    item's charge; credit lines of no item, and whatever an item's credits exceed its charge
    by, reduce every charge in proportion to what is left of it. Then the paid amount (at most
    the net total) is spread over the net charges in proportion. Every step is
    :func:`apportion`, so the parts are whole dong and add up to the invoice's figures
    exactly. Credit lines get no share of their own.
    """
    charges: dict[Hashable, int] = {}
    own: dict[Hashable, int] = defaultdict(int)
    general = 0
    for key, amount in lines:
        if amount > 0:
            charges[key] = charges.get(key, 0) + amount
        elif amount < 0:
            if key is None:
                general -= amount
            else:
                own[key] -= amount
    keys = list(charges)
    netted = {key: min(own.get(key, 0), charges[key]) for key in keys}
    general += sum(own.values()) - sum(netted.values())
    net = [charges[key] - netted[key] for key in keys]
    spread = apportion(min(general, sum(net)), net)
    net = [n - part for n, part in zip(net, spread, strict=True)]
    collected = apportion(min(max(paid_vnd, 0), sum(net)), net)
    return [
        LineShare(key, charges[key], -(netted[key] + part), paid)
        for key, part, paid in zip(keys, spread, collected, strict=True)
    ]


# --------------------------------------------------------------------------------------------
# Shared helpers


def _int(value: Any) -> int:
    # PostgreSQL sums BIGINT as NUMERIC, which arrives as Decimal.
    return int(value or 0)


def _rate(collected: int, expected: int) -> float | None:
    return round(collected / expected, 4) if expected else None


@functools.lru_cache(maxsize=65_536)
def _name_key(full_name: str) -> tuple:
    """:func:`sort_key`, remembered: it costs ~0.1 ms a name, and names rarely change."""
    return sort_key(full_name)


def _grade_rank(grade: str) -> int:
    return GRADE_ORDER.index(grade) if grade in GRADE_ORDER else len(GRADE_ORDER)


def grade_label(grade: str) -> str:
    return GRADE_LABELS.get(grade, f"Khối {grade}")


def _period_keys(period: str | None) -> tuple[str | None, list[str] | None]:
    """The period's key and the keys of the invoices it takes (None: every period)."""
    if period is None or not period.strip():
        return None, None
    try:
        parsed = parse_period(period)
    except PeriodError as exc:
        raise Invalid(exc.message_vi, exc.message_en, field="period") from exc
    keys = [f"{y}-{m:02d}" for y, m in parsed.months]
    if parsed.kind == "year":
        first, second = parsed.key.split("-")
        # A school year's figures include the balances it opened with (see opening_balances).
        keys += [f"{first}-{second}-HK1", f"{first}-{second}-HK2", f"{first}-{second}-DK"]
    if parsed.kind != "month":
        keys.append(parsed.key)
    return parsed.key, keys


def _live_invoices(school: School, keys: list[str] | None) -> list:
    conditions = [Invoice.school_id == school.id, Invoice.status != "cancelled"]
    if keys is not None:
        conditions.append(Invoice.period.in_(keys) if len(keys) > 1 else Invoice.period == keys[0])
    return conditions


_BALANCE = case((Invoice.total_vnd > Invoice.paid_vnd, Invoice.total_vnd - Invoice.paid_vnd),
                else_=0)


def _credit_by_student(school: School) -> dict[int, int]:
    """Credit each student of the school holds (money received beyond what was owed, not
    spent yet: confirmed credit is spent at once on what is open, so what remains beside
    arrears is credit still waiting for a person)."""
    rows = db.session.execute(
        select(Allocation.student_id, func.sum(Allocation.amount_vnd))
        .join(BankTransaction, BankTransaction.id == Allocation.transaction_id)
        .where(Allocation.kind == "credit", BankTransaction.school_id == school.id)
        .group_by(Allocation.student_id)
        .having(func.sum(Allocation.amount_vnd) != 0)).all()
    return {student_id: int(total) for student_id, total in rows}


def _credit_figures(school: School, owed_by_student: dict[int, int], *,
                    owing_only: bool = False) -> dict:
    """Gross arrears, credit held and net arrears (each student's arrears less their credit,
    never below nothing: one family's credit does not pay another's debt). Credit held is
    every student's, or with ``owing_only`` that of the students who owe."""
    credit = _credit_by_student(school)
    gross = sum(owed_by_student.values())
    net = sum(max(owed - credit.get(student, 0), 0) for student, owed in owed_by_student.items())
    held = sum(amount for student, amount in credit.items()
               if not owing_only or student in owed_by_student)
    return {"gross_arrears_vnd": gross, "credit_held_vnd": held, "net_arrears_vnd": net}


def _owed_by_student(conditions: list) -> dict[int, int]:
    rows = db.session.execute(
        select(Invoice.student_id, func.sum(_BALANCE)).where(*conditions)
        .group_by(Invoice.student_id)).all()
    return {student_id: int(owed) for student_id, owed in rows if owed}


def _amounts(expected: int, collected: int, outstanding: int) -> dict:
    return {"expected_vnd": expected, "collected_vnd": collected,
            "outstanding_vnd": outstanding, "collection_rate": _rate(collected, expected)}


# --------------------------------------------------------------------------------------------
# Dashboard


def dashboard(actor: User, school: School, *, period: str | None, today: date) -> dict:
    """Expected, collected and outstanding for a period (every period when None): totals, by
    grade, class and fee item, money collected per day, and the open balance by age."""
    require_read(actor, school)
    return dashboard_figures(school, period=period, today=today)


def dashboard_figures(school: School, *, period: str | None, today: date) -> dict:
    """:func:`dashboard` for a caller that has already checked who is asking (the education
    authority's drill-down). Aggregates only: no student's name, phone or invoice."""
    key, keys = _period_keys(period)
    live = _live_invoices(school, keys)

    classes = _by_class(live)
    totals = defaultdict(int)
    grades: dict[str, dict] = {}
    for row in classes:
        for field in ("students", "invoices", "invoices_paid", "invoices_partial",
                      "invoices_open", "expected_vnd", "collected_vnd", "outstanding_vnd"):
            totals[field] += row[field]
        grade = grades.setdefault(row["grade"], {
            "grade": row["grade"], "label": grade_label(row["grade"]), "classes": 0,
            "students": 0, "invoices": 0, "expected_vnd": 0, "collected_vnd": 0,
            "outstanding_vnd": 0})
        grade["classes"] += 1
        for field in ("students", "invoices", "expected_vnd", "collected_vnd",
                      "outstanding_vnd"):
            grade[field] += row[field]
    for grade in grades.values():
        grade["collection_rate"] = _rate(grade["collected_vnd"], grade["expected_vnd"])
    for row in classes:
        for field in ("invoices_paid", "invoices_partial", "invoices_open"):
            del row[field]

    return {
        "school": school.code,
        "school_name": school.name,
        "period": key,
        "today": today.isoformat(),
        "totals": {**dict(totals), **_amounts(totals["expected_vnd"], totals["collected_vnd"],
                                               totals["outstanding_vnd"]),
                   **_credit_figures(school, _owed_by_student(live))},
        "by_grade": sorted(grades.values(), key=lambda g: _grade_rank(g["grade"])),
        "by_class": classes,
        "by_fee_item": _by_fee_item(school, live),
        "collections_by_day": _by_day(live),
        "aging": _aging(live, today),
        # Money received in the period, per channel, and the school's cashless share.
        "channels": channels.school_channel_figures(school, period=key),
    }


def _by_class(live: list) -> list[dict]:
    status_count = {s: func.sum(case((Invoice.status == s, 1), else_=0))
                    for s in ("paid", "partial", "open")}
    rows = db.session.execute(
        select(Classroom.name, Classroom.grade, Classroom.school_year,
               func.count(distinct(Invoice.student_id)), func.count(Invoice.id),
               status_count["paid"], status_count["partial"], status_count["open"],
               func.sum(Invoice.total_vnd), func.sum(Invoice.paid_vnd), func.sum(_BALANCE))
        .select_from(Invoice)
        .join(Student, Student.id == Invoice.student_id)
        .join(Classroom, Classroom.id == Student.classroom_id)
        .where(*live)
        .group_by(Classroom.id, Classroom.name, Classroom.grade, Classroom.school_year)
    ).all()
    found = [
        {"class": name, "grade": grade, "school_year": year, "students": students,
         "invoices": count, "invoices_paid": _int(paid_n), "invoices_partial": _int(partial_n),
         "invoices_open": _int(open_n), **_amounts(_int(total), _int(paid), _int(balance))}
        for (name, grade, year, students, count, paid_n, partial_n, open_n, total, paid,
             balance) in rows
    ]
    return sorted(found, key=lambda r: (_grade_rank(r["grade"]), r["class"], r["school_year"]))


def _credit_line():
    credit_line = aliased(InvoiceLine)
    return exists().where(credit_line.invoice_id == Invoice.id, credit_line.amount_vnd < 0)


_PARTLY_PAID = and_(Invoice.paid_vnd > 0, Invoice.paid_vnd < Invoice.total_vnd)


def _by_fee_item(school: School, live: list) -> list[dict]:
    """Per fee item. Most invoices need no arithmetic (no credit line, nothing or all paid):
    each line counts its amount as expected, and as collected if paid; those are summed in
    SQL. The others, partly paid or with a credit line, go through :func:`split_invoice`."""
    sums: dict[int | None, list[int]] = defaultdict(lambda: [0, 0, 0])  # billed, credit, paid
    settled = Invoice.paid_vnd >= Invoice.total_vnd
    for item_id, billed, collected in db.session.execute(
        select(InvoiceLine.fee_item_id, func.sum(InvoiceLine.amount_vnd),
               func.sum(case((settled, InvoiceLine.amount_vnd), else_=0)))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(*live, ~_PARTLY_PAID, ~_credit_line(), InvoiceLine.amount_vnd > 0)
        .group_by(InvoiceLine.fee_item_id)
    ):
        sums[item_id][0] += _int(billed)
        sums[item_id][2] += _int(collected)
    # Two disjoint queries rather than one with "partly paid OR has a credit line": an EXISTS
    # under OR cannot be a semi-join, and PostgreSQL then hashes every credit line it has.
    for rest in (_PARTLY_PAID, and_(~_PARTLY_PAID, _credit_line())):
        rows = db.session.execute(
            select(Invoice.id, Invoice.paid_vnd, InvoiceLine.fee_item_id, InvoiceLine.amount_vnd)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(*live, rest)
            .order_by(Invoice.id, InvoiceLine.position)
        )
        for _invoice_id, paid, lines in _per_invoice(rows):
            for share in split_invoice(lines, paid):
                total = sums[share.key]
                total[0] += share.billed_vnd
                total[1] += share.credit_vnd
                total[2] += share.collected_vnd

    items = _fee_items(school)
    found = []
    for item_id, (billed, credit, collected) in sums.items():
        code, name = items.get(item_id, OTHER_ITEM)
        expected = billed + credit
        found.append({"code": code, "name": name, "billed_vnd": billed, "credits_vnd": credit,
                      **_amounts(expected, collected, expected - collected)})
    return sorted(found, key=lambda r: (r["code"] == "", r["code"]))


def _per_invoice(rows: Iterable) -> Iterator[tuple[int, int, list[tuple[int | None, int]]]]:
    """Group (invoice id, paid, fee item id, amount) rows, ordered by invoice, per invoice."""
    current, paid, lines = None, 0, []
    for invoice_id, invoice_paid, item_id, amount in rows:
        if invoice_id != current:
            if current is not None:
                yield current, paid, lines
            current, paid, lines = invoice_id, invoice_paid, []
        lines.append((item_id, amount))
    if current is not None:
        yield current, paid, lines


def _fee_items(school: School) -> dict[int, tuple[str, str]]:
    return {item_id: (code, name) for item_id, code, name in db.session.execute(
        select(FeeItem.id, FeeItem.code, FeeItem.name).where(FeeItem.school_id == school.id))}


def _by_day(live: list) -> list[dict]:
    day = func.date(BankTransaction.occurred_at)
    rows = db.session.execute(
        select(day, func.sum(Allocation.amount_vnd))
        .select_from(Allocation)
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .join(BankTransaction, BankTransaction.id == Allocation.transaction_id)
        .where(Allocation.kind == "invoice", *live)
        .group_by(day)
        .order_by(day)
    ).all()
    found, running = [], 0
    for value, amount in rows:
        amount = _int(amount)
        if amount == 0:  # a transfer put on an invoice and taken back the same day
            continue
        running += amount
        # SQLite gives "YYYY-MM-DD", PostgreSQL a date.
        found.append({"date": str(value)[:10], "collected_vnd": amount,
                      "cumulative_vnd": running})
    return found


def _aging(live: list, today: date) -> list[dict]:
    bucket = case(
        (Invoice.due_date >= today, "not_due"),
        (Invoice.due_date >= today - timedelta(days=30), "1_30"),
        (Invoice.due_date >= today - timedelta(days=60), "31_60"),
        else_="over_60",
    )
    # Grouped in an outer query: PostgreSQL cannot match a CASE with bound dates in SELECT to
    # the same CASE in GROUP BY (each gets its own parameters).
    owed = (
        select(bucket.label("bucket"), Invoice.student_id, _BALANCE.label("balance"))
        .where(*live, Invoice.total_vnd > Invoice.paid_vnd)
        .subquery()
    )
    found = {
        name: (count, students, _int(balance))
        for name, count, students, balance in db.session.execute(
            select(owed.c.bucket, func.count(), func.count(distinct(owed.c.student_id)),
                   func.sum(owed.c.balance))
            .group_by(owed.c.bucket))
    }
    return [
        {"bucket": name, "label": label, "days_from": first, "days_to": last,
         "invoices": found.get(name, (0, 0, 0))[0], "students": found.get(name, (0, 0, 0))[1],
         "outstanding_vnd": found.get(name, (0, 0, 0))[2]}
        for name, label, first, last in AGING
    ]


# --------------------------------------------------------------------------------------------
# Arrears


def arrears(actor: User, school: School, *, period: str | None, group_by: str | None,
            today: date, overdue_only: bool = False) -> dict:
    """Every invoice with money still owed, down to the student, optionally grouped.

    ``group_by`` is ``"class"``, ``"grade"``, ``"fee_item"`` or None. By fee item, an invoice
    appears once under each item it still owes on, with that item's share of its total, paid
    and balance (see :func:`split_invoice`); the balances still add up to the invoice's.
    ``overdue_only`` leaves out invoices not yet due.
    """
    require_read(actor, school)
    if group_by not in (None, *GROUP_BY):
        raise Invalid("“group_by” phải là class, grade hoặc fee_item.",
                      "group_by must be class, grade or fee_item.", field="group_by")
    key, keys = _period_keys(period)
    owed = [*_live_invoices(school, keys), Invoice.total_vnd > Invoice.paid_vnd]
    if overdue_only:
        owed.append(Invoice.due_date < today)
    rows = _arrears_rows(owed, today)
    totals = {**_sum_rows(rows),
              **_credit_figures(school, _owed_by_student(owed), owing_only=True)}
    report = {
        "school": school.code, "school_name": school.name, "period": key,
        "today": today.isoformat(), "group_by": group_by, "overdue_only": overdue_only,
        "totals": totals,
    }
    if group_by is None:
        report["items"] = rows
        return report
    if group_by == "fee_item":
        groups = _by_fee_item_rows(school, owed, rows)
    else:
        # Rows are sorted by grade, then class: the groups come out in school order.
        grouped: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            grouped[row["class"] if group_by == "class" else row["grade"]].append(row)
        groups = {
            (name, f"Lớp {name}" if group_by == "class" else grade_label(name)): items
            for name, items in grouped.items()
        }
    report["groups"] = [
        {"key": group_key, "label": label, **_sum_rows(items), "items": items}
        for (group_key, label), items in groups.items()
    ]
    return report


def _arrears_rows(owed: list, today: date) -> list[dict]:
    rows = db.session.execute(
        select(Invoice.id, Invoice.code, Invoice.period, Invoice.total_vnd, Invoice.paid_vnd,
               Invoice.due_date, Student.code, Student.full_name, Student.guardian_name,
               Student.guardian_phone, Classroom.name, Classroom.grade)
        .join(Student, Student.id == Invoice.student_id)
        .join(Classroom, Classroom.id == Student.classroom_id)
        .where(*owed)
    ).all()
    rows.sort(key=lambda r: (_grade_rank(r[11]), r[10], _name_key(r[7]), r[6], r[2], r[1]))
    return [
        {"invoice_id": invoice_id, "student_code": student_code, "student_name": name,
         "class": class_name, "grade": grade, "guardian_name": guardian or "",
         "guardian_phone": phone or "", "period": period, "invoice_code": code,
         "total_vnd": total, "paid_vnd": paid, "balance_vnd": total - paid,
         "due_date": due.isoformat(), "days_overdue": max((today - due).days, 0)}
        for (invoice_id, code, period, total, paid, due, student_code, name, guardian, phone,
             class_name, grade) in rows
    ]


def _sum_rows(rows: list[dict]) -> dict:
    return {
        "invoices": len({r["invoice_id"] for r in rows}),
        "students": len({r["student_code"] for r in rows}),
        "total_vnd": sum(r["total_vnd"] for r in rows),
        "paid_vnd": sum(r["paid_vnd"] for r in rows),
        "balance_vnd": sum(r["balance_vnd"] for r in rows),
    }


def _by_fee_item_rows(school: School, owed: list, rows: list[dict]) -> dict:
    by_invoice = {row["invoice_id"]: row for row in rows}
    items = _fee_items(school)
    groups: dict[int | None, list[dict]] = defaultdict(list)
    lines = db.session.execute(
        select(Invoice.id, Invoice.paid_vnd, InvoiceLine.fee_item_id, InvoiceLine.amount_vnd)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(*owed)
        .order_by(Invoice.id, InvoiceLine.position)
    )
    for invoice_id, paid, invoice_lines in _per_invoice(lines):
        for share in split_invoice(invoice_lines, paid):
            if share.outstanding_vnd > 0:
                code, name = items.get(share.key, OTHER_ITEM)
                groups[share.key].append({
                    **by_invoice[invoice_id], "fee_item_code": code, "fee_item": name,
                    "total_vnd": share.expected_vnd, "paid_vnd": share.collected_vnd,
                    "balance_vnd": share.outstanding_vnd})
    order = {row["invoice_id"]: i for i, row in enumerate(rows)}
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] is None,
                                                     items.get(kv[0], OTHER_ITEM)[0]))
    result = {}
    for item_id, found in ordered:
        code, name = items.get(item_id, OTHER_ITEM)
        result[(code, f"{code} - {name}" if code else name)] = sorted(
            found, key=lambda r: order[r["invoice_id"]])
    return result


# --------------------------------------------------------------------------------------------
# Exports

_COLUMNS = (
    ("student_code", "Mã học sinh"),
    ("student_name", "Họ và tên"),
    ("class", "Lớp"),
    ("grade", "Khối"),
    ("guardian_name", "Phụ huynh"),
    ("guardian_phone", "Số điện thoại"),
    ("period", "Kỳ thu"),
    ("invoice_code", "Mã hóa đơn"),
    ("fee_item", "Khoản thu"),
    ("total_vnd", "Phải nộp (đ)"),
    ("paid_vnd", "Đã nộp (đ)"),
    ("balance_vnd", "Còn nợ (đ)"),
    ("due_date", "Hạn nộp"),
    ("days_overdue", "Số ngày quá hạn"),
)


def _period_label(key: str) -> str:
    try:
        return parse_period(key).label
    except PeriodError:
        return key


def _flat(report: dict) -> tuple[list[tuple[str, str]], list[dict]]:
    """The export's columns (the fee item only when grouped by it) and rows in order."""
    columns = [c for c in _COLUMNS if c[0] != "fee_item" or report["group_by"] == "fee_item"]
    if report["group_by"] is None:
        return columns, report["items"]
    return columns, [row for group in report["groups"] for row in group["items"]]


def arrears_csv(actor: User, school: School, *, period: str | None, group_by: str | None,
                today: date, overdue_only: bool = False) -> bytes:
    """The arrears list as CSV, UTF-8 with a byte order mark so Excel shows Vietnamese."""
    report = arrears(actor, school, period=period, group_by=group_by, today=today,
                     overdue_only=overdue_only)
    columns, rows = _flat(report)
    # Read by people in a spreadsheet: dates as dd/mm/yyyy, periods as they are said.
    shown = {"due_date": lambda value: format_date(date.fromisoformat(value)),
             "period": _period_label}
    return csv_bytes([title for _, title in columns],
                     ([shown[name](row[name]) if name in shown else row[name]
                       for name, _ in columns] for row in rows))


_XLSX_WIDTHS = {"student_code": 12, "student_name": 28, "class": 8, "grade": 7,
                "guardian_name": 26, "guardian_phone": 14, "period": 14, "invoice_code": 14,
                "fee_item": 24, "total_vnd": 14, "paid_vnd": 14, "balance_vnd": 14,
                "due_date": 12, "days_overdue": 10}


def arrears_xlsx(actor: User, school: School, *, period: str | None, group_by: str | None,
                 today: date, overdue_only: bool = False) -> bytes:
    """The arrears list as an Excel workbook, streamed row by row; text stays text."""
    report = arrears(actor, school, period=period, group_by=group_by, today=today,
                     overdue_only=overdue_only)
    columns, rows = _flat(report)
    return xlsx_bytes(
        "Công nợ", [title for _, title in columns],
        ([date.fromisoformat(row[name]) if name == "due_date"
          else _period_label(row[name]) if name == "period" else row[name]
          for name, _ in columns] for row in rows),
        widths=[_XLSX_WIDTHS[name] for name, _ in columns],
    )


def arrears_pdf(actor: User, school: School, *, period: str | None, group_by: str | None,
                today: date, out: BinaryIO, overdue_only: bool = False) -> int:
    """Print the arrears list: landscape A4, the header repeated on every page, each page
    written to ``out`` as soon as it is full. Returns the number of pages."""
    report = arrears(actor, school, period=period, group_by=group_by, today=today,
                     overdue_only=overdue_only)
    return render_arrears(report, out)
