"""What a student's page shows of their money beyond transfers: the virtual account, cash
paid at the desk (with its receipts), refunds, the credit held, and open invoices with last
year's marked as such. The partial ``templates/staff/students/_money.html`` renders it."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import (
    Allocation,
    BankTransaction,
    CashEntry,
    Invoice,
    PaymentVoucher,
    Receipt,
    School,
    Student,
    User,
)
from . import credits, virtual_accounts, year_turn
from .access import require_read


def summary(actor: User, school: School, student: Student) -> dict:
    """The partial's variables (see its header)."""
    require_read(actor, school)
    cash_rows = db.session.execute(
        select(BankTransaction, CashEntry.document)
        .join(CashEntry, (CashEntry.transaction_id == BankTransaction.id)
              & (CashEntry.kind == "in"))
        .where(BankTransaction.provider == "cash",
               BankTransaction.id.in_(select(Allocation.transaction_id).where(
                   Allocation.student_id == student.id)
                   .union(select(Allocation.transaction_id)
                          .join(Invoice, Invoice.id == Allocation.invoice_id)
                          .where(Invoice.student_id == student.id))))
        .order_by(BankTransaction.occurred_at.desc())).all()
    receipts_of = {}
    if cash_rows:
        for receipt, txn_id in db.session.execute(
            select(Receipt, Allocation.transaction_id)
            .join(Allocation, Allocation.id == Receipt.allocation_id)
            .where(Allocation.transaction_id.in_([t.id for t, _d in cash_rows]),
                   Receipt.student_id == student.id).order_by(Receipt.id)):
            receipts_of.setdefault(txn_id, []).append(receipt)
    open_invoices = list(db.session.scalars(
        select(Invoice).where(Invoice.student_id == student.id,
                              Invoice.status.in_(("open", "partial")))
        .order_by(Invoice.due_date, Invoice.id)))
    current = student.classroom.school_year
    return {
        "money_student": student,
        "virtual_account": virtual_accounts.account_of(student.id),
        "uses_virtual_accounts": school.uses_virtual_accounts,
        "cash_payments": [(txn, document, receipts_of.get(txn.id, []))
                          for txn, document in cash_rows],
        "vouchers": list(db.session.scalars(
            select(PaymentVoucher).where(PaymentVoucher.student_id == student.id)
            .order_by(PaymentVoucher.id.desc()))),
        "credit_vnd": credits.balance_vnd(student.id),
        "open_invoices": [(inv, year_turn.earlier_year(inv.period, current))
                          for inv in open_invoices],
    }
