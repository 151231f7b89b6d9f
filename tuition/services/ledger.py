"""The ledger check: every dong received is on an invoice, on a credit, refunded, set aside
or waiting for review, and every invoice's paid amount is the sum of its allocations."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from ..extensions import db
from ..models import Allocation, BankTransaction, Invoice, School


@dataclass
class LedgerReport:
    school: str
    received_vnd: int = 0
    on_invoices_vnd: int = 0
    on_credit_vnd: int = 0
    refunded_vnd: int = 0
    set_aside_vnd: int = 0
    awaiting_review_vnd: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_school(school: School) -> LedgerReport:
    report = LedgerReport(school.code)
    allocated = (
        select(Allocation.transaction_id,
               func.sum(Allocation.amount_vnd).label("total"),
               func.sum(case((Allocation.kind == "invoice", Allocation.amount_vnd), else_=0))
               .label("invoice"),
               func.sum(case((Allocation.kind == "credit", Allocation.amount_vnd), else_=0))
               .label("credit"),
               func.sum(case((Allocation.kind == "refund", Allocation.amount_vnd), else_=0))
               .label("refund"))
        .group_by(Allocation.transaction_id)
        .subquery()
    )
    rows = db.session.execute(
        select(BankTransaction.id, BankTransaction.amount_vnd, BankTransaction.status,
               func.coalesce(allocated.c.total, 0), func.coalesce(allocated.c.invoice, 0),
               func.coalesce(allocated.c.credit, 0), func.coalesce(allocated.c.refund, 0))
        .outerjoin(allocated, allocated.c.transaction_id == BankTransaction.id)
        # A duplicate's money is its original's (one transfer seen through two channels).
        .where(BankTransaction.school_id == school.id, BankTransaction.direction == "in",
               BankTransaction.status != "duplicate")
    ).all()
    for txn_id, amount, status, total, on_invoices, on_credit, refunded in rows:
        report.received_vnd += amount
        report.on_invoices_vnd += on_invoices
        report.on_credit_vnd += on_credit
        report.refunded_vnd += refunded
        free = amount - total
        if free < 0:
            report.problems.append(
                f"payment {txn_id}: allocated {total} exceeds the amount received {amount}")
        elif free and status in ("review", "received"):
            report.awaiting_review_vnd += free
        elif free and status == "ignored":
            report.set_aside_vnd += free
        elif free:
            report.problems.append(
                f"payment {txn_id}: {free} dong unallocated but status is {status!r}")
    placed = (report.on_invoices_vnd + report.on_credit_vnd + report.refunded_vnd
              + report.set_aside_vnd + report.awaiting_review_vnd)
    if placed != report.received_vnd:
        report.problems.append(
            f"received {report.received_vnd} but placed {placed} dong")

    paid = (
        select(Allocation.invoice_id, func.sum(Allocation.amount_vnd).label("paid"))
        .where(Allocation.kind == "invoice")
        .group_by(Allocation.invoice_id)
        .subquery()
    )
    for code, paid_vnd, allocations in db.session.execute(
        select(Invoice.code, Invoice.paid_vnd, func.coalesce(paid.c.paid, 0))
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(Invoice.school_id == school.id,
               Invoice.paid_vnd != func.coalesce(paid.c.paid, 0))
    ):
        report.problems.append(
            f"invoice {code}: paid_vnd {paid_vnd} but allocations sum to {allocations}")
    for student_id, balance in db.session.execute(
        select(Allocation.student_id, func.sum(Allocation.amount_vnd))
        .join(BankTransaction, Allocation.transaction_id == BankTransaction.id)
        .where(Allocation.kind == "credit", BankTransaction.school_id == school.id)
        .group_by(Allocation.student_id)
        .having(func.sum(Allocation.amount_vnd) < 0)
    ):
        report.problems.append(f"student id {student_id}: negative credit {balance}")
    report.problems += duplicates_with_money(school)
    return report


def verify_all() -> list[LedgerReport]:
    return [verify_school(s) for s in db.session.scalars(select(School).order_by(School.code))]


def duplicates_with_money(school: School) -> list[str]:
    """A transaction marked as another's duplicate must hold no money of its own."""
    rows = db.session.execute(
        select(BankTransaction.id).where(
            BankTransaction.school_id == school.id, BankTransaction.status == "duplicate",
            BankTransaction.allocations.any())).scalars().all()
    return [f"payment {txn_id}: marked duplicate but has allocations" for txn_id in rows]
