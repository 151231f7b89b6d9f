"""Billing runs: turning fee items into per-student invoices for a period.

A run is idempotent: a student who already has a live invoice for the period is skipped, so
running it again only bills students who were missing (a child who joined mid-month).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, insert, select

from ..core import clock, paycode
from ..core.charges import Reduction, charge
from ..core.invoice_state import InvoiceStateError, transition
from ..core.periods import Period, PeriodError, parse_period
from ..extensions import db
from ..models import (
    Adjustment,
    BillingRun,
    Classroom,
    Enrolment,
    Exemption,
    FeeItem,
    Invoice,
    InvoiceLine,
    School,
    Student,
    User,
)
from . import audit, credits
from .access import require_manage
from .errors import Conflict, Invalid
from .inputs import require_reason
from .students import class_name_key


@dataclass
class PlannedLine:
    description: str
    quantity: int
    unit_price_vnd: int
    reduction_vnd: int
    amount_vnd: int
    fee_item_id: int | None = None
    adjustment_id: int | None = None


@dataclass
class PlannedInvoice:
    student: Student
    lines: list[PlannedLine]

    @property
    def total_vnd(self) -> int:
        return sum(line.amount_vnd for line in self.lines)


@dataclass
class BillingResult:
    period: Period
    invoices: list[PlannedInvoice]
    skipped_existing: int
    skipped_nothing_to_bill: int
    #: Ids of the invoices issued (empty for a preview).
    issued: list[int] = field(default_factory=list)
    run: BillingRun | None = None

    @property
    def total_vnd(self) -> int:
        return sum(invoice.total_vnd for invoice in self.invoices)

    def by_class(self) -> dict[str, dict[str, int]]:
        summary: dict[str, dict[str, int]] = defaultdict(lambda: {"invoices": 0, "total_vnd": 0})
        for invoice in self.invoices:
            row = summary[invoice.student.classroom.name]
            row["invoices"] += 1
            row["total_vnd"] += invoice.total_vnd
        return dict(sorted(summary.items()))


def _overlaps(start: date | None, end: date | None, period: Period) -> bool:
    return (start is None or start <= period.end) and (end is None or end >= period.start)


def run_billing(
    actor: User,
    school: School,
    *,
    period: str,
    fee_codes: list[str],
    due_date: date,
    classes: list[str] | None = None,
    school_days: int | None = None,
    preview: bool = False,
) -> BillingResult:
    """Plan (``preview=True``) or issue the invoices of a billing run."""
    require_manage(actor, school)
    try:
        parsed = parse_period(period)
    except PeriodError as exc:
        raise Invalid(exc.message_vi, exc.message_en, field="period") from exc
    if school_days is not None and (
        isinstance(school_days, bool) or not isinstance(school_days, int) or school_days <= 0
    ):
        raise Invalid("Số ngày học phải là số nguyên dương.", "school_days must be positive.")
    if school_days is not None and school_days > (days := (parsed.end - parsed.start).days + 1):
        raise Invalid(f"Số ngày học ({school_days}) nhiều hơn số ngày của kỳ ({days}).",
                      f"school_days ({school_days}) is more than the period's {days} days.",
                      field="school_days")
    if not fee_codes:
        raise Invalid("Chọn ít nhất một khoản thu.", "Choose at least one fee item.")
    if not preview:
        # Serialise billing runs of one school: two at once would race for the same students.
        # NO KEY UPDATE (key_share): payments of the school meanwhile insert rows that refer
        # to it (receipts, transactions), whose foreign-key checks take KEY SHARE; a plain
        # FOR UPDATE would block them all for the whole run and could deadlock with them.
        db.session.execute(select(School.id).where(School.id == school.id)
                           .with_for_update(key_share=True))

    codes = [c.strip().upper() for c in fee_codes]
    items = list(db.session.scalars(
        select(FeeItem).where(FeeItem.school_id == school.id, FeeItem.code.in_(codes))
    ))
    missing = sorted(set(codes) - {item.code for item in items})
    if missing:
        raise Invalid(f"Không có khoản thu: {', '.join(missing)}.",
                      f"Unknown fee items: {', '.join(missing)}.", field="fee_items")
    items.sort(key=lambda item: codes.index(item.code))
    try:
        quantities = {item.id: parsed.quantity(item.unit, school_days) for item in items}
    except PeriodError as exc:
        raise Invalid(exc.message_vi, exc.message_en, field="fee_items") from exc

    query = (
        select(Student)
        .join(Student.classroom)
        .where(Student.school_id == school.id, Student.status == "studying")
        .order_by(Classroom.name, Student.full_name, Student.code)
    )
    if classes:
        wanted = [class_name_key(c) for c in classes]
        known = set(db.session.scalars(
            select(Classroom.name).where(Classroom.school_id == school.id,
                                         Classroom.name.in_(wanted))
        ))
        if unknown := [c for c in wanted if c not in known]:
            raise Invalid(f"Không có lớp: {', '.join(unknown)}.",
                          f"Unknown classes: {', '.join(unknown)}.", field="classes")
        query = query.where(Classroom.name.in_(wanted))
    students = list(db.session.scalars(query))

    billed = set(db.session.scalars(
        select(Invoice.student_id).where(
            Invoice.school_id == school.id, Invoice.period == parsed.key,
            Invoice.status != "cancelled",
        )
    ))
    to_bill = [s for s in students if s.id not in billed]
    ids = [s.id for s in to_bill]

    enrolled: set[tuple[int, int]] = set()
    optional = [item.id for item in items if not item.mandatory]
    if optional and ids:
        for e in db.session.scalars(select(Enrolment).where(Enrolment.fee_item_id.in_(optional))):
            if _overlaps(e.valid_from, e.valid_to, parsed):
                enrolled.add((e.student_id, e.fee_item_id))

    reductions: dict[int, list[Exemption]] = defaultdict(list)
    for ex in db.session.scalars(
        select(Exemption).join(Student).where(Student.school_id == school.id)
    ):
        if _overlaps(ex.valid_from, ex.valid_to, parsed):
            reductions[ex.student_id].append(ex)

    live_line = (
        select(InvoiceLine.id)
        .join(Invoice)
        .where(InvoiceLine.adjustment_id == Adjustment.id, Invoice.status != "cancelled")
    )
    pending: dict[int, list[Adjustment]] = defaultdict(list)
    for adj in db.session.scalars(
        select(Adjustment)
        .where(Adjustment.school_id == school.id, ~exists(live_line))
        .order_by(Adjustment.id)
    ):
        pending[adj.student_id].append(adj)

    planned: list[PlannedInvoice] = []
    nothing = 0
    for student in to_bill:
        lines = []
        grade, class_name = student.classroom.grade, student.classroom.name
        for item in items:
            if not item.applies_to(grade, class_name):
                continue
            if not item.mandatory and (student.id, item.id) not in enrolled:
                continue
            quantity = quantities[item.id]
            amounts = charge(item.amount_vnd, quantity, [
                Reduction(ex.kind, ex.value)
                for ex in reductions.get(student.id, ())
                if ex.fee_item_id in (None, item.id)
            ])
            lines.append(PlannedLine(
                description=item.name, quantity=quantity, unit_price_vnd=item.amount_vnd,
                reduction_vnd=amounts.reduction_vnd, amount_vnd=amounts.amount_vnd,
                fee_item_id=item.id,
            ))
        if not lines:
            nothing += 1
            continue
        total = sum(line.amount_vnd for line in lines)
        for adj in pending.get(student.id, ()):
            # A credit larger than what is billed waits for a later invoice.
            if total + adj.amount_vnd < 0:
                continue
            total += adj.amount_vnd
            lines.append(PlannedLine(
                description=adj.description, quantity=1, unit_price_vnd=adj.amount_vnd,
                reduction_vnd=0, amount_vnd=adj.amount_vnd, adjustment_id=adj.id,
            ))
        planned.append(PlannedInvoice(student, lines))

    result = BillingResult(parsed, planned, len(students) - len(to_bill), nothing)
    if preview:
        return result
    return _issue(actor, school, result, codes, due_date, classes, school_days)


def _new_codes(prefix: str, count: int) -> list[str]:
    """Fresh payment codes, checked against those already issued (collisions are retried)."""
    codes: set[str] = set()
    while len(codes) < count:
        batch = {paycode.new_code(prefix) for _ in range(count - len(codes))}
        batch -= codes
        for chunk in _chunks(sorted(batch), 500):
            taken = set(db.session.scalars(select(Invoice.code).where(Invoice.code.in_(chunk))))
            batch -= taken
        codes |= batch
    return list(codes)


def _chunks(values: list[str], size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _issue(actor, school, result, codes, due_date, classes, school_days) -> BillingResult:
    run = BillingRun(
        school_id=school.id, period=result.period.key, created_by_id=actor.id,
        parameters={"fee_items": codes, "due_date": due_date.isoformat(),
                    "classes": classes or [], "school_days": school_days},
        invoices_created=len(result.invoices), total_vnd=result.total_vnd,
    )
    db.session.add(run)
    db.session.flush()
    payment_codes = _new_codes(school.payment_prefix, len(result.invoices))
    # Bulk INSERTs (one statement per batch, ids returned in order): a 2,000-student run
    # is two round trips per batch instead of thousands of ORM flush operations.
    rows = [
        {"school_id": school.id, "student_id": planned.student.id, "billing_run_id": run.id,
         "code": code, "period": result.period.key, "total_vnd": planned.total_vnd,
         "paid_vnd": 0, "due_date": due_date,
         "status": "open" if planned.total_vnd > 0 else "paid"}
        for planned, code in zip(result.invoices, payment_codes, strict=True)
    ]
    ids = list(db.session.scalars(
        insert(Invoice).returning(Invoice.id, sort_by_parameter_order=True), rows
    )) if rows else []
    lines = [
        {"invoice_id": invoice_id, "position": position, **vars(line)}
        for invoice_id, planned in zip(ids, result.invoices, strict=True)
        for position, line in enumerate(planned.lines, 1)
    ]
    if lines:
        db.session.execute(insert(InvoiceLine), lines)
    # Money a family overpaid before pays the new invoices first (their confirmed credit).
    credits.settle([planned.student.id for planned in result.invoices], actor=actor)
    audit.record(actor, school.id, "billing_run.issue", f"billing_run:{run.id}",
                 period=result.period.key, invoices=len(ids), total_vnd=result.total_vnd)
    result.issued = ids
    result.run = run
    return result


def cancel_invoice(actor: User, school: School, invoice: Invoice, reason: str) -> Invoice:
    """Cancel an issued invoice with a reason; it is kept, never deleted."""
    require_manage(actor, school)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Cần ghi lý do hủy.", "A reason is required to cancel an invoice.")
    require_reason(reason)
    locked = db.session.scalar(
        select(Invoice).where(Invoice.id == invoice.id).with_for_update()
    )
    try:
        locked.status = transition(locked.status, "cancel",
                                   total_vnd=locked.total_vnd, paid_vnd=locked.paid_vnd)
    except InvoiceStateError as exc:
        raise Conflict(
            "Không hủy được hóa đơn: " + (
                "hóa đơn đã hủy." if locked.status == "cancelled"
                else "đã có tiền được ghi nhận cho hóa đơn này, hãy đảo bút toán trước."
            ),
            f"Cannot cancel invoice: {exc}.",
        ) from exc
    locked.cancelled_at = clock.now_utc()
    locked.cancelled_by_id = actor.id
    locked.cancel_reason = reason
    db.session.flush()
    audit.record(actor, school.id, "invoice.cancel", f"invoice:{locked.code}", reason=reason)
    return locked
