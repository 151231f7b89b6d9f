"""Who may do what: every service that reads or changes a school asks here first."""

from __future__ import annotations

from ..models import School, User
from .errors import Forbidden


def require_admin(actor: User) -> None:
    if actor.role != "admin":
        raise Forbidden("Chỉ quản trị viên được làm việc này.", "Only an admin may do this.")


def require_read(actor: User, school: School) -> None:
    if not actor.can_read(school.id):
        raise Forbidden(
            "Bạn không có quyền xem dữ liệu của trường này.",
            "You may not see this school's data.",
        )


def require_manage(actor: User, school: School) -> None:
    require_read(actor, school)
    if not actor.can_manage_money(school.id):
        raise Forbidden(
            "Bạn chỉ có quyền xem, không được thay đổi.",
            "Your role may look but not change.",
        )
