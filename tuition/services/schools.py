"""Creating schools and their receiving bank accounts."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from ..core import places
from ..core.paycode import PaymentCodeError, validate_prefix
from ..extensions import db
from ..models import BankAccount, School, User
from ..models.school import LEVELS
from . import audit, bank_accounts, payments
from .access import require_admin
from .errors import Conflict, Invalid, NotFound

_SCHOOL_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")


def _text(data: dict[str, Any], key: str, *, required: bool = True, max_len: int = 200) -> str:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid(f"Thiếu trường “{key}”.", f"Field {key!r} is required.", field=key)
        return ""
    if not isinstance(value, str) or len(value.strip()) > max_len:
        raise Invalid(
            f"Trường “{key}” phải là chuỗi tối đa {max_len} ký tự.",
            f"Field {key!r} must be a string of at most {max_len} characters.",
            field=key,
        )
    return value.strip()


def get_school(code: str) -> School:
    school = db.session.scalar(select(School).where(School.code == code.upper()))
    if school is None:
        raise NotFound(f"Không tìm thấy trường “{code}”.", f"School {code!r} not found.")
    return school


def _prefix_for(code: str) -> str:
    """A payment-code prefix from the school's code: its first letters, made unique."""
    letters = "".join(ch for ch in code if "A" <= ch <= "Z")
    candidates = [letters[:n] for n in (2, 3, 4) if len(letters) >= n]
    candidates += [letters[:1] + a + b for a in "KQWXYZ" for b in "KQWXYZ" if letters[:1]]
    for candidate in candidates:
        try:
            validate_prefix(candidate)
        except PaymentCodeError:
            continue
        if db.session.scalar(select(School.id).where(School.payment_prefix == candidate)) is None:
            return candidate
    raise Invalid(
        "Không tạo được tiền tố mã thanh toán cho trường; hãy chỉ định “payment_prefix”.",
        "Could not derive a payment-code prefix; give one as 'payment_prefix'.",
        field="payment_prefix",
    )


def create_school(actor: User, data: dict[str, Any]) -> School:
    """Create a school with its bank accounts (the first one is the default)."""
    require_admin(actor)
    code = _text(data, "code", max_len=32).upper()
    if not _SCHOOL_CODE.match(code):
        raise Invalid(
            "Mã trường chỉ gồm chữ in hoa không dấu, chữ số, “-” hoặc “_” (2-32 ký tự).",
            "School code must be 2-32 capital letters, digits, '-' or '_'.",
            field="code",
        )
    if db.session.scalar(select(School.id).where(School.code == code)) is not None:
        raise Conflict(f"Mã trường “{code}” đã tồn tại.", f"School {code!r} already exists.")
    level = data.get("level", data.get("levels"))
    levels = [level] if isinstance(level, str) else level
    if not levels or not isinstance(levels, list) or any(lv not in LEVELS for lv in levels):
        raise Invalid(
            "Cấp học phải là một hoặc nhiều trong: mam_non, tieu_hoc, thcs.",
            "level must be one or more of: mam_non, tieu_hoc, thcs.",
            field="level",
        )
    tax_code = _text(data, "tax_code", required=False, max_len=14)
    if tax_code and not re.fullmatch(r"\d{10}(-\d{3})?", tax_code):
        raise Invalid(
            "Mã số thuế phải có 10 chữ số (hoặc 10 chữ số, “-” và 3 chữ số).",
            "tax_code must be 10 digits, optionally followed by '-' and 3 digits.",
            field="tax_code",
        )
    prefix = data.get("payment_prefix")
    if prefix:
        try:
            prefix = validate_prefix(str(prefix).upper())
        except PaymentCodeError as exc:
            raise Invalid(str(exc), str(exc), field="payment_prefix") from exc
        if db.session.scalar(select(School.id).where(School.payment_prefix == prefix)):
            raise Conflict(
                f"Tiền tố “{prefix}” đã được trường khác dùng.", f"Prefix {prefix!r} is taken."
            )
    province_code, ward_code = _place(data)
    school = School(
        code=code,
        name=_text(data, "name"),
        province_code=province_code,
        ward_code=ward_code,
        levels=",".join(dict.fromkeys(levels)),
        address=_text(data, "address", required=False, max_len=300),
        tax_code=tax_code or None,
        phone=_text(data, "phone", required=False, max_len=20) or None,
        payment_prefix=prefix or _prefix_for(code),
    )
    db.session.add(school)
    db.session.flush()
    accounts = data.get("bank_accounts") or []
    if not isinstance(accounts, list):
        raise Invalid("“bank_accounts” phải là danh sách.", "bank_accounts must be a list.")
    for index, account in enumerate(accounts):
        if not isinstance(account, dict):
            raise Invalid("Tài khoản ngân hàng không hợp lệ.", "Invalid bank account.")
        add_bank_account(actor, school, account, default=index == 0)
    audit.record(actor, school.id, "school.create", f"school:{code}", name=school.name)
    return school


def _place(data: dict[str, Any]) -> tuple[int | None, int | None]:
    """The school's province and ward from ``ward_code`` (and ``province_code``, which must
    agree if given): official codes (tuition.core.places). Both may be left out."""
    ward_value, province_value = data.get("ward_code"), data.get("province_code")
    if ward_value in (None, ""):
        if province_value not in (None, ""):
            raise Invalid("Cần chọn xã/phường của trường (“ward_code”).",
                          "Give the school's ward ('ward_code').", field="ward_code")
        return None, None
    try:
        found = places.ward(int(ward_value))
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise Invalid(f"Mã xã/phường “{ward_value}” không có trong danh mục hành chính.",
                      f"Ward code {ward_value!r} is not on the official list.",
                      field="ward_code")
    if province_value not in (None, "") and str(province_value) != str(found.province_code):
        raise Invalid(f"{found.name} không thuộc tỉnh/thành phố mã “{province_value}”.",
                      f"{found.name} is not in province {province_value!r}.",
                      field="ward_code")
    return found.province_code, found.code


def set_place(actor: User, school: School, ward_code: int | str) -> School:
    """Put a school in a ward (admin): authorities of that ward and province then see it."""
    require_admin(actor)
    province_code, code = _place({"ward_code": ward_code})
    if code is None:
        raise Invalid("Cần chọn xã/phường của trường (“ward_code”).",
                      "Give the school's ward ('ward_code').", field="ward_code")
    before = school.ward_code
    school.province_code, school.ward_code = province_code, code
    db.session.flush()
    audit.record(actor, school.id, "school.place", f"school:{school.code}",
                 ward_code=code, province_code=province_code, previous_ward_code=before)
    return school


def add_bank_account(actor: User, school: School, data: dict[str, Any], *,
                     default: bool = False) -> BankAccount:
    """An admin adds a receiving account while creating a school (staff ask for one through
    services/bank_accounts.py). The bank must be on the NAPAS list; a number another school
    uses is refused unless the admin says ``allow_shared_number``. Webhook keys are not taken
    from the request: the SePay key is generated later and shown once."""
    require_admin(actor)
    if data.get("sepay_api_key") or data.get("casso_checksum_key"):
        raise Invalid(
            "Không đặt khóa webhook khi tạo trường: khóa SePay do hệ thống tạo, khóa Casso "
            "đặt ở phần cài đặt tài khoản.",
            "Webhook keys are not set when creating a school: the SePay key is generated by "
            "the server, the Casso key is set in the account's settings.",
            field="bank_accounts")
    fields = bank_accounts.new_account_fields(actor, school, data)
    if default:
        for other in school.bank_accounts:
            other.is_default = False
    account = BankAccount(school=school, bin=fields["bin"],
                          account_number=fields["account_number"],
                          account_name=fields["account_name"],
                          is_default=default or not school.bank_accounts)
    db.session.add(account)
    db.session.flush()
    payments.forget_accounts()
    return account


def get_school_by_id(school_id: int) -> School:
    school = db.session.get(School, school_id)
    if school is None:
        raise NotFound("Không tìm thấy trường.", "School not found.")
    return school
