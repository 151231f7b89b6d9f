"""Opening balances (số dư đầu kỳ): a school that starts mid-year, or moves from another
product, brings in what each student owed and what each had paid in advance.

* A debt becomes an invoice of the school year's opening period (``2026-2027-DK``) with one
  line naming the source; it is paid like any invoice.
* A credit becomes a transaction with provider ``opening`` (not money received here: the
  ledger reports it apart and the channel figures leave it out), credited to the student; as
  confirmed credit it pays the student's open invoices at once, with receipts.

The source is named on every line and transaction and in the audit log. One import per student
and school year: the invoice's period and the transaction's key refuse a second one.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from ..core import clock
from ..core.periods import PeriodError, opening_key
from ..extensions import db
from ..importing.opening_balances import OpeningBalanceRow, OpeningBalancesInvalid
from ..importing.tabular import RowError
from ..models import BankTransaction, Invoice, InvoiceLine, School, Student, User
from . import audit, credits, payments
from .access import require_manage
from .billing import _new_codes
from .cash import _text
from .errors import Invalid

REASON = "opening_balance"


def import_balances(actor: User, school: School, rows: list[OpeningBalanceRow], *,
                    source: str, school_year: str, due_date: date | None = None,
                    filename: str = "") -> dict:
    """Bring in opening debts and credits (all rows or none)."""
    require_manage(actor, school)
    source = _text(source, "source", "nguồn số liệu", "The source", limit=100)
    try:
        period = opening_key(school_year)
    except PeriodError as exc:
        raise Invalid(exc.message_vi, exc.message_en, field="school_year") from exc
    due = due_date or clock.today_vn()
    codes = [row.student_code for row in rows]
    students = {s.code: s for s in db.session.scalars(
        select(Student).where(Student.school_id == school.id, Student.code.in_(codes)))}
    ids = [s.id for s in students.values()]
    with_debt = set(db.session.scalars(select(Invoice.student_id).where(
        Invoice.student_id.in_(ids), Invoice.period == period,
        Invoice.status != "cancelled"))) if ids else set()
    with_credit = set(db.session.scalars(select(BankTransaction.provider_txn_id).where(
        BankTransaction.provider == "opening",
        BankTransaction.provider_txn_id.in_([_key(school, period, c) for c in codes]))))
    errors = []
    for row in rows:
        student = students.get(row.student_code)
        if student is None:
            errors.append(RowError(row.row, "Mã học sinh",
                                   f"Không có học sinh mã “{row.student_code}”.",
                                   f"No student {row.student_code!r}."))
            continue
        if row.debt_vnd and student.id in with_debt:
            errors.append(RowError(row.row, "Còn nợ",
                                   f"Học sinh {student.code} đã có số dư nợ đầu kỳ năm học "
                                   f"{school_year}.",
                                   f"Student {student.code} already has an opening debt."))
        if row.credit_vnd and _key(school, period, student.code) in with_credit:
            errors.append(RowError(row.row, "Dư có",
                                   f"Học sinh {student.code} đã có số dư có đầu kỳ năm học "
                                   f"{school_year}.",
                                   f"Student {student.code} already has an opening credit."))
    if errors:
        raise OpeningBalancesInvalid(errors)

    debts = [row for row in rows if row.debt_vnd]
    codes_for = iter(_new_codes(school.payment_prefix, len(debts)))
    for row in debts:
        student = students[row.student_code]
        invoice = Invoice(school_id=school.id, student_id=student.id, code=next(codes_for),
                          period=period, total_vnd=row.debt_vnd, paid_vnd=0, due_date=due,
                          status="open")
        db.session.add(invoice)
        db.session.flush()
        description = f"Số dư nợ đầu kỳ chuyển sang — nguồn: {source}"
        if row.note:
            description += f" ({row.note})"
        db.session.add(InvoiceLine(invoice_id=invoice.id, position=1,
                                   description=description[:200], quantity=1,
                                   unit_price_vnd=row.debt_vnd, reduction_vnd=0,
                                   amount_vnd=row.debt_vnd))
    moment = clock.now_vn().replace(tzinfo=None, microsecond=0)
    for row in rows:
        if not row.credit_vnd:
            continue
        student = students[row.student_code]
        memo = f"Số dư có đầu kỳ chuyển sang — nguồn: {source}"
        txn = BankTransaction(
            provider="opening", provider_txn_id=_key(school, period, student.code),
            school_id=school.id, bank_account_id=None, account_number="", direction="in",
            amount_vnd=row.credit_vnd, memo=memo, bank_reference=None, occurred_at=moment,
            payer_account=None, payer_name=None, bank_name=None, status="credited",
            status_reason=REASON, recorded_by_id=actor.id,
            raw=json.dumps({"source": source, "file": filename, "row": row.row,
                            "student_code": student.code, "credit_vnd": row.credit_vnd,
                            "note": row.note, "school_year": school_year},
                           ensure_ascii=False))
        db.session.add(txn)
        db.session.flush()
        payments.allocate_credit(txn, student.id, row.credit_vnd, actor=actor,
                                 reason=(memo + (f" ({row.note})" if row.note else ""))[:300])
    db.session.flush()
    summary = {
        "source": source, "school_year": school_year, "period": period,
        "debts": len(debts), "debt_vnd": sum(row.debt_vnd for row in debts),
        "credits": sum(1 for row in rows if row.credit_vnd),
        "credit_vnd": sum(row.credit_vnd for row in rows),
    }
    audit.record(actor, school.id, "opening_balances.import", f"school:{school.code}",
                 file=filename, **summary)
    # Credit brought in pays what is open, as any confirmed credit does.
    applied = credits.settle([students[row.student_code].id for row in rows], actor=actor)
    return {**summary, "credit_applied_vnd": applied}


def _key(school: School, period: str, student_code: str) -> str:
    """One opening credit per student and school year: the transaction's unique key."""
    return f"{school.id}/{period}/{student_code}"
