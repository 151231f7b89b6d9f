"""A school's own settings, changed by its staff: details, default account, staff accounts;
and reading its audit trail."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from ..extensions import db
from ..models import AuditEvent, School, User
from . import audit, users
from .access import require_manage, require_read
from .errors import Forbidden, Invalid, NotFound

#: Roles a school's staff may give a new colleague (admins are made by admins, elsewhere).
STAFF_ROLES = ("accountant", "principal")
MIN_PASSWORD = 10
_TAX_CODE = re.compile(r"\d{10}(-\d{3})?")
_PHONE = re.compile(r"[0-9 +().-]{6,20}")


def _field(data: dict[str, Any], key: str, label_vi: str, max_len: int) -> str:
    value = data.get(key)
    value = "" if value is None else str(value).strip()
    if len(value) > max_len:
        raise Invalid(f"{label_vi} tối đa {max_len} ký tự.",
                      f"{key} must be at most {max_len} characters.", field=key)
    return value


def update_school(actor: User, school: School, data: dict[str, Any]) -> dict[str, list]:
    """Change the name, address, phone and tax code printed on notices and receipts.

    Returns (and audits) what changed, as ``{field: [old, new]}``. Receipts already issued keep
    the details they were issued with.
    """
    require_manage(actor, school)
    name = _field(data, "name", "Tên trường", 200)
    if not name:
        raise Invalid("Cần nhập tên trường.", "The school name is required.", field="name")
    address = _field(data, "address", "Địa chỉ", 300)
    phone = _field(data, "phone", "Số điện thoại", 20)
    if phone and not _PHONE.fullmatch(phone):
        raise Invalid("Số điện thoại chỉ gồm chữ số, dấu cách, “+”, “.”, “-” hoặc ngoặc.",
                      "The phone number may hold digits, spaces, '+', '.', '-' or brackets.",
                      field="phone")
    tax_code = _field(data, "tax_code", "Mã số thuế", 14)
    if tax_code and not _TAX_CODE.fullmatch(tax_code):
        raise Invalid("Mã số thuế phải có 10 chữ số (hoặc 10 chữ số, “-” và 3 chữ số).",
                      "tax_code must be 10 digits, optionally followed by '-' and 3 digits.",
                      field="tax_code")
    new = {"name": name, "address": address, "phone": phone or None,
           "tax_code": tax_code or None}
    changed = {key: [getattr(school, key), value] for key, value in new.items()
               if getattr(school, key) != value}
    if changed:
        for key, (_old, value) in changed.items():
            setattr(school, key, value)
        db.session.flush()
        audit.record(actor, school.id, "school.update", f"school:{school.code}", changed=changed)
    return changed


def set_default_account(actor: User, school: School, account_id: int):
    """Make one of the school's accounts the one printed on new notices."""
    require_manage(actor, school)
    chosen = next((a for a in school.bank_accounts if a.id == account_id), None)
    if chosen is None:
        raise NotFound("Không tìm thấy tài khoản ngân hàng.", "Bank account not found.")
    for account in school.bank_accounts:
        account.is_default = account is chosen
    db.session.flush()
    audit.record(actor, school.id, "bank_account.default", f"bank_account:{chosen.id}",
                 account_number=chosen.account_number)
    return chosen


def add_staff(actor: User, school: School, *, email: str, name: str, role: str,
              password: str) -> User:
    """An accountant or principal of this school, signing in with a temporary password."""
    require_manage(actor, school)
    if role not in STAFF_ROLES:
        raise Invalid("Vai trò phải là kế toán hoặc hiệu trưởng.",
                      "The role must be accountant or principal.", field="role")
    if role == "principal" and actor.role != "admin":
        # The principal approves changes to the school's bank accounts: an accountant who
        # could make one could approve their own requests.
        raise Forbidden("Chỉ quản trị viên được tạo tài khoản hiệu trưởng.",
                        "Only an admin may create a principal's account.", field="role")
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(f"Mật khẩu tạm phải có ít nhất {MIN_PASSWORD} ký tự.",
                      f"The temporary password needs at least {MIN_PASSWORD} characters.",
                      field="password")
    # No API token: staff of the web app sign in by password, and issue a token for
    # themselves on their account page if they need one.
    user, _token = users.create_user(actor, email=email or "", role=role, school=school,
                                     password=password, name=(name or "").strip()[:120],
                                     api_token=False)
    return user


def school_users(actor: User, school: School) -> list[User]:
    require_read(actor, school)
    return list(db.session.scalars(
        select(User).where(User.school_id == school.id).order_by(User.role, User.email)))


@dataclass
class AuditPage:
    events: list[tuple[AuditEvent, str | None]]
    page: int
    pages: int
    total: int


def audit_log(actor: User, school: School, *, page: int = 1, per_page: int = 50) -> AuditPage:
    """The school's audit events, newest first, each with its actor's email (None: automatic)."""
    require_read(actor, school)
    total = db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.school_id == school.id))
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.session.execute(
        select(AuditEvent, User.email)
        .outerjoin(User, AuditEvent.actor_id == User.id)
        .where(AuditEvent.school_id == school.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return AuditPage([(event, email) for event, email in rows], page, pages, total)
