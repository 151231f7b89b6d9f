"""The cash desk (thu tiền mặt) and the cash book (sổ quỹ tiền mặt).

Cash is booked like a transfer: a :class:`BankTransaction` with provider ``cash`` (no bank
account; the entry as JSON in ``raw``; who recorded it), allocated by the same functions
(oldest open invoice first, or the invoices chosen; surplus to the student's credit, which then
pays what is open), with receipts at once and the audit log. What a transfer does not have is
a cash box: every cash movement is also an entry in the cash book of the person who took the
money, one book per person and day.

Rules:

* lock order, as everywhere money moves: the transaction, the cash book (its holder's user
  row, ``FOR NO KEY UPDATE``), the students, their invoices, each in id order;
* a day signed off (:func:`close_day`) is locked together with every earlier day of that
  book: nothing is added to it or taken from it; a later correction is an entry on the day it
  is made, and the ledger check compares each signed closing with the entries;
* voiding a cash receipt (without a replacement) gives the money back: its allocation is
  reversed and the cash leaves the book on the day of the void. Voiding with a replacement
  (a wrong name) keeps the money, as for a transfer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select

from ..core import clock
from ..core.money import format_vnd
from ..core.names import sort_key
from ..extensions import db
from ..models import (
    Allocation,
    BankTransaction,
    CashClosing,
    CashEntry,
    Classroom,
    Invoice,
    Receipt,
    School,
    Student,
    User,
)
from . import audit, credits, documents, payments, receipts
from .access import require_manage, require_read
from .errors import Conflict, Invalid, not_found
from .students import class_name_key

#: More than any family pays at once; a larger number is a typo (an extra 000).
MAX_CASH_VND = 1_000_000_000
#: A payment may be dated a little ahead of the server's clock (a desk clock running fast).
FUTURE_TOLERANCE = timedelta(minutes=5)
#: The reason on the allocations a cash payment makes.
CASH_REASON = "Thu tiền mặt"


@dataclass
class CashPayment:
    """What recording one cash payment made."""

    transaction: BankTransaction
    entry: CashEntry
    receipts: list[Receipt]
    #: Dong that went to the student's credit (before credit paid anything else).
    credited_vnd: int


@dataclass(frozen=True)
class CashItem:
    """One line of a class's cash sheet: a student, the cash and who handed it over."""

    student_code: str
    amount_vnd: int
    payer_name: str | None = None


# --------------------------------------------------------------------------- checks


def _amount(value, field_name: str = "amount_vnd") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Invalid("Số tiền phải là số nguyên đồng dương.",
                      "The amount must be a positive whole number of dong.", field=field_name)
    if value > MAX_CASH_VND:
        raise Invalid(f"Số tiền {format_vnd(value)} đ quá lớn.",
                      f"The amount {value} is too large.", field=field_name)
    return value


def _text(value, field_name: str, label_vi: str, label_en: str, *, limit: int = 120,
          required: bool = True) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise Invalid(f"Cần ghi {label_vi}.", f"{label_en} is required.", field=field_name)
    if len(text) > limit:
        raise Invalid(f"{label_vi.capitalize()} dài quá {limit} ký tự.",
                      f"{label_en} is longer than {limit} characters.", field=field_name)
    return text


def local_moment(moment: datetime | None) -> datetime:
    """A moment as Vietnam's wall-clock time without zone (how bank times are stored).
    ``None`` is now; a naive value is taken as Vietnam time already."""
    if moment is None:
        return clock.now_vn().replace(tzinfo=None, microsecond=0)
    if moment.tzinfo is not None:
        moment = moment.astimezone(clock.VIETNAM).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _when(paid_at: datetime | None) -> datetime:
    moment = local_moment(paid_at)
    if moment > clock.now_vn().replace(tzinfo=None) + FUTURE_TOLERANCE:
        raise Invalid("Thời điểm nộp tiền ở tương lai.", "The payment is dated in the future.",
                      field="paid_at")
    return moment


def cashier_for(actor: User, school: School, cashier_id: int | None) -> User:
    """The person whose cash box takes the money: the actor, or a colleague who may handle
    the school's money."""
    if cashier_id is None or (actor.id is not None and cashier_id == actor.id):
        if actor.id is None:
            raise Invalid("Cần chọn người thu tiền.", "Choose who took the money.",
                          field="cashier")
        return actor
    cashier = db.session.get(User, cashier_id)
    if cashier is None or not cashier.can_manage_money(school.id):
        raise Invalid("Người thu tiền phải là kế toán của trường.",
                      "The cashier must be an accountant of the school.", field="cashier")
    return cashier


def cashiers(school: School) -> list[User]:
    """Who may hold this school's cash: its accountants, and anyone with entries in its
    books (an admin who once took money)."""
    with_entries = select(CashEntry.cashier_id).where(CashEntry.school_id == school.id)
    return list(db.session.scalars(
        select(User).where(
            ((User.school_id == school.id) & (User.role == "accountant"))
            | User.id.in_(with_entries))
        .order_by(User.name, User.email)))


def book_holder(actor: User, school: School, cashier_id: int | None) -> User:
    """Whose cash book to show or sign: the actor's, or that of someone who may hold this
    school's cash (never a stranger's name for the asking)."""
    if cashier_id is None or cashier_id == actor.id:
        return actor
    holder = next((user for user in cashiers(school) if user.id == cashier_id), None)
    if holder is None:
        raise not_found("sổ quỹ của người này", "Cash book")
    return holder


def short_of_cash(cashier: User, held: int) -> Conflict:
    """The refusal of money taken out of a cash box that holds only ``held``."""
    return Conflict(f"Quỹ tiền mặt của {cashier.name or cashier.email} chỉ còn "
                    f"{format_vnd(held)} đ.", f"That cash book holds only {held} dong.")


def book_to_read(actor: User, school: School, cashier_id: int | None, day: date) -> User:
    """Whose cash book to show: as :func:`book_holder`, except that someone who holds no cash
    (a principal) and names nobody sees the book of the first who took cash that day (else
    the first who may hold it)."""
    if cashier_id is None:
        people = cashiers(school)
        if people and actor.id not in {user.id for user in people}:
            busy = set(db.session.scalars(select(CashEntry.cashier_id).where(
                CashEntry.school_id == school.id, CashEntry.day == day)))
            return next((user for user in people if user.id in busy), people[0])
    return book_holder(actor, school, cashier_id)


def lock_book(cashier_id: int) -> None:
    """Lock one person's cash book (their user row; NO KEY UPDATE, so rows that merely
    refer to the user are not held up). Taken after the transaction and before the students."""
    db.session.execute(select(User.id).where(User.id == cashier_id)
                       .with_for_update(key_share=True))


def locked_since(school_id: int, cashier_id: int) -> date | None:
    """The last day signed off in this book: it and every day before it are locked."""
    return db.session.scalar(
        select(func.max(CashClosing.day)).where(CashClosing.school_id == school_id,
                                                CashClosing.cashier_id == cashier_id))


def require_open_day(school_id: int, cashier_id: int, day: date) -> None:
    """Refuse to change a day of a book that is signed off (or followed by one that is)."""
    last = locked_since(school_id, cashier_id)
    if last is not None and day <= last:
        raise Conflict(
            f"Sổ quỹ đã khóa đến ngày {clock.format_date(last)}; không thể ghi thêm vào ngày "
            f"{clock.format_date(day)}. Hãy ghi điều chỉnh vào ngày hôm nay.",
            f"The cash book is signed off up to {last.isoformat()}; nothing can be added to "
            f"{day.isoformat()}. Record a correction today.")


def book_balance(school_id: int, cashier_id: int, *, before: date | None = None,
                 until: date | None = None) -> int:
    """Cash in one book: every entry (before a day, or up to and including one)."""
    query = select(func.sum(CashEntry.amount_vnd * SIGN)).where(CashEntry.school_id == school_id,
                                 CashEntry.cashier_id == cashier_id)
    if before is not None:
        query = query.where(CashEntry.day < before)
    if until is not None:
        query = query.where(CashEntry.day <= until)
    return int(db.session.scalar(query) or 0)


#: +1 for cash in, -1 for every way cash leaves a box.
SIGN = case((CashEntry.kind == "in", 1), else_=-1)


def add_entry(*, school_id: int, cashier_id: int, day: date, kind: str, amount_vnd: int,
              document: str, description: str, actor: User | None, **links) -> CashEntry:
    """Append one line to a cash book (the caller holds the book's lock and checked the day)."""
    entry = CashEntry(school_id=school_id, cashier_id=cashier_id, day=day, kind=kind,
                      amount_vnd=amount_vnd, document=document, description=description[:300],
                      created_by_id=actor.id if actor else None, **links)
    db.session.add(entry)
    return entry


# --------------------------------------------------------------------------- cash in


def record_cash(actor: User, school: School, student: Student, *, amount_vnd: int,
                payer_name: str, paid_at: datetime | None = None,
                invoice_codes: list[str] | None = None, cashier_id: int | None = None,
                note: str = "") -> CashPayment:
    """Book cash handed over at the office for one student; issue its receipts at once.

    The money pays the invoices chosen (``invoice_codes``, in that order) or else the
    student's open invoices oldest first; what is left is the student's credit, which (being
    confirmed money) pays any other open invoice at once.
    """
    require_manage(actor, school)
    if student.school_id != school.id:
        raise not_found(f"học sinh “{student.code}”", f"Student {student.code!r}")
    amount = _amount(amount_vnd)
    payer = _text(payer_name, "payer_name", "họ tên người nộp", "The payer's name")
    note = _text(note, "note", "ghi chú", "The note", limit=200, required=False)
    moment = _when(paid_at)
    cashier = cashier_for(actor, school, cashier_id)
    chosen = [code.strip().upper() for code in (invoice_codes or []) if code.strip()]

    document = documents.next_number(school.id, "PT", moment.year)
    txn = BankTransaction(
        provider="cash", provider_txn_id=f"{school.id}/{document}", school_id=school.id,
        bank_account_id=None, account_number="", direction="in", amount_vnd=amount,
        memo=f"Tiền mặt {document} {student.code}" + (f" — {note}" if note else ""),
        bank_reference=None, occurred_at=moment, payer_account=None, payer_name=payer,
        bank_name=None, status="received", status_reason="cash", recorded_by_id=actor.id,
        raw=json.dumps({"document": document, "student_code": student.code,
                        "amount_vnd": amount, "payer_name": payer,
                        "paid_at": moment.isoformat(sep=" "), "invoices": chosen,
                        "cashier": cashier.email, "recorded_by": actor.email, "note": note},
                       ensure_ascii=False),
    )
    db.session.add(txn)
    db.session.flush()
    # Lock order: this (new) transaction, the cash book, the student, the invoices.
    lock_book(cashier.id)
    require_open_day(school.id, cashier.id, moment.date())
    credits.lock_students([student.id])
    targets = _targets(student, chosen)
    made: list[tuple[Allocation, Invoice]] = []
    left = amount
    for invoice in targets:
        take = min(invoice.balance_vnd, left)
        if take <= 0:
            continue
        made.append((payments.allocate_to_invoice(txn, invoice, take, actor=actor,
                                                  reason=CASH_REASON), invoice))
        left -= take
    if left:
        payments.allocate_credit(txn, student.id, left, actor=actor,
                                 reason=f"{CASH_REASON}: nộp thừa")
    db.session.flush()
    txn.status = "matched" if made else "credited"
    entry = add_entry(
        school_id=school.id, cashier_id=cashier.id, day=moment.date(), kind="in",
        amount_vnd=amount, document=document, transaction_id=txn.id, actor=actor,
        description=f"Thu tiền {student.full_name} ({student.code}), người nộp {payer}")
    issued = receipts.issue_pending(txn, actor=actor)
    audit.record(actor, school.id, "cash.receive", f"payment:{txn.id}", document=document,
                 student=student.code, amount_vnd=amount, payer=payer,
                 cashier=cashier.email, invoices=[inv.code for _a, inv in made],
                 credit_vnd=left)
    if left:
        credits.settle([student.id], actor=actor)
    db.session.flush()
    return CashPayment(txn, entry, issued, left)


def _targets(student: Student, chosen: list[str]) -> list[Invoice]:
    """The invoices cash pays, locked (id order) and in the order they are paid."""
    query = select(Invoice.id).where(Invoice.student_id == student.id)
    if chosen:
        found = dict(db.session.execute(
            select(Invoice.code, Invoice.id).where(Invoice.student_id == student.id,
                                                   Invoice.code.in_(chosen))).all())
        if missing := [code for code in chosen if code not in found]:
            raise Invalid(f"Không có hóa đơn {', '.join(missing)} của học sinh {student.code}.",
                          f"Student {student.code} has no invoice {', '.join(missing)}.",
                          field="invoices")
        ids = [found[code] for code in chosen]
    else:
        ids = list(db.session.scalars(query.where(Invoice.status.in_(("open", "partial")))))
    locked = {inv.id: inv for inv in payments._locked_invoices(ids)}
    if chosen:
        ordered = [locked[i] for i in ids]
        if closed := [inv.code for inv in ordered if inv.status not in ("open", "partial")]:
            raise Conflict(f"Hóa đơn {', '.join(closed)} không còn phải nộp.",
                           f"Invoice {', '.join(closed)} has nothing left to pay.")
        return ordered
    # As credit is spent: due date, then period, then id.
    return sorted((inv for inv in locked.values() if inv.status in ("open", "partial")),
                  key=lambda inv: (inv.due_date, inv.period, inv.id))


def record_many(actor: User, school: School, items: list[CashItem], *,
                paid_at: datetime | None = None, cashier_id: int | None = None
                ) -> list[CashPayment]:
    """Book a class's cash in one go: every line or none (the first bad line refuses all,
    naming each bad line)."""
    require_manage(actor, school)
    if not items:
        raise Invalid("Chưa chọn học sinh nào đã nộp tiền mặt.",
                      "No student was ticked as having paid in cash.")
    codes = [item.student_code.strip().upper() for item in items]
    found = {s.code: s for s in db.session.scalars(
        select(Student).where(Student.school_id == school.id, Student.code.in_(codes)))}
    errors = []
    for code, item in zip(codes, items, strict=True):
        if code not in found:
            errors.append({"student_code": code, "message": "Không có học sinh này.",
                           "message_en": "No such student."})
            continue
        if (isinstance(item.amount_vnd, bool) or not isinstance(item.amount_vnd, int)
                or not 0 < item.amount_vnd <= MAX_CASH_VND):
            errors.append({"student_code": code, "message": "Số tiền không hợp lệ.",
                           "message_en": "Invalid amount."})
    if len(set(codes)) != len(codes):
        errors.append({"student_code": "", "message": "Một học sinh có hai dòng.",
                       "message_en": "A student is listed twice."})
    if errors:
        raise Invalid(f"Có {len(errors)} dòng không hợp lệ; chưa ghi nhận khoản nào.",
                      f"{len(errors)} lines are invalid; nothing was recorded.", errors=errors)
    moment = _when(paid_at)
    done = []
    for code, item in zip(codes, items, strict=True):
        student = found[code]
        payer = item.payer_name or student.guardian_name or student.full_name
        done.append(record_cash(actor, school, student, amount_vnd=item.amount_vnd,
                                payer_name=payer, paid_at=moment, cashier_id=cashier_id))
    return done


def open_invoices(student: Student) -> list[Invoice]:
    """A student's invoices with something left to pay, in the order cash pays them."""
    return list(db.session.scalars(
        select(Invoice).where(Invoice.student_id == student.id,
                              Invoice.status.in_(("open", "partial")))
        .order_by(Invoice.due_date, Invoice.period, Invoice.id)))


def class_sheet(actor: User, school: School, class_name: str) -> list[dict]:
    """The students of a class (studying), each with what is due and the credit held, in
    class-list order: the bulk cash form."""
    require_read(actor, school)
    name = class_name_key(class_name)
    students = list(db.session.scalars(
        select(Student).join(Classroom, Classroom.id == Student.classroom_id)
        .where(Student.school_id == school.id, Classroom.name == name,
               Student.status == "studying")))
    students.sort(key=lambda s: (sort_key(s.full_name), s.code))
    ids = [s.id for s in students]
    due = dict(db.session.execute(
        select(Invoice.student_id, func.sum(Invoice.total_vnd - Invoice.paid_vnd))
        .where(Invoice.student_id.in_(ids), Invoice.status.in_(("open", "partial")))
        .group_by(Invoice.student_id)).all()) if ids else {}
    held = credits.balances_vnd(ids)
    return [{"student": s, "due_vnd": int(due.get(s.id) or 0),
             "credit_vnd": held.get(s.id, (0, 0))[0]} for s in students]


# --------------------------------------------------------------------------- the book


@dataclass
class BookLine:
    entry: CashEntry
    #: Cash in the box after this line.
    balance_vnd: int
    #: For cash received: the receipts it produced (void ones included).
    receipts: list[Receipt] = field(default_factory=list)


@dataclass
class CashBook:
    school: School
    cashier: User
    day: date
    opening_vnd: int
    lines: list[BookLine]
    closing: CashClosing | None
    #: The last day signed off in this book (this day is locked if it is on or before it).
    locked_until: date | None

    @property
    def in_vnd(self) -> int:
        return sum(line.entry.amount_vnd for line in self.lines if line.entry.kind == "in")

    @property
    def out_vnd(self) -> int:
        return sum(line.entry.amount_vnd for line in self.lines if line.entry.kind != "in")

    @property
    def closing_vnd(self) -> int:
        return self.opening_vnd + self.in_vnd - self.out_vnd

    @property
    def locked(self) -> bool:
        return self.locked_until is not None and self.day <= self.locked_until


def cash_book(actor: User, school: School, cashier: User, day: date) -> CashBook:
    """One person's cash book for one day: opening balance, every entry, closing balance,
    and the signed closing if the day is signed off."""
    require_read(actor, school)
    entries = list(db.session.scalars(
        select(CashEntry).where(CashEntry.school_id == school.id,
                                CashEntry.cashier_id == cashier.id, CashEntry.day == day)
        .order_by(CashEntry.id)))
    by_txn: dict[int, list[Receipt]] = {}
    txn_ids = [e.transaction_id for e in entries if e.kind == "in"]
    if txn_ids:
        for receipt, txn_id in db.session.execute(
            select(Receipt, Allocation.transaction_id)
            .join(Allocation, Allocation.id == Receipt.allocation_id)
            .where(Allocation.transaction_id.in_(txn_ids)).order_by(Receipt.id)
        ):
            by_txn.setdefault(txn_id, []).append(receipt)
    opening = book_balance(school.id, cashier.id, before=day)
    lines, running = [], opening
    for entry in entries:
        running += entry.signed_vnd
        lines.append(BookLine(entry, running, by_txn.get(entry.transaction_id, [])
                              if entry.kind == "in" else []))
    closing = db.session.scalar(select(CashClosing).where(
        CashClosing.school_id == school.id, CashClosing.cashier_id == cashier.id,
        CashClosing.day == day))
    return CashBook(school, cashier, day, opening, lines, closing,
                    locked_since(school.id, cashier.id))


def close_day(actor: User, school: School, cashier: User, day: date, *, counted_vnd: int,
              note: str = "") -> CashClosing:
    """Sign off one day of a cash book: its figures are recorded and the day (with every day
    before it) is locked. The cash counted is recorded too; a difference needs a note."""
    require_manage(actor, school)
    if day > clock.today_vn():
        raise Invalid("Không thể khóa sổ một ngày chưa đến.", "A future day cannot be closed.",
                      field="day")
    if isinstance(counted_vnd, bool) or not isinstance(counted_vnd, int) or counted_vnd < 0:
        raise Invalid("Số tiền đếm được phải là số nguyên đồng, không âm.",
                      "The cash counted must be a whole number of dong, not negative.",
                      field="counted_vnd")
    note = _text(note, "note", "ghi chú", "The note", limit=300, required=False)
    lock_book(cashier.id)
    require_open_day(school.id, cashier.id, day)
    book = cash_book(actor, school, cashier, day)
    if counted_vnd != book.closing_vnd and not note:
        raise Invalid(
            f"Tiền đếm được ({format_vnd(counted_vnd)} đ) khác số dư cuối ngày "
            f"({format_vnd(book.closing_vnd)} đ); hãy ghi lý do chênh lệch.",
            f"The cash counted ({counted_vnd}) differs from the closing balance "
            f"({book.closing_vnd}); explain the difference in the note.", field="note")
    closing = CashClosing(
        school_id=school.id, cashier_id=cashier.id, day=day, opening_vnd=book.opening_vnd,
        in_vnd=book.in_vnd, out_vnd=book.out_vnd, closing_vnd=book.closing_vnd,
        entries=len(book.lines), counted_vnd=counted_vnd, note=note, signed_by_id=actor.id,
        signed_at=clock.now_utc())
    db.session.add(closing)
    db.session.flush()
    audit.record(actor, school.id, "cash_book.close", f"cash_book:{cashier.id}:{day}",
                 opening_vnd=book.opening_vnd, in_vnd=book.in_vnd, out_vnd=book.out_vnd,
                 closing_vnd=book.closing_vnd, counted_vnd=counted_vnd, note=note)
    return closing


# --------------------------------------------------------------------------- voiding


def is_cash_receipt(receipt: Receipt) -> bool:
    """A receipt for cash handed over at the desk (not for credit spent later)."""
    allocation = db.session.get(Allocation, receipt.allocation_id)
    return (allocation is not None and allocation.transaction.provider == "cash"
            and allocation.reason != receipts.CREDIT_USE_REASON)


def void_receipt(actor: User, receipt: Receipt, *, reason: str) -> CashEntry:
    """Void a cash receipt and give its money back: the allocation is reversed (the invoice
    is owed again) and the cash leaves the book of whoever took it, on today's page.

    The receipt keeps its number and shows as void everywhere, as any voided receipt.
    """
    school = db.session.get(School, receipt.school_id)
    require_manage(actor, school)
    reason = _text(reason, "reason", "lý do hủy biên lai", "A reason", limit=250)
    if not is_cash_receipt(receipt):
        raise Conflict("Đây không phải biên lai thu tiền mặt.", "This is not a cash receipt.")
    original = db.session.get(Allocation, receipt.allocation_id)
    txn = payments._lock(original.transaction)
    entry_in = db.session.scalar(select(CashEntry).where(
        CashEntry.transaction_id == txn.id, CashEntry.kind == "in"))
    today = clock.today_vn()
    lock_book(entry_in.cashier_id)
    require_open_day(school.id, entry_in.cashier_id, today)
    if receipt.status != "valid" or any(a.reverses_id == original.id for a in txn.allocations):
        raise Conflict("Biên lai đã bị hủy.", "The receipt is already void.")
    (invoice,) = payments._locked_invoices([original.invoice_id])
    payments.allocate_to_invoice(txn, invoice, -original.amount_vnd, actor=actor,
                                 reason=f"Hủy biên lai {receipt.label}: {reason}",
                                 reverses=original)
    db.session.flush()
    receipts.void(actor, receipt, reason=reason)
    entry = add_entry(
        school_id=school.id, cashier_id=entry_in.cashier_id, day=today, kind="void",
        amount_vnd=original.amount_vnd, document=receipt.label, transaction_id=txn.id,
        receipt_id=receipt.id, actor=actor,
        description=f"Hủy biên lai {receipt.label} ({entry_in.document}): {reason}")
    if payments.allocated_vnd(txn) == 0:
        # All of it went back: nothing of this cash stays, nor waits for anybody.
        txn.status, txn.status_reason = "ignored", "cash_void"
    db.session.flush()
    audit.record(actor, school.id, "cash.void", f"receipt:{receipt.label}", reason=reason,
                 amount_vnd=original.amount_vnd, document=entry_in.document)
    return entry


def document_of(txn: BankTransaction) -> str:
    """The phiếu thu number of a cash payment."""
    return txn.provider_txn_id.partition("/")[2]


def book_document(book: CashBook):
    """The printable day of a cash book (a :class:`tuition.pdf.cash_book.CashBookDoc`)."""
    from ..pdf.cash_book import CashBookDoc, CashBookRow

    if book.closing is not None:
        signer = db.session.get(User, book.closing.signed_by_id)
        status = (f"Đã khóa sổ lúc {clock.format_datetime(book.closing.signed_at)} bởi "
                  f"{signer.name or signer.email}; tiền đếm được "
                  f"{format_vnd(book.closing.counted_vnd)} đ")
        if book.closing.note:
            status += f" ({book.closing.note})"
    elif book.locked:
        status = "Ngày này đã khóa (đã khóa sổ một ngày sau)."
    else:
        status = "Chưa khóa sổ."
    rows = tuple(
        CashBookRow(line.entry.document, line.entry.description,
                    line.entry.amount_vnd if line.entry.kind == "in" else 0,
                    0 if line.entry.kind == "in" else line.entry.amount_vnd, line.balance_vnd)
        for line in book.lines)
    return CashBookDoc(
        school_name=book.school.name, school_address=book.school.address,
        cashier=book.cashier.name or book.cashier.email, day=book.day,
        opening_vnd=book.opening_vnd, rows=rows, in_vnd=book.in_vnd, out_vnd=book.out_vnd,
        closing_vnd=book.closing_vnd, status=status)


def payment_receipts(school: School, transaction_ids: list[int]) -> list[Receipt]:
    """The receipts of some cash payments of a school (to print them together), in order."""
    if not transaction_ids:
        return []
    return list(db.session.scalars(
        select(Receipt).join(Allocation, Allocation.id == Receipt.allocation_id)
        .join(BankTransaction, BankTransaction.id == Allocation.transaction_id)
        .where(Receipt.school_id == school.id, BankTransaction.school_id == school.id,
               Allocation.transaction_id.in_(transaction_ids))
        .order_by(Receipt.series, Receipt.number)))
