"""Staff pages: money in — the review queue, every payment with its allocations, and bank
statement upload.

Changing handlers follow one pattern: load the school with ``manage=True`` (403 for those who
may only look), call the service, commit once, flash, redirect. A refused change (Invalid,
Conflict) rolls back and shows the same page again with the message, status 422.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...core.clock import VIETNAM
from ...core.money import MAX_VND, too_large
from ...core.numbers import small_int
from ...extensions import db
from ...importing.statements import COLUMN_FIELDS, StatementInvalid
from ...importing.tabular import FileTooLarge, ImportFileError
from ...models import Allocation, BankTransaction, Invoice, Student
from ...services import payments, statements
from ...services.errors import Conflict, Invalid, not_found
from . import bp, load_school

#: Service errors a form can cause; the page is shown again with the message.
REFUSED = (Invalid, Conflict)
#: How many review items one page shows (each costs a suggestions query).
REVIEW_PAGE = 30

STATUS_LABELS = {
    "received": _l("Mới nhận"),
    "matched": _l("Đã khớp"),
    "partial": _l("Khớp một phần"),
    "review": _l("Chờ xử lý"),
    "credited": _l("Ghi có cho học sinh"),
    "ignored": _l("Để riêng / bỏ qua"),
}

#: Why a transfer waits for a person, by ``status_reason``.
REASON_LABELS = {
    "no_known_code": _l("Nội dung chuyển khoản không có mã thanh toán hợp lệ."),
    "invoice_paid": _l("Hóa đơn trong nội dung đã được thanh toán đủ; tiền đang ghi có cho "
                       "học sinh."),
    "invoice_cancelled": _l("Hóa đơn trong nội dung đã bị hủy; tiền đang ghi có cho học sinh."),
    "several_codes_some_closed": _l("Nội dung có nhiều mã, trong đó có hóa đơn đã thanh toán "
                                    "hoặc đã hủy."),
    "several_codes_amount_mismatch": _l("Nội dung có nhiều mã nhưng số tiền khác tổng còn "
                                        "phải thu."),
    "assigned": _l("Đã gán một phần; còn tiền chưa gán."),
    "reversed": _l("Bút toán đã bị đảo; cần gán lại."),
    "unknown_account": _l("Tài khoản nhận không thuộc trường nào."),
    "outgoing": _l("Giao dịch chi ra."),
    "set_aside": _l("Đã để riêng (không phải tiền học phí)."),
    "match_failed": _l("Hệ thống không ghép tự động được (lỗi khi xử lý); cần gán tay."),
    "cleaned_input": _l("Thông báo của ngân hàng có ký tự không lưu được hoặc trường quá dài; "
                        "đã làm sạch để lưu. Hãy đối chiếu với nội dung gốc rồi gán tay."),
}

MAPPING_LABELS = {
    "date_column": _l("Cột ngày giao dịch"),
    "amount_column": _l("Cột số tiền"),
    "credit_column": _l("Cột ghi có (tiền vào)"),
    "debit_column": _l("Cột ghi nợ (tiền ra)"),
    "memo_column": _l("Cột nội dung"),
    "reference_column": _l("Cột số tham chiếu"),
    "date_format": _l("Định dạng ngày (ví dụ %d/%m/%Y)"),
}


def local_time(moment: datetime) -> str:
    """A stored UTC moment as Vietnamese wall-clock time (SQLite gives it back naive)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def error_text(exc) -> str:
    """A service error's message in the reader's language."""
    return exc.message_en if str(get_locale()) == "en" else exc.message_vi


#: Whole dong as typed: "500000", "500.000", "500,000" or "500 000" (groups of three), with an
#: optional "đ"/"vnd". "1,5" is not 15 dong: a separator must be followed by three digits.
_TYPED_VND = re.compile(r"[0-9]+|[0-9]{1,3}([., _])[0-9]{3}(?:\1[0-9]{3})*")
_CURRENCY = re.compile(r"\s*(?:đ|₫|đồng|vnđ|vnd)\s*$", re.IGNORECASE)


def parse_vnd(text: str | None, field: str = "amount_vnd") -> int:
    """``"500.000"``, ``"500,000 đ"`` or ``"500000"`` -> 500000; anything else is refused."""
    typed = _CURRENCY.sub("", (text or "").strip()).replace("\u00a0", " ")
    if _TYPED_VND.fullmatch(typed):
        digits = re.sub(r"[^0-9]", "", typed).lstrip("0") or "0"
        if len(digits) > len(str(MAX_VND)) or int(digits) > MAX_VND:
            raise Invalid(*too_large(), field=field)
        if int(digits) > 0:
            return int(digits)
    raise Invalid(f"Số tiền “{text or ''}” không hợp lệ; nhập số đồng, ví dụ 500.000.",
                  f"Invalid amount {text!r}; give whole dong, e.g. 500000.", field=field)


def _reason_label(txn: BankTransaction) -> str:
    return str(REASON_LABELS.get(txn.status_reason or "", txn.status_reason or ""))


def _names(allocations) -> tuple[dict[int, str], dict[int, tuple[str, str]]]:
    """Invoice codes and (student code, name) for a batch of allocations, in two queries."""
    invoice_ids = {a.invoice_id for a in allocations if a.invoice_id}
    student_ids = {a.student_id for a in allocations if a.student_id}
    invoices = dict(db.session.execute(
        select(Invoice.id, Invoice.code).where(Invoice.id.in_(invoice_ids))).all()
    ) if invoice_ids else {}
    students = {
        row.id: (row.code, row.full_name) for row in db.session.execute(
            select(Student.id, Student.code, Student.full_name)
            .where(Student.id.in_(student_ids)))
    } if student_ids else {}
    return invoices, students


def _allocation_rows(txn: BankTransaction, invoices, students) -> list[dict]:
    reversed_ids = {a.reverses_id for a in txn.allocations if a.reverses_id}
    return [{
        "allocation": a,
        "invoice_code": invoices.get(a.invoice_id),
        "student": students.get(a.student_id),
        "reversible": (a.amount_vnd > 0 and a.reverses_id is None and a.id not in reversed_ids
                       and a.kind in ("invoice", "credit")),
        "reversed": a.id in reversed_ids,
    } for a in txn.allocations]


def _review_page(school, *, error: str | None = None, error_txn: int | None = None,
                 status: int = 200):
    queue = payments.list_payments(school, status=payments.REVIEW)
    shown = queue[:REVIEW_PAGE]
    invoices, students = _names([a for txn in shown for a in txn.allocations])
    items = []
    for txn in shown:
        free = payments.unallocated_vnd(txn)
        suggestions = payments.suggestions(txn) if free > 0 else []
        for suggestion in suggestions:
            suggestion["assign_vnd"] = min(free, suggestion["balance_vnd"])
        items.append({"txn": txn, "unallocated_vnd": free, "reason": _reason_label(txn),
                      "suggestions": suggestions,
                      "allocations": _allocation_rows(txn, invoices, students)})
    return render_template(
        "staff/payments/review.html", items=items, total=len(queue),
        total_vnd=sum(payments.unallocated_vnd(t) for t in queue),
        error=error, error_txn=error_txn, match_queue=payments.match_queue(school.id),
    ), status


@bp.get("/<school_code>/cho-xu-ly")
def review(school_code: str):
    load_school(school_code)
    return _review_page(g.school)


def _school_transaction(school, txn_id: int) -> BankTransaction:
    txn = db.session.get(BankTransaction, txn_id)
    if txn is None or txn.school_id != school.id:
        raise not_found("giao dịch", "Payment")
    return txn


def _back() -> str:
    """Where a form returns to: the page it was on (the review queue or the payments list)."""
    endpoint = "staff.payments" if request.form.get("back") == "payments" else "staff.review"
    return url_for(endpoint, school_code=g.school.code)


def _after_change(message: str):
    db.session.commit()
    flash(message, "info")
    return redirect(_back())


@bp.post("/<school_code>/cho-xu-ly/<int:txn_id>/gan")
def assign(school_code: str, txn_id: int):
    """Place money on one invoice (a suggestion's button) or several (the split form)."""
    school = load_school(school_code, manage=True)
    txn = _school_transaction(school, txn_id)
    try:
        pairs = [
            (code.strip().upper(), parse_vnd(amount))
            for code, amount in zip(request.form.getlist("invoice_code"),
                                    request.form.getlist("amount_vnd"), strict=False)
            if code.strip() or amount.strip()
        ]
        if any(not code for code, _amount in pairs):
            raise Invalid("Cần nhập mã hóa đơn cho mỗi số tiền.",
                          "Each amount needs an invoice code.", field="invoice_code")
        if not pairs:
            raise Invalid("Cần nhập ít nhất một mã hóa đơn và số tiền.",
                          "Give at least one invoice code and amount.", field="invoice_code")
        payments.assign(g.user, txn, allocations=pairs, reason=request.form.get("reason", ""))
    except REFUSED as exc:
        db.session.rollback()
        return _review_page(school, error=error_text(exc), error_txn=txn_id, status=422)
    return _after_change(_("Đã gán %(n)d khoản cho giao dịch %(id)d.", n=len(pairs), id=txn_id))


@bp.post("/<school_code>/cho-xu-ly/<int:txn_id>/de-rieng")
def set_aside(school_code: str, txn_id: int):
    school = load_school(school_code, manage=True)
    txn = _school_transaction(school, txn_id)
    try:
        payments.set_aside(g.user, txn, reason=request.form.get("reason", ""))
    except REFUSED as exc:
        db.session.rollback()
        return _review_page(school, error=error_text(exc), error_txn=txn_id, status=422)
    return _after_change(_("Đã để riêng giao dịch %(id)d.", id=txn_id))


@bp.post("/<school_code>/cho-xu-ly/ghep-lai")
def rematch(school_code: str):
    """Match the untouched review items again, e.g. after new invoices were issued."""
    school = load_school(school_code, manage=True)
    changed = payments.rematch(school)
    return _after_change(_("Đã ghép lại: %(n)d giao dịch được khớp với hóa đơn.", n=changed))


@bp.get("/<school_code>/giao-dich", endpoint="payments")
def payments_page(school_code: str):
    return _payments_page(load_school(school_code))


def _payments_page(school, *, error: str | None = None, status: int = 200):
    wanted = request.values.get("status") or None
    if wanted not in STATUS_LABELS:
        wanted = None
    page = max(1, request.args.get("page", 1, type=int) or 1)
    found = payments.list_payments(school, status=wanted)
    per_page = 50
    pages = max(1, -(-len(found) // per_page))
    page = min(page, pages)
    shown = found[(page - 1) * per_page:page * per_page]
    invoices, students = _names([a for txn in shown for a in txn.allocations])
    items = [{"txn": txn, "unallocated_vnd": payments.unallocated_vnd(txn),
              "allocations": _allocation_rows(txn, invoices, students)} for txn in shown]
    return render_template(
        "staff/payments/list.html", items=items, total=len(found), page=page, pages=pages,
        status=wanted, statuses=STATUS_LABELS, error=error,
    ), status


@bp.post("/<school_code>/giao-dich/but-toan/<int:allocation_id>/dao")
def reverse(school_code: str, allocation_id: int):
    """Undo an allocation (with a reason); the money goes back to the review queue."""
    school = load_school(school_code, manage=True)
    allocation = db.session.get(Allocation, allocation_id)
    if allocation is None or allocation.transaction.school_id != school.id:
        raise not_found("bút toán", "Allocation")
    try:
        payments.reverse(g.user, allocation_id, reason=request.form.get("reason", ""))
    except REFUSED as exc:
        db.session.rollback()
        if request.form.get("back") == "payments":
            return _payments_page(school, error=error_text(exc), status=422)
        return _review_page(school, error=error_text(exc), status=422)
    return _after_change(_("Đã đảo bút toán; số tiền quay về danh sách chờ xử lý."))


def _statements_page(school, *, error: str | None = None, rows=None, form=None,
                     status: int = 200):
    return render_template(
        "staff/payments/statements.html", accounts=school.bank_accounts, error=error,
        rows=rows or [], form=form or {}, mapping_fields=MAPPING_LABELS,
    ), status


@bp.route("/<school_code>/sao-ke", methods=["GET", "POST"], endpoint="statements")
def statements_page(school_code: str):
    """Upload an exported bank statement (XLSX/CSV); all lines or none."""
    if request.method == "GET":
        return _statements_page(load_school(school_code))
    school = load_school(school_code, manage=True)
    form = request.form.to_dict()
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise Invalid("Chọn tệp sao kê (XLSX hoặc CSV).", "Choose a statement file.",
                          field="file")
        account = (form.get("account_id") or "").strip()
        if account and small_int(account) is None:
            raise Invalid("Hãy chọn một tài khoản của trường.", "Choose an account of the school.",
                          field="account_id")
        mapping = {name: form[name] for name in (*COLUMN_FIELDS, "date_format")
                   if form.get(name, "").strip()}
        counts = statements.import_statement(
            g.user, school, upload.read(), upload.filename,
            account_id=small_int(account), mapping=mapping)
    except StatementInvalid as exc:
        db.session.rollback()
        return _statements_page(
            school, form=form, rows=exc.errors, status=422,
            error=_("Sao kê có %(n)d lỗi; chưa nhập dòng nào. Sửa rồi tải lại.",
                    n=len(exc.errors)))
    except (*REFUSED, ImportFileError) as exc:
        db.session.rollback()
        return _statements_page(school, form=form, error=error_text(exc),
                                status=413 if isinstance(exc, FileTooLarge) else 422)
    db.session.commit()
    flash(_("Đã đọc %(rows)d dòng: %(new)d giao dịch mới (%(matched)d đã khớp hóa đơn, "
            "%(review)d chờ xử lý, %(outgoing)d chi ra), %(duplicates)d đã có từ trước.",
            **counts), "info")
    return redirect(url_for("staff.statements", school_code=school.code))
