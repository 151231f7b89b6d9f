"""Matching the queue in batches: many stored notifications in one transaction.

Queue mode's match workers claim up to ``limit`` stored notifications at once (``FOR UPDATE
SKIP LOCKED``: several workers share the queue; on SQLite the write lock), look all their codes
up at once, and write allocations, invoice balances, statuses and receipts set-wise, with one
commit. Every guarantee of :func:`payments.process` holds, because the decisions are the same
function (``core.matching.decide``) applied in the same order (transaction id), with balances
carried from one notification to the next in memory:

* exactly once: the claimed rows stay locked until the commit that changes their status;
* gapless receipt numbers: each school's counter row is moved once per batch, by the number
  of receipts, under its row lock;
* the ledger: allocations and ``paid_vnd`` change in the same statements' transaction;
* what the set-wise path does not cover (a surplus that becomes credit, a paid invoice paid
  again, a transfer seen through another channel, a student's virtual account, money out
  while a transfer refund is pending, a memo without a code while cash deposits wait) goes
  through ``payments.process`` for that notification, in its turn, in the same transaction;
* one failing notification never blocks the batch: the caller retries the batch one by one
  (see the match worker in cli.py), where the failing one is retried and then handed over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, select

from ..core import clock, matching
from ..core.invoice_state import status_for
from ..core.memo import find_codes
from ..extensions import db
from ..models import Allocation, BankTransaction, Invoice, School, Student
from ..models.cash import CashDeposit
from ..models.refunds import PaymentVoucher
from . import payments, receipts, sql

#: What one batch claims by default: big enough to amortise the round trips, small enough that
#: a batch commits within a fraction of a second.
BATCH = 200
#: Decisions the set-wise path books itself; anything else (credit) goes through process().
_SET_WISE = {"paid", "partial", "split", "review", "no_code"}


@dataclass
class BatchResult:
    claimed: int = 0
    #: Matched set-wise, and handed to payments.process (credit, duplicates).
    set_wise: int = 0
    one_by_one: int = 0
    receipts: int = 0
    ids: list[int] = field(default_factory=list)


@dataclass
class _Invoice:
    id: int
    code: str
    school_id: int
    student_id: int
    total_vnd: int
    paid_vnd: int
    status: str
    period: str

    @property
    def balance_vnd(self) -> int:
        return 0 if self.status == "cancelled" else max(self.total_vnd - self.paid_vnd, 0)


def claim(limit: int = BATCH) -> list[int]:
    """Lock up to ``limit`` stored-but-unmatched notifications nobody else is working on."""
    return list(db.session.scalars(_CLAIM, {"limit": limit}))


_CLAIM = (
    select(BankTransaction.id).where(BankTransaction.status == "received")
    .order_by(BankTransaction.id).limit(bindparam("limit")).with_for_update(skip_locked=True)
)
_ROWS = (
    select(BankTransaction.id, BankTransaction.school_id, BankTransaction.bank_account_id,
           BankTransaction.direction, BankTransaction.amount_vnd, BankTransaction.memo,
           BankTransaction.provider, BankTransaction.provider_txn_id,
           BankTransaction.bank_reference, BankTransaction.virtual_account,
           BankTransaction.payer_name, BankTransaction.bank_name, School.payment_prefix,
           payments.first_twin(BankTransaction).label("twin_id"))
    .outerjoin(School, School.id == BankTransaction.school_id)
    .where(sql.in_list(BankTransaction.id, "ids"))
    .order_by(BankTransaction.id)
)
_SCHOOLS_REFUNDING = (
    select(PaymentVoucher.school_id).distinct()
    .where(sql.in_list(PaymentVoucher.school_id, "schools"),
           PaymentVoucher.method == "transfer", PaymentVoucher.status == "pending")
)
_SCHOOLS_DEPOSITING = (
    select(CashDeposit.school_id).distinct()
    .where(sql.in_list(CashDeposit.school_id, "schools"),
           CashDeposit.transaction_id.is_(None))
)
_LOCK_STUDENTS = (
    select(Student.id)
    .where(Student.id.in_(select(Invoice.student_id).where(
        sql.in_list(Invoice.code, "codes"))))
    .order_by(Student.id).with_for_update()
)
_LOCK_INVOICES = (
    select(Invoice.id, Invoice.code, Invoice.school_id, Invoice.student_id, Invoice.total_vnd,
           Invoice.paid_vnd, Invoice.status, Invoice.period)
    .where(sql.in_list(Invoice.code, "codes"))
    .order_by(Invoice.id).with_for_update()
)
def match_pending(limit: int = BATCH) -> BatchResult:
    """Claim and match up to ``limit`` stored notifications; the caller commits once."""
    return match(claim(limit))


def match(ids: list[int]) -> BatchResult:
    """Match these claimed (locked) notifications, in id order; the caller commits once."""
    result = BatchResult(claimed=len(ids), ids=ids)
    if not ids:
        return result
    rows = db.session.execute(_ROWS, {"ids": ids}).all()
    codes_of = {row.id: find_codes(row.memo, [row.payment_prefix])
                if row.school_id is not None and row.direction == "in" else [] for row in rows}
    wanted = sorted({code for codes in codes_of.values() for code in codes})
    invoices: dict[str, _Invoice] = {}
    if wanted:
        # Lock order, as everywhere money moves: the students, then their invoices.
        db.session.execute(_LOCK_STUDENTS, {"codes": wanted})
        invoices = {row.code: _Invoice(*row) for row in db.session.execute(
            _LOCK_INVOICES, {"codes": wanted})}
    # Schools waiting for money of their own: a transfer refund going out (its voucher), cash
    # deposited at the bank coming in. Their notifications are recognised one by one.
    schools = {row.school_id for row in rows if row.school_id is not None}
    refunding = set(db.session.scalars(_SCHOOLS_REFUNDING, {"schools": sorted(schools)})) \
        if schools else set()
    depositing = set(db.session.scalars(_SCHOOLS_DEPOSITING, {"schools": sorted(schools)})) \
        if schools else set()
    batch = _Writes()
    for row in rows:
        if row.direction == "out" and row.school_id not in refunding:
            batch.status(row.id, "ignored", "outgoing")
            result.set_wise += 1
            continue
        if row.school_id is None:
            batch.status(row.id, payments.REVIEW, "unknown_account")
            result.set_wise += 1
            continue
        named = [invoices[code] for code in codes_of[row.id]
                 if code in invoices and invoices[code].school_id == row.school_id]
        decision = None
        if row.twin_id is None and row.direction == "in" and not row.virtual_account:
            decision = matching.decide(
                [matching.OpenInvoice(inv.code, inv.balance_vnd, inv.status) for inv in named],
                row.amount_vnd)
        if decision is None or decision.kind not in _SET_WISE or (
                decision.kind == "no_code" and row.school_id in depositing):
            # Credit or a possible duplicate: the one-by-one path, in its turn, on what the
            # batch has booked so far; then the balances it changed are read again.
            result.receipts += batch.write()
            payments.process(row.id)
            result.one_by_one += 1
            _reload(invoices, [inv.code for inv in named])
            continue
        by_code = {inv.code: inv for inv in named}
        for code, amount in decision.allocations:
            invoice = by_code[code]
            invoice.paid_vnd += amount
            invoice.status = status_for(invoice.total_vnd, invoice.paid_vnd)
            batch.allocate(row, invoice, amount, decision.reason_vi or decision.reason)
        batch.status(row.id, payments._STATUS_OF_DECISION[decision.kind], decision.reason)
        result.set_wise += 1
    result.receipts += batch.write()
    return result


def _reload(invoices: dict[str, _Invoice], codes: list[str]) -> None:
    if not codes:
        return
    for row in db.session.execute(_LOCK_INVOICES, {"codes": codes}):
        invoices[row.code] = _Invoice(*row)


class _Writes:
    """What the batch has decided and not written yet."""

    def __init__(self) -> None:
        self.allocations: list[tuple[dict, object, _Invoice]] = []
        self.statuses: list[dict] = []
        self.invoices: dict[int, _Invoice] = {}

    def allocate(self, row, invoice: _Invoice, amount: int, reason: str) -> None:
        values = {"transaction_id": row.id, "kind": "invoice", "invoice_id": invoice.id,
                  "student_id": None, "amount_vnd": amount, "reverses_id": None,
                  "created_by_id": None, "reason": reason}
        # The receipt needs the invoice's paid amount right after this allocation.
        self.allocations.append((values, row, _Invoice(**vars(invoice))))
        self.invoices[invoice.id] = invoice

    def status(self, txn_id: int, status: str, reason: str) -> None:
        self.statuses.append({"id": txn_id, "status": status, "status_reason": reason})

    def write(self) -> int:
        """Write what is pending, set-wise; returns the receipts issued."""
        issued = 0
        if self.allocations:
            # A transaction pays an invoice once per batch: (transaction, invoice) orders them.
            now = clock.now_utc()
            ids = sql.insert_rows(Allocation.__table__, [
                {**values, "created_at": now} for values, _row, _inv in self.allocations],
                ("transaction_id", "invoice_id"))
            sql.update_rows(Invoice.__table__, [
                {"id": inv.id, "paid_vnd": inv.paid_vnd, "status": inv.status}
                for inv in self.invoices.values()])
            issued = receipts.issue_many([
                receipts.ToIssue(
                    allocation_id=allocation_id, amount_vnd=values["amount_vnd"],
                    invoice_id=inv.id, school_id=inv.school_id, student_id=inv.student_id,
                    invoice_total_vnd=inv.total_vnd, invoice_paid_vnd=inv.paid_vnd,
                    period=inv.period, bank_account_id=row.bank_account_id,
                    provider=row.provider, provider_txn_id=row.provider_txn_id,
                    payer_name=row.payer_name, bank_name=row.bank_name,
                    bank_reference=row.bank_reference)
                for allocation_id, (values, row, inv) in zip(ids, self.allocations,
                                                             strict=True)])
        if self.statuses:
            sql.update_rows(BankTransaction.__table__, self.statuses)
        self.allocations, self.statuses, self.invoices = [], [], {}
        return issued
