"""Virtual accounts (tài khoản định danh): a student's own account number at the school's bank.

A transfer to a student's virtual account belongs to that student whatever its memo says: it
pays the student's oldest open invoices, and what is left is the student's credit. One
exception, as for siblings paying on one transfer today: a memo naming payment codes of
another child of the same family (same guardian phone) pays those invoices in full first, if
the money covers them; if it does not, all of it stays the student's and waits for a person
to confirm (nobody guesses which child the parent meant).

A school that uses virtual accounts prints each student's on the notice and encodes it in the
VietQR instead of the main account; a transfer to a virtual account it does not know goes to
the review queue with that reason. A school that does not use them matches such transfers by
memo, as any other.

:func:`allocate` is what matching calls for a notification with a virtual account; it is its
own function so that it can move with the matcher.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..core.memo import find_codes
from ..extensions import db
from ..importing.tabular import RowError
from ..importing.virtual_accounts import VirtualAccountRow, VirtualAccountsInvalid
from ..models import (
    Allocation,
    BankAccount,
    BankTransaction,
    Invoice,
    School,
    Student,
    User,
    VirtualAccount,
)
from . import audit, credits, payments
from .access import require_manage, require_read
from .errors import Invalid

#: Why a virtual-account transfer has its status (``status_reason``).
REASON_KNOWN = "virtual_account"
REASON_FAMILY = "virtual_account_family"
REASON_FAMILY_SHORT = "virtual_account_family_short"
REASON_UNKNOWN = "unknown_virtual_account"


@dataclass(frozen=True)
class Payee:
    """Where a parent transfers to: a bank (BIN), an account number and its holder."""

    bin: str
    account_number: str
    account_name: str
    virtual: bool


# --------------------------------------------------------------------------- matching


def allocate(txn: BankTransaction, prefix: str) -> tuple[list[tuple[Allocation, Invoice]],
                                                       int | None]:
    """Book a transfer that names a virtual account (``txn`` is locked and ``received``).

    Returns the allocations made to invoices (for their receipts) and the student credited,
    as :func:`tuition.services.payments._match` does.
    """
    va = db.session.execute(
        select(VirtualAccount.student_id, School.uses_virtual_accounts)
        .join(School, School.id == VirtualAccount.school_id)
        .where(VirtualAccount.school_id == txn.school_id,
               VirtualAccount.number == txn.virtual_account)).first()
    if va is None:
        uses = db.session.scalar(select(School.uses_virtual_accounts).where(
            School.id == txn.school_id))
        if uses:
            txn.status, txn.status_reason = payments.REVIEW, REASON_UNKNOWN
            return [], None
        return payments._match(txn, prefix)
    student_id = va.student_id
    family = _siblings_named(txn, prefix, student_id)
    # Lock order: the students (id order), then their invoices (id order).
    credits.lock_students(sorted({student_id, *(inv.student_id for inv in family)}))
    own_ids = list(db.session.scalars(select(Invoice.id).where(
        Invoice.student_id == student_id, Invoice.status.in_(("open", "partial")))))
    locked = {inv.id: inv for inv in payments._locked_invoices(
        own_ids + [inv.id for inv in family])}
    siblings = [locked[inv.id] for inv in family if locked[inv.id].balance_vnd > 0]
    own = sorted((locked[i] for i in own_ids if locked[i].balance_vnd > 0),
                 key=lambda inv: (inv.due_date, inv.period, inv.id))
    left = txn.amount_vnd
    order: list[Invoice] = []
    reason = REASON_KNOWN
    if siblings:
        if left >= sum(inv.balance_vnd for inv in siblings):
            order, reason = siblings + own, REASON_FAMILY
        else:
            order, reason = own, REASON_FAMILY_SHORT
    else:
        order = own
    wording = _WORDING[reason]
    made = []
    for invoice in order:
        take = min(invoice.balance_vnd, left)
        if take <= 0:
            break
        made.append((payments.allocate_to_invoice(txn, invoice, take, actor=None,
                                                  reason=wording), invoice))
        left -= take
    credited = None
    if left:
        payments.allocate_credit(txn, student_id, left, actor=None, reason=wording)
        credited = student_id
    if reason == REASON_FAMILY_SHORT:
        txn.status = payments.REVIEW
    else:
        txn.status = "matched" if made else "credited"
    txn.status_reason = reason
    return made, credited


_WORDING = {
    REASON_KNOWN: "Chuyển vào tài khoản định danh của học sinh",
    REASON_FAMILY: "Chuyển vào tài khoản định danh; nội dung có mã của anh chị em",
    REASON_FAMILY_SHORT: "Chuyển vào tài khoản định danh; số tiền không đủ cho mã anh chị em "
                         "trong nội dung, cần kiểm tra",
}


def _siblings_named(txn: BankTransaction, prefix: str, student_id: int) -> list[Invoice]:
    """Payable invoices the memo names that belong to another child of the same family."""
    codes = find_codes(txn.memo, [prefix])
    if not codes:
        return []
    phone = db.session.scalar(select(Student.guardian_phone).where(Student.id == student_id))
    if not phone:
        return []
    found = db.session.scalars(
        select(Invoice).join(Student, Student.id == Invoice.student_id)
        .where(Invoice.school_id == txn.school_id, Invoice.code.in_(codes),
               Invoice.student_id != student_id, Student.guardian_phone == phone,
               Invoice.status.in_(("open", "partial"))))
    by_code = {inv.code: inv for inv in found}
    return [by_code[code] for code in dict.fromkeys(codes) if code in by_code]


# --------------------------------------------------------------------------- payee


def payee(school: School, student_id: int) -> Payee | None:
    """The student's virtual account, when the school uses them and the student has one."""
    if not school.uses_virtual_accounts:
        return None
    row = db.session.execute(
        select(VirtualAccount.number, BankAccount.bin, BankAccount.account_name)
        .join(BankAccount, BankAccount.id == VirtualAccount.bank_account_id)
        .where(VirtualAccount.student_id == student_id)).first()
    if row is None:
        return None
    return Payee(row.bin, row.number, row.account_name, True)


def account_of(student_id: int) -> VirtualAccount | None:
    return db.session.scalar(select(VirtualAccount).where(
        VirtualAccount.student_id == student_id))


# --------------------------------------------------------------------------- managing


def import_accounts(actor: User, school: School, rows: list[VirtualAccountRow], *,
                    bank_account_id: int | None = None) -> dict[str, int]:
    """Give students their virtual account numbers from a list (all rows or none).

    A student already on the list gets the new number (the audit log keeps the old one); a
    number may not belong to two students.
    """
    require_manage(actor, school)
    account = (db.session.get(BankAccount, bank_account_id) if bank_account_id
               else school.default_account)
    if account is None or account.school_id != school.id:
        raise Invalid("Hãy chọn tài khoản ngân hàng của trường mà tài khoản định danh thuộc về.",
                      "Choose the school's bank account the virtual accounts belong to.",
                      field="bank_account_id")
    codes = [row.student_code for row in rows]
    students = {s.code: s for s in db.session.scalars(
        select(Student).where(Student.school_id == school.id, Student.code.in_(codes)))}
    existing = {va.student_id: va for va in db.session.scalars(
        select(VirtualAccount).where(VirtualAccount.school_id == school.id))}
    owner = {va.number: va.student_id for va in existing.values()}
    in_file = {students[code].id for code in codes if code in students}
    errors = []
    for row in rows:
        student = students.get(row.student_code)
        if student is None:
            errors.append(RowError(row.row, "Mã học sinh",
                                   f"Không có học sinh mã “{row.student_code}”.",
                                   f"No student {row.student_code!r}."))
            continue
        holder = owner.get(row.number)
        # A number may pass from one student to another only if the list moves both.
        if holder is not None and holder != student.id and holder not in in_file:
            errors.append(RowError(row.row, "Tài khoản định danh",
                                   f"Số {row.number} đang là tài khoản định danh của học sinh "
                                   "khác.", f"{row.number} belongs to another student."))
    if errors:
        raise VirtualAccountsInvalid(errors)
    added, changed = [], []
    unchanged = 0
    for row in rows:
        student = students[row.student_code]
        va = existing.get(student.id)
        if va is None:
            added.append((student, row))
        elif va.number != row.number or va.bank_account_id != account.id:
            changed.append((va, student, row, va.number))
        else:
            unchanged += 1
    # Numbers that change are freed first, so the unique key never sees two owners.
    for va, _student, _row, _old in changed:
        va.number = f"~{va.id}"
    db.session.flush()
    for va, _student, row, _old in changed:
        va.number, va.bank_account_id = row.number, account.id
    db.session.flush()
    for student, row in added:
        db.session.add(VirtualAccount(school_id=school.id, student_id=student.id,
                                      bank_account_id=account.id, number=row.number,
                                      created_by_id=actor.id))
    db.session.flush()
    created, updated = len(added), len(changed)
    changes = [{"student": student.code, "from": old, "to": row.number}
               for _va, student, row, old in changed]
    audit.record(actor, school.id, "virtual_accounts.import", f"school:{school.code}",
                 created=created, updated=updated, changes=changes[:500],
                 bank_account=account.account_number)
    return {"created": created, "updated": updated, "unchanged": unchanged}


def set_usage(actor: User, school: School, uses: bool) -> None:
    """Turn virtual accounts on (notices and VietQR name them; unknown ones go to review) or
    off for a school."""
    require_manage(actor, school)
    if uses and db.session.scalar(select(VirtualAccount.id).where(
            VirtualAccount.school_id == school.id).limit(1)) is None:
        raise Invalid("Hãy nhập danh sách tài khoản định danh trước.",
                      "Import the virtual accounts first.")
    if school.uses_virtual_accounts != uses:
        school.uses_virtual_accounts = uses
        db.session.flush()
        audit.record(actor, school.id, "virtual_accounts.usage", f"school:{school.code}",
                     uses=uses)


def list_accounts(actor: User, school: School) -> list[tuple[VirtualAccount, Student]]:
    require_read(actor, school)
    return [(va, student) for va, student in db.session.execute(
        select(VirtualAccount, Student).join(Student, Student.id == VirtualAccount.student_id)
        .where(VirtualAccount.school_id == school.id).order_by(Student.code))]
