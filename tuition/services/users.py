"""Staff accounts: creating them, API tokens (issued, rotated, revoked), disabling, passwords."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ..core import clock, places
from ..extensions import db
from ..models import School, StaffSession, User
from ..models.user import ROLES
from . import audit, sessions
from .errors import Conflict, Forbidden, Invalid, not_found

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


def looks_like_email(text: str) -> bool:
    return bool(_EMAIL.match(text or ""))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    actor: User | None,
    *,
    email: str,
    role: str,
    school: School | None = None,
    password: str | None = None,
    name: str = "",
    api_token: bool = True,
    province_code: int | None = None,
    ward_code: int | None = None,
) -> tuple[User, str | None]:
    """Create a staff user; return it with a new API token (shown once, stored hashed), or
    None with ``api_token=False`` (the user can issue one on their account page).

    An authority is scoped to a province (``province_code``) or to one ward of it
    (``ward_code``; the province follows from it)."""
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise Invalid(f"Email “{email}” không hợp lệ.", f"Invalid email {email!r}.")
    if role not in ROLES:
        raise Invalid(
            "Vai trò phải là admin, accountant, principal hoặc authority.",
            "role must be admin, accountant, principal or authority.",
        )
    scope = _authority_scope(province_code, ward_code) if role == "authority" else (None, None)
    if role not in ("admin", "authority") and school is None:
        raise Invalid(
            "Kế toán và hiệu trưởng phải thuộc một trường (--school).",
            "Accountants and principals need a school (--school).",
        )
    if len(name) > 120:
        raise Invalid("Tên dài quá 120 ký tự.", "The name is longer than 120 characters.",
                      field="name")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"Email “{email}” đã được dùng.", f"Email {email!r} is taken.")
    user = User(
        email=email,
        name=name,
        role=role,
        school_id=school.id if school and role not in ("admin", "authority") else None,
        province_code=scope[0],
        ward_code=scope[1],
        password_hash=generate_password_hash(password) if password else None,
    )
    token = new_token(user) if api_token else None
    db.session.add(user)
    db.session.flush()
    audit.record(actor, user.school_id, "user.create", f"user:{email}", role=role,
                 **({"province_code": scope[0], "ward_code": scope[1]}
                    if role == "authority" else {}))
    return user, token


def _authority_scope(province_code: int | None, ward_code: int | None) -> tuple[int, int | None]:
    """An authority's province and ward (official codes), checked against the list."""
    if ward_code is not None:
        ward = places.ward(ward_code)
        if ward is None or (province_code is not None and ward.province_code != province_code):
            raise Invalid(f"Mã xã/phường “{ward_code}” không có trong danh mục (hoặc không "
                          "thuộc tỉnh đã chọn).",
                          f"Ward code {ward_code!r} is not on the official list (or not in "
                          "the province given).", field="ward_code")
        return ward.province_code, ward.code
    if province_code is None or places.province(province_code) is None:
        raise Invalid("Cơ quan quản lý cần mã tỉnh/thành phố (hoặc mã xã/phường) hợp lệ.",
                      "An authority needs a valid province (or ward) code.",
                      field="province_code")
    return province_code, None


def user_for_token(token: str) -> User | None:
    """The enabled user whose API token this is."""
    if not token:
        return None
    return db.session.scalar(select(User).where(User.api_token_hash == hash_token(token),
                                                User.disabled_at.is_(None)))


def new_token(user: User) -> str:
    """Give ``user`` a new API token (the old one stops working); return it, to show once."""
    token = "tu_" + secrets.token_urlsafe(32)
    user.api_token_hash = hash_token(token)
    user.api_token_issued_at = clock.now_utc()
    return token


def can_manage_user(actor: User, target: User) -> bool:
    """Admins manage every account; accountants the other accountants of their school;
    everyone their own account. Not the principal's: the principal approves the accountants'
    bank-account changes, so an accountant must not be able to disable or sign them out."""
    if actor.id is not None and actor.id == target.id:
        return True
    if actor.role == "admin":
        return True
    return (actor.role == "accountant" and target.role == "accountant"
            and target.school_id is not None and target.school_id == actor.school_id)


def get_user(actor: User, user_id: int) -> User:
    """A user the actor may see: admins any, staff those of their school."""
    user = db.session.get(User, user_id)
    if user is None or not (actor.role == "admin" or actor.id == user.id or (
            user.school_id is not None and user.school_id == actor.school_id)):
        raise not_found("người dùng", "User")
    return user


def _require_manage_user(actor: User, target: User) -> None:
    if not can_manage_user(actor, target):
        raise Forbidden("Bạn không có quyền thay đổi tài khoản này.",
                        "You may not change this account.")


def _reason(reason: str | None) -> str:
    return (reason or "").strip()[:300]


def rotate_token(actor: User) -> str:
    """The actor's own new API token (shown once); the old one stops working at once.

    Only the owner rotates: a new token given to someone else would let them act as its
    owner. Others may revoke (:func:`revoke_token`)."""
    token = new_token(actor)
    db.session.flush()
    audit.record(actor, actor.school_id, "user.token_rotate", f"user:{actor.email}")
    return token


def revoke_token(actor: User, target: User, reason: str | None = None) -> bool:
    """Take ``target``'s API token away; False if there was none."""
    _require_manage_user(actor, target)
    if target.api_token_hash is None:
        return False
    target.api_token_hash = None
    target.api_token_issued_at = None
    db.session.flush()
    audit.record(actor, target.school_id, "user.token_revoke", f"user:{target.email}",
                 reason=_reason(reason))
    return True


def end_sessions(actor: User, target: User, *, keep: StaffSession | None = None,
                 reason: str | None = None) -> int:
    """Sign ``target`` out everywhere (but in ``keep``, the actor's own current session)."""
    _require_manage_user(actor, target)
    ended = sessions.end_all(target, "revoked", keep=keep)
    audit.record(actor, target.school_id, "user.sessions_end", f"user:{target.email}",
                 ended=ended, reason=_reason(reason))
    return ended


def disable_user(actor: User, target: User, reason: str | None = None) -> None:
    """Disable an account: it can no longer sign in or use its token, and every session of
    it ends now. Enabling it again restores the token (if not revoked meanwhile)."""
    _require_manage_user(actor, target)
    if actor.id == target.id:
        raise Conflict("Không thể tự khóa tài khoản của chính mình.",
                       "You cannot disable your own account.")
    if target.disabled_at is not None:
        return
    target.disabled_at = clock.now_utc()
    ended = sessions.end_all(target, "disabled")
    db.session.flush()
    audit.record(actor, target.school_id, "user.disable", f"user:{target.email}",
                 reason=_reason(reason), sessions_ended=ended)


def enable_user(actor: User, target: User, reason: str | None = None) -> None:
    _require_manage_user(actor, target)
    if target.disabled_at is None:
        return
    target.disabled_at = None
    db.session.flush()
    audit.record(actor, target.school_id, "user.enable", f"user:{target.email}",
                 reason=_reason(reason))


def change_password(actor: User, new_password: str, *,
                    keep: StaffSession | None = None) -> dict:
    """Set the actor's own password. Every other session ends and the API token is revoked
    (whoever knew the old password may have taken them); ``keep`` stays signed in."""
    if len(new_password) < MIN_PASSWORD:
        raise Invalid(f"Mật khẩu mới phải có ít nhất {MIN_PASSWORD} ký tự.",
                      f"The new password needs at least {MIN_PASSWORD} characters.",
                      field="new_password")
    actor.password_hash = generate_password_hash(new_password)
    had_token = actor.api_token_hash is not None
    actor.api_token_hash = None
    actor.api_token_issued_at = None
    ended = sessions.end_all(actor, "password", keep=keep)
    db.session.flush()
    audit.record(actor, actor.school_id, "user.password_change", f"user:{actor.email}",
                 sessions_ended=ended, token_revoked=had_token)
    return {"sessions_ended": ended, "token_revoked": had_token}
