"""Bank notifications in: SePay and Casso webhooks.

Order of work for every request: parse strictly (400 if malformed), authenticate with the
receiving account's key or the deployment default (401), store the raw notification and
commit, then match and commit, then answer. A repeated delivery answers success and changes
nothing; a delivery whose worker died after storing is completed by the retry (or by the
match worker). With ``MATCH_IN_REQUEST`` off, the answer comes right after the store, and
``flask tuition match-worker`` matches.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, current_app, jsonify, request

from ..core import banks
from ..core import notifications as nt
from ..extensions import db
from ..services import payments, refusals, sql

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _error(status: int, exc: nt.NotificationError):
    db.session.rollback()
    return jsonify({"success": False, "message": exc.message_vi,
                    "message_en": exc.message_en}), status


#: An account the notification could not be authenticated for.
_REFUSED = object()


def _signed_for(raw: bytes, notification: nt.BankNotification, candidates, key_field: str,
                default_setting: str, verify):
    """Which receiving account signed this notification: the row, None (signed, but for an
    account number no school registered, or that cannot be told apart: kept for an admin),
    or ``_REFUSED``.

    An account's own key identifies it, so a school that registers another school's account
    number (at another bank) changes nothing for that school. The deployment-wide key
    authenticates only accounts an admin attached to it (and numbers nobody registered).
    """
    signed = own_key_signers(raw, candidates, key_field, verify)
    if not signed:
        default = current_app.config.get(default_setting)
        if not default or not verify(raw, [default]):
            return _REFUSED
        if not candidates:
            return None
        signed = [c for c in candidates if c.uses_deployment_key and not getattr(c, key_field)]
        if not signed:
            return _REFUSED
    if len(signed) == 1:
        return signed[0]
    # One key for several accounts with this number: the bank the notification names decides,
    # else nobody guesses.
    same_bank = [c for c in signed if banks.names_bank(c.bin, notification.bank_name)]
    return same_bank[0] if len(same_bank) == 1 else None


def own_key_signers(raw: bytes, candidates, key_field: str, verify) -> list:
    """The candidate accounts whose own webhook key signed this notification."""
    return [c for c in candidates
            if getattr(c, key_field) and verify(raw, [getattr(c, key_field)])]


_UNAUTHORISED = nt.AuthError("Xác thực webhook không hợp lệ.", "Webhook authentication failed.")


def _store_and_match(notification: nt.BankNotification, raw: bytes, account):
    try:
        return _store_and_match_unchecked(notification, raw, account)
    except payments.ConflictingNotification as exc:
        # Refused loudly (the aggregator shows a failed delivery) and kept for an admin;
        # the stored transaction is untouched.
        db.session.rollback()
        refusals.record(notification, raw, school_id=account.school_id if account else None,
                        stored_id=exc.stored_id, reason="conflicting_repeat",
                        details=", ".join(exc.differs))
        db.session.commit()
        return jsonify({"success": False, "message": exc.message_vi,
                        "message_en": exc.message_en}), 409


def _store_and_match_unchecked(notification: nt.BankNotification, raw: bytes, account):
    if not current_app.config["MATCH_IN_REQUEST"]:
        # Queue mode: success means "stored for good"; the match worker does the rest.
        payments.store(notification, raw, account=account)
        db.session.commit()
        return jsonify({"success": True}), 200
    # The store need not wait for the disk: nobody hears of it before the second commit
    # below, which is synchronous and writes WAL (it always locks the stored row, which logs
    # the lock), so its flush covers this commit's WAL record, written before it. If the
    # database crashes in between, the row may be lost, but then no answer was sent and the
    # provider retries. Either way a worker killed between the two commits leaves the row
    # committed and "received", and the retry matches it.
    sql.commit_without_waiting_for_disk()
    txn_id, _created = payments.store(notification, raw, account=account)
    db.session.commit()
    # Matching runs after the raw notification is safely stored; a retry finishes it.
    payments.process(txn_id)
    db.session.commit()
    return jsonify({"success": True}), 200


def _receive(provider: Provider):
    """Parse (400), authenticate with the account's key (401), then store and match."""
    raw = request.get_data(cache=False)
    try:
        notification = provider.parse(raw)
    except nt.NotificationError as exc:
        return _error(400, exc)
    # Looked up once: the keys tell which account it is, and store() records its id and school.
    candidates = payments.receiving_accounts(notification.account_number)

    def verify(body: bytes, keys: list[str]) -> bool:
        return provider.signed(body, keys, request.headers.get)

    account = _signed_for(raw, notification, candidates, provider.key_field,
                          provider.default_setting, verify)
    if account is _REFUSED:
        return _error(401, _UNAUTHORISED)
    return _store_and_match(notification, raw, account)


def sepay_signed(raw: bytes, keys: list[str], header: Callable[[str], str | None]) -> bool:
    """Signed by one of ``keys``: ``Authorization: Apikey`` or SePay's HMAC headers.
    ``header(name)`` reads a request header."""
    return nt.verify_sepay_apikey(header("Authorization"), keys) or nt.verify_sepay_hmac(
        raw, header("X-SePay-Timestamp"), header("X-SePay-Signature"), keys, now=time.time())


def casso_signed(raw: bytes, keys: list[str], header: Callable[[str], str | None]) -> bool:
    return nt.verify_casso_signature(raw, header("X-Casso-Signature"), keys,
                                     now_ms=int(time.time() * 1000))


@dataclass(frozen=True)
class Provider:
    """How one aggregator's notifications are read and authenticated."""

    parse: Callable[[bytes], nt.BankNotification]
    #: The receiving account's column holding its own key, and the deployment-wide setting.
    key_field: str
    default_setting: str
    #: ``signed(raw, keys, header)``: whether the request is signed by one of ``keys``.
    signed: Callable[[bytes, list[str], Callable[[str], str | None]], bool]


#: By the path under /webhooks/ (web/fast_webhooks.py serves the same paths).
PROVIDERS = {
    "sepay": Provider(nt.parse_sepay, "sepay_api_key", "SEPAY_API_KEY", sepay_signed),
    "casso": Provider(nt.parse_casso, "casso_checksum_key", "CASSO_CHECKSUM_KEY", casso_signed),
}


@bp.post("/sepay")
def sepay():
    return _receive(PROVIDERS["sepay"])


@bp.post("/casso")
def casso():
    return _receive(PROVIDERS["casso"])
