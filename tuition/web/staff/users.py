"""Staff pages: managing the school's user accounts from Settings → Users — disable and
enable, revoke an API token, sign out everywhere. (Each user rotates their own token and ends
their own other sessions on the account page, :mod:`tuition.web.auth`.)"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from ...core import clock
from ...extensions import db
from ...models import User
from ...services import sessions, users
from . import bp, load_school


@bp.app_context_processor
def user_admin():
    def can_manage_user(user: User) -> bool:
        return bool(g.get("user")) and users.can_manage_user(g.user, user)

    def open_session_counts(found) -> dict[int, int]:
        idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
        return sessions.open_counts([u.id for u in found], idle=idle)

    return {"can_manage_user": can_manage_user, "open_session_counts": open_session_counts,
            "format_datetime": clock.format_datetime}


def _target(school_code: str, user_id: int) -> User:
    school = load_school(school_code)
    user = users.get_user(g.user, user_id)
    if user.school_id != school.id:
        abort(404)
    return user


def _done(message: str):
    db.session.commit()
    flash(message, "info")
    return redirect(url_for("staff.settings", school_code=g.school.code, _anchor="nguoi-dung"))


@bp.post("/<school_code>/cai-dat/nguoi-dung/<int:user_id>/khoa")
def disable_user(school_code: str, user_id: int):
    user = _target(school_code, user_id)
    users.disable_user(g.user, user, request.form.get("reason"))
    return _done(_("Đã khóa tài khoản %(email)s; mọi phiên đăng nhập của tài khoản đã kết thúc.",
                   email=user.email))


@bp.post("/<school_code>/cai-dat/nguoi-dung/<int:user_id>/mo-khoa")
def enable_user(school_code: str, user_id: int):
    user = _target(school_code, user_id)
    users.enable_user(g.user, user, request.form.get("reason"))
    return _done(_("Đã mở khóa tài khoản %(email)s.", email=user.email))


@bp.post("/<school_code>/cai-dat/nguoi-dung/<int:user_id>/thu-hoi-ma")
def revoke_user_token(school_code: str, user_id: int):
    user = _target(school_code, user_id)
    revoked = users.revoke_token(g.user, user, request.form.get("reason"))
    return _done(_("Đã thu hồi mã truy cập API của %(email)s.", email=user.email) if revoked
                 else _("%(email)s không có mã truy cập API.", email=user.email))


@bp.post("/<school_code>/cai-dat/nguoi-dung/<int:user_id>/dang-xuat")
def end_user_sessions(school_code: str, user_id: int):
    user = _target(school_code, user_id)
    keep = g.get("staff_session") if user.id == g.user.id else None
    ended = users.end_sessions(g.user, user, keep=keep, reason=request.form.get("reason"))
    return _done(_("Đã đăng xuất %(email)s khỏi %(n)d phiên.", email=user.email, n=ended))
