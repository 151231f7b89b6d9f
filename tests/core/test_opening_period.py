"""The opening-balance period of a school year, and the school year of any period."""

from __future__ import annotations

from datetime import date

import pytest

from tuition.core.periods import PeriodError, opening_key, parse_period, school_year_key


def test_an_opening_balance_is_a_period_of_its_school_year_that_bills_nothing():
    period = parse_period("2026-2027-dk")
    assert (period.key, period.kind, period.label) == (
        "2026-2027-DK", "opening", "Số dư đầu kỳ năm học 2026-2027")
    assert period.months == () and period.start == period.end == date(2026, 9, 1)
    with pytest.raises(PeriodError):
        period.quantity("month")
    with pytest.raises(PeriodError):
        parse_period("2026-2028-DK")
    assert opening_key("2026-2027") == "2026-2027-DK"


@pytest.mark.parametrize(("key", "year"), [
    ("2026-08", "2026-2027"), ("2026-09", "2026-2027"), ("2027-05", "2026-2027"),
    ("2027-07", "2026-2027"), ("2026-2027-HK2", "2026-2027"), ("2026-2027", "2026-2027"),
    ("2026-2027-DK", "2026-2027"),
])
def test_every_period_belongs_to_one_school_year(key, year):
    assert school_year_key(key) == year
