"""Changing what a school charges after the fact: correcting or retiring a fee item, and the
school's rule for part months.

What was billed stays as billed: invoice lines carry their own description, quantity and
price, so a corrected price or name applies to billing runs from now on only, and a retired
item is left out of new runs but stays on the invoices that charge it. Nothing is deleted;
every change is in the audit log with who, when, why and the values before and after.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select

from ..core import clock
from ..core.money import require_vnd
from ..extensions import db
from ..models import FeeItem, InvoiceLine, School, User
from ..models.fees import UNITS
from ..models.school import PARTIAL_MONTH_RULES
from . import audit
from .access import require_manage
from .errors import Conflict, Invalid
from .fees import _code_list, check_classes, check_grades

#: Fields of a fee item that can be corrected (its code never changes).
EDITABLE = ("name", "amount_vnd", "unit", "grades", "classes", "mandatory")


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise Invalid("Cần ghi lý do (tối đa 300 ký tự).",
                      "A reason is required (at most 300 characters).", field="reason")
    return reason


def was_billed(item: FeeItem) -> bool:
    return bool(db.session.scalar(select(exists().where(InvoiceLine.fee_item_id == item.id))))


def update_fee_item(actor: User, school: School, item: FeeItem, data: dict[str, Any],
                    reason: str | None) -> dict[str, list]:
    """Correct a fee item for the billing runs to come. Returns the changes made
    ({field: [before, after]}); fields absent from ``data`` stay as they are.

    The unit cannot change once the item was billed (what was billed counts months, days or
    terms of it): retire it and create another instead.
    """
    require_manage(actor, school)
    if item.school_id != school.id:
        raise Invalid("Khoản thu không thuộc trường này.", "The fee item is not this school's.")
    reason = _reason(reason)
    if unknown := sorted(set(data) - set(EDITABLE)):
        raise Invalid(f"Không sửa được: {', '.join(unknown)} (mã khoản thu không đổi được).",
                      f"Cannot change: {', '.join(unknown)} (the code never changes).",
                      field=unknown[0])
    new: dict[str, Any] = {}
    if "name" in data:
        name = str(data["name"] or "").strip()
        if not name or len(name) > 120:
            raise Invalid("Tên khoản thu là bắt buộc (tối đa 120 ký tự).",
                          "name is required (at most 120 characters).", field="name")
        new["name"] = name
    if "amount_vnd" in data:
        try:
            new["amount_vnd"] = require_vnd(data["amount_vnd"])
        except ValueError as exc:
            raise Invalid("Số tiền “amount_vnd” phải là số nguyên đồng dương.",
                          "amount_vnd must be a positive integer number of dong.",
                          field="amount_vnd") from exc
    if "unit" in data:
        if data["unit"] not in UNITS:
            raise Invalid("Đơn vị tính phải là: " + ", ".join(UNITS) + ".",
                          "unit must be one of: " + ", ".join(UNITS) + ".", field="unit")
        if data["unit"] != item.unit and was_billed(item):
            raise Conflict(
                "Khoản thu đã được lập hóa đơn nên không đổi được đơn vị tính; hãy ngừng thu "
                "khoản này và tạo khoản mới.",
                "The item was billed, so its unit cannot change; retire it and create another.",
                field="unit")
        new["unit"] = data["unit"]
    if "grades" in data:
        new["grades"] = ",".join(check_grades(school, _code_list(data["grades"], "grades")))
    if "classes" in data:
        new["classes"] = ",".join(check_classes(school, _code_list(data["classes"], "classes")))
    if "mandatory" in data:
        if not isinstance(data["mandatory"], bool):
            raise Invalid("“mandatory” phải là true hoặc false.", "mandatory must be a boolean.",
                          field="mandatory")
        new["mandatory"] = data["mandatory"]
    changes = {field: [getattr(item, field), value] for field, value in new.items()
               if getattr(item, field) != value}
    if not changes:
        return {}
    for field, (_before, after) in changes.items():
        setattr(item, field, after)
    db.session.flush()
    audit.record(actor, school.id, "fee_item.update", f"fee_item:{item.code}",
                 changes=changes, reason=reason)
    return changes


def retire(actor: User, school: School, item: FeeItem, reason: str | None) -> FeeItem:
    """Stop charging an item: new billing runs leave it out; what was billed stays."""
    require_manage(actor, school)
    reason = _reason(reason)
    if item.retired:
        raise Conflict("Khoản thu này đã ngừng thu.", "The fee item is retired already.")
    item.retired_at = clock.now_utc()
    item.retired_by_id = actor.id
    item.retire_reason = reason
    db.session.flush()
    audit.record(actor, school.id, "fee_item.retire", f"fee_item:{item.code}", reason=reason)
    return item


def restore(actor: User, school: School, item: FeeItem, reason: str | None) -> FeeItem:
    """Charge a retired item again in the billing runs to come."""
    require_manage(actor, school)
    reason = _reason(reason)
    if not item.retired:
        raise Conflict("Khoản thu này đang được thu.", "The fee item is not retired.")
    audit.record(actor, school.id, "fee_item.restore", f"fee_item:{item.code}", reason=reason,
                 retired_at=item.retired_at.isoformat(), retire_reason=item.retire_reason)
    item.retired_at = item.retired_by_id = item.retire_reason = None
    db.session.flush()
    return item


def set_partial_month_rule(actor: User, school: School, rule: str) -> School:
    """How monthly items are billed for a month a child attends only in part."""
    require_manage(actor, school)
    if rule not in PARTIAL_MONTH_RULES:
        raise Invalid("Quy tắc phải là whole (cả tháng), half (nửa tháng) hoặc days (theo ngày).",
                      "partial_month must be whole, half or days.", field="partial_month")
    if rule != school.partial_month_rule:
        audit.record(actor, school.id, "school.partial_month_rule", f"school:{school.code}",
                     before=school.partial_month_rule, after=rule)
        school.partial_month_rule = rule
        db.session.flush()
    return school


def fee_item_json(item: FeeItem) -> dict:
    return {
        "code": item.code, "name": item.name, "amount_vnd": item.amount_vnd, "unit": item.unit,
        "grades": [x for x in item.grades.split(",") if x],
        "classes": [x for x in item.classes.split(",") if x],
        "mandatory": item.mandatory,
        "retired": item.retired,
        "retired_at": item.retired_at.isoformat() if item.retired_at else None,
        "retire_reason": item.retire_reason,
    }
