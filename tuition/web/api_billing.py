"""API: what a school charges and its corrections — fee items (read, correct, retire),
opt-in enrolments, exemptions, adjustments, the part-month rule, students' joining and leaving
dates, and the corrections made to issued invoices."""

from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core.money import format_vnd, require_vnd
from ..extensions import db
from ..importing.adjustments import MAX_ADJUSTMENT_VND, AdjustmentRow, AdjustmentsInvalid
from ..models import Adjustment, Enrolment, Exemption, FeeItem, Invoice, InvoiceLine, Student
from ..services import attendance, corrections, fee_changes, fees, invoices, students
from ..services.errors import Invalid, not_found
from .api import _date, _school, authenticated, bp, json_body


def _item(school, code: str) -> FeeItem:
    return fees.get_fee_item(school, code)


def _student(school, code: str) -> Student:
    student = students.get_student(school, str(code or "-"))
    if student is None:
        raise not_found(f"học sinh “{code}”", f"Student {code!r}")
    return student


def _optional_date(data: dict, field: str):
    value = data.get(field)
    return None if value in (None, "") else _date(value, field)


# --- Fee items ----------------------------------------------------------------------------------


@bp.get("/schools/<code>/fee-items")
@authenticated
def list_fee_items(code: str):
    school = _school(code)
    found = fees.list_fee_items(school)
    if request.args.get("retired") == "false":
        found = [item for item in found if not item.retired]
    return jsonify({"items": [fee_changes.fee_item_json(i) for i in found],
                    "count": len(found)})


@bp.get("/schools/<code>/fee-items/<item_code>")
@authenticated
def get_fee_item(code: str, item_code: str):
    return jsonify(fee_changes.fee_item_json(_item(_school(code), item_code)))


@bp.patch("/schools/<code>/fee-items/<item_code>")
@authenticated
def update_fee_item(code: str, item_code: str):
    school = _school(code, manage=True)
    item = _item(school, item_code)
    data = dict(json_body())
    reason = data.pop("reason", None)
    changes = fee_changes.update_fee_item(g.user, school, item, data, reason)
    db.session.commit()
    return jsonify({**fee_changes.fee_item_json(item), "changes": changes})


@bp.post("/schools/<code>/fee-items/<item_code>/retire")
@authenticated
def retire_fee_item(code: str, item_code: str):
    school = _school(code, manage=True)
    item = fee_changes.retire(g.user, school, _item(school, item_code),
                              json_body().get("reason"))
    db.session.commit()
    return jsonify(fee_changes.fee_item_json(item))


@bp.post("/schools/<code>/fee-items/<item_code>/restore")
@authenticated
def restore_fee_item(code: str, item_code: str):
    school = _school(code, manage=True)
    item = fee_changes.restore(g.user, school, _item(school, item_code),
                               json_body().get("reason"))
    db.session.commit()
    return jsonify(fee_changes.fee_item_json(item))


# --- Enrolments ---------------------------------------------------------------------------------


def _enrolment_json(enrolment: Enrolment, student: Student, item: FeeItem) -> dict:
    return {"student_code": student.code, "student_name": student.full_name,
            "class": student.classroom.name, "fee_item": item.code,
            "valid_from": enrolment.valid_from.isoformat() if enrolment.valid_from else None,
            "valid_to": enrolment.valid_to.isoformat() if enrolment.valid_to else None}


@bp.get("/schools/<code>/fee-items/<item_code>/enrolments")
@authenticated
def list_enrolments(code: str, item_code: str):
    item = _item(_school(code), item_code)
    rows = db.session.execute(
        select(Enrolment, Student).join(Student, Student.id == Enrolment.student_id)
        .where(Enrolment.fee_item_id == item.id).order_by(Student.code)).all()
    return jsonify({"items": [_enrolment_json(e, s, item) for e, s in rows],
                    "count": len(rows)})


@bp.post("/schools/<code>/fee-items/<item_code>/enrolments")
@authenticated
def enrol(code: str, item_code: str):
    """Enrol a student in an opt-in item; a billing run then bills it, also for a period
    already billed (a supplementary invoice)."""
    school = _school(code, manage=True)
    item = _item(school, item_code)
    data = json_body()
    student = _student(school, data.get("student_code"))
    enrolment = fees.enrol(g.user, school, student, item,
                           valid_from=_optional_date(data, "valid_from"),
                           valid_to=_optional_date(data, "valid_to"))
    db.session.commit()
    return jsonify(_enrolment_json(enrolment, student, item)), 201


@bp.delete("/schools/<code>/fee-items/<item_code>/enrolments/<student_code>")
@authenticated
def unenrol(code: str, item_code: str, student_code: str):
    """End an enrolment; invoices already issued keep their lines."""
    school = _school(code, manage=True)
    removed = fees.unenrol(g.user, school, _student(school, student_code),
                           _item(school, item_code))
    if not removed:
        raise not_found("đăng ký", "Enrolment")
    db.session.commit()
    return jsonify({"removed": True})


# --- Exemptions ---------------------------------------------------------------------------------


def _exemption_json(exemption: Exemption, items: dict[int, str]) -> dict:
    return {"id": exemption.id, "student_code": exemption.student.code,
            "student_name": exemption.student.full_name,
            "fee_item": items.get(exemption.fee_item_id) if exemption.fee_item_id else None,
            "kind": exemption.kind, "value": exemption.value, "reason": exemption.reason,
            "valid_from": exemption.valid_from.isoformat(),
            "valid_to": exemption.valid_to.isoformat() if exemption.valid_to else None,
            "created_at": exemption.created_at.isoformat()}


def _item_codes(school) -> dict[int, str]:
    return {item.id: item.code for item in fees.list_fee_items(school)}


@bp.get("/schools/<code>/exemptions")
@authenticated
def list_exemptions(code: str):
    school = _school(code)
    items = _item_codes(school)
    found = fees.list_exemptions(school)
    return jsonify({"items": [_exemption_json(e, items) for e in found], "count": len(found)})


@bp.post("/schools/<code>/exemptions")
@authenticated
def add_exemption(code: str):
    """Grant an exemption; invoices already issued for its periods are corrected at once,
    and what was paid beyond the new totals becomes credit (``corrections`` says what)."""
    school = _school(code, manage=True)
    data = json_body()
    student = _student(school, data.get("student_code"))
    item = _item(school, data["fee_item"]) if data.get("fee_item") else None
    if "valid_from" not in data:
        raise Invalid("Cần “valid_from” (ngày bắt đầu).", "valid_from is required.",
                      field="valid_from")
    exemption, report = fees.grant_exemption(
        g.user, school, student, kind=str(data.get("kind", "")), value=data.get("value"),
        reason=str(data.get("reason") or ""), valid_from=_date(data["valid_from"], "valid_from"),
        valid_to=_optional_date(data, "valid_to"), item=item)
    body = {**_exemption_json(exemption, _item_codes(school)), "corrections": report.as_json()}
    db.session.commit()
    return jsonify(body), 201


# --- Adjustments --------------------------------------------------------------------------------


def _adjustment_json(adjustment: Adjustment, billed_on: dict[int, str],
                     items: dict[int, str]) -> dict:
    return {"id": adjustment.id, "student_code": adjustment.student.code,
            "student_name": adjustment.student.full_name, "amount_vnd": adjustment.amount_vnd,
            "description": adjustment.description,
            "fee_item": items.get(adjustment.fee_item_id) if adjustment.fee_item_id else None,
            "invoice_code": billed_on.get(adjustment.id),
            "created_at": adjustment.created_at.isoformat()}


def _billed_on(adjustment_ids: list[int]) -> dict[int, str]:
    return dict(db.session.execute(
        select(InvoiceLine.adjustment_id, Invoice.code).join(Invoice)
        .where(InvoiceLine.adjustment_id.in_(adjustment_ids), Invoice.status != "cancelled")
    ).all()) if adjustment_ids else {}


@bp.get("/schools/<code>/adjustments")
@authenticated
def list_adjustments(code: str):
    school = _school(code)
    found = fees.list_adjustments(school, limit=1000)
    billed = _billed_on([a.id for a in found])
    items = _item_codes(school)
    return jsonify({"items": [_adjustment_json(a, billed, items) for a in found],
                    "count": len(found)})


@bp.post("/schools/<code>/adjustments")
@authenticated
def add_adjustment(code: str):
    """A charge (positive) or credit (negative) for the student's next invoice, optionally
    on a fee item (``fee_item``), where reports by fee item keep it."""
    school = _school(code, manage=True)
    data = json_body()
    amount = data.get("amount_vnd")
    try:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
            raise ValueError
        require_vnd(abs(amount))
        if abs(amount) > MAX_ADJUSTMENT_VND:
            raise ValueError
    except ValueError as exc:
        raise Invalid(
            "“amount_vnd” phải là số nguyên đồng khác 0 (âm là trả lại), tối đa "
            f"{format_vnd(MAX_ADJUSTMENT_VND)} đ.",
            f"amount_vnd must be a non-zero whole number of dong (negative for a credit), at "
            f"most {format_vnd(MAX_ADJUSTMENT_VND)}.", field="amount_vnd") from exc
    description = str(data.get("description") or "").strip()
    if not description or len(description) > 200:
        raise Invalid("Cần ghi nội dung điều chỉnh (tối đa 200 ký tự).",
                      "description is required (at most 200 characters).", field="description")
    item_code = str(data["fee_item"]).strip().upper() if data.get("fee_item") else None
    try:
        fees.add_adjustments(g.user, school, [AdjustmentRow(
            1, str(data.get("student_code") or "").strip().upper(), amount, description,
            item_code)])
    except AdjustmentsInvalid as exc:
        first = exc.errors[0]
        raise Invalid(first.message, first.message_en,
                      field="fee_item" if first.column == "Mã khoản thu" else "student_code"
                      ) from exc
    made = db.session.scalar(
        select(Adjustment).where(Adjustment.school_id == school.id,
                                 Adjustment.created_by_id == g.user.id)
        .options(selectinload(Adjustment.student)).order_by(Adjustment.id.desc()).limit(1))
    body = _adjustment_json(made, {}, _item_codes(school))
    db.session.commit()
    return jsonify(body), 201


# --- The part-month rule, joining and leaving dates ---------------------------------------------


@bp.get("/schools/<code>/billing-settings")
@authenticated
def billing_settings(code: str):
    return jsonify({"partial_month": _school(code).partial_month_rule})


@bp.put("/schools/<code>/billing-settings")
@authenticated
def set_billing_settings(code: str):
    """``partial_month``: how monthly items are billed for a month a child attends in part:
    ``whole``, ``half`` (half the price for at most half of the school days) or ``days``."""
    school = _school(code, manage=True)
    fee_changes.set_partial_month_rule(g.user, school, json_body().get("partial_month"))
    db.session.commit()
    return jsonify({"partial_month": school.partial_month_rule})


@bp.get("/schools/<code>/students/<student_code>/attendance")
@authenticated
def get_attendance(code: str, student_code: str):
    return jsonify(attendance.attendance_json(_student(_school(code), student_code)))


@bp.put("/schools/<code>/students/<student_code>/attendance")
@authenticated
def set_attendance(code: str, student_code: str):
    """Set ``joined_on`` and/or ``left_on`` (null clears, absent keeps); issued invoices are
    corrected."""
    school = _school(code, manage=True)
    student = _student(school, student_code)
    data = json_body()
    # A date left out stays as it is; null clears it.
    report = attendance.set_dates(
        g.user, school, student,
        joined_on=_optional_date(data, "joined_on") if "joined_on" in data
        else student.joined_on,
        left_on=_optional_date(data, "left_on") if "left_on" in data else student.left_on,
        reason=data.get("reason"))
    db.session.commit()
    return jsonify({**attendance.attendance_json(student), "corrections": report.as_json()})


@bp.post("/schools/<code>/students/<student_code>/leave")
@authenticated
def record_leave(code: str, student_code: str):
    """A student leaves on ``left_on``: nothing billed from that day; what was billed for
    after it is corrected, and money paid for it becomes credit."""
    school = _school(code, manage=True)
    student = _student(school, student_code)
    data = json_body()
    if not data.get("left_on"):
        raise Invalid("Cần “left_on” (ngày nghỉ học).", "left_on is required.", field="left_on")
    report = attendance.record_leave(g.user, school, student, _date(data["left_on"], "left_on"),
                                     reason=data.get("reason"))
    db.session.commit()
    return jsonify({**attendance.attendance_json(student), "corrections": report.as_json()}), 201


# --- Corrections of an invoice ------------------------------------------------------------------


@bp.get("/invoices/<code>/corrections")
@authenticated
def invoice_corrections(code: str):
    invoice = invoices.get_invoice_for(g.user, code)
    lines: dict[int, list[InvoiceLine]] = {}
    for line in invoice.lines:
        if line.correction_id:
            lines.setdefault(line.correction_id, []).append(line)
    found = corrections.list_corrections(invoice)
    return jsonify({"items": [
        {"id": c.id, "cause": c.cause, "reason": c.reason,
         "total_before_vnd": c.total_before_vnd, "total_after_vnd": c.total_after_vnd,
         "to_credit_vnd": c.to_credit_vnd, "created_at": c.created_at.isoformat(),
         "lines": [{"description": line.description, "amount_vnd": line.amount_vnd,
                    "fee_item": line.fee_item.code if line.fee_item else None}
                   for line in lines.get(c.id, [])]}
        for c in found], "count": len(found)})
