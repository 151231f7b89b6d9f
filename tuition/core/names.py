"""Vietnamese names: class lists are ordered by given name (tên), then the full name, in the
Vietnamese alphabet (a ă â b c d đ e ê ... o ô ơ ... u ư ...), tones breaking ties."""

from __future__ import annotations

import functools
import unicodedata

_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {letter: index for index, letter in enumerate(_ALPHABET)}
#: Combining marks that make a letter of its own (ă â ê ô ơ ư); the others are tones.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


@functools.lru_cache(maxsize=4096)
def _char_key(char: str) -> tuple[int, int]:
    """(rank of the letter in the Vietnamese alphabet, tone) of one lower-case character."""
    base, *marks = unicodedata.normalize("NFD", char)
    letter = unicodedata.normalize("NFC", base + "".join(m for m in marks if m in _LETTER_MARKS))
    return _RANK.get(letter, 100 + ord(letter)), sum(_TONES.get(m, 0) for m in marks)


def _word_key(word: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    keys = [_char_key(char) for char in unicodedata.normalize("NFC", word.lower())]
    return tuple(k[0] for k in keys), tuple(k[1] for k in keys)


@functools.lru_cache(maxsize=65536)
def sort_key(full_name: str) -> tuple:
    """Order by given name, then family and middle names, as Vietnamese class lists are."""
    words = full_name.split()
    if not words:
        return ((), ())
    given = _word_key(words[-1])
    rest = [_word_key(word) for word in words[:-1]]
    return (given[0], tuple(k[0] for k in rest), given[1], tuple(k[1] for k in rest))
