"""Students and roster imports."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from ..core import clock
from ..core.names import sort_key
from ..core.numbers import small_int
from ..extensions import db
from ..importing.roster import (
    RosterInvalid,
    RosterRow,
    RowError,
    infer_grade,
    parse_class_name,
    parse_date_of_birth,
    parse_email,
    parse_phone,
)
from ..importing.tabular import CellError, clean_text, normalise_header
from ..models import Classroom, School, Student, User
from ..models.student import STUDENT_STATUSES
from . import audit
from .access import require_manage, require_read
from .errors import Invalid, not_found
from .links import ensure_token


def class_name_key(name: str) -> str:
    """A class name as rosters store it ("lớp 2a" -> "2A", "Lá 1" stays), for filters."""
    try:
        return parse_class_name(name)
    except CellError:
        return name.strip()


def current_school_year(today: date | None = None) -> str:
    """A school year starts in August for billing purposes (September classes)."""
    today = today or clock.today_vn()
    first = today.year if today.month >= 8 else today.year - 1
    return f"{first}-{first + 1}"


def _is_school_year(text: str) -> bool:
    """"2026-2027": two consecutive years."""
    match = re.fullmatch(r"(20[0-9]{2})-(20[0-9]{2})", text)
    return bool(match) and int(match[2]) == int(match[1]) + 1


def classroom_for(school: School, name: str, school_year: str, cache: dict) -> Classroom:
    """Find or create the class ``name``; ``cache`` maps names to classrooms already loaded."""
    room = cache.get(name)
    if room is None:
        room = Classroom(
            school_id=school.id, school_year=school_year, name=name, grade=infer_grade(name)
        )
        db.session.add(room)
        cache[name] = room
    return room


def import_roster(
    actor: User, school: School, rows: Sequence[RosterRow], *, school_year: str | None = None
) -> dict[str, int]:
    """Create or update students by code. All rows or none: any bad row raises RosterInvalid."""
    require_manage(actor, school)
    school_year = school_year or current_school_year()
    if not _is_school_year(school_year):
        raise Invalid(f"Năm học “{school_year[:20]}” không hợp lệ; ghi dạng 2026-2027.",
                      f"School year {school_year[:20]!r} is invalid; write it as 2026-2027.",
                      field="school_year")
    errors = [
        RowError(
            row=row.row,
            column=row.column("class_name"),
            message=f"Không xác định được khối của lớp “{row.class_name}”.",
            message_en=f"Cannot tell the grade of class {row.class_name!r}.",
        )
        for row in rows
        if infer_grade(row.class_name) is None
    ]
    if errors:
        raise RosterInvalid(errors)
    rooms = {
        room.name: room
        for room in db.session.scalars(
            select(Classroom).where(
                Classroom.school_id == school.id, Classroom.school_year == school_year
            )
        )
    }
    existing = {
        student.code: student
        for student in db.session.scalars(select(Student).where(Student.school_id == school.id))
    }
    created = updated = 0
    phone_changes: list[tuple[str, str | None, str | None]] = []
    for row in rows:
        room = classroom_for(school, row.class_name, school_year, rooms)
        student = existing.get(row.code)
        if student is None:
            student = Student(school_id=school.id, code=row.code)
            db.session.add(student)
            existing[row.code] = student
            created += 1
        else:
            updated += 1
        student.full_name = row.full_name
        student.date_of_birth = row.date_of_birth
        student.classroom = room
        student.status = "studying"
        student.guardian_name = row.guardian_name
        if student.id is not None and student.guardian_phone != row.guardian_phone:
            phone_changes.append((student.code, student.guardian_phone, row.guardian_phone))
        student.guardian_phone = row.guardian_phone
        student.guardian_email = row.guardian_email
        ensure_token(student)
    db.session.flush()
    audit.record(actor, school.id, "students.import", f"school:{school.code}",
                 created=created, updated=updated)
    for code, old, new in phone_changes:
        record_phone_change(actor, school, code, old, new, via="import")
    return {"created": created, "updated": updated}


def list_students(actor: User, school: School, *, class_name: str | None = None,
                  search: str | None = None) -> list[Student]:
    require_read(actor, school)
    query = (
        select(Student)
        .join(Student.classroom)
        .where(Student.school_id == school.id)
    )
    if class_name:
        query = query.where(Classroom.name == class_name_key(class_name))
    if search:
        like = f"%{search.strip()}%"
        query = query.where(Student.full_name.ilike(like) | Student.code.ilike(like))
    found = db.session.scalars(query)
    return sorted(found, key=lambda s: (s.classroom.name, sort_key(s.full_name), s.code))


def get_student(school: School, code: str) -> Student | None:
    return db.session.scalar(
        select(Student).where(Student.school_id == school.id, Student.code == code.upper())
    )


def search_students(
    actor: User, school: School, *, search: str | None = None, class_name: str | None = None,
    status: str | None = None, page: int = 1, per_page: int = 100,
) -> tuple[list[Student], int]:
    """One page of the class-list-ordered students matching the filters, and how many match.

    The search ignores case and diacritics ("nguyen" finds "Nguyễn") and matches the name
    or the code. Only ids, names and class names of the whole school are read to sort and
    filter; full rows are loaded for the page shown, so a school of thousands stays fast.
    """
    require_read(actor, school)
    query = (
        select(Student.id, Student.code, Student.full_name, Classroom.name)
        .join(Student.classroom)
        .where(Student.school_id == school.id)
    )
    if class_name:
        query = query.where(Classroom.name == class_name)
    if status in STUDENT_STATUSES:
        query = query.where(Student.status == status)
    rows = list(db.session.execute(query))
    needle = normalise_header(search or "")
    if needle:
        rows = [r for r in rows if needle in normalise_header(f"{r.full_name} {r.code}")]
    rows.sort(key=lambda r: (r.name, sort_key(r.full_name), r.code))
    start = (max(page, 1) - 1) * per_page
    ids = [r.id for r in rows[start : start + per_page]]
    loaded = {s.id: s for s in db.session.scalars(select(Student).where(Student.id.in_(ids)))}
    return [loaded[i] for i in ids], len(rows)


def school_classes(school: School) -> list[Classroom]:
    """The school's classes that have students, in name order (for filters and pickers)."""
    return list(db.session.scalars(
        select(Classroom)
        .where(Classroom.school_id == school.id,
               select(Student.id).where(Student.classroom_id == Classroom.id).exists())
        .order_by(Classroom.name, Classroom.school_year.desc())
    ))


def update_student(actor: User, school: School, student: Student, data: dict[str, Any]) -> Student:
    """Change a student's details from a form; every field is checked before anything changes.

    ``data`` holds text as typed: ``full_name``, ``date_of_birth`` (dd/mm/yyyy or yyyy-mm-dd,
    may be blank), ``classroom_id`` (a class of this school), ``status`` (studying/left),
    ``guardian_name``, ``guardian_phone`` and ``guardian_email`` (may be blank; a form
    without ``guardian_email`` leaves it as it is). Raises :class:`Invalid` with ``errors``
    mapping each bad field to its Vietnamese and English message.
    """
    require_manage(actor, school)
    if student.school_id != school.id:
        raise not_found(f"học sinh “{student.code}”", f"Student {student.code!r}")
    today = clock.today_vn()
    earliest, latest = _years_before(today, 20), _years_before(today, 1)
    errors: dict[str, tuple[str, str]] = {}
    values: dict[str, Any] = {}

    def check(field: str, parse, *, optional: bool = True) -> None:
        raw = clean_text(data.get(field))
        if raw is None and optional:
            values[field] = None
            return
        try:
            values[field] = parse(raw)
        except CellError as exc:
            errors[field] = (exc.message_vi, exc.message_en)

    check("full_name", _parse_name, optional=False)
    check("date_of_birth",
          lambda v: parse_date_of_birth(v, earliest=earliest, latest=latest))
    check("guardian_name", _parse_name)
    check("guardian_phone", parse_phone)
    if "guardian_email" in data:  # forms without the field leave the address as it is
        check("guardian_email", parse_email)
    status = data.get("status")
    if status not in STUDENT_STATUSES:
        errors["status"] = ("Trạng thái phải là đang học hoặc đã nghỉ.",
                            "Status must be studying or left.")
    room = None
    room_id = str(data.get("classroom_id") or "")
    if small_int(room_id) is not None:
        room = db.session.get(Classroom, small_int(room_id))
    if room is None or room.school_id != school.id:
        errors["classroom_id"] = ("Hãy chọn một lớp của trường.", "Choose a class of the school.")
    if errors:
        raise Invalid(
            "Thông tin học sinh chưa hợp lệ; chưa lưu thay đổi nào.",
            "The student's details are not valid; nothing was saved.",
            errors={field: {"message": vi, "message_en": en}
                    for field, (vi, en) in errors.items()},
        )
    new = {**values, "status": status, "classroom_id": room.id}
    changes = {}
    for field, value in new.items():
        old = getattr(student, field)
        if old != value:
            changes[field] = [_jsonable(old), _jsonable(value)]
            setattr(student, field, value)
    if changes:
        db.session.flush()
        audit.record(actor, school.id, "student.update", f"student:{student.code}",
                     changes=changes)
        if "guardian_phone" in changes:
            record_phone_change(actor, school, student.code, *changes["guardian_phone"],
                                via="form")
    return student


def record_phone_change(actor: User, school: School, student_code: str, old: str | None,
                        new: str | None, *, via: str) -> None:
    """Every change of a guardian's phone gets an audit event of its own, old and new number:
    reminders go to that number, and payers are recognised by it."""
    audit.record(actor, school.id, "student.guardian_phone", f"student:{student_code}",
                 old=old, new=new, via=via)


def _parse_name(value: str | None) -> str:
    value = value or ""  # a required name left blank
    if not any(ch.isalpha() for ch in value):
        raise CellError(f"Tên “{value}” không hợp lệ: phải có chữ cái.",
                        f"Name {value!r} is invalid: it must contain letters.")
    if len(value) > 120:
        raise CellError("Tên dài quá 120 ký tự.", "The name is longer than 120 characters.")
    return value


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap target year
        return day.replace(year=day.year - years, day=28)
