"""Reading transfer memos: fold them to plain A-Z0-9 and pull payment codes out of them.

A memo reaches us after one or two banks have handled it (FORMATS.md, "What a memo looks like
when it arrives"): diacritics are gone or half gone, case may be changed, the payer's words are
wrapped in bank references (``MBVCB.1234567890.<memo>.CT tu ...``, ``<memo> FT24012...``), and
spaces and punctuation are added, dropped or merged with the bank's own delimiters. The only
representation that is stable across all of that is the memo with everything except letters
and digits removed, so codes are searched for in that glued string.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from tuition.core.paycode import TAIL_LENGTH, checksum_ok, tail_ok

__all__ = ["find_codes", "normalise", "same_transfer_memo", "words"]


# Byte tables for the common case, a memo that is already ASCII ("diacritics never survive"):
# bytes.translate upper-cases and deletes in one C pass, several times faster than str.translate
# with a dict or a regular expression.
_ASCII_SYMBOLS = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_UPPER = bytes(byte - 32 if 0x61 <= byte <= 0x7A else byte for byte in range(256))
_TO_SPACE = bytes(byte if byte in _ASCII_SYMBOLS else 0x20 for byte in _UPPER)
_NOT_SYMBOL = bytes(byte for byte in range(256) if _UPPER[byte] not in _ASCII_SYMBOLS)
_COMBINING_MARKS = re.compile("[\u0300-\u036f]+")


def _decompose(memo: str) -> str:
    """NFKD form of ``memo`` with the Vietnamese d-with-stroke (and its look-alike, the Icelandic
    eth, which some keyboards produce) turned into d: they have no decomposition of their own.

    NFKD also folds fullwidth and other compatibility forms to ASCII.
    """
    memo = memo.replace("đ", "d").replace("Đ", "D").replace("ð", "d").replace("Ð", "D")
    return unicodedata.normalize("NFKD", memo)


def normalise(memo: str) -> str:
    """The memo as upper-case A-Z0-9 only: diacritics stripped (đ -> D), everything else dropped.

    >>> normalise("MBVCB.123.hp k7m2-q9x.CT tu Học phí bé Đức")
    'MBVCB123HPK7M2Q9XCTTUHOCPHIBEDUC'
    """
    if memo.isascii():
        raw = memo.encode("ascii")
    else:
        # Accents become combining marks after decomposition; "ignore" drops them, and with
        # them anything else non-ASCII, which the table below would drop anyway.
        raw = _decompose(memo).encode("ascii", "ignore")
    return raw.translate(_UPPER, _NOT_SYMBOL).decode("ascii")


def words(memo: str) -> list[str]:
    """The memo's words, folded like normalise() but split where it had anything but A-Z0-9.

    >>> words("Học phí bé An - lớp 2a")
    ['HOC', 'PHI', 'BE', 'AN', 'LOP', '2A']
    """
    if memo.isascii():
        raw = memo.encode("ascii")
    else:
        # Unlike normalise(), a non-ASCII symbol (an emoji, a dash from another block) must
        # still separate words, so only the accents are removed before encoding.
        raw = _COMBINING_MARKS.sub("", _decompose(memo)).encode("ascii", "replace")
    return raw.translate(_TO_SPACE).decode("ascii").split()


def find_codes(memo: str, prefixes: Collection[str]) -> list[str]:
    """Payment codes with a correct check character found in ``memo``, in order, without repeats.

    ``prefixes`` are the receiving school's code prefixes (canonical upper case). Every
    occurrence of every prefix in the normalised memo is taken as a possible start, and the
    ``len(prefix) + TAIL_LENGTH`` characters there are tested for the code format and the
    MOD 37-2 check. Searching the glued string finds codes that banks fused with their own
    references ("...1234567890HPK7M2Q9XCT...") and codes the payer typed with spaces or dashes
    inside ("HP K7M2-Q9X"). A separate pass over the original words is unnecessary: every word
    is a substring of the glued string, in the same order.

    The cost depends only on the memo's length and the number of prefixes, never on how many
    invoices exist; the caller looks each code up in its own index.

    The result is not proof that an invoice exists. At any position where a prefix happens to
    occur (bank references, names, the tail of another code) the following characters pass the
    check character by chance with probability 1/37, and the format rules too with roughly
    1/100 for random text. Such strings are codes nobody issued, and the chance that one equals
    one of the school's issued codes is about (issued codes) / 8.8e8 per chance hit. So the
    caller must keep only codes it finds among the invoices of the school that received the
    money and ignore the rest; overlapping hits are all returned for that reason, rather than
    guessing which one is real.
    """
    text = normalise(memo)
    found: list[tuple[int, str]] = []
    for prefix in prefixes:
        if not (prefix.isascii() and prefix.isalpha() and prefix.isupper()):
            raise ValueError(f"payment code prefix {prefix!r} must be capital letters A-Z")
        width = len(prefix) + TAIL_LENGTH
        # Bound the search so that every hit leaves room for a whole code after it.
        stop = len(text) - width + len(prefix)
        start = text.find(prefix, 0, stop)
        while start != -1:
            candidate = text[start : start + width]
            if tail_ok(candidate[len(prefix) :]) and checksum_ok(candidate):
                found.append((start, candidate))
            start = text.find(prefix, start + 1, stop)
    if len(found) > 1:
        found.sort()
    codes: list[str] = []
    for _, code in found:
        if code not in codes:
            codes.append(code)
    return codes


#: A memo shorter than this, folded, is too common ("HOC PHI") to say two lines are one.
_SAME_MEMO_MIN = 10


def same_transfer_memo(first: str, second: str) -> bool:
    """Whether two channels' memos describe one transfer: equal once folded, or one holding the
    other (a statement cuts memos short; an aggregator adds the bank's wrapper), as long as the
    shorter one is long enough to mean something.

    >>> same_transfer_memo("HP2ABC7D9 hoc phi be An", "MBVCB.123.HP2ABC7D9 HOC PHI BE AN.CT tu")
    True
    >>> same_transfer_memo("hoc phi", "MBVCB.1.HOC PHI BE AN")
    False
    """
    a, b = normalise(first or ""), normalise(second or "")
    if not a or not b:
        return False
    if a == b:
        return len(a) >= 4
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= _SAME_MEMO_MIN and shorter in longer
