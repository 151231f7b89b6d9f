"""JSON API under /api/v1. Every request carries ``Authorization: Bearer <token>``."""

from __future__ import annotations

import functools
import io
from datetime import date

from flask import Blueprint, Response, g, jsonify, request, send_file

from ..core import clock
from ..extensions import db
from ..importing.roster import parse_roster
from ..models import BankAccount, Student
from ..pdf.notices import render_notices
from ..qrimage import qr_png, qr_svg
from ..services import (
    audit,
    bank_accounts,
    billing,
    fee_changes,
    fees,
    invoices,
    payments,
    refusals,
    schools,
    students,
    users,
)
from ..services.access import require_admin, require_manage, require_read
from ..services.errors import Conflict, Invalid, ServiceError
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class Unauthorized(ServiceError):
    status = 401


def authenticated(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user = users.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise Unauthorized(
                "Thiếu hoặc sai mã truy cập. Gửi tiêu đề “Authorization: Bearer <token>”.",
                "Missing or invalid token. Send 'Authorization: Bearer <token>'.",
            )
        g.user = user
        return view(*args, **kwargs)

    return wrapper


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("Nội dung yêu cầu phải là một đối tượng JSON.",
                      "The request body must be a JSON object.")
    return data


def reason_of(data: dict) -> str:
    """The body's "reason" as text; missing or null is empty (the service asks for one)."""
    value = data.get("reason")
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise Invalid("“reason” phải là chữ.", "reason must be text.", field="reason")
    return str(value)


def _date(value, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise Invalid(f"“{field}” phải là ngày dạng YYYY-MM-DD.",
                      f"{field} must be a date YYYY-MM-DD.", field=field) from exc


def _school(code: str, *, manage: bool = False):
    school = schools.get_school(code)
    (require_manage if manage else require_read)(g.user, school)
    return school


def _student_json(student: Student) -> dict:
    return {
        "code": student.code,
        "full_name": student.full_name,
        "date_of_birth": student.date_of_birth.isoformat() if student.date_of_birth else None,
        "class": student.classroom.name,
        "grade": student.classroom.grade,
        "status": student.status,
        "guardian_name": student.guardian_name,
        "guardian_phone": student.guardian_phone,
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.post("/schools")
@authenticated
def create_school():
    school = schools.create_school(g.user, json_body())
    db.session.commit()
    return jsonify(_school_json(school)), 201


def _school_json(school) -> dict:
    return {
        "code": school.code,
        "name": school.name,
        "level": school.level_list,
        "address": school.address,
        "tax_code": school.tax_code,
        "phone": school.phone,
        "payment_prefix": school.payment_prefix,
        "province_code": school.province_code,
        "ward_code": school.ward_code,
        "bank_accounts": [
            {"id": a.id, "bin": a.bin, "account_number": a.account_number,
             "account_name": a.account_name, "is_default": a.is_default}
            for a in school.bank_accounts
        ],
    }


@bp.get("/schools/<code>")
@authenticated
def get_school(code: str):
    return jsonify(_school_json(_school(code)))


@bp.post("/schools/<code>/students/import")
@authenticated
def import_students(code: str):
    school = _school(code, manage=True)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid("Gửi tệp danh sách học sinh trong trường “file”.",
                      "Send the roster as multipart field 'file'.")
    rows = parse_roster(upload.read(), upload.filename)
    result = students.import_roster(g.user, school, rows,
                                    school_year=request.form.get("school_year") or None)
    db.session.commit()
    return jsonify(result)


@bp.get("/schools/<code>/students")
@authenticated
def list_students(code: str):
    school = _school(code)
    found = students.list_students(g.user, school, class_name=request.args.get("class"),
                                   search=request.args.get("q"))
    return jsonify({"items": [_student_json(s) for s in found], "count": len(found)})


@bp.post("/schools/<code>/fee-items")
@authenticated
def create_fee_item(code: str):
    school = _school(code, manage=True)
    item = fees.create_fee_item(g.user, school, json_body())
    db.session.commit()
    return jsonify(fee_changes.fee_item_json(item)), 201


@bp.post("/schools/<code>/billing-runs")
@authenticated
def billing_run(code: str):
    school = _school(code, manage=True)
    data = json_body()
    fee_codes = data.get("fee_items")
    if not isinstance(fee_codes, list) or not all(isinstance(c, str) for c in fee_codes):
        raise Invalid("“fee_items” phải là danh sách mã khoản thu.",
                      "fee_items must be a list of fee item codes.", field="fee_items")
    classes = data.get("classes")
    if classes is not None and (not isinstance(classes, list)
                                or not all(isinstance(c, str) for c in classes)):
        raise Invalid("“classes” phải là danh sách tên lớp.", "classes must be a list.")
    preview = data.get("preview", False)
    if not isinstance(preview, bool):
        raise Invalid("“preview” phải là true hoặc false.", "preview must be a boolean.")
    result = billing.run_billing(
        g.user, school, period=str(data.get("period", "")), fee_codes=fee_codes,
        due_date=_date(data.get("due_date"), "due_date"), classes=classes,
        school_days=data.get("school_days"), preview=preview,
        overlap=data.get("overlap", "bill_missing"),
    )
    body = billing_run_json(result, preview=preview)
    if preview:
        return jsonify(body), 200
    if result.run is None:
        # Nothing to issue: nothing was recorded, and the answer says why.
        body["message"], body["message_en"] = result.nothing_message()
        return jsonify(body), 200
    db.session.commit()
    return jsonify(body), 201


def billing_run_json(result, *, preview: bool) -> dict:
    return {
        "period": result.period.key,
        "period_label": result.period.label,
        "preview": preview,
        "invoices": len(result.invoices),
        "issued": len(result.issued),
        "total_vnd": result.total_vnd,
        "skipped_existing": result.skipped_existing,
        "skipped_nothing_to_bill": result.skipped_nothing_to_bill,
        "by_class": result.by_class(),
        "overlap": result.overlap,
        "conflicts_count": len(result.overlaps),
        "conflicts": [o.as_json() for o in result.overlaps[:billing.OVERLAPS_LISTED]],
        "part_months": [
            {"student_code": student.code, "student_name": student.full_name,
             "class": student.classroom.name, "description": line.description,
             "quantity": line.quantity, "unit_price_vnd": line.unit_price_vnd,
             "amount_vnd": line.amount_vnd, "note": line.note}
            for student, line in result.part_months()
        ],
        "billing_run_id": result.run.id if result.run else None,
    }


@bp.get("/schools/<code>/invoices")
@authenticated
def list_invoices(code: str):
    school = _school(code)
    found = invoices.list_invoices(g.user, school, status=request.args.get("status"),
                                   class_name=request.args.get("class"),
                                   period=request.args.get("period"))
    return jsonify({"items": [invoices.invoice_json(i) for i in found], "count": len(found)})


@bp.get("/invoices/<code>")
@authenticated
def get_invoice(code: str):
    return jsonify(invoices.invoice_json(invoices.get_invoice_for(g.user, code), detail=True))


@bp.post("/invoices/<code>/cancel")
@authenticated
def cancel_invoice(code: str):
    invoice = invoices.get_invoice_for(g.user, code)
    school = schools.get_school_by_id(invoice.school_id)
    billing.cancel_invoice(g.user, school, invoice, reason_of(json_body()))
    db.session.commit()
    return jsonify(invoices.invoice_json(invoice, detail=True))


def _payload_or_409(code: str) -> str:
    payload = invoices.qr_payload(invoices.get_invoice_for(g.user, code))
    if payload is None:
        raise Conflict("Hóa đơn không còn số tiền phải nộp.", "Nothing is left to pay.")
    return payload


@bp.get("/invoices/<code>/qr.png")
@authenticated
def invoice_qr_png(code: str):
    return Response(qr_png(_payload_or_409(code)), mimetype="image/png")


@bp.get("/invoices/<code>/qr.svg")
@authenticated
def invoice_qr_svg(code: str):
    return Response(qr_svg(_payload_or_409(code)), mimetype="image/svg+xml")


@bp.get("/invoices/<code>/notice.pdf")
@authenticated
def invoice_notice(code: str):
    invoice = invoices.get_invoice_for(g.user, code)
    school = schools.get_school_by_id(invoice.school_id)
    layout = request.args.get("layout", "a4")
    if layout not in ("a5x2", "a4"):
        raise Invalid("Bố cục phải là a5x2 hoặc a4.", "layout must be a5x2 or a4.",
                      field="layout")
    notice = invoices.notice_for(invoice, school, invoices.receiving_account(school))
    out = io.BytesIO()
    render_notices([notice], out, layout=layout)
    out.seek(0)
    return send_file(out, mimetype="application/pdf", download_name=f"thong-bao-{code}.pdf")


@bp.get("/schools/<code>/notices.pdf")
@authenticated
def class_notices(code: str):
    school = _school(code)
    period = request.args.get("period")
    if not period:
        raise Invalid("Cần tham số “period”.", "The 'period' parameter is required.")
    layout = request.args.get("layout", "a5x2")
    if layout not in ("a5x2", "a4"):
        raise Invalid("Bố cục phải là a5x2 hoặc a4.", "layout must be a5x2 or a4.")
    out = io.BytesIO()
    count = render_notices(
        invoices.notices_for_class(g.user, school, period=period,
                                   class_name=request.args.get("class")),
        out, layout=layout,
    )
    if count == 0:
        raise Invalid("Không có hóa đơn nào cần in thông báo.", "No unpaid invoices to print.")
    out.seek(0)
    name = f"thong-bao-{school.code}-{period}-{request.args.get('class', 'all')}.pdf"
    return send_file(out, mimetype="application/pdf", download_name=name)


def _bank_change_answer(change, secret: str | None, account_id: int | None):
    """Applied: 200 with the account (and a new SePay key, shown this once); waiting for the
    principal: 202 with the request."""
    if change.status == "pending":
        return jsonify({"status": "pending", "change": bank_accounts.change_json(change),
                        "message": "Đã gửi yêu cầu; thay đổi có hiệu lực khi hiệu trưởng "
                                   "hoặc quản trị viên duyệt.",
                        "message_en": "Requested; it applies once the principal or an admin "
                                      "approves it."}), 202
    account = db.session.get(BankAccount, change.bank_account_id or account_id)
    body = {"status": change.status, "change": bank_accounts.change_json(change),
            "account": bank_accounts.account_json(account) if account else None}
    if secret:
        body["sepay_api_key"] = secret
    return jsonify(body), 200


@bp.post("/schools/<code>/bank-accounts")
@authenticated
def add_bank_account(code: str):
    """Add a receiving account (applied for an admin or the principal, else requested)."""
    change, _secret = bank_accounts.request(g.user, _school(code), "add_account", json_body())
    db.session.commit()
    return _bank_change_answer(change, None, None)


@bp.patch("/schools/<code>/bank-accounts/<int:account_id>")
@authenticated
def update_bank_account(code: str, account_id: int):
    """Set or clear an account's Casso checksum key or SePay API token; an admin may attach the
    account to the deployment-wide keys (``uses_deployment_key``)."""
    school = _school(code)
    data = json_body()
    if "uses_deployment_key" in data:
        account = bank_accounts.attach_to_deployment_key(
            g.user, school, account_id, data.pop("uses_deployment_key"))
        if not data:
            db.session.commit()
            return jsonify({"status": "applied", "account": bank_accounts.account_json(account)})
    change, _secret = bank_accounts.request(g.user, school, "update_keys", data,
                                            account_id=account_id)
    db.session.commit()
    return _bank_change_answer(change, None, account_id)


@bp.post("/schools/<code>/bank-accounts/<int:account_id>/sepay-key")
@authenticated
def rotate_sepay_key(code: str, account_id: int):
    """A new SePay webhook key, generated by the server and shown once (the old one stops
    working); requested by an accountant, applied by the principal or an admin."""
    change, secret = bank_accounts.request(g.user, _school(code), "rotate_sepay_key", {},
                                           account_id=account_id)
    db.session.commit()
    return _bank_change_answer(change, secret, account_id)


@bp.get("/schools/<code>/bank-account-changes")
@authenticated
def list_bank_account_changes(code: str):
    found = bank_accounts.changes(g.user, _school(code), status=request.args.get("status"))
    return jsonify({"items": [bank_accounts.change_json(c) for c in found]})


@bp.post("/bank-account-changes/<int:change_id>/approve")
@authenticated
def approve_bank_account_change(change_id: int):
    return _decide_bank_account_change(change_id, approve=True)


@bp.post("/bank-account-changes/<int:change_id>/reject")
@authenticated
def reject_bank_account_change(change_id: int):
    return _decide_bank_account_change(change_id, approve=False)


def _decide_bank_account_change(change_id: int, *, approve: bool):
    change, secret = bank_accounts.decide(g.user, change_id, approve=approve,
                                          note=str(json_body().get("note", "")))
    db.session.commit()
    return _bank_change_answer(change, secret, change.bank_account_id)


@bp.get("/schools/<code>/payments")
@authenticated
def list_payments(code: str):
    school = _school(code)
    found = payments.list_payments(school, status=request.args.get("status"))
    return jsonify({"items": [payments.payment_json(t) for t in found], "count": len(found)})


@bp.get("/match-queue")
@authenticated
def match_queue():
    """Admin: notifications stored but not matched yet (the match workers' backlog)."""
    require_admin(g.user)
    queue = payments.match_queue()
    oldest = queue["oldest_received_at"]
    return jsonify({**queue, "oldest_received_at": clock.isoformat(oldest)})


@bp.get("/refused-notifications")
@authenticated
def refused_notifications():
    """Admin: signed notifications refused because they contradict a stored transaction."""
    found = refusals.recent(g.user)
    return jsonify({"items": [refusals.refused_json(row) for row in found]})


@bp.get("/unrouted-payments")
@authenticated
def unrouted_payments():
    """Admin: money notified for an account number no school has (or that cannot be told
    apart), kept so that a transfer to a mistyped account is found."""
    found = payments.unrouted(g.user)
    return jsonify({"items": [payments.payment_json(t) for t in found]})


@bp.get("/payments/<int:payment_id>")
@authenticated
def get_payment(payment_id: int):
    txn = payments.get_transaction(g.user, payment_id)
    body = payments.payment_json(txn)
    if txn.status == payments.REVIEW:
        body["suggestions"] = payments.suggestions(txn)
    return jsonify(body)


def _amount(value, field: str = "amount_vnd") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Invalid(f"“{field}” phải là số nguyên đồng dương.",
                      f"{field} must be a positive integer (dong).", field=field)
    return value


@bp.post("/payments/<int:payment_id>/allocations")
@authenticated
def assign_payment(payment_id: int):
    """Assign unallocated money: ``allocations`` [{invoice_code, amount_vnd}] and/or
    ``credit`` {student_code, amount_vnd}, with a ``reason``."""
    txn = payments.get_transaction(g.user, payment_id, manage=True)
    data = json_body()
    items = data.get("allocations") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise Invalid("“allocations” phải là danh sách.", "allocations must be a list.")
    allocations = [(str(i.get("invoice_code", "")), _amount(i.get("amount_vnd"))) for i in items]
    credit = data.get("credit")
    if credit is not None:
        if not isinstance(credit, dict):
            raise Invalid("“credit” không hợp lệ.", "credit must be an object.")
        credit = (str(credit.get("student_code", "")), _amount(credit.get("amount_vnd")))
    payments.assign(g.user, txn, allocations=allocations, credit=credit,
                    reason=reason_of(data))
    db.session.commit()
    return jsonify(payments.payment_json(txn)), 201


@bp.post("/allocations/<int:allocation_id>/reversal")
@authenticated
def reverse_allocation(allocation_id: int):
    reversal = payments.reverse(g.user, allocation_id, reason=reason_of(json_body()))
    db.session.commit()
    return jsonify(payments.payment_json(reversal.transaction)), 201


@bp.post("/payments/<int:payment_id>/set-aside")
@authenticated
def set_aside_payment(payment_id: int):
    txn = payments.get_transaction(g.user, payment_id, manage=True)
    payments.set_aside(g.user, txn, reason=reason_of(json_body()))
    db.session.commit()
    return jsonify(payments.payment_json(txn))


@bp.post("/payments/<int:payment_id>/duplicate")
@authenticated
def mark_duplicate(payment_id: int):
    """A payment in review is a transfer already recorded (``of``: that payment's id)."""
    txn = payments.get_transaction(g.user, payment_id, manage=True)
    data = json_body()
    payments.mark_duplicate(g.user, txn, of=data.get("of"), reason=str(data.get("reason", "")))
    db.session.commit()
    return jsonify(payments.payment_json(txn))


@bp.post("/payments/<int:payment_id>/confirm")
@authenticated
def confirm_payment(payment_id: int):
    txn = payments.get_transaction(g.user, payment_id, manage=True)
    payments.confirm(g.user, txn, reason=str(json_body().get("reason", "")))
    db.session.commit()
    return jsonify(payments.payment_json(txn))


@bp.post("/schools/<code>/payments/rematch")
@authenticated
def rematch_payments(code: str):
    school = _school(code, manage=True)
    changed = payments.rematch(school)
    audit.record(g.user, school.id, "payments.rematch", f"school:{school.code}", matched=changed)
    db.session.commit()
    return jsonify({"matched": changed})
