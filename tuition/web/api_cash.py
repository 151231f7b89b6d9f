"""API: the cash desk and cash book, deposits, refunds, virtual accounts, the year's turn,
opening balances, and money received per channel."""

from __future__ import annotations

import io
from datetime import datetime

from flask import g, jsonify, request, send_file

from ..core import clock
from ..extensions import db
from ..importing.opening_balances import parse_opening_balances
from ..importing.virtual_accounts import parse_virtual_accounts
from ..models import BankTransaction, CashDeposit
from ..services import (
    cash,
    cash_deposits,
    channels,
    opening_balances,
    payments,
    receipts,
    refunds,
    students,
    virtual_accounts,
    year_turn,
)
from ..services.errors import Invalid, not_found
from .api import _amount, _date, _school, authenticated, bp, json_body


def _student(school, code) -> object:
    student = students.get_student(school, str(code or "").strip())
    if student is None:
        raise Invalid(f"Không có học sinh mã “{code}”.", f"No student {code!r}.",
                      field="student_code")
    return student


def _moment(value) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise Invalid("“paid_at” phải có dạng YYYY-MM-DDTHH:MM (giờ Việt Nam).",
                      "paid_at must look like YYYY-MM-DDTHH:MM (Vietnam time).",
                      field="paid_at") from exc


def _optional_int(value, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"“{field}” phải là số nguyên.", f"{field} must be an integer.",
                      field=field)
    return value


def _cash_json(payment: cash.CashPayment) -> dict:
    return {"document": payment.entry.document, "credited_vnd": payment.credited_vnd,
            "payment": payments.payment_json(payment.transaction),
            "receipts": [receipts.receipt_json(r) for r in payment.receipts]}


@bp.post("/schools/<code>/cash-payments")
@authenticated
def record_cash(code: str):
    """Cash for one student: ``student_code``, ``amount_vnd``, ``payer_name``, optional
    ``paid_at`` (Vietnam time), ``invoices`` (codes), ``cashier_id``, ``note``."""
    school = _school(code, manage=True)
    data = json_body()
    invoices = data.get("invoices") or []
    if not isinstance(invoices, list) or not all(isinstance(c, str) for c in invoices):
        raise Invalid("“invoices” phải là danh sách mã hóa đơn.",
                      "invoices must be a list of invoice codes.", field="invoices")
    payment = cash.record_cash(
        g.user, school, _student(school, data.get("student_code")),
        amount_vnd=_amount(data.get("amount_vnd")), payer_name=str(data.get("payer_name") or ""),
        paid_at=_moment(data.get("paid_at")), invoice_codes=invoices,
        cashier_id=_optional_int(data.get("cashier_id"), "cashier_id"),
        note=str(data.get("note") or ""))
    db.session.commit()
    return jsonify(_cash_json(payment)), 201


@bp.post("/schools/<code>/cash-payments/bulk")
@authenticated
def record_cash_bulk(code: str):
    """A class's cash in one go: ``items`` [{student_code, amount_vnd, payer_name?}]."""
    school = _school(code, manage=True)
    data = json_body()
    items = data.get("items")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise Invalid("“items” phải là danh sách.", "items must be a list.", field="items")
    done = cash.record_many(
        g.user, school,
        [cash.CashItem(str(i.get("student_code", "")), i.get("amount_vnd"),
                       i.get("payer_name") or None) for i in items],
        paid_at=_moment(data.get("paid_at")),
        cashier_id=_optional_int(data.get("cashier_id"), "cashier_id"))
    db.session.commit()
    return jsonify({"items": [_cash_json(p) for p in done], "count": len(done),
                    "total_vnd": sum(p.transaction.amount_vnd for p in done)}), 201


def _book_args(school):
    day = request.args.get("date")
    day = _date(day, "date") if day else clock.today_vn()
    cashier_id = request.args.get("cashier_id", "")
    return cash.book_to_read(g.user, school, int(cashier_id) if cashier_id.isdigit() else None,
                             day), day


@bp.get("/schools/<code>/cash-book")
@authenticated
def cash_book(code: str):
    """One person's cash book for one day (``date``, ``cashier_id``; default today, you)."""
    school = _school(code)
    cashier, day = _book_args(school)
    book = cash.cash_book(g.user, school, cashier, day)
    return jsonify({
        "date": day.isoformat(), "cashier_id": cashier.id, "opening_vnd": book.opening_vnd,
        "in_vnd": book.in_vnd, "out_vnd": book.out_vnd, "closing_vnd": book.closing_vnd,
        "locked": book.locked, "signed": book.closing is not None,
        "entries": [{"id": line.entry.id, "kind": line.entry.kind,
                     "document": line.entry.document, "description": line.entry.description,
                     "amount_vnd": line.entry.amount_vnd, "balance_vnd": line.balance_vnd,
                     "receipts": [{"label": r.label, "status": r.status} for r in line.receipts]}
                    for line in book.lines]})


@bp.get("/schools/<code>/cash-book.pdf")
@authenticated
def cash_book_pdf(code: str):
    from ..pdf.cash_book import render_cash_book

    school = _school(code)
    cashier, day = _book_args(school)
    out = io.BytesIO()
    render_cash_book(cash.book_document(cash.cash_book(g.user, school, cashier, day)), out)
    out.seek(0)
    return send_file(out, mimetype="application/pdf", download_name=f"so-quy-{day}.pdf")


@bp.post("/schools/<code>/cash-book/close")
@authenticated
def close_cash_book(code: str):
    """Sign off a day: ``date``, ``counted_vnd``, optional ``cashier_id`` and ``note``."""
    school = _school(code, manage=True)
    data = json_body()
    cashier = cash.book_holder(g.user, school, _optional_int(data.get("cashier_id"),
                                                              "cashier_id"))
    closing = cash.close_day(g.user, school, cashier, _date(data.get("date"), "date"),
                             counted_vnd=data.get("counted_vnd"),
                             note=str(data.get("note") or ""))
    db.session.commit()
    return jsonify({"date": closing.day.isoformat(), "opening_vnd": closing.opening_vnd,
                    "in_vnd": closing.in_vnd, "out_vnd": closing.out_vnd,
                    "closing_vnd": closing.closing_vnd, "counted_vnd": closing.counted_vnd}), 201


def _deposit_json(deposit: CashDeposit) -> dict:
    return {"id": deposit.id, "amount_vnd": deposit.amount_vnd,
            "deposited_on": deposit.deposited_on.isoformat(), "slip_number": deposit.slip_number,
            "cashier_id": deposit.cashier_id, "bank_transaction_id": deposit.transaction_id}


@bp.post("/schools/<code>/cash-deposits")
@authenticated
def record_deposit(code: str):
    """Cash taken to the bank: ``amount_vnd``, ``deposited_on``, ``slip_number``, optional
    ``cashier_id`` and ``bank_account_id``."""
    school = _school(code, manage=True)
    data = json_body()
    deposit = cash_deposits.record_deposit(
        g.user, school, amount_vnd=_amount(data.get("amount_vnd")),
        deposited_on=_date(data.get("deposited_on"), "deposited_on"),
        slip_number=str(data.get("slip_number") or ""),
        cashier_id=_optional_int(data.get("cashier_id"), "cashier_id"),
        bank_account_id=_optional_int(data.get("bank_account_id"), "bank_account_id"))
    db.session.commit()
    return jsonify(_deposit_json(deposit)), 201


@bp.post("/cash-deposits/<int:deposit_id>/link")
@authenticated
def link_deposit(deposit_id: int):
    """Say which notification in review is this deposit's money: ``payment_id``."""
    deposit = db.session.get(CashDeposit, deposit_id)
    if deposit is None or not g.user.can_read(deposit.school_id):
        raise not_found("lần nộp tiền", "Deposit")
    payment_id = _optional_int(json_body().get("payment_id"), "payment_id")
    txn = db.session.get(BankTransaction, payment_id) if payment_id else None
    if txn is None or txn.school_id != deposit.school_id:
        raise not_found("giao dịch", "Payment")
    cash_deposits.link(g.user, deposit, txn)
    db.session.commit()
    return jsonify(_deposit_json(deposit))


@bp.post("/schools/<code>/refunds")
@authenticated
def issue_refund(code: str):
    """Refund a student's credit: ``student_code``, ``amount_vnd``, ``method`` (cash or
    transfer), ``payee_name``, ``reason``; for a transfer ``payee_account`` and
    ``payee_bank``; for cash optionally ``cashier_id``."""
    school = _school(code, manage=True)
    data = json_body()
    voucher = refunds.refund(
        g.user, school, _student(school, data.get("student_code")),
        amount_vnd=_amount(data.get("amount_vnd")), method=str(data.get("method") or ""),
        payee_name=str(data.get("payee_name") or ""), reason=str(data.get("reason") or ""),
        payee_account=data.get("payee_account"), payee_bank=data.get("payee_bank"),
        cashier_id=_optional_int(data.get("cashier_id"), "cashier_id"))
    db.session.commit()
    return jsonify(refunds.voucher_json(voucher)), 201


@bp.get("/schools/<code>/refunds")
@authenticated
def list_refunds(code: str):
    school = _school(code)
    found = refunds.list_vouchers(g.user, school)
    return jsonify({"items": [refunds.voucher_json(v) for v in found], "count": len(found),
                    "owed": [{"student_code": r["student"].code, "credit_vnd": r["credit_vnd"],
                              "refundable_vnd": r["refundable_vnd"],
                              "status": r["student"].status}
                             for r in refunds.owed(g.user, school)]})


@bp.post("/vouchers/<int:voucher_id>/cancel")
@authenticated
def cancel_voucher(voucher_id: int):
    voucher = refunds.get_voucher(g.user, voucher_id)
    refunds.cancel(g.user, voucher, reason=str(json_body().get("reason", "")))
    db.session.commit()
    return jsonify(refunds.voucher_json(voucher))


@bp.get("/vouchers/<int:voucher_id>.pdf")
@authenticated
def voucher_pdf(voucher_id: int):
    from ..pdf.vouchers import render_vouchers

    voucher = refunds.get_voucher(g.user, voucher_id)
    out = io.BytesIO()
    render_vouchers([refunds.document(voucher)], out)
    out.seek(0)
    return send_file(out, mimetype="application/pdf", download_name=f"phieu-chi-{voucher.code}.pdf")


@bp.post("/schools/<code>/virtual-accounts/import")
@authenticated
def import_virtual_accounts(code: str):
    """Multipart ``file`` (student code, virtual account), optional ``bank_account_id``."""
    school = _school(code, manage=True)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid("Gửi tệp trong trường “file”.", "Send the file as multipart field 'file'.")
    rows = parse_virtual_accounts(upload.read(), upload.filename)
    account = request.form.get("bank_account_id", "")
    result = virtual_accounts.import_accounts(
        g.user, school, rows, bank_account_id=int(account) if account.isdigit() else None)
    db.session.commit()
    return jsonify(result)


@bp.get("/schools/<code>/virtual-accounts")
@authenticated
def list_virtual_accounts(code: str):
    school = _school(code)
    found = virtual_accounts.list_accounts(g.user, school)
    return jsonify({"uses_virtual_accounts": school.uses_virtual_accounts, "count": len(found),
                    "items": [{"student_code": s.code, "number": va.number,
                               "bank_account_id": va.bank_account_id} for va, s in found]})


@bp.post("/schools/<code>/virtual-accounts/usage")
@authenticated
def virtual_accounts_usage(code: str):
    """``{"uses": true}``: notices and VietQR name each student's virtual account."""
    school = _school(code, manage=True)
    uses = json_body().get("uses")
    if not isinstance(uses, bool):
        raise Invalid("“uses” phải là true hoặc false.", "uses must be a boolean.", field="uses")
    virtual_accounts.set_usage(g.user, school, uses)
    db.session.commit()
    return jsonify({"uses_virtual_accounts": school.uses_virtual_accounts})


def _targets(value, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()):
        raise Invalid(f"“{field}” phải là đối tượng tên → tên lớp mới (hoặc null).",
                      f"{field} must map names to new class names (or null).", field=field)
    return value


@bp.post("/schools/<code>/year-turn")
@authenticated
def turn_year(code: str):
    """Preview (``"preview": true``, the default) or apply the school year's turn:
    ``from_year``, ``classes`` {old: new|null}, ``students`` {code: new class|null}."""
    data = json_body()
    preview = data.get("preview", True)
    if not isinstance(preview, bool):
        raise Invalid("“preview” phải là true hoặc false.", "preview must be a boolean.")
    school = _school(code, manage=not preview)
    options = {"from_year": data.get("from_year") or None,
               "class_map": _targets(data.get("classes"), "classes"),
               "overrides": _targets(data.get("students"), "students")}
    if preview:
        plan = year_turn.preview(g.user, school, **options)
        return jsonify({
            "preview": True, "from_year": plan.from_year, "to_year": plan.to_year,
            "classes": [{"class": c.name, "students": c.students, "to": c.target,
                         "sure": c.sure} for c in plan.classes],
            "students": [{"student_code": p.student.code, "from": p.from_class, "to": p.target,
                          "action": p.action, "debt_vnd": p.debt_vnd,
                          "credit_vnd": p.credit_vnd} for p in plan.students],
            "counts": plan.counts(), "carried_debt_vnd": plan.debt_vnd,
            "carried_credit_vnd": plan.credit_vnd, "errors": plan.errors})
    options["from_year"] = options["from_year"] or year_turn.latest_year(school) or ""
    turn = year_turn.apply(g.user, school, **options)
    db.session.commit()
    return jsonify({"preview": False, "from_year": turn.from_year, "to_year": turn.to_year,
                    "moves": turn.moves, "carried_debt_vnd": turn.carried_debt_vnd,
                    "carried_credit_vnd": turn.carried_credit_vnd}), 201


@bp.post("/schools/<code>/opening-balances")
@authenticated
def import_opening_balances(code: str):
    """Multipart ``file``, ``source`` (named in the ledger), ``school_year``, ``due_date``."""
    school = _school(code, manage=True)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid("Gửi tệp trong trường “file”.", "Send the file as multipart field 'file'.")
    rows = parse_opening_balances(upload.read(), upload.filename)
    due = request.form.get("due_date")
    result = opening_balances.import_balances(
        g.user, school, rows, source=request.form.get("source", ""),
        school_year=request.form.get("school_year") or students.current_school_year(
            clock.today_vn()),
        due_date=_date(due, "due_date") if due else None, filename=upload.filename)
    db.session.commit()
    return jsonify(result), 201


@bp.get("/schools/<code>/reports/channels")
@authenticated
def report_channels(code: str):
    """Money received per channel and the cashless share: ``period``, or ``from``/``to``."""
    school = _school(code)
    period = request.args.get("period")
    start = _date(request.args["from"], "from") if request.args.get("from") else None
    end = _date(request.args["to"], "to") if request.args.get("to") else None
    if period and (start or end):
        raise Invalid("Dùng “period” hoặc “from”/“to”, không dùng cả hai.",
                      "Use period or from/to, not both.")
    return jsonify(channels.school_channels(g.user, school, period=period or None,
                                            start=start, end=end))

