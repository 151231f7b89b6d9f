"""Staff accounts and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ..core import places
from ..extensions import db
from ..models import School, User
from ..models.user import ROLES
from . import audit
from .errors import Conflict, Invalid

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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
    province_code: int | None = None,
    ward_code: int | None = None,
) -> tuple[User, str]:
    """Create a staff user; return it with a new API token (shown once, stored hashed).

    An authority is scoped to a province (``province_code``) or to one ward of it
    (``ward_code``; the province follows from it)."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
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
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"Email “{email}” đã được dùng.", f"Email {email!r} is taken.")
    token = "tu_" + secrets.token_urlsafe(32)
    user = User(
        email=email,
        name=name,
        role=role,
        school_id=school.id if school and role not in ("admin", "authority") else None,
        province_code=scope[0],
        ward_code=scope[1],
        password_hash=generate_password_hash(password) if password else None,
        api_token_hash=hash_token(token),
    )
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
    if not token:
        return None
    return db.session.scalar(select(User).where(User.api_token_hash == hash_token(token)))
