"""Payment codes: what a parent types into the transfer memo so the money finds its invoice.

Format (9 to 11 characters, pure ASCII, upper case)::

    HP  K7M2Q9  X
    |   |       `- check character, ISO 7064 MOD 37-2 over everything before it
    |   `--------- random part: 6 symbols from RANDOM_ALPHABET, at least one of them a digit
    `------------- school prefix: 2-4 capital letters, see validate_prefix()

Why this shape:

* Short (at most 11 characters), so it fits the 25-character VietQR purpose field with room
  to spare and survives the ~190-character truncation some bank paths apply to long memos.
* Starts with letters, so it is never an all-digit run like the account and reference numbers
  banks glue around the memo; prefixes that look like bank-inserted tokens are refused.
* No 0, 1, O or I anywhere (prefix, random part or check character). A code printed on paper is
  read and retyped by a person; with none of the four look-alikes in the alphabet there is only
  one way to type each code. 32 symbols remain, so the random part alone has
  32**6 = 1.07e9 values per prefix (about 8.8e8 with a digit required, see below): a random
  string that passes the check character and also equals one of a school's few thousand issued
  codes is vanishingly unlikely.
* At least one digit in the random part. The prefix already guarantees letters; the digit is
  there so that ordinary words glued together when a bank strips spaces ("HPHUONGLOPBA") can
  never be read as a code, whatever the check character says.
* The check character is ISO 7064 MOD 37-2 (python-stdnum), a pure system over 0-9A-Z: the
  code's symbols are weighted by distinct powers of 2 modulo the prime 37, so every
  single-character substitution, every transposition of adjacent characters and every
  transposition across one character changes the sum and is detected (the tests verify the
  first two by brute force). A mistyped code is rejected and lands in review instead of being
  matched to another child's invoice. MOD 37,36 was considered and rejected: it is a hybrid
  system that misses about 0.14 % of adjacent transpositions (e.g. LQD93B8LMU and LQD93B8MLU
  are both valid under it). MOD 37-2 may yield "*" as the check character, which banks strip
  like any punctuation, so new_code() re-draws the random part until the check character is
  in RANDOM_ALPHABET: no "*", and no 0, 1, O, I.

Codes are canonical in upper case. Uniqueness is not this module's job: the caller stores codes
under a unique constraint and calls new_code() again on a collision.
"""

from __future__ import annotations

import random
import secrets

from stdnum.iso7064 import mod_37_2

#: The MOD 37-2 alphabet. "*" only ever appears as a check character, and new_code() never
#: issues a code that ends in it.
CHECK_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
#: Symbols a code may contain after the prefix: CHECK_ALPHABET minus 0, 1, O, I (look-alikes).
RANDOM_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
RANDOM_LENGTH = 6
#: Characters after the prefix: the random part and the check character.
TAIL_LENGTH = RANDOM_LENGTH + 1
PREFIX_MIN_LENGTH = 2
PREFIX_MAX_LENGTH = 4
CODE_MIN_LENGTH = PREFIX_MIN_LENGTH + TAIL_LENGTH
CODE_MAX_LENGTH = PREFIX_MAX_LENGTH + TAIL_LENGTH

#: Letter tokens that banks and gateways insert around the payer's memo (see "What a memo looks
#: like when it arrives" in FORMATS.md). A school prefix that is, starts like, or is the start of
#: one of these would make a bank's own reference look like a payment code to a person reading
#: the statement, and to aggregators that extract codes by prefix (SePay's ``code`` field).
#: Tokens with digits (B2B...) cannot clash with an all-letter prefix and are left out.
BANK_TOKEN_PREFIXES: frozenset[str] = frozenset(
    {
        # Reference tokens banks and gateways put before or after the memo.
        "FT",  # Techcombank and others: FT + 14 digits
        "ZP",  # ZaloPay
        "CT",  # VietinBank "(CT1111)", "CT nhanh 247 den:", Vietcombank ".CT tu <acct>"
        "CTLNHIDI",  # into BIDV: "-CTLNHIDI<15 digits>-1/1-CRE-002"
        "CRE",
        "ISL",
        "QFT",
        "IBFT",  # Sacombank
        "TK",  # "tai khoan" (account)
        "TKTHE",  # into BIDV: "TKThe :<acct> tai <bank>."
        "NAPAS",
        "SEVN",  # SePay virtual accounts
        # Bank names that open or close a wrapped memo.
        "MB",  # "MB(<6 digits>)(<memo>)"
        "MBVCB",  # Vietcombank sender: "MBVCB.<10 digits>.<memo>"
        "BIDV",  # Agribank: "BIDV;<acct>;<memo>"
        "VCB",
        "ACB",
        "TPB",
        "TPBANK",  # "<memo> (by TPBank ChatPay)"
        "CHATPAY",
        "VIB",
        # Wrapper words glued straight onto the memo once spaces and punctuation are dropped.
        "TAI",
        "DEN",
        "NHANH",
    }
)

_LOOK_ALIKES = frozenset("OI")
_DIGITS = frozenset("23456789")
_RANDOM_SET = frozenset(RANDOM_ALPHABET)
_VALUE = {symbol: index for index, symbol in enumerate(CHECK_ALPHABET)}
_BODY_SYMBOLS = frozenset(CHECK_ALPHABET[:-1])
_SYSTEM_RANDOM = secrets.SystemRandom()


class PaymentCodeError(ValueError):
    """A school prefix or code body that cannot be used to make payment codes."""


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if a school may use it for payment codes, else raise PaymentCodeError.

    A prefix is 2-4 capital ASCII letters without O or I, and is not confusable with a bank
    token: it may neither start with one of BANK_TOKEN_PREFIXES nor be the start of one
    ("TP" is refused because of "TPB", "CTA" because of "CT").
    """
    if not isinstance(prefix, str):
        raise PaymentCodeError("the payment code prefix must be a string")
    if not (
        PREFIX_MIN_LENGTH <= len(prefix) <= PREFIX_MAX_LENGTH
        and prefix.isascii()
        and prefix.isalpha()
        and prefix.isupper()
    ):
        raise PaymentCodeError(
            f"payment code prefix {prefix!r} must be {PREFIX_MIN_LENGTH}-{PREFIX_MAX_LENGTH} "
            "capital letters A-Z"
        )
    if _LOOK_ALIKES.intersection(prefix):
        raise PaymentCodeError(
            f"payment code prefix {prefix!r} must not contain O or I: parents confuse them "
            "with 0 and 1 when typing the code"
        )
    for token in BANK_TOKEN_PREFIXES:
        if prefix.startswith(token) or token.startswith(prefix):
            raise PaymentCodeError(
                f"payment code prefix {prefix!r} could be confused with the bank token "
                f"{token!r} that banks insert into transfer memos"
            )
    return prefix


def check_char(body: str) -> str:
    """The ISO 7064 MOD 37-2 check character for ``body`` (symbols 0-9A-Z only).

    The result is one of 0-9, A-Z or "*"; new_code() only keeps bodies whose check character
    is in RANDOM_ALPHABET.
    """
    if not body or not _BODY_SYMBOLS.issuperset(body):
        raise PaymentCodeError(f"code body {body!r} must be non-empty and use only 0-9 and A-Z")
    return mod_37_2.calc_check_digit(body)


def new_code(prefix: str, rng: random.Random | None = None) -> str:
    """A fresh payment code for a school whose prefix is ``prefix``.

    ``rng`` defaults to the operating system's CSPRNG so that codes cannot be predicted from
    one another; tests and benchmarks pass a seeded ``random.Random``.
    """
    prefix = validate_prefix(prefix)
    rng = rng or _SYSTEM_RANDOM
    while True:
        random_part = "".join(rng.choice(RANDOM_ALPHABET) for _ in range(RANDOM_LENGTH))
        if _DIGITS.isdisjoint(random_part):
            continue
        check = check_char(prefix + random_part)
        # About 1 draw in 7 yields "*" or a look-alike as check character; draw again rather
        # than print it.
        if check in _RANDOM_SET:
            return prefix + random_part + check


def checksum_ok(code: str) -> bool:
    """True when ``code`` satisfies ISO 7064 MOD 37-2; no format checks.

    The same as ``stdnum.iso7064.mod_37_2.is_valid`` (the tests compare them) without the
    per-symbol ``str.index``: find_codes() calls this at every candidate position of every memo.
    """
    check = 0
    value = _VALUE
    try:
        for symbol in code:
            check = (2 * check + value[symbol]) % 37
    except KeyError:
        return False
    return check == 1


def tail_ok(tail: str) -> bool:
    """True when ``tail`` (what follows the prefix) is well formed, checksum aside."""
    return (
        len(tail) == TAIL_LENGTH
        and _RANDOM_SET.issuperset(tail)
        and not _DIGITS.isdisjoint(tail[:RANDOM_LENGTH])
    )


def is_valid(code: str) -> bool:
    """True when ``code`` is a well-formed payment code with a correct check character.

    Checks the format (2-4 letters, then 6 random symbols with a digit, then the check
    character, all in canonical upper case) and the checksum. It does not re-apply the prefix
    policy of validate_prefix(), which may tighten over time while issued codes stay valid, and
    it cannot know whether the code was ever issued: look it up for that.
    """
    if not isinstance(code, str) or not CODE_MIN_LENGTH <= len(code) <= CODE_MAX_LENGTH:
        return False
    prefix = code[:-TAIL_LENGTH]
    if not (prefix.isascii() and prefix.isalpha() and prefix.isupper()):
        return False
    return tail_ok(code[-TAIL_LENGTH:]) and checksum_ok(code)
