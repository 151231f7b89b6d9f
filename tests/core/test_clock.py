from datetime import UTC, date, datetime

from tuition.core import clock


def test_forty_minutes_past_midnight_in_vietnam_is_already_the_next_day(monkeypatch):
    moment = datetime(2026, 12, 6, 17, 40, tzinfo=UTC)  # 00:40 on 07/12 in Vietnam
    monkeypatch.setattr(clock, "now_utc", lambda: moment)
    assert clock.today_vn() == date(2026, 12, 7)
    assert clock.format_date(moment) == "07/12/2026"
    assert clock.format_datetime(moment) == "07/12/2026 00:40"


def test_naive_stored_values_are_utc():
    assert clock.format_datetime(datetime(2026, 12, 31, 23, 30)) == "01/01/2027 06:30"
    assert clock.format_date(date(2027, 1, 5)) == "05/01/2027"
    assert clock.format_date(None) == ""


def test_a_vietnamese_day_starts_at_17_utc_the_day_before():
    assert clock.start_of_day_utc(date(2026, 12, 7)) == datetime(2026, 12, 6, 17, 0,
                                                                  tzinfo=UTC)
