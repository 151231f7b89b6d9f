"""The staff web app under /app: accountants' work and the principal's view.

One blueprint; each area adds its routes from its own module (students, billing, payments,
receipts, reports, settings). Every view is signed-in only, and every view of a school goes
through :func:`load_school`, which checks that the user may see that school.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from ...extensions import db
from ...models import BankTransaction, School
from ...services import schools
from ...services.access import require_manage, require_read

bp = Blueprint("staff", __name__, url_prefix="/app")

#: (endpoint, label) of the school menu, in order; entries whose view does not exist are hidden.
MENU = [
    ("staff.dashboard", _l("Tổng quan")),
    ("staff.students", _l("Học sinh")),
    ("staff.fees", _l("Khoản thu")),
    ("staff.billing", _l("Lập hóa đơn")),
    ("staff.invoices", _l("Hóa đơn")),
    ("staff.review", _l("Chờ xử lý")),
    ("staff.payments", _l("Giao dịch")),
    ("staff.receipts", _l("Biên lai")),
    ("staff.cash_desk", _l("Thu tiền mặt")),
    ("staff.cash_book", _l("Sổ quỹ")),
    ("staff.refunds", _l("Hoàn tiền")),
    ("staff.statements", _l("Sao kê")),
    ("staff.reminders", _l("Nhắc nộp")),
    ("staff.messages", _l("Nhắn tin")),
    ("staff.exports", _l("Tệp PDF")),
    ("staff.arrears", _l("Công nợ")),
    ("staff.virtual_accounts", _l("TK định danh")),
    ("staff.year_turn", _l("Năm học")),
    ("staff.settings", _l("Cài đặt")),
    ("staff.audit", _l("Nhật ký")),
]
#: Menu entries whose pages are for changing things (billing, working the review queue,
#: uploading statements, sending reminders): not shown to those who may only look.
#: The cash book, refunds, messages, PDF exports and virtual accounts stay: a principal reads them.
FOR_MANAGERS = {"staff.billing", "staff.review", "staff.statements", "staff.reminders",
                "staff.cash_desk", "staff.year_turn"}


@bp.before_request
def require_sign_in():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    g.user = current_user._get_current_object()
    return None


@bp.context_processor
def menu():
    views = current_app.view_functions
    manager = can_manage()
    return {"staff_menu": [(e, label) for e, label in MENU
                           if e in views and (manager or e not in FOR_MANAGERS)],
            "school": g.get("school")}


def load_school(code: str, *, manage: bool = False) -> School:
    """The school of the URL, if the signed-in user may see it (or change it)."""
    school = schools.get_school(code)
    require_read(g.user, school)
    g.school = school  # set before a refused change, so the refusal shows the school's menu
    if manage:
        require_manage(g.user, school)
    return school


def can_manage() -> bool:
    school = g.get("school")
    return bool(school) and g.user.can_manage_money(school.id)


@bp.app_context_processor
def permissions():
    return {"can_manage": can_manage}


@bp.get("/")
def home():
    """Admins pick a school; staff go to their school's first page."""
    from flask import render_template

    if g.user.role == "authority":
        # The education authority has its own pages (aggregates only), not a school's menu.
        return redirect(url_for("authority.overview"))
    if g.user.role == "admin":
        found = list(db.session.scalars(select(School).order_by(School.name)))
        unrouted = db.session.scalar(select(func.count(BankTransaction.id)).where(
            BankTransaction.school_id.is_(None)))
        return render_template("staff/home.html", schools=found, unrouted=unrouted)
    school = db.session.get(School, g.user.school_id)
    target = "staff.dashboard" if g.user.role == "principal" else "staff.review"
    if target not in current_app.view_functions:
        target = "staff.students"
    if target not in current_app.view_functions:
        return render_template("staff/home.html", schools=[school])
    return redirect(url_for(target, school_code=school.code))


# The areas register their views on ``bp``; imported last because they import ``bp``.
from . import (  # noqa: E402, F401
    admin,
    billing,
    cash,
    fee_items,
    messages,
    onboarding,
    payments,
    receipts,
    refunds,
    reports,
    review,
    school_year,
    settings,
    student_page,
    students,
    users,
)
