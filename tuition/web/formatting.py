"""How pages write dates, percentages, periods and grades, in the reader's language.

Registered on the Jinja environment by :func:`init_app`:

``value | date``
    ``dd/mm/yyyy``; a stored moment (UTC, naive from SQLite) is first put on Vietnam's clock,
    a ``date`` or an ISO date string is taken as it is.
``moment | datetime``
    a stored UTC moment as ``dd/mm/yyyy HH:MM`` in Vietnam.
``moment | bank_time``
    a bank's time (``BankTransaction.occurred_at``: naive, already Vietnam's wall clock).
``ratio | percent``
    ``0.024`` -> ``2,4 %`` (``2.4%`` in English).
``period_label(key)``, ``grade_label(grade)``
    "Tháng 1/2027", "Học kỳ 1 năm học 2026-2027", "Mẫu giáo lớn", "Khối 3" — or in English.
``ngettext``
    from Flask-Babel, for counts ("1 student", "3 students").
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import format_date as babel_format_date
from flask_babel import get_locale
from flask_babel import gettext as _

from ..core import clock
from ..core.numbers import format_percent
from ..core.periods import PeriodError, parse_period

__all__ = ["format_bank_time", "format_day", "format_moment", "grade_label", "grade_names",
           "init_app", "language", "percent", "period_label"]


def language() -> str:
    """``"vi"`` or ``"en"``: the language of the page being drawn."""
    return "en" if str(get_locale() or "vi") == "en" else "vi"


def _parse(value: str) -> date | datetime:
    text = value.strip()
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)


def format_day(value: date | datetime | str | None) -> str:
    """``dd/mm/yyyy`` on Vietnam's calendar; empty for None or ""."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = _parse(value)
    return clock.format_date(value)


def format_moment(value: datetime | str | None) -> str:
    """A stored (UTC) moment as ``dd/mm/yyyy HH:MM`` in Vietnam."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = _parse(value)
    return clock.format_datetime(value)


def format_bank_time(value: datetime | None) -> str:
    """A bank's own time of a transfer, kept as Vietnam's wall clock (naive): not shifted."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.VIETNAM)
    return clock.format_datetime(value)


def percent(ratio: float | None, decimals: int = 1) -> str:
    return format_percent(ratio, decimals=decimals, language=language())


def period_label(key: str) -> str:
    """A period as people say it, in the page's language: "Tháng 1/2027", "Học kỳ 1 năm học
    2026-2027", "Năm học 2026-2027"; an unknown key is shown as it is."""
    try:
        period = parse_period(key)
    except PeriodError:
        return key
    if language() == "vi":
        return period.label
    if period.kind == "month":
        year, month = period.months[0]
        return babel_format_date(date(year, month, 1), "MMMM y")  # "January 2027"
    years = period.key[:9]
    if period.kind == "opening":
        return _("Số dư đầu kỳ năm học %(years)s", years=years)
    if period.kind == "term":
        return _("Học kỳ %(term)d năm học %(years)s", term=int(period.key[-1]), years=years)
    return _("Năm học %(years)s", years=years)


_NAMED_GRADES = ("NT", "MGB", "MGN", "MGL")


def _named_grade(grade: str) -> str:
    return {"NT": _("Nhà trẻ"), "MGB": _("Mẫu giáo bé"), "MGN": _("Mẫu giáo nhỡ"),
            "MGL": _("Mẫu giáo lớn")}[grade]


def grade_label(grade: str) -> str:
    """A grade as reports name it: "Mẫu giáo lớn", "Khối 3" (English: "Grade 3")."""
    if grade in _NAMED_GRADES:
        return _named_grade(grade)
    return _("Khối %(grade)s", grade=grade)


def grade_names(grades) -> dict[str, str]:
    """Grade code -> name as the fee pages write it ("Lớp 3"; English "Grade 3")."""
    return {grade: _named_grade(grade) if grade in _NAMED_GRADES else _("Lớp %(grade)s",
                                                                          grade=grade)
            for grade in grades}


def init_app(app: Flask) -> None:
    app.add_template_filter(format_day, "date")
    app.add_template_filter(format_moment, "datetime")
    app.add_template_filter(format_bank_time, "bank_time")
    app.add_template_filter(percent, "percent")
    app.jinja_env.globals.update(period_label=period_label, grade_label=grade_label,
                                 language=language)
