"""The education authority's view: every school of a province or of one ward, in aggregate.

An authority (role ``authority``) is scoped to a province, or to one commune/ward of it; an
admin may look at any province. They read only, and only aggregates: counts and sums of dong
per school, never a student's name, phone or invoice. Figures come from the running totals of
:mod:`tuition.models.summaries` (exact, kept by triggers), so a province of a thousand schools
reads a few thousand rows, not millions of invoices.

Definitions, per school, for a period (a month, a term or a school year; the invoices it takes
are those of :func:`tuition.core.periods.invoice_keys`, as in the school's own dashboard):

students
    students with at least one invoice (not cancelled) in the period;
expected, collected, outstanding, collection rate
    as the school's dashboard: invoice totals, paid amounts, ``max(total - paid, 0)``;
arrears by age
    the outstanding by days past the due date at ``today``: not yet due, 1-30, 31-60, over 60;
money received, cashless share
    incoming transactions whose bank date falls in the period's months, by channel
    (:mod:`tuition.core.channels`): cashless over cash plus cashless;
bank feed
    when a webhook (SePay, Casso) last delivered a transaction for the school; silent for more
    than :data:`FEED_SILENT_AFTER` (or never) is flagged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, func, select

from ..core import channels, clock, places
from ..core.periods import (
    Period,
    PeriodError,
    invoice_keys,
    parse_period,
    school_year_of,
    school_year_on,
)
from ..extensions import db
from ..models import InvoiceSummary, ReceiptSummary, School, StudentCount, User
from ..models.school import LEVELS
from . import reports
from .errors import Forbidden, Invalid, NotFound

#: A school whose bank feed has delivered nothing for this long is flagged.
FEED_SILENT_AFTER = timedelta(days=7)
#: Highlight schools below these, unless the reader chooses other thresholds.
DEFAULT_MIN_RATE = 0.8
DEFAULT_MIN_CASHLESS = 0.9
#: Aging buckets: key and the first and last day past due (None: open-ended), as the reports.
AGING = tuple((key, first, last) for key, _label, first, last in reports.AGING)
AGING_LABELS = {key: label for key, label, _first, _last in reports.AGING}
LEVEL_SHORT = {"mam_non": "Mầm non", "tieu_hoc": "Tiểu học", "thcs": "THCS"}
SORTS = ("name", "ward", "level", "students", "expected", "collected", "outstanding", "rate",
         "overdue", "received", "cashless", "feed")


@dataclass(frozen=True)
class Scope:
    """What a reader may see: a province, or one ward of it."""

    province_code: int
    ward_code: int | None = None

    @property
    def province(self) -> places.Place:
        return places.province(self.province_code)

    @property
    def ward(self) -> places.Place | None:
        return places.ward(self.ward_code) if self.ward_code else None

    @property
    def unit(self) -> places.Place:
        """The administrative unit the view covers."""
        return self.ward or self.province

    @property
    def label(self) -> str:
        if self.ward:
            return f"{self.ward.name}, {self.province.name}"
        return self.province.name

    def covers(self, school: School) -> bool:
        return school.province_code == self.province_code and (
            self.ward_code is None or school.ward_code == self.ward_code)


def refused() -> Forbidden:
    """The answer to anyone but an authority or an admin."""
    return Forbidden(
        "Trang này dành cho cơ quan quản lý giáo dục và quản trị viên.",
        "This page is for the education authority and admins.",
    )


def may_view(actor: User) -> bool:
    return actor.role in ("authority", "admin")


def scope_for(actor: User, *, province: int | str | None = None) -> Scope:
    """The reader's scope. An authority's is fixed; an admin chooses a province (by default
    the first one that has schools, else the first of the list)."""
    if actor.role == "authority":
        return Scope(actor.province_code, actor.ward_code)
    if actor.role != "admin":
        raise refused()
    if province in (None, ""):
        province = db.session.scalar(
            select(School.province_code).where(School.province_code.is_not(None))
            .order_by(School.province_code).limit(1)) or places.provinces()[0].code
    try:
        code = int(province)
    except (TypeError, ValueError):
        code = None
    if code is None or places.province(code) is None:
        raise Invalid(f"Mã tỉnh/thành phố “{province}” không có trong danh mục.",
                      f"Province code {province!r} is not on the official list.",
                      field="province")
    return Scope(code)


def provinces_with_schools() -> list[places.Place]:
    """For an admin's choice of province."""
    codes = db.session.scalars(select(School.province_code).where(
        School.province_code.is_not(None)).distinct())
    return sorted((places.province(c) for c in codes), key=lambda p: p.code)


def _ward_filter(scope: Scope, ward: int | str | None) -> int | None:
    """A ward to narrow to: one of the scope's (a ward authority has only its own)."""
    if ward in (None, ""):
        return scope.ward_code
    try:
        found = places.ward(int(ward))
    except (TypeError, ValueError):
        found = None
    if found is None or found.province_code != scope.province_code:
        raise Invalid(f"Xã/phường “{ward}” không thuộc {scope.province.name}.",
                      f"Ward {ward!r} is not in {scope.province.name}.", field="ward")
    if scope.ward_code is not None and found.code != scope.ward_code:
        raise Forbidden("Bạn chỉ xem được các trường của đơn vị mình.",
                        "You may only see the schools of your own unit.")
    return found.code


def _level_filter(level: str | None) -> str | None:
    if level in (None, ""):
        return None
    if level not in LEVELS:
        raise Invalid("Cấp học phải là mam_non, tieu_hoc hoặc thcs.",
                      "level must be mam_non, tieu_hoc or thcs.", field="level")
    return level


def _school_filter(scope: Scope, ward: int | None, level: str | None) -> list:
    conditions = [School.province_code == scope.province_code]
    if ward is not None:
        conditions.append(School.ward_code == ward)
    if level is not None:
        # Level keys are not parts of one another: a LIKE finds a key in the list exactly.
        conditions.append(School.levels.like(f"%{level}%"))
    return conditions


def schools_in(scope: Scope, *, ward: int | None = None, level: str | None = None
               ) -> list[School]:
    return list(db.session.scalars(select(School).where(*_school_filter(scope, ward, level))))


def school_for(actor: User, code: str, *, province: int | str | None = None) -> School:
    """A school the reader may see in aggregate; another one is "not found" (its existence
    is not confirmed)."""
    if not may_view(actor):
        raise refused()
    school = db.session.scalar(select(School).where(School.code == (code or "").upper()))
    if school is None or (actor.role == "authority" and not Scope(
            actor.province_code, actor.ward_code).covers(school)):
        raise NotFound(f"Không tìm thấy trường “{code}”.", f"School {code!r} not found.")
    return school


def levels_label(levels: Iterable[str]) -> str:
    return " + ".join(LEVEL_SHORT[level] for level in LEVELS if level in set(levels))


def period_for(period: str | None, today: date) -> Period:
    """The chosen period, by default the school year of ``today``."""
    if period is None or not period.strip():
        return school_year_on(today)
    try:
        return parse_period(period)
    except PeriodError as exc:
        raise Invalid(exc.message_vi, exc.message_en, field="period") from exc


def period_choices(year: Period) -> list[tuple[str, str]]:
    """The school year, its two terms and its nine months, for a period picker."""
    first, second = year.key.split("-")
    keys = [year.key, f"{year.key}-HK1", f"{year.key}-HK2"]
    keys += [f"{y}-{m:02d}" for y, m in year.months]
    return [(key, parse_period(key).label) for key in keys]


def _rate(part: int, whole: int) -> float | None:
    return channels.share(part, whole)


def _int(value) -> int:
    return int(value or 0)


def _aware(moment: datetime | str | None) -> datetime | None:
    """A stored moment as an aware UTC datetime (SQLite gives naive values or, from a raw
    column of a summary table, text)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _first_month(key: str) -> str | None:
    try:
        year, month = parse_period(key).months[0]
    except PeriodError:
        return None
    return f"{year}-{month:02d}"


def overview(actor: User, *, period: str | None = None, today: date | None = None,
             province: int | str | None = None, ward: int | str | None = None,
             level: str | None = None, min_rate: float | None = None,
             min_cashless: float | None = None, sort: str | None = None,
             descending: bool = False) -> dict:
    """Every school of the reader's scope (narrowed by ward and level) for a period: its
    figures, flags and highlights; totals overall, per ward and per level; and the trend over
    the months of the school year. Thresholds are fractions (0.8 for 80%)."""
    if not may_view(actor):
        raise refused()
    today = today or clock.today_vn()
    now = clock.now_utc()
    scope = scope_for(actor, province=province)
    ward_code = _ward_filter(scope, ward)
    level = _level_filter(level)
    chosen = period_for(period, today)
    year = school_year_of(chosen)
    min_rate = DEFAULT_MIN_RATE if min_rate is None else min_rate
    min_cashless = DEFAULT_MIN_CASHLESS if min_cashless is None else min_cashless
    if sort not in (None, "", *SORTS):
        raise Invalid("Cột sắp xếp không hợp lệ.", f"sort must be one of {', '.join(SORTS)}.",
                      field="sort")

    found = schools_in(scope, ward=ward_code, level=level)
    # The schools as a subquery: a province's thousand ids would be a thousand parameters.
    ids = select(School.id).where(*_school_filter(scope, ward_code, level)).scalar_subquery()
    rows = _figures(found, ids, chosen, today, now, min_rate, min_cashless)
    ordered = _sorted(list(rows.values()), sort or "ward", descending)
    totals = _total(ordered, "Tổng cộng")
    year_totals = totals if chosen.kind == "year" else _total(
        list(_figures(found, ids, year, today, now, min_rate, min_cashless).values()),
        "Năm học")

    return {
        "scope": {"province_code": scope.province_code, "province": scope.province.name,
                  "ward_code": scope.ward_code, "ward": scope.ward.name if scope.ward else None,
                  "unit": scope.label},
        "period": chosen.key,
        "period_label": chosen.label,
        "school_year": year.key,
        "school_year_label": year.label,
        "today": today.isoformat(),
        "generated_at": now.isoformat(),
        "filters": {"ward": ward_code, "level": level, "min_rate": min_rate,
                    "min_cashless": min_cashless, "sort": sort or "ward",
                    "descending": descending},
        "schools": ordered,
        "totals": totals,
        #: The same schools over the whole school year (the totals when the year is chosen).
        "year_totals": year_totals,
        "by_ward": _grouped(ordered, "ward_code", lambda r: r["ward"]),
        "by_level": _grouped(ordered, "level_key", lambda r: r["level"]),
        "trend": trend(ids, year) if found else _empty_trend(year),
    }


def _figures(found: list[School], ids, period: Period, today: date, now: datetime,
             min_rate: float, min_cashless: float) -> dict[int, dict]:
    """Each school's row for a period, by school id (``ids``: a subquery of their ids)."""
    rows = {s.id: _school_row(s) for s in found}
    if rows:
        _add_invoices(rows, ids, period, today)
        _add_students(rows, ids, period)
        _add_receipts(rows, ids, period)
        _add_feeds(rows, ids)
    for row in rows.values():
        _finish(row, now, min_rate, min_cashless)
    return rows


_AMOUNTS = ("invoices", "invoices_owing", "expected_vnd", "collected_vnd", "outstanding_vnd",
            "received_vnd", "cash_vnd", "cashless_vnd")


def _school_row(school: School) -> dict:
    where = places.ward(school.ward_code)
    return {
        "code": school.code, "name": school.name,
        "ward_code": school.ward_code, "ward": where.name if where else "",
        "level_key": ",".join(level for level in LEVELS if level in school.level_list),
        "levels": [level for level in LEVELS if level in school.level_list],
        "level": levels_label(school.level_list),
        "students": 0, **dict.fromkeys(_AMOUNTS, 0),
        "aging": {key: 0 for key, _first, _last in AGING},
        "last_feed_at": None,
        "_id": school.id,
    }


def _add_invoices(rows: dict, ids, period: Period, today: date) -> None:
    keys = invoice_keys(period)
    # Aged in SQL: a row per school and age, rather than per school and due date.
    bucket = case(
        (InvoiceSummary.due_date >= today, "not_due"),
        (InvoiceSummary.due_date >= today - timedelta(days=30), "1_30"),
        (InvoiceSummary.due_date >= today - timedelta(days=60), "31_60"),
        else_="over_60",
    ).label("bucket")
    aged = (
        select(InvoiceSummary.school_id, bucket, InvoiceSummary.invoices,
               InvoiceSummary.invoices_owing, InvoiceSummary.expected_vnd,
               InvoiceSummary.collected_vnd, InvoiceSummary.outstanding_vnd)
        .where(InvoiceSummary.school_id.in_(ids), InvoiceSummary.period.in_(keys))
        .subquery()
    )
    for school_id, age, invoices, owing, expected, collected, outstanding in db.session.execute(
        select(aged.c.school_id, aged.c.bucket, func.sum(aged.c.invoices),
               func.sum(aged.c.invoices_owing), func.sum(aged.c.expected_vnd),
               func.sum(aged.c.collected_vnd), func.sum(aged.c.outstanding_vnd))
        .group_by(aged.c.school_id, aged.c.bucket)
    ):
        row = rows.get(school_id)
        if row is None:
            continue
        row["invoices"] += _int(invoices)
        row["invoices_owing"] += _int(owing)
        row["expected_vnd"] += _int(expected)
        row["collected_vnd"] += _int(collected)
        row["outstanding_vnd"] += _int(outstanding)
        row["aging"][age] += _int(outstanding)
        if period.kind == "month":
            # One live invoice per student and period: a month's invoices are its students.
            row["students"] += _int(invoices)


def _add_students(rows: dict, ids, period: Period) -> None:
    if period.kind == "month":
        return
    for school_id, students in db.session.execute(
        select(StudentCount.school_id, StudentCount.students)
        .where(StudentCount.school_id.in_(ids), StudentCount.scope == period.key)
    ):
        if school_id in rows:
            rows[school_id]["students"] = _int(students)


def _months(period: Period) -> list[str]:
    return [f"{y}-{m:02d}" for y, m in period.months]


def _add_receipts(rows: dict, ids, period: Period) -> None:
    for school_id, provider, amount in db.session.execute(
        select(ReceiptSummary.school_id, ReceiptSummary.provider,
               func.sum(ReceiptSummary.amount_vnd))
        .where(ReceiptSummary.school_id.in_(ids), ReceiptSummary.month.in_(_months(period)))
        .group_by(ReceiptSummary.school_id, ReceiptSummary.provider)
    ):
        way = channels.channel(provider)
        if way is not None and school_id in rows:
            rows[school_id][f"{way}_vnd"] += _int(amount)
            rows[school_id]["received_vnd"] += _int(amount)


def _add_feeds(rows: dict, ids) -> None:
    for school_id, last in db.session.execute(
        select(ReceiptSummary.school_id, func.max(ReceiptSummary.last_received_at))
        .where(ReceiptSummary.school_id.in_(ids),
               ReceiptSummary.provider.in_(sorted(channels.WEBHOOK_PROVIDERS)))
        .group_by(ReceiptSummary.school_id)
    ):
        if school_id in rows:
            rows[school_id]["last_feed_at"] = _aware(last)


def _finish(row: dict, now: datetime, min_rate: float, min_cashless: float) -> None:
    row.pop("_id", None)
    row["collection_rate"] = _rate(row["collected_vnd"], row["expected_vnd"])
    row["cashless_share"] = _rate(row["cashless_vnd"], row["received_vnd"])
    row["overdue_vnd"] = row["outstanding_vnd"] - row["aging"]["not_due"]
    last = row["last_feed_at"]
    row["feed"] = "never" if last is None else (
        "silent" if now - last > FEED_SILENT_AFTER else "ok")
    row["feed_silent"] = row["feed"] != "ok"
    row["last_feed_at"] = last.isoformat() if last else None
    row["low_rate"] = row["collection_rate"] is not None and row["collection_rate"] < min_rate
    row["low_cashless"] = (row["cashless_share"] is not None
                           and row["cashless_share"] < min_cashless)


_SORT_KEYS = {
    "name": lambda r: (places.plain(r["name"]), r["code"]),
    "ward": lambda r: (places.plain(r["ward"]), places.plain(r["name"]), r["code"]),
    "level": lambda r: (r["level"], places.plain(r["name"])),
    "students": lambda r: r["students"],
    "expected": lambda r: r["expected_vnd"],
    "collected": lambda r: r["collected_vnd"],
    "outstanding": lambda r: r["outstanding_vnd"],
    "overdue": lambda r: r["overdue_vnd"],
    "received": lambda r: r["received_vnd"],
    # Schools without a figure go last either way.
    "rate": lambda r: (r["collection_rate"] is None, r["collection_rate"] or 0),
    "cashless": lambda r: (r["cashless_share"] is None, r["cashless_share"] or 0),
    "feed": lambda r: r["last_feed_at"] or "",
}


def _sorted(rows: list[dict], sort: str, descending: bool) -> list[dict]:
    key = _SORT_KEYS[sort]
    if sort in ("rate", "cashless") and descending:
        return sorted(rows, key=lambda r: (key(r)[0], -(key(r)[1])))
    return sorted(rows, key=key, reverse=descending)


def _total(rows: list[dict], label: str) -> dict:
    total = {"label": label, "schools": len(rows), "students": sum(r["students"] for r in rows)}
    for name in (*_AMOUNTS, "overdue_vnd"):
        total[name] = sum(r[name] for r in rows)
    total["aging"] = {key: sum(r["aging"][key] for r in rows) for key, _f, _l in AGING}
    total["collection_rate"] = _rate(total["collected_vnd"], total["expected_vnd"])
    total["cashless_share"] = _rate(total["cashless_vnd"], total["received_vnd"])
    total["feed_silent"] = sum(r["feed_silent"] for r in rows)
    total["low_rate"] = sum(r["low_rate"] for r in rows)
    total["low_cashless"] = sum(r["low_cashless"] for r in rows)
    return total


def _grouped(rows: list[dict], key: str, label) -> list[dict]:
    groups: dict = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    result = [{"key": group_key, **_total(members, label(members[0]))}
              for group_key, members in groups.items()]
    return sorted(result, key=lambda g: places.plain(g["label"]))


def _empty_trend(year: Period) -> list[dict]:
    return [_trend_month(month) for month in _months(year)]


def _trend_month(month: str) -> dict:
    y, m = month.split("-")
    return {"month": month, "label": f"{m}/{y}", "expected_vnd": 0, "collected_vnd": 0,
            "received_vnd": 0, "cash_vnd": 0, "cashless_vnd": 0}


def trend(ids, year: Period) -> list[dict]:
    """Per month of the school year: what was billed (an invoice counts in the first month of
    its period: a term's invoices in September or January, a year's in September) and
    collected on it, and the money received by channel in that month."""
    months = {month: _trend_month(month) for month in _months(year)}
    for key, expected, collected in db.session.execute(
        select(InvoiceSummary.period, func.sum(InvoiceSummary.expected_vnd),
               func.sum(InvoiceSummary.collected_vnd))
        .where(InvoiceSummary.school_id.in_(ids),
               InvoiceSummary.period.in_(invoice_keys(year)))
        .group_by(InvoiceSummary.period)
    ):
        month = months.get(_first_month(key))
        if month is not None:
            month["expected_vnd"] += _int(expected)
            month["collected_vnd"] += _int(collected)
    for month_key, provider, amount in db.session.execute(
        select(ReceiptSummary.month, ReceiptSummary.provider, func.sum(ReceiptSummary.amount_vnd))
        .where(ReceiptSummary.school_id.in_(ids), ReceiptSummary.month.in_(list(months)))
        .group_by(ReceiptSummary.month, ReceiptSummary.provider)
    ):
        way = channels.channel(provider)
        if way is not None:
            months[month_key][f"{way}_vnd"] += _int(amount)
            months[month_key]["received_vnd"] += _int(amount)
    for month in months.values():
        month["collection_rate"] = _rate(month["collected_vnd"], month["expected_vnd"])
        month["cashless_share"] = _rate(month["cashless_vnd"], month["received_vnd"])
    return list(months.values())


def school_dashboard(actor: User, code: str, *, period: str | None = None,
                     today: date | None = None) -> dict:
    """A school of the reader's scope: its dashboard by grade, class and fee item, money
    collected per day and arrears by age; aggregates only, no names."""
    school = school_for(actor, code)
    today = today or clock.today_vn()
    chosen = period_for(period, today)
    figures = reports.dashboard_figures(school, period=chosen.key, today=today)
    where = places.ward(school.ward_code)
    return {**figures, "period_label": chosen.label,
            "school_year": school_year_of(chosen).key,
            "ward": where.name if where else "", "ward_code": school.ward_code,
            "level": levels_label(school.level_list)}
