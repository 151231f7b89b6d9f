"""Cash taken to the bank (nộp tiền mặt vào tài khoản): out of a cash book, then back as a
bank notification that is the school's own money, never a fee payment.

A deposit is recorded with its amount, day and the number of the bank's slip. The bank's
notification of it is recognised when the amount is the same, it arrived within
:data:`WINDOW_DAYS` days of the deposit, and its memo carries the slip number; only then, and
only if exactly one candidate fits, is it linked automatically. Otherwise it waits in the
review queue, where the accountant links it by hand (amount and school checked). A linked
notification is set aside with the reason ``cash_deposit``; the ledger check reports it as the
school's own money and checks the link.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import select

from ..core import clock
from ..core.memo import normalise
from ..extensions import db
from ..models import BankAccount, BankTransaction, CashDeposit, School, User
from . import audit, cash, payments
from .access import require_manage
from .errors import Conflict, Invalid

#: Banks notify a counter deposit the same day or within a few working days.
WINDOW_DAYS = 3
_SLIP = re.compile(r"[0-9A-Za-z][0-9A-Za-z./-]{2,39}")


def _compact(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", normalise(text or "").upper())


def _memo_names(slip: str, memo: str) -> bool:
    """Whether a memo carries the slip number (punctuation and spaces do not matter)."""
    return _compact(slip) in _compact(memo)


def record_deposit(actor: User, school: School, *, amount_vnd: int, deposited_on: date,
                   slip_number: str, cashier_id: int | None = None,
                   bank_account_id: int | None = None) -> CashDeposit:
    """Record cash taken from a cash book to the bank; it leaves the book on that day.

    If the bank's notification is already waiting in the review queue, it is recognised now.
    """
    require_manage(actor, school)
    amount = cash._amount(amount_vnd)
    slip = " ".join(str(slip_number or "").split())
    if not _SLIP.fullmatch(slip):
        raise Invalid("Số giấy nộp tiền phải có 3 đến 40 chữ cái hoặc chữ số.",
                      "The slip number must be 3 to 40 letters or digits.", field="slip_number")
    if not isinstance(deposited_on, date) or deposited_on > clock.today_vn():
        raise Invalid("Ngày nộp tiền không hợp lệ.", "Invalid deposit day.", field="deposited_on")
    account = None
    if bank_account_id is not None:
        account = db.session.get(BankAccount, bank_account_id)
        if account is None or account.school_id != school.id:
            raise Invalid("Tài khoản nhận không thuộc trường.",
                          "The account is not the school's.", field="bank_account_id")
    cashier = cash.cashier_for(actor, school, cashier_id)
    cash.lock_book(cashier.id)
    cash.require_open_day(school.id, cashier.id, deposited_on)
    # The box must hold it on that day and still now (later days may have spent it).
    held = min(cash.book_balance(school.id, cashier.id, until=deposited_on),
               cash.book_balance(school.id, cashier.id))
    if amount > held:
        raise cash.short_of_cash(cashier, held)
    deposit = CashDeposit(
        school_id=school.id, cashier_id=cashier.id,
        bank_account_id=account.id if account else None, amount_vnd=amount,
        deposited_on=deposited_on, slip_number=slip, created_by_id=actor.id)
    db.session.add(deposit)
    db.session.flush()
    cash.add_entry(school_id=school.id, cashier_id=cashier.id, day=deposited_on,
                   kind="deposit", amount_vnd=amount, document=slip, deposit_id=deposit.id,
                   actor=actor, description=f"Nộp tiền mặt vào ngân hàng, giấy nộp tiền {slip}")
    audit.record(actor, school.id, "cash.deposit", f"deposit:{deposit.id}", amount_vnd=amount,
                 slip=slip, day=deposited_on.isoformat(), cashier=cashier.email)
    waiting = _candidates_for(deposit)
    if len(waiting) == 1:
        # Locked and read again: a person or the matcher may have touched it meanwhile.
        txn = payments._lock(waiting[0])
        if txn.status == payments.REVIEW and not txn.allocations:
            _link(deposit, txn, actor=None)
    db.session.flush()
    return deposit


def _window(deposit: CashDeposit) -> tuple[datetime, datetime]:
    start = datetime.combine(deposit.deposited_on, datetime.min.time())
    return start, start + timedelta(days=WINDOW_DAYS + 1)


def _candidates_for(deposit: CashDeposit) -> list[BankTransaction]:
    """Notifications in review that this deposit explains (amount, days, slip in the memo)."""
    start, end = _window(deposit)
    found = db.session.scalars(
        select(BankTransaction).where(
            BankTransaction.school_id == deposit.school_id, BankTransaction.direction == "in",
            BankTransaction.provider.in_(("sepay", "casso", "statement")),
            BankTransaction.status == payments.REVIEW,
            BankTransaction.amount_vnd == deposit.amount_vnd,
            BankTransaction.occurred_at >= start, BankTransaction.occurred_at < end,
            ~BankTransaction.allocations.any())
        .order_by(BankTransaction.id))
    return [txn for txn in found if _memo_names(deposit.slip_number, txn.memo)]


def recognise(txn: BankTransaction) -> bool:
    """For matching: is this incoming notification the cash of a recorded deposit? If so
    (exactly one deposit fits), link it and set it aside as the school's own money."""
    if txn.direction != "in" or txn.school_id is None or txn.allocations:
        return False
    day = txn.occurred_at.date()
    candidates = [
        deposit for deposit in db.session.scalars(
            select(CashDeposit).where(
                CashDeposit.school_id == txn.school_id, CashDeposit.transaction_id.is_(None),
                CashDeposit.amount_vnd == txn.amount_vnd,
                CashDeposit.deposited_on >= day - timedelta(days=WINDOW_DAYS),
                CashDeposit.deposited_on <= day)
            .with_for_update())
        if _memo_names(deposit.slip_number, txn.memo)
    ]
    if len(candidates) != 1:
        return False
    _link(candidates[0], txn, actor=None)
    return True


def link(actor: User, deposit: CashDeposit, txn: BankTransaction) -> CashDeposit:
    """The accountant says which notification is this deposit's money (same school and
    amount, waiting in review with nothing allocated)."""
    school = db.session.get(School, deposit.school_id)
    require_manage(actor, school)
    txn = payments._lock(txn)
    deposit = db.session.scalar(select(CashDeposit).where(CashDeposit.id == deposit.id)
                                .with_for_update().execution_options(populate_existing=True))
    if deposit.transaction_id is not None:
        raise Conflict("Lần nộp tiền này đã được đối chiếu.", "This deposit is already matched.")
    if (txn.school_id != deposit.school_id or txn.direction != "in"
            or txn.status != payments.REVIEW or txn.allocations):
        raise Conflict("Chỉ đối chiếu được giao dịch đang chờ xử lý, chưa gán, của trường.",
                       "Only an unassigned incoming payment in review can be linked.")
    if txn.amount_vnd != deposit.amount_vnd:
        raise Conflict("Số tiền giao dịch khác số tiền đã nộp.",
                       "The payment's amount differs from the deposit's.")
    _link(deposit, txn, actor=actor)
    db.session.flush()
    return deposit


def _link(deposit: CashDeposit, txn: BankTransaction, *, actor: User | None) -> None:
    deposit.transaction_id = txn.id
    deposit.matched_at = clock.now_utc()
    deposit.matched_by_id = actor.id if actor else None
    txn.status, txn.status_reason = "ignored", "cash_deposit"
    audit.record(actor, deposit.school_id, "cash.deposit_matched", f"deposit:{deposit.id}",
                 payment=txn.id, amount_vnd=txn.amount_vnd, slip=deposit.slip_number)


def list_deposits(school: School) -> list[CashDeposit]:
    return list(db.session.scalars(
        select(CashDeposit).where(CashDeposit.school_id == school.id)
        .order_by(CashDeposit.deposited_on.desc(), CashDeposit.id.desc())))


def candidates(deposit: CashDeposit) -> list[BankTransaction]:
    """Notifications in review of the deposit's amount and days, for linking by hand (the
    memo need not name the slip here: a person decides)."""
    start, end = _window(deposit)
    return list(db.session.scalars(
        select(BankTransaction).where(
            BankTransaction.school_id == deposit.school_id, BankTransaction.direction == "in",
            BankTransaction.status == payments.REVIEW,
            BankTransaction.amount_vnd == deposit.amount_vnd,
            BankTransaction.occurred_at >= start, BankTransaction.occurred_at < end,
            ~BankTransaction.allocations.any())
        .order_by(BankTransaction.id)))
