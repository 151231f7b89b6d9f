"""The parents' page: one private, revocable link per student; no account needed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from ..core.banks import bank_by_bin
from ..core.periods import parse_period
from ..extensions import db
from ..models import Allocation, BankTransaction, Invoice, Receipt, School, Student, User
from . import audit, virtual_accounts
from .access import require_manage, require_read
from .invoices import PaidBreakdown, memo_for, paid_breakdown, paid_from_credit, qr_payload
from .links import ensure_token, new_token, parent_url


def reissue(actor: User, school: School, student: Student) -> str:
    """Revoke the student's link and issue a new one (the old one answers 404 from now)."""
    require_manage(actor, school)
    student.parent_token = new_token()
    db.session.flush()
    audit.record(actor, school.id, "parent_link.reissue", f"student:{student.code}")
    return parent_url(student)


def student_for_token(token: str) -> Student | None:
    if not token or len(token) > 32:
        return None
    return db.session.scalar(select(Student).where(Student.parent_token == token))


def link_rows(actor: User, school: School) -> list[dict]:
    """Every studying student's link, for an SMS or Zalo campaign."""
    require_read(actor, school)
    from .students import list_students

    rows = []
    for student in list_students(actor, school):
        if student.status != "studying":
            continue
        ensure_token(student)
        rows.append({
            "student_code": student.code, "student_name": student.full_name,
            "class": student.classroom.name, "guardian_name": student.guardian_name or "",
            "guardian_phone": student.guardian_phone or "", "link": parent_url(student),
        })
    db.session.flush()
    return rows


@dataclass
class OpenInvoiceView:
    invoice: Invoice
    period_label: str
    memo: str
    qr_payload: str | None
    #: Total, paid by transfer, paid from credit, due: the figures the notice prints.
    paid: PaidBreakdown


@dataclass
class PaymentView:
    #: The bank's time of the transfer (Vietnam's wall clock).
    occurred_at: object
    amount_vnd: int
    invoice_code: str
    bank_reference: str | None
    #: Taken from an earlier overpayment rather than sent for this invoice.
    from_credit: bool = False


@dataclass
class ParentPage:
    student: Student
    school: School
    bank_name: str
    account_number: str
    account_name: str
    open_invoices: list[OpenInvoiceView]
    paid_invoices: list[Invoice]
    payments: list[PaymentView]
    receipts: list[Receipt]

    @property
    def due_vnd(self) -> int:
        return sum(view.invoice.balance_vnd for view in self.open_invoices)

    @property
    def fingerprint(self) -> str:
        """Changes whenever something the parent sees changes (for the live refresh)."""
        parts = [f"{v.invoice.code}:{v.invoice.paid_vnd}:{v.invoice.status}"
                 for v in self.open_invoices]
        parts += [f"{i.code}:{i.status}" for i in self.paid_invoices]
        parts += [f"{r.id}:{r.status}" for r in self.receipts]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def page(student: Student) -> ParentPage:
    """What the parents' page shows: this student only."""
    school = db.session.get(School, student.school_id)
    account = school.default_account
    bank = bank_by_bin(account.bin) if account else None
    invoices = list(db.session.scalars(
        select(Invoice).where(Invoice.student_id == student.id, Invoice.status != "cancelled")
        .order_by(Invoice.period.desc(), Invoice.id.desc())
    ))
    unpaid = [inv for inv in invoices if inv.status in ("open", "partial")]
    paid = paid_breakdown(unpaid)
    open_views = [
        OpenInvoiceView(inv, parse_period(inv.period).label, memo_for(inv),
                        qr_payload(inv) if account else None, paid[inv.id])
        for inv in unpaid
    ]
    codes = {inv.id: inv.code for inv in invoices}
    payments = [
        PaymentView(txn.occurred_at, allocation.amount_vnd, codes[allocation.invoice_id],
                    txn.bank_reference, paid_from_credit(allocation))
        for allocation, txn in db.session.execute(
            select(Allocation, BankTransaction)
            .join(BankTransaction, Allocation.transaction_id == BankTransaction.id)
            .where(Allocation.invoice_id.in_(list(codes)), Allocation.kind == "invoice")
            .order_by(BankTransaction.occurred_at.desc(), Allocation.id.desc())
        )
    ] if codes else []
    receipts = list(db.session.scalars(
        select(Receipt).where(Receipt.student_id == student.id)
        .order_by(Receipt.issued_at.desc(), Receipt.id.desc())
    ))
    own = virtual_accounts.payee(school, student.id) if account else None
    if own is not None:
        bank = bank_by_bin(own.bin)
    return ParentPage(
        student=student, school=school,
        bank_name=(bank.name if bank else account.bin) if account else "",
        account_number=(own or account).account_number if account else "",
        account_name=account.account_name if account else "",
        open_invoices=open_views,
        paid_invoices=[inv for inv in invoices if inv.status == "paid"],
        payments=payments, receipts=receipts,
    )
