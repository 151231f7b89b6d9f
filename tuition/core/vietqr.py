"""VietQR (NAPAS 247 bank-transfer QR) payloads: build, parse and CRC.

A VietQR payload is an EMVCo merchant-presented string of objects, each written as
ID (2 digits) + LEN (2 digits) + VALUE. See ``FORMATS.md`` (VietQR section) for the fields.

Pure Python on purpose: this module is used by the web layer, the PDF layer and the CLI, and is
tested without an app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "NAPAS_GUID",
    "SERVICE_TO_ACCOUNT",
    "SERVICE_TO_CARD",
    "MAX_ACCOUNT_LENGTH",
    "MAX_AMOUNT_DIGITS",
    "MAX_MEMO_LENGTH",
    "VietQR",
    "VietQRError",
    "build_payload",
    "crc16_ccitt_false",
    "parse_payload",
]

NAPAS_GUID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"
SERVICE_TO_CARD = "QRIBFTTC"
#: NAPAS limit for tag 62.08; banking apps cut or refuse longer memos.
MAX_MEMO_LENGTH = 25
#: EMVCo limit for tag 54.
MAX_AMOUNT_DIGITS = 13
#: NAPAS limit for the beneficiary id (38.01.01).
MAX_ACCOUNT_LENGTH = 19

CURRENCY_VND = "704"
COUNTRY_VN = "VN"
STATIC = "11"
DYNAMIC = "12"

# Explicit ASCII classes: str.isdigit()/isalnum() also accept "²" or "é", which would make the
# declared lengths and the CRC bytes disagree between parsers.
_DIGITS = re.compile(r"[0-9]+")
_BIN = re.compile(r"[0-9]{6}")
_ACCOUNT = re.compile(rf"[0-9A-Za-z]{{1,{MAX_ACCOUNT_LENGTH}}}")
_MEMO = re.compile(r"[\x20-\x7e]*")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")

_ID_PAYLOAD_FORMAT = "00"
_ID_POINT_OF_INITIATION = "01"
_ID_MERCHANT_ACCOUNT = "38"
_ID_CURRENCY = "53"
_ID_AMOUNT = "54"
_ID_COUNTRY = "58"
_ID_ADDITIONAL_DATA = "62"
_ID_CRC = "63"
_ID_PURPOSE = "08"  # inside 62
_REQUIRED_ROOT_IDS = (_ID_PAYLOAD_FORMAT, _ID_MERCHANT_ACCOUNT, _ID_CURRENCY, _ID_COUNTRY, _ID_CRC)


class VietQRError(ValueError):
    """A VietQR payload, or the data to build one, is invalid."""


@dataclass(frozen=True, slots=True)
class VietQR:
    """The fields of a parsed VietQR transfer payload."""

    bin: str
    account_number: str
    #: ``QRIBFTTA`` (transfer to an account) or ``QRIBFTTC`` (transfer to a card).
    service: str
    #: None for a static code, where the payer types the amount.
    amount_vnd: int | None
    #: Tag 62.08, the memo the banking app pre-fills; None when absent.
    memo: str | None
    #: ``"11"`` static or ``"12"`` dynamic; None when the payload omits tag 01.
    point_of_initiation: str | None
    #: The 4 hex digits of tag 63, upper-cased.
    crc: str


def crc16_ccitt_false(data: bytes) -> int:
    """Return CRC-16/CCITT-FALSE of ``data`` (poly 0x1021, init 0xFFFF, no reflection)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def _crc_hex(text: str) -> str:
    # Zero-padded: a known bug of published generators is dropping the leading zero below 0x1000.
    return f"{crc16_ccitt_false(text.encode('utf-8')):04X}"


def _tlv(tag: str, value: str) -> str:
    if not 1 <= len(value) <= 99:
        raise VietQRError(f"value of tag {tag} must be 1..99 characters, got {len(value)}")
    return f"{tag}{len(value):02d}{value}"


def _validate_bin(bin: str) -> None:
    if not isinstance(bin, str) or not _BIN.fullmatch(bin):
        raise VietQRError(f"bank BIN must be 6 digits, got {bin!r}")


def _validate_account(account_number: str, *, to_card: bool) -> None:
    if not isinstance(account_number, str) or not _ACCOUNT.fullmatch(account_number):
        raise VietQRError(
            f"account number must be 1..{MAX_ACCOUNT_LENGTH} letters or digits, "
            f"got {account_number!r}"
        )
    if to_card and not _DIGITS.fullmatch(account_number):
        raise VietQRError(f"card number must be digits only, got {account_number!r}")


def _validate_amount(amount_vnd: int) -> None:
    # bool is an int subclass; True would silently become "1" dong.
    if isinstance(amount_vnd, bool) or not isinstance(amount_vnd, int):
        raise VietQRError(f"amount must be an int number of dong, got {amount_vnd!r}")
    if amount_vnd <= 0:
        raise VietQRError(f"amount must be positive, got {amount_vnd}")
    if len(str(amount_vnd)) > MAX_AMOUNT_DIGITS:
        raise VietQRError(f"amount must have at most {MAX_AMOUNT_DIGITS} digits, got {amount_vnd}")


def _validate_memo(memo: str) -> None:
    if not isinstance(memo, str):
        raise VietQRError(f"memo must be a string, got {memo!r}")
    # Pure ASCII because parsers disagree on whether lengths count characters or UTF-8 bytes.
    if not _MEMO.fullmatch(memo):
        raise VietQRError(f"memo must be printable ASCII (no diacritics), got {memo!r}")
    if len(memo) > MAX_MEMO_LENGTH:
        raise VietQRError(f"memo must be at most {MAX_MEMO_LENGTH} characters, got {len(memo)}")


def build_payload(
    *,
    bin: str,
    account_number: str,
    amount_vnd: int | None,
    memo: str | None,
    to_card: bool = False,
) -> str:
    """Build a VietQR transfer payload string.

    ``amount_vnd=None`` makes a static code (payer types the amount); a positive int makes a
    dynamic one. ``memo`` goes into tag 62.08; None or ``""`` leaves tag 62 out. ``to_card``
    selects service ``QRIBFTTC`` (``account_number`` is then a card number).

    Raises VietQRError when any field is out of the NAPAS limits.
    """
    _validate_bin(bin)
    _validate_account(account_number, to_card=to_card)
    if amount_vnd is not None:
        _validate_amount(amount_vnd)
    if memo is not None:
        _validate_memo(memo)

    beneficiary = _tlv("00", bin) + _tlv("01", account_number)
    merchant_account = (
        _tlv("00", NAPAS_GUID)
        + _tlv("01", beneficiary)
        + _tlv("02", SERVICE_TO_CARD if to_card else SERVICE_TO_ACCOUNT)
    )
    parts = [
        _tlv(_ID_PAYLOAD_FORMAT, "01"),
        _tlv(_ID_POINT_OF_INITIATION, DYNAMIC if amount_vnd is not None else STATIC),
        _tlv(_ID_MERCHANT_ACCOUNT, merchant_account),
        _tlv(_ID_CURRENCY, CURRENCY_VND),
    ]
    if amount_vnd is not None:
        parts.append(_tlv(_ID_AMOUNT, str(amount_vnd)))
    parts.append(_tlv(_ID_COUNTRY, COUNTRY_VN))
    if memo:
        parts.append(_tlv(_ID_ADDITIONAL_DATA, _tlv(_ID_PURPOSE, memo)))
    body = "".join(parts) + _ID_CRC + "04"
    return body + _crc_hex(body)


def _split_tlv(data: str, where: str) -> list[tuple[str, str]]:
    """Split ``data`` into (id, value) pairs; lengths count characters, as NAPAS apps do."""
    objects: list[tuple[str, str]] = []
    pos = 0
    while pos < len(data):
        header = data[pos : pos + 4]
        if len(header) < 4:
            raise VietQRError(f"{where}: truncated header at position {pos}")
        if not _DIGITS.fullmatch(header):
            raise VietQRError(f"{where}: non-digit id/length {header!r} at position {pos}")
        tag, length = header[:2], int(header[2:])
        if length == 0:
            raise VietQRError(f"{where}: tag {tag} has an empty value")
        end = pos + 4 + length
        if end > len(data):
            raise VietQRError(f"{where}: tag {tag} declares {length} characters, which overrun")
        objects.append((tag, data[pos + 4 : end]))
        pos = end
    return objects


def _template(data: str, where: str) -> dict[str, str]:
    objects = _split_tlv(data, where)
    result = dict(objects)
    if len(result) != len(objects):
        raise VietQRError(f"{where}: duplicate sub-tag")
    return result


def parse_payload(payload: str) -> VietQR:
    """Parse and check a VietQR transfer payload.

    Checks the CRC (over the UTF-8 bytes), the TLV structure at every level, the NAPAS GUID,
    the service code, currency VND and country VN. Unknown root tags (52, 59, 80...) and
    tag-62 sub-tags other than 08 are allowed and ignored.

    Raises VietQRError describing the first problem found.
    """
    if not isinstance(payload, str) or not payload:
        raise VietQRError("payload must be a non-empty string")

    objects = _split_tlv(payload, "root")
    tags = [tag for tag, _ in objects]
    for tag in _REQUIRED_ROOT_IDS:
        if tag not in tags:
            raise VietQRError(f"root: missing tag {tag}")
    # 63 is last whatever its number, because the CRC covers everything before it; tags 64-99
    # (e.g. 80 in MoMo codes) therefore sit before it. The others ascend, which puts 00 first.
    if tags[-1] != _ID_CRC:
        raise VietQRError("root: tag 63 (CRC) must be last")
    if any(a >= b for a, b in zip(tags[:-1], tags[1:-1], strict=False)):
        raise VietQRError(f"root: tags not in ascending order: {tags}")
    root = dict(objects)

    crc = root[_ID_CRC]
    if not _HEX4.fullmatch(crc):
        raise VietQRError(f"CRC must be 4 hex digits, got {crc!r}")
    expected = _crc_hex(payload[:-4])
    if crc.upper() != expected:
        raise VietQRError(f"CRC mismatch: payload says {crc}, computed {expected}")

    if root[_ID_PAYLOAD_FORMAT] != "01":
        raise VietQRError(f"tag 00 must be '01', got {root[_ID_PAYLOAD_FORMAT]!r}")
    point_of_initiation = root.get(_ID_POINT_OF_INITIATION)
    if point_of_initiation is not None and point_of_initiation not in (STATIC, DYNAMIC):
        raise VietQRError(f"tag 01 must be '11' or '12', got {point_of_initiation!r}")
    if root[_ID_CURRENCY] != CURRENCY_VND:
        raise VietQRError(f"tag 53 must be {CURRENCY_VND} (VND), got {root[_ID_CURRENCY]!r}")
    if root[_ID_COUNTRY] != COUNTRY_VN:
        raise VietQRError(f"tag 58 must be {COUNTRY_VN}, got {root[_ID_COUNTRY]!r}")

    merchant_account = _template(root[_ID_MERCHANT_ACCOUNT], "tag 38")
    if merchant_account.get("00") != NAPAS_GUID:
        raise VietQRError(f"tag 38.00 must be NAPAS GUID {NAPAS_GUID}")
    service = merchant_account.get("02")
    if service not in (SERVICE_TO_ACCOUNT, SERVICE_TO_CARD):
        raise VietQRError(f"tag 38.02 must be QRIBFTTA or QRIBFTTC, got {service!r}")
    if "01" not in merchant_account:
        raise VietQRError("tag 38.01 (beneficiary) is missing")
    beneficiary = _template(merchant_account["01"], "tag 38.01")
    # A known generator bug nests the service code in 38.01; apps disagree on reading it.
    if set(beneficiary) != {"00", "01"}:
        raise VietQRError(
            f"tag 38.01 must hold exactly sub-tags 00 and 01, got {sorted(beneficiary)}"
        )
    bin, account_number = beneficiary["00"], beneficiary["01"]
    _validate_bin(bin)
    _validate_account(account_number, to_card=service == SERVICE_TO_CARD)

    amount_vnd: int | None = None
    if _ID_AMOUNT in root:
        amount_text = root[_ID_AMOUNT]
        # VND has no minor unit: "50000.00" or "1,000" is not something we should guess at.
        if not _DIGITS.fullmatch(amount_text) or int(amount_text) == 0:
            raise VietQRError(
                f"tag 54 must be a positive whole number of dong, got {amount_text!r}"
            )
        amount_vnd = int(amount_text)

    memo: str | None = None
    if _ID_ADDITIONAL_DATA in root:
        memo = _template(root[_ID_ADDITIONAL_DATA], "tag 62").get(_ID_PURPOSE)

    return VietQR(
        bin=bin,
        account_number=account_number,
        service=service,
        amount_vnd=amount_vnd,
        memo=memo,
        point_of_initiation=point_of_initiation,
        crc=crc.upper(),
    )
