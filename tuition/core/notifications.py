"""Authenticate and parse bank-transfer notifications (SePay, Casso v2) into one shape.

Pure standard library: the web layer hands us the raw body and headers, we answer with a
:class:`BankNotification` or a :class:`NotificationError` carrying a Vietnamese and an English
message. Verification functions return ``bool`` and never raise, so a handler can answer 401
without caring why the request failed; parse functions raise, so it can answer 400 with a reason.

Decisions worth knowing:

* Money is integer dong. An amount sent as a float (even ``5000000.0``) or as a string of digits
  is refused rather than coerced: both providers document an integer, so anything else means the
  format changed under us, and a loud 400 (the provider retries, we get alerted) is safer than
  guessing at a payment.
* JSON is parsed strictly: UTF-8 only, no ``NaN``/``Infinity``, no duplicate keys (two ``amount``
  keys could be read differently by the signer and by us), bodies over :data:`MAX_BODY_BYTES`
  refused. An amount over :data:`~tuition.core.money.MAX_VND` or an id past 64 bits cannot be a
  real transfer and is refused too.
* Fields we only copy (memo, reference, payer, bank name) are tolerated when missing, and
  cleaned rather than refused when they carry what no database stores (NUL, a lone surrogate)
  or run past their column (:data:`FIELD_LIMITS`): refusing a real payment for its memo would
  lose the money once the provider gives up retrying. :attr:`BankNotification.cleaned` says
  which fields were cleaned; such a notification is stored with its raw body and waits for a
  person. A bank reference that needed cleaning is dropped (the raw body keeps it): cut or
  stripped, it could equal another transfer's, and equal references are one transfer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .money import MAX_VND, format_vnd

#: Real notifications are well under 2 KiB; anything far bigger is not one of them.
MAX_BODY_BYTES = 64 * 1024
#: The longest value kept of each copied field: its column in ``bank_transactions``. A longer
#: value is cut there (and the notification marked as cleaned); the raw body keeps it whole.
FIELD_LIMITS = {"account_number": 40, "bank_reference": 120, "payer_account": 40,
                "payer_name": 120, "bank_name": 80}
#: Provider ids are positive 64-bit integers.
MAX_TXN_ID = 2**63 - 1
_SURROGATE_RE = re.compile("[\ud800-\udfff]")

_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_HEX_RE = re.compile(r"[0-9a-fA-F]+")
_DIGITS_RE = re.compile(r"\d{1,20}")


@dataclass(frozen=True)
class BankNotification:
    """One movement on a school's bank account, whatever told us about it."""

    provider: str  #: 'sepay' | 'casso' | 'statement'
    provider_txn_id: str  #: the provider's id: the same on every retry, so the idempotency key
    account_number: str  #: the school's account the money moved on
    direction: str  #: 'in' | 'out'
    amount_vnd: int  #: always positive; the sign lives in ``direction``
    memo: str  #: the transfer content as the bank gave it ("" when none)
    bank_reference: str | None
    occurred_at: datetime  #: naive, Vietnam local time, exactly as the bank gave it
    payer_account: str | None
    payer_name: str | None
    bank_name: str | None
    #: The virtual account (tài khoản định danh) the money was sent to, if the bank or the
    #: aggregator gave one: SePay ``subAccount``, Casso ``virtualAccountNumber``. Upper-cased.
    virtual_account: str | None = None
    #: Fields (names above) whose text was cleaned: NUL or lone surrogates taken out, or cut
    #: to :data:`FIELD_LIMITS`. Not empty means: store it, and let a person look.
    cleaned: tuple[str, ...] = ()


class NotificationError(ValueError):
    """A body we cannot accept (answer 400). Carries a message for each audience."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


class AuthError(NotificationError):
    """Missing or wrong credentials (answer 401)."""


# --------------------------------------------------------------------------- strict JSON


def _reject_constant(name: str) -> Any:
    raise NotificationError(
        f"JSON không hợp lệ: không chấp nhận {name}",
        f"Invalid JSON: {name} is not allowed",
    )


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise NotificationError(
                f"JSON không hợp lệ: khóa '{key}' bị lặp",
                f"Invalid JSON: duplicate key '{key}'",
            )
        result[key] = value
    return result


def load_json_object(raw_body: bytes) -> dict[str, Any]:
    """Decode ``raw_body`` as a strict UTF-8 JSON object, or raise :class:`NotificationError`."""
    if not isinstance(raw_body, bytes | bytearray):
        raise TypeError("raw_body must be bytes")
    if len(raw_body) > MAX_BODY_BYTES:
        raise NotificationError(
            f"Nội dung yêu cầu quá lớn (tối đa {MAX_BODY_BYTES} byte)",
            f"Request body too large (at most {MAX_BODY_BYTES} bytes)",
        )
    try:
        text = bytes(raw_body).decode("utf-8")
    except UnicodeDecodeError:
        raise NotificationError(
            "Nội dung yêu cầu không phải UTF-8 hợp lệ",
            "Request body is not valid UTF-8",
        ) from None
    try:
        value = json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        raise NotificationError(
            f"Nội dung yêu cầu không phải JSON hợp lệ (vị trí {exc.pos})",
            f"Request body is not valid JSON (at position {exc.pos})",
        ) from None
    except ValueError:
        # A number of thousands of digits: Python refuses to convert it (int_max_str_digits).
        raise NotificationError(
            "JSON có số quá dài", "JSON holds a number with too many digits"
        ) from None
    except RecursionError:
        # A body of 60 000 "[" fits the size limit but blows the parser's stack.
        raise NotificationError(
            "JSON lồng nhau quá sâu", "JSON nested too deeply"
        ) from None
    if not isinstance(value, dict):
        raise NotificationError(
            "Nội dung yêu cầu phải là một đối tượng JSON",
            "Request body must be a JSON object",
        )
    return value


# --------------------------------------------------------------------------- field readers


def _missing(field: str) -> NotificationError:
    return NotificationError(f"Thiếu trường '{field}'", f"Missing field '{field}'")


def _check_text(field: str, value: str) -> str:
    """``value`` if it holds neither NUL nor a lone surrogate (for callers that refuse rather
    than clean: the SePay transaction list)."""
    if "\x00" in value or _SURROGATE_RE.search(value):
        raise NotificationError(
            f"Trường '{field}' chứa ký tự không hợp lệ",
            f"Field '{field}' contains invalid characters",
        )
    return value


class _Cleaning:
    """Copied text fields made storable, and which ones needed it."""

    def __init__(self) -> None:
        self.fields: list[str] = []

    def text(self, name: str, value: str) -> str:
        """``value`` without NUL and lone surrogates, cut to the field's column; ``name`` is
        the :class:`BankNotification` field, recorded when anything changed."""
        clean = _SURROGATE_RE.sub("\ufffd", value.replace("\x00", ""))
        limit = FIELD_LIMITS.get(name)
        if limit is not None and len(clean) > limit:
            clean = clean[:limit]
        if clean != value and name not in self.fields:
            self.fields.append(name)
        return clean


def _clean(field: str, name: str | None, value: str, cleaning: _Cleaning | None) -> str:
    """Cleaned as ``name`` by ``cleaning``, or without one refused when unstorable."""
    if cleaning is None or name is None:
        return _check_text(field, value)
    return cleaning.text(name, value)


def _required_text(obj: dict[str, Any], field: str, name: str | None = None,
                   cleaning: _Cleaning | None = None) -> str:
    value = obj.get(field)
    if value is None:
        raise _missing(field)
    text = _clean(field, name, value.strip(), cleaning) if isinstance(value, str) else ""
    if not text.strip():
        raise NotificationError(
            f"Trường '{field}' phải là chuỗi không rỗng",
            f"Field '{field}' must be a non-empty string",
        )
    return text.strip()


def _optional_text(obj: dict[str, Any], field: str, name: str | None = None,
                   cleaning: _Cleaning | None = None) -> str | None:
    """Return the stripped string, or None when missing, null or blank."""
    value = obj.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise NotificationError(
            f"Trường '{field}' phải là chuỗi", f"Field '{field}' must be a string"
        )
    value = _clean(field, name, value.strip(), cleaning).strip()
    return value or None


def _memo(obj: dict[str, Any], field: str, cleaning: _Cleaning | None = None) -> str:
    # The memo is kept exactly (no strip): matching normalises it later, and the raw text is
    # what a bookkeeper compares against the bank's own statement.
    value = obj.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise NotificationError(
            f"Trường '{field}' phải là chuỗi", f"Field '{field}' must be a string"
        )
    return _clean(field, "memo", value, cleaning)


def _reference(obj: dict[str, Any], field: str, cleaning: _Cleaning) -> str | None:
    """The bank's reference, or None when it had to be cleaned: two transfers are one when
    their references are equal, and a reference cut or stripped could equal another's. The
    raw body keeps it, and the notification waits for review."""
    reference = _optional_text(obj, field, "bank_reference", cleaning)
    return None if "bank_reference" in cleaning.fields else reference


#: Longest virtual account kept; real ones are bank account numbers (<= 19) or short codes.
MAX_VIRTUAL_ACCOUNT = 40


def _virtual_account(obj: dict[str, Any], field: str,
                     cleaning: _Cleaning | None = None) -> str | None:
    """A virtual account number, upper-cased, or None when missing or blank. One that cannot
    be a virtual account (too long, unprintable) is refused without ``cleaning``; with it, it
    is dropped and the notification waits for a person (the raw body keeps it)."""
    value = obj.get(field)
    if value is not None and not isinstance(value, str):
        # Types stay strict (a number would have lost its leading zeros): 400.
        raise NotificationError(f"Trường '{field}' phải là chuỗi",
                                f"Field '{field}' must be a string")
    if value is None or not value.strip():
        return None
    if len(value.strip()) > MAX_VIRTUAL_ACCOUNT or not value.strip().isprintable():
        if cleaning is None:
            raise NotificationError(
                f"Trường '{field}' không phải số tài khoản định danh hợp lệ",
                f"Field '{field}' is not a valid virtual account number",
            )
        cleaning.fields.append("virtual_account")
        return None
    return value.strip().upper()


def _integer(obj: dict[str, Any], field: str) -> int:
    value = obj.get(field)
    if value is None:
        raise _missing(field)
    # bool is an int subclass; float/str are refused even when they look whole (see module doc).
    if isinstance(value, bool) or not isinstance(value, int):
        raise NotificationError(
            f"Trường '{field}' phải là số nguyên", f"Field '{field}' must be an integer"
        )
    return value


def _txn_id(obj: dict[str, Any], field: str) -> str:
    value = _integer(obj, field)
    if value < 0:
        raise NotificationError(
            f"Trường '{field}' không được âm", f"Field '{field}' must not be negative"
        )
    if value > MAX_TXN_ID:
        raise NotificationError(
            f"Trường '{field}' quá lớn", f"Field '{field}' is too large"
        )
    return str(value)


def _bounded_amount(field: str, amount: int) -> int:
    """``amount`` unless it is more than any real transfer can be."""
    if abs(amount) > MAX_VND:
        raise NotificationError(
            f"Trường '{field}' quá lớn để là một giao dịch thật (tối đa {format_vnd(MAX_VND)} đ)",
            f"Field '{field}' is too large for a real transfer (at most {MAX_VND:,} VND)",
        )
    return amount


def _local_datetime(obj: dict[str, Any], field: str) -> datetime:
    value = obj.get(field)
    if value is None:
        raise _missing(field)
    # strptime alone would accept "2024-7-2 1:8:3"; the regex pins the documented shape.
    if isinstance(value, str) and _DATETIME_RE.fullmatch(value):
        try:
            return datetime.strptime(value, _DATETIME_FORMAT)
        except ValueError:
            pass
    raise NotificationError(
        f"Trường '{field}' phải có dạng YYYY-MM-DD HH:mm:ss",
        f"Field '{field}' must look like YYYY-MM-DD HH:mm:ss",
    )


# --------------------------------------------------------------------------- SePay


def parse_sepay(raw_body: bytes) -> BankNotification:
    """Parse a SePay bank-account webhook body.

    ``content`` is the memo; ``description`` (the bank's full line) is deliberately left out, it
    stays available in the stored raw payload.
    """
    body = load_json_object(raw_body)
    direction = body.get("transferType")
    if direction is None:
        raise _missing("transferType")
    if direction not in ("in", "out"):
        raise NotificationError(
            "Trường 'transferType' phải là 'in' hoặc 'out'",
            "Field 'transferType' must be 'in' or 'out'",
        )
    amount = _integer(body, "transferAmount")
    if amount <= 0:
        raise NotificationError(
            "Trường 'transferAmount' phải lớn hơn 0",
            "Field 'transferAmount' must be greater than 0",
        )
    cleaning = _Cleaning()
    return BankNotification(
        provider="sepay",
        provider_txn_id=_txn_id(body, "id"),
        account_number=_required_text(body, "accountNumber", "account_number", cleaning),
        direction=direction,
        amount_vnd=_bounded_amount("transferAmount", amount),
        memo=_memo(body, "content", cleaning),
        bank_reference=_reference(body, "referenceCode", cleaning),
        occurred_at=_local_datetime(body, "transactionDate"),
        payer_account=None,
        payer_name=None,
        bank_name=_optional_text(body, "gateway", "bank_name", cleaning),
        virtual_account=_virtual_account(body, "subAccount", cleaning),
        cleaned=tuple(cleaning.fields),
    )


def _usable_keys(keys: Iterable[str]) -> list[bytes]:
    # An empty configured key must never authenticate anything (e.g. an unset env var).
    return [key.encode("utf-8") for key in keys if isinstance(key, str) and key]


def verify_sepay_apikey(authorization_header: str | None, keys: Iterable[str]) -> bool:
    """Check ``Authorization: Apikey <key>`` against the configured keys in constant time."""
    if not authorization_header:
        return False
    scheme, _, presented = authorization_header.strip().partition(" ")
    presented = presented.strip()
    if scheme.lower() != "apikey" or not presented:
        return False
    candidate = presented.encode("utf-8")
    matched = False
    # Compare against every key (no early exit) so timing does not reveal which one matched.
    for key in _usable_keys(keys):
        matched |= hmac.compare_digest(candidate, key)
    return matched


def _parse_hex(value: str) -> bytes | None:
    if not _HEX_RE.fullmatch(value) or len(value) % 2:
        return None
    return bytes.fromhex(value)


def verify_sepay_hmac(
    raw_body: bytes,
    timestamp: str | None,
    signature: str | None,
    secrets: Iterable[str],
    now: float,
    tolerance_s: int = 300,
) -> bool:
    """Check ``X-SePay-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``.

    ``timestamp`` is ``X-SePay-Timestamp`` in Unix seconds; one further than ``tolerance_s`` from
    ``now`` (either way) is refused so a captured request cannot be replayed later.
    """
    if not timestamp or not signature:
        return False
    timestamp = timestamp.strip()
    if not _DIGITS_RE.fullmatch(timestamp) or abs(now - int(timestamp)) > tolerance_s:
        return False
    scheme, _, hex_part = signature.strip().partition("=")
    if scheme.strip().lower() != "sha256":
        return False
    presented = _parse_hex(hex_part.strip())
    if presented is None:
        return False
    message = timestamp.encode("ascii") + b"." + bytes(raw_body)
    matched = False
    for secret in _usable_keys(secrets):
        expected = hmac.new(secret, message, hashlib.sha256).digest()
        matched |= hmac.compare_digest(presented, expected)
    return matched


# --------------------------------------------------------------------------- Casso v2


def parse_casso(raw_body: bytes) -> BankNotification:
    """Parse a Casso webhook v2 body ``{"error": 0, "data": {...}}``.

    A negative ``amount`` is an outgoing transfer. Casso v1 bodies (``data`` is a list) are
    refused with a message telling the school to switch the integration to v2.
    """
    body = load_json_object(raw_body)
    error = body.get("error", 0)
    if isinstance(error, bool) or error != 0:
        raise NotificationError(
            "Casso báo lỗi trong thông báo ('error' khác 0)",
            "Casso reported an error in the notification ('error' is not 0)",
        )
    data = body.get("data")
    if data is None:
        raise _missing("data")
    if isinstance(data, list):
        raise NotificationError(
            "Đây là webhook Casso v1; hãy chuyển sang Webhook V2 trong Casso",
            "This is a Casso v1 webhook; switch the integration to Webhook V2 in Casso",
        )
    if not isinstance(data, dict):
        raise NotificationError(
            "Trường 'data' phải là một đối tượng", "Field 'data' must be an object"
        )
    amount = _integer(data, "amount")
    if amount == 0:
        raise NotificationError(
            "Trường 'amount' không được bằng 0", "Field 'amount' must not be 0"
        )
    cleaning = _Cleaning()
    return BankNotification(
        provider="casso",
        provider_txn_id=_txn_id(data, "id"),
        account_number=_required_text(data, "accountNumber", "account_number", cleaning),
        direction="in" if amount > 0 else "out",
        amount_vnd=abs(_bounded_amount("amount", amount)),
        memo=_memo(data, "description", cleaning),
        bank_reference=_reference(data, "reference", cleaning),
        occurred_at=_local_datetime(data, "transactionDateTime"),
        payer_account=_optional_text(data, "counterAccountNumber", "payer_account", cleaning),
        payer_name=_optional_text(data, "counterAccountName", "payer_name", cleaning),
        bank_name=_optional_text(data, "bankName", "bank_name", cleaning),
        virtual_account=_virtual_account(data, "virtualAccountNumber", cleaning),
        cleaned=tuple(cleaning.fields),
    )


def _sorted_recursively(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted_recursively(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_recursively(item) for item in value]
    return value


def casso_signing_strings(timestamp: str, body: dict[str, Any]) -> list[str]:
    """The strings Casso may have signed for ``body``, the likeliest first.

    Casso's published vector is pure ASCII, so it cannot say how non-ASCII text is serialised,
    and Casso's own samples disagree: JavaScript ``JSON.stringify`` keeps UTF-8 as is, their
    Python sample escapes it (``\\uXXXX``), their PHP sample escapes it and also writes ``/`` as
    ``\\/``. We accept any of the three; all are HMACs of the same parsed body, so this widens
    nothing an attacker without the key could use. For ASCII-only bodies they coincide.
    """
    ordered = _sorted_recursively(body)
    compact = (",", ":")
    candidates = [
        json.dumps(ordered, separators=compact, ensure_ascii=False),
        json.dumps(ordered, separators=compact, ensure_ascii=True),
    ]
    candidates.append(candidates[1].replace("/", "\\/"))
    unique = list(dict.fromkeys(candidates))
    return [f"{timestamp}.{text}" for text in unique]


def _parse_casso_header(header: str) -> tuple[str, list[bytes]] | None:
    timestamp: str | None = None
    signatures: list[bytes] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            return None
        value = value.strip()
        if name == "t":
            if timestamp is not None or not _DIGITS_RE.fullmatch(value):
                return None
            timestamp = value
        elif name == "v1":
            parsed = _parse_hex(value)
            if parsed is None:
                return None
            signatures.append(parsed)
        # Unknown parts (a future "v2=") are ignored, as with Stripe-style headers.
    if timestamp is None or not signatures:
        return None
    return timestamp, signatures


def verify_casso_signature(
    raw_body: bytes,
    header: str | None,
    checksum_keys: Iterable[str],
    now_ms: int,
    tolerance_ms: int = 5 * 60 * 1000,
) -> bool:
    """Check ``X-Casso-Signature: t=<ms>,v1=<hex>`` for a Casso webhook v2 body.

    ``v1`` is hex HMAC-SHA512(checksum key, ``t + "." + JSON``) where JSON is the whole body with
    keys sorted recursively and no spaces (see :func:`casso_signing_strings`). Casso signs a
    re-serialisation, not the raw bytes, so the body is parsed (strictly) first; a body that does
    not parse is treated as unauthenticated.
    """
    if not header:
        return False
    parsed_header = _parse_casso_header(header)
    if parsed_header is None:
        return False
    timestamp, presented = parsed_header
    if abs(now_ms - int(timestamp)) > tolerance_ms:
        return False
    try:
        body = load_json_object(raw_body)
    except NotificationError:
        return False
    keys = _usable_keys(checksum_keys)
    matched = False
    for message in casso_signing_strings(timestamp, body):
        try:
            message_bytes = message.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogate from a "\ud800" escape
            continue
        for key in keys:
            expected = hmac.new(key, message_bytes, hashlib.sha512).digest()
            for signature in presented:
                matched |= hmac.compare_digest(signature, expected)
    return matched
