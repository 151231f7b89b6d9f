"""Students and roster imports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select

from ..core.names import sort_key
from ..extensions import db
from ..importing.roster import RosterInvalid, RosterRow, RowError, infer_grade
from ..models import Classroom, School, Student, User
from . import audit
from .access import require_manage, require_read
from .links import ensure_token


def current_school_year(today: date | None = None) -> str:
    """A school year starts in August for billing purposes (September classes)."""
    today = today or date.today()
    first = today.year if today.month >= 8 else today.year - 1
    return f"{first}-{first + 1}"


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
    errors = [
        RowError(
            row=row.row,
            column="Lớp",
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
        student.guardian_phone = row.guardian_phone
        ensure_token(student)
    db.session.flush()
    audit.record(actor, school.id, "students.import", f"school:{school.code}",
                 created=created, updated=updated)
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
        query = query.where(Classroom.name == class_name.upper())
    if search:
        like = f"%{search.strip()}%"
        query = query.where(Student.full_name.ilike(like) | Student.code.ilike(like))
    found = db.session.scalars(query)
    return sorted(found, key=lambda s: (s.classroom.name, sort_key(s.full_name), s.code))


def get_student(school: School, code: str) -> Student | None:
    return db.session.scalar(
        select(Student).where(Student.school_id == school.id, Student.code == code.upper())
    )
