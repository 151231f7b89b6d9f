"""Staff accounts and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from werkzeug.security import generate_password_hash

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
) -> tuple[User, str]:
    """Create a staff user; return it with a new API token (shown once, stored hashed)."""
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise Invalid(f"Email “{email}” không hợp lệ.", f"Invalid email {email!r}.")
    if role not in ROLES:
        raise Invalid(
            "Vai trò phải là admin, accountant hoặc principal.",
            "role must be admin, accountant or principal.",
        )
    if role != "admin" and school is None:
        raise Invalid(
            "Kế toán và hiệu trưởng phải thuộc một trường (--school).",
            "Accountants and principals need a school (--school).",
        )
    if len(name) > 120:
        raise Invalid("Tên dài quá 120 ký tự.", "The name is longer than 120 characters.",
                      field="name")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"Email “{email}” đã được dùng.", f"Email {email!r} is taken.")
    token = "tu_" + secrets.token_urlsafe(32)
    user = User(
        email=email,
        name=name,
        role=role,
        school_id=school.id if school and role != "admin" else None,
        password_hash=generate_password_hash(password) if password else None,
        api_token_hash=hash_token(token),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(actor, user.school_id, "user.create", f"user:{email}", role=role)
    return user, token


def user_for_token(token: str) -> User | None:
    if not token:
        return None
    return db.session.scalar(select(User).where(User.api_token_hash == hash_token(token)))
