"""A student's credit: money received beyond what was owed, and spending it on what is open.

Credit is not a balance column: it is the sum of the student's ``credit`` allocations, each on
the transaction whose money it is (a surplus is +x on that transaction; using it is -x there
and +x on an invoice, with receipts). So the ledger check sees every dong of it.

Rules:

* confirmed credit pays the student's oldest open invoices at once (due date, then period,
  then id), whenever credit appears or invoices do: nobody is asked for money the school
  already holds, and the parents' page, notice and VietQR then ask for the net amount;
* credit from a transaction still waiting for a person (``review``, or not matched yet) is
  never spent automatically; it becomes spendable when the accountant settles that payment;
* spending locks the student's row first (SQLite: the write lock), so two payments, a billing
  run and an accountant never spend the same credit twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from ..extensions import db
from ..models import Allocation, BankTransaction, Invoice, Student, User
from . import audit, receipts

#: The reason given to the allocations that spend credit; receipts say "trừ tiền nộp thừa".
CREDIT_USE_REASON = receipts.CREDIT_USE_REASON
#: Statuses of a transaction whose credit may be spent without asking anybody.
CONFIRMED = ("matched", "partial", "credited")


def balance_vnd(student_id: int) -> int:
    """All credit the student holds (confirmed or waiting for review)."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(Allocation.amount_vnd), 0)).where(
            Allocation.kind == "credit", Allocation.student_id == student_id)))


def balances_vnd(student_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Per student with any credit: (all credit, confirmed credit), in one query."""
    ids = sorted(set(student_ids))
    if not ids:
        return {}
    confirmed = func.sum(Allocation.amount_vnd).filter(BankTransaction.status.in_(CONFIRMED))
    rows = db.session.execute(
        select(Allocation.student_id, func.sum(Allocation.amount_vnd),
               func.coalesce(confirmed, 0))
        .join(BankTransaction, BankTransaction.id == Allocation.transaction_id)
        .where(Allocation.kind == "credit", Allocation.student_id.in_(ids))
        .group_by(Allocation.student_id)
    ).all()
    # int(): PostgreSQL sums BIGINT as NUMERIC.
    return {student: (int(total), int(spendable)) for student, total, spendable in rows if total}


def _spendable_by_transaction(student_id: int) -> list[tuple[int, int]]:
    """(transaction id, dong still available) of confirmed credit, oldest money first."""
    rows = db.session.execute(
        select(Allocation.transaction_id, func.sum(Allocation.amount_vnd))
        .join(BankTransaction, BankTransaction.id == Allocation.transaction_id)
        .where(Allocation.kind == "credit", Allocation.student_id == student_id,
               BankTransaction.status.in_(CONFIRMED))
        .group_by(Allocation.transaction_id)
        .order_by(Allocation.transaction_id)
    ).all()
    return [(txn_id, int(available)) for txn_id, available in rows if available > 0]


def lock_students(student_ids: list[int]) -> None:
    """Lock students' rows (id order) before reading or spending their credit."""
    db.session.execute(
        select(Student.id).where(Student.id.in_(student_ids)).order_by(Student.id)
        .with_for_update())


def settle(student_ids: Iterable[int], *, actor: User | None = None) -> int:
    """Spend each student's confirmed credit on their open invoices, oldest first.

    Returns the dong applied. Issues a receipt for every invoice paid this way and records it
    in the audit log. Safe to call whenever credit or invoices may have appeared: with nothing
    to do it reads and changes nothing else.
    """
    ids = sorted(set(student_ids))
    if not ids:
        return 0
    with_credit = [sid for sid, (_all, spendable) in balances_vnd(ids).items() if spendable > 0]
    if not with_credit:
        return 0
    lock_students(with_credit)
    applied = 0
    for student_id in with_credit:
        applied += _settle_one(student_id, actor)
    return applied


def _settle_one(student_id: int, actor: User | None) -> int:
    # Read under the student's lock: another spender of this credit has committed by now.
    sources = _spendable_by_transaction(student_id)
    if not sources:
        return 0
    invoices = list(db.session.scalars(
        select(Invoice).where(Invoice.student_id == student_id,
                              Invoice.status.in_(("open", "partial")))
        .order_by(Invoice.id).with_for_update()
        .execution_options(populate_existing=True)))
    invoices.sort(key=lambda inv: (inv.due_date, inv.period, inv.id))
    from .payments import allocate_credit, allocate_to_invoice

    used: list[tuple[str, int]] = []
    touched: dict[int, BankTransaction] = {}
    source = iter(sources)
    txn_id, available = next(source)
    for invoice in invoices:
        need = invoice.balance_vnd
        while need > 0 and available > 0:
            take = min(need, available)
            txn = touched.get(txn_id) or db.session.get(BankTransaction, txn_id)
            touched[txn_id] = txn
            allocate_credit(txn, student_id, -take, actor=actor, reason=CREDIT_USE_REASON)
            allocate_to_invoice(txn, invoice, take, actor=actor, reason=CREDIT_USE_REASON)
            used.append((invoice.code, take))
            need -= take
            available -= take
            if available == 0:
                txn_id, available = next(source, (None, 0))
        if txn_id is None:
            break
    if not used:
        return 0
    db.session.flush()
    for txn in touched.values():
        receipts.issue_pending(txn, actor=actor)
    school_id = invoices[0].school_id
    audit.record(actor, school_id, "credit.apply", f"student:{student_id}",
                 invoices=[{"invoice": code, "amount_vnd": amount} for code, amount in used])
    return sum(amount for _code, amount in used)
