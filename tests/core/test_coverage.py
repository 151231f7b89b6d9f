"""What a billing run charges one student for one fee item, month by month (pure).

October 2026 starts on a Thursday and has 22 weekdays (27 days Monday-Saturday); September
has 22, November 21, December 23.
"""

from __future__ import annotations

from datetime import date

import pytest

from tuition.core.charges import Reduction, charge, charge_gross
from tuition.core.coverage import (
    Attendance,
    MonthCharge,
    month_label,
    part_month_price,
    plan_item,
    recompute_month,
    school_days_by_month,
    teaching_days,
    weekdays,
)
from tuition.core.periods import parse_period

OCT = (2026, 10)
TERM = parse_period("2026-2027-HK1")
YEAR = parse_period("2026-2027")


def test_weekdays_and_teaching_days():
    assert weekdays(date(2026, 10, 1), date(2026, 10, 31)) == 22
    assert teaching_days(date(2026, 10, 1), date(2026, 10, 31)) == 27
    assert weekdays(date(2026, 10, 15), date(2026, 10, 31)) == 12
    assert weekdays(date(2026, 10, 3), date(2026, 10, 4)) == 0  # a weekend
    assert weekdays(date(2026, 10, 5), date(2026, 10, 4)) == 0
    # Every start day and length agrees with counting day by day.
    for start in range(1, 8):
        for length in range(0, 40):
            first = date(2026, 9, start)
            last = date.fromordinal(first.toordinal() + length)
            counted = sum(1 for n in range(length + 1)
                          if date.fromordinal(first.toordinal() + n).weekday() < 5)
            assert weekdays(first, last) == counted


def test_month_label():
    assert month_label([(2026, 12), (2026, 10), (2026, 11)]) == "tháng 10, 11, 12/2026"
    assert month_label([(2026, 12), (2027, 1)]) == "tháng 12/2026, 1/2027"


def test_a_term_after_its_first_month_was_billed_bills_the_other_three():
    plan = plan_item(name="Học phí", unit="month", price_vnd=500_000, period=TERM,
                     covered={(2026, 9)})
    assert plan.already_billed == [(2026, 9)]
    (line,) = plan.lines
    assert (line.description, line.quantity, line.unit_price_vnd) == (
        "Học phí (tháng 10, 11, 12/2026)", 3, 500_000)
    assert [m.month for m in line.months] == [(2026, 10), (2026, 11), (2026, 12)]


def test_everything_billed_gives_no_line_and_every_month_as_a_conflict():
    plan = plan_item(name="Học phí", unit="month", price_vnd=500_000,
                     period=parse_period("2026-10"), covered={OCT})
    assert plan.lines == [] and plan.already_billed == [OCT]


@pytest.mark.parametrize(("rule", "joined", "amount", "note"), [
    ("whole", date(2026, 10, 15), 500_000, None),
    ("days", date(2026, 10, 15), 500_000 * 12 // 22, "12/22 ngày học"),
    ("half", date(2026, 10, 19), 250_000, "nửa tháng"),        # 10 of 22 days: half
    ("half", date(2026, 10, 15), 500_000, None),               # 12 of 22: the whole month
    ("days", date(2026, 10, 1), 500_000, None),                # joined on the first: whole
])
def test_a_child_joining_mid_month_is_billed_by_the_schools_rule(rule, joined, amount, note):
    plan = plan_item(name="Học phí", unit="month", price_vnd=500_000,
                     period=parse_period("2026-10"), covered=set(),
                     attendance=Attendance(joined_on=joined), rule=rule)
    (line,) = plan.lines
    assert line.quantity * line.unit_price_vnd == amount
    assert line.months == (MonthCharge(OCT, amount, None, 500_000),)
    if note:
        assert note in line.description
        assert f"vào học từ {joined:%d/%m/%Y}" in line.description and line.note


def test_per_day_items_count_the_days_attended_never_more_than_the_month():
    joined = Attendance(joined_on=date(2026, 10, 15))
    plan = plan_item(name="Tiền ăn", unit="school_day", price_vnd=30_000,
                     period=parse_period("2026-10"), covered=set(), attendance=joined,
                     days={OCT: 20})
    (line,) = plan.lines
    assert (line.quantity, line.unit_price_vnd) == (12, 30_000)
    assert line.description == "Tiền ăn (vào học từ 15/10/2026: 12 ngày)"
    # The school counts fewer days than the weekdays attended (a holiday): its count wins.
    short = plan_item(name="Tiền ăn", unit="school_day", price_vnd=30_000,
                      period=parse_period("2026-10"), covered=set(), attendance=joined,
                      days={OCT: 10})
    assert short.lines[0].quantity == 10


def test_a_child_leaving_is_billed_until_the_day_before():
    left = Attendance(left_on=date(2026, 11, 16))   # last day at school: Sunday 15/11
    monthly = plan_item(name="Học phí", unit="month", price_vnd=400_000, period=TERM,
                        covered=set(), attendance=left, rule="days")
    assert [(line.quantity, line.unit_price_vnd) for line in monthly.lines] == [
        (2, 400_000), (1, 400_000 * 10 // 21)]
    assert "nghỉ học từ 16/11/2026" in monthly.lines[1].description
    daily = plan_item(name="Tiền ăn", unit="school_day", price_vnd=30_000, period=TERM,
                      covered=set(), attendance=left,
                      days=school_days_by_month(TERM, None))
    assert daily.lines[0].quantity == 22 + 22 + 10
    assert [m.days for m in daily.lines[0].months] == [22, 22, 10]


def test_school_days_for_a_period_are_shared_by_weekdays_exactly():
    days = school_days_by_month(TERM, 80)
    assert days == {(2026, 9): 20, (2026, 10): 20, (2026, 11): 19, (2026, 12): 21}
    assert sum(days.values()) == 80
    assert school_days_by_month(parse_period("2026-10"), 19) == {OCT: 19}
    assert school_days_by_month(TERM, {OCT: 18})[OCT] == 18


def test_items_per_term_are_billed_per_term_never_twice():
    plan = plan_item(name="Quỹ lớp", unit="term", price_vnd=200_000, period=YEAR,
                     covered={(2026, 9)})
    (line,) = plan.lines
    assert (line.description, line.quantity) == ("Quỹ lớp (học kỳ II)", 1)
    assert len(line.months) == 5 and line.months[0] == MonthCharge((2027, 1))
    whole_year = plan_item(name="Bảo hiểm", unit="year", price_vnd=900_000, period=YEAR,
                           covered={(2027, 3)})
    assert whole_year.lines == [] and whole_year.already_billed == [(2027, 3)]
    # A child who left before the second term is not billed for it.
    gone = plan_item(name="Quỹ lớp", unit="term", price_vnd=200_000, period=YEAR,
                     covered=set(), attendance=Attendance(left_on=date(2026, 12, 20)))
    assert gone.lines[0].quantity == 1 and gone.lines[0].months[-1].month == (2026, 12)


def test_part_month_price_rules():
    span = (date(2026, 10, 1), date(2026, 10, 14))             # 10 of 22 weekdays
    assert part_month_price(450_000, OCT, span, "whole") == 450_000
    assert part_month_price(450_000, OCT, span, "half") == 225_000
    assert part_month_price(450_000, OCT, span, "days") == 450_000 * 10 // 22
    with pytest.raises(ValueError):
        part_month_price(450_000, OCT, span, "weekly")


def test_recompute_after_a_leave_date_never_charges_more():
    leaving = Attendance(left_on=date(2026, 10, 15))           # 10 weekdays at school
    daily = MonthCharge(OCT, 20 * 30_000, 20, 30_000)
    assert recompute_month(unit="school_day", rule="whole", attendance=leaving,
                           billed=daily) == MonthCharge(OCT, 10 * 30_000, 10, 30_000)
    monthly = MonthCharge(OCT, 500_000, None, 500_000)
    assert recompute_month(unit="month", rule="whole", attendance=leaving,
                           billed=monthly) == monthly
    assert recompute_month(unit="month", rule="half", attendance=leaving,
                           billed=monthly).gross_vnd == 250_000
    november = MonthCharge((2026, 11), 500_000, None, 500_000)
    assert recompute_month(unit="month", rule="whole", attendance=leaving,
                           billed=november).gross_vnd == 0
    # Amounts not recorded by month (terms, or invoices from before) are left as they were.
    term = MonthCharge((2026, 11))
    assert recompute_month(unit="term", rule="days", attendance=leaving, billed=term) == term


def test_charge_gross_is_charge_for_plain_lines():
    reductions = [Reduction("percent", 50), Reduction("fixed", 10_000)]
    assert charge(30_000, 20, reductions) == charge_gross(600_000, 20, reductions)
    assert charge_gross(100_000, 1, [Reduction("fixed", 150_000)]).amount_vnd == 0
