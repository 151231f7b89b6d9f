"""Ranked suggestions for transfers in the review queue (the ranking itself is pure:
:mod:`tuition.core.suggestions`). Never assigns anything.

Two queries whatever the number of transfers: the school's open invoices with their students
and guardians (a school has up to a few thousand), and who the paying accounts and payer names
have paid for before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, or_, select

from ..core.suggestions import Candidate, CandidatePool, rank_suggestions
from ..extensions import db
from ..models import Allocation, BankTransaction, Classroom, Invoice, Student


def candidate_pool(school_id: int) -> CandidatePool:
    """Every open invoice of the school as a candidate, a student's invoices oldest first;
    and every studying student with nothing open (a parent paying twice, or ahead: the money
    goes to the student's credit), with an empty invoice code. One query."""
    rows = db.session.execute(
        select(Invoice.code, Invoice.total_vnd, Invoice.paid_vnd, Student.code,
               Student.full_name, Student.guardian_name, Student.guardian_phone,
               Classroom.name)
        .select_from(Student)
        .join(Classroom, Student.classroom_id == Classroom.id)
        .outerjoin(Invoice, (Invoice.student_id == Student.id)
                   & Invoice.status.in_(("open", "partial")))
        .where(Student.school_id == school_id,
               (Student.status == "studying") | Invoice.id.is_not(None))
        .order_by(Student.id, Invoice.period, Invoice.id)
    ).all()
    return CandidatePool(
        Candidate(student_name=full_name, class_name=class_name, invoice_code=code or "",
                  balance_vnd=max(total - paid, 0) if code else 0, student_code=student_code,
                  guardian_name=guardian or "", guardian_phone=phone or "")
        for code, total, paid, student_code, full_name, guardian, phone, class_name in rows
    )


def _history(txns: Sequence[BankTransaction]) -> tuple[dict, dict]:
    """For each transfer: the students its paying account, and its payer's name, have paid
    for in other transfers (``{txn id: {student code}}`` twice)."""
    accounts = {t.payer_account for t in txns if t.payer_account}
    names = {t.payer_name.strip().upper() for t in txns if (t.payer_name or "").strip()}
    by_account: dict[int, set[str]] = defaultdict(set)
    by_name: dict[int, set[str]] = defaultdict(set)
    if not accounts and not names:
        return by_account, by_name
    school_ids = {t.school_id for t in txns}
    payer = func.upper(BankTransaction.payer_name)
    student_id = func.coalesce(Invoice.student_id, Allocation.student_id)
    same_payer = []
    if accounts:
        same_payer.append(BankTransaction.payer_account.in_(accounts))
    if names:
        same_payer.append(payer.in_(names))
    rows = db.session.execute(
        select(BankTransaction.id, BankTransaction.payer_account, payer, Student.code)
        .join(Allocation, Allocation.transaction_id == BankTransaction.id)
        .outerjoin(Invoice, Allocation.invoice_id == Invoice.id)
        .join(Student, Student.id == student_id)
        .where(BankTransaction.school_id.in_(school_ids), Allocation.amount_vnd > 0,
               Allocation.kind.in_(("invoice", "credit")), or_(*same_payer))
        .distinct()
    ).all()
    for txn in txns:
        name = (txn.payer_name or "").strip().upper()
        for other_id, account, other_name, student_code in rows:
            if other_id == txn.id:
                continue
            if txn.payer_account and account == txn.payer_account:
                by_account[txn.id].add(student_code)
            elif name and other_name == name:
                by_name[txn.id].add(student_code)
    return by_account, by_name


def suggestions_for(txns: Sequence[BankTransaction], limit: int = 5) -> dict[int, list[dict]]:
    """Ranked candidates for each of ``txns`` (transfers of one school), by transaction id."""
    txns = [t for t in txns if t.school_id is not None]
    if not txns:
        return {}
    pools = {school_id: candidate_pool(school_id) for school_id in {t.school_id for t in txns}}
    by_account, by_name = _history(txns)
    found = {}
    for txn in txns:
        ranked = rank_suggestions(
            txn.memo or "", txn.amount_vnd, pools[txn.school_id], limit=limit,
            payer_name=txn.payer_name, paid_before=by_account.get(txn.id, ()),
            payer_name_paid_before=by_name.get(txn.id, ()))
        found[txn.id] = [
            {"invoice_code": s.candidate.invoice_code or None,
             "student_code": s.candidate.student_code,
             "student_name": s.candidate.student_name, "class": s.candidate.class_name,
             "balance_vnd": s.candidate.balance_vnd, "score": s.score,
             "reasons": list(s.reasons), "reasons_en": list(s.reasons_en),
             "confident": s.confident}
            for s in ranked
        ]
    return found
