"""Billing runs: turning fee items into per-student invoices for a period.

One fee item is billed at most once per student and calendar month, whatever the periods
asked for: a first-term run after September was billed as a month bills October to December
only (or, with ``overlap="refuse"``, is refused with the list of what is billed already), and a
supplementary run for a period already billed bills just the fee items that are new to it, on
an invoice of its own. The guarantee is the database's (``billed_months``, unique per student,
fee item and month, written with the lines); the run also serialises on its school's row.

Children who join or leave during the period are billed by attendance (see
:mod:`tuition.core.coverage`): per-day items by the days attended, monthly items by the
school's rule for part months. A run that would issue nothing issues nothing and records no
run.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from ..core import clock, paycode
from ..core.charges import Reduction, charge
from ..core.coverage import (
    Attendance,
    MonthCharge,
    month_end,
    month_start,
    plan_item,
    school_days_by_month,
    teaching_days,
)
from ..core.invoice_state import InvoiceStateError, transition
from ..core.periods import Period, PeriodError, parse_period
from ..extensions import db
from ..models import (
    Adjustment,
    BilledMonth,
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

#: What a run does with months already billed: bill only the rest, or refuse the run.
OVERLAP_MODES = ("bill_missing", "refuse")
#: How many overlaps a refusal or a preview lists in full (the count is always given).
OVERLAPS_LISTED = 500


@dataclass
class PlannedLine:
    description: str
    quantity: int
    unit_price_vnd: int
    reduction_vnd: int
    amount_vnd: int
    fee_item_id: int | None = None
    adjustment_id: int | None = None
    #: The months a charge line covers (recorded in billed_months when issued).
    months: tuple[MonthCharge, ...] = ()
    #: Why it is not the plain period (a part month), shown in the preview.
    note: str = ""

    def row(self) -> dict:
        return {"description": self.description, "quantity": self.quantity,
                "unit_price_vnd": self.unit_price_vnd, "reduction_vnd": self.reduction_vnd,
                "amount_vnd": self.amount_vnd, "fee_item_id": self.fee_item_id,
                "adjustment_id": self.adjustment_id}


@dataclass
class PlannedInvoice:
    student: Student
    lines: list[PlannedLine]

    @property
    def total_vnd(self) -> int:
        return sum(line.amount_vnd for line in self.lines)


@dataclass
class Overlap:
    """Months asked for that a fee item already charges this student, and where."""

    student: Student
    item: FeeItem
    months: list[tuple[int, int]]
    invoices: list[str]

    def as_json(self) -> dict:
        return {"student_code": self.student.code, "student_name": self.student.full_name,
                "class": self.student.classroom.name, "fee_item": self.item.code,
                "months": [f"{y}-{m:02d}" for y, m in self.months],
                "invoices": self.invoices}


@dataclass
class BillingResult:
    period: Period
    invoices: list[PlannedInvoice]
    #: Students for whom everything asked is billed already.
    skipped_existing: int
    skipped_nothing_to_bill: int
    #: Ids of the invoices issued (empty for a preview, or when there was nothing to issue).
    issued: list[int] = field(default_factory=list)
    run: BillingRun | None = None
    overlaps: list[Overlap] = field(default_factory=list)
    overlap: str = "bill_missing"

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

    def part_months(self) -> list[tuple[Student, PlannedLine]]:
        """Lines of children joining or leaving during the period (shown in the preview)."""
        return [(invoice.student, line) for invoice in self.invoices for line in invoice.lines
                if line.note]

    def nothing_message(self) -> tuple[str, str]:
        """Why nothing is issued, in Vietnamese and English."""
        return (
            f"Không lập hóa đơn nào cho {self.period.label}: {self.skipped_existing} học sinh đã "
            f"được thu đủ các khoản này, {self.skipped_nothing_to_bill} học sinh không có khoản "
            "phải thu.",
            f"No invoice issued for {self.period.key}: {self.skipped_existing} students are "
            f"billed for these items already, {self.skipped_nothing_to_bill} have nothing to "
            "pay.",
        )


def _overlaps(start: date | None, end: date | None, period: Period) -> bool:
    return (start is None or start <= period.end) and (end is None or end >= period.start)


def parse_school_days(value, period: Period) -> int | dict[tuple[int, int], int] | None:
    """The school days of a run: a whole number for the period, or a number per month
    (``{"2026-10": 21}``), each no more than the days from Monday to Saturday."""
    if value is None or value == {}:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        most = teaching_days(period.start, period.end)
        if not 1 <= value <= most:
            raise Invalid(
                f"Số ngày học của {period.label} phải từ 1 đến {most} (số ngày từ thứ Hai đến "
                f"thứ Bảy); đã nhập {value}.",
                f"school_days for {period.key} must be 1 to {most} (Monday to Saturday days); "
                f"got {value}.", field="school_days")
        return value
    if isinstance(value, Mapping):
        days = {}
        for key, count in value.items():
            month = next((m for m in period.months if f"{m[0]}-{m[1]:02d}" == str(key)), None)
            if month is None:
                raise Invalid(f"Tháng “{key}” không thuộc {period.label}.",
                              f"Month {key!r} is not in period {period.key}.",
                              field="school_days")
            most = teaching_days(month_start(month), month_end(month))
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= most:
                raise Invalid(
                    f"Số ngày học tháng {month[1]}/{month[0]} phải từ 0 đến {most}.",
                    f"school_days for {key} must be 0 to {most}.", field="school_days")
            days[month] = count
        return days
    raise Invalid("Số ngày học phải là số nguyên dương (hoặc số ngày của từng tháng).",
                  "school_days must be a positive integer (or one per month).",
                  field="school_days")


def _billable_students(school: School, period: Period, classes: list[str] | None):
    """Students attending some of the period: those studying, and those who left after it
    began (billed until they left); not those who join after it ends."""
    query = (
        select(Student)
        .join(Student.classroom)
        .where(Student.school_id == school.id,
               or_(Student.status == "studying", Student.left_on.is_not(None)),
               or_(Student.left_on.is_(None), Student.left_on > period.start),
               or_(Student.joined_on.is_(None), Student.joined_on <= period.end))
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
    return list(db.session.scalars(query))


def billed_months(item_ids: list[int], period: Period
                  ) -> dict[tuple[int, int], dict[tuple[int, int], str]]:
    """(student id, fee item id) -> {month: invoice code} of what is billed in the period."""
    found: dict[tuple[int, int], dict[tuple[int, int], str]] = defaultdict(dict)
    if not item_ids:
        return found
    for student_id, item_id, month, code in db.session.execute(
        select(BilledMonth.student_id, BilledMonth.fee_item_id, BilledMonth.month, Invoice.code)
        .join(Invoice, Invoice.id == BilledMonth.invoice_id)
        .where(BilledMonth.released_at.is_(None), BilledMonth.fee_item_id.in_(item_ids),
               BilledMonth.month.in_([month_start(m) for m in period.months]))
    ):
        found[student_id, item_id][month.year, month.month] = code
    return found


def run_billing(
    actor: User,
    school: School,
    *,
    period: str,
    fee_codes: list[str],
    due_date: date,
    classes: list[str] | None = None,
    school_days: int | Mapping[str, int] | None = None,
    preview: bool = False,
    overlap: str = "bill_missing",
) -> BillingResult:
    """Plan (``preview=True``) or issue the invoices of a billing run.

    ``overlap``: ``"bill_missing"`` bills only the months not billed yet; ``"refuse"`` raises
    :class:`Conflict` (listing them) when any month asked for is billed already.
    """
    require_manage(actor, school)
    try:
        parsed = parse_period(period)
    except PeriodError as exc:
        raise Invalid(exc.message_vi, exc.message_en, field="period") from exc
    days_given = parse_school_days(school_days, parsed)
    if overlap not in OVERLAP_MODES:
        raise Invalid("“overlap” phải là bill_missing hoặc refuse.",
                      "overlap must be bill_missing or refuse.", field="overlap")
    if not fee_codes:
        raise Invalid("Chọn ít nhất một khoản thu.", "Choose at least one fee item.",
                      field="fee_items")
    if not preview:
        # Serialise billing runs of one school: two at once would race for the same students.
        # NO KEY UPDATE (key_share): payments of the school meanwhile insert rows that refer
        # to it (receipts, transactions), whose foreign-key checks take KEY SHARE; a plain
        # FOR UPDATE would block them all for the whole run and could deadlock with them.
        db.session.execute(select(School.id).where(School.id == school.id)
                           .with_for_update(key_share=True))

    codes = list(dict.fromkeys(c.strip().upper() for c in fee_codes))
    items = list(db.session.scalars(
        select(FeeItem).where(FeeItem.school_id == school.id, FeeItem.code.in_(codes))
    ))
    missing = sorted(set(codes) - {item.code for item in items})
    if missing:
        raise Invalid(f"Không có khoản thu: {', '.join(missing)}.",
                      f"Unknown fee items: {', '.join(missing)}.", field="fee_items")
    if retired := sorted(item.code for item in items if item.retired):
        raise Invalid(f"Khoản thu đã ngừng thu, không lập hóa đơn được: {', '.join(retired)}.",
                      f"Fee items retired, not billable: {', '.join(retired)}.",
                      field="fee_items")
    items.sort(key=lambda item: codes.index(item.code))
    try:
        for item in items:
            parsed.quantity(item.unit, 1)
    except PeriodError as exc:
        raise Invalid(exc.message_vi, exc.message_en, field="fee_items") from exc
    days = school_days_by_month(parsed, days_given)

    students = _billable_students(school, parsed, classes)
    ids = [s.id for s in students]
    covered = billed_months([item.id for item in items], parsed)

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
    overlaps: list[Overlap] = []
    nothing = existing = 0
    # Most students share a plan (same months billed, no joining or leaving): plan once each.
    plans: dict[tuple, object] = {}
    for student in students:
        lines: list[PlannedLine] = []
        attendance = Attendance(student.joined_on, student.left_on)
        grade, class_name = student.classroom.grade, student.classroom.name
        overlapped = False
        for item in items:
            if not item.applies_to(grade, class_name):
                continue
            if not item.mandatory and (student.id, item.id) not in enrolled:
                continue
            done = covered.get((student.id, item.id), {})
            key = (item.id, tuple(sorted(done)), attendance)
            plan = plans.get(key)
            if plan is None:
                plan = plans[key] = plan_item(
                    name=item.name, unit=item.unit, price_vnd=item.amount_vnd, period=parsed,
                    covered=set(done), attendance=attendance, rule=school.partial_month_rule,
                    days=days)
            if plan.already_billed:
                overlapped = True
                overlaps.append(Overlap(student, item, plan.already_billed,
                                        sorted({done[m] for m in plan.already_billed})))
            item_reductions = [Reduction(ex.kind, ex.value)
                               for ex in reductions.get(student.id, ())
                               if ex.fee_item_id in (None, item.id)]
            for charge_line in plan.lines:
                amounts = charge(charge_line.unit_price_vnd, charge_line.quantity,
                                 item_reductions)
                lines.append(PlannedLine(
                    description=charge_line.description, quantity=charge_line.quantity,
                    unit_price_vnd=charge_line.unit_price_vnd,
                    reduction_vnd=amounts.reduction_vnd, amount_vnd=amounts.amount_vnd,
                    fee_item_id=item.id, months=charge_line.months, note=charge_line.note,
                ))
        if not lines:
            if overlapped:
                existing += 1
            else:
                nothing += 1
            continue
        _add_adjustments(lines, pending.get(student.id, ()))
        planned.append(PlannedInvoice(student, lines))

    result = BillingResult(parsed, planned, existing, nothing, overlaps=overlaps,
                           overlap=overlap)
    if overlap == "refuse" and overlaps and not preview:
        raise Conflict(
            f"Có {len(overlaps)} khoản đã được thu cho một phần các tháng của {parsed.label}; "
            "chưa lập hóa đơn nào. Chọn “chỉ thu phần còn thiếu” hoặc bỏ các khoản đó.",
            f"{len(overlaps)} fee items are billed already for some months of {parsed.key}; "
            "nothing was issued. Bill only what is missing, or leave those items out.",
            conflicts=[o.as_json() for o in overlaps[:OVERLAPS_LISTED]],
            conflicts_count=len(overlaps))
    if preview or not planned:
        return result
    return _issue(actor, school, result, codes, due_date, classes, days_given)


def _add_adjustments(lines: list[PlannedLine], adjustments) -> None:
    """Put a student's pending adjustments on the invoice being planned.

    A credit larger than what is billed waits for a later invoice; so does a credit on a fee
    item this invoice charges less of than the credit (a meal refund waits for meals), so
    that each correction stays on its fee item.
    """
    total = sum(line.amount_vnd for line in lines)
    by_item: dict[int, int] = defaultdict(int)
    for line in lines:
        if line.fee_item_id is not None:
            by_item[line.fee_item_id] += line.amount_vnd
    for adj in adjustments:
        if total + adj.amount_vnd < 0:
            continue
        if adj.fee_item_id is not None and adj.amount_vnd < 0:
            if by_item.get(adj.fee_item_id, 0) + adj.amount_vnd < 0:
                continue
            by_item[adj.fee_item_id] += adj.amount_vnd
        total += adj.amount_vnd
        lines.append(PlannedLine(
            description=adj.description, quantity=1, unit_price_vnd=adj.amount_vnd,
            reduction_vnd=0, amount_vnd=adj.amount_vnd, adjustment_id=adj.id,
            fee_item_id=adj.fee_item_id,
        ))


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
                    "classes": classes or [], "school_days": _jsonable_days(school_days),
                    "overlap": result.overlap},
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
    # render_nulls: rows keep one shape even where a value is None, so that the rows are one
    # batched statement, not one per change of shape.
    ids = list(db.session.scalars(
        insert(Invoice).returning(Invoice.id, sort_by_parameter_order=True), rows,
        execution_options={"render_nulls": True},
    ))
    placed = [
        (invoice_id, planned.student.id, line)
        for invoice_id, planned in zip(ids, result.invoices, strict=True)
        for line in planned.lines
    ]
    positions: dict[int, int] = defaultdict(int)
    line_rows = []
    for invoice_id, _student_id, line in placed:
        positions[invoice_id] += 1
        line_rows.append({"invoice_id": invoice_id, "position": positions[invoice_id],
                          **line.row()})
    _insert_many(InvoiceLine, _LINE_COLUMNS, line_rows)
    # The lines' ids, for billed_months: read back by (invoice, position), one query.
    new = set(ids)
    line_id = {
        (invoice_id, position): line
        for line, invoice_id, position in db.session.execute(
            select(InvoiceLine.id, InvoiceLine.invoice_id, InvoiceLine.position)
            .where(InvoiceLine.invoice_id.between(min(ids), max(ids))))
        if invoice_id in new
    }
    line_ids = [line_id[row["invoice_id"], row["position"]] for row in line_rows]
    months = [
        {"student_id": student_id, "fee_item_id": line.fee_item_id,
         "month": month_start(charged.month), "invoice_id": invoice_id,
         "invoice_line_id": line_id, "gross_vnd": charged.gross_vnd, "days": charged.days,
         "unit_price_vnd": charged.unit_price_vnd}
        for (invoice_id, student_id, line), line_id in zip(placed, line_ids, strict=True)
        for charged in line.months
    ]
    try:
        _insert_many(BilledMonth, _BILLED_MONTH_COLUMNS, months)
    except IntegrityError as exc:
        # Only if something bypassed the school's lock: the database refuses a second charge.
        raise Conflict(
            "Một số khoản vừa được thu cho các tháng này (một lượt lập hóa đơn khác?); chưa lập "
            "hóa đơn nào. Hãy xem trước lại.",
            "Some of these fee items were just billed for these months (another run?); "
            "nothing was issued. Preview again.") from exc
    # Money a family overpaid before pays the new invoices first (their confirmed credit).
    credits.settle([planned.student.id for planned in result.invoices], actor=actor)
    audit.record(actor, school.id, "billing_run.issue", f"billing_run:{run.id}",
                 period=result.period.key, invoices=len(ids), total_vnd=result.total_vnd,
                 overlaps=len(result.overlaps))
    result.issued = ids
    result.run = run
    return result


#: Columns written in bulk, with their PostgreSQL array types (see :func:`_insert_many`).
_LINE_COLUMNS = {
    "invoice_id": "integer[]", "position": "integer[]", "description": "text[]",
    "quantity": "integer[]", "unit_price_vnd": "bigint[]", "reduction_vnd": "bigint[]",
    "amount_vnd": "bigint[]", "fee_item_id": "integer[]", "adjustment_id": "integer[]",
}
_BILLED_MONTH_COLUMNS = {
    "student_id": "integer[]", "fee_item_id": "integer[]", "month": "date[]",
    "invoice_id": "integer[]", "invoice_line_id": "integer[]", "gross_vnd": "bigint[]",
    "days": "integer[]", "unit_price_vnd": "bigint[]",
}


def _insert_many(model, columns: dict[str, str], rows: list[dict]) -> None:
    """INSERT ``rows`` into ``model``'s table in one statement.

    PostgreSQL: one array per column, unnested by the server. A run of 2,000 students and six
    items writes 6,000 lines and 12,000 billed months; as VALUES lists those are some 150,000
    placeholders for the driver to parse, which costs seconds. SQLite: one executemany (with
    every key in every row, so that it stays one batch).
    """
    if not rows:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_unnest_insert(model.__tablename__, tuple(columns.items())),
                           {name: [row[name] for row in rows] for name in columns})
    else:
        db.session.execute(insert(model), rows, execution_options={"render_nulls": True})


@functools.cache
def _unnest_insert(table: str, columns: tuple[tuple[str, str], ...]):
    names = ", ".join(name for name, _kind in columns)
    arrays = ", ".join(f"CAST(:{name} AS {kind})" for name, kind in columns)
    return text(f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})")


def _jsonable_days(days):
    if isinstance(days, dict):
        return {f"{y}-{m:02d}": count for (y, m), count in days.items()}
    return days


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
    # Its months may be billed again (the rows stay, marked released).
    db.session.execute(
        update(BilledMonth)
        .where(BilledMonth.invoice_id == locked.id, BilledMonth.released_at.is_(None))
        .values(released_at=locked.cancelled_at))
    db.session.flush()
    audit.record(actor, school.id, "invoice.cancel", f"invoice:{locked.code}", reason=reason)
    return locked
