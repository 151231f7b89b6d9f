"""What a billing run charges one student for one fee item, month by month.

Every charge covers calendar months, and one fee item is charged at most once per student and
month (the database holds that as a unique key; see models/corrections.py). This module
decides, given the months already charged and the child's attendance, what is still to bill:

* monthly items: one unit per month; a month the child attends only in part (joining or
  leaving mid-month) follows the school's rule: ``whole`` (the full month), ``half`` (half the
  price when the child attends at most half of the month's school days, else the full month)
  or ``days`` (the price times the school days attended over the month's school days);
* per-day items: the month's school days (the count given for the run, else Monday-Friday),
  or for a part month the weekdays attended, never more than the month's count;
* items per term, per year or once: one unit per term (year, run) with no month of it billed
  yet; a slot partly billed already is a conflict, never billed twice.

Requested months already billed are returned as conflicts, for the preview and for a run that
refuses overlaps. Amounts are whole dong; a fraction of a dong goes to the family.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from .clock import format_date
from .periods import Period

Month = tuple[int, int]
PARTIAL_MONTH_RULES = ("whole", "half", "days")


def month_start(month: Month) -> date:
    return date(month[0], month[1], 1)


def month_end(month: Month) -> date:
    return date(month[0], month[1], calendar.monthrange(*month)[1])


def weekdays(start: date, end: date) -> int:
    """Monday-Friday days from ``start`` to ``end`` inclusive (0 if end < start)."""
    if end < start:
        return 0
    days = (end - start).days + 1
    full_weeks, rest = divmod(days, 7)
    count = full_weeks * 5
    first = start.weekday()
    count += sum(1 for i in range(rest) if (first + i) % 7 < 5)
    return count


def teaching_days(start: date, end: date) -> int:
    """Monday-Saturday days from ``start`` to ``end``: the most school days there can be
    (some kindergartens open on Saturdays)."""
    if end < start:
        return 0
    sundays = sum(1 for i in range((end - start).days + 1)
                  if (start + timedelta(days=i)).weekday() == 6)
    return (end - start).days + 1 - sundays


def month_label(months: Iterable[Month]) -> str:
    """``tháng 10, 11, 12/2026``; across years ``tháng 12/2026, 1/2027``."""
    months = sorted(months)
    years = {year for year, _ in months}
    if len(years) == 1:
        return "tháng " + ", ".join(str(m) for _, m in months) + f"/{months[0][0]}"
    return "tháng " + ", ".join(f"{m}/{y}" for y, m in months)


@dataclass(frozen=True)
class Attendance:
    """When a child attends: from ``joined_on`` (if set) to the day before ``left_on``."""

    joined_on: date | None = None
    left_on: date | None = None

    def span(self, month: Month) -> tuple[date, date] | None:
        """The days of ``month`` the child attends, or None."""
        start, end = month_start(month), month_end(month)
        if self.joined_on and self.joined_on > start:
            start = self.joined_on
        if self.left_on and self.left_on - timedelta(days=1) < end:
            end = self.left_on - timedelta(days=1)
        return (start, end) if start <= end else None

    def note(self, month: Month) -> str:
        """What makes ``month`` a part month, in words."""
        parts = []
        if self.joined_on and month_start(month) < self.joined_on <= month_end(month):
            parts.append(f"vào học từ {format_date(self.joined_on)}")
        if self.left_on and month_start(month) < self.left_on <= month_end(month):
            parts.append(f"nghỉ học từ {format_date(self.left_on)}")
        return ", ".join(parts)


@dataclass(frozen=True)
class MonthCharge:
    """What a line charges for one month: before reductions (monthly and per-day items; None
    for items charged per term, year or once), the school days (per-day items), and the
    price it came from (a month's or a day's)."""

    month: Month
    gross_vnd: int | None = None
    days: int | None = None
    unit_price_vnd: int | None = None


@dataclass(frozen=True)
class ChargeLine:
    description: str
    quantity: int
    unit_price_vnd: int
    months: tuple[MonthCharge, ...]
    #: Why this line is not the plain period (part month, months missing), for the preview.
    note: str = ""

    @property
    def gross_vnd(self) -> int:
        return self.quantity * self.unit_price_vnd


@dataclass
class ItemPlan:
    lines: list[ChargeLine] = field(default_factory=list)
    #: Months asked for that this item already charges on another invoice.
    already_billed: list[Month] = field(default_factory=list)


def school_days_by_month(period: Period, school_days: int | Mapping[Month, int] | None
                         ) -> dict[Month, int]:
    """School days of each month of the period: as given per month, or a total for the
    period shared in proportion to the weekdays (exactly, largest remainder), or the
    weekdays themselves."""
    base = {m: weekdays(month_start(m), month_end(m)) for m in period.months}
    if school_days is None:
        return base
    if isinstance(school_days, Mapping):
        return {m: school_days.get(m, base[m]) for m in period.months}
    total_weight = sum(base.values())
    parts = {m: school_days * w // total_weight for m, w in base.items()}
    left = school_days - sum(parts.values())
    by_remainder = sorted(period.months, key=lambda m: (-(school_days * base[m] % total_weight),
                                                         m))
    for m in by_remainder[:left]:
        parts[m] += 1
    return parts


def part_month_price(price: int, month: Month, span: tuple[date, date], rule: str) -> int:
    """What a monthly item costs for a month attended only from ``span[0]`` to ``span[1]``."""
    whole = weekdays(month_start(month), month_end(month))
    attended = weekdays(*span)
    if rule == "whole" or attended >= whole:
        return price
    if rule == "half":
        return price if attended * 2 > whole else price // 2
    if rule == "days":
        return price * attended // whole
    raise ValueError(f"unknown partial-month rule {rule!r}")


def _is_whole(month: Month, span: tuple[date, date]) -> bool:
    return span == (month_start(month), month_end(month))


def plan_item(*, name: str, unit: str, price_vnd: int, period: Period, covered: set[Month],
              attendance: Attendance = Attendance(), rule: str = "whole",
              days: Mapping[Month, int] | None = None) -> ItemPlan:
    """What to charge for one fee item in ``period``, given the months it already charges
    (``covered``) and the child's attendance. ``days``: school days per month (per-day
    items; see :func:`school_days_by_month`)."""
    plan = ItemPlan(already_billed=[m for m in period.months if m in covered])
    if unit == "month":
        _plan_monthly(plan, name, price_vnd, period, covered, attendance, rule)
    elif unit == "school_day":
        _plan_daily(plan, name, price_vnd, period, covered, attendance,
                    days or school_days_by_month(period, None))
    else:
        _plan_slots(plan, name, unit, price_vnd, period, covered, attendance)
    return plan


def _suffix(period: Period, months: list[Month]) -> str:
    return "" if tuple(months) == period.months else f" ({month_label(months)})"


def _plan_monthly(plan, name, price, period, covered, attendance, rule) -> None:
    full: list[Month] = []
    parts: list[ChargeLine] = []
    for month in period.months:
        span = attendance.span(month)
        if month in covered or span is None:
            continue
        amount = price if _is_whole(month, span) else part_month_price(price, month, span, rule)
        if amount == price:
            full.append(month)
        elif amount > 0:
            whole = weekdays(month_start(month), month_end(month))
            how = ("nửa tháng" if rule == "half"
                   else f"{weekdays(*span)}/{whole} ngày học")
            note = f"{attendance.note(month)}: {how}"
            parts.append(ChargeLine(
                description=f"{name} {month_label([month])} ({note})", quantity=1,
                unit_price_vnd=amount, months=(MonthCharge(month, amount, None, price),),
                note=note))
    if full:
        notes = [attendance.note(m) for m in full if not _is_whole(m, attendance.span(m))]
        plan.lines.append(ChargeLine(
            description=name + _suffix(period, full), quantity=len(full), unit_price_vnd=price,
            months=tuple(MonthCharge(m, price, None, price) for m in full),
            note=", ".join(f"{n}: cả tháng" for n in notes)))
    plan.lines.extend(parts)


def _plan_daily(plan, name, price, period, covered, attendance, days) -> None:
    charged: list[MonthCharge] = []
    notes = []
    for month in period.months:
        span = attendance.span(month)
        if month in covered or span is None:
            continue
        count = days[month]
        if not _is_whole(month, span):
            count = min(count, weekdays(*span))
            notes.append(f"{attendance.note(month)}: {count} ngày")
        if count > 0:
            charged.append(MonthCharge(month, count * price, count, price))
    if charged:
        months = [c.month for c in charged]
        note = ", ".join(notes)
        parts = ([month_label(months)] if tuple(months) != period.months else []) + (
            [note] if note else [])
        plan.lines.append(ChargeLine(
            description=name + (f" ({'; '.join(parts)})" if parts else ""),
            quantity=sum(c.days for c in charged), unit_price_vnd=price,
            months=tuple(charged), note=note))


def _slots(unit: str, period: Period) -> list[tuple[Month, ...]]:
    if unit == "term" and period.kind == "year":
        return [period.months[:4], period.months[4:]]
    return [period.months]


def _plan_slots(plan, name, unit, price, period, covered, attendance) -> None:
    billed: list[Month] = []
    for slot in _slots(unit, period):
        if any(m in covered for m in slot):
            continue
        if all(attendance.span(m) is None for m in slot):
            continue
        billed.extend(slot)
    if billed:
        slots = [slot for slot in _slots(unit, period) if slot[0] in billed]
        suffix = ""
        if tuple(billed) != period.months:
            suffix = " (học kỳ " + ", ".join("I" if slot[0][1] >= 8 else "II"
                                              for slot in slots) + ")"
        plan.lines.append(ChargeLine(
            description=name + suffix, quantity=len(slots), unit_price_vnd=price,
            months=tuple(MonthCharge(m) for m in billed)))


def recompute_month(*, unit: str, rule: str, attendance: Attendance,
                    billed: MonthCharge) -> MonthCharge:
    """What a month already charged should charge now that the child's dates are known
    (a leave date, a later joining date). Never more than was charged; items per term,
    year or once, and months recorded without an amount, stay as they are."""
    if billed.gross_vnd is None or billed.unit_price_vnd is None or unit not in (
            "month", "school_day"):
        return billed
    span = attendance.span(billed.month)
    if span is None:
        return MonthCharge(billed.month, 0, 0 if billed.days is not None else None,
                           billed.unit_price_vnd)
    if _is_whole(billed.month, span):
        return billed
    if unit == "school_day":
        if billed.days is None:
            return billed
        days = min(billed.days, weekdays(*span))
        return MonthCharge(billed.month, days * billed.unit_price_vnd, days,
                           billed.unit_price_vnd)
    price = part_month_price(billed.unit_price_vnd, billed.month, span, rule)
    return MonthCharge(billed.month, min(billed.gross_vnd, price), None, billed.unit_price_vnd)
