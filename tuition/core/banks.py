"""The NAPAS bank list (BIN, short name, full name), shipped with the package."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Bank:
    bin: str
    code: str
    short_name: str
    name: str


@cache
def banks() -> dict[str, Bank]:
    """Banks by BIN."""
    text = resources.files("tuition").joinpath("data/napas_banks.csv").read_text("utf-8")
    return {
        row["bin"]: Bank(row["bin"], row["code"], row["short_name"], row["name"])
        for row in csv.DictReader(io.StringIO(text))
    }


def bank_by_bin(bin_: str) -> Bank | None:
    return banks().get(bin_)


def _plain(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if ch.isalnum()).upper()


def names_bank(bin_: str, named: str | None) -> bool:
    """Whether a bank name as a notification gives it ("Vietcombank", "VCB", "MBBank") is
    the bank with this BIN."""
    bank = bank_by_bin(bin_)
    if bank is None or not named:
        return False
    wanted = _plain(named)
    return bool(wanted) and wanted in {_plain(bank.code), _plain(bank.short_name),
                                       _plain(bank.name), _plain(bank.short_name) + "BANK"}
