"""Fee items, opt-in enrolments, exemptions and adjustments."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from ..core.money import MAX_VND, AmountTooLarge, format_vnd, require_vnd, too_large
from ..extensions import db
from ..importing.adjustments import AdjustmentRow, AdjustmentsInvalid
from ..importing.roster import GRADES, LEVEL_OF_GRADE, RowError
from ..models import Adjustment, Classroom, Enrolment, Exemption, FeeItem, School, Student, User
from ..models.fees import UNITS
from . import audit
from .access import require_manage
from .errors import Conflict, Invalid, NotFound
from .inputs import limit_length
from .students import class_name_key

_FEE_CODE = re.compile(r"^[A-Z0-9_-]{1,20}$")


def get_fee_item(school: School, code: str) -> FeeItem:
    item = db.session.scalar(
        select(FeeItem).where(FeeItem.school_id == school.id, FeeItem.code == code.upper())
    )
    if item is None:
        raise NotFound(f"Không tìm thấy khoản thu “{code}”.", f"Fee item {code!r} not found.")
    return item


def create_fee_item(actor: User, school: School, data: dict[str, Any]) -> FeeItem:
    """Define a khoản thu. ``grades``/``classes`` restrict it; ``mandatory=False`` is opt-in."""
    require_manage(actor, school)
    code = str(data.get("code") or "").strip().upper()
    if not _FEE_CODE.match(code):
        raise Invalid(
            "Mã khoản thu gồm 1-20 chữ in hoa không dấu, chữ số, “-” hoặc “_”.",
            "Fee item code must be 1-20 capital letters, digits, '-' or '_'.",
            field="code",
        )
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 120:
        raise Invalid("Tên khoản thu là bắt buộc (tối đa 120 ký tự).",
                      "name is required (at most 120 characters).", field="name")
    try:
        amount = require_vnd(data.get("amount_vnd"))
    except AmountTooLarge as exc:
        raise Invalid(*too_large(data.get("amount_vnd")), field="amount_vnd") from exc
    except ValueError as exc:
        raise Invalid("Số tiền “amount_vnd” phải là số nguyên đồng dương.",
                      "amount_vnd must be a positive integer number of dong.",
                      field="amount_vnd") from exc
    unit = data.get("unit")
    if not isinstance(unit, str) or unit not in UNITS:
        raise Invalid("Đơn vị tính phải là: " + ", ".join(UNITS) + ".",
                      "unit must be one of: " + ", ".join(UNITS) + ".", field="unit")
    grades = check_grades(school, _code_list(data.get("grades"), "grades"))
    classes = check_classes(school, _code_list(data.get("classes"), "classes"))
    mandatory = data.get("mandatory", True)
    if not isinstance(mandatory, bool):
        raise Invalid("“mandatory” phải là true hoặc false.", "mandatory must be a boolean.")
    if db.session.scalar(
        select(FeeItem.id).where(FeeItem.school_id == school.id, FeeItem.code == code)
    ):
        raise Conflict(f"Khoản thu “{code}” đã tồn tại.", f"Fee item {code!r} already exists.")
    item = FeeItem(
        school_id=school.id, code=code, name=name, amount_vnd=amount, unit=unit,
        grades=",".join(grades), classes=",".join(classes), mandatory=mandatory,
    )
    db.session.add(item)
    db.session.flush()
    audit.record(actor, school.id, "fee_item.create", f"fee_item:{code}",
                 amount_vnd=amount, unit=unit)
    return item


def check_grades(school: School, grades: list[str]) -> list[str]:
    """Grades a fee item may name: grades that exist, taught at this school."""
    unknown = [g for g in grades if g not in GRADES]
    if unknown:
        raise Invalid(f"Khối không hợp lệ: {', '.join(unknown)}.",
                      f"Unknown grades: {', '.join(unknown)}.", field="grades")
    levels = school.level_list
    if foreign := [g for g in grades if LEVEL_OF_GRADE[g] not in levels]:
        raise Invalid(f"Trường không có khối: {', '.join(foreign)}.",
                      f"The school does not teach grades: {', '.join(foreign)}.",
                      field="grades")
    return grades


def check_classes(school: School, classes: list[str]) -> list[str]:
    """Classes a fee item may name: classes of this school (as the roster writes them)."""
    wanted = list(dict.fromkeys(class_name_key(c) for c in classes))
    if not wanted:
        return []
    known = set(db.session.scalars(select(Classroom.name).where(
        Classroom.school_id == school.id, Classroom.name.in_(wanted))))
    if unknown := [c for c in wanted if c not in known]:
        raise Invalid(f"Trường không có lớp: {', '.join(unknown)}.",
                      f"The school has no class: {', '.join(unknown)}.", field="classes")
    return wanted


def _code_list(value: Any, field: str) -> list[str]:
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise Invalid(f"“{field}” phải là danh sách.", f"{field} must be a list.", field=field)
    return [str(v).strip().upper() for v in value if str(v).strip()]


def enrol(actor: User, school: School, student: Student, item: FeeItem,
          valid_from: date | None = None, valid_to: date | None = None) -> Enrolment:
    """Subscribe a student to an opt-in item (bán trú, xe đưa đón)."""
    require_manage(actor, school)
    if student.school_id != school.id or item.school_id != school.id:
        raise NotFound("Không tìm thấy học sinh hoặc khoản thu.", "Student or fee item not found.")
    if valid_from and valid_to and valid_to < valid_from:
        raise Invalid("Ngày kết thúc trước ngày bắt đầu.", "valid_to is before valid_from.",
                      field="valid_to")
    if item.mandatory:
        raise Invalid(f"Khoản “{item.name}” là bắt buộc, không cần đăng ký.",
                      f"{item.code} is mandatory; no enrolment needed.")
    existing = db.session.scalar(
        select(Enrolment).where(Enrolment.student_id == student.id,
                                Enrolment.fee_item_id == item.id)
    )
    if existing:
        return existing
    enrolment = Enrolment(student_id=student.id, fee_item_id=item.id,
                          valid_from=valid_from, valid_to=valid_to)
    db.session.add(enrolment)
    db.session.flush()
    audit.record(actor, school.id, "enrolment.add", f"student:{student.code}", item=item.code)
    return enrolment


def add_exemption(
    actor: User, school: School, student: Student, *, kind: str, value: int, reason: str,
    valid_from: date, valid_to: date | None = None, item: FeeItem | None = None,
) -> Exemption:
    """Record a miễn giảm and correct the invoices already issued (see
    :func:`grant_exemption`, which also tells what changed)."""
    exemption, _report = grant_exemption(actor, school, student, kind=kind, value=value,
                                         reason=reason, valid_from=valid_from,
                                         valid_to=valid_to, item=item)
    return exemption


def grant_exemption(
    actor: User, school: School, student: Student, *, kind: str, value: int, reason: str,
    valid_from: date, valid_to: date | None = None, item: FeeItem | None = None,
):
    """Record a miễn giảm: ``percent`` (1-100) or ``fixed`` dong per billed unit.

    Invoices already issued for the periods it covers are corrected at once (see
    :func:`tuition.services.corrections.correct_student`): a correction line on each charge
    it lowers, and money already paid beyond the new total becomes the student's credit.
    Returns the exemption and the :class:`~tuition.services.corrections.CorrectionReport`.
    """
    require_manage(actor, school)
    if student.school_id != school.id or (item is not None and item.school_id != school.id):
        raise NotFound("Không tìm thấy học sinh hoặc khoản thu.", "Student or fee item not found.")
    if kind not in ("percent", "fixed"):
        raise Invalid("Loại miễn giảm phải là percent hoặc fixed.",
                      "kind must be percent or fixed.", field="kind")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or (
        kind == "percent" and value > 100
    ):
        raise Invalid("Mức miễn giảm không hợp lệ: phần trăm từ 1 đến 100, hoặc số đồng dương.",
                      "Invalid exemption value: a percentage 1-100, or positive dong.",
                      field="value")
    if value > MAX_VND:
        raise Invalid(*too_large(value), field="value")
    if kind == "fixed":
        try:
            require_vnd(value, field="value")
        except ValueError as exc:
            raise Invalid("Mức miễn giảm quá lớn.", "The exemption is too large.",
                          field="value") from exc
        if item is not None and value > item.amount_vnd:
            raise Invalid(
                f"Mức giảm {format_vnd(value)} đ lớn hơn đơn giá khoản “{item.name}” "
                f"({format_vnd(item.amount_vnd)} đ).",
                f"The reduction {value} is more than the price of {item.code} "
                f"({item.amount_vnd}).", field="value")
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise Invalid("Cần ghi lý do (đối tượng chính sách), tối đa 200 ký tự.",
                      "A reason is required (at most 200 characters).", field="reason")
    if valid_to and valid_to < valid_from:
        raise Invalid("Ngày kết thúc trước ngày bắt đầu.", "valid_to is before valid_from.",
                      field="valid_to")
    exemption = Exemption(
        student_id=student.id, fee_item_id=item.id if item else None, kind=kind, value=value,
        reason=reason.strip(), valid_from=valid_from, valid_to=valid_to,
        created_by_id=actor.id,
    )
    db.session.add(exemption)
    db.session.flush()
    audit.record(actor, school.id, "exemption.add", f"student:{student.code}",
                 kind=kind, value=value, reason=reason, item=item.code if item else None)
    from .corrections import correct_student

    what = f"{value}%" if kind == "percent" else f"{format_vnd(value)} đ"
    report = correct_student(actor, school, student, cause="exemption", exemption=exemption,
                             reason=f"Miễn giảm {what} ({reason})")
    return exemption, report


def add_adjustments(actor: User, school: School, rows: Sequence[AdjustmentRow]) -> int:
    """Add credit/charge lines for the students' next invoices. All rows or none."""
    require_manage(actor, school)
    students = {
        s.code: s
        for s in db.session.scalars(
            select(Student).where(
                Student.school_id == school.id, Student.code.in_({r.student_code for r in rows})
            )
        )
    }
    items = {
        item.code: item
        for item in db.session.scalars(select(FeeItem).where(
            FeeItem.school_id == school.id,
            FeeItem.code.in_({r.fee_item_code for r in rows if r.fee_item_code})))
    }
    errors = [
        RowError(row=r.row, column=r.column("student_code"),
                 message=f"Không có học sinh mã “{r.student_code}” trong trường.",
                 message_en=f"No student with code {r.student_code!r} in this school.")
        for r in rows
        if r.student_code not in students
    ] + [
        RowError(row=r.row, column="Mã khoản thu",
                 message=f"Không có khoản thu mã “{r.fee_item_code}” trong trường.",
                 message_en=f"No fee item with code {r.fee_item_code!r} in this school.")
        for r in rows
        if r.fee_item_code and r.fee_item_code not in items
    ]
    for r in rows:
        if abs(r.amount_vnd) > MAX_VND:
            raise Invalid(*too_large(r.amount_vnd), field="amount")
        limit_length(r.description, 200, "Nội dung", "The description", field="description")
    if errors:
        raise AdjustmentsInvalid(sorted(errors, key=lambda e: e.row))
    for row in rows:
        student = students[row.student_code]
        item = items.get(row.fee_item_code) if row.fee_item_code else None
        db.session.add(Adjustment(
            school_id=school.id, student_id=student.id, amount_vnd=row.amount_vnd,
            description=row.description, created_by_id=actor.id,
            fee_item_id=item.id if item else None,
        ))
        audit.record(actor, school.id, "adjustment.add", f"student:{student.code}",
                     amount_vnd=row.amount_vnd, description=row.description,
                     item=item.code if item else None)
    db.session.flush()
    return len(rows)


def unenrol(actor: User, school: School, student: Student, item: FeeItem) -> bool:
    """End a student's subscription to an opt-in item; False when there was none.

    Invoices already issued keep their lines; only later billing runs stop charging it.
    """
    require_manage(actor, school)
    enrolment = db.session.scalar(
        select(Enrolment).where(Enrolment.student_id == student.id,
                                Enrolment.fee_item_id == item.id)
    )
    if enrolment is None:
        return False
    db.session.delete(enrolment)
    db.session.flush()
    audit.record(actor, school.id, "enrolment.remove", f"student:{student.code}", item=item.code)
    return True


def set_enrolments(actor: User, school: School, item: FeeItem, students: Sequence[Student],
                   enrolled_ids: set[int]) -> tuple[int, int]:
    """Make exactly ``enrolled_ids`` of ``students`` (say, one class) enrolled in ``item``.

    Returns (added, removed). Students outside ``students`` are left as they are.
    """
    require_manage(actor, school)
    current = enrolled_student_ids(item)
    added = removed = 0
    for student in students:
        if student.school_id != school.id:
            raise NotFound("Không tìm thấy học sinh.", "Student not found.")
        if student.id in enrolled_ids and student.id not in current:
            enrol(actor, school, student, item)
            added += 1
        elif student.id not in enrolled_ids and student.id in current:
            unenrol(actor, school, student, item)
            removed += 1
    return added, removed


def enrolled_student_ids(item: FeeItem) -> set[int]:
    return set(db.session.scalars(
        select(Enrolment.student_id).where(Enrolment.fee_item_id == item.id)
    ))


def list_fee_items(school: School) -> list[FeeItem]:
    return list(db.session.scalars(
        select(FeeItem).where(FeeItem.school_id == school.id).order_by(FeeItem.code)
    ))


def list_exemptions(school: School) -> list[Exemption]:
    """The school's exemptions, newest first, with their students loaded."""
    return list(db.session.scalars(
        select(Exemption).join(Exemption.student)
        .where(Student.school_id == school.id)
        .options(contains_eager(Exemption.student))
        .order_by(Exemption.id.desc())
    ))


def list_adjustments(school: School, limit: int = 200) -> list[Adjustment]:
    """The school's latest adjustments, newest first, with their students loaded."""
    return list(db.session.scalars(
        select(Adjustment).where(Adjustment.school_id == school.id)
        .options(selectinload(Adjustment.student))
        .order_by(Adjustment.id.desc()).limit(limit)
    ))
