"""The ledger check: every dong received is on an invoice, on a credit, refunded, set aside
or waiting for review, and every invoice's paid amount is the sum of its allocations."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from ..core import clock
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
    report.problems += credit_problems(school)
    report.problems += asked_amounts_disagree(school)
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


def credit_problems(school: School) -> list[str]:
    """Each student's credit is the credit booked and not spent, per transaction that holds it
    (no transaction's credit spent twice), and confirmed credit never sits beside an open
    invoice of the same student (it pays what is open at once)."""
    from .credits import CONFIRMED

    problems = []
    for student_id, txn_id, balance in db.session.execute(
        select(Allocation.student_id, Allocation.transaction_id, func.sum(Allocation.amount_vnd))
        .join(BankTransaction, Allocation.transaction_id == BankTransaction.id)
        .where(Allocation.kind == "credit", BankTransaction.school_id == school.id)
        .group_by(Allocation.student_id, Allocation.transaction_id)
        .having(func.sum(Allocation.amount_vnd) < 0)
    ):
        problems.append(f"student id {student_id}: credit of payment {txn_id} overspent "
                        f"({balance})")
    confirmed = (
        select(Allocation.student_id, func.sum(Allocation.amount_vnd).label("credit"))
        .join(BankTransaction, Allocation.transaction_id == BankTransaction.id)
        .where(Allocation.kind == "credit", BankTransaction.school_id == school.id,
               BankTransaction.status.in_(CONFIRMED))
        .group_by(Allocation.student_id)
        .having(func.sum(Allocation.amount_vnd) > 0)
        .subquery())
    for student_id, credit, code in db.session.execute(
        select(confirmed.c.student_id, confirmed.c.credit, Invoice.code)
        .join(Invoice, Invoice.student_id == confirmed.c.student_id)
        .where(Invoice.status.in_(("open", "partial")), Invoice.total_vnd > Invoice.paid_vnd)
    ):
        problems.append(f"student id {student_id}: {credit} dong of confirmed credit unspent "
                        f"while invoice {code} is open")
    return problems


def asked_amounts_disagree(school: School) -> list[str]:
    """The amount asked for each open invoice is one net figure wherever a person reads it:
    the ledger's (total less what its allocations placed on it) is what the notice and the
    parents' page print and encode in the VietQR, what the API says is due and what the
    arrears report says is owed."""
    from ..core import vietqr
    from ..models import User
    from . import invoices as invoice_views
    from . import reports

    open_invoices = list(db.session.scalars(
        select(Invoice).where(Invoice.school_id == school.id,
                              Invoice.status.in_(("open", "partial")))))
    if not open_invoices:
        return []
    placed = dict(db.session.execute(
        select(Allocation.invoice_id, func.sum(Allocation.amount_vnd))
        .where(Allocation.kind == "invoice",
               Allocation.invoice_id.in_([inv.id for inv in open_invoices]))
        .group_by(Allocation.invoice_id)).all())
    shown = invoice_views.paid_breakdown(open_invoices)
    reader = User(role="admin", email="verify-ledger@localhost")
    owed = {row["invoice_code"]: row["balance_vnd"] for row in reports.arrears(
        reader, school, period=None, group_by=None, today=clock.today_vn())["items"]}
    has_account = bool(school.bank_accounts)
    problems = []
    for invoice in open_invoices:
        due = invoice.total_vnd - int(placed.get(invoice.id) or 0)
        figures = {"notice/page": shown[invoice.id].due_vnd,
                   "api": invoice_views.invoice_json(invoice, detail=True).get(
                       "due_vnd", invoice.balance_vnd),
                   "arrears": owed.get(invoice.code, 0)}
        if has_account and due > 0:
            payload = invoice_views.qr_payload(invoice)
            figures["vietqr"] = vietqr.parse_payload(payload).amount_vnd if payload else 0
        if any(value != due for value in figures.values()):
            problems.append(f"invoice {invoice.code}: {due} dong due by the ledger but asked "
                            f"{figures}")
    return problems
