"""Refunds: what the school owes a family, paid back in cash or by transfer with a payment
voucher (phiếu chi), in the ledger as money out.

What a school owes a student is the student's credit: money received beyond what was billed
(an overpayment, a leaver's days not attended turned into credit, an opening balance). A refund
takes it out, on each transaction that holds it, oldest money first: allocation ``credit`` -x
and ``refund`` +x, both pointing to the voucher. So the ledger check sees the dong leave, and
a credit can never be refunded and spent at once (the student's row is locked first).

* A cash refund is paid from a cash book at once (an entry on today's page; the book must
  hold the cash).
* A transfer refund waits for the bank: when the school's account notifies an outgoing
  transfer of the same amount whose memo carries the voucher number (and, when the
  notification names it, to the family's account), it is that refund; the voucher is paid.
  Until then it can be cancelled, which gives the credit back with opposite allocations.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from ..core import clock
from ..core.memo import normalise
from ..core.money import format_vnd
from ..extensions import db
from ..models import (
    Allocation,
    BankTransaction,
    Classroom,
    PaymentVoucher,
    School,
    Student,
    User,
)
from . import audit, cash, credits, documents, payments
from .access import require_manage, require_read
from .errors import Conflict, Invalid, not_found

_ACCOUNT = re.compile(r"[0-9A-Za-z]{4,40}")


def _reason_of(code: str) -> str:
    return f"Hoàn tiền theo phiếu chi {code}"


def refund(actor: User, school: School, student: Student, *, amount_vnd: int, method: str,
           payee_name: str, reason: str, payee_account: str | None = None,
           payee_bank: str | None = None, cashier_id: int | None = None) -> PaymentVoucher:
    """Pay a student's credit back to the family and issue the payment voucher."""
    require_manage(actor, school)
    if student.school_id != school.id:
        raise not_found(f"học sinh “{student.code}”", f"Student {student.code!r}")
    amount = cash._amount(amount_vnd)
    if method not in ("cash", "transfer"):
        raise Invalid("Hình thức hoàn tiền phải là tiền mặt hoặc chuyển khoản.",
                      "method must be cash or transfer.", field="method")
    payee = cash._text(payee_name, "payee_name", "họ tên người nhận tiền", "The payee's name")
    reason = cash._text(reason, "reason", "lý do chi", "A reason", limit=250)
    account = bank = None
    if method == "transfer":
        account = re.sub(r"[\s.-]", "", payee_account or "")
        if not _ACCOUNT.fullmatch(account):
            raise Invalid("Cần số tài khoản nhận tiền (chữ số, không dấu cách).",
                          "The payee's account number is required.", field="payee_account")
        bank = cash._text(payee_bank, "payee_bank", "ngân hàng nhận", "The payee's bank",
                          limit=80)
    today = clock.today_vn()
    cashier = None
    if method == "cash":
        cashier = cash.cashier_for(actor, school, cashier_id)
        cash.lock_book(cashier.id)
        cash.require_open_day(school.id, cashier.id, today)
        held = cash.book_balance(school.id, cashier.id, until=today)
        if amount > held:
            raise cash.short_of_cash(cashier, held)
    credits.lock_students([student.id])
    sources = credits._spendable_by_transaction(student.id)
    available = sum(left for _txn, left in sources)
    if amount > available:
        raise Conflict(
            f"Học sinh {student.code} chỉ có {format_vnd(available)} đ có thể hoàn.",
            f"Student {student.code} has only {available} dong that can be refunded.")
    code = documents.next_number(school.id, "PC", today.year)
    voucher = PaymentVoucher(
        school_id=school.id, code=code, student_id=student.id, amount_vnd=amount,
        method=method, payee_name=payee, payee_account=account, payee_bank=bank,
        reason=reason, cashier_id=cashier.id if cashier else None, issued_by_id=actor.id,
        issued_at=clock.now_utc(), status="paid" if method == "cash" else "pending",
        paid_at=clock.now_utc() if method == "cash" else None)
    db.session.add(voucher)
    db.session.flush()
    left = amount
    for txn_id, held_there in sources:
        take = min(left, held_there)
        txn = db.session.get(BankTransaction, txn_id)
        out = payments.allocate_credit(txn, student.id, -take, actor=actor,
                                       reason=_reason_of(code))
        out.voucher_id = voucher.id
        db.session.add(Allocation(transaction=txn, kind="refund", student_id=student.id,
                                  amount_vnd=take, voucher_id=voucher.id,
                                  created_by_id=actor.id, reason=_reason_of(code)))
        left -= take
        if not left:
            break
    if cashier is not None:
        cash.add_entry(school_id=school.id, cashier_id=cashier.id, day=today, kind="refund",
                       amount_vnd=amount, document=code, voucher_id=voucher.id, actor=actor,
                       description=f"Hoàn tiền {student.full_name} ({student.code}) cho "
                                   f"{payee}: {reason}")
    db.session.flush()
    audit.record(actor, school.id, "refund.issue", f"voucher:{code}", student=student.code,
                 amount_vnd=amount, method=method, payee=payee, reason=reason,
                 payee_account=account)
    if method == "transfer":
        _find_outgoing(voucher)
    return voucher


def cancel(actor: User, voucher: PaymentVoucher, *, reason: str) -> PaymentVoucher:
    """Cancel a transfer refund the bank has not paid: the credit comes back to the student
    (opposite allocations); the voucher keeps its number, marked cancelled."""
    school = db.session.get(School, voucher.school_id)
    require_manage(actor, school)
    reason = cash._text(reason, "reason", "lý do hủy", "A reason", limit=250)
    credits.lock_students([voucher.student_id])
    voucher = db.session.scalar(select(PaymentVoucher).where(PaymentVoucher.id == voucher.id)
                                .with_for_update().execution_options(populate_existing=True))
    if voucher.method != "transfer" or voucher.status != "pending":
        raise Conflict("Chỉ hủy được phiếu chi chuyển khoản chưa được ngân hàng xác nhận.",
                       "Only a transfer refund not yet seen at the bank can be cancelled.")
    for original in db.session.scalars(
        select(Allocation).where(Allocation.voucher_id == voucher.id).order_by(Allocation.id)
    ):
        db.session.add(Allocation(
            transaction_id=original.transaction_id, kind=original.kind,
            student_id=original.student_id, amount_vnd=-original.amount_vnd,
            voucher_id=voucher.id, reverses_id=original.id, created_by_id=actor.id,
            reason=f"Hủy phiếu chi {voucher.code}: {reason}"))
    voucher.status = "cancelled"
    voucher.cancelled_at = clock.now_utc()
    voucher.cancelled_by_id = actor.id
    voucher.cancel_reason = reason
    db.session.flush()
    audit.record(actor, school.id, "refund.cancel", f"voucher:{voucher.code}", reason=reason)
    credits.settle([voucher.student_id], actor=actor)
    return voucher


# --------------------------------------------------------------------------- the bank


def _digits(value: str | None) -> str:
    return re.sub(r"[^0-9A-Z]", "", (value or "").upper())


def _fits(voucher: PaymentVoucher, txn: BankTransaction) -> bool:
    """An outgoing notification is this transfer refund: same school and amount, the
    voucher number in the memo, and (if the bank names it) the family's account."""
    if (txn.school_id != voucher.school_id or txn.direction != "out"
            or txn.amount_vnd != voucher.amount_vnd):
        return False
    if documents.compact(voucher.code) not in normalise(txn.memo or ""):
        return False
    return not txn.payer_account or _digits(txn.payer_account) == _digits(voucher.payee_account)


def recognise_outgoing(txn: BankTransaction) -> bool:
    """For matching: link an outgoing notification to the transfer refund it pays, if exactly
    one pending voucher fits. The notification stays set aside (money out is not matched)."""
    if txn.direction != "out" or txn.school_id is None:
        return False
    fits = [voucher for voucher in db.session.scalars(
        select(PaymentVoucher).where(
            PaymentVoucher.school_id == txn.school_id, PaymentVoucher.method == "transfer",
            PaymentVoucher.status == "pending", PaymentVoucher.amount_vnd == txn.amount_vnd)
        .with_for_update())
        if _fits(voucher, txn)]
    if len(fits) != 1:
        return False
    _pay(fits[0], txn)
    return True


def _find_outgoing(voucher: PaymentVoucher) -> None:
    """A voucher recorded after the bank already notified its transfer: link it now."""
    fits = [txn for txn in db.session.scalars(
        select(BankTransaction).where(
            BankTransaction.school_id == voucher.school_id, BankTransaction.direction == "out",
            BankTransaction.amount_vnd == voucher.amount_vnd,
            BankTransaction.status_reason == "outgoing"))
        if _fits(voucher, txn)
        and db.session.scalar(select(PaymentVoucher.id).where(
            PaymentVoucher.transaction_id == txn.id)) is None]
    if len(fits) == 1:
        _pay(voucher, payments._lock(fits[0]))


def _pay(voucher: PaymentVoucher, txn: BankTransaction) -> None:
    voucher.status = "paid"
    voucher.transaction_id = txn.id
    voucher.paid_at = clock.now_utc()
    txn.status, txn.status_reason = "ignored", "refund"
    db.session.flush()
    audit.record(None, voucher.school_id, "refund.paid", f"voucher:{voucher.code}",
                 payment=txn.id, amount_vnd=voucher.amount_vnd)


# --------------------------------------------------------------------------- reading


def get_voucher(actor: User, voucher_id: int) -> PaymentVoucher:
    voucher = db.session.get(PaymentVoucher, voucher_id)
    if voucher is None or not actor.can_read(voucher.school_id):
        raise not_found("phiếu chi", "Payment voucher")
    return voucher


def list_vouchers(actor: User, school: School) -> list[PaymentVoucher]:
    require_read(actor, school)
    return list(db.session.scalars(
        select(PaymentVoucher).where(PaymentVoucher.school_id == school.id)
        .order_by(PaymentVoucher.id.desc())))


def owed(actor: User, school: School) -> list[dict]:
    """Students the school owes money (they hold credit), those who left first."""
    require_read(actor, school)
    held = dict(db.session.execute(
        select(Allocation.student_id, func.sum(Allocation.amount_vnd))
        .join(Student, Student.id == Allocation.student_id)
        .where(Allocation.kind == "credit", Student.school_id == school.id)
        .group_by(Allocation.student_id)
        .having(func.sum(Allocation.amount_vnd) > 0)).all())
    if not held:
        return []
    spendable = credits.balances_vnd(held)
    rows = db.session.execute(
        select(Student, Classroom.name).join(Classroom, Classroom.id == Student.classroom_id)
        .where(Student.id.in_(held))).all()
    found = [{"student": student, "class": class_name, "credit_vnd": int(held[student.id]),
              "refundable_vnd": spendable.get(student.id, (0, 0))[1]}
             for student, class_name in rows]
    return sorted(found, key=lambda r: (r["student"].status != "left", r["class"],
                                        r["student"].code))


def voucher_json(voucher: PaymentVoucher) -> dict:
    return {
        "id": voucher.id, "code": voucher.code, "student_code": voucher.student.code,
        "student_name": voucher.student.full_name, "amount_vnd": voucher.amount_vnd,
        "method": voucher.method, "payee_name": voucher.payee_name,
        "payee_account": voucher.payee_account, "payee_bank": voucher.payee_bank,
        "reason": voucher.reason, "status": voucher.status,
        "issued_at": voucher.issued_at.isoformat(),
        "paid_at": voucher.paid_at.isoformat() if voucher.paid_at else None,
        "bank_transaction_id": voucher.transaction_id,
    }


def document(voucher: PaymentVoucher):
    """The printable voucher (a :class:`tuition.pdf.vouchers.VoucherDoc`)."""
    from ..core.words import amount_in_words
    from ..pdf.vouchers import VoucherDoc

    school = db.session.get(School, voucher.school_id)
    student = voucher.student
    cashier = db.session.get(User, voucher.cashier_id) if voucher.cashier_id else None
    issuer = db.session.get(User, voucher.issued_by_id) if voucher.issued_by_id else None
    if voucher.method == "transfer":
        how = f"Chuyển khoản đến tài khoản {voucher.payee_account} tại {voucher.payee_bank}"
    else:
        how = "Tiền mặt"
    return VoucherDoc(
        school_name=school.name, school_address=school.address,
        school_tax_code=school.tax_code or "", code=voucher.code,
        issued_at=clock.to_vn(voucher.issued_at), payee_name=voucher.payee_name,
        payee_address=f"Phụ huynh học sinh {student.full_name} ({student.code}), lớp "
                      f"{student.classroom.name}",
        reason=f"{voucher.reason} — hoàn tiền nộp thừa của học sinh {student.full_name}",
        amount_vnd=voucher.amount_vnd, amount_in_words=amount_in_words(voucher.amount_vnd),
        method=how, prepared_by=(issuer.name or issuer.email) if issuer else "",
        cashier=(cashier.name or cashier.email) if cashier else "",
        status=voucher.status, cancel_reason=voucher.cancel_reason)
