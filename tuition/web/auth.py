"""Staff sign-in, sign-out and password change (sessions with Flask-Login)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db, limiter, login_manager
from ..models import User
from ..services import audit

bp = Blueprint("auth", __name__)

#: A password check against this hash costs the same time as a real one: unknown emails
#: cannot be told apart from wrong passwords by timing.
_DUMMY_HASH = generate_password_hash("not-a-password")
MIN_PASSWORD = 10


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _sep, fragment = session_id.partition(".")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.get_id() != session_id:
        return None
    return user


login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/"):
        return target
    return url_for("staff.home")


@bp.route("/dang-nhap", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("staff.home"))
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        password = request.form.get("password", "")
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None or not user.password_hash:
            check_password_hash(_DUMMY_HASH, password)
        elif check_password_hash(user.password_hash, password):
            session.clear()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Email hoặc mật khẩu không đúng."), "error")
        return render_template("auth/login.html", email=email), 401
    return render_template("auth/login.html", email="")


@bp.post("/dang-xuat")
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("Đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/doi-mat-khau", methods=["GET", "POST"])
@login_required
def change_password():
    if request.method == "POST":
        current = request.form.get("current_password", "")
        new = request.form.get("new_password", "")
        again = request.form.get("new_password_again", "")
        if not current_user.password_hash or not check_password_hash(
            current_user.password_hash, current
        ):
            flash(_("Mật khẩu hiện tại không đúng."), "error")
        elif len(new) < MIN_PASSWORD:
            flash(_("Mật khẩu mới phải có ít nhất %(n)d ký tự.", n=MIN_PASSWORD), "error")
        elif new != again:
            flash(_("Hai lần nhập mật khẩu mới không khớp."), "error")
        else:
            user = db.session.get(User, current_user.id)
            user.password_hash = generate_password_hash(new)
            audit.record(user, user.school_id, "user.password_change", f"user:{user.email}")
            db.session.commit()
            # Other sessions end (their id no longer matches); this one continues.
            login_user(user)
            flash(_("Đã đổi mật khẩu."), "info")
            return redirect(url_for("staff.home"))
        return render_template("auth/change_password.html"), 422
    return render_template("auth/change_password.html")


@bp.post("/ngon-ngu")
def set_language():
    lang = request.form.get("lang")
    if lang in ("vi", "en"):
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))
