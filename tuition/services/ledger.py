"""The ledger check: every dong received is on an invoice, on a credit, refunded, set aside
or waiting for review, and every invoice's paid amount is the sum of its allocations.

Beyond transfers it checks the cash desk, refunds and the year's turn, from the records those
keep (all append-only):

* cash received (provider ``cash``) is one cash-book entry each; a voided cash receipt took
  its money out of the book (the voided part of the payment is "cash voided", not missing);
* the school's own cash coming back from the bank is linked to the deposit it was (own money);
* every refund is on a payment voucher, for exactly the voucher's amount, and a cash refund
  left a cash book; deposits left one too; no cash book holds less than nothing;
* every signed-off day of a cash book still has the figures it was signed with;
* credits brought in as opening balances are reported apart (no money came in for them);
* what a year's turn recorded as carried over (debts, credits) is what the invoices and
  allocations said at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from ..core import clock
from ..extensions import db
from ..models import (
    Allocation,
    BankTransaction,
    CashClosing,
    CashDeposit,
    CashEntry,
    Invoice,
    PaymentVoucher,
    Receipt,
    School,
    Student,
    YearTurn,
)


@dataclass
class LedgerReport:
    school: str
    received_vnd: int = 0
    on_invoices_vnd: int = 0
    on_credit_vnd: int = 0
    refunded_vnd: int = 0
    set_aside_vnd: int = 0
    awaiting_review_vnd: int = 0
    #: Placed: the school's own cash back from the bank; cash whose receipt was voided.
    own_money_vnd: int = 0
    cash_voided_vnd: int = 0
    #: Parts of what was received: counted at the cash desk; credits brought in at the start
    #: (opening balances: no money came in for them here).
    cash_vnd: int = 0
    opening_credit_vnd: int = 0
    #: Refunds by payment voucher (equal to ``refunded_vnd`` when all is well), and the cash
    #: in the cash boxes now.
    vouchers_vnd: int = 0
    cash_in_hand_vnd: int = 0
    #: What the latest year's turn carried over into the new year.
    carried_debt_vnd: int = 0
    carried_credit_vnd: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_school(school: School) -> LedgerReport:
    report = LedgerReport(school.code)
    allocated = (
        select(Allocation.transaction_id,
               func.sum(Allocation.amount_vnd).label("total"),
               func.sum(case((Allocation.kind == "invoice", Allocation.amount_vnd), else_=0))
               .label("invoice"),
               func.sum(case((Allocation.kind == "credit", Allocation.amount_vnd), else_=0))
               .label("credit"),
               func.sum(case((Allocation.kind == "refund", Allocation.amount_vnd), else_=0))
               .label("refund"))
        .group_by(Allocation.transaction_id)
        .subquery()
    )
    voided = (
        select(CashEntry.transaction_id, func.sum(CashEntry.amount_vnd).label("voided"))
        .where(CashEntry.kind == "void").group_by(CashEntry.transaction_id).subquery()
    )
    deposit = (
        select(CashDeposit.transaction_id, CashDeposit.amount_vnd.label("deposited"))
        .where(CashDeposit.transaction_id.is_not(None)).subquery()
    )
    rows = db.session.execute(
        select(BankTransaction.id, BankTransaction.amount_vnd, BankTransaction.status,
               func.coalesce(allocated.c.total, 0), func.coalesce(allocated.c.invoice, 0),
               func.coalesce(allocated.c.credit, 0), func.coalesce(allocated.c.refund, 0),
               BankTransaction.provider, BankTransaction.status_reason,
               func.coalesce(voided.c.voided, 0), deposit.c.deposited)
        .outerjoin(allocated, allocated.c.transaction_id == BankTransaction.id)
        .outerjoin(voided, voided.c.transaction_id == BankTransaction.id)
        .outerjoin(deposit, deposit.c.transaction_id == BankTransaction.id)
        # A duplicate's money is its original's (one transfer seen through two channels).
        .where(BankTransaction.school_id == school.id, BankTransaction.direction == "in",
               BankTransaction.status != "duplicate")
    ).all()
    for (txn_id, amount, status, total, on_invoices, on_credit, refunded, provider, reason,
         cash_voided, deposited) in rows:
        report.received_vnd += amount
        report.on_invoices_vnd += on_invoices
        report.on_credit_vnd += on_credit
        report.refunded_vnd += refunded
        if provider == "cash":
            report.cash_vnd += amount
        elif provider == "opening":
            report.opening_credit_vnd += amount
        free = amount - total
        if cash_voided:
            if provider != "cash" or cash_voided > free:
                report.problems.append(
                    f"payment {txn_id}: {cash_voided} dong voided in the cash book but only "
                    f"{free} dong are off its invoices")
            report.cash_voided_vnd += cash_voided
            free -= cash_voided
        if deposited is not None or reason == "cash_deposit":
            if deposited != amount or total or status != "ignored":
                report.problems.append(
                    f"payment {txn_id}: recognised as a cash deposit but the deposit does not "
                    "explain it")
            report.own_money_vnd += free
            continue
        if free < 0:
            report.problems.append(
                f"payment {txn_id}: allocated {total} exceeds the amount received {amount}")
        elif free and status in ("review", "received"):
            report.awaiting_review_vnd += free
        elif free and status == "ignored":
            report.set_aside_vnd += free
        elif free:
            report.problems.append(
                f"payment {txn_id}: {free} dong unallocated but status is {status!r}")
    placed = (report.on_invoices_vnd + report.on_credit_vnd + report.refunded_vnd
              + report.set_aside_vnd + report.awaiting_review_vnd + report.own_money_vnd
              + report.cash_voided_vnd)
    if placed != report.received_vnd:
        report.problems.append(
            f"received {report.received_vnd} but placed {placed} dong")

    paid = (
        select(Allocation.invoice_id, func.sum(Allocation.amount_vnd).label("paid"))
        .where(Allocation.kind == "invoice")
        .group_by(Allocation.invoice_id)
        .subquery()
    )
    for code, paid_vnd, allocations in db.session.execute(
        select(Invoice.code, Invoice.paid_vnd, func.coalesce(paid.c.paid, 0))
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(Invoice.school_id == school.id,
               Invoice.paid_vnd != func.coalesce(paid.c.paid, 0))
    ):
        report.problems.append(
            f"invoice {code}: paid_vnd {paid_vnd} but allocations sum to {allocations}")
    for student_id, balance in db.session.execute(
        select(Allocation.student_id, func.sum(Allocation.amount_vnd))
        .join(BankTransaction, Allocation.transaction_id == BankTransaction.id)
        .where(Allocation.kind == "credit", BankTransaction.school_id == school.id)
        .group_by(Allocation.student_id)
        .having(func.sum(Allocation.amount_vnd) < 0)
    ):
        report.problems.append(f"student id {student_id}: negative credit {balance}")
    report.problems += duplicates_with_money(school)
    report.problems += credit_problems(school)
    report.problems += asked_amounts_disagree(school)
    _check_cash(school, report)
    _check_vouchers(school, report)
    _check_turns(school, report)
    return report


def _check_cash(school: School, report: LedgerReport) -> None:
    """Cash books against the cash payments, vouchers and deposits they record, and every
    signed-off day against its entries."""
    entries_in = (
        select(CashEntry.transaction_id, func.count().label("n"),
               func.sum(CashEntry.amount_vnd).label("amount"))
        .where(CashEntry.kind == "in").group_by(CashEntry.transaction_id).subquery()
    )
    for txn_id, amount, count, booked in db.session.execute(
        select(BankTransaction.id, BankTransaction.amount_vnd, entries_in.c.n,
               entries_in.c.amount)
        .outerjoin(entries_in, entries_in.c.transaction_id == BankTransaction.id)
        .where(BankTransaction.school_id == school.id, BankTransaction.provider == "cash")
    ):
        if count != 1 or booked != amount:
            report.problems.append(
                f"cash payment {txn_id}: {amount} dong but {count or 0} cash-book entries "
                f"of {booked or 0}")
    for entry_id, amount, receipt_status, receipt_amount in db.session.execute(
        select(CashEntry.id, CashEntry.amount_vnd, Receipt.status, Receipt.amount_vnd)
        .outerjoin(Receipt, Receipt.id == CashEntry.receipt_id)
        .where(CashEntry.school_id == school.id, CashEntry.kind == "void")
    ):
        if receipt_status != "void" or receipt_amount != amount:
            report.problems.append(
                f"cash-book entry {entry_id}: a voided receipt of {amount} dong is not void")
    book_of = {
        voucher: (count, amount) for voucher, count, amount in db.session.execute(
            select(CashEntry.voucher_id, func.count(), func.sum(CashEntry.amount_vnd))
            .where(CashEntry.school_id == school.id, CashEntry.kind == "refund")
            .group_by(CashEntry.voucher_id))
    }
    for voucher_id, code, amount in db.session.execute(
        select(PaymentVoucher.id, PaymentVoucher.code, PaymentVoucher.amount_vnd)
        .where(PaymentVoucher.school_id == school.id, PaymentVoucher.method == "cash")
    ):
        if book_of.pop(voucher_id, None) != (1, amount):
            report.problems.append(f"voucher {code}: the cash book does not show it once")
    for voucher_id in book_of:
        report.problems.append(f"cash-book refund of voucher id {voucher_id}: no cash voucher")
    deposits = {
        deposit_id: (count, amount) for deposit_id, count, amount in db.session.execute(
            select(CashEntry.deposit_id, func.count(), func.sum(CashEntry.amount_vnd))
            .where(CashEntry.school_id == school.id, CashEntry.kind == "deposit")
            .group_by(CashEntry.deposit_id))
    }
    for deposit_id, amount in db.session.execute(
        select(CashDeposit.id, CashDeposit.amount_vnd).where(CashDeposit.school_id == school.id)
    ):
        if deposits.pop(deposit_id, None) != (1, amount):
            report.problems.append(f"deposit {deposit_id}: the cash book does not show it once")
    signed = case((CashEntry.kind == "in", CashEntry.amount_vnd), else_=-CashEntry.amount_vnd)
    for cashier_id, held in db.session.execute(
        select(CashEntry.cashier_id, func.sum(signed))
        .where(CashEntry.school_id == school.id).group_by(CashEntry.cashier_id)
    ):
        report.cash_in_hand_vnd += int(held)
        if held < 0:
            report.problems.append(f"cash book of user {cashier_id}: holds {held} dong")
    for closing in db.session.scalars(
        select(CashClosing).where(CashClosing.school_id == school.id)
        .order_by(CashClosing.day)
    ):
        before, came, went, count = db.session.execute(
            select(func.coalesce(func.sum(case((CashEntry.day < closing.day, signed),
                                               else_=0)), 0),
                   func.coalesce(func.sum(case(((CashEntry.day == closing.day)
                                                & (CashEntry.kind == "in"),
                                                CashEntry.amount_vnd), else_=0)), 0),
                   func.coalesce(func.sum(case(((CashEntry.day == closing.day)
                                                & (CashEntry.kind != "in"),
                                                CashEntry.amount_vnd), else_=0)), 0),
                   func.count(case((CashEntry.day == closing.day, 1))))
            .where(CashEntry.school_id == school.id,
                   CashEntry.cashier_id == closing.cashier_id,
                   CashEntry.day <= closing.day)
        ).one()
        if (int(before), int(came), int(went), count) != (
                closing.opening_vnd, closing.in_vnd, closing.out_vnd, closing.entries):
            report.problems.append(
                f"cash book of user {closing.cashier_id} on {closing.day}: signed off with "
                f"{closing.opening_vnd}+{closing.in_vnd}-{closing.out_vnd} in "
                f"{closing.entries} entries, now {before}+{came}-{went} in {count}")


def _check_vouchers(school: School, report: LedgerReport) -> None:
    """Every refund is on a voucher, and a voucher's refunds and credit taken are its amount
    (nothing when it is cancelled)."""
    sums = {
        voucher_id: (int(refund), int(credit)) for voucher_id, refund, credit in db.session.execute(
            select(Allocation.voucher_id,
                   func.sum(case((Allocation.kind == "refund", Allocation.amount_vnd), else_=0)),
                   func.sum(case((Allocation.kind == "credit", Allocation.amount_vnd), else_=0)))
            .join(BankTransaction, BankTransaction.id == Allocation.transaction_id)
            .where(BankTransaction.school_id == school.id, Allocation.voucher_id.is_not(None))
            .group_by(Allocation.voucher_id))
    }
    for voucher_id, code, amount, status in db.session.execute(
        select(PaymentVoucher.id, PaymentVoucher.code, PaymentVoucher.amount_vnd,
               PaymentVoucher.status).where(PaymentVoucher.school_id == school.id)
    ):
        expected = 0 if status == "cancelled" else amount
        report.vouchers_vnd += expected
        if sums.get(voucher_id, (0, 0)) != (expected, -expected):
            refund, credit = sums.get(voucher_id, (0, 0))
            report.problems.append(
                f"voucher {code}: {expected} dong but refunds {refund}, credit taken {-credit}")
    loose = db.session.scalar(
        select(func.count()).select_from(Allocation)
        .join(BankTransaction, BankTransaction.id == Allocation.transaction_id)
        .where(BankTransaction.school_id == school.id, Allocation.kind == "refund",
               Allocation.voucher_id.is_(None)))
    if loose:
        report.problems.append(f"{loose} refund allocations without a payment voucher")


def _check_turns(school: School, report: LedgerReport) -> None:
    """What each year's turn recorded as carried over is what the records said then."""
    from .year_turn import balances_at

    turns = list(db.session.scalars(select(YearTurn).where(YearTurn.school_id == school.id)
                                    .order_by(YearTurn.turned_at)))
    for turn in turns:
        debts, held = balances_at(school.id, turn.turned_at)
        moved = {move["student"] for move in turn.moves}
        ids = dict(db.session.execute(select(Student.code, Student.id).where(
            Student.school_id == school.id, Student.code.in_(moved))).all())
        recorded = {row["student"]: (row["debt_vnd"], row["credit_vnd"]) for row in turn.carried}
        for code in moved:
            then = (debts.get(ids.get(code), 0), held.get(ids.get(code), 0))
            if recorded.get(code, (0, 0)) != then:
                report.problems.append(
                    f"year turn {turn.from_year}: student {code} carried "
                    f"{recorded.get(code, (0, 0))} but the records say {then}")
        total = (sum(d for d, _c in recorded.values()), sum(c for _d, c in recorded.values()))
        if total != (turn.carried_debt_vnd, turn.carried_credit_vnd):
            report.problems.append(f"year turn {turn.from_year}: totals do not add up")
    if turns:
        report.carried_debt_vnd = turns[-1].carried_debt_vnd
        report.carried_credit_vnd = turns[-1].carried_credit_vnd


def verify_all() -> list[LedgerReport]:
    return [verify_school(s) for s in db.session.scalars(select(School).order_by(School.code))]


def duplicates_with_money(school: School) -> list[str]:
    """A transaction marked as another's duplicate must hold no money of its own."""
    rows = db.session.execute(
        select(BankTransaction.id).where(
            BankTransaction.school_id == school.id, BankTransaction.status == "duplicate",
            BankTransaction.allocations.any())).scalars().all()
    return [f"payment {txn_id}: marked duplicate but has allocations" for txn_id in rows]


def credit_problems(school: School) -> list[str]:
    """Each student's credit is the credit booked and not spent, per transaction that holds it
    (no transaction's credit spent twice), and confirmed credit never sits beside an open
    invoice of the same student (it pays what is open at once)."""
    from .credits import CONFIRMED

    problems = []
    for student_id, txn_id, balance in db.session.execute(
        select(Allocation.student_id, Allocation.transaction_id, func.sum(Allocation.amount_vnd))
        .join(BankTransaction, Allocation.transaction_id == BankTransaction.id)
        .where(Allocation.kind == "credit", BankTransaction.school_id == school.id)
        .group_by(Allocation.student_id, Allocation.transaction_id)
        .having(func.sum(Allocation.amount_vnd) < 0)
    ):
        problems.append(f"student id {student_id}: credit of payment {txn_id} overspent "
                        f"({balance})")
    confirmed = (
        select(Allocation.student_id, func.sum(Allocation.amount_vnd).label("credit"))
        .join(BankTransaction, Allocation.transaction_id == BankTransaction.id)
        .where(Allocation.kind == "credit", BankTransaction.school_id == school.id,
               BankTransaction.status.in_(CONFIRMED))
        .group_by(Allocation.student_id)
        .having(func.sum(Allocation.amount_vnd) > 0)
        .subquery())
    for student_id, credit, code in db.session.execute(
        select(confirmed.c.student_id, confirmed.c.credit, Invoice.code)
        .join(Invoice, Invoice.student_id == confirmed.c.student_id)
        .where(Invoice.status.in_(("open", "partial")), Invoice.total_vnd > Invoice.paid_vnd)
    ):
        problems.append(f"student id {student_id}: {credit} dong of confirmed credit unspent "
                        f"while invoice {code} is open")
    return problems


def asked_amounts_disagree(school: School) -> list[str]:
    """The amount asked for each open invoice is one net figure wherever a person reads it:
    the ledger's (total less what its allocations placed on it) is what the notice and the
    parents' page print and encode in the VietQR, what the API says is due and what the
    arrears report says is owed."""
    from ..core import vietqr
    from ..models import User
    from . import invoices as invoice_views
    from . import reports

    open_invoices = list(db.session.scalars(
        select(Invoice).where(Invoice.school_id == school.id,
                              Invoice.status.in_(("open", "partial")))))
    if not open_invoices:
        return []
    placed = dict(db.session.execute(
        select(Allocation.invoice_id, func.sum(Allocation.amount_vnd))
        .where(Allocation.kind == "invoice",
               Allocation.invoice_id.in_([inv.id for inv in open_invoices]))
        .group_by(Allocation.invoice_id)).all())
    shown = invoice_views.paid_breakdown(open_invoices)
    reader = User(role="admin", email="verify-ledger@localhost")
    owed = {row["invoice_code"]: row["balance_vnd"] for row in reports.arrears(
        reader, school, period=None, group_by=None, today=clock.today_vn())["items"]}
    has_account = bool(school.bank_accounts)
    problems = []
    for invoice in open_invoices:
        due = invoice.total_vnd - int(placed.get(invoice.id) or 0)
        figures = {"notice/page": shown[invoice.id].due_vnd,
                   "api": invoice_views.invoice_json(invoice, detail=True).get(
                       "due_vnd", invoice.balance_vnd),
                   "arrears": owed.get(invoice.code, 0)}
        if has_account and due > 0:
            payload = invoice_views.qr_payload(invoice)
            figures["vietqr"] = vietqr.parse_payload(payload).amount_vnd if payload else 0
        if any(value != due for value in figures.values()):
            problems.append(f"invoice {invoice.code}: {due} dong due by the ledger but asked "
                            f"{figures}")
    return problems
