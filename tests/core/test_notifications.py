"""Golden vectors and hostile bodies for tuition.core.notifications."""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tuition.core.money import MAX_VND
from tuition.core.notifications import (
    FIELD_LIMITS,
    MAX_BODY_BYTES,
    AuthError,
    BankNotification,
    NotificationError,
    casso_signing_strings,
    parse_casso,
    parse_sepay,
    verify_casso_signature,
    verify_sepay_apikey,
    verify_sepay_hmac,
)

WEBHOOKS = Path(__file__).resolve().parents[1] / "data" / "webhooks"


def load_vector(name: str) -> dict[str, Any]:
    return json.loads((WEBHOOKS / name).read_text(encoding="utf-8"))


def dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


@pytest.fixture
def sepay_body() -> dict[str, Any]:
    return load_vector("sepay_webhook.json")["body"]


@pytest.fixture
def casso_vector() -> dict[str, Any]:
    return load_vector("casso_v2_webhook.json")


def casso_sign(body: bytes | str, key: str, t: int) -> str:
    """Sign like Casso's JavaScript sample: sorted keys, compact, UTF-8 kept as is."""
    parsed = json.loads(body)
    message = casso_signing_strings(str(t), parsed)[0]
    digest = hmac.new(key.encode(), message.encode("utf-8"), hashlib.sha512).hexdigest()
    return f"t={t},v1={digest}"


# --------------------------------------------------------------------------- purity


def test_core_module_imports_only_the_standard_library() -> None:
    # Checked on the source rather than sys.modules: importing tuition.core runs the package's
    # __init__, which builds the Flask app factory and so imports flask regardless of this file.
    import tuition.core.notifications as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0] for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
    }
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


# --------------------------------------------------------------------------- SePay parse


def test_sepay_sample_parses_to_exact_values(sepay_body: dict[str, Any]) -> None:
    assert parse_sepay(dumps(sepay_body)) == BankNotification(
        provider="sepay",
        provider_txn_id="92704",
        account_number="1017588888",
        direction="in",
        amount_vnd=5_000_000,
        memo="SEVN63DC8E5C chuyen tien",
        bank_reference="FT24012345678",
        occurred_at=datetime(2024, 7, 2, 11, 8, 33),
        payer_account=None,
        payer_name=None,
        bank_name="Vietcombank",
    )


def test_sepay_legacy_sample_with_nulls_parses() -> None:
    body = load_vector("sepay_webhook_legacy_docs.json")["body"]
    notification = parse_sepay(dumps(body))
    assert notification.memo == "chuyen tien mua iphone"
    assert notification.bank_reference == "MBVCB.3278907687"
    assert notification.occurred_at == datetime(2023, 3, 25, 14, 2, 37)
    assert notification.occurred_at.tzinfo is None


def test_sepay_outgoing_transfer(sepay_body: dict[str, Any]) -> None:
    sepay_body["transferType"] = "out"
    notification = parse_sepay(dumps(sepay_body))
    assert (notification.direction, notification.amount_vnd) == ("out", 5_000_000)


@pytest.mark.parametrize("content", [None, ""])
def test_sepay_empty_memo_and_missing_reference(
    sepay_body: dict[str, Any], content: str | None
) -> None:
    sepay_body["content"] = content
    del sepay_body["referenceCode"]
    notification = parse_sepay(dumps(sepay_body))
    assert notification.memo == ""
    assert notification.bank_reference is None


def test_sepay_description_is_not_the_memo(sepay_body: dict[str, Any]) -> None:
    sepay_body["content"] = ""
    assert parse_sepay(dumps(sepay_body)).memo == ""


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        (lambda b: _without(b, "id"), "'id'"),
        (lambda b: _without(b, "transferAmount"), "'transferAmount'"),
        (lambda b: _without(b, "transferType"), "'transferType'"),
        (lambda b: _without(b, "accountNumber"), "'accountNumber'"),
        (lambda b: _without(b, "transactionDate"), "'transactionDate'"),
        (lambda b: {**b, "id": True}, "'id'"),
        (lambda b: {**b, "id": "92704"}, "'id'"),
        (lambda b: {**b, "id": -1}, "'id'"),
        (lambda b: {**b, "transferAmount": 5000000.0}, "'transferAmount'"),
        (lambda b: {**b, "transferAmount": 5000000.5}, "'transferAmount'"),
        (lambda b: {**b, "transferAmount": "5000000"}, "'transferAmount'"),
        (lambda b: {**b, "transferAmount": True}, "'transferAmount'"),
        (lambda b: {**b, "transferAmount": 0}, "'transferAmount'"),
        (lambda b: {**b, "transferAmount": -5}, "'transferAmount'"),
        (lambda b: {**b, "transferType": "credit"}, "'transferType'"),
        (lambda b: {**b, "accountNumber": "  "}, "'accountNumber'"),
        (lambda b: {**b, "accountNumber": 1017588888}, "'accountNumber'"),
        (lambda b: {**b, "transactionDate": "2024-7-2 11:08:33"}, "'transactionDate'"),
        (lambda b: {**b, "transactionDate": "2024-02-30 11:08:33"}, "'transactionDate'"),
        (lambda b: {**b, "transactionDate": "2024-07-02T11:08:33"}, "'transactionDate'"),
        (lambda b: {**b, "content": 123}, "'content'"),
        (lambda b: {**b, "referenceCode": ["FT1"]}, "'referenceCode'"),
        (lambda b: {**b, "transferAmount": 10**20}, "'transferAmount'"),
        (lambda b: {**b, "transferAmount": 2**63}, "'transferAmount'"),
        (lambda b: {**b, "transferAmount": MAX_VND + 1}, "'transferAmount'"),
        (lambda b: {**b, "id": 2**63}, "'id'"),
    ],
)
def test_sepay_bad_fields_are_rejected(
    sepay_body: dict[str, Any], change: Any, mentions: str
) -> None:
    with pytest.raises(NotificationError) as info:
        parse_sepay(dumps(change(sepay_body)))
    assert not isinstance(info.value, AuthError)
    assert mentions in info.value.message_en
    assert mentions in info.value.message_vi
    assert info.value.message_vi != info.value.message_en


BAD_BODIES = [
    pytest.param(b"", id="empty"),
    pytest.param(b"not json", id="not-json"),
    pytest.param(b"[1, 2]", id="array"),
    pytest.param(b'"text"', id="string"),
    pytest.param(b"null", id="null"),
    pytest.param(b'{"id": NaN}', id="nan"),
    pytest.param(b'{"transferAmount": Infinity}', id="infinity"),
    pytest.param(b'{"id": 1, "id": 2}', id="duplicate-key"),
    pytest.param(b'{"content": "\xff\xfe"}', id="invalid-utf8"),
    pytest.param(b"\xef\xbb\xbf{}", id="utf8-bom"),
    pytest.param(b"[" * 30_000 + b"]" * 30_000, id="deep-nesting"),
    pytest.param(b'{"transferAmount": ' + b"9" * 5000 + b"}", id="5000-digits"),
    pytest.param(
        b'{"content": "' + b"x" * MAX_BODY_BYTES + b'"}', id="huge"
    ),
]


@pytest.mark.parametrize("raw", BAD_BODIES)
@pytest.mark.parametrize("parse", [parse_sepay, parse_casso])
def test_malformed_bodies_raise_bilingual_errors(raw: bytes, parse: Any) -> None:
    with pytest.raises(NotificationError) as info:
        parse(raw)
    assert info.value.message_vi and info.value.message_en
    assert str(info.value) == info.value.message_en


@pytest.mark.parametrize(
    ("field", "value", "stored", "name"),
    [
        ("content", "HP LQ7K2\x00 con An", "HP LQ7K2 con An", "memo"),
        ("content", "HP LQ7K2 \ud83d con An", "HP LQ7K2 \ufffd con An", "memo"),
        # A reference that needed cleaning could equal another transfer's: not kept as one.
        ("referenceCode", "FT\x0026\udfff", None, "bank_reference"),
        ("referenceCode", "R" * 500, None, "bank_reference"),
        ("gateway", "V" * 300, "V" * FIELD_LIMITS["bank_name"], "bank_name"),
        ("accountNumber", "0011001234567" + "9" * 300,
         ("0011001234567" + "9" * 300)[:FIELD_LIMITS["account_number"]], "account_number"),
    ],
)
def test_sepay_unstorable_copied_text_is_cleaned_not_refused(
    sepay_body: dict[str, Any], field: str, value: str, stored: str, name: str
) -> None:
    # JSON escapes carry the NUL and the lone surrogate, as a provider would send them.
    raw = json.dumps({**sepay_body, field: value}).encode()
    notification = parse_sepay(raw)
    assert getattr(notification, name) == stored
    assert notification.cleaned == (name,)
    assert notification.amount_vnd == sepay_body["transferAmount"]


def test_clean_notifications_say_nothing_was_cleaned(sepay_body: dict[str, Any]) -> None:
    assert parse_sepay(dumps(sepay_body)).cleaned == ()


def test_casso_unstorable_copied_text_is_cleaned(casso_vector: dict[str, Any]) -> None:
    body = casso_vector["body"]
    data = {**body["data"], "description": "HP\x00 LQ", "counterAccountName": "A\ud800" * 100,
            "counterAccountNumber": "1" * 60}
    notification = parse_casso(json.dumps({**body, "data": data}).encode())
    assert notification.memo == "HP LQ"
    assert notification.payer_name == ("A\ufffd" * 100)[:FIELD_LIMITS["payer_name"]]
    assert notification.payer_account == "1" * FIELD_LIMITS["payer_account"]
    assert set(notification.cleaned) == {"memo", "payer_name", "payer_account"}


def test_field_limits_are_the_columns() -> None:
    from tuition.models import BankTransaction

    for name, limit in FIELD_LIMITS.items():
        assert BankTransaction.__table__.c[name].type.length == limit, name


def test_body_just_under_the_limit_is_read(sepay_body: dict[str, Any]) -> None:
    raw = dumps(sepay_body)
    padded = raw[:-1] + b" " * (MAX_BODY_BYTES - len(raw)) + b"}"
    assert len(padded) == MAX_BODY_BYTES
    assert parse_sepay(padded).provider_txn_id == "92704"


# --------------------------------------------------------------------------- SePay auth


@pytest.mark.parametrize(
    "header", ["Apikey s3cret", "apikey s3cret", "APIKEY   s3cret ", " Apikey s3cret"]
)
def test_sepay_apikey_accepts_configured_key(header: str) -> None:
    assert verify_sepay_apikey(header, ["other", "s3cret"])


@pytest.mark.parametrize(
    ("header", "keys"),
    [
        (None, ["s3cret"]),
        ("", ["s3cret"]),
        ("Apikey", ["s3cret"]),
        ("Apikey ", [""]),
        ("Apikey s3cre", ["s3cret"]),
        ("Apikey s3cret2", ["s3cret"]),
        ("Bearer s3cret", ["s3cret"]),
        ("s3cret", ["s3cret"]),
        ("Apikey s3cret", []),
        ("Apikey s3cret", [""]),
        ("Apikey khóa", ["khoa"]),
    ],
)
def test_sepay_apikey_rejects(header: str | None, keys: list[str]) -> None:
    assert not verify_sepay_apikey(header, keys)


@pytest.fixture
def sepay_hmac() -> dict[str, Any]:
    return load_vector("sepay_hmac_selftest_vector.json")


def _hmac_args(vector: dict[str, Any]) -> dict[str, Any]:
    return {
        "raw_body": vector["raw_body"].encode("utf-8"),
        "timestamp": vector["headers"]["X-SePay-Timestamp"],
        "signature": vector["headers"]["X-SePay-Signature"],
        "secrets": [vector["secret"]],
        "now": float(vector["headers"]["X-SePay-Timestamp"]),
    }


def test_sepay_hmac_vector_verifies(sepay_hmac: dict[str, Any]) -> None:
    signed = sepay_hmac["headers"]["X-SePay-Timestamp"] + "." + sepay_hmac["raw_body"]
    assert signed == sepay_hmac["signed_string"]
    assert verify_sepay_hmac(**_hmac_args(sepay_hmac))
    # A rotated-out secret listed first must not prevent the current one from matching.
    assert verify_sepay_hmac(**{**_hmac_args(sepay_hmac), "secrets": ["old", sepay_hmac["secret"]]})
    # The signed body is the webhook body: it parses like any other.
    assert parse_sepay(sepay_hmac["raw_body"].encode()).amount_vnd == 5_000_000


def test_sepay_hmac_within_tolerance(sepay_hmac: dict[str, Any]) -> None:
    args = _hmac_args(sepay_hmac)
    assert verify_sepay_hmac(**{**args, "now": args["now"] + 300})
    assert verify_sepay_hmac(**{**args, "now": args["now"] - 300})


def _flip_one_byte(raw: bytes) -> bytes:
    position = raw.index(b"5000000")
    return raw[:position] + b"6" + raw[position + 1:]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda a: {**a, "raw_body": _flip_one_byte(a["raw_body"])}, id="body-byte"),
        pytest.param(lambda a: {**a, "raw_body": a["raw_body"] + b" "}, id="body-extra-space"),
        pytest.param(lambda a: {**a, "secrets": ["wrong-secret"]}, id="wrong-key"),
        pytest.param(lambda a: {**a, "secrets": [""]}, id="empty-key"),
        pytest.param(lambda a: {**a, "secrets": []}, id="no-keys"),
        pytest.param(lambda a: {**a, "now": a["now"] + 301}, id="stale"),
        pytest.param(lambda a: {**a, "now": a["now"] - 301}, id="from-future"),
        pytest.param(lambda a: {**a, "timestamp": None}, id="missing-timestamp"),
        pytest.param(lambda a: {**a, "signature": None}, id="missing-signature"),
        pytest.param(lambda a: {**a, "timestamp": "1720000001"}, id="other-timestamp"),
        pytest.param(lambda a: {**a, "timestamp": "1.72e9"}, id="timestamp-not-digits"),
        pytest.param(
            lambda a: {**a, "signature": a["signature"].removeprefix("sha256=")}, id="no-scheme"
        ),
        pytest.param(
            lambda a: {**a, "signature": a["signature"].replace("sha256", "sha512")},
            id="other-scheme",
        ),
        pytest.param(lambda a: {**a, "signature": "sha256=zz"}, id="not-hex"),
    ],
)
def test_sepay_hmac_rejects(sepay_hmac: dict[str, Any], change: Any) -> None:
    assert not verify_sepay_hmac(**change(_hmac_args(sepay_hmac)))


# --------------------------------------------------------------------------- Casso


def _casso_raw(vector: dict[str, Any]) -> bytes:
    # Key order and spacing differ from the signed string on purpose: Casso signs a canonical
    # re-serialisation, so any faithful encoding of the same body must verify.
    return json.dumps(vector["body"], indent=1).encode("utf-8")


def _casso_t(vector: dict[str, Any]) -> int:
    return int(vector["headers"]["X-Casso-Signature"].split(",")[0].removeprefix("t="))


def test_casso_signing_string_matches_published_vector_byte_for_byte(
    casso_vector: dict[str, Any],
) -> None:
    t = str(_casso_t(casso_vector))
    assert casso_signing_strings(t, casso_vector["body"])[0] == casso_vector["signed_string"]


def test_casso_published_vector_verifies(casso_vector: dict[str, Any]) -> None:
    assert verify_casso_signature(
        _casso_raw(casso_vector),
        casso_vector["headers"]["X-Casso-Signature"],
        ["old-key", casso_vector["checksum_key"]],
        now_ms=_casso_t(casso_vector),
    )


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda a: {**a, "raw_body": a["raw_body"].replace(b"599000", b"599001")},
            id="body-byte",
        ),
        pytest.param(lambda a: {**a, "checksum_keys": ["wrong"]}, id="wrong-key"),
        pytest.param(lambda a: {**a, "checksum_keys": [""]}, id="empty-key"),
        pytest.param(lambda a: {**a, "now_ms": a["now_ms"] + 5 * 60 * 1000 + 1}, id="stale"),
        pytest.param(lambda a: {**a, "now_ms": a["now_ms"] - 5 * 60 * 1000 - 1}, id="future"),
        pytest.param(lambda a: {**a, "header": None}, id="missing-header"),
        pytest.param(lambda a: {**a, "header": ""}, id="empty-header"),
        pytest.param(lambda a: {**a, "header": a["header"].split(",")[1]}, id="no-t"),
        pytest.param(lambda a: {**a, "header": a["header"].split(",")[0]}, id="no-v1"),
        pytest.param(
            lambda a: {**a, "header": a["header"].replace("t=1727948258788", "t=1727948258789")},
            id="other-t",
        ),
        pytest.param(lambda a: {**a, "raw_body": b"not json"}, id="not-json"),
        pytest.param(
            lambda a: {**a, "raw_body": a["raw_body"][:-1] + b', "error": 0}'},
            id="duplicate-key",
        ),
    ],
)
def test_casso_signature_rejects(casso_vector: dict[str, Any], change: Any) -> None:
    args = {
        "raw_body": _casso_raw(casso_vector),
        "header": casso_vector["headers"]["X-Casso-Signature"],
        "checksum_keys": [casso_vector["checksum_key"]],
        "now_ms": _casso_t(casso_vector),
    }
    assert not verify_casso_signature(**change(args))


def test_casso_non_ascii_body_verifies_in_every_sample_encoding() -> None:
    """Casso's samples disagree on escaping non-ASCII and "/"; each variant must verify."""
    key, t = "k", 1_727_948_258_788
    body = {"error": 0, "data": {"counterAccountName": "NGUYỄN VĂN A", "description": "HP 1/2"}}
    raw = dumps(body)
    for message in casso_signing_strings(str(t), body):
        digest = hmac.new(key.encode(), message.encode(), hashlib.sha512).hexdigest()
        assert verify_casso_signature(raw, f"t={t},v1={digest}", [key], now_ms=t)
    messages = casso_signing_strings(str(t), body)
    assert len(messages) == 3
    assert "NGUYỄN" in messages[0] and "\\u1ec4" in messages[1] and "\\/" in messages[2]


def test_casso_vector_parses(casso_vector: dict[str, Any]) -> None:
    assert parse_casso(_casso_raw(casso_vector)) == BankNotification(
        provider="casso",
        provider_txn_id="0",
        account_number="88888888",
        direction="in",
        amount_vnd=599_000,
        memo="giao dich thu nghiem",
        bank_reference="MA_GIAO_DICH_THU_NGHIEM",
        occurred_at=datetime(2024, 10, 3, 15, 6, 37),
        payer_account="8888888888",
        payer_name="NGUYEN VAN A",
        bank_name="VPBank",
    )


def test_casso_outgoing_negative_amount(casso_vector: dict[str, Any]) -> None:
    body = casso_vector["body"]
    body["data"].update(amount=-150_000, counterAccountName="", counterAccountNumber="")
    notification = parse_casso(dumps(body))
    assert (notification.direction, notification.amount_vnd) == ("out", 150_000)
    assert notification.payer_account is None and notification.payer_name is None


def test_casso_signed_outgoing_body_round_trip(casso_vector: dict[str, Any]) -> None:
    body = casso_vector["body"]
    body["data"]["amount"] = -1_000
    raw = dumps(body)
    header = casso_sign(raw, "key", 1_700_000_000_000)
    assert verify_casso_signature(raw, header, ["key"], now_ms=1_700_000_000_000)
    assert parse_casso(raw).direction == "out"


def _data_change(**fields: Any) -> Any:
    def change(body: dict[str, Any]) -> dict[str, Any]:
        data = {**body["data"], **fields}
        return {**body, "data": {k: v for k, v in data.items() if v is not _DROP}}

    return change


_DROP = object()


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        (lambda b: {**b, "data": [b["data"]]}, "v1"),
        (lambda b: {**b, "data": "x"}, "'data'"),
        (lambda b: {"error": 0}, "'data'"),
        (lambda b: {**b, "error": 1}, "'error'"),
        (_data_change(amount=599000.0), "'amount'"),
        (_data_change(amount="599000"), "'amount'"),
        (_data_change(amount=0), "'amount'"),
        (_data_change(amount=_DROP), "'amount'"),
        (_data_change(id=False), "'id'"),
        (_data_change(id=_DROP), "'id'"),
        (_data_change(accountNumber=""), "'accountNumber'"),
        (_data_change(transactionDateTime="03/10/2024 15:06:37"), "'transactionDateTime'"),
    ],
)
def test_casso_bad_bodies_rejected(
    casso_vector: dict[str, Any], change: Any, mentions: str
) -> None:
    with pytest.raises(NotificationError) as info:
        parse_casso(dumps(change(casso_vector["body"])))
    assert mentions in info.value.message_en and mentions in info.value.message_vi


def test_casso_v1_sample_is_refused_with_advice() -> None:
    body = load_vector("casso_v1_webhook.json")["body"]
    with pytest.raises(NotificationError) as info:
        parse_casso(dumps(body))
    assert "V2" in info.value.message_vi and "V2" in info.value.message_en
