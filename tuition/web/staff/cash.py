"""Staff pages: the cash desk (one student, or a whole class in one go), the printed receipts
(A5 or 80 mm), and the cash book with its signed daily closing and the cash taken to the bank.

Same pattern as the other money pages: load the school (``manage=True`` to change anything),
call the service, commit once, flash, redirect; a refused change rolls back and shows the page
again with the message (422).
"""

from __future__ import annotations

import io
from datetime import date, datetime

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...core import clock
from ...core.money import format_vnd
from ...extensions import db
from ...models import BankTransaction, CashDeposit
from ...services import cash, cash_deposits, credits, receipts, students
from ...services.errors import Invalid, not_found
from . import bp, load_school
from .payments import REFUSED, error_text, local_time, parse_vnd

KIND_LABELS = {"in": _l("Thu tiền"), "refund": _l("Chi hoàn tiền"),
               "deposit": _l("Nộp tiền vào ngân hàng"), "void": _l("Hủy biên lai")}
RECEIPT_LAYOUTS = ("a5", "80mm")


def _paid_at() -> datetime | None:
    value = (request.form.get("paid_at") or "").strip()
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(f"Thời điểm “{value}” không hợp lệ.", f"Invalid time {value!r}.",
                      field="paid_at") from exc


def _cashier_id() -> int | None:
    value = (request.values.get("nguoi") or request.values.get("cashier") or "").strip()
    return int(value) if value.isdigit() else None


def _day(name: str = "ngay") -> date:
    value = (request.values.get(name) or "").strip()
    if not value:
        return clock.today_vn()
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(404)


def _student(school, code: str | None):
    if not code:
        return None
    return students.get_student(school, code.strip())


# ----------------------------------------------------------------------------- one student


def _desk_page(school, *, error: str | None = None, form: dict | None = None,
               status: int = 200):
    form = form or {}
    code = (request.values.get("student") or form.get("student") or "").strip().upper()
    student = _student(school, code)
    open_invoices, credit = [], 0
    if student is not None:
        open_invoices = cash.open_invoices(student)
        credit = credits.balance_vnd(student.id)
    recent = cash.cash_book(g.user, school, g.user, clock.today_vn()) \
        if g.user.can_manage_money(school.id) else None
    return render_template(
        "staff/cash/desk.html", student=student, code=code, open_invoices=open_invoices,
        due_vnd=sum(i.balance_vnd for i in open_invoices), credit_vnd=credit, form=form,
        chosen=request.form.getlist("invoices"),
        cashiers=cash.cashiers(school), recent=recent, error=error,
        now=clock.now_vn().strftime("%Y-%m-%dT%H:%M"), kind_labels=KIND_LABELS,
    ), status


@bp.get("/<school_code>/thu-tien-mat", endpoint="cash_desk")
def cash_desk(school_code: str):
    return _desk_page(load_school(school_code))


@bp.post("/<school_code>/thu-tien-mat")
def cash_record(school_code: str):
    school = load_school(school_code, manage=True)
    form = request.form.to_dict()
    student = _student(school, form.get("student"))
    try:
        if student is None:
            raise Invalid("Không tìm thấy học sinh với mã này.", "No student with this code.",
                          field="student")
        payment = cash.record_cash(
            g.user, school, student, amount_vnd=parse_vnd(form.get("amount")),
            payer_name=form.get("payer_name", ""), paid_at=_paid_at(),
            invoice_codes=request.form.getlist("invoices"), cashier_id=_cashier_id(),
            note=form.get("note", ""))
    except REFUSED as exc:
        db.session.rollback()
        return _desk_page(school, error=error_text(exc), form=form, status=422)
    db.session.commit()
    flash(_("Đã thu %(amount)s đ tiền mặt của %(name)s (phiếu thu %(doc)s).",
            amount=format_vnd(payment.transaction.amount_vnd),
            name=student.full_name, doc=payment.entry.document), "info")
    return redirect(url_for("staff.cash_done", school_code=school.code,
                            gd=payment.transaction.id))


@bp.get("/<school_code>/thu-tien-mat/da-thu", endpoint="cash_done")
def cash_done(school_code: str):
    """What was just recorded (one payment or a class's), with its receipts to print."""
    school = load_school(school_code)
    ids = [int(v) for v in request.args.getlist("gd") if v.isdigit()]
    found = [t for t in (db.session.get(BankTransaction, i) for i in ids)
             if t is not None and t.school_id == school.id and t.provider == "cash"]
    if not found:
        raise not_found("khoản thu tiền mặt", "Cash payment")
    issued = cash.payment_receipts(school, [t.id for t in found])
    return render_template("staff/cash/done.html", payments=found, receipts=issued,
                           ids=[t.id for t in found], document_of=cash.document_of,
                           total_vnd=sum(t.amount_vnd for t in found), local_time=local_time)


@bp.get("/<school_code>/thu-tien-mat/bien-lai.pdf", endpoint="cash_receipts_pdf")
def cash_receipts_pdf(school_code: str):
    """Every receipt of the cash payments named (``gd``), A5 or 80 mm (``kho``)."""
    from ...pdf.receipts import render_receipts

    school = load_school(school_code)
    layout = request.args.get("kho", "a5")
    if layout not in RECEIPT_LAYOUTS:
        abort(404)
    ids = [int(v) for v in request.args.getlist("gd") if v.isdigit()]
    found = cash.payment_receipts(school, ids)
    if not found:
        raise Invalid("Không có biên lai nào để in.", "No receipts to print.")
    out = io.BytesIO()
    render_receipts((receipts.document(r) for r in found), out, layout=layout)
    out.seek(0)
    return send_file(out, mimetype="application/pdf",
                     download_name=f"bien-lai-tien-mat-{school.code}-{layout}.pdf")


# ----------------------------------------------------------------------------- a class


def _class_page(school, *, error: str | None = None, status: int = 200):
    class_name = (request.values.get("lop") or "").strip()
    rows = cash.class_sheet(g.user, school, class_name) if class_name else []
    classes = sorted({room.name for room in students.school_classes(school)})
    return render_template(
        "staff/cash/class.html", class_name=class_name, rows=rows, classes=classes,
        cashiers=cash.cashiers(school), error=error,
        now=clock.now_vn().strftime("%Y-%m-%dT%H:%M"),
    ), status


@bp.get("/<school_code>/thu-tien-mat/lop", endpoint="cash_class")
def cash_class(school_code: str):
    return _class_page(load_school(school_code))


@bp.post("/<school_code>/thu-tien-mat/lop")
def cash_class_record(school_code: str):
    """One action for the class: every ticked student's cash, then all the receipts."""
    school = load_school(school_code, manage=True)
    items = []
    try:
        for code in request.form.getlist("paid"):
            items.append(cash.CashItem(
                student_code=code, amount_vnd=parse_vnd(request.form.get(f"amount_{code}")),
                payer_name=(request.form.get(f"payer_{code}") or "").strip() or None))
        done = cash.record_many(g.user, school, items, paid_at=_paid_at(),
                                cashier_id=_cashier_id())
    except REFUSED as exc:
        db.session.rollback()
        message = error_text(exc)
        english = str(get_locale()) == "en"
        if bad := exc.details.get("errors"):
            message += " " + "; ".join(
                f"{e['student_code']}: {e['message_en'] if english else e['message']}"
                for e in bad)
        return _class_page(school, error=message, status=422)
    db.session.commit()
    flash(_("Đã thu tiền mặt của %(n)d học sinh, tổng %(amount)s đ.", n=len(done),
            amount=format_vnd(sum(p.transaction.amount_vnd for p in done))),
          "info")
    return redirect(url_for("staff.cash_done", school_code=school.code,
                            gd=[p.transaction.id for p in done]))


# ----------------------------------------------------------------------------- the book


def _book_page(school, *, error: str | None = None, status: int = 200):
    day = _day()
    cashier = cash.book_to_read(g.user, school, _cashier_id(), day)
    book = cash.cash_book(g.user, school, cashier, day)
    deposits = cash_deposits.list_deposits(school)
    waiting = {d.id: cash_deposits.candidates(d) for d in deposits if d.transaction_id is None}
    people = cash.cashiers(school)
    if cashier not in people:
        people.append(cashier)
    return render_template(
        "staff/cash/book.html", book=book, cashiers=people, deposits=deposits,
        waiting=waiting, accounts=list(school.bank_accounts), kind_labels=KIND_LABELS,
        error=error, local_time=local_time, today=clock.today_vn(),
        format_date=clock.format_date,
    ), status


@bp.get("/<school_code>/so-quy", endpoint="cash_book")
def cash_book(school_code: str):
    return _book_page(load_school(school_code))


@bp.get("/<school_code>/so-quy.pdf", endpoint="cash_book_pdf")
def cash_book_pdf(school_code: str):
    from ...pdf.cash_book import render_cash_book

    school = load_school(school_code)
    day = _day()
    cashier = cash.book_to_read(g.user, school, _cashier_id(), day)
    out = io.BytesIO()
    render_cash_book(cash.book_document(cash.cash_book(g.user, school, cashier, day)), out)
    out.seek(0)
    return send_file(out, mimetype="application/pdf",
                     download_name=f"so-quy-{school.code}-{day:%Y%m%d}-{cashier.id}.pdf")


def _back_to_book(school, day: date, cashier_id: int):
    return redirect(url_for("staff.cash_book", school_code=school.code, ngay=day.isoformat(),
                            nguoi=cashier_id))


@bp.post("/<school_code>/so-quy/khoa", endpoint="cash_book_close")
def cash_book_close(school_code: str):
    school = load_school(school_code, manage=True)
    day = _day()
    cashier = cash.book_holder(g.user, school, _cashier_id())
    try:
        closing = cash.close_day(g.user, school, cashier, day,
                                 counted_vnd=_counted(request.form.get("counted")),
                                 note=request.form.get("note", ""))
    except REFUSED as exc:
        db.session.rollback()
        return _book_page(school, error=error_text(exc), status=422)
    db.session.commit()
    flash(_("Đã khóa sổ quỹ ngày %(day)s; số dư cuối ngày %(amount)s đ.",
            day=clock.format_date(day),
            amount=format_vnd(closing.closing_vnd)), "info")
    return _back_to_book(school, day, cashier.id)


def _counted(text: str | None) -> int:
    cleaned = (text or "").strip()
    if cleaned in ("0", "0 đ"):
        return 0
    return parse_vnd(cleaned, "counted_vnd")


@bp.post("/<school_code>/so-quy/nop-ngan-hang", endpoint="cash_deposit")
def cash_deposit(school_code: str):
    school = load_school(school_code, manage=True)
    day = _day("deposited_on")
    try:
        account = request.form.get("bank_account_id", "")
        deposit = cash_deposits.record_deposit(
            g.user, school, amount_vnd=parse_vnd(request.form.get("amount")),
            deposited_on=day, slip_number=request.form.get("slip_number", ""),
            cashier_id=_cashier_id(),
            bank_account_id=int(account) if account.isdigit() else None)
    except REFUSED as exc:
        db.session.rollback()
        return _book_page(school, error=error_text(exc), status=422)
    db.session.commit()
    if deposit.transaction_id:
        flash(_("Đã ghi nộp tiền vào ngân hàng và đối chiếu với giao dịch ngân hàng #%(id)d.",
                id=deposit.transaction_id), "info")
    else:
        flash(_("Đã ghi nộp tiền vào ngân hàng; giao dịch ngân hàng sẽ được đối chiếu khi "
                "ngân hàng báo."), "info")
    return _back_to_book(school, day, deposit.cashier_id)


@bp.post("/<school_code>/so-quy/nop-ngan-hang/<int:deposit_id>/doi-chieu",
         endpoint="cash_deposit_link")
def cash_deposit_link(school_code: str, deposit_id: int):
    school = load_school(school_code, manage=True)
    deposit = db.session.get(CashDeposit, deposit_id)
    txn_id = request.form.get("txn_id", "")
    txn = db.session.get(BankTransaction, int(txn_id)) if txn_id.isdigit() else None
    if deposit is None or deposit.school_id != school.id or txn is None:
        raise not_found("lần nộp tiền", "Deposit")
    try:
        cash_deposits.link(g.user, deposit, txn)
    except REFUSED as exc:
        db.session.rollback()
        return _book_page(school, error=error_text(exc), status=422)
    db.session.commit()
    flash(_("Đã đối chiếu lần nộp tiền với giao dịch ngân hàng #%(id)d.", id=txn.id), "info")
    return _back_to_book(school, deposit.deposited_on, deposit.cashier_id)
