"""Staff pages: one transfer of the review queue worked by hand — find the child by a name, a
class or a code, place the money on an invoice, credit a surplus or a remainder to the
student, set the rest aside — and what a statement upload added.

Handlers follow the pattern of :mod:`.payments`: load the school with ``manage=True`` to
change, call the service, commit once, flash, redirect; a refused change shows the page again
with the message (422) and changes nothing.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select

from ...core.money import format_vnd
from ...extensions import db
from ...models import BankTransaction, Student
from ...services import payments, statements
from ...services.errors import Invalid
from ...services.review import find_for_assignment
from ...services.suggestions import suggestions_for
from . import bp, load_school
from .billing import period_label
from .payments import (
    REFUSED,
    STATUS_LABELS,
    _names,
    _school_transaction,
    error_text,
    local_time,
    parse_vnd,
    review_item,
)


def item_page(school, txn_id: int, *, error: str | None = None, status: int = 200):
    """A transfer with everything needed to place its money: suggestions, a search for the
    student or invoice, crediting, setting aside."""
    txn = _school_transaction(school, txn_id)
    invoices, students = _names(txn.allocations)
    free = payments.unallocated_vnd(txn)
    ranked = suggestions_for([txn]).get(txn.id, []) if free > 0 else []
    item = review_item(txn, invoices, students, ranked)
    query = (request.args.get("tim") or "").strip()
    found = find_for_assignment(g.user, school, query) if query else []
    for student in found:
        for invoice in student["invoices"]:
            invoice["assign_vnd"] = min(free, invoice["balance_vnd"])
    twin = (db.session.get(BankTransaction, txn.duplicate_of_id)
            if txn.duplicate_of_id else None)
    return render_template(
        "staff/payments/item.html", item=item, query=query, found=found, error=error,
        statuses=STATUS_LABELS, period_label=period_label, twin=twin,
    ), status


@bp.get("/<school_code>/cho-xu-ly/<int:txn_id>", endpoint="review_item")
def review_item_page(school_code: str, txn_id: int):
    return item_page(load_school(school_code), txn_id)


def _student_link(school, code: str, name: str) -> Markup:
    url = url_for("staff.student_page", school_code=school.code, student_code=code)
    return Markup('<a href="{}">{}</a>').format(url, name)


@bp.post("/<school_code>/cho-xu-ly/<int:txn_id>/chon")
def review_pick(school_code: str, txn_id: int):
    """Place money on the invoice picked from the search (``pick`` = its code, the amount in
    ``amount_<code>``), or credit it to a student (``credit`` = the student's code, the amount
    in ``credit_<code>``). One labelled reason field serves every button of the form."""
    school = load_school(school_code, manage=True)
    txn = _school_transaction(school, txn_id)
    reason = request.form.get("reason", "")
    picked = (request.form.get("pick") or "").strip().upper()
    credited = (request.form.get("credit") or "").strip().upper()
    try:
        if picked:
            amount = parse_vnd(request.form.get(f"amount_{picked}"), "amount_vnd")
            payments.assign(g.user, txn, allocations=[(picked, amount)], reason=reason)
            message = _("Đã gán %(amount)s đ vào hóa đơn %(code)s.",
                        amount=format_vnd(amount), code=picked)
        elif credited:
            amount = parse_vnd(request.form.get(f"credit_{credited}"), "credit_vnd")
            payments.assign(g.user, txn, allocations=[], credit=(credited, amount),
                            reason=reason)
            student = db.session.scalar(select(Student).where(
                Student.school_id == school.id, Student.code == credited))
            message = Markup(escape(_("Đã ghi có %(amount)s đ cho học sinh",
                                      amount=format_vnd(amount)))) + " " + (
                _student_link(school, credited, student.full_name)) + "."
        else:
            raise Invalid("Chọn một hóa đơn hoặc một học sinh.",
                          "Pick an invoice or a student.", field="pick")
    except REFUSED as exc:
        db.session.rollback()
        return item_page(school, txn_id, error=error_text(exc), status=422)
    db.session.commit()
    flash(message, "info")
    db.session.refresh(txn)
    if txn.status == payments.REVIEW:
        return redirect(url_for("staff.review_item", school_code=school.code, txn_id=txn_id))
    return redirect(url_for("staff.review", school_code=school.code))


@bp.get("/<school_code>/sao-ke/<int:upload_id>", endpoint="statement_upload")
def statement_upload_page(school_code: str, upload_id: int):
    """What one statement upload added, each with where it went (or a link to review it)."""
    school = load_school(school_code)
    upload, added = statements.get_upload(g.user, school, upload_id)
    invoices, students = _names([a for txn in added for a in txn.allocations])
    rows = []
    for txn in added:
        placed = []
        for allocation in txn.allocations:
            if allocation.amount_vnd <= 0:
                continue
            student = (students.get(allocation.student_id) if allocation.student_id
                       else students.by_invoice.get(allocation.invoice_id))
            if student and student not in placed:
                placed.append(student)
        rows.append({"txn": txn, "unallocated_vnd": payments.unallocated_vnd(txn),
                     "students": placed})
    return render_template("staff/payments/upload.html", upload=upload, rows=rows,
                           statuses=STATUS_LABELS, local_time=local_time)


@bp.post("/<school_code>/cho-xu-ly/<int:txn_id>/trung")
def review_duplicate(school_code: str, txn_id: int):
    """The transfer is one already recorded through another channel: keep it, counted once."""
    school = load_school(school_code, manage=True)
    txn = _school_transaction(school, txn_id)
    try:
        payments.mark_duplicate(g.user, txn, of=request.form.get("of", type=int),
                                reason=request.form.get("reason", ""))
    except REFUSED as exc:
        db.session.rollback()
        return item_page(school, txn_id, error=error_text(exc), status=422)
    db.session.commit()
    flash(_("Đã đánh dấu giao dịch %(id)d là trùng với giao dịch %(of)d.", id=txn.id,
            of=txn.duplicate_of_id), "info")
    return redirect(url_for("staff.review", school_code=school.code))
