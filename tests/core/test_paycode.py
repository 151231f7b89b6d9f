"""Payment codes: prefix policy, format, and the error-detection claim of the check character."""

from __future__ import annotations

import random
import re

import pytest
from stdnum.iso7064 import mod_37_2, mod_37_36

from tuition.core.paycode import (
    BANK_TOKEN_PREFIXES,
    CHECK_ALPHABET,
    RANDOM_ALPHABET,
    PaymentCodeError,
    check_char,
    checksum_ok,
    is_valid,
    new_code,
    validate_prefix,
)

CODE_SHAPE = re.compile(r"[A-Z]{2,4}[2-9A-HJ-NP-Z]{7}")


@pytest.mark.parametrize("prefix", ["HP", "LQD", "THCS", "NBK", "MN", "XYZ", "KV"])
def test_validate_prefix_accepts(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("H", "2-4 capital letters"),
        ("HPTHX", "2-4 capital letters"),
        ("hp", "2-4 capital letters"),
        ("Hp", "2-4 capital letters"),
        ("H1", "2-4 capital letters"),
        ("ĐH", "2-4 capital letters"),
        ("", "2-4 capital letters"),
        (" HP", "2-4 capital letters"),
        ("HOA", "O or I"),
        ("VIET", "O or I"),
        ("FT", "bank token 'FT'"),
        ("FTH", "bank token 'FT'"),
        ("ZP", "bank token 'ZP'"),
        ("CTA", "bank token 'CT'"),
        ("CTL", "bank token"),  # starts with CT and is the start of CTLNHIDI
        ("QFT", "bank token 'QFT'"),
        ("MB", "bank token"),
        ("MBV", "bank token"),
        ("TP", "bank token"),  # the start of TPB and TPBANK
        ("TK", "bank token"),
        ("VC", "bank token 'VCB'"),
        ("AC", "bank token 'ACB'"),
    ],
)
def test_validate_prefix_rejects(prefix: str, message: str) -> None:
    with pytest.raises(PaymentCodeError, match=re.escape(message)):
        validate_prefix(prefix)


def test_validate_prefix_rejects_non_strings() -> None:
    with pytest.raises(PaymentCodeError):
        validate_prefix(12)  # type: ignore[arg-type]


def test_payment_code_error_is_a_value_error() -> None:
    assert issubclass(PaymentCodeError, ValueError)


@pytest.mark.parametrize("token", sorted(BANK_TOKEN_PREFIXES))
def test_every_bank_token_is_letters_and_refused_as_prefix(token: str) -> None:
    assert token.isascii() and token.isalpha() and token.isupper()
    with pytest.raises(PaymentCodeError):
        validate_prefix(token[:4])


@pytest.mark.parametrize("prefix", ["HP", "LQD", "THCS"])
def test_new_code_shape(prefix: str) -> None:
    rng = random.Random(prefix)
    for _ in range(500):
        code = new_code(prefix, rng)
        assert code.startswith(prefix)
        assert len(code) == len(prefix) + 7
        assert CODE_SHAPE.fullmatch(code), code
        assert any(char.isdigit() for char in code[len(prefix) : -1])
        assert code[-1] == mod_37_2.calc_check_digit(code[:-1])
        assert is_valid(code)
        assert mod_37_2.is_valid(code)


def test_new_code_is_reproducible_with_a_seed_and_spread_without() -> None:
    assert new_code("HP", random.Random(7)) == new_code("HP", random.Random(7))
    codes = {new_code("HP") for _ in range(2000)}
    assert len(codes) == 2000


def test_new_code_validates_the_prefix() -> None:
    with pytest.raises(PaymentCodeError):
        new_code("FT")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("G123489654321", "Y"),  # python-stdnum's own example
        ("A", "I"),  # a look-alike check character: check_char reports it, new_code avoids it
        ("HPK7M2Q9", mod_37_2.calc_check_digit("HPK7M2Q9")),
        ("0", mod_37_2.calc_check_digit("0")),
    ],
)
def test_check_char(body: str, expected: str) -> None:
    assert check_char(body) == expected


@pytest.mark.parametrize("body", ["", "hpk7m2q9", "HP-K7M2", "HPĐ"])
def test_check_char_refuses_bodies_outside_the_alphabet(body: str) -> None:
    with pytest.raises(PaymentCodeError):
        check_char(body)


def _with_check(body: str) -> str:
    return body + mod_37_2.calc_check_digit(body)


def _body_with_check_in(prefix: str, allowed: str, *, digits: bool) -> str:
    """A body whose check character falls in ``allowed``, found by trying bodies in order."""
    pool = "23456789" if digits else "ABCDEFGHJKLMNPQRSTUVWXYZ"
    rng = random.Random(3)
    while True:
        body = prefix + "".join(rng.choice(pool) for _ in range(6))
        if mod_37_2.calc_check_digit(body) in allowed:
            return body


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        (_with_check(_body_with_check_in("HP", RANDOM_ALPHABET, digits=True)), True),
        (_with_check(_body_with_check_in("THCS", RANDOM_ALPHABET, digits=True)), True),
        # Correct checksum but no digit in the random part: not a code this format issues.
        (_with_check(_body_with_check_in("HP", RANDOM_ALPHABET, digits=False)), False),
        # Correct checksum but a look-alike check character.
        (_with_check(_body_with_check_in("HP", "01OI", digits=True)), False),
        (_with_check(_body_with_check_in("HP", "*", digits=True)), False),
        # Correct checksum but a look-alike in the random part.
        (_with_check("HP2345O7"), False),
        (_with_check("HP234517"), False),
        # Prefix of the wrong length or kind, correct checksum.
        (_with_check("H2345678"), False),
        (_with_check("HPTHX234567"), False),
        (_with_check("H22345678"), False),
        ("", False),
        ("HP", False),
        (None, False),
        (123456789, False),
    ],
)
def test_is_valid(code: object, valid: bool) -> None:
    assert is_valid(code) is valid  # type: ignore[arg-type]


def test_is_valid_wants_canonical_upper_case() -> None:
    code = new_code("HP", random.Random(1))
    assert not is_valid(code.lower())


def test_checksum_ok_agrees_with_stdnum() -> None:
    rng = random.Random(11)
    for _ in range(5000):
        text = "".join(rng.choice(CHECK_ALPHABET) for _ in range(rng.randint(1, 14)))
        assert checksum_ok(text) is mod_37_2.is_valid(text), text
    assert checksum_ok("hp") is False
    assert checksum_ok("HP-2") is False


def test_check_character_detects_every_substitution_and_adjacent_swap() -> None:
    """The claim the format rests on, checked exhaustively around 400 random codes.

    Substitutions use the full MOD 37-2 alphabet, look-alikes and "*" included, so this tests
    the checksum itself and not merely the format rules of is_valid().
    """
    rng = random.Random(2024)
    checked = 0
    for prefix in ("HP", "LQD", "THCS") * 134:
        code = new_code(prefix, rng)
        for position, original in enumerate(code):
            for replacement in CHECK_ALPHABET:
                if replacement == original:
                    continue
                damaged = code[:position] + replacement + code[position + 1 :]
                assert not mod_37_2.is_valid(damaged), (code, damaged)
                assert not is_valid(damaged), (code, damaged)
                checked += 1
        for position in range(len(code) - 1):
            left, right = code[position], code[position + 1]
            if left == right:
                continue
            swapped = code[:position] + right + left + code[position + 2 :]
            assert not mod_37_2.is_valid(swapped), (code, swapped)
            assert not is_valid(swapped), (code, swapped)
            checked += 1
    assert checked > 140_000


def test_why_not_mod_37_36() -> None:
    """The hybrid MOD 37,36 system misses some adjacent swaps; MOD 37-2 catches this one."""
    assert mod_37_36.is_valid("LQD93B8LMU") and mod_37_36.is_valid("LQD93B8MLU")
    check = mod_37_2.calc_check_digit("LQD93B8LM")
    assert mod_37_2.is_valid("LQD93B8LM" + check)
    assert not mod_37_2.is_valid("LQD93B8ML" + check)
