"""Staff pages: refunds (hoàn tiền) with their payment vouchers (phiếu chi)."""

from __future__ import annotations

import io

from flask import flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...core.money import format_vnd
from ...extensions import db
from ...models import PaymentVoucher
from ...services import cash, refunds, students
from ...services.errors import Invalid, not_found
from . import bp, load_school
from .payments import REFUSED, error_text, local_time, parse_vnd

STATUS_LABELS = {"pending": _l("Chờ ngân hàng xác nhận"), "paid": _l("Đã chi"),
                 "cancelled": _l("Đã hủy")}
METHOD_LABELS = {"cash": _l("Tiền mặt"), "transfer": _l("Chuyển khoản")}


def _page(school, *, error: str | None = None, form: dict | None = None, status: int = 200):
    return render_template(
        "staff/refunds/list.html", owed=refunds.owed(g.user, school),
        vouchers=refunds.list_vouchers(g.user, school), form=form or {}, error=error,
        cashiers=cash.cashiers(school), status_labels=STATUS_LABELS,
        method_labels=METHOD_LABELS, local_time=local_time,
    ), status


@bp.get("/<school_code>/hoan-tien", endpoint="refunds")
def refunds_page(school_code: str):
    return _page(load_school(school_code), form={"student": request.args.get("student", "")})


@bp.post("/<school_code>/hoan-tien")
def refund_issue(school_code: str):
    school = load_school(school_code, manage=True)
    form = request.form.to_dict()
    student = students.get_student(school, form.get("student", "").strip())
    try:
        if student is None:
            raise Invalid("Không tìm thấy học sinh với mã này.", "No student with this code.",
                          field="student")
        cashier = form.get("cashier", "")
        voucher = refunds.refund(
            g.user, school, student, amount_vnd=parse_vnd(form.get("amount")),
            method=form.get("method", ""), payee_name=form.get("payee_name", ""),
            reason=form.get("reason", ""), payee_account=form.get("payee_account"),
            payee_bank=form.get("payee_bank"),
            cashier_id=int(cashier) if cashier.isdigit() else None)
    except REFUSED as exc:
        db.session.rollback()
        return _page(school, error=error_text(exc), form=form, status=422)
    db.session.commit()
    flash(_("Đã lập phiếu chi %(code)s hoàn %(amount)s đ cho %(name)s.", code=voucher.code,
            amount=format_vnd(voucher.amount_vnd), name=voucher.payee_name),
          "info")
    return redirect(url_for("staff.refunds", school_code=school.code))


def _voucher(school, voucher_id: int) -> PaymentVoucher:
    voucher = db.session.get(PaymentVoucher, voucher_id)
    if voucher is None or voucher.school_id != school.id:
        raise not_found("phiếu chi", "Payment voucher")
    return voucher


@bp.get("/<school_code>/phieu-chi/<int:voucher_id>.pdf", endpoint="voucher_pdf")
def voucher_pdf(school_code: str, voucher_id: int):
    from ...pdf.vouchers import render_vouchers

    voucher = _voucher(load_school(school_code), voucher_id)
    out = io.BytesIO()
    render_vouchers([refunds.document(voucher)], out)
    out.seek(0)
    return send_file(out, mimetype="application/pdf", download_name=f"phieu-chi-{voucher.code}.pdf")


@bp.post("/<school_code>/phieu-chi/<int:voucher_id>/huy", endpoint="voucher_cancel")
def voucher_cancel(school_code: str, voucher_id: int):
    school = load_school(school_code, manage=True)
    voucher = _voucher(school, voucher_id)
    try:
        refunds.cancel(g.user, voucher, reason=request.form.get("reason", ""))
    except REFUSED as exc:
        db.session.rollback()
        return _page(school, error=error_text(exc), status=422)
    db.session.commit()
    flash(_("Đã hủy phiếu chi %(code)s; số dư có đã trả lại cho học sinh.", code=voucher.code),
          "info")
    return redirect(url_for("staff.refunds", school_code=school.code))
