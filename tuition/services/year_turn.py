"""The school year's turn (kết chuyển năm học): every class moves up a grade in the summer.

A preview comes first: each class of the old year with the class it becomes (1A -> 2A,
Mầm 1 -> Chồi 1; the last grade graduates), each student with where they go, what they owe and
the credit they hold. The accountant edits the class mapping, and single students who repeat a
grade, move to another class or leave, then applies it.

Applying creates the new year's classes and moves the students into them; graduates leave.
Nothing of the old year is rewritten: its classes stay, invoices keep their period (so last
year's are shown as last year's), credits stay on the allocations that made them. Open
balances and credits therefore carry over as they are: a debt of last year is still owed, a
credit pays the new year's invoices. What each student owed and held at that moment is kept
in :class:`~tuition.models.YearTurn`, and the ledger check recomputes it from the allocations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ..core import clock
from ..core.names import sort_key
from ..core.periods import school_year_key
from ..extensions import db
from ..importing.roster import infer_grade, parse_class_name
from ..importing.tabular import CellError
from ..models import (
    Allocation,
    Classroom,
    Invoice,
    School,
    Student,
    User,
    YearTurn,
)
from . import audit, credits
from .access import require_manage, require_read
from .errors import Conflict, Invalid

ACTIONS = {"promote": "Lên lớp", "repeat": "Lưu ban", "move": "Chuyển lớp",
           "graduate": "Ra trường"}
_NEXT_PRESCHOOL = {"NT": "MGB", "MGB": "MGN", "MGN": "MGL"}
#: Words of preschool class names that change with the grade, in the order they are tried.
_PRESCHOOL_WORDS = {
    "NT": (("Nhà trẻ", "Mầm"), ("NT", "MGB")),
    "MGB": (("Mầm", "Chồi"), ("MGB", "MGN"), ("Bé", "Nhỡ"), ("bé", "nhỡ")),
    "MGN": (("Chồi", "Lá"), ("MGN", "MGL"), ("Nhỡ", "Lớn"), ("nhỡ", "lớn")),
}


def next_year(school_year: str) -> str:
    first = int(school_year[:4])
    return f"{first + 1}-{first + 2}"


def last_grade(school: School) -> str:
    """The grade whose students leave the school at the turn."""
    levels = school.level_list
    if "thcs" in levels:
        return "9"
    if "tieu_hoc" in levels:
        return "5"
    return "MGL"


def default_target(name: str, grade: str, school: School) -> tuple[str | None, bool]:
    """The class ``name`` (of ``grade``) becomes next year, and whether that is a sure guess.
    None: the class graduates."""
    if grade == last_grade(school) or grade == "MGL":
        return None, True
    if grade.isdigit():
        upper = str(int(grade) + 1)
        target = re.sub(grade, upper, name, count=1)
        return target, infer_grade(target) == upper
    for old, new in _PRESCHOOL_WORDS.get(grade, ()):
        if old in name:
            target = name.replace(old, new, 1)
            if infer_grade(target) == _NEXT_PRESCHOOL[grade]:
                return target, True
    return name, False


@dataclass
class ClassPlan:
    name: str
    grade: str
    students: int
    #: The class it becomes; None when it graduates.
    target: str | None
    #: False when the target is a guess the accountant should check.
    sure: bool = True


@dataclass
class StudentPlan:
    student: Student
    from_class: str
    target: str | None
    action: str
    debt_vnd: int = 0
    credit_vnd: int = 0


@dataclass
class TurnPlan:
    school: School
    from_year: str
    to_year: str
    classes: list[ClassPlan]
    students: list[StudentPlan]
    errors: list[dict] = field(default_factory=list)

    @property
    def debt_vnd(self) -> int:
        return sum(s.debt_vnd for s in self.students)

    @property
    def credit_vnd(self) -> int:
        return sum(s.credit_vnd for s in self.students)

    def counts(self) -> dict[str, int]:
        return {action: sum(1 for s in self.students if s.action == action)
                for action in ACTIONS}


def latest_year(school: School) -> str | None:
    """The newest school year whose classes have studying students."""
    return db.session.scalar(
        select(func.max(Classroom.school_year))
        .join(Student, Student.classroom_id == Classroom.id)
        .where(Classroom.school_id == school.id, Student.status == "studying"))


def _clean_target(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    return parse_class_name(value)


def preview(actor: User, school: School, *, from_year: str | None = None,
            class_map: dict[str, str | None] | None = None,
            overrides: dict[str, str | None] | None = None) -> TurnPlan:
    """Plan the turn. ``class_map`` (old class -> new class, "" or None to graduate) and
    ``overrides`` (student code -> new class, "" or None to graduate) change the defaults."""
    require_read(actor, school)
    from_year = from_year or latest_year(school)
    if not from_year or not re.fullmatch(r"\d{4}-\d{4}", from_year):
        raise Invalid("Chưa có năm học nào có học sinh để kết chuyển.",
                      "There is no school year with students to turn.", field="from_year")
    to_year = next_year(from_year)
    rows = db.session.execute(
        select(Student, Classroom.name, Classroom.grade)
        .join(Classroom, Classroom.id == Student.classroom_id)
        .where(Student.school_id == school.id, Student.status == "studying",
               Classroom.school_year == from_year)).all()
    errors: list[dict] = []
    classes: dict[str, ClassPlan] = {}
    for _student, name, grade in rows:
        plan = classes.get(name)
        if plan is None:
            target, sure = default_target(name, grade, school)
            plan = classes[name] = ClassPlan(name, grade, 0, target, sure)
        plan.students += 1
    for name, wanted in (class_map or {}).items():
        if name in classes:
            try:
                classes[name].target = _clean_target(wanted)
                classes[name].sure = True
            except CellError as exc:
                errors.append({"class": name, "message": exc.message_vi,
                               "message_en": exc.message_en})
    overrides = {code.strip().upper(): value for code, value in (overrides or {}).items()}
    students = []
    for student, name, grade in rows:
        target = classes[name].target
        if student.code in overrides:
            try:
                target = _clean_target(overrides[student.code])
            except CellError as exc:
                errors.append({"student": student.code, "message": exc.message_vi,
                               "message_en": exc.message_en})
        target_grade = infer_grade(target) if target else None
        if target is not None and target_grade is None:
            errors.append({"student": student.code,
                           "message": f"Không xác định được khối của lớp “{target}”.",
                           "message_en": f"Cannot tell the grade of class {target!r}."})
        if target is None:
            action = "graduate"
        elif target_grade == grade:
            action = "repeat"
        elif target == classes[name].target:
            action = "promote"
        else:
            action = "move"
        students.append(StudentPlan(student, name, target, action))
    _balances(students)
    students.sort(key=lambda s: (s.from_class, sort_key(s.student.full_name), s.student.code))
    return TurnPlan(school, from_year, to_year,
                    sorted(classes.values(), key=lambda c: (c.grade.zfill(3), c.name)),
                    students, errors)


def _balances(plans: list[StudentPlan]) -> None:
    """What each student owes (open invoices of any year) and holds as credit."""
    ids = [p.student.id for p in plans]
    if not ids:
        return
    owed = dict(db.session.execute(
        select(Invoice.student_id, func.sum(Invoice.total_vnd - Invoice.paid_vnd))
        .where(Invoice.student_id.in_(ids), Invoice.status.in_(("open", "partial")))
        .group_by(Invoice.student_id)).all())
    held = credits.balances_vnd(ids)
    for plan in plans:
        plan.debt_vnd = int(owed.get(plan.student.id) or 0)
        plan.credit_vnd = held.get(plan.student.id, (0, 0))[0]


def apply(actor: User, school: School, *, from_year: str,
          class_map: dict[str, str | None] | None = None,
          overrides: dict[str, str | None] | None = None) -> YearTurn:
    """Turn the year as previewed with the same mapping and edits."""
    require_manage(actor, school)
    # One turn at a time per school, and none under a billing run (same lock as billing).
    db.session.execute(select(School.id).where(School.id == school.id)
                       .with_for_update(key_share=True))
    if db.session.scalar(select(YearTurn.id).where(YearTurn.school_id == school.id,
                                                   YearTurn.from_year == from_year)):
        raise Conflict(f"Năm học {from_year} đã được kết chuyển.",
                       f"School year {from_year} has already been turned.")
    plan = preview(actor, school, from_year=from_year, class_map=class_map,
                   overrides=overrides)
    if plan.errors:
        raise Invalid("Kế hoạch kết chuyển còn lỗi; chưa thay đổi gì.",
                      "The plan has errors; nothing was changed.", errors=plan.errors)
    if not plan.students:
        raise Invalid("Năm học không có học sinh nào đang học.",
                      "No studying students in that school year.")
    # The students' rows are locked before their balances are read: money moving for them
    # now either is in the figures or comes after the turn (see the ledger check).
    credits.lock_students([p.student.id for p in plan.students])
    _balances(plan.students)
    rooms = {room.name: room for room in db.session.scalars(
        select(Classroom).where(Classroom.school_id == school.id,
                                Classroom.school_year == plan.to_year))}
    for p in plan.students:
        if p.target is None:
            p.student.status = "left"
            continue
        room = rooms.get(p.target)
        if room is None:
            room = rooms[p.target] = Classroom(school_id=school.id, school_year=plan.to_year,
                                               name=p.target, grade=infer_grade(p.target))
            db.session.add(room)
        p.student.classroom = room
    carried = [{"student": p.student.code, "debt_vnd": p.debt_vnd, "credit_vnd": p.credit_vnd}
               for p in plan.students if p.debt_vnd or p.credit_vnd]
    turn = YearTurn(
        school_id=school.id, from_year=plan.from_year, to_year=plan.to_year,
        classes={c.name: c.target for c in plan.classes},
        moves=[{"student": p.student.code, "from": p.from_class, "to": p.target,
                "action": p.action} for p in plan.students],
        carried=carried, carried_debt_vnd=plan.debt_vnd, carried_credit_vnd=plan.credit_vnd,
        turned_by_id=actor.id, turned_at=clock.now_utc())
    db.session.add(turn)
    db.session.flush()
    audit.record(actor, school.id, "school_year.turn", f"school:{school.code}",
                 from_year=plan.from_year, to_year=plan.to_year, **plan.counts(),
                 carried_debt_vnd=plan.debt_vnd, carried_credit_vnd=plan.credit_vnd)
    return turn


def turns(school: School) -> list[YearTurn]:
    return list(db.session.scalars(select(YearTurn).where(YearTurn.school_id == school.id)
                                   .order_by(YearTurn.turned_at.desc())))


def balances_at(school_id: int, moment) -> tuple[dict[int, int], dict[int, int]]:
    """Each student's open balance and credit as they stood at ``moment``, recomputed from
    the invoices and allocations (which are never edited): for the ledger check."""
    paid = (
        select(Allocation.invoice_id, func.sum(Allocation.amount_vnd).label("paid"))
        .where(Allocation.kind == "invoice", Allocation.created_at <= moment)
        .group_by(Allocation.invoice_id).subquery()
    )
    debts: dict[int, int] = {}
    for student_id, total, paid_then in db.session.execute(
        select(Invoice.student_id, Invoice.total_vnd, func.coalesce(paid.c.paid, 0))
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(Invoice.school_id == school_id, Invoice.issued_at <= moment,
               (Invoice.cancelled_at.is_(None)) | (Invoice.cancelled_at > moment))
    ):
        owed = max(int(total) - int(paid_then), 0)
        if owed:
            debts[student_id] = debts.get(student_id, 0) + owed
    held = dict(db.session.execute(
        select(Allocation.student_id, func.sum(Allocation.amount_vnd))
        .join(Student, Student.id == Allocation.student_id)
        .where(Allocation.kind == "credit", Student.school_id == school_id,
               Allocation.created_at <= moment)
        .group_by(Allocation.student_id)).all())
    return debts, {sid: int(v) for sid, v in held.items() if v}


def earlier_year(period: str, current_year: str) -> str | None:
    """The school year of an invoice's period when it is before ``current_year`` (last
    year's, carried over), else None."""
    try:
        year = school_year_key(period)
    except ValueError:
        return None
    return year if year < current_year else None
