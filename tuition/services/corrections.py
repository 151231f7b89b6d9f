"""Corrections to issued invoices: an exemption granted later, a child joining or leaving.

Invoices are never edited: a correction is a new :class:`InvoiceCorrection` with new lines,
one per charge line it changes (``corrects_line_id``), each on that line's fee item so that
reports by fee item keep meals and tuition apart. Under the invoice's row lock the total
follows, and when the new total is below what was already paid the surplus goes back to the
family as credit, on the bank transactions that paid it (an invoice allocation of -x and a
credit allocation of +x on each, with the reason), and :func:`credits.settle` then spends it on
the family's other open invoices, oldest first. Notices, the parents' page and the VietQR ask
for the invoice's balance, so they follow by themselves.

How a line is recomputed: its quantity and prices stay as billed (a fee item's price changed
since then does not matter); what changes is the reductions (every exemption of the student
valid in the invoice's period, as a billing run would apply them) and the months and school
days the child attended by their joining and leaving dates (see
:func:`coverage.recompute_month`). A correction only ever lowers what is owed; charging more
is a billing run's job. A month nothing is charged for any more is released, so that a later
run may bill it (a child who comes back).

Lock order, as everywhere money moves: the school's row (as billing runs take it, so a run
and a correction of the same school take turns), the student, the student's invoices in id
order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ..core import clock
from ..core.charges import Reduction, charge_gross
from ..core.coverage import Attendance, MonthCharge, recompute_month
from ..core.invoice_state import transition
from ..core.money import format_vnd
from ..core.periods import parse_period
from ..extensions import db
from ..models import (
    Adjustment,
    Allocation,
    BankTransaction,
    BilledMonth,
    Exemption,
    FeeItem,
    Invoice,
    InvoiceCorrection,
    InvoiceLine,
    School,
    Student,
    User,
)
from . import audit, credits

#: Longest description of an invoice line.
_DESCRIPTION_MAX = 200


@dataclass
class InvoiceChange:
    code: str
    period: str
    total_before_vnd: int
    total_after_vnd: int
    to_credit_vnd: int


@dataclass
class CorrectionReport:
    """What a correction changed, for the message shown to the person who made it."""

    reason: str
    invoices: list[InvoiceChange] = field(default_factory=list)
    #: Credit spent at once on the family's open invoices (dong).
    credit_applied_vnd: int = 0
    #: The student's credit after it (all of it, confirmed or in review).
    credit_left_vnd: int = 0
    #: What an invoice could not take (its total reached zero) and waits for the next one.
    carried_vnd: int = 0

    @property
    def to_credit_vnd(self) -> int:
        return sum(change.to_credit_vnd for change in self.invoices)

    def message(self) -> tuple[str, str]:
        """Vietnamese and English sentences saying what changed."""
        if not self.invoices:
            return ("Không có hóa đơn đã lập nào phải điều chỉnh.",
                    "No issued invoice needed correcting.")
        vi, en = [f"{self.reason}."], [f"{self.reason}."]
        for change in self.invoices:
            label = parse_period(change.period).label
            vi.append(f"Hóa đơn {change.code} ({label}): {format_vnd(change.total_before_vnd)} đ "
                      f"→ {format_vnd(change.total_after_vnd)} đ.")
            en.append(f"Invoice {change.code} ({change.period}): {change.total_before_vnd:,} → "
                      f"{change.total_after_vnd:,} VND.")
        if self.to_credit_vnd:
            vi.append(f"{format_vnd(self.to_credit_vnd)} đ đã nộp vượt số phải nộp mới, chuyển "
                      "thành tiền nộp thừa của học sinh (tự động trừ vào các hóa đơn còn nợ); "
                      f"tiền nộp thừa hiện còn {format_vnd(self.credit_left_vnd)} đ.")
            en.append(f"{self.to_credit_vnd:,} VND already paid beyond the new totals became "
                      "the student's credit (it pays open invoices at once); credit now "
                      f"{self.credit_left_vnd:,} VND.")
        if self.carried_vnd:
            vi.append(f"{format_vnd(self.carried_vnd)} đ còn lại sẽ được trừ vào hóa đơn kỳ sau.")
            en.append(f"{self.carried_vnd:,} VND left over will be deducted from the next "
                      "invoice.")
        return " ".join(vi), " ".join(en)

    def as_json(self) -> dict:
        vi, en = self.message()
        return {"reason": self.reason, "message": vi, "message_en": en,
                "invoices": [vars(change) for change in self.invoices],
                "to_credit_vnd": self.to_credit_vnd,
                "credit_applied_vnd": self.credit_applied_vnd,
                "credit_left_vnd": self.credit_left_vnd, "carried_vnd": self.carried_vnd}


def correct_student(actor: User | None, school: School, student: Student, *, cause: str,
                    reason: str, exemption: Exemption | None = None) -> CorrectionReport:
    """Bring the student's issued invoices in line with their exemptions and their joining
    and leaving dates. Flushes; never commits."""
    report = CorrectionReport(reason)
    db.session.execute(select(School.id).where(School.id == school.id)
                       .with_for_update(key_share=True))
    credits.lock_students([student.id])
    invoices = list(db.session.scalars(
        select(Invoice).where(Invoice.student_id == student.id, Invoice.status != "cancelled")
        .order_by(Invoice.id).with_for_update().execution_options(populate_existing=True)))
    if not invoices:
        return report
    ids = [invoice.id for invoice in invoices]
    lines = list(db.session.scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id.in_(ids))
        .order_by(InvoiceLine.invoice_id, InvoiceLine.position)))
    corrected: dict[int, int] = defaultdict(int)
    for line in lines:
        if line.corrects_line_id is not None:
            corrected[line.corrects_line_id] += line.amount_vnd
    months: dict[int, list[BilledMonth]] = defaultdict(list)
    for row in db.session.scalars(
            select(BilledMonth).where(BilledMonth.invoice_id.in_(ids)).order_by(BilledMonth.month)):
        months[row.invoice_line_id].append(row)
    units = dict(db.session.execute(select(FeeItem.id, FeeItem.unit).where(
        FeeItem.id.in_({line.fee_item_id for line in lines if line.fee_item_id}))).all())
    exemptions = list(db.session.scalars(
        select(Exemption).where(Exemption.student_id == student.id)))
    attendance = Attendance(student.joined_on, student.left_on)
    now = clock.now_utc()

    for invoice in invoices:
        period = parse_period(invoice.period)
        valid = [ex for ex in exemptions
                 if ex.valid_from <= period.end and (ex.valid_to is None
                                                     or ex.valid_to >= period.start)]
        changes: list[tuple[InvoiceLine, int]] = []
        for line in lines:
            if line.invoice_id != invoice.id or not line.is_charge:
                continue
            rows = months.get(line.id, [])
            target = _target(line, units.get(line.fee_item_id), rows, valid, attendance,
                             school.partial_month_rule, now)
            current = line.amount_vnd + corrected[line.id]
            if target < current:
                changes.append((line, target - current))
        if changes:
            report.invoices.append(_apply(actor, school, student, invoice, changes, lines,
                                          cause=cause, reason=reason, exemption=exemption,
                                          report=report))
    db.session.flush()
    if report.to_credit_vnd:
        report.credit_applied_vnd = credits.settle([student.id], actor=actor)
    report.credit_left_vnd = credits.balance_vnd(student.id)
    return report


def _target(line: InvoiceLine, unit: str | None, rows: list[BilledMonth],
            exemptions: list[Exemption], attendance: Attendance, rule: str, now) -> int:
    """What a charge line should come to now (see the module's docstring); releases the
    months it no longer charges."""
    reductions = [Reduction(ex.kind, ex.value) for ex in exemptions
                  if ex.fee_item_id in (None, line.fee_item_id)]
    gross, quantity = line.quantity * line.unit_price_vnd, line.quantity
    if rows and all(row.gross_vnd is not None for row in rows):
        now_months = []
        for row in rows:
            billed = MonthCharge((row.month.year, row.month.month), row.gross_vnd, row.days,
                                 row.unit_price_vnd)
            after = recompute_month(unit=unit or "", rule=rule, attendance=attendance,
                                    billed=billed)
            now_months.append(after)
            if after.gross_vnd == 0 and row.released_at is None:
                # Nothing of this month is charged any more: a later run may bill it again
                # (the child comes back), and the row stays as the record of what was.
                row.released_at = now
        gross = sum(m.gross_vnd for m in now_months)
        if unit == "school_day":
            quantity = sum(m.days or 0 for m in now_months)
        elif line.quantity == len(rows):
            quantity = sum(1 for m in now_months if m.gross_vnd)
        else:
            quantity = 1 if gross else 0
    return charge_gross(gross, quantity, reductions).amount_vnd


def _apply(actor, school, student, invoice: Invoice, changes, lines, *, cause, reason,
           exemption, report: CorrectionReport) -> InvoiceChange:
    """Add the correction lines to ``invoice`` (locked), move any surplus to credit."""
    before = invoice.total_vnd
    correction = InvoiceCorrection(
        school_id=school.id, invoice_id=invoice.id, cause=cause,
        exemption_id=exemption.id if exemption else None, reason=reason[:300],
        total_before_vnd=before, total_after_vnd=before, to_credit_vnd=0,
        created_by_id=actor.id if actor else None)
    db.session.add(correction)
    db.session.flush()
    position = max((line.position for line in lines if line.invoice_id == invoice.id),
                   default=0)
    total = before
    recorded = []
    for line, amount in changes:
        # An invoice cannot owe less than nothing: what it cannot take (its credit lines
        # already took the rest) waits, on the same fee item, for the next invoice.
        applied = max(amount, -total)
        if applied:
            position += 1
            db.session.add(InvoiceLine(
                invoice_id=invoice.id, position=position, fee_item_id=line.fee_item_id,
                description=f"Điều chỉnh {line.description}: {reason}"[:_DESCRIPTION_MAX],
                quantity=1, unit_price_vnd=applied, reduction_vnd=0, amount_vnd=applied,
                correction_id=correction.id, corrects_line_id=line.id))
            total += applied
            recorded.append({"line": line.description, "amount_vnd": applied})
        if applied != amount:
            carried = amount - applied
            db.session.add(Adjustment(
                school_id=school.id, student_id=student.id, amount_vnd=carried,
                fee_item_id=line.fee_item_id, created_by_id=actor.id if actor else None,
                description=f"{reason} (phần còn lại sau hóa đơn {invoice.code})"[
                    :_DESCRIPTION_MAX]))
            report.carried_vnd += -carried
    invoice.total_vnd = total
    invoice.status = transition(invoice.status, "payment_changed", total_vnd=invoice.total_vnd,
                                paid_vnd=invoice.paid_vnd)
    surplus = invoice.paid_vnd - invoice.total_vnd
    if surplus > 0:
        _surplus_to_credit(actor, invoice, surplus,
                           f"Điều chỉnh hóa đơn {invoice.code}: {reason}"[:300])
    correction.total_after_vnd = invoice.total_vnd
    correction.to_credit_vnd = max(surplus, 0)
    db.session.flush()
    audit.record(actor, school.id, "invoice.correct", f"invoice:{invoice.code}", cause=cause,
                 reason=reason, total_before_vnd=before, total_after_vnd=invoice.total_vnd,
                 to_credit_vnd=max(surplus, 0), lines=recorded,
                 exemption=exemption.id if exemption else None)
    return InvoiceChange(invoice.code, invoice.period, before, invoice.total_vnd,
                         max(surplus, 0))


def _surplus_to_credit(actor, invoice: Invoice, surplus: int, reason: str) -> None:
    """Move ``surplus`` of what was paid on ``invoice`` to the student's credit, on the
    transactions that paid it, the latest first."""
    from .payments import allocate_credit, allocate_to_invoice

    paid_by = db.session.execute(
        select(Allocation.transaction_id, func.sum(Allocation.amount_vnd),
               func.max(Allocation.id))
        .where(Allocation.kind == "invoice", Allocation.invoice_id == invoice.id)
        .group_by(Allocation.transaction_id)
    ).all()
    for txn_id, paid, _latest in sorted(paid_by, key=lambda row: -row[2]):
        if surplus == 0:
            break
        take = min(int(paid), surplus)
        if take <= 0:
            continue
        txn = db.session.get(BankTransaction, txn_id)
        allocate_to_invoice(txn, invoice, -take, actor=actor, reason=reason)
        allocate_credit(txn, invoice.student_id, take, actor=actor, reason=reason)
        surplus -= take
    if surplus:  # paid_vnd is kept equal to the allocations; this cannot happen
        raise RuntimeError(f"invoice {invoice.code}: paid amount not found in allocations")


def list_corrections(invoice: Invoice) -> list[InvoiceCorrection]:
    return list(db.session.scalars(
        select(InvoiceCorrection).where(InvoiceCorrection.invoice_id == invoice.id)
        .order_by(InvoiceCorrection.id)))
