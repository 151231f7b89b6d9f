import pytest

from tuition.core.numbers import format_percent


@pytest.mark.parametrize(("ratio", "vi", "en"), [
    (0.024, "2,4 %", "2.4%"),
    (0.5912, "59,1 %", "59.1%"),
    (1, "100,0 %", "100.0%"),
    (0, "0,0 %", "0.0%"),
    (0.00049, "0,0 %", "0.0%"),
    (0.00051, "0,1 %", "0.1%"),
    (0.9995, "100,0 %", "100.0%"),
    (-0.125, "-12,5 %", "-12.5%"),
    (None, "—", "—"),
])
def test_percentages_read_the_vietnamese_way(ratio, vi, en):
    assert format_percent(ratio) == vi
    assert format_percent(ratio, language="en") == en


def test_decimals():
    assert format_percent(0.5, decimals=0) == "50 %"
    assert format_percent(0.12345, decimals=2) == "12,35 %"
