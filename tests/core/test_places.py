"""Administrative units from the official list (vietnam-provinces), channels, school years."""

from __future__ import annotations

from datetime import date

import pytest

from tuition.core import channels, places
from tuition.core.periods import invoice_keys, parse_period, school_year_of, school_year_on


def test_the_official_list_after_july_2025():
    assert len(places.provinces()) == 34
    assert places.province(1).name == "Thành phố Hà Nội"
    assert places.province(4).name == "Tỉnh Cao Bằng"
    ward = places.ward(4)
    assert (ward.name, ward.kind, ward.province_code, ward.code_text) == (
        "Phường Ba Đình", "phường", 1, "00004")
    assert places.province(2) is None and places.ward(99999) is None
    assert all(w.province_code == 79 for w in places.wards_of(79))


@pytest.mark.parametrize("text", ["Phường Ba Đình", "ba dinh", "P. Ba Đình", "00004", "4",
                                  "PHƯỜNG BA ĐÌNH"])
def test_a_ward_is_found_by_name_or_code(text):
    assert places.find_ward(1, text).code == 4


def test_wards_of_another_province_or_ambiguous_names_are_refused():
    for province, text, message in (
            (79, "4", "không thuộc Thành phố Hồ Chí Minh"),  # Ba Đình is in Hà Nội
            (1, "Phường Bến Thành", "Không có xã/phường"),
            # Thái Nguyên has communes Văn Lang and Văn Lăng: without diacritics, ask the code.
            (19, "van lang", "hãy ghi mã xã/phường")):
        with pytest.raises(places.PlaceError) as refused:
            places.find_ward(province, text)
        assert message in refused.value.message_vi
    assert places.find_ward(19, "Văn Lang").code == 2143
    assert places.find_ward(19, "xã Văn Lăng").code == 5665


def test_cash_is_cash_opening_balances_are_not_money_received():
    assert channels.channel("cash") == "cash"
    for provider in ("sepay", "casso", "statement"):
        assert channels.channel(provider) == "cashless"
    assert channels.channel("opening") is None
    assert channels.share(7, 10) == 0.7 and channels.share(0, 0) is None


@pytest.mark.parametrize(("key", "year", "keys"), [
    ("2026-09", "2026-2027", ["2026-09"]),
    ("2027-05", "2026-2027", ["2027-05"]),
    ("2026-08", "2026-2027", ["2026-08"]),
    ("2026-07", "2025-2026", ["2026-07"]),
    ("2026-2027-HK2", "2026-2027", ["2027-01", "2027-02", "2027-03", "2027-04", "2027-05",
                                    "2026-2027-HK2"]),
])
def test_periods_belong_to_a_school_year(key, year, keys):
    period = parse_period(key)
    assert school_year_of(period).key == year
    assert invoice_keys(period) == keys


def test_the_school_year_of_a_day_turns_in_august():
    assert school_year_on(date(2026, 7, 31)).key == "2025-2026"
    assert school_year_on(date(2026, 8, 1)).key == "2026-2027"
    assert len(invoice_keys(parse_period("2026-2027"))) == 12
