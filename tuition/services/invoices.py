"""Reading invoices: lists, the VietQR payload and memo, verification links, notices."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased, contains_eager, selectinload

from ..core import clock, vietqr
from ..core.banks import bank_by_bin
from ..core.names import sort_key
from ..core.periods import parse_period
from ..core.words import amount_in_words
from ..extensions import db
from ..models import (
    Allocation,
    BankAccount,
    Classroom,
    Invoice,
    InvoiceLine,
    School,
    Student,
    User,
)
from ..models.fees import UNITS
from ..pdf.notices import Notice, NoticeLine
from . import virtual_accounts
from .access import require_read
from .errors import Invalid, not_found
from .links import parent_url
from .students import class_name_key

MEMO_MAX = 25
NOTICE_BATCH = 200


def get_invoice(code: str) -> Invoice:
    invoice = db.session.scalar(
        select(Invoice)
        .where(Invoice.code == code.strip().upper())
        .options(selectinload(Invoice.lines).selectinload(InvoiceLine.fee_item))
    )
    if invoice is None:
        raise not_found(f"hóa đơn “{code}”", f"Invoice {code!r}")
    return invoice


def get_invoice_for(actor: User, code: str) -> Invoice:
    invoice = get_invoice(code)
    if not actor.can_read(invoice.school_id):
        # Same answer as a missing invoice: codes of other schools are not confirmed.
        raise not_found(f"hóa đơn “{code}”", f"Invoice {code!r}")
    return invoice


def list_invoices(actor: User, school: School, *, status: str | None = None,
                  class_name: str | None = None, period: str | None = None) -> list[Invoice]:
    require_read(actor, school)
    query = (
        select(Invoice)
        .join(Invoice.student)
        .join(Student.classroom)
        .where(Invoice.school_id == school.id)
        .options(contains_eager(Invoice.student).contains_eager(Student.classroom))
    )
    if status:
        if status not in ("open", "partial", "paid", "cancelled", "unpaid"):
            raise Invalid("Trạng thái không hợp lệ.", "status must be open, partial, paid, "
                          "cancelled or unpaid.", field="status")
        if status == "unpaid":
            query = query.where(Invoice.status.in_(("open", "partial")))
        else:
            query = query.where(Invoice.status == status)
    if class_name:
        query = query.where(Classroom.name == class_name_key(class_name))
    if period:
        query = query.where(Invoice.period == period.strip().upper())
    found = db.session.scalars(query)
    return sorted(found, key=lambda i: (i.student.classroom.name,
                                        sort_key(i.student.full_name), i.id))


@dataclass(frozen=True, slots=True)
class PaidBreakdown:
    """What an invoice charges, what was paid on it and how, and what is still due.

    ``total_vnd - paid_by_transfer_vnd - paid_from_credit_vnd == due_vnd`` whenever nothing
    was overpaid; ``due_vnd`` never goes below zero (an overpayment is credit elsewhere).
    """

    total_vnd: int
    #: Money from transfers put on this invoice (reversals taken off).
    paid_by_transfer_vnd: int
    #: Money from the student's earlier overpayment (credit) used on this invoice.
    paid_from_credit_vnd: int
    due_vnd: int

    @property
    def paid_vnd(self) -> int:
        return self.paid_by_transfer_vnd + self.paid_from_credit_vnd


def paid_breakdown(invoices: Iterable[Invoice | int]) -> dict[int, PaidBreakdown]:
    """Per invoice id: total, paid by transfer, paid from credit, and due, in one query.

    ``invoices`` are loaded invoices or their ids (those are loaded with one more query).

    The one place that decides which part of what was paid came from credit: today, an
    allocation to the invoice made from a credit balance (its reason is
    :data:`receipts.CREDIT_USE_REASON`), or the reversal of one. Everything else allocated to
    the invoice was paid by transfer. ``Invoice.paid_vnd`` stays the sum of both, so the
    figures always add up to what the invoice shows.
    """
    from .receipts import CREDIT_USE_REASON

    given = list(invoices)
    invoices = [item for item in given if isinstance(item, Invoice)]
    if missing := [item for item in given if not isinstance(item, Invoice)]:
        invoices += db.session.scalars(select(Invoice).where(Invoice.id.in_(missing)))
    ids = [invoice.id for invoice in invoices]
    from_credit: dict[int, int] = {}
    if ids:
        original = aliased(Allocation)
        is_credit = (Allocation.reason == CREDIT_USE_REASON) | (
            original.reason == CREDIT_USE_REASON)
        from_credit = {
            invoice_id: int(amount or 0)
            for invoice_id, amount in db.session.execute(
                select(Allocation.invoice_id,
                       func.sum(case((is_credit, Allocation.amount_vnd), else_=0)))
                .outerjoin(original, original.id == Allocation.reverses_id)
                .where(Allocation.kind == "invoice", Allocation.invoice_id.in_(ids))
                .group_by(Allocation.invoice_id)
            )
        }
    result = {}
    for invoice in invoices:
        credit = max(min(from_credit.get(invoice.id, 0), invoice.paid_vnd), 0)
        result[invoice.id] = PaidBreakdown(
            total_vnd=invoice.total_vnd, paid_by_transfer_vnd=invoice.paid_vnd - credit,
            paid_from_credit_vnd=credit, due_vnd=invoice.balance_vnd)
    return result


def paid_from_credit(allocation: Allocation) -> bool:
    """Whether an allocation to an invoice was made from a credit balance (see
    :func:`paid_breakdown`, which applies the same rule in SQL)."""
    from .receipts import CREDIT_USE_REASON

    return allocation.kind == "invoice" and allocation.reason == CREDIT_USE_REASON


def memo_for(invoice: Invoice) -> str:
    """The transfer memo: the payment code first, then the student code, ASCII, <= 25 chars."""
    return f"{invoice.code} {invoice.student.code}"[:MEMO_MAX]


def receiving_account(school: School) -> BankAccount:
    account = school.default_account
    if account is None:
        raise Invalid("Trường chưa khai báo tài khoản nhận tiền.",
                      "The school has no receiving bank account.")
    return account


def qr_payload(invoice: Invoice) -> str | None:
    """The dynamic VietQR for the open balance; None when nothing is left to pay.

    It names the student's virtual account when the school uses them, else the school's
    receiving account.
    """
    if invoice.balance_vnd <= 0:
        return None
    school = db.session.get(School, invoice.school_id)
    account = receiving_account(school)
    own = virtual_accounts.payee(school, invoice.student_id)
    return vietqr.build_payload(
        bin=own.bin if own else account.bin,
        account_number=own.account_number if own else account.account_number,
        amount_vnd=invoice.balance_vnd, memo=memo_for(invoice),
    )


def _signature(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, b"notice:" + code.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:10]


def verify_token(invoice: Invoice) -> str:
    return f"{invoice.code}-{_signature(invoice.code)}"


def verify_url(invoice: Invoice) -> str:
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return f"{base}/kiem-tra/{verify_token(invoice)}"


def invoice_for_token(token: str) -> Invoice | None:
    """The invoice a printed verification link names, if its signature is right."""
    code, _, signature = token.strip().upper().partition("-")
    if not signature or not hmac.compare_digest(signature, _signature(code)):
        return None
    return db.session.scalar(select(Invoice).where(Invoice.code == code))


def invoice_json(invoice: Invoice, *, detail: bool = False) -> dict:
    data = {
        "code": invoice.code,
        "student_code": invoice.student.code,
        "student_name": invoice.student.full_name,
        "class": invoice.student.classroom.name,
        "period": invoice.period,
        "total_vnd": invoice.total_vnd,
        "paid_vnd": invoice.paid_vnd,
        "balance_vnd": invoice.balance_vnd,
        "status": invoice.status,
        "due_date": invoice.due_date.isoformat(),
    }
    if detail:
        paid = paid_breakdown([invoice])[invoice.id]
        data.update(
            paid_by_transfer_vnd=paid.paid_by_transfer_vnd,
            paid_from_credit_vnd=paid.paid_from_credit_vnd,
            due_vnd=paid.due_vnd,
            memo=memo_for(invoice),
            qr_payload=qr_payload(invoice),
            verify_url=verify_url(invoice),
            issued_at=clock.isoformat(invoice.issued_at),
            cancel_reason=invoice.cancel_reason,
            lines=[
                {
                    "description": line.description,
                    "fee_item": line.fee_item.code if line.fee_item else None,
                    "quantity": line.quantity,
                    "unit_price_vnd": line.unit_price_vnd,
                    "reduction_vnd": line.reduction_vnd,
                    "amount_vnd": line.amount_vnd,
                    "kind": ("correction" if line.correction_id else
                             "adjustment" if line.adjustment_id else "charge"),
                }
                for line in invoice.lines
            ],
        )
    return data


def notice_for(invoice: Invoice, school: School, account: BankAccount,
               paid: PaidBreakdown | None = None) -> Notice:
    """The printable fee notice of an invoice with an open balance: its lines and their total,
    what was paid (by transfer, from credit) and what is still due, which the VietQR asks for.
    ``paid`` is the invoice's :func:`paid_breakdown` when the caller has it."""
    payload = qr_payload(invoice)
    if payload is None:
        raise Invalid("Hóa đơn không còn số tiền phải nộp.", "Nothing is left to pay.")
    if paid is None:
        paid = paid_breakdown([invoice])[invoice.id]
    own = virtual_accounts.payee(school, invoice.student_id)
    bank = bank_by_bin(own.bin if own else account.bin)
    student = invoice.student
    return Notice(
        school_name=school.name,
        school_address=school.address,
        school_phone=school.phone or "",
        school_tax_code=school.tax_code or "",
        student_code=student.code,
        student_name=student.full_name,
        class_name=student.classroom.name,
        period_label=parse_period(invoice.period).label,
        lines=tuple(
            NoticeLine(
                description=line.description,
                quantity=line.quantity,
                unit_price_vnd=line.unit_price_vnd,
                reduction_vnd=line.reduction_vnd,
                amount_vnd=line.amount_vnd,
                unit_label=UNITS.get(line.fee_item.unit, "") if line.is_charge else "",
            )
            for line in invoice.lines
        ),
        total_vnd=paid.total_vnd,
        paid_vnd=paid.paid_by_transfer_vnd,
        credit_vnd=paid.paid_from_credit_vnd,
        amount_in_words=amount_in_words(paid.due_vnd),
        due_date=invoice.due_date,
        bank_name=bank.short_name if bank else (own.bin if own else account.bin),
        # A student's virtual account is theirs alone: the notice prints it instead.
        account_number=own.account_number if own else account.account_number,
        account_name=account.account_name,
        qr_payload=payload,
        memo=memo_for(invoice),
        invoice_code=invoice.code,
        # The parents' page both verifies the notice and shows what is paid since.
        verify_url=parent_url(student) if student.parent_token else verify_url(invoice),
    )


def notices_for_class(
    actor: User, school: School, *, period: str, class_name: str | None = None
) -> Iterator[Notice]:
    """Notices for every unpaid invoice of a period (one class or all), streamed in batches."""
    require_read(actor, school)
    account = receiving_account(school)
    query = (
        select(Invoice.id, Classroom.name, Student.full_name)
        .join(Invoice.student)
        .join(Student.classroom)
        .where(Invoice.school_id == school.id, Invoice.period == period.strip().upper(),
               Invoice.status.in_(("open", "partial")))
    )
    if class_name:
        query = query.where(Classroom.name == class_name_key(class_name))
    # Only the ids are held; invoices are loaded a batch at a time, in class-list order.
    order = [row.id for row in sorted(db.session.execute(query),
                                      key=lambda r: (r[1], sort_key(r[2]), r[0]))]
    for start in range(0, len(order), NOTICE_BATCH):
        ids = order[start : start + NOTICE_BATCH]
        batch = {
            invoice.id: invoice
            for invoice in db.session.scalars(
                select(Invoice).where(Invoice.id.in_(ids)).options(
                    selectinload(Invoice.lines).selectinload(InvoiceLine.fee_item),
                    selectinload(Invoice.student),
                )
            )
        }
        paid = paid_breakdown(batch.values())
        for invoice_id in ids:
            yield notice_for(batch[invoice_id], school, account, paid[invoice_id])
        db.session.expunge_all()
