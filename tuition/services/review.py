"""Working a transfer in the review queue by hand: find the student (or invoice) it is for by a
name, a class or a code, instead of typing invoice codes; and find transactions.

Reads only; placing the money is :func:`tuition.services.payments.assign`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..core.memo import normalise
from ..extensions import db
from ..importing.tabular import normalise_header
from ..models import Allocation, BankTransaction, Classroom, Invoice, School, Student, User
from .access import require_read
from .errors import Invalid

#: At most this many students are offered for one search.
FIND_LIMIT = 25


def _query_words(text: str) -> list[str]:
    return normalise_header(text or "").split()


def find_for_assignment(actor: User, school: School, query: str,
                        *, limit: int = FIND_LIMIT) -> list[dict]:
    """Students matching ``query`` with their open invoices and credit, best matches first.

    ``query`` is what the accountant types: words of the name in any order, without
    diacritics if they like ("ngoc le", "Lê Bảo Ngọc"), a class ("2A", "lớp 2a"), a student
    code ("HS003"), or an invoice code or its start ("HPK7M2"). Several kinds may be mixed
    ("ngoc 1a"). Two queries whatever the school's size.
    """
    require_read(actor, school)
    words = _query_words(query)
    if not words:
        return []
    glued = normalise(query)
    rows = db.session.execute(
        select(Student.id, Student.code, Student.full_name, Student.guardian_name,
               Student.guardian_phone, Student.status, Classroom.name)
        .join(Classroom, Student.classroom_id == Classroom.id)
        .where(Student.school_id == school.id)
    ).all()
    # Invoice codes typed (or their start): which students they belong to.
    by_code: set[int] = set()
    if len(glued) >= 4:
        by_code = set(db.session.scalars(
            select(Invoice.student_id).where(Invoice.school_id == school.id,
                                             Invoice.code.startswith(glued))))
    matches: list[tuple[int, str, int]] = []
    for row in rows:
        name = normalise_header(row.full_name).split()
        room = normalise_header(row.name).replace(" ", "")
        score = 200 if row.id in by_code else 0
        for word in words:
            if word == row.code.lower():
                score += 100
            elif word == room or word == f"lop{room}":
                score += 10
            elif word == "lop":
                continue
            elif word in name:
                score += 30 if word == name[-1] else 20
            elif len(word) >= 2 and any(part.startswith(word) for part in name):
                score += 5
            elif row.id not in by_code:
                # Every word must fit: "ngoc 1a" is not Ngọc of 2B.
                score = 0
                break
        if score > 0:
            matches.append((score, row.full_name, row.id))
    matches.sort(key=lambda m: (-m[0], m[1]))
    chosen = [student_id for _score, _name, student_id in matches[:limit]]
    if not chosen:
        return []
    invoices: dict[int, list[dict]] = defaultdict(list)
    for inv in db.session.scalars(
        select(Invoice).where(Invoice.student_id.in_(chosen),
                              Invoice.status.in_(("open", "partial")))
        .order_by(Invoice.period, Invoice.id)
    ):
        invoices[inv.student_id].append({"code": inv.code, "period": inv.period,
                                         "balance_vnd": inv.balance_vnd,
                                         "total_vnd": inv.total_vnd, "status": inv.status})
    credit = dict(db.session.execute(
        select(Allocation.student_id, func.sum(Allocation.amount_vnd))
        .where(Allocation.kind == "credit", Allocation.student_id.in_(chosen))
        .group_by(Allocation.student_id)
    ).all())
    by_id = {row.id: row for row in rows}
    return [{
        "code": by_id[i].code, "full_name": by_id[i].full_name, "class_name": by_id[i].name,
        "guardian_name": by_id[i].guardian_name, "guardian_phone": by_id[i].guardian_phone,
        "status": by_id[i].status, "invoices": invoices.get(i, []),
        "credit_vnd": credit.get(i, 0) or 0,
    } for i in chosen]


@dataclass
class PaymentSearch:
    """What the transactions page was asked for; every field optional."""

    status: str | None = None
    #: A name (payer's, or a student's money was placed for), words of the memo, a bank
    #: reference or account number.
    text: str = ""
    amount_vnd: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise Invalid("“Từ ngày” phải trước “Đến ngày”.",
                          "The start date must not be after the end date.", field="tu_ngay")


def _student_ids_named(school: School, text: str) -> list[int]:
    words = _query_words(text)
    if not words:
        return []
    rows = db.session.execute(
        select(Student.id, Student.code, Student.full_name)
        .where(Student.school_id == school.id)).all()
    found = []
    for row in rows:
        name = normalise_header(f"{row.full_name} {row.code}").split()
        if all(word in name for word in words):
            found.append(row.id)
    return found


def search_payments(actor: User, school: School, search: PaymentSearch, *, page: int = 1,
                    per_page: int = 50) -> tuple[list[BankTransaction], int]:
    """One page of the school's transactions matching ``search``, newest first, and how many
    match.

    The text matches, ignoring case and diacritics: the payer's name, words of the memo (also
    when the bank dropped its spaces: "HP K7M2" finds "HPK7M2..."), the bank reference, the
    payer's account, and the students money was placed for (their names or codes). Dates are
    the day the bank says the money moved, in Vietnam.
    """
    require_read(actor, school)
    query = select(BankTransaction).where(BankTransaction.school_id == school.id)
    if search.status:
        query = query.where(BankTransaction.status == search.status)
    if search.amount_vnd is not None:
        query = query.where(BankTransaction.amount_vnd == search.amount_vnd)
    # occurred_at is the bank's own clock: Vietnam local time, stored as given (naive).
    if search.date_from:
        query = query.where(BankTransaction.occurred_at >= datetime.combine(
            search.date_from, datetime.min.time()))
    if search.date_to:
        query = query.where(BankTransaction.occurred_at < datetime.combine(
            search.date_to + timedelta(days=1), datetime.min.time()))
    text = (search.text or "").strip()
    if text:
        spaced = " ".join(normalise_header(text).upper().split())
        glued = normalise(text)
        memo = func.upper(BankTransaction.memo)
        squeezed = func.replace(func.replace(func.replace(memo, " ", ""), ".", ""), "-", "")
        conditions = [func.upper(BankTransaction.payer_name).contains(spaced, autoescape=True),
                      memo.contains(spaced, autoescape=True)]
        if glued:
            conditions += [squeezed.contains(glued, autoescape=True),
                           func.upper(BankTransaction.bank_reference).contains(
                               glued, autoescape=True),
                           BankTransaction.payer_account.contains(glued, autoescape=True)]
        students = _student_ids_named(school, text)
        if students:
            placed = select(Allocation.transaction_id).outerjoin(
                Invoice, Allocation.invoice_id == Invoice.id).where(
                or_(Invoice.student_id.in_(students), Allocation.student_id.in_(students)))
            conditions.append(BankTransaction.id.in_(placed))
        query = query.where(or_(*conditions))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    found = list(db.session.scalars(
        query.order_by(BankTransaction.occurred_at.desc(), BankTransaction.id.desc())
        .limit(per_page).offset((max(page, 1) - 1) * per_page)
        .options(selectinload(BankTransaction.allocations))))
    return found, total
