"""Receiving bank accounts and their webhook keys: changed only by an admin or the principal.

Whoever decides where a school's notifications are routed, or holds the key that signs them,
can put money on invoices. So an accountant asks and the principal (or an admin) decides;
a principal's or an admin's own change applies at once. Every change is a
:class:`BankAccountChange` row and an audit event, and the principal's dashboard lists them
(``recent_changes``).

Rules that protect one school from another: an account number another school already uses is
refused (an admin may allow it, knowing that notifications are then told apart by who signed
them); the SePay webhook key is generated here and shown once; only an admin attaches an
account to the deployment-wide keys.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ..core import clock
from ..core.banks import bank_by_bin
from ..extensions import db
from ..models import BankAccount, BankAccountChange, School, User
from . import audit, payments
from .access import require_admin, require_read
from .errors import Conflict, Forbidden, Invalid, NotFound

#: Secrets a person may type (they come from the aggregator); the SePay webhook key is not
#: one of them: it is generated here.
TYPED_SECRETS = ("casso_checksum_key", "sepay_api_token")
_ACCOUNT = re.compile(r"^[0-9A-Z]{4,19}$")


def decides(actor: User, school: School) -> bool:
    """Admins, and the school's principal, decide on bank-account changes."""
    return actor.role == "admin" or (actor.role == "principal" and actor.school_id == school.id)


def _require_staff(actor: User, school: School) -> None:
    require_read(actor, school)
    if actor.role not in ("admin", "accountant", "principal"):
        raise Forbidden("Bạn không có quyền thay đổi tài khoản ngân hàng.",
                        "You may not change bank accounts.")


def _account_of(school: School, account_id: int) -> BankAccount:
    account = db.session.get(BankAccount, account_id)
    if account is None or account.school_id != school.id:
        raise NotFound("Không tìm thấy tài khoản ngân hàng.", "Bank account not found.")
    return account


def used_by_other_school(number: str, school_id: int) -> str | None:
    """The code of another school that has an account with this number, if any."""
    return db.session.scalar(
        select(School.code).join(BankAccount, BankAccount.school_id == School.id)
        .where(BankAccount.account_number == number, School.id != school_id).limit(1))


def new_account_fields(actor: User | None, school: School, data: dict[str, Any]) -> dict:
    """Check a new account (bank on the NAPAS list, number format and uniqueness)."""
    bin_ = data.get("bin")
    bin_ = bin_.strip()[:10] if isinstance(bin_, str) else ""
    bank = bank_by_bin(bin_)
    if bank is None:
        raise Invalid(f"Mã ngân hàng (BIN) “{bin_[:10]}” không có trong danh sách NAPAS.",
                      f"Bank BIN {bin_[:10]!r} is not on the NAPAS list.", field="bin")
    # Text only: a JSON number would have lost its leading zeros, true would read "TRUE".
    number = data.get("account_number")
    number = re.sub(r"[\s.-]", "", number if isinstance(number, str) else "")[:40].upper()
    if not _ACCOUNT.match(number):
        raise Invalid("Số tài khoản chỉ gồm 4-19 chữ số hoặc chữ cái.",
                      "account_number must be 4-19 digits or letters.", field="account_number")
    holder = data.get("account_name")
    if not isinstance(holder, str) or not holder.strip() or len(holder.strip()) > 100:
        raise Invalid("Cần tên chủ tài khoản (tối đa 100 ký tự).",
                      "account_name is required (at most 100 characters).",
                      field="account_name")
    if db.session.scalar(select(BankAccount.id).where(
            BankAccount.bin == bin_, BankAccount.account_number == number)) is not None:
        raise Conflict(f"Tài khoản {number} tại {bank.short_name} đã được đăng ký.",
                       f"Account {number} at {bank.short_name} is already registered.")
    other = used_by_other_school(number, school.id)
    if other and not (actor is not None and actor.role == "admin"
                      and data.get("allow_shared_number") is True):
        raise Conflict(
            f"Số tài khoản {number} đã được một trường khác đăng ký. Nếu đúng là hai tài "
            "khoản khác nhau ở hai ngân hàng, hãy nhờ quản trị viên thêm.",
            f"Account number {number} is already registered by another school. If these are "
            "really two accounts at two banks, ask an admin to add it.",
            field="account_number")
    return {"bin": bin_, "account_number": number, "account_name": holder.strip().upper(),
            "is_default": bool(data.get("is_default"))}


def _key_fields(data: dict[str, Any]) -> dict[str, str | None]:
    """The typed secrets to set (a string) or clear (None)."""
    if "sepay_api_key" in data:
        raise Invalid(
            "Khóa webhook SePay do hệ thống tạo và chỉ hiện một lần; hãy dùng “Tạo khóa mới”.",
            "The SePay webhook key is generated by the server and shown once; rotate it "
            "instead (POST .../sepay-key).", field="sepay_api_key")
    changes: dict[str, str | None] = {}
    for field in TYPED_SECRETS:
        if field not in data:
            continue
        value = data[field]
        if value is not None and (not isinstance(value, str) or not 16 <= len(value) <= 200):
            raise Invalid(f"“{field}” phải là chuỗi 16-200 ký tự hoặc null.",
                          f"{field} must be a string of 16-200 characters, or null.",
                          field=field)
        changes[field] = value or None
    if not changes:
        raise Invalid("Không có khóa nào thay đổi.", "Nothing to change.")
    return changes


def request(actor: User, school: School, action: str, data: dict[str, Any], *,
            account_id: int | None = None) -> tuple[BankAccountChange, str | None]:
    """Ask for a change; applied at once if the actor decides such changes (principal of the
    school, admin), else pending for the principal. Returns the change and, for a rotated
    SePay key applied now, the new key (to be shown once)."""
    _require_staff(actor, school)
    if action == "add_account":
        payload = new_account_fields(actor, school, data)
        if data.get("allow_shared_number") is True:
            payload["allow_shared_number"] = True
    elif action == "update_keys":
        _account_of(school, account_id)
        payload = _key_fields(data)
    elif action == "rotate_sepay_key":
        _account_of(school, account_id)
        payload = {}
    else:
        raise Invalid("Thay đổi không hợp lệ.", "Unknown change.", field="action")
    change = BankAccountChange(school_id=school.id, bank_account_id=account_id, action=action,
                               payload=payload, status="pending", requested_by_id=actor.id)
    db.session.add(change)
    db.session.flush()
    audit.record(actor, school.id, "bank_account.change_requested",
                 f"bank_account_change:{change.id}", change=action,
                 **_described(action, payload))
    secret = None
    if decides(actor, school):
        secret = _decide(actor, school, change, approve=True, note="")
    return change, secret


def decide(actor: User, change_id: int, *, approve: bool,
           note: str = "") -> tuple[BankAccountChange, str | None]:
    """The principal (or an admin) approves or rejects a pending change."""
    change = db.session.scalar(select(BankAccountChange).where(
        BankAccountChange.id == change_id).with_for_update())
    if change is None or not actor.can_read(change.school_id):
        raise NotFound("Không tìm thấy yêu cầu thay đổi.", "Change request not found.")
    school = db.session.get(School, change.school_id)
    if not decides(actor, school):
        raise Forbidden("Chỉ hiệu trưởng hoặc quản trị viên được duyệt thay đổi tài khoản.",
                        "Only the principal or an admin may decide bank-account changes.")
    if change.status != "pending":
        raise Conflict("Yêu cầu này đã được xử lý.", "This request was already decided.")
    note = (note or "").strip()[:300]
    if not approve and not note:
        raise Invalid("Cần ghi lý do từ chối.", "A reason is required to reject.",
                      field="note")
    return change, _decide(actor, school, change, approve=approve, note=note)


def _decide(actor: User, school: School, change: BankAccountChange, *, approve: bool,
            note: str) -> str | None:
    secret = _apply(actor, school, change) if approve else None
    change.status = "applied" if approve else "rejected"
    change.decided_by_id = actor.id
    change.decided_at = clock.now_utc()
    change.decision_note = note or None
    # Typed secrets never stay in the request once it is decided.
    change.payload = {key: ("set" if value else "cleared") if key in TYPED_SECRETS else value
                      for key, value in change.payload.items()}
    db.session.flush()
    audit.record(actor, school.id,
                 "bank_account.change_applied" if approve else "bank_account.change_rejected",
                 f"bank_account_change:{change.id}", change=change.action,
                 requested_by=change.requested_by_id, note=note,
                 **_described(change.action, change.payload))
    payments.forget_accounts()
    return secret


def _apply(actor: User, school: School, change: BankAccountChange) -> str | None:
    payload = change.payload
    if change.action == "add_account":
        # Checked again: another school may have registered the number meanwhile.
        fields = new_account_fields(actor, school, payload)
        if fields["is_default"] or not school.bank_accounts:
            for other in school.bank_accounts:
                other.is_default = False
        account = BankAccount(school=school, bin=fields["bin"],
                              account_number=fields["account_number"],
                              account_name=fields["account_name"],
                              is_default=fields["is_default"] or not school.bank_accounts)
        db.session.add(account)
        db.session.flush()
        change.bank_account_id = account.id
        return None
    account = _account_of(school, change.bank_account_id)
    if change.action == "update_keys":
        for field, value in payload.items():
            setattr(account, field, value)
        return None
    key = secrets.token_urlsafe(32)
    account.sepay_api_key = key
    return key


def _described(action: str, payload: dict) -> dict:
    """What the audit log says of a change: never a secret."""
    if action == "add_account":
        return {"bin": payload.get("bin"), "account_number": payload.get("account_number")}
    if action == "update_keys":
        return {"keys": sorted(payload)}
    return {}


def attach_to_deployment_key(actor: User, school: School, account_id: int,
                             attached: bool) -> BankAccount:
    """Admin only: may the deployment-wide webhook keys sign this account's notifications?"""
    require_admin(actor)
    if not isinstance(attached, bool):
        raise Invalid("“uses_deployment_key” phải là true hoặc false.",
                      "uses_deployment_key must be true or false.", field="uses_deployment_key")
    account = _account_of(school, account_id)
    account.uses_deployment_key = attached
    db.session.flush()
    audit.record(actor, school.id, "bank_account.deployment_key", f"bank_account:{account.id}",
                 attached=attached)
    payments.forget_accounts()
    return account


def changes(actor: User, school: School, *, status: str | None = None,
            since_days: int | None = None) -> list[BankAccountChange]:
    """The school's bank-account changes, newest first (pending ones, or the recent ones that
    the principal's dashboard lists)."""
    require_read(actor, school)
    query = select(BankAccountChange).where(BankAccountChange.school_id == school.id)
    if status:
        if status not in ("pending", "applied", "rejected"):
            raise Invalid("Trạng thái không hợp lệ.", "status must be pending, applied or "
                          "rejected.", field="status")
        query = query.where(BankAccountChange.status == status)
    if since_days is not None:
        query = query.where(BankAccountChange.requested_at
                            >= clock.now_utc() - timedelta(days=since_days))
    return list(db.session.scalars(query.order_by(BankAccountChange.id.desc()).limit(200)))


def change_json(change: BankAccountChange) -> dict:
    return {
        "id": change.id, "action": change.action, "status": change.status,
        "bank_account_id": change.bank_account_id,
        "payload": {key: ("set" if value else "cleared") if key in TYPED_SECRETS else value
                    for key, value in change.payload.items()},
        "requested_by": change.requested_by_id, "requested_at": change.requested_at.isoformat(),
        "decided_by": change.decided_by_id,
        "decided_at": change.decided_at.isoformat() if change.decided_at else None,
        "decision_note": change.decision_note,
    }


def account_json(account: BankAccount) -> dict:
    return {"id": account.id, "bin": account.bin, "account_number": account.account_number,
            "account_name": account.account_name, "is_default": account.is_default,
            "uses_deployment_key": account.uses_deployment_key,
            "sepay_api_key_set": bool(account.sepay_api_key),
            "casso_checksum_key_set": bool(account.casso_checksum_key),
            "sepay_api_token_set": bool(account.sepay_api_token)}
