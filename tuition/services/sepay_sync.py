"""The pull backstop: fetch recent transactions from SePay's user API and ingest what the
webhook missed (a delivery SePay gave up on, an outage on our side, a key rotated too early).

API used (v1, https://developer.sepay.vn/en/sepay-api/v1/api-giao-dich):
``GET {base}/userapi/transactions/list`` with ``Authorization: Bearer <API token>`` and the
query ``account_number``, ``transaction_date_min`` / ``transaction_date_max`` (inclusive,
``YYYY-MM-DD HH:MM:SS``), ``limit`` (at most 5000). The answer is
``{"status": 200, "error": null, "messages": {"success": true}, "transactions": [...]}`` where
ids and amounts are *strings* (``"id": "49682"``, ``"amount_in": "18067000.00"``). The v1 list
has no page or cursor: it returns the most recent ``limit`` rows. When a window is fuller than
``limit`` we step back by lowering ``transaction_date_max`` to the oldest row seen (the
boundary second is fetched twice and de-duplicated by id).

A transaction seen by the webhook and by this sync is one row: both use provider ``sepay`` and
SePay's transaction id, and the bank's reference number is the second unique key (it also
catches the same transfer delivered through Casso or a statement upload).

Tokens: an account's own ``sepay_api_token`` wins; otherwise the deployment-wide
``TUITION_SEPAY_API_TOKEN`` is used for every account (one SePay company holding all schools'
accounts, the same fallback as the webhook keys). Accounts with neither are not synced. Rows
that name another account than the one asked for are rejected: a token must never be able to
create transactions on an account it was not asked about.

Like every service here this flushes and never commits; the CLI commits after each account.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from sqlalchemy import select

from ..core import clock
from ..core.notifications import (
    BankNotification,
    NotificationError,
    _bounded_amount,
    _local_datetime,
    _memo,
    _optional_text,
    _required_text,
)
from ..extensions import db
from ..models import BankAccount
from . import payments, reconciliation, refusals

log = logging.getLogger(__name__)

#: The documented maximum (and default) of ``limit`` on the v1 transaction list.
PAGE_LIMIT = 5000
#: Stop stepping back after this many requests for one account: a backstop, not an export.
MAX_PAGES = 20
#: SePay allows 3 requests a second and answers 429 with a retry-after header in seconds.
MAX_RATE_LIMIT_RETRIES = 2
MAX_RETRY_AFTER_SECONDS = 10.0
LIST_PATH = "/userapi/transactions/list"

_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_ID_RE = re.compile(r"\d{1,20}")
#: "2277000.00": whole dong with an optional all-zero fraction; no signs, no separators.
_AMOUNT_RE = re.compile(r"(\d{1,15})(?:\.(\d{1,6}))?")
#: Column widths of ``bank_transactions``: a longer value would fail the insert on PostgreSQL.
_MAX_LENGTHS = {"account_number": 40, "reference_number": 120, "bank_brand_name": 80,
                "sub_account": 40}


class SyncError(Exception):
    """SePay could not be asked (network, HTTP error, unexpected answer) for one account."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


@dataclass
class SyncResult:
    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    #: One line per row that could not be read, in Vietnamese, naming SePay's id.
    rejected: list[str] = field(default_factory=list)
    #: Reconciliation: notified transfers of the window that SePay's list shows / does not.
    confirmed: int = 0
    unconfirmed: list[int] = field(default_factory=list)


# --------------------------------------------------------------------------- parsing


def _sepay_id(item: dict[str, Any]) -> str:
    value = item.get("id")
    if value is None:
        raise NotificationError("Thiếu trường 'id'", "Missing field 'id'")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and _ID_RE.fullmatch(value.strip()):
        # str(int(...)) so that "0049" and the webhook's integer 49 are the same key.
        return str(int(value.strip()))
    raise NotificationError(
        "Trường 'id' phải là số nguyên không âm", "Field 'id' must be a non-negative integer"
    )


def _amount(item: dict[str, Any], name: str) -> int:
    """Whole dong from ``"18067000.00"`` (or an integer); never through float."""
    value = item.get(name)
    if value is None:
        raise NotificationError(f"Thiếu trường '{name}'", f"Missing field '{name}'")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return _bounded_amount(name, value)
    match = _AMOUNT_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or (match.group(2) or "0").strip("0"):
        raise NotificationError(
            f"Trường '{name}' phải là số tiền nguyên đồng (nhận được {value!r})",
            f"Field '{name}' must be a whole number of dong (got {value!r})",
        )
    return _bounded_amount(name, int(match.group(1)))


def _bounded(name: str, value: str | None) -> str | None:
    limit = _MAX_LENGTHS[name]
    if value is not None and len(value) > limit:
        raise NotificationError(
            f"Trường '{name}' dài quá {limit} ký tự", f"Field '{name}' is longer than {limit}"
        )
    return value


def parse_transaction(item: dict) -> BankNotification:
    """Read one row of SePay's transaction list, strictly, into a :class:`BankNotification`.

    The direction comes from which of ``amount_in`` / ``amount_out`` is positive; a row with
    both or neither is refused, as is any fraction of a dong.
    """
    if not isinstance(item, dict):
        raise NotificationError("Giao dịch phải là một đối tượng JSON",
                                "A transaction must be a JSON object")
    txn_id = _sepay_id(item)
    amount_in, amount_out = _amount(item, "amount_in"), _amount(item, "amount_out")
    if (amount_in > 0) == (amount_out > 0):
        raise NotificationError(
            "Đúng một trong hai trường 'amount_in', 'amount_out' phải lớn hơn 0",
            "Exactly one of 'amount_in' and 'amount_out' must be greater than 0",
        )
    return BankNotification(
        provider="sepay",
        provider_txn_id=txn_id,
        account_number=_bounded("account_number", _required_text(item, "account_number")),
        direction="in" if amount_in else "out",
        amount_vnd=amount_in or amount_out,
        memo=_memo(item, "transaction_content"),
        bank_reference=_bounded("reference_number", _optional_text(item, "reference_number")),
        occurred_at=_local_datetime(item, "transaction_date"),
        payer_account=None,
        payer_name=None,
        bank_name=_bounded("bank_brand_name", _optional_text(item, "bank_brand_name")),
        virtual_account=(_bounded("sub_account", _optional_text(item, "sub_account")) or "").upper()
        or None,
    )


# --------------------------------------------------------------------------- fetching


def _get_json(session: requests.Session, url: str, token: str, params: dict[str, Any],
              timeout: float) -> dict[str, Any]:
    for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
        try:
            response = session.get(
                url, params=params, timeout=timeout, allow_redirects=False,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )
        except requests.Timeout:
            raise SyncError(f"SePay không phản hồi trong {timeout:g} giây.",
                            f"SePay did not answer within {timeout:g} s.") from None
        except requests.ConnectionError:
            raise SyncError(f"Không kết nối được tới SePay ({url}).",
                            f"Could not connect to SePay ({url}).") from None
        except requests.RequestException as exc:
            raise SyncError("Lỗi khi gọi SePay.",
                            f"Request to SePay failed: {type(exc).__name__}") from None
        if response.status_code != 429 or attempt == MAX_RATE_LIMIT_RETRIES:
            break
        time.sleep(_retry_after(response))
    return _decode(response)


def _retry_after(response: requests.Response) -> float:
    value = (response.headers.get("x-sepay-userapi-retry-after")
             or response.headers.get("Retry-After") or "1")
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_SECONDS)
    except ValueError:
        return 1.0


def _decode(response: requests.Response) -> dict[str, Any]:
    status = response.status_code
    try:
        body = json.loads(response.content.decode("utf-8"))
    except ValueError:  # also UnicodeDecodeError
        body = None
    if status in (401, 403):
        raise SyncError(
            f"SePay từ chối API token (HTTP {status}): token sai hoặc đã bị thu hồi.",
            f"SePay refused the API token (HTTP {status}).",
        )
    if status == 429:
        raise SyncError("SePay giới hạn số lần gọi (HTTP 429); hãy chạy lại sau.",
                        "SePay rate limit hit (HTTP 429); try again later.")
    if status != 200:
        detail = body.get("error") if isinstance(body, dict) else None
        detail = f": {str(detail)[:200]}" if detail else ""
        raise SyncError(f"SePay trả lỗi HTTP {status}{detail}.",
                        f"SePay answered HTTP {status}{detail}.")
    if not isinstance(body, dict):
        raise SyncError("SePay trả về nội dung không phải JSON.",
                        "SePay answered with something that is not a JSON object.")
    if body.get("status") not in (None, 200) or body.get("error"):
        detail = str(body.get("error") or body.get("status"))[:200]
        raise SyncError(f"SePay báo lỗi: {detail}.", f"SePay reported an error: {detail}.")
    transactions = body.get("transactions")
    if not isinstance(transactions, list):
        raise SyncError("Phản hồi của SePay thiếu danh sách 'transactions'.",
                        "SePay's answer has no 'transactions' list.")
    return body


def _row_key(item: Any) -> str:
    if isinstance(item, dict) and isinstance(item.get("id"), str | int):
        return f"id:{item['id']}"
    return "raw:" + json.dumps(item, sort_keys=True, ensure_ascii=False)


def fetch_transactions(session: requests.Session, base_url: str, token: str,
                       account_number: str, since: datetime, *, limit: int = PAGE_LIMIT,
                       timeout: float = 15) -> list[dict]:
    """Every row SePay lists for ``account_number`` from ``since`` (Vietnam local time) on.

    Rows come back as received (not validated: :func:`parse_transaction` judges each one, so
    one bad row cannot hide the others). Raises :class:`SyncError` when SePay cannot be asked.
    """
    url = base_url.rstrip("/") + LIST_PATH
    params: dict[str, Any] = {
        "account_number": account_number,
        "transaction_date_min": since.strftime(_DATETIME_FORMAT),
        "limit": limit,
    }
    rows: dict[str, Any] = {}
    for _page in range(MAX_PAGES):
        batch = _get_json(session, url, token, params, timeout)["transactions"]
        for item in batch:
            rows.setdefault(_row_key(item), item)
        if len(batch) < limit:
            return list(rows.values())
        # A full page: the window may hold more. Step back to the oldest second seen.
        dates = [item["transaction_date"] for item in batch
                 if isinstance(item, dict) and isinstance(item.get("transaction_date"), str)
                 and _DATETIME_RE.fullmatch(item["transaction_date"])]
        oldest = min(dates, default=None)
        if oldest is None or oldest == params.get("transaction_date_max"):
            raise SyncError(
                f"Có ít nhất {limit} giao dịch trong cùng một giây; không thể lấy hết.",
                f"At least {limit} transactions share one second; cannot page further.",
            )
        params["transaction_date_max"] = oldest
    raise SyncError(
        f"Quá nhiều giao dịch (hơn {MAX_PAGES} trang); hãy rút ngắn khoảng thời gian.",
        f"Too many transactions (over {MAX_PAGES} pages); use a shorter lookback.",
    )


# --------------------------------------------------------------------------- ingesting


def sync_account(account: BankAccount, *, session: requests.Session, base_url: str,
                 since: datetime, token: str | None = None) -> SyncResult:
    """Fetch one account's recent transactions and store and match those not yet stored.

    ``token`` defaults to the account's own. Each row is recorded then processed exactly like
    a webhook delivery; a row already stored (by id or bank reference) counts as a duplicate
    and is only processed if its processing never finished.
    """
    token = token or account.sepay_api_token
    if not token:
        raise SyncError("Tài khoản chưa có API token SePay.",
                        "The account has no SePay API token.")
    items = fetch_transactions(session, base_url, token, account.account_number, since)
    listed_until = clock.now_vn().replace(tzinfo=None)
    result = SyncResult(fetched=len(items))
    listing = reconciliation.Listing(account.id, since, listed_until, {"sepay": set()})
    for item in items:
        label = item.get("id") if isinstance(item, dict) else None
        try:
            notification = parse_transaction(item)
            if notification.account_number.strip().upper() != account.account_number:
                raise NotificationError(
                    f"Giao dịch thuộc tài khoản khác ({notification.account_number})",
                    f"The row is for another account ({notification.account_number})",
                )
        except NotificationError as exc:
            result.rejected.append(f"Giao dịch SePay {label}: {exc.message_vi}")
            log.warning("sepay sync: account %s: rejected row %s: %s",
                        account.account_number, label, exc.message_en)
            continue
        raw = json.dumps(item, ensure_ascii=False)
        try:
            txn, created = payments.record(notification, raw, account=account)
        except payments.ConflictingNotification as exc:
            # Nothing was written (the insert found the key taken): keep it for an admin.
            refusals.record(notification, raw, school_id=account.school_id,
                            stored_id=exc.stored_id, reason="conflicting_repeat",
                            details=", ".join(exc.differs))
            result.rejected.append(f"Giao dịch SePay {label}: {exc.message_vi}")
            log.warning("sepay sync: account %s: row %s contradicts payment %s (%s)",
                        account.account_number, label, exc.stored_id, exc.differs)
            continue
        payments.process(txn.id)
        listing.provider_ids["sepay"].add(notification.provider_txn_id)
        listing.transaction_ids.add(txn.id)
        if notification.bank_reference:
            listing.references.add((notification.bank_reference, notification.amount_vnd,
                                    notification.direction))
        if created:
            result.new += 1
        else:
            result.duplicates += 1
    db.session.flush()
    if not result.rejected:
        # A list with unreadable rows might be hiding a transfer: judge nothing on it.
        checked = reconciliation.check(listing, source="sepay_api")
        result.confirmed, result.unconfirmed = checked.confirmed, checked.unconfirmed
    log.info("sepay sync: account %s: fetched %d, new %d, duplicates %d, rejected %d",
             account.account_number, result.fetched, result.new, result.duplicates,
             len(result.rejected))
    return result


def accounts_to_sync(*, deployment_token: str | None,
                     school_id: int | None = None) -> list[tuple[BankAccount, str]]:
    """Each account with the token to use: its own, else the deployment-wide one."""
    query = select(BankAccount).order_by(BankAccount.school_id, BankAccount.id)
    if school_id is not None:
        query = query.where(BankAccount.school_id == school_id)
    pairs = [(account, account.sepay_api_token or deployment_token)
             for account in db.session.scalars(query)]
    return [(account, token) for account, token in pairs if token]


def iter_sync(*, session: requests.Session, base_url: str, since: datetime,
              deployment_token: str | None = None,
              school_id: int | None = None) -> Iterator[tuple[BankAccount, SyncResult | SyncError]]:
    """Sync account after account, yielding each outcome; the caller may commit in between."""
    for account, token in accounts_to_sync(deployment_token=deployment_token,
                                           school_id=school_id):
        try:
            outcome: SyncResult | SyncError = sync_account(
                account, session=session, base_url=base_url, since=since, token=token)
        except SyncError as exc:
            log.warning("sepay sync: account %s failed: %s", account.account_number,
                        exc.message_en)
            outcome = exc
        yield account, outcome


def sync_all(*, session: requests.Session, base_url: str, since: datetime,
             deployment_token: str | None = None,
             school_id: int | None = None) -> list[tuple[BankAccount, SyncResult | SyncError]]:
    """Sync every account that has a token (see the module doc); flushes, never commits."""
    return list(iter_sync(session=session, base_url=base_url, since=since,
                          deployment_token=deployment_token, school_id=school_id))
