"""Payment reminders: students whose invoices are past due, a message per guardian, and the
exports (CSV, XLSX) an accountant loads into an SMS or Zalo campaign tool.

Exports are opened in Excel or Google Sheets, where a cell that starts with ``=`` (or ``+``,
``-``, ``@``, a tab or a carriage return) is run as a formula. Names and memos come from
rosters and parents, so every text cell is escaped with a leading apostrophe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..core.money import format_vnd
from ..extensions import db
from ..models import Classroom, Invoice, School, Student, User
from ..spreadsheets import csv_bytes, xlsx_bytes
from .access import require_read
from .links import ensure_token, parent_url

#: The placeholders a message template may use (see :func:`render_message`).
PLACEHOLDERS = ("ten_hoc_sinh", "ma_hoc_sinh", "lop", "phu_huynh", "so_tien", "han_nop",
                "so_ngay", "duong_dan", "ten_truong")

DEFAULT_TEMPLATE = (
    "{ten_truong} kính gửi PH em {ten_hoc_sinh} (lớp {lop}): học phí còn {so_tien} đ, "
    "hạn nộp {han_nop}. Xem và chuyển khoản bằng mã QR tại {duong_dan}. Trân trọng."
)

#: Cells starting with these characters are formulas to a spreadsheet.

HEADERS = ("Lớp", "Mã học sinh", "Học sinh", "Phụ huynh", "Số điện thoại",
           "Số tiền (đ)", "Hạn nộp", "Số ngày quá hạn", "Đường dẫn", "Tin nhắn")


@dataclass
class Reminder:
    student: Student
    class_name: str
    amount_vnd: int
    #: The earliest due date among the student's overdue invoices.
    due_date: date
    days_overdue: int
    invoice_codes: list[str]
    link: str

    @property
    def guardian_name(self) -> str:
        return self.student.guardian_name or ""

    @property
    def guardian_phone(self) -> str:
        return self.student.guardian_phone or ""


def overdue(actor: User, school: School, *, today: date,
            class_name: str | None = None) -> list[Reminder]:
    """Students with an open balance on invoices due before ``today``, by class and name.

    Gives a parents' link to students who had none yet (flushes; the caller commits).
    """
    require_read(actor, school)
    query = (
        select(Invoice, Student)
        .join(Student, Invoice.student_id == Student.id)
        .join(Classroom, Student.classroom_id == Classroom.id)
        .where(Invoice.school_id == school.id, Invoice.status.in_(("open", "partial")),
               Invoice.due_date < today)
        .order_by(Classroom.name, Student.full_name, Student.id, Invoice.due_date)
    )
    if class_name:
        query = query.where(Classroom.name == class_name.strip().upper())
    by_student: dict[int, Reminder] = {}
    for invoice, student in db.session.execute(query):
        balance = invoice.balance_vnd
        if balance <= 0:
            continue
        reminder = by_student.get(student.id)
        if reminder is None:
            ensure_token(student)
            reminder = by_student[student.id] = Reminder(
                student=student, class_name=student.classroom.name, amount_vnd=0,
                due_date=invoice.due_date, days_overdue=0, invoice_codes=[], link="")
        reminder.amount_vnd += balance
        reminder.due_date = min(reminder.due_date, invoice.due_date)
        reminder.invoice_codes.append(invoice.code)
    db.session.flush()
    for reminder in by_student.values():
        reminder.days_overdue = (today - reminder.due_date).days
        reminder.link = parent_url(reminder.student)
    return list(by_student.values())


def render_message(template: str, reminder: Reminder, school: School) -> str:
    """The template with its placeholders filled in.

    Plain replacement, not ``str.format``: a template is typed by staff, and format syntax
    would let ``{0.__class__}`` reach into Python objects.
    """
    values = {
        "ten_hoc_sinh": reminder.student.full_name,
        "ma_hoc_sinh": reminder.student.code,
        "lop": reminder.class_name,
        "phu_huynh": reminder.guardian_name,
        "so_tien": format_vnd(reminder.amount_vnd),
        "han_nop": reminder.due_date.strftime("%d/%m/%Y"),
        "so_ngay": str(reminder.days_overdue),
        "duong_dan": reminder.link,
        "ten_truong": school.name,
    }
    text = template
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def export_rows(reminders: list[Reminder], template: str, school: School) -> list[list]:
    """One row per student (escaped), in the order of :data:`HEADERS`."""
    return [
        [cell for cell in (
            r.class_name, r.student.code, r.student.full_name, r.guardian_name,
            r.guardian_phone, r.amount_vnd, r.due_date.strftime("%d/%m/%Y"), r.days_overdue,
            r.link, render_message(template, r, school),
        )]
        for r in reminders
    ]


def to_csv(rows: list[list]) -> bytes:
    return csv_bytes(HEADERS, rows)


def to_xlsx(rows: list[list]) -> bytes:
    return xlsx_bytes("Nhắc nộp", HEADERS, rows, widths=(8, 12, 26, 24, 14, 14, 12, 10, 40, 80))
