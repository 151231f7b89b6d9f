"""Staff sign-in, sign-out, password change and the user's own account page.

Sessions live on the server (:mod:`tuition.services.sessions`): the signed cookie carries a
random key, and signing out, a password change or disabling the user ends the session there,
so an old or copied cookie no longer works.

Guessing is slowed twice, counting failed sign-ins only: per address, and per account. The
per-account limit holds whatever the address, for a window of minutes (never for good). A
browser that has signed in to an account before carries a signed "known device" cookie and
is counted apart, so someone failing on purpose cannot keep the account's owner out.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..core import clock
from ..extensions import db, limiter, login_manager
from ..models import User
from ..services import audit, sessions, users

bp = Blueprint("auth", __name__)

#: A password check against this hash costs the same time as a real one: unknown emails
#: cannot be told apart from wrong passwords by timing.
_DUMMY_HASH = generate_password_hash("not-a-password")
MIN_PASSWORD = users.MIN_PASSWORD
#: Where the session's key sits in the (signed) session cookie.
SESSION_KEY = "sid"
#: The "known device" cookie: which accounts this browser has signed in to.
DEVICE_COOKIE = "tuition_device"
DEVICE_DAYS = 180
DEVICE_ACCOUNTS = 5


def _idle() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The signed-in user, if the session the cookie names is open on the server."""
    row = sessions.live(session.get(SESSION_KEY), idle=_idle())
    if row is None or row.user.get_id() != session_id:
        return None
    g.staff_session = row
    return row.user


login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."


def _safe_next(target: str | None) -> str:
    """Only a path of this site: browsers read "//host" and "/\\host" as another site."""
    if (target and target.startswith("/") and not target.startswith(("//", "/\\"))
            and not urlsplit(target).netloc and target.isprintable()):
        return target
    return url_for("staff.home")


def _client() -> dict:
    return {"ip": request.remote_addr,
            "user_agent": (request.user_agent.string or "")[:200] or None}


def _typed_email() -> str:
    return request.form.get("email", "").strip().lower()[:254]


# -- the "known device" cookie -------------------------------------------------------------

def _account_id(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="tuition.known-device")


def _known_devices() -> dict[str, str]:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return {}
    try:
        value = _device_serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return {}
    return value if isinstance(value, dict) else {}


def _remember_device(response, email: str) -> None:
    known = {k: v for k, v in _known_devices().items() if k != _account_id(email)}
    known = dict(list(known.items())[-(DEVICE_ACCOUNTS - 1):])
    known[_account_id(email)] = secrets.token_urlsafe(12)
    response.set_cookie(DEVICE_COOKIE, _device_serializer().dumps(known),
                        max_age=DEVICE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=request.is_secure, path=url_for("auth.login"))


# -- limits on failed sign-ins -------------------------------------------------------------

def _failed(response) -> bool:
    return response.status_code == 401


def _account_key() -> str:
    """The per-account counter: the account typed in, and this browser if it is known to
    have signed in to that account before (then it has a counter of its own)."""
    account = _account_id(_typed_email())
    device = _known_devices().get(account)
    return f"sign-in:{account}:{device}" if device else f"sign-in:{account}"


def _per_address() -> str:
    return current_app.config["SIGN_IN_FAILURES_PER_ADDRESS"]


def _per_account() -> str:
    return current_app.config["SIGN_IN_FAILURES_PER_ACCOUNT"]


@bp.errorhandler(RateLimitExceeded)
def too_many_failures(exc: RateLimitExceeded):
    db.session.rollback()
    wait = exc.limit.limit.get_expiry() if exc.limit else 60
    flash(_("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %(minutes)d phút.",
            minutes=max(1, -(-wait // 60))), "error")
    response = current_app.make_response(
        (render_template("auth/login.html", email=_typed_email()), 429))
    response.headers["Retry-After"] = str(wait)
    return response


@bp.route("/dang-nhap", methods=["GET", "POST"])
@limiter.limit(_per_address, methods=["POST"], deduct_when=_failed)
@limiter.limit(_per_account, key_func=_account_key, methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("staff.home"))
    if request.method == "POST":
        email = _typed_email()
        password = request.form.get("password", "")
        user = db.session.scalar(select(User).where(User.email == email)) if email else None
        if user is None or not user.password_hash:
            check_password_hash(_DUMMY_HASH, password)
        elif check_password_hash(user.password_hash, password):
            if not user.is_active:
                audit.record(user, user.school_id, "auth.sign_in_refused",
                             f"user:{user.email}", reason="disabled", **_client())
                db.session.commit()
                flash(_("Tài khoản này đã bị khóa. Liên hệ kế toán trưởng hoặc quản trị viên."),
                      "error")
                return render_template("auth/login.html", email=email), 403
            return _sign_in(user)
        # The email typed for no account is kept only if it looks like one (not a password
        # typed in the wrong box).
        unknown = {"email": email} if user is None and users.looks_like_email(email) else {}
        audit.record(None, user.school_id if user else None, "auth.sign_in_failed",
                     f"user:{user.email}" if user else "user:?", **unknown, **_client())
        db.session.commit()
        flash(_("Email hoặc mật khẩu không đúng."), "error")
        return render_template("auth/login.html", email=email), 401
    return render_template("auth/login.html", email="")


def start_session(user: User, *, how: str = "password") -> None:
    """Sign ``user`` in: a new server-side session (audited, committed) and its cookie. Used
    by the sign-in form and by an accepted invitation."""
    language = session.get("lang")
    session.clear()  # nothing from before the sign-in carries over (session fixation)
    if language:
        session["lang"] = language
    key = sessions.start(user, lifetime=timedelta(hours=current_app.config["SESSION_HOURS"]),
                         **_client())
    audit.record(user, user.school_id, "auth.sign_in", f"user:{user.email}", via=how,
                 **_client())
    db.session.commit()
    session[SESSION_KEY] = key
    session.permanent = True  # the cookie ends with the server's session, not before
    login_user(user)


def _sign_in(user: User):
    start_session(user)
    response = redirect(_safe_next(request.args.get("next")))
    _remember_device(response, user.email)
    return response


@bp.post("/dang-xuat")
@login_required
def logout():
    row = g.get("staff_session")
    if row is not None:
        sessions.end(row, "sign_out")
    audit.record(current_user, current_user.school_id, "auth.sign_out",
                 f"user:{current_user.email}", **_client())
    db.session.commit()
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
        user = current_user._get_current_object()
        if not user.password_hash or not check_password_hash(user.password_hash, current):
            flash(_("Mật khẩu hiện tại không đúng."), "error")
        elif len(new) < MIN_PASSWORD:
            flash(_("Mật khẩu mới phải có ít nhất %(n)d ký tự.", n=MIN_PASSWORD), "error")
        elif new != again:
            flash(_("Hai lần nhập mật khẩu mới không khớp."), "error")
        else:
            done = users.change_password(user, new, keep=g.get("staff_session"))
            db.session.commit()
            # This session continues (its id carries the new password's fragment).
            login_user(user)
            flash(_("Đã đổi mật khẩu."), "info")
            if done["sessions_ended"]:
                flash(_("Các phiên đăng nhập khác (%(n)d) đã kết thúc.",
                        n=done["sessions_ended"]), "info")
            if done["token_revoked"]:
                flash(_("Mã truy cập API cũ đã bị thu hồi; cấp mã mới ở trang Tài khoản nếu "
                        "cần."), "info")
            return redirect(url_for("auth.account"))
        return render_template("auth/change_password.html"), 422
    return render_template("auth/change_password.html")


# -- the user's own account: sessions and API token -----------------------------------------

def _account_page(*, token: str | None = None, status: int = 200):
    user = current_user._get_current_object()
    response = current_app.make_response((render_template(
        "auth/account.html", user=user, token=token,
        sessions=sessions.open_sessions(user, idle=_idle()),
        this_session=g.get("staff_session"), format_datetime=clock.format_datetime,
    ), status))
    return response


@bp.get("/tai-khoan")
@login_required
def account():
    return _account_page()


@bp.post("/tai-khoan/dang-xuat-noi-khac")
@login_required
def sign_out_elsewhere():
    user = current_user._get_current_object()
    ended = users.end_sessions(user, user, keep=g.get("staff_session"))
    db.session.commit()
    flash(_("Đã đăng xuất %(n)d phiên khác.", n=ended), "info")
    return redirect(url_for("auth.account"))


@bp.post("/tai-khoan/ma-api")
@login_required
def rotate_token():
    """A new API token, shown on this page once (never put in a redirect or a flash, which
    would keep it in the cookie)."""
    token = users.rotate_token(current_user._get_current_object())
    db.session.commit()
    return _account_page(token=token, status=201)


@bp.post("/tai-khoan/ma-api/thu-hoi")
@login_required
def revoke_token():
    user = current_user._get_current_object()
    revoked = users.revoke_token(user, user)
    db.session.commit()
    flash(_("Đã thu hồi mã truy cập API.") if revoked else _("Bạn chưa có mã truy cập API."),
          "info")
    return redirect(url_for("auth.account"))


@bp.post("/ngon-ngu")
def set_language():
    lang = request.form.get("lang")
    if lang in ("vi", "en"):
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))
