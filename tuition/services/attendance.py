"""When a child joins or leaves during the school year, and what that does to billing.

``joined_on`` is the first day at school, ``left_on`` the first day no longer at school (both
Vietnam dates). Billing runs charge by them (see :mod:`tuition.core.coverage`): nothing from
the leaving date on, per-day items by the days attended, monthly items by the school's rule
for part months. When a date is set after invoices were issued, what they charge beyond it is
corrected (:func:`corrections.correct_student`): per-day items billed for the days after it,
monthly items for the months after it and, by the school's rule, the month it falls in. Money
already paid for that becomes the student's credit, which pays the family's open invoices at
once; what is left can be refunded (the cash desk's business, not this module's).
"""

from __future__ import annotations

from datetime import date, timedelta

from ..core import clock
from ..extensions import db
from ..models import School, Student, User
from . import audit
from .access import require_manage
from .corrections import CorrectionReport, correct_student
from .errors import Invalid, NotFound

#: How far from today a joining or leaving date may be (beyond is a typo in the year).
_REACH = timedelta(days=400)


def _check_date(value: date | None, field: str, label_vi: str, label_en: str) -> None:
    if value is None:
        return
    today = clock.today_vn()
    if not today - _REACH <= value <= today + _REACH:
        raise Invalid(
            f"{label_vi} {clock.format_date(value)} quá xa hôm nay; hãy kiểm tra lại năm.",
            f"{label_en} {value.isoformat()} is too far from today; check the year.",
            field=field)


def set_dates(actor: User, school: School, student: Student, *, joined_on: date | None,
              left_on: date | None, reason: str | None = None) -> CorrectionReport:
    """Set a student's joining and leaving dates (None clears one) and correct what issued
    invoices charge beyond them. A leaving date marks the student as left; clearing it
    marks them as studying again (nothing corrected is charged back: a billing run bills
    the months released). Flushes; the caller commits."""
    require_manage(actor, school)
    if student.school_id != school.id:
        raise NotFound("Không tìm thấy học sinh.", "Student not found.")
    _check_date(joined_on, "joined_on", "Ngày vào học", "joined_on")
    _check_date(left_on, "left_on", "Ngày nghỉ học", "left_on")
    if joined_on and left_on and left_on <= joined_on:
        raise Invalid("Ngày nghỉ học phải sau ngày vào học.",
                      "left_on must be after joined_on.", field="left_on")
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise Invalid("Lý do dài quá 200 ký tự.", "The reason is longer than 200 characters.",
                      field="reason")
    before = {"joined_on": student.joined_on, "left_on": student.left_on,
              "status": student.status}
    student.joined_on = joined_on
    student.left_on = left_on
    if left_on is not None:
        student.status = "left"
    elif before["left_on"] is not None:
        student.status = "studying"
    after = {"joined_on": joined_on, "left_on": left_on, "status": student.status}
    if after == before:
        return CorrectionReport(reason)
    db.session.flush()
    audit.record(actor, school.id, "student.attendance", f"student:{student.code}",
                 reason=reason, changes={
                     key: [_iso(before[key]), _iso(value)] for key, value in after.items()
                     if before[key] != value})
    said = []
    if left_on:
        said.append(f"nghỉ học từ {clock.format_date(left_on)}")
    if joined_on:
        said.append(f"vào học từ {clock.format_date(joined_on)}")
    what = "Học sinh " + " và ".join(said) if said else "Cập nhật ngày học"
    return correct_student(actor, school, student, cause="attendance",
                           reason=f"{what}{': ' + reason if reason else ''}")


def record_leave(actor: User, school: School, student: Student, left_on: date,
                 reason: str | None = None) -> CorrectionReport:
    """A child leaves: nothing is billed from ``left_on``; what was billed after it is
    corrected, and money paid for it becomes credit."""
    if left_on is None:
        raise Invalid("Cần nhập ngày nghỉ học.", "left_on is required.", field="left_on")
    return set_dates(actor, school, student, joined_on=student.joined_on, left_on=left_on,
                     reason=reason)


def _iso(value):
    return value.isoformat() if isinstance(value, date) else value


def attendance_json(student: Student) -> dict:
    return {"student_code": student.code, "status": student.status,
            "joined_on": _iso(student.joined_on), "left_on": _iso(student.left_on)}
