"""The one clock of the application, and Vietnam's calendar.

Times are stored in UTC; every date or time a person reads is in Asia/Ho_Chi_Minh and written
``dd/mm/yyyy`` (``dd/mm/yyyy HH:MM``). Everything that needs "now" or "today" asks here, so a
test can set the clock (to 00:40 in Vietnam, when the UTC date is still yesterday's) in one
place: ``monkeypatch.setattr(clock, "now_utc", lambda: moment)``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def now_utc() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    return datetime.now(UTC)


def now_vn() -> datetime:
    """The current moment on Vietnam's clock."""
    return now_utc().astimezone(VIETNAM)


def today_vn() -> date:
    """Today's date in Vietnam (at 00:40 there it is already tomorrow in UTC terms)."""
    return now_vn().date()


def to_vn(moment: datetime) -> datetime:
    """A stored moment on Vietnam's clock. Naive values are UTC (SQLite returns them so)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM)


def format_date(value: date | datetime | None) -> str:
    """``dd/mm/yyyy``; a moment is first put on Vietnam's clock. Empty for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_vn(value).date()
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def format_datetime(moment: datetime | None) -> str:
    """``dd/mm/yyyy HH:MM`` on Vietnam's clock. Empty for None."""
    if moment is None:
        return ""
    local = to_vn(moment)
    return f"{format_date(local.date())} {local:%H:%M}"


def start_of_day_utc(day: date) -> datetime:
    """The UTC moment at which ``day`` begins in Vietnam (for "issued on day X" queries)."""
    return datetime.combine(day, datetime.min.time(), VIETNAM).astimezone(UTC)


def isoformat(moment: datetime | None) -> str | None:
    """A stored moment for JSON: ISO 8601 with its offset, on Vietnam's clock
    (``2026-12-07T00:40:00+07:00``), so the date part is the one people see. Naive values
    are UTC (SQLite returns them so). None stays None."""
    if moment is None:
        return None
    return to_vn(moment).isoformat()
