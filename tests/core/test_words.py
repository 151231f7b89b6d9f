"""Vietnamese reading of amounts, as printed on receipts."""

from __future__ import annotations

import pytest

from tuition.core.words import amount_in_words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "Không đồng"),
        (1, "Một đồng"),
        (4, "Bốn đồng"),
        (5, "Năm đồng"),
        (10, "Mười đồng"),
        (11, "Mười một đồng"),  # "một", not "mốt", after mười
        (14, "Mười bốn đồng"),  # "bốn", not "tư", after mười
        (15, "Mười lăm đồng"),
        (19, "Mười chín đồng"),
        (20, "Hai mươi đồng"),
        (21, "Hai mươi mốt đồng"),
        (24, "Hai mươi tư đồng"),
        (25, "Hai mươi lăm đồng"),
        (31, "Ba mươi mốt đồng"),
        (55, "Năm mươi lăm đồng"),
        (99, "Chín mươi chín đồng"),
        (100, "Một trăm đồng"),
        (101, "Một trăm linh một đồng"),  # no "mốt" without mươi
        (104, "Một trăm linh bốn đồng"),
        (105, "Một trăm linh năm đồng"),  # no "lăm" after linh
        (110, "Một trăm mười đồng"),
        (115, "Một trăm mười lăm đồng"),
        (121, "Một trăm hai mươi mốt đồng"),
        (999, "Chín trăm chín mươi chín đồng"),
        (1_000, "Một nghìn đồng"),
        (1_005, "Một nghìn không trăm linh năm đồng"),
        (1_010, "Một nghìn không trăm mười đồng"),
        (1_100, "Một nghìn một trăm đồng"),
        (10_000, "Mười nghìn đồng"),
        (15_000, "Mười lăm nghìn đồng"),
        (21_000, "Hai mươi mốt nghìn đồng"),
        (25_500, "Hai mươi lăm nghìn năm trăm đồng"),
        (100_000, "Một trăm nghìn đồng"),
        (750_000, "Bảy trăm năm mươi nghìn đồng"),
        (1_000_000, "Một triệu đồng"),
        (1_000_005, "Một triệu không trăm linh năm đồng"),  # zero thousands group skipped
        (1_005_000, "Một triệu không trăm linh năm nghìn đồng"),
        (1_250_000, "Một triệu hai trăm năm mươi nghìn đồng"),
        (3_450_000, "Ba triệu bốn trăm năm mươi nghìn đồng"),
        (12_345_678, "Mười hai triệu ba trăm bốn mươi lăm nghìn sáu trăm bảy mươi tám đồng"),
        (
            999_999_999,
            "Chín trăm chín mươi chín triệu chín trăm chín mươi chín nghìn "
            "chín trăm chín mươi chín đồng",
        ),
        (1_000_000_000, "Một tỷ đồng"),
        (1_000_000_005, "Một tỷ không trăm linh năm đồng"),
        (2_000_000_021, "Hai tỷ không trăm hai mươi mốt đồng"),
        (2_000_500_000, "Hai tỷ năm trăm nghìn đồng"),
        (2_000_050_000, "Hai tỷ không trăm năm mươi nghìn đồng"),
        (
            1_234_567_891,
            "Một tỷ hai trăm ba mươi tư triệu năm trăm sáu mươi bảy nghìn "
            "tám trăm chín mươi mốt đồng",
        ),
        (1_000_000_000_000, "Một nghìn tỷ đồng"),
        (1_000_000_000_500, "Một nghìn tỷ năm trăm đồng"),
        (5_000_001_000_000, "Năm nghìn tỷ không trăm linh một triệu đồng"),
        (10**18, "Một tỷ tỷ đồng"),  # tỷ repeats
        (2 * 10**18 + 15, "Hai tỷ tỷ không trăm mười lăm đồng"),
    ],
)
def test_amount_in_words(amount: int, words: str) -> None:
    assert amount_in_words(amount) == words


def test_every_amount_below_ten_thousand_reads_cleanly() -> None:
    # Properties that a wrong rule would break somewhere in the range.
    for amount in range(10_000):
        words = amount_in_words(amount)
        assert words[0].isupper() and words.endswith(" đồng"), amount
        assert "  " not in words, amount
        body = words.lower().split()
        assert "mốt" not in body or body[body.index("mốt") - 1] == "mươi", amount
        assert "lăm" not in body or body[body.index("lăm") - 1] in ("mươi", "mười"), amount
        assert "tư" not in body or body[body.index("tư") - 1] == "mươi", amount
        assert "linh" not in body or body[body.index("linh") - 1] == "trăm", amount


def test_negative_raises_value_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        amount_in_words(-1)


@pytest.mark.parametrize("amount", [1.0, "100", True, None])
def test_non_int_raises_type_error(amount: object) -> None:
    with pytest.raises(TypeError):
        amount_in_words(amount)  # type: ignore[arg-type]
