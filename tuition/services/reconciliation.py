"""Reconciliation: every booked notification checked against the bank's own list.

A webhook says money arrived; the aggregator's transaction API (SePay's, fetched by the pull
backstop) or the bank statement the accountant uploads says what the bank really booked. A
notified transfer that the list for its period does not show is flagged "unconfirmed": the
dashboard shows it and its receipts are marked for review (the verification page says the
school is checking it). A later list that shows it confirms it and clears the marks.

Transfers notified in the last ``SETTLING_TIME`` are not judged yet: the bank's list may lag.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from ..core import clock
from ..extensions import db
from ..models import Allocation, BankTransaction, Receipt, User
from . import audit
from .access import require_read

#: How long the bank's list may take to show a transfer that was notified.
SETTLING_TIME = timedelta(minutes=30)
#: Notified by these providers (pushed to us); statement lines and cash are the list itself.
NOTIFIED = ("sepay", "casso")
UNCONFIRMED_RECEIPT = "unconfirmed_by_bank"


@dataclass
class Listing:
    """What a bank list shows for one account between ``start`` and ``end`` (Vietnam local
    time, as transactions' ``occurred_at``)."""

    account_id: int
    start: datetime
    end: datetime
    #: Provider ids the list names, per provider (SePay's API lists SePay ids).
    provider_ids: dict[str, set[str]] = field(default_factory=dict)
    #: (bank reference, amount, direction) of every line: ties any channel's row to it.
    references: set[tuple[str, int, str]] = field(default_factory=set)
    #: Stored transaction ids the list itself produced or matched (statement lines).
    transaction_ids: set[int] = field(default_factory=set)


@dataclass
class CheckResult:
    confirmed: int = 0
    unconfirmed: list[int] = field(default_factory=list)


def check(listing: Listing, *, source: str, actor: User | None = None) -> CheckResult:
    """Confirm or flag the notified incoming transactions of the listing's account and window.

    ``source`` names the list ("sepay_api", "statement") in the audit log. Flushes.
    """
    end = min(listing.end, clock.now_vn().replace(tzinfo=None) - SETTLING_TIME)
    if end <= listing.start:
        return CheckResult()
    rows = db.session.execute(
        select(BankTransaction.id, BankTransaction.provider, BankTransaction.provider_txn_id,
               BankTransaction.bank_reference, BankTransaction.amount_vnd,
               BankTransaction.direction, BankTransaction.bank_check,
               BankTransaction.school_id)
        .where(BankTransaction.bank_account_id == listing.account_id,
               BankTransaction.provider.in_(NOTIFIED),
               BankTransaction.direction == "in",
               BankTransaction.occurred_at >= listing.start,
               BankTransaction.occurred_at <= end)
    ).all()
    confirmed, unconfirmed = [], []
    for row in rows:
        listed = (row.id in listing.transaction_ids
                  or row.provider_txn_id in listing.provider_ids.get(row.provider, ())
                  or (row.bank_reference is not None and (
                      row.bank_reference, row.amount_vnd, row.direction) in listing.references))
        (confirmed if listed else unconfirmed).append(row)
    now = clock.now_utc()
    _mark([r.id for r in confirmed], "confirmed", now)
    newly = [r for r in unconfirmed if r.bank_check != "unconfirmed"]
    _mark([r.id for r in unconfirmed], "unconfirmed", now)
    for row in newly:
        audit.record(actor, row.school_id, "payment.unconfirmed", f"payment:{row.id}",
                     source=source, amount_vnd=row.amount_vnd)
    return CheckResult(confirmed=len(confirmed), unconfirmed=[r.id for r in unconfirmed])


def _mark(ids: list[int], state: str, now: datetime) -> None:
    if not ids:
        return
    for chunk in _chunks(ids, 500):
        db.session.execute(update(BankTransaction).where(BankTransaction.id.in_(chunk))
                           .values(bank_check=state, bank_checked_at=now))
        # The receipts of the money follow: marked while it is in doubt, cleared once the
        # bank shows it.
        allocation_ids = select(Allocation.id).where(Allocation.transaction_id.in_(chunk))
        db.session.execute(
            update(Receipt).where(Receipt.allocation_id.in_(allocation_ids))
            .values(review_reason=UNCONFIRMED_RECEIPT if state == "unconfirmed" else None)
            .execution_options(synchronize_session=False))


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def unconfirmed(actor: User, school) -> list[BankTransaction]:
    """The school's transfers that the bank's list did not show, newest first."""
    require_read(actor, school)
    return list(db.session.scalars(
        select(BankTransaction).where(BankTransaction.school_id == school.id,
                                      BankTransaction.bank_check == "unconfirmed")
        .order_by(BankTransaction.occurred_at.desc()).limit(200)))


def unconfirmed_count(school_id: int) -> int:
    return db.session.scalar(select(func.count(BankTransaction.id)).where(
        BankTransaction.school_id == school_id, BankTransaction.bank_check == "unconfirmed"))
