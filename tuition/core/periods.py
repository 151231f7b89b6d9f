"""Billing periods: a month (``2026-09``), a term (``2026-2027-HK1``) or a school year
(``2026-2027``), and how many units of a fee item each one bills.

One more key is not billed: ``2026-2027-DK`` (số dư đầu kỳ) holds the debts a school brought
in when it started using the service in that school year (imported opening balances).

A Vietnamese school year runs from September to May: term I is September-December, term II
January-May, nine billed months in all.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_TERM = re.compile(r"^(\d{4})-(\d{4})-HK([12])$")
_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
_OPENING = re.compile(r"^(\d{4})-(\d{4})-DK$")


class PeriodError(ValueError):
    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


@dataclass(frozen=True)
class Period:
    key: str
    kind: str  # month | term | year | opening
    label: str
    #: Empty for an opening balance, which is no stretch of time.
    months: tuple[tuple[int, int], ...]

    @property
    def short_label(self) -> str:
        """For narrow table columns: "Tháng 9/2026", "HK1 2026-2027", "NH 2026-2027"."""
        if self.kind == "month":
            return self.label
        return f"HK{self.key[-1]} {self.key[:9]}" if self.kind == "term" else f"NH {self.key}"

    @property
    def start(self) -> date:
        if not self.months:  # an opening balance stands at the start of its school year
            return date(int(self.key[:4]), 9, 1)
        year, month = self.months[0]
        return date(year, month, 1)

    @property
    def end(self) -> date:
        if not self.months:
            return self.start
        year, month = self.months[-1]
        return date(year, month, calendar.monthrange(year, month)[1])

    def weekdays(self) -> int:
        """Monday-Friday days in the period: the default count of school days."""
        days, current = 0, self.start
        while current <= self.end:
            days += current.weekday() < 5
            current += timedelta(days=1)
        return days

    def quantity(self, unit: str, school_days: int | None = None) -> int:
        """How many units of an item with ``unit`` this period bills."""
        if self.kind == "opening":
            raise PeriodError(
                f"“{self.label}” là số dư chuyển sang, không lập hóa đơn khoản thu cho kỳ này.",
                f"{self.key} holds opening balances; fee items are not billed for it.",
            )
        if unit == "month":
            return len(self.months)
        if unit == "once":
            return 1
        if unit == "school_day":
            return school_days if school_days is not None else self.weekdays()
        if unit == "term":
            if self.kind == "term":
                return 1
            if self.kind == "year":
                return 2
        if unit == "year" and self.kind == "year":
            return 1
        raise PeriodError(
            f"Khoản thu tính theo {_UNIT_VI.get(unit, unit)} không thu được trong kỳ "
            f"“{self.label}”.",
            f"An item billed per {unit} cannot be billed for period {self.key}.",
        )


_UNIT_VI = {"term": "học kỳ", "year": "năm học"}


def _school_year(first: int, second: int, key: str) -> None:
    if second != first + 1:
        raise PeriodError(
            f"Năm học “{key}” không hợp lệ: năm sau phải liền năm trước.",
            f"School year {key!r} must span two consecutive years.",
        )


def parse_period(key: str) -> Period:
    """Parse a period key, raising :class:`PeriodError` with a bilingual message."""
    key = (key or "").strip().upper()
    if match := _MONTH.match(key):
        year, month = int(match[1]), int(match[2])
        return Period(key, "month", f"Tháng {month}/{year}", ((year, month),))
    if match := _TERM.match(key):
        first, second, term = int(match[1]), int(match[2]), match[3]
        _school_year(first, second, key)
        months = (
            tuple((first, m) for m in (9, 10, 11, 12))
            if term == "1"
            else tuple((second, m) for m in (1, 2, 3, 4, 5))
        )
        return Period(key, "term", f"Học kỳ {term} năm học {first}-{second}", months)
    if match := _YEAR.match(key):
        first, second = int(match[1]), int(match[2])
        _school_year(first, second, key)
        months = tuple((first, m) for m in (9, 10, 11, 12)) + tuple(
            (second, m) for m in (1, 2, 3, 4, 5)
        )
        return Period(key, "year", f"Năm học {first}-{second}", months)
    if match := _OPENING.match(key):
        first, second = int(match[1]), int(match[2])
        _school_year(first, second, key)
        return Period(key, "opening", f"Số dư đầu kỳ năm học {first}-{second}", ())
    raise PeriodError(
        f"Kỳ thu “{key}” không hợp lệ. Dùng dạng 2026-09 (tháng), 2026-2027-HK1 (học kỳ) "
        "hoặc 2026-2027 (năm học).",
        f"Invalid period {key!r}: use 2026-09 (month), 2026-2027-HK1 (term) or 2026-2027 (year).",
    )


def opening_key(school_year: str) -> str:
    """The period key of a school year's opening balances: ``2026-2027`` -> ``2026-2027-DK``."""
    return parse_period(f"{school_year}-DK").key


def invoice_keys(period: Period) -> list[str]:
    """The period keys of the invoices a period takes: a month only its own; a term its key
    and its months; a school year its key, both terms and its nine months (as the reports)."""
    keys = [f"{y}-{m:02d}" for y, m in period.months]
    if period.kind == "year":
        keys += [f"{period.key}-HK1", f"{period.key}-HK2"]
    if period.kind != "month":
        keys.append(period.key)
    return keys


def school_year_of(period: Period) -> Period:
    """The school year a period belongs to. June and July belong to the year that ends; from
    August, billing is for the year that starts (as for new classes). A term's or opening
    balance's is in its key."""
    if period.kind == "year":
        return period
    if period.kind != "month":
        return parse_period(period.key[:9])
    year, month = period.months[0]
    first = year if month >= 8 else year - 1
    return parse_period(f"{first}-{first + 1}")


def school_year_key(key: str) -> str:
    """:func:`school_year_of` for a period key: ``2026-10`` -> ``2026-2027``."""
    return school_year_of(parse_period(key)).key


def school_year_on(day: date) -> Period:
    """The school year of a day (from August, the one that starts)."""
    first = day.year if day.month >= 8 else day.year - 1
    return parse_period(f"{first}-{first + 1}")
