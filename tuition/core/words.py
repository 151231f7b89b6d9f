"""Amounts of money read out in Vietnamese words, as printed on receipts ("Bằng chữ")."""

from __future__ import annotations

__all__ = ["amount_in_words"]

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
# Scales inside one block of nine digits, from the lowest group; tỷ repeats above that.
_GROUP_SCALES = ("", "nghìn", "triệu")
_BILLION = 1_000_000_000
# After "mươi" (20..99) these units change sound; after "mười" only 5 does ("mười một", 11).
_UNITS_AFTER_MUOI = {1: "mốt", 4: "tư", 5: "lăm"}


def _read_group(number: int, *, inner: bool) -> list[str]:
    """Read 1..999. ``inner`` groups follow a non-zero higher group, so their zero hundreds and
    zero tens are spoken ("không trăm linh năm"), as on bank and tax documents."""
    hundreds, tens, units = number // 100, number // 10 % 10, number % 10
    words: list[str] = []
    if hundreds or inner:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            # "linh" only bridges a spoken hundred: 5 is "năm", 105 is "một trăm linh năm".
            if words:
                words.append("linh")
            words.append(_DIGITS[units])
        return words
    if tens == 1:
        words.append("mười")
        if units == 5:
            words.append("lăm")
        elif units:
            words.append(_DIGITS[units])
        return words
    words += [_DIGITS[tens], "mươi"]
    if units:
        words.append(_UNITS_AFTER_MUOI.get(units, _DIGITS[units]))
    return words


def _read_below_billion(number: int, *, inner: bool) -> list[str]:
    """Read 1..999,999,999; ``inner`` when a higher "tỷ" part was already spoken."""
    groups = (number % 1000, number // 1000 % 1000, number // 1_000_000)
    words: list[str] = []
    for index in reversed(range(len(groups))):
        group = groups[index]
        if not group:
            # Whole zero groups are skipped: 1,000,005 is "một triệu không trăm linh năm".
            continue
        words += _read_group(group, inner=inner or bool(words))
        if _GROUP_SCALES[index]:
            words.append(_GROUP_SCALES[index])
    return words


def _read(number: int, *, inner: bool = False) -> list[str]:
    if number < _BILLION:
        return _read_below_billion(number, inner=inner)
    # Above 999,999,999 the count of tỷ is read like any number, so 10**18 is "một tỷ tỷ".
    high, low = divmod(number, _BILLION)
    words = [*_read(high, inner=inner), "tỷ"]
    if low:
        words += _read_below_billion(low, inner=True)
    return words


def amount_in_words(amount_vnd: int) -> str:
    """Return ``amount_vnd`` in Vietnamese words ending with " đồng", first letter capitalised.

    ``750000`` gives ``"Bảy trăm năm mươi nghìn đồng"``; ``0`` gives ``"Không đồng"``.
    Raises ValueError for a negative amount and TypeError for a non-int (floats have no place in
    money; bool is refused because ``True`` would read as "Một đồng").
    """
    if isinstance(amount_vnd, bool) or not isinstance(amount_vnd, int):
        raise TypeError(f"amount must be an int number of dong, got {amount_vnd!r}")
    if amount_vnd < 0:
        raise ValueError(f"amount must not be negative, got {amount_vnd}")
    text = " ".join(_read(amount_vnd)) if amount_vnd else _DIGITS[0]
    return f"{text[0].upper()}{text[1:]} đồng"
