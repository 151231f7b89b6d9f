"""Money in: storing bank notifications, matching them to invoices, and the accountant's
corrections (assign, split, reverse, set aside).

Rules that hold everywhere here:

* a notification is stored (with its raw body) and committed before it is interpreted;
  repeats of it — webhook retries, the pull backstop, a statement upload — are the same row;
* allocations are append-only; a reversal is a new, opposite allocation;
* invoice rows are locked (``FOR UPDATE``, in id order) before their balance is read, so two
  transfers for one invoice at the same moment leave it exact;
* nothing is assigned by guess: without a valid code of this school, money waits for review.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable
from datetime import UTC, timedelta

from flask import current_app
from sqlalchemy import Row, and_, bindparam, exists, func, literal_column, or_, select

from ..core import clock, matching
from ..core.invoice_state import transition
from ..core.memo import find_codes, same_transfer_memo
from ..core.money import MAX_VND, format_vnd, too_large
from ..core.notifications import BankNotification
from ..extensions import db
from ..models import (
    Allocation,
    BankAccount,
    BankTransaction,
    Invoice,
    School,
    Student,
    User,
)
from . import audit, cash_deposits, credits, receipts, refunds, sql, virtual_accounts
from .access import require_manage
from .errors import Conflict, Forbidden, Invalid, not_found
from .inputs import require_reason
from .suggestions import suggestions_for

#: Statuses whose unallocated money waits for a person.
REVIEW = "review"

_STATUS_OF_DECISION = {
    "paid": "matched",
    "overpaid": "matched",
    "split": "matched",
    "partial": "partial",
    "review": REVIEW,
    "credit_review": REVIEW,
    "no_code": REVIEW,
}


def account_for(account_number: str) -> BankAccount | None:
    """The receiving account a notification names (notifications are routed by it).

    Notifications carry the account number but not reliably the bank: if two banks' accounts
    share the number, the notification is routed nowhere (kept for an admin to review) rather
    than possibly to the wrong school.
    """
    number = account_number.strip().upper()
    found = db.session.scalars(
        select(BankAccount).where(BankAccount.account_number == number).limit(2)
    ).all()
    return found[0] if len(found) == 1 else None


def receiving_accounts(account_number: str) -> tuple[Row, ...]:
    """The accounts a notification may be for, by the number it names: ``id``, ``school_id``,
    ``bin``, the webhook keys and ``uses_deployment_key``, as plain rows (usually one).

    Which one it is for is decided by who signed it (see web/webhooks.py): an account number
    another school also registered can never take over this school's notifications.

    Rows rather than :class:`BankAccount` objects: the webhook commits between authenticating
    and matching, and a commit expires ORM objects, so using one afterwards would load it
    again. With ``ACCOUNT_CACHE_SECONDS`` set, rows are kept that long in this process (a
    changed key then takes effect in the other workers within that time).
    """
    number = account_number.strip().upper()
    ttl = current_app.config.get("ACCOUNT_CACHE_SECONDS") or 0
    if ttl:
        hit = _account_cache.get(number)
        if hit and hit[0] > time.monotonic():
            return hit[1]
    rows = accounts_by_number(db.session.connection(), number)
    if ttl:
        _account_cache[number] = (time.monotonic() + ttl, rows)
    return rows


def accounts_by_number(connection, number: str) -> tuple[Row, ...]:
    """:func:`receiving_accounts` read now on ``connection``, for a normalised ``number``."""
    # Core: this runs on every notification, and the ORM layer would add about a millisecond
    # of Python per call for nothing.
    return tuple(connection.execute(_ACCOUNTS_BY_NUMBER, {"number": number}).all())


#: Receiving accounts by number, with when each entry expires (see ACCOUNT_CACHE_SECONDS).
_account_cache: dict[str, tuple[float, tuple[Row, ...]]] = {}


def forget_accounts() -> None:
    """Drop this process's cached accounts (after an account or its keys change)."""
    _account_cache.clear()


_ACCOUNTS_BY_NUMBER = (
    select(BankAccount.id, BankAccount.school_id, BankAccount.bin,
           BankAccount.sepay_api_key, BankAccount.casso_checksum_key,
           BankAccount.uses_deployment_key)
    .where(BankAccount.account_number == bindparam("number"))
    .order_by(BankAccount.id)
    .limit(10)
)


_LOOK_UP = object()


_STORED_COLUMNS = (
    "provider", "provider_txn_id", "school_id", "bank_account_id", "account_number",
    "direction", "amount_vnd", "memo", "bank_reference", "occurred_at", "payer_account",
    "payer_name", "bank_name", "raw", "status", "virtual_account", "status_reason")


@functools.cache
def _store_statement(dialect: str, key_field: str | None = None):
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id, built once per engine kind (building it
    per notification costs more Python than running it).

    With ``key_field``, INSERT ... SELECT ... WHERE the receiving account still has the key
    ``:signing_key`` in that column, its school and its number ``:number``: for a caller that
    authenticated with an account read earlier (web/fast_webhooks.py keeps them), so that a
    key changed meanwhile is never honoured.
    """
    table = BankTransaction.__table__
    values = {**{name: bindparam(name, type_=table.c[name].type) for name in _STORED_COLUMNS},
              "received_at": func.now()}
    insert = sql.insert_for(dialect, table)
    if key_field is None:
        insert = insert.values(values)
    else:
        accounts = BankAccount.__table__
        still = exists().where(
            accounts.c.id == bindparam("bank_account_id"),
            accounts.c.school_id == bindparam("school_id"),
            accounts.c.account_number == bindparam("number"),
            accounts.c[key_field] == bindparam("signing_key", type_=accounts.c[key_field].type))
        insert = insert.from_select(list(values), select(*values.values()).where(still))
    # Any unique key may conflict: the provider's id, or the bank's reference.
    return insert.on_conflict_do_nothing().returning(table.c.id)


def insert_new(connection, notification: BankNotification, raw: str | bytes,
               account, *, signed_with: tuple[str, str] | None = None) -> int | None:
    """INSERT the notification on ``connection`` unless a unique key says it is stored;
    return the new row's id, or None for a repeat (nothing written). Does not commit.

    ``account``: the receiving account (anything with ``id`` and ``school_id``) or None.
    ``signed_with``: (key column, key) that authenticated it, if ``account`` may be out of
    date: then nothing is written (None) unless the account still has that key, school and
    number.
    """
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    values = {
        "provider": notification.provider,
        "provider_txn_id": notification.provider_txn_id,
        "school_id": account.school_id if account else None,
        "bank_account_id": account.id if account else None,
        "account_number": notification.account_number,
        "direction": notification.direction,
        "amount_vnd": notification.amount_vnd,
        "memo": notification.memo or "",
        "bank_reference": notification.bank_reference,
        "occurred_at": notification.occurred_at,
        "payer_account": notification.payer_account,
        "payer_name": notification.payer_name,
        "bank_name": notification.bank_name,
        "raw": raw,
        # Text that had to be cleaned to be stored: a person compares it with the raw body.
        "status": REVIEW if notification.cleaned else "received",
        "status_reason": "cleaned_input" if notification.cleaned else None,
        "virtual_account": notification.virtual_account,
    }
    if signed_with is None:
        return connection.execute(_store_statement(connection.dialect.name), values).scalar()
    key_field, key = signed_with
    values.update(signing_key=key, number=notification.account_number.strip().upper())
    return connection.execute(_store_statement(connection.dialect.name, key_field),
                              values).scalar()


def store(notification: BankNotification, raw: str | bytes, *,
          account=_LOOK_UP) -> tuple[int, bool]:
    """Store a notification unless it is already stored; return its id and whether it is new.

    Safe under concurrency: the unique (provider, receiving account, provider_txn_id) key
    decides, so several workers delivering the same notification at once store one row.
    ``account`` is the receiving account (anything with ``id`` and ``school_id``; None when
    unknown) if the caller has already looked it up.

    A repeat must say what the stored one says: the same key (or bank reference) with another
    amount, direction or receiving account raises :class:`ConflictingNotification` and stores
    nothing; the caller refuses it loudly and keeps it for an admin (services/refusals.py).
    A notification whose text had to be cleaned to be stored (``notification.cleaned``) is
    stored straight into review, reason ``cleaned_input``.
    """
    if account is _LOOK_UP:
        account = account_for(notification.account_number)
    new_id = insert_new(db.session.connection(), notification, raw, account)
    if new_id is not None:
        return new_id, True
    table = BankTransaction.__table__
    same = ((table.c.provider == notification.provider)
            & (table.c.account_number == notification.account_number)
            & (table.c.provider_txn_id == notification.provider_txn_id))
    if notification.bank_reference:
        same = same | (
            (table.c.account_number == notification.account_number)
            & (table.c.direction == notification.direction)
            & (table.c.bank_reference == notification.bank_reference)
        )
    stored = db.session.execute(
        select(table.c.id, table.c.amount_vnd, table.c.direction, table.c.bank_account_id)
        .where(same).order_by(table.c.id).limit(1)).one()
    differs = [name for name, theirs, ours in (
        ("amount_vnd", stored.amount_vnd, notification.amount_vnd),
        ("direction", stored.direction, notification.direction),
        ("bank_account_id", stored.bank_account_id, account.id if account else None),
    ) if theirs != ours]
    if differs:
        raise ConflictingNotification(stored.id, differs)
    return stored.id, False


class ConflictingNotification(Conflict):
    """A notification repeating a stored one's id or bank reference but not its content."""

    def __init__(self, stored_id: int, differs: list[str]) -> None:
        super().__init__(
            "Mã giao dịch này đã được ghi nhận với nội dung khác (số tiền, chiều hoặc tài "
            "khoản); thông báo bị từ chối và được lưu lại để quản trị viên kiểm tra.",
            "This transaction id was already recorded with different content (amount, "
            "direction or account); the notification is refused and kept for an admin.",
            conflicts_with=stored_id, differs=differs)
        self.stored_id = stored_id
        self.differs = differs


def record(notification: BankNotification, raw: str | bytes, *,
           account=_LOOK_UP) -> tuple[BankTransaction, bool]:
    """Store a notification unless it is already stored; return it and whether it is new.

    Like :func:`store`, which the webhooks use directly, but hands back the transaction.
    """
    txn_id, created = store(notification, raw, account=account)
    return db.session.get(BankTransaction, txn_id), created


def process(transaction_id: int) -> BankTransaction:
    """Match a stored transaction if nobody has yet; a no-op for one already processed.

    The row lock makes this exactly-once: a retry after a worker died mid-way finds the row
    still ``received`` and completes it; a concurrent duplicate waits and then sees it done.
    """
    # populate_existing: the caller may hold this row already loaded (unlocked, e.g. by reading
    # txn.id after a commit); without it the locked read would keep that stale status. The
    # school's payment prefix comes along (it never changes) instead of loading the school.
    txn, prefix, twin_id = db.session.execute(_LOCK_FOR_MATCHING, {"id": transaction_id}).one()
    if txn.status != "received":
        return txn
    made: list[tuple[Allocation, Invoice]] = []
    credited = None
    if txn.direction == "out":
        txn.status, txn.status_reason = "ignored", "outgoing"
        refunds.recognise_outgoing(txn)
    elif txn.school_id is None:
        txn.status, txn.status_reason = REVIEW, "unknown_account"
    elif twin_id is not None and _seen_through_another_channel(txn):
        pass
    else:
        made, credited = _route(txn, prefix)
    db.session.flush()
    # A transaction still "received" has no allocations (matching commits them together with
    # its new status), so the invoice allocations just made are all that need receipts.
    receipts.issue_new(txn, made)
    if credited is not None and txn.status in credits.CONFIRMED:
        credits.settle([credited])
    return txn


def _route(txn: BankTransaction, prefix: str | None = None
           ) -> tuple[list[tuple[Allocation, Invoice]], int | None]:
    """Book money that came into a known school's account: by the virtual account it was
    sent to, else by the codes in its memo; a memo with no code may be the school's own cash
    coming back from the bank (see cash_deposits)."""
    if txn.virtual_account:
        if prefix is None:
            prefix = db.session.scalar(select(School.payment_prefix).where(
                School.id == txn.school_id))
        return virtual_accounts.allocate(txn, prefix)
    made, credited = _match(txn, prefix)
    if txn.status_reason == "no_known_code":
        cash_deposits.recognise(txn)
    return made, credited


def _settle_credit_of(txn: BankTransaction, actor: User | None = None) -> None:
    """Credit this transaction gave a student pays their open invoices, once confirmed
    (money still waiting for a person is never spent)."""
    if txn.status not in credits.CONFIRMED:
        return
    students = {a.student_id for a in txn.allocations if a.kind == "credit" and a.amount_vnd > 0}
    if students:
        credits.settle(students, actor=actor)


_NOTIFIED = ("sepay", "casso")


def _twin_condition(txn, other):
    """``other`` may be ``txn`` seen through another channel: same account, direction, amount
    and day, one of the two a statement line without the bank's reference and the other an
    aggregator's notification (lines with a reference are tied by it, see the unique index)."""
    return or_(_statement_twin(txn, other), _notified_twin(txn, other))


def _same_transfer(txn, other):
    return and_(
        other.c.account_number == txn.account_number, other.c.direction == txn.direction,
        other.c.amount_vnd == txn.amount_vnd, other.c.id != txn.id,
        other.c.status != "duplicate",
        func.date(other.c.occurred_at) == func.date(txn.occurred_at))


def _statement_twin(txn, other):
    """``txn`` is a notification and ``other`` a statement line without a reference. Written
    out on its own (not inside an OR) so that the partial index of such lines serves it: one
    account receives the same amount from many parents, and the general index would visit
    every one of their transfers."""
    # The provider written into the SQL, not bound: a prepared statement's generic plan can
    # use a partial index only if its condition is there to read.
    return and_(other.c.provider == literal_column("'statement'"),
                other.c.bank_reference.is_(None), txn.provider.in_(_NOTIFIED),
                _same_transfer(txn, other))


def _notified_twin(txn, other):
    """``txn`` is a statement line without a reference and ``other`` a notification."""
    return and_(txn.provider == "statement", txn.bank_reference.is_(None),
                other.c.provider.in_(_NOTIFIED), _same_transfer(txn, other))


def first_twin(txn):
    """The first transaction that may be ``txn`` seen through another channel, as a scalar
    subquery (NULL if none). ``txn`` is one or the other kind, so at most one half finds it."""
    return func.coalesce(
        select(func.min(_TWIN.c.id)).where(_statement_twin(txn, _TWIN)).scalar_subquery(),
        select(func.min(_TWIN.c.id)).where(_notified_twin(txn, _TWIN)).scalar_subquery())


_TWIN = BankTransaction.__table__.alias("twin")


def _seen_through_another_channel(txn: BankTransaction) -> bool:
    """One transfer, one payment: a transfer already recorded through another channel is not
    booked again. With the same memo it is that transfer (status ``duplicate``: its money is
    the other row's, counted once); with another memo it probably is, and waits for a person
    (never credited twice by guess). Returns whether ``txn`` was dealt with so."""
    twins = db.session.execute(
        select(_TWIN.c.id, _TWIN.c.memo).where(_twin_condition(BankTransaction, _TWIN),
                                               BankTransaction.id == txn.id)
        .order_by(_TWIN.c.id)).all()
    if not twins:
        return False
    same = next((twin for twin in twins if same_transfer_memo(twin.memo, txn.memo)), None)
    if same is not None:
        txn.status, txn.status_reason, txn.duplicate_of_id = "duplicate", "same_transfer", same.id
    else:
        txn.status, txn.status_reason = REVIEW, "possible_duplicate"
        txn.duplicate_of_id = twins[0].id
    return True


def mark_duplicate(actor: User, txn: BankTransaction, *, of: int, reason: str
                   ) -> BankTransaction:
    """The accountant confirms that a transfer in review is one already recorded (e.g. through
    the bank statement): it is kept, marked, and its money counted once."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Cần ghi lý do.", "A reason is required.", field="reason")
    txn = _lock(txn)
    original = db.session.get(BankTransaction, of) if isinstance(of, int) else None
    if original is None or original.school_id != txn.school_id or original.id == txn.id \
            or original.status == "duplicate":
        raise Invalid("Giao dịch gốc không hợp lệ.", "Not a valid original transaction.",
                      field="of")
    if txn.status != REVIEW or txn.allocations or original.amount_vnd != txn.amount_vnd \
            or original.direction != txn.direction:
        raise Conflict("Chỉ đánh dấu trùng được giao dịch đang chờ xử lý, chưa gán, cùng số "
                       "tiền với giao dịch gốc.",
                       "Only an unassigned payment in review with the same amount as the "
                       "original can be marked as its duplicate.")
    txn.status, txn.status_reason, txn.duplicate_of_id = "duplicate", "marked_duplicate", \
        original.id
    audit.record(actor, txn.school_id, "payment.duplicate", f"payment:{txn.id}",
                 of=original.id, reason=reason)
    db.session.flush()
    return txn


# Built once, like the other statements every notification runs: building them per call
# costs more Python than running them.
_LOCK_FOR_MATCHING = (
    select(BankTransaction, School.payment_prefix, first_twin(BankTransaction))
    .outerjoin(School, School.id == BankTransaction.school_id)
    .where(BankTransaction.id == bindparam("id"))
    .with_for_update(of=BankTransaction)
    .execution_options(populate_existing=True)
)


def claim_pending() -> int | None:
    """Lock the oldest stored-but-unmatched transaction that nobody else is working on.

    ``SKIP LOCKED`` lets several match workers share the queue on PostgreSQL; the lock lasts
    until the caller commits, after :func:`process`. On SQLite the same request takes the
    database's write lock (see :func:`sql.guard_sqlite_row_locks`), so workers take turns.
    """
    return db.session.scalar(_CLAIM_PENDING)


_CLAIM_PENDING = (
    select(BankTransaction.id).where(BankTransaction.status == "received")
    .order_by(BankTransaction.id).limit(1).with_for_update(skip_locked=True)
)


#: Stored notifications waiting longer than this for matching mean the match workers are
#: behind or not running (queue mode); staff pages and the match-queue API say so.
MATCH_QUEUE_LATE = timedelta(minutes=5)


def match_queue(school_id: int | None = None) -> dict:
    """Stored notifications not matched yet (all schools, or one): how many, and how long the
    oldest has waited. In queue mode this is the match workers' backlog."""
    table = BankTransaction.__table__
    query = select(func.count(), func.min(table.c.received_at)).where(
        table.c.status == "received")
    if school_id is not None:
        query = query.where(table.c.school_id == school_id)
    waiting, oldest = db.session.execute(query).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite gives it back naive (UTC)
        oldest = oldest.replace(tzinfo=UTC)
    age = clock.now_utc() - oldest if oldest else timedelta(0)
    return {"waiting": waiting, "oldest_received_at": oldest,
            "oldest_waiting_seconds": int(age.total_seconds()),
            "late": age > MATCH_QUEUE_LATE}


#: How many times a match worker tries one notification before handing it to a person.
MATCH_ATTEMPTS = 3


def hand_over_unmatchable(transaction_id: int, error: str) -> bool:
    """Matching a stored notification failed every time: put it in the review queue.

    So that one notification the matcher cannot handle never holds up the queue behind it; the
    money stays unallocated (awaiting review) and the error goes to the audit log. Returns
    whether it was handed over (False if meanwhile someone matched it).
    """
    txn = db.session.scalar(
        select(BankTransaction).where(BankTransaction.id == transaction_id).with_for_update()
        .execution_options(populate_existing=True))
    if txn is None or txn.status != "received":
        return False
    txn.status, txn.status_reason = REVIEW, "match_failed"
    audit.record(None, txn.school_id, "payment.match_failed", f"payment:{txn.id}",
                 error=error[:500])
    db.session.flush()
    return True


def _locked_invoices(ids: Iterable[int]) -> list[Invoice]:
    """Lock invoices for a change of what is paid on them: their students first, then the
    invoices, each in id order (see :data:`_LOCK_STUDENTS_OF_INVOICES`)."""
    ids = sorted(set(ids))
    if not ids:
        return []
    db.session.execute(_LOCK_STUDENTS_OF_INVOICES, {"invoice_ids": ids})
    # Id order: two transactions locking the same invoices never deadlock. populate_existing:
    # invoices already loaded unlocked must take the balance read under the lock.
    return list(db.session.scalars(
        select(Invoice).where(Invoice.id.in_(ids)).order_by(Invoice.id).with_for_update()
        .execution_options(populate_existing=True)
    ))


def _match(txn: BankTransaction, prefix: str | None = None
           ) -> tuple[list[tuple[Allocation, Invoice]], int | None]:
    """Allocate by the codes in the memo; return the allocations made to invoices and the
    student credited with a surplus, if any."""
    if prefix is None:
        prefix = db.session.scalar(select(School.payment_prefix).where(
            School.id == txn.school_id))
    codes = find_codes(txn.memo, [prefix])
    # Found and locked in one statement, in id order (two transactions locking the same
    # invoices never deadlock); PostgreSQL reads each row again once it holds its lock.
    # populate_existing: invoices already loaded unlocked must take the balance read under
    # the lock.
    invoices = {}
    if codes:
        key = {"school_id": txn.school_id, "codes": codes}
        db.session.execute(_LOCK_STUDENTS_BY_INVOICE_CODE, key)
        invoices = {inv.code: inv for inv in db.session.scalars(_LOCK_INVOICES_BY_CODE, key)}
    named = [invoices[code] for code in codes if code in invoices]
    decision = matching.decide(
        [matching.OpenInvoice(inv.code, inv.balance_vnd, inv.status) for inv in named],
        txn.amount_vnd,
    )
    made = []
    for code, amount in decision.allocations:
        invoice = invoices[code]
        made.append((allocate_to_invoice(txn, invoice, amount, actor=None,
                                          reason=decision.reason_vi or decision.reason),
                     invoice))
    credited = None
    if decision.credit_vnd:
        credited = named[0].student_id
        allocate_credit(txn, credited, decision.credit_vnd, actor=None,
                        reason=decision.reason_vi or decision.reason)
    txn.status = _STATUS_OF_DECISION[decision.kind]
    txn.status_reason = decision.reason
    return made, credited


#: Lock order, everywhere money moves: the transaction, then the students concerned, then
#: their invoices, each set in id order. Students come before invoices because spending a
#: student's credit (credits.settle) locks the student and then all their open invoices; a
#: payment that locked one invoice and then waited for the student could deadlock with it.
_LOCK_STUDENTS_BY_INVOICE_CODE = (
    select(Student.id)
    .where(Student.id.in_(
        select(Invoice.student_id).where(
            Invoice.school_id == bindparam("school_id"),
            Invoice.code.in_(bindparam("codes", expanding=True)))))
    .order_by(Student.id).with_for_update()
)
_LOCK_STUDENTS_OF_INVOICES = (
    select(Student.id)
    .where(Student.id.in_(
        select(Invoice.student_id).where(
            Invoice.id.in_(bindparam("invoice_ids", expanding=True)))))
    .order_by(Student.id).with_for_update()
)
_LOCK_INVOICES_BY_CODE = (
    select(Invoice)
    .where(Invoice.school_id == bindparam("school_id"),
           Invoice.code.in_(bindparam("codes", expanding=True)))
    .order_by(Invoice.id).with_for_update()
    .execution_options(populate_existing=True)
)


def allocate_to_invoice(txn, invoice: Invoice, amount: int, *, actor, reason: str,
                         reverses: Allocation | None = None) -> Allocation:
    """Book ``amount`` (negative to take back) on a locked invoice and keep paid_vnd in step."""
    allocation = Allocation(
        transaction=txn, kind="invoice", invoice_id=invoice.id, amount_vnd=amount,
        created_by_id=actor.id if actor else None, reason=reason,
        reverses_id=reverses.id if reverses else None,
    )
    db.session.add(allocation)
    invoice.paid_vnd += amount
    invoice.status = transition(invoice.status, "payment_changed",
                                total_vnd=invoice.total_vnd, paid_vnd=invoice.paid_vnd)
    return allocation


def allocate_credit(txn, student_id: int, amount: int, *, actor, reason: str,
                     reverses: Allocation | None = None) -> Allocation:
    allocation = Allocation(
        transaction=txn, kind="credit", student_id=student_id, amount_vnd=amount,
        created_by_id=actor.id if actor else None, reason=reason,
        reverses_id=reverses.id if reverses else None,
    )
    db.session.add(allocation)
    return allocation


def allocated_vnd(txn: BankTransaction) -> int:
    return sum(a.amount_vnd for a in txn.allocations)


def unallocated_vnd(txn: BankTransaction) -> int:
    if txn.direction == "out":
        return 0
    return txn.amount_vnd - allocated_vnd(txn)


def student_credit_vnd(student_id: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(Allocation.amount_vnd), 0)).where(
            Allocation.kind == "credit", Allocation.student_id == student_id)
    )


def _settle_status(txn: BankTransaction) -> None:
    """After a person's change: fully placed money is matched (or credited), else review."""
    if unallocated_vnd(txn) > 0:
        txn.status = REVIEW
        return
    kinds = {a.kind for a in txn.allocations if a.amount_vnd > 0 and not _reversed(a, txn)}
    txn.status = "credited" if kinds == {"credit"} else "matched"


def _reversed(allocation: Allocation, txn: BankTransaction) -> bool:
    return any(a.reverses_id == allocation.id for a in txn.allocations)


def get_transaction(actor: User, transaction_id: int, *, manage: bool = False):
    txn = db.session.get(BankTransaction, transaction_id)
    if txn is None or (txn.school_id is None and actor.role != "admin") or (
        txn.school_id is not None and not actor.can_read(txn.school_id)
    ):
        raise not_found("giao dịch", "Payment")
    if manage and txn.school_id is not None:
        require_manage(actor, db.session.get(School, txn.school_id))
    return txn


def _lock(txn: BankTransaction) -> BankTransaction:
    return db.session.scalar(
        select(BankTransaction).where(BankTransaction.id == txn.id).with_for_update()
        .execution_options(populate_existing=True)
    )


def assign(actor: User, txn: BankTransaction, *, allocations: list[tuple[str, int]],
           credit: tuple[str, int] | None = None, reason: str) -> BankTransaction:
    """The accountant places unallocated money: on invoices (by code) and/or a student's credit.

    Split by giving several invoices. The amounts must not exceed what is unallocated nor any
    invoice's open balance.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Cần ghi lý do.", "A reason is required.", field="reason")
    require_reason(reason)
    if txn.school_id is None:
        raise Conflict("Giao dịch vào tài khoản không thuộc trường nào; không thể gán.",
                       "The transaction is for an unknown account; it cannot be assigned.")
    txn = _lock(txn)
    if txn.direction == "out":
        raise Conflict("Không thể gán giao dịch chi ra.", "Outgoing transfers cannot be assigned.")
    if txn.status == "ignored":
        raise Conflict("Giao dịch đã được để riêng (không phải tiền học phí); không thể gán.",
                       "The payment was set aside; it cannot be assigned.")
    amounts = [amount for _, amount in allocations] + ([credit[1]] if credit else [])
    if not amounts or any(isinstance(a, bool) or not isinstance(a, int) or a <= 0
                          for a in amounts):
        raise Invalid("Số tiền phải là số nguyên đồng dương.",
                      "Amounts must be positive integers (dong).", field="amount_vnd")
    if too_big := [a for a in amounts if a > MAX_VND]:
        raise Invalid(*too_large(too_big[0]), field="amount_vnd")
    free = unallocated_vnd(txn)
    if sum(amounts) > free:
        raise Conflict(f"Chỉ còn {format_vnd(free)} đ chưa gán trong giao dịch này.",
                       f"Only {free} dong of this payment is unallocated.")
    codes = [code.strip().upper() for code, _ in allocations]
    found = {
        inv.code: inv for inv in db.session.scalars(
            select(Invoice).where(Invoice.school_id == txn.school_id, Invoice.code.in_(codes)))
    }
    if missing := [c for c in codes if c not in found]:
        raise Invalid(f"Không có hóa đơn: {', '.join(missing)}.",
                      f"Unknown invoices: {', '.join(missing)}.", field="invoice_code")
    locked = {inv.code: inv for inv in _locked_invoices(inv.id for inv in found.values())}
    for code, amount in zip(codes, (a for _, a in allocations), strict=True):
        invoice = locked[code]
        if invoice.status == "cancelled" or amount > invoice.balance_vnd:
            raise Conflict(
                f"Hóa đơn {code} chỉ còn phải nộp {format_vnd(invoice.balance_vnd)} đ.",
                f"Invoice {code} has {invoice.balance_vnd} dong open.")
        allocate_to_invoice(txn, invoice, amount, actor=actor, reason=reason)
        audit.record(actor, txn.school_id, "payment.assign", f"payment:{txn.id}",
                     invoice=code, amount_vnd=amount, reason=reason)
    if credit:
        student = db.session.scalar(select(Student).where(
            Student.school_id == txn.school_id, Student.code == credit[0].strip().upper()))
        if student is None:
            raise Invalid(f"Không có học sinh mã “{credit[0]}”.",
                          f"No student {credit[0]!r}.", field="student_code")
        allocate_credit(txn, student.id, credit[1], actor=actor, reason=reason)
        audit.record(actor, txn.school_id, "payment.credit", f"payment:{txn.id}",
                     student=student.code, amount_vnd=credit[1], reason=reason)
    db.session.flush()
    _settle_status(txn)
    txn.status_reason = "assigned"
    db.session.flush()
    receipts.issue_pending(txn, actor=actor)
    _settle_credit_of(txn, actor)
    return txn


def confirm(actor: User, txn: BankTransaction, *, reason: str) -> BankTransaction:
    """The accountant checked a payment in review whose money is all placed (e.g. a paid
    invoice paid again, credited and flagged): it leaves the queue, and its credit may now
    pay the student's open invoices."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Cần ghi lý do.", "A reason is required.", field="reason")
    txn = _lock(txn)
    if txn.status != REVIEW or unallocated_vnd(txn) != 0 or not txn.allocations:
        raise Conflict("Chỉ xác nhận được giao dịch đang chờ xử lý đã phân bổ hết tiền.",
                       "Only a payment in review whose money is all placed can be confirmed.")
    _settle_status(txn)
    txn.status_reason = "confirmed"
    audit.record(actor, txn.school_id, "payment.confirm", f"payment:{txn.id}", reason=reason)
    db.session.flush()
    _settle_credit_of(txn, actor)
    return txn


def reverse(actor: User, allocation_id: int, *, reason: str) -> Allocation:
    """Undo an allocation with a new, opposite one; the money returns to the review queue."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Cần ghi lý do.", "A reason is required.", field="reason")
    require_reason(reason)
    original = db.session.get(Allocation, allocation_id)
    if original is None:
        raise not_found("bút toán", "Allocation")
    txn = get_transaction(actor, original.transaction_id, manage=True)
    txn = _lock(txn)
    if original.amount_vnd < 0 or original.reverses_id is not None:
        raise Conflict("Không thể đảo một bút toán đảo.", "A reversal cannot be reversed.")
    if _reversed(original, txn):
        raise Conflict("Bút toán này đã được đảo.", "This allocation is already reversed.")
    if original.kind == "invoice":
        (invoice,) = _locked_invoices([original.invoice_id])
        still_there = db.session.scalar(
            select(func.coalesce(func.sum(Allocation.amount_vnd), 0)).where(
                Allocation.transaction_id == txn.id, Allocation.kind == "invoice",
                Allocation.invoice_id == invoice.id))
        if still_there < original.amount_vnd:
            # A correction of the invoice moved part of it to the student's credit since.
            raise Conflict(
                "Một phần khoản tiền này đã được chuyển thành tiền nộp thừa khi điều chỉnh hóa "
                "đơn; không thể đảo cả bút toán.",
                "Part of this allocation became credit when the invoice was corrected; it "
                "cannot be reversed as a whole.")
        reversal = allocate_to_invoice(txn, invoice, -original.amount_vnd, actor=actor,
                                        reason=reason, reverses=original)
    elif original.kind == "credit":
        credits.lock_students([original.student_id])
        if student_credit_vnd(original.student_id) < original.amount_vnd:
            raise Conflict("Số dư có của học sinh đã được dùng; không thể đảo.",
                           "The student's credit has been used; it cannot be reversed.")
        reversal = allocate_credit(txn, original.student_id, -original.amount_vnd,
                                    actor=actor, reason=reason, reverses=original)
    else:
        raise Conflict("Không thể đảo khoản hoàn tiền.", "Refunds cannot be reversed.")
    db.session.flush()
    if original.kind == "invoice":
        receipts.void_for_allocation(original, actor=actor, reason=reason)
    audit.record(actor, txn.school_id, "allocation.reverse", f"allocation:{original.id}",
                 amount_vnd=original.amount_vnd, reason=reason)
    _settle_status(txn)
    txn.status_reason = "reversed"
    db.session.flush()
    return reversal


def set_aside(actor: User, txn: BankTransaction, *, reason: str) -> BankTransaction:
    """Take the unallocated money of a transfer out of the review queue (not a fee payment,
    to be refunded ...), with a reason. Also after a partial assignment: what was placed stays
    placed, the rest is set aside (the ledger counts it so)."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Cần ghi lý do.", "A reason is required.", field="reason")
    require_reason(reason)
    txn = _lock(txn)
    if txn.provider in ("cash", "opening"):
        # Cash is in somebody's cash box: it leaves it by a voided receipt, not by this.
        raise Conflict("Tiền mặt không để riêng được; hãy gán lại hoặc hủy biên lai.",
                       "Cash cannot be set aside; assign it again or void its receipt.")
    free = unallocated_vnd(txn)
    if txn.status != REVIEW or free <= 0:
        raise Conflict("Chỉ để riêng được giao dịch đang chờ xử lý và còn tiền chưa gán.",
                       "Only payments in review with unallocated money can be set aside.")
    txn.status, txn.status_reason = "ignored", "set_aside"
    audit.record(actor, txn.school_id, "payment.set_aside", f"payment:{txn.id}", reason=reason,
                 amount_vnd=free)
    db.session.flush()
    return txn


def rematch(school: School) -> int:
    """Run matching again on untouched review items (after new invoices were issued).

    Deterministic: the same memo and invoices give the same decision. Items a person has
    touched (with allocations) are left alone.
    """
    ids = list(db.session.scalars(
        select(BankTransaction.id).where(
            BankTransaction.school_id == school.id, BankTransaction.status == REVIEW,
            ~BankTransaction.allocations.any(),
            # A probable duplicate waits for a person: matching it could book one transfer twice.
            BankTransaction.status_reason.is_distinct_from("possible_duplicate"),
        ).order_by(BankTransaction.id)
    ))
    changed = 0
    for txn_id in ids:
        txn = _lock(db.session.get(BankTransaction, txn_id))
        txn.status = "received"
        _route(txn)
        db.session.flush()
        receipts.issue_pending(txn)
        _settle_credit_of(txn)
        changed += txn.status != REVIEW
    return changed


def unrouted(actor: User, limit: int = 500) -> list[BankTransaction]:
    """Admins: transactions for an account number no school has (or several have and the
    notification could not be told apart), newest first."""
    if actor.role != "admin":
        raise Forbidden("Chỉ quản trị viên được xem mục này.", "Only an admin may see this.")
    return list(db.session.scalars(
        select(BankTransaction).where(BankTransaction.school_id.is_(None))
        .order_by(BankTransaction.id.desc()).limit(limit)))


def list_payments(school: School, *, status: str | None = None) -> list[BankTransaction]:
    query = select(BankTransaction).where(BankTransaction.school_id == school.id)
    if status:
        if status not in ("received", "matched", "partial", "review", "credited", "ignored",
                          "duplicate"):
            raise Invalid("Trạng thái không hợp lệ.",
                          "status must be matched, partial, review, credited or ignored.",
                          field="status")
        query = query.where(BankTransaction.status == status)
    return list(db.session.scalars(query.order_by(BankTransaction.occurred_at.desc(),
                                                  BankTransaction.id.desc())))


def payment_json(txn: BankTransaction) -> dict:
    invoice_codes = dict(db.session.execute(
        select(Invoice.id, Invoice.code).where(
            Invoice.id.in_({a.invoice_id for a in txn.allocations if a.invoice_id}))
    ).all()) if txn.allocations else {}
    student_codes = dict(db.session.execute(
        select(Student.id, Student.code).where(
            Student.id.in_({a.student_id for a in txn.allocations if a.student_id}))
    ).all()) if txn.allocations else {}
    return {
        "id": txn.id,
        "provider": txn.provider,
        "provider_txn_id": txn.provider_txn_id,
        "bank_reference": txn.bank_reference,
        "account_number": txn.account_number,
        "direction": txn.direction,
        "amount_vnd": txn.amount_vnd,
        "memo": txn.memo,
        "occurred_at": txn.occurred_at.isoformat(sep=" "),
        "payer_name": txn.payer_name,
        "payer_account": txn.payer_account,
        "virtual_account": txn.virtual_account,
        "status": txn.status,
        "status_reason": txn.status_reason,
        "duplicate_of": txn.duplicate_of_id,
        "unallocated_vnd": unallocated_vnd(txn),
        "allocations": [
            {
                "id": a.id,
                "kind": a.kind,
                "invoice_code": invoice_codes.get(a.invoice_id),
                "student_code": student_codes.get(a.student_id),
                "amount_vnd": a.amount_vnd,
                "reverses": a.reverses_id,
                "reason": a.reason,
                "by": "auto" if a.created_by_id is None else a.created_by_id,
                "created_at": clock.isoformat(a.created_at),
            }
            for a in txn.allocations
        ],
    }


def suggestions(txn: BankTransaction, limit: int = 5) -> list[dict]:
    """Ranked candidates for a transfer in review (see :mod:`.suggestions`, which also ranks a
    whole page of transfers at once). Never assigns anything."""
    return suggestions_for([txn], limit).get(txn.id, [])
