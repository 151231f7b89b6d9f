"""Students, one row per child per school."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .common import created_at_column
from .school import Classroom

STUDENT_STATUSES = {"studying": "Đang học", "left": "Đã nghỉ"}


class Student(db.Model):
    __tablename__ = "students"
    __table_args__ = (
        UniqueConstraint("school_id", "code"),
        CheckConstraint("status IN ('studying', 'left')", name="status"),
        CheckConstraint("joined_on IS NULL OR left_on IS NULL OR left_on > joined_on",
                        name="attendance_dates"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    full_name: Mapped[str] = mapped_column(String(120))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    classroom_id: Mapped[int] = mapped_column(ForeignKey("classrooms.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="studying")
    guardian_name: Mapped[str | None] = mapped_column(String(120))
    guardian_phone: Mapped[str | None] = mapped_column(String(15))
    #: Where messages go when the school sends by email (from the roster).
    guardian_email: Mapped[str | None] = mapped_column(String(254))
    #: The private link of the parents' page (``/p/<token>``); reissuing revokes the old one.
    parent_token: Mapped[str | None] = mapped_column(String(32), unique=True)
    #: First day at school when the child joined after the school year began (Vietnam date);
    #: billing charges from it. Empty: from the start of every period.
    joined_on: Mapped[date | None] = mapped_column(Date)
    #: First day the child no longer attends (Vietnam date): nothing is billed from it, and
    #: what was billed for the days after it is corrected (see services/attendance.py).
    left_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()

    classroom: Mapped[Classroom] = relationship(lazy="joined")
