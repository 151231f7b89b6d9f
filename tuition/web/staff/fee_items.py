"""Staff pages: correcting or retiring a fee item, the part-month rule, and a student's joining
and leaving dates (with the corrections they make to issued invoices)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...core import clock
from ...core.money import format_vnd
from ...extensions import db
from ...services import attendance as attendance_service
from ...services import fee_changes
from ...services import fees as fee_service
from ...services import students as student_service
from ...services.errors import ServiceError
from . import bp, load_school
from .billing import GRADES, parse_dong, parse_form_date, school_grades, unit_labels
from .students import localised


def _edit_page(school, item, form: dict, billed: bool, status: int = 200):
    return render_template(
        "staff/billing/fee_edit.html", item=item, form=form, billed=billed,
        grades=school_grades(school), grade_names=GRADES, units=unit_labels(),
        classes=sorted({room.name for room in student_service.school_classes(school)}),
        format_date=clock.format_date,
    ), status


@bp.route("/<school_code>/khoan-thu/<item_code>/sua", methods=["GET", "POST"])
def fee_edit(school_code: str, item_code: str):
    school = load_school(school_code, manage=request.method == "POST")
    item = fee_service.get_fee_item(school, item_code)
    billed = fee_changes.was_billed(item)
    form = {"name": item.name, "amount": format_vnd(item.amount_vnd),
            "unit": item.unit, "grades": [x for x in item.grades.split(",") if x],
            "classes": [x for x in item.classes.split(",") if x],
            "mandatory": "1" if item.mandatory else "0", "reason": ""}
    if request.method == "GET":
        return _edit_page(school, item, form, billed)
    form = {**{key: request.form.get(key, "").strip() for key in form},
            "grades": request.form.getlist("grades"), "classes": request.form.getlist("classes")}
    try:
        changes = fee_changes.update_fee_item(g.user, school, item, {
            "name": form["name"], "amount_vnd": parse_dong(form["amount"], field="amount_vnd"),
            "unit": form["unit"] or item.unit, "grades": form["grades"],
            "classes": form["classes"], "mandatory": form["mandatory"] == "1",
        }, form["reason"])
    except ServiceError as exc:
        db.session.rollback()
        flash(localised(exc.message_vi, exc.message_en), "error")
        return _edit_page(school, fee_service.get_fee_item(school, item_code), form, billed,
                          422)
    db.session.commit()
    if changes:
        flash(_("Đã sửa khoản thu %(code)s; áp dụng cho các lần lập hóa đơn từ nay, hóa đơn đã "
                "lập giữ nguyên.", code=item.code), "info")
    else:
        flash(_("Không có gì thay đổi."), "info")
    return redirect(url_for("staff.fees", school_code=school.code))


@bp.post("/<school_code>/khoan-thu/<item_code>/ngung-thu")
def fee_retire(school_code: str, item_code: str):
    school = load_school(school_code, manage=True)
    item = fee_service.get_fee_item(school, item_code)
    try:
        fee_changes.retire(g.user, school, item, request.form.get("reason"))
    except ServiceError as exc:
        db.session.rollback()
        flash(localised(exc.message_vi, exc.message_en), "error")
        return redirect(url_for("staff.fee_edit", school_code=school.code, item_code=item_code))
    db.session.commit()
    flash(_("Đã ngừng thu %(name)s: không còn trong các lần lập hóa đơn mới; hóa đơn đã lập giữ "
            "nguyên.", name=item.name), "info")
    return redirect(url_for("staff.fees", school_code=school.code))


@bp.post("/<school_code>/khoan-thu/<item_code>/thu-lai")
def fee_restore(school_code: str, item_code: str):
    school = load_school(school_code, manage=True)
    item = fee_service.get_fee_item(school, item_code)
    try:
        fee_changes.restore(g.user, school, item, request.form.get("reason"))
    except ServiceError as exc:
        db.session.rollback()
        flash(localised(exc.message_vi, exc.message_en), "error")
        return redirect(url_for("staff.fee_edit", school_code=school.code, item_code=item_code))
    db.session.commit()
    flash(_("Đã thu lại khoản %(name)s.", name=item.name), "info")
    return redirect(url_for("staff.fees", school_code=school.code))


@bp.post("/<school_code>/khoan-thu/thang-le")
def partial_month_rule(school_code: str):
    school = load_school(school_code, manage=True)
    try:
        fee_changes.set_partial_month_rule(g.user, school, request.form.get("rule", ""))
    except ServiceError as exc:
        db.session.rollback()
        flash(localised(exc.message_vi, exc.message_en), "error")
        return redirect(url_for("staff.fees", school_code=school.code))
    db.session.commit()
    flash(_("Đã lưu cách thu khi học sinh vào học hoặc nghỉ học giữa tháng."), "info")
    return redirect(url_for("staff.fees", school_code=school.code))


def partial_month_labels() -> dict[str, str]:
    return {"whole": _("Thu cả tháng"),
            "half": _("Thu nửa tháng nếu học không quá nửa số ngày học của tháng"),
            "days": _("Thu theo số ngày học thực tế")}


# --- Joining and leaving ------------------------------------------------------------------------


@bp.route("/<school_code>/hoc-sinh/<student_code>/vao-nghi", methods=["GET", "POST"])
def student_attendance(school_code: str, student_code: str):
    school = load_school(school_code, manage=request.method == "POST")
    student = student_service.get_student(school, student_code)
    if student is None:
        abort(404)
    form = {"joined_on": student.joined_on.isoformat() if student.joined_on else "",
            "left_on": student.left_on.isoformat() if student.left_on else "", "reason": ""}
    if request.method == "POST":
        form = {key: request.form.get(key, "").strip() for key in form}
        try:
            report = attendance_service.set_dates(
                g.user, school, student,
                joined_on=parse_form_date(form["joined_on"], label_vi="ngày vào học",
                                          label_en="Joining date", required=False),
                left_on=parse_form_date(form["left_on"], label_vi="ngày nghỉ học",
                                        label_en="Leaving date", required=False),
                reason=form["reason"])
        except ServiceError as exc:
            db.session.rollback()
            flash(localised(exc.message_vi, exc.message_en), "error")
            return render_template("staff/billing/attendance.html", student=student,
                                   form=form, format_date=clock.format_date), 422
        db.session.commit()
        flash(_("Đã lưu ngày vào học / nghỉ học của %(name)s.", name=student.full_name), "info")
        if report.invoices:
            flash(localised(*report.message()), "info")
        return redirect(url_for("staff.student_attendance", school_code=school.code,
                                student_code=student.code))
    return render_template("staff/billing/attendance.html", student=student, form=form,
                           format_date=clock.format_date)
