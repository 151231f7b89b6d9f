"""Staff pages: money in — the review queue, every payment with its allocations, and bank
statement upload.

Changing handlers follow one pattern: load the school with ``manage=True`` (403 for those who
may only look), call the service, commit once, flash, redirect. A refused change (Invalid,
Conflict) rolls back and shows the same page again with the message, status 422.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...core.clock import VIETNAM, format_date
from ...core.money import MAX_VND, format_vnd, too_large
from ...core.numbers import small_int
from ...extensions import db
from ...importing.statements import COLUMN_FIELDS, StatementInvalid
from ...importing.tabular import FileTooLarge, ImportFileError
from ...models import Allocation, BankTransaction, Invoice, Student
from ...services import audit, payments, statements
from ...services.errors import Conflict, Invalid, not_found
from ...services.review import PaymentSearch, search_payments
from ...services.suggestions import suggestions_for
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
    "duplicate": _l("Trùng giao dịch đã ghi nhận"),
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
    "possible_duplicate": _l("Có thể là giao dịch đã ghi nhận qua kênh khác (cùng tài khoản, "
                             "số tiền và ngày); cần xác nhận."),
    "same_transfer": _l("Cùng một lần chuyển khoản đã ghi nhận qua kênh khác."),
    "marked_duplicate": _l("Kế toán xác nhận là giao dịch trùng."),
    "confirmed": _l("Kế toán đã xác nhận."),
    "cleaned_input": _l("Thông báo của ngân hàng có ký tự không lưu được hoặc trường quá dài; "
                        "đã làm sạch để lưu. Hãy đối chiếu với nội dung gốc rồi gán tay."),
    "cash": _l("Thu tiền mặt tại trường."),
    "cash_void": _l("Biên lai tiền mặt đã hủy; tiền đã trả lại."),
    "cash_deposit": _l("Tiền mặt của trường nộp vào ngân hàng (không phải tiền học phí)."),
    "refund": _l("Chuyển khoản hoàn tiền theo phiếu chi."),
    "opening_balance": _l("Số dư có đầu kỳ chuyển sang."),
    "virtual_account": _l("Chuyển vào tài khoản định danh của học sinh."),
    "virtual_account_family": _l("Chuyển vào tài khoản định danh; có trả cho anh chị em theo "
                                 "mã trong nội dung."),
    "virtual_account_family_short": _l("Chuyển vào tài khoản định danh; số tiền không đủ cho "
                                       "mã anh chị em trong nội dung, cần kiểm tra."),
    "unknown_virtual_account": _l("Tài khoản định danh không thuộc học sinh nào của trường."),
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


class Names(dict):
    """(student code, name) by student id, and ``by_invoice``: by invoice id."""

    by_invoice: dict[int, tuple[str, str]]


def _names(allocations) -> tuple[dict[int, str], Names]:
    """Invoice codes and (student code, name) for a batch of allocations, in two queries;
    the students are those credited and those whose invoices were paid."""
    invoice_ids = {a.invoice_id for a in allocations if a.invoice_id}
    student_ids = {a.student_id for a in allocations if a.student_id}
    invoice_rows = db.session.execute(
        select(Invoice.id, Invoice.code, Invoice.student_id).where(Invoice.id.in_(invoice_ids))
    ).all() if invoice_ids else []
    invoices = {row.id: row.code for row in invoice_rows}
    invoice_student = {row.id: row.student_id for row in invoice_rows}
    student_ids |= set(invoice_student.values())
    students = Names({
        row.id: (row.code, row.full_name) for row in db.session.execute(
            select(Student.id, Student.code, Student.full_name)
            .where(Student.id.in_(student_ids)))
    } if student_ids else {})
    students.by_invoice = {invoice_id: students.get(student_id)
                           for invoice_id, student_id in invoice_student.items()}
    return invoices, students


def _allocation_rows(txn: BankTransaction, invoices, students) -> list[dict]:
    reversed_ids = {a.reverses_id for a in txn.allocations if a.reverses_id}
    return [{
        "allocation": a,
        "invoice_code": invoices.get(a.invoice_id),
        "student": (students.get(a.student_id) if a.student_id
                    else students.by_invoice.get(a.invoice_id)),
        "reversible": (a.amount_vnd > 0 and a.reverses_id is None and a.id not in reversed_ids
                       and a.kind in ("invoice", "credit")),
        "reversed": a.id in reversed_ids,
    } for a in txn.allocations]


def review_item(txn: BankTransaction, invoices, students, suggestions: list[dict]) -> dict:
    """What the queue (and a transfer's own page) shows of one transfer in review."""
    free = payments.unallocated_vnd(txn)
    for suggestion in suggestions:
        suggestion["assign_vnd"] = min(free, suggestion["balance_vnd"])
        # Paying more than is open: the surplus can go to the student's credit at once.
        suggestion["surplus_vnd"] = max(free - suggestion["balance_vnd"], 0)
    rows = _allocation_rows(txn, invoices, students)
    # Students already given part of this transfer: the remainder can be credited to them.
    placed = []
    for row in rows:
        if row["student"] and row["student"] not in placed and not row["reversed"] and (
                row["allocation"].amount_vnd > 0):
            placed.append(row["student"])
    return {"txn": txn, "unallocated_vnd": free, "reason": _reason_label(txn),
            "suggestions": suggestions if free > 0 else [], "allocations": rows,
            "remainder_students": placed if free > 0 else []}


def _review_page(school, *, error: str | None = None, error_txn: int | None = None,
                 status: int = 200):
    queue = payments.list_payments(school, status=payments.REVIEW)
    shown = queue[:REVIEW_PAGE]
    invoices, students = _names([a for txn in shown for a in txn.allocations])
    # One pool of candidates for the whole page (two queries, whatever the queue's length).
    ranked = suggestions_for([t for t in shown if payments.unallocated_vnd(t) > 0])
    items = [review_item(txn, invoices, students, ranked.get(txn.id, [])) for txn in shown]
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


def _back(txn_id: int | None = None) -> str:
    """Where a form returns to: the page it was on (the review queue, the payments list, or
    the transfer's own page while money is left to place)."""
    back = request.form.get("back")
    if back == "item" and txn_id is not None:
        txn = db.session.get(BankTransaction, txn_id)
        if txn is not None and txn.status == payments.REVIEW:
            return url_for("staff.review_item", school_code=g.school.code, txn_id=txn_id)
    endpoint = "staff.payments" if back == "payments" else "staff.review"
    return url_for(endpoint, school_code=g.school.code)


def _after_change(message: str, txn_id: int | None = None):
    db.session.commit()
    flash(message, "info")
    return redirect(_back(txn_id))


def _refused(school, exc, txn_id: int):
    """A refused change on the queue or on the transfer's page: shown again, nothing done."""
    db.session.rollback()
    if request.form.get("back") == "item":
        from .review import item_page

        return item_page(school, txn_id, error=error_text(exc), status=422)
    return _review_page(school, error=error_text(exc), error_txn=txn_id, status=422)


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
        # "Assign and credit the surplus": the rest to the student of the invoice.
        credit = None
        if (request.form.get("credit_student") or "").strip():
            credit = (request.form["credit_student"].strip().upper(),
                      parse_vnd(request.form.get("credit_vnd"), "credit_vnd"))
        payments.assign(g.user, txn, allocations=pairs, credit=credit,
                        reason=request.form.get("reason", ""))
    except REFUSED as exc:
        return _refused(school, exc, txn_id)
    if credit:
        return _after_change(_("Đã gán %(n)d khoản cho giao dịch %(id)d và ghi có %(amount)s đ "
                               "cho học sinh.", n=len(pairs), id=txn_id,
                               amount=format_vnd(credit[1])), txn_id)
    return _after_change(_("Đã gán %(n)d khoản cho giao dịch %(id)d.", n=len(pairs), id=txn_id),
                         txn_id)


@bp.post("/<school_code>/cho-xu-ly/<int:txn_id>/de-rieng")
def set_aside(school_code: str, txn_id: int):
    school = load_school(school_code, manage=True)
    txn = _school_transaction(school, txn_id)
    try:
        payments.set_aside(g.user, txn, reason=request.form.get("reason", ""))
    except REFUSED as exc:
        return _refused(school, exc, txn_id)
    return _after_change(_("Đã để riêng giao dịch %(id)d.", id=txn_id))


@bp.post("/<school_code>/cho-xu-ly/ghep-lai")
def rematch(school_code: str):
    """Match the untouched review items again, e.g. after new invoices were issued."""
    school = load_school(school_code, manage=True)
    changed = payments.rematch(school)
    audit.record(g.user, school.id, "payments.rematch", f"school:{school.code}", matched=changed)
    return _after_change(_("Đã ghép lại: %(n)d giao dịch được khớp với hóa đơn.", n=changed))


@bp.get("/<school_code>/giao-dich", endpoint="payments")
def payments_page(school_code: str):
    return _payments_page(load_school(school_code))


def _search_form() -> dict:
    """The transactions page's filters as typed (kept in the form and the pager's links)."""
    wanted = request.values.get("status") or ""
    return {
        "status": wanted if wanted in STATUS_LABELS else "",
        "q": (request.args.get("q") or "").strip(),
        "so_tien": (request.args.get("so_tien") or "").strip(),
        "tu_ngay": (request.args.get("tu_ngay") or "").strip(),
        "den_ngay": (request.args.get("den_ngay") or "").strip(),
    }


def _form_date(text: str, field: str):
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise Invalid(f"Ngày “{text}” không hợp lệ; ghi dd/mm/yyyy.",
                      f"Invalid date {text!r}; use dd/mm/yyyy.", field=field) from None


def _payments_page(school, *, error: str | None = None, status: int = 200):
    form = _search_form()
    page = small_int(request.args.get("page"), limit=100_000) or 1
    per_page = 50
    try:
        search = PaymentSearch(
            status=form["status"] or None, text=form["q"],
            amount_vnd=parse_vnd(form["so_tien"], "so_tien") if form["so_tien"] else None,
            date_from=_form_date(form["tu_ngay"], "tu_ngay"),
            date_to=_form_date(form["den_ngay"], "den_ngay"))
        shown, total = search_payments(g.user, school, search, page=page, per_page=per_page)
        # Dates are shown back the way people write them, whichever way they came.
        form["tu_ngay"] = format_date(search.date_from)
        form["den_ngay"] = format_date(search.date_to)
    except Invalid as exc:
        error, status = error_text(exc), 422
        shown, total = [], 0
    pages = max(1, -(-total // per_page))
    invoices, students = _names([a for txn in shown for a in txn.allocations])
    items = [{"txn": txn, "unallocated_vnd": payments.unallocated_vnd(txn),
              "allocations": _allocation_rows(txn, invoices, students)} for txn in shown]
    query = {key: value for key, value in form.items() if value}
    return render_template(
        "staff/payments/list.html", items=items, total=total, page=min(page, pages),
        pages=pages, status=form["status"], statuses=STATUS_LABELS, error=error, form=form,
        query=query, searching=bool(query),
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
        uploads=statements.recent_uploads(g.user, school), local_time=local_time,
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
    # The upload's own page lists what it added, with links to the review items.
    return redirect(url_for("staff.statement_upload", school_code=school.code,
                            upload_id=counts["upload_id"]))
