"""Vietnam's administrative units since July 2025: 34 provinces and their communes and wards.

The list is the official one carried by the maintained ``vietnam-provinces`` package (codes of
the national statistics office); nothing here is typed by hand. Two levels, no district: a
school is in a ward (phường), a commune (xã) or a special zone (đặc khu), which is in a
province (tỉnh) or a centrally-run city (thành phố trung ương). Schools and authorities store
the codes; names always come from the package.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from vietnam_provinces import Province, ProvinceCode, Ward, WardCode


@dataclass(frozen=True, slots=True)
class Place:
    """A province or a ward, as the application shows it."""

    code: int
    name: str
    #: tỉnh, thành phố trung ương, phường, xã or đặc khu.
    kind: str
    #: The province of a ward; a province's own code for a province.
    province_code: int

    @property
    def code_text(self) -> str:
        """The official code as printed: two digits for a province, five for a ward."""
        return f"{self.code:02d}" if self.kind in _PROVINCE_KINDS else f"{self.code:05d}"


_PROVINCE_KINDS = ("tỉnh", "thành phố trung ương")


def _province(found: Province) -> Place:
    kind = found.division_type.value
    # The package names provinces "Cao Bằng" but cities "Thành phố Hà Nội".
    name = found.name if found.name.startswith("Thành phố") else f"Tỉnh {found.name}"
    return Place(int(found.code), name, kind, int(found.code))


def _ward(found: Ward) -> Place:
    return Place(int(found.code), found.name, found.division_type.value, int(found.province_code))


@functools.cache
def provinces() -> tuple[Place, ...]:
    """Every province, in the order of their codes (north to south)."""
    return tuple(sorted((_province(p) for p in Province.iter_all()), key=lambda p: p.code))


@functools.cache
def _wards() -> dict[int, Place]:
    return {int(w.code): _ward(w) for w in Ward.iter_all()}


def province(code: int | None) -> Place | None:
    """The province with this code, or None."""
    if code is None:
        return None
    try:
        return _province(Province.from_code(ProvinceCode(int(code))))
    except ValueError:
        return None


def ward(code: int | None) -> Place | None:
    """The ward (or commune, or special zone) with this code, or None."""
    if code is None:
        return None
    try:
        return _ward(Ward.from_code(WardCode(int(code))))
    except ValueError:
        return None


@functools.cache
def wards_of(province_code: int) -> tuple[Place, ...]:
    """The wards of a province, by name (Vietnamese order is close enough: by plain letters)."""
    return tuple(sorted((w for w in _wards().values() if w.province_code == province_code),
                        key=lambda w: (plain(w.name), w.code)))


def plain(text: str) -> str:
    """Lower case, no diacritics ("đ" too), single spaces: for comparing names as typed."""
    text = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


#: Prefixes people write before a ward's own name: "Phường", "P.", "Xã", "X.", "Đặc khu".
_KIND_PREFIX = re.compile(r"^(?:phuong|xa|dac khu|p|x)\s+")
_KIND_WRITTEN = re.compile(r"^(?:phường|xã|đặc khu|p\.?|x\.?)\s+")


def _written(text: str) -> str:
    """Lower case with diacritics, single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _short(written: str) -> str:
    return _KIND_WRITTEN.sub("", written)


class PlaceError(ValueError):
    """A ward that is not in the province, or a name that could be several wards."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


def find_ward(province_code: int, text: str | int) -> Place:
    """The ward of ``province_code`` that ``text`` names: its code ("00004" or 4) or its name,
    with or without "Phường"/"Xã" and diacritics. Raises :class:`PlaceError`."""
    where = province(province_code)
    if where is None:
        raise PlaceError(f"Mã tỉnh/thành phố {province_code} không có trong danh mục.",
                         f"Province code {province_code} is not on the official list.")
    value = str(text).strip()
    if re.fullmatch(r"\d{1,5}", value):
        found = ward(int(value))
        if found is None or found.province_code != province_code:
            raise PlaceError(
                f"Mã xã/phường “{value}” không thuộc {where.name}.",
                f"Ward code {value!r} is not in {where.name}.")
        return found
    candidates = wards_of(province_code)
    # As written first (Văn Lang and Văn Lăng are two communes), then without diacritics.
    for key in (_written, plain):
        wanted = key(value)
        exact = [w for w in candidates if key(w.name) == wanted]
        if len(exact) == 1:
            return exact[0]
        short = _KIND_PREFIX.sub("", plain(wanted)) if key is plain else _short(wanted)
        loose = exact or [w for w in candidates if (
            _KIND_PREFIX.sub("", plain(w.name)) if key is plain else _short(key(w.name))
        ) == short]
        if len(loose) == 1:
            return loose[0]
    if loose:
        names = ", ".join(f"{w.name} ({w.code_text})" for w in loose)
        raise PlaceError(f"“{value}” có thể là {names}; hãy ghi mã xã/phường.",
                         f"{value!r} could be {names}; give the ward code.")
    raise PlaceError(f"Không có xã/phường “{value}” ở {where.name}.",
                     f"There is no ward {value!r} in {where.name}.")
