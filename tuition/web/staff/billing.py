"""Staff pages: fee items, enrolments, exemptions, adjustments, billing runs and invoices."""

from __future__ import annotations

import io
import re
from datetime import date

from flask import (
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import func, select

from ...core import clock
from ...core.money import MAX_VND, format_vnd, too_large
from ...core.numbers import small_int
from ...extensions import db
from ...importing.adjustments import (
    AdjustmentRow,
    AdjustmentsInvalid,
    parse_adjustments,
    parse_amount_vnd,
)
from ...importing.roster import GRADES, LEVEL_OF_GRADE
from ...importing.tabular import CellError, FileTooLarge, ImportFileError
from ...models import Invoice, School, Student
from ...pdf.notices import render_notices
from ...qrimage import qr_png
from ...services import billing as billing_service
from ...services import fees as fee_service
from ...services import invoices as invoice_service
from ...services import students as student_service
from ...services.errors import Invalid, ServiceError
from ...services.students import current_school_year
from ..formatting import grade_names, period_label
from . import bp, load_school
from .students import MAX_UPLOAD, localised, page_number, refusal_status

PER_PAGE = 100


# --- Form parsing ------------------------------------------------------------------------------

# Whole dong as typed: "1250000", "1.250.000", "1,250,000" or "1 250 000", with an optional "đ".
_DONG = re.compile(r"[0-9]+|[0-9]{1,3}([., ])[0-9]{3}(?:\1[0-9]{3})*")
_CURRENCY = re.compile(r"\s*(?:đ|₫|đồng|vnđ|vnd)\s*$", re.IGNORECASE)


def parse_dong(text: str, *, field: str) -> int:
    """A positive whole number of dong from a form field; fractions are refused, not rounded."""
    value = _CURRENCY.sub("", (text or "").strip()).replace("\u00a0", " ")
    if _DONG.fullmatch(value):
        digits = re.sub(r"[^0-9]", "", value).lstrip("0")
        if len(digits) > len(str(MAX_VND)) or int(digits or 0) > MAX_VND:
            raise Invalid(*too_large(), field=field)
        amount = int(digits or 0)
        if amount > 0:
            return amount
    elif re.fullmatch(r"[0-9., ]*[0-9][.,][0-9]{1,2}", value):
        raise Invalid(
            f"Số tiền “{text}” có phần lẻ; số tiền phải là số nguyên đồng.",
            f"Amount {text!r} has a fractional part; amounts are whole dong.", field=field,
        )
    raise Invalid(
        f"Số tiền “{text}” không hợp lệ; nhập số nguyên đồng dương, ví dụ 1.250.000.",
        f"Amount {text!r} is not valid; enter a positive whole number of dong, e.g. 1.250.000.",
        field=field,
    )


def parse_form_date(text: str, *, label_vi: str, label_en: str, required: bool = True):
    """A date from an <input type="date"> (yyyy-mm-dd), or dd/mm/yyyy typed by hand."""
    text = (text or "").strip()
    if not text:
        if required:
            raise Invalid(f"Cần nhập {label_vi}.", f"{label_en} is required.")
        return None
    try:
        if match := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"{label_vi} “{text}” không phải ngày hợp lệ (ngày/tháng/năm).",
                      f"{label_en} {text!r} is not a valid date.") from exc


def period_choices(selected: str | None = None) -> list[tuple[str, list[str]]]:
    """Periods to pick from, grouped by school year: this year's and next year's."""
    first = int(current_school_year()[:4])
    groups = []
    for year in (first, first + 1):
        keys = [f"{year}-{m:02d}" for m in range(9, 13)]
        keys += [f"{year + 1}-{m:02d}" for m in range(1, 6)]
        keys += [f"{year}-{year + 1}-HK1", f"{year}-{year + 1}-HK2", f"{year}-{year + 1}"]
        groups.append((f"{year}-{year + 1}", keys))
    if selected and all(selected not in keys for _year, keys in groups):
        groups.insert(0, ("", [selected]))
    return groups


def default_period() -> str:
    today = clock.today_vn()
    return f"{today.year}-{today.month:02d}" if today.month not in (6, 7, 8) else (
        f"{today.year}-09")


def unit_labels() -> dict[str, str]:
    return {"month": _("tháng"), "term": _("học kỳ"), "year": _("năm học"), "once": _("lần"),
            "school_day": _("ngày học")}


def status_labels() -> dict[str, str]:
    return {"open": _("Chưa nộp"), "partial": _("Nộp một phần"), "paid": _("Đã nộp"),
            "cancelled": _("Đã hủy")}


def school_grades(school: School) -> list[str]:
    return [grade for grade in GRADES if LEVEL_OF_GRADE[grade] in school.level_list]


def _error_page(template: str, exc: ServiceError, **context):
    """Re-render a form with the service's message; nothing of the request is kept."""
    db.session.rollback()
    flash(localised(exc.message_vi, exc.message_en), "error")
    return render_template(template, **context), 422


# --- Fee items and enrolments -------------------------------------------------------------------


def _fees_page(school: School, form: dict, status: int = 200):
    from .fee_items import partial_month_labels

    return render_template(
        "staff/billing/fees.html", items=fee_service.list_fee_items(school), form=form,
        grades=school_grades(school), grade_names=grade_names(GRADES), units=unit_labels(),
        partial_rules=partial_month_labels(),
    ), status


@bp.route("/<school_code>/khoan-thu", methods=["GET", "POST"])
def fees(school_code: str):
    school = load_school(school_code, manage=request.method == "POST")
    blank = {"code": "", "name": "", "amount": "", "unit": "month", "grades": [],
             "mandatory": "1"}
    if request.method == "GET":
        return _fees_page(school, blank)
    form = {**{key: request.form.get(key, "").strip() for key in blank},
            "grades": request.form.getlist("grades")}
    try:
        item = fee_service.create_fee_item(g.user, school, {
            "code": form["code"], "name": form["name"],
            "amount_vnd": parse_dong(form["amount"], field="amount_vnd"),
            "unit": form["unit"], "grades": form["grades"],
            "mandatory": form["mandatory"] == "1",
        })
    except ServiceError as exc:
        db.session.rollback()
        flash(localised(exc.message_vi, exc.message_en), "error")
        return _fees_page(school, form, 422)
    db.session.commit()
    flash(_("Đã thêm khoản thu %(code)s – %(name)s.", code=item.code, name=item.name), "info")
    return redirect(url_for("staff.fees", school_code=school.code))


@bp.route("/<school_code>/khoan-thu/<item_code>/dang-ky", methods=["GET", "POST"])
def enrolments(school_code: str, item_code: str):
    school = load_school(school_code, manage=request.method == "POST")
    item = fee_service.get_fee_item(school, item_code)
    classes = sorted({room.name for room in student_service.school_classes(school)})
    class_name = request.values.get("lop") or (classes[0] if classes else "")
    in_class, _count = student_service.search_students(
        g.user, school, class_name=class_name or "-", status="studying", per_page=10_000)
    if request.method == "POST":
        chosen = {n for v in request.form.getlist("student_ids")
                  if (n := small_int(v)) is not None}
        try:
            added, removed = fee_service.set_enrolments(g.user, school, item, in_class, chosen)
        except ServiceError as exc:
            return _error_page("staff/billing/enrolments.html", exc, item=item, classes=classes,
                               class_name=class_name, students=in_class, enrolled=chosen)
        db.session.commit()
        flash(_("Lớp %(name)s: đăng ký thêm %(added)d, hủy %(removed)d học sinh.",
                name=class_name, added=added, removed=removed), "info")
        return redirect(url_for("staff.enrolments", school_code=school.code,
                                item_code=item.code, lop=class_name))
    return render_template("staff/billing/enrolments.html", item=item, classes=classes,
                           class_name=class_name, students=in_class,
                           enrolled=fee_service.enrolled_student_ids(item))


# --- Exemptions and adjustments -----------------------------------------------------------------


def _exemptions_page(school: School, form: dict, status: int = 200):
    return render_template(
        "staff/billing/exemptions.html", exemptions=fee_service.list_exemptions(school),
        items=fee_service.list_fee_items(school), form=form,
    ), status


@bp.route("/<school_code>/mien-giam", methods=["GET", "POST"])
def exemptions(school_code: str):
    school = load_school(school_code, manage=request.method == "POST")
    blank = {"student_code": "", "item": "", "kind": "percent", "value": "", "reason": "",
             "valid_from": clock.today_vn().isoformat(), "valid_to": ""}
    if request.method == "GET":
        return _exemptions_page(school, blank)
    form = {key: request.form.get(key, "").strip() for key in blank}
    try:
        student = student_service.get_student(school, form["student_code"] or "-")
        if student is None:
            raise Invalid(f"Không có học sinh mã “{form['student_code']}” trong trường.",
                          f"No student with code {form['student_code']!r} in this school.")
        item = fee_service.get_fee_item(school, form["item"]) if form["item"] else None
        if form["kind"] == "fixed":
            value = parse_dong(form["value"], field="value")
        elif small_int(form["value"], limit=100) is not None:
            value = small_int(form["value"], limit=100)
        else:
            raise Invalid("Mức giảm phần trăm là số nguyên từ 1 đến 100.",
                          "A percentage is a whole number from 1 to 100.")
        _exemption, report = fee_service.grant_exemption(
            g.user, school, student, kind=form["kind"], value=value, reason=form["reason"],
            valid_from=parse_form_date(form["valid_from"], label_vi="ngày bắt đầu",
                                       label_en="Start date"),
            valid_to=parse_form_date(form["valid_to"], label_vi="ngày kết thúc",
                                     label_en="End date", required=False),
            item=item,
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(localised(exc.message_vi, exc.message_en), "error")
        return _exemptions_page(school, form, 422)
    db.session.commit()
    flash(_("Đã thêm miễn giảm cho %(name)s.", name=student.full_name), "info")
    if report.invoices:
        # Invoices already issued were corrected: say which, and what became credit.
        flash(localised(*report.message()), "info")
    return redirect(url_for("staff.exemptions", school_code=school.code))


def _adjustments_page(school: School, form: dict, row_errors=(), status: int = 200):
    return render_template(
        "staff/billing/adjustments.html", adjustments=fee_service.list_adjustments(school),
        form=form, row_errors=list(row_errors), items=fee_service.list_fee_items(school),
    ), status


@bp.route("/<school_code>/dieu-chinh", methods=["GET", "POST"])
def adjustments(school_code: str):
    school = load_school(school_code, manage=request.method == "POST")
    blank = {"student_code": "", "amount": "", "description": "", "item": ""}
    if request.method == "GET":
        return _adjustments_page(school, blank)
    form = {key: request.form.get(key, "").strip() for key in blank}
    try:
        try:
            amount = parse_amount_vnd(form["amount"])
        except CellError as exc:
            raise Invalid(exc.message_vi, exc.message_en, field="amount") from exc
        if not form["description"]:
            raise Invalid("Cần ghi nội dung điều chỉnh.", "A description is required.")
        rows = [AdjustmentRow(1, form["student_code"].upper(), amount, form["description"],
                              form["item"].upper() or None)]
        fee_service.add_adjustments(g.user, school, rows)
    except AdjustmentsInvalid as exc:
        db.session.rollback()
        flash(localised(exc.errors[0].message, exc.errors[0].message_en), "error")
        return _adjustments_page(school, form, status=422)
    except ServiceError as exc:
        db.session.rollback()
        flash(localised(exc.message_vi, exc.message_en), "error")
        return _adjustments_page(school, form, status=422)
    db.session.commit()
    flash(_("Đã thêm điều chỉnh; khoản này sẽ vào hóa đơn kỳ tới."), "info")
    return redirect(url_for("staff.adjustments", school_code=school.code))


@bp.post("/<school_code>/dieu-chinh/nhap")
def adjustments_import(school_code: str):
    school = load_school(school_code, manage=True)
    blank = {"student_code": "", "amount": "", "description": "", "item": ""}
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Hãy chọn tệp điều chỉnh (XLSX hoặc CSV)."), "error")
        return _adjustments_page(school, blank, status=422)
    data = upload.read(MAX_UPLOAD + 1)
    try:
        if len(data) > MAX_UPLOAD:
            raise FileTooLarge("Tệp lớn hơn 5 MB.", "The file is larger than 5 MB.")
        count = fee_service.add_adjustments(g.user, school,
                                            parse_adjustments(data, upload.filename))
    except (ImportFileError, ServiceError) as exc:
        db.session.rollback()
        flash(localised(exc.message_vi, exc.message_en), "error")
        return _adjustments_page(school, blank, status=refusal_status(exc))
    except AdjustmentsInvalid as exc:
        db.session.rollback()
        flash(_("Tệp có %(n)d lỗi; chưa nhập dòng nào. Sửa các dòng dưới đây rồi tải lại.",
                n=len(exc.errors)), "error")
        return _adjustments_page(
            school, blank, [(e.row, e.column, localised(e.message, e.message_en))
                            for e in exc.errors], status=422)
    db.session.commit()
    flash(_("Đã nhập %(n)d dòng điều chỉnh.", n=count), "info")
    return redirect(url_for("staff.adjustments", school_code=school.code))


# --- Billing runs -------------------------------------------------------------------------------


def _billing_form() -> dict:
    return {
        "period": request.form.get("period", "").strip(),
        "fee_items": request.form.getlist("fee_items"),
        "due_date": request.form.get("due_date", "").strip(),
        "classes": request.form.getlist("classes"),
        "school_days": request.form.get("school_days", "").strip(),
        "overlap": request.form.get("overlap", "bill_missing"),
    }


def _billing_page(school: School, form: dict, result=None, conflicts=None, status: int = 200):
    if result is not None:
        conflicts = [o.as_json() for o in result.overlaps[:billing_service.OVERLAPS_LISTED]]
    return render_template(
        "staff/billing/run.html", form=form, result=result, conflicts=conflicts or [],
        items=[item for item in fee_service.list_fee_items(school) if not item.retired],
        units=unit_labels(),
        classes=sorted({room.name for room in student_service.school_classes(school)}),
        periods=period_choices(form["period"]), period_label=period_label,
    ), status


@bp.route("/<school_code>/lap-hoa-don", methods=["GET", "POST"])
def billing(school_code: str):
    school = load_school(school_code, manage=request.method == "POST")
    if request.method == "GET":
        return _billing_page(school, {"period": default_period(), "fee_items": [],
                                      "due_date": "", "classes": [], "school_days": "",
                                      "overlap": "bill_missing"})
    form = _billing_form()
    preview = request.form.get("action") != "issue"
    try:
        if form["school_days"] and small_int(form["school_days"]) is None:
            raise Invalid("Số ngày học phải là số nguyên dương.",
                          "School days must be a positive whole number.")
        result = billing_service.run_billing(
            g.user, school, period=form["period"], fee_codes=form["fee_items"],
            due_date=parse_form_date(form["due_date"], label_vi="hạn nộp",
                                     label_en="Due date"),
            classes=form["classes"] or None,
            school_days=small_int(form["school_days"]) if form["school_days"] else None,
            preview=preview, overlap=form["overlap"],
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(localised(exc.message_vi, exc.message_en), "error")
        return _billing_page(school, form, conflicts=exc.details.get("conflicts"),
                             status=exc.status)
    if preview:
        return _billing_page(school, form, result)
    if result.run is None:
        flash(_("Không lập hóa đơn nào cho %(period)s: %(existing)d học sinh đã được thu đủ các "
                "khoản này, %(nothing)d học sinh không có khoản phải thu.",
                period=period_label(result.period.key), existing=result.skipped_existing,
                nothing=result.skipped_nothing_to_bill), "error")
        return _billing_page(school, form, result)
    db.session.commit()
    flash(_("Đã lập %(n)d hóa đơn kỳ %(period)s, tổng %(total)s đ. Bỏ qua %(existing)d học sinh "
            "đã được thu đủ các khoản này và %(nothing)d học sinh không có khoản phải thu.",
            n=len(result.issued), period=period_label(result.period.key),
            total=format_vnd(result.total_vnd),
            existing=result.skipped_existing, nothing=result.skipped_nothing_to_bill), "info")
    return redirect(url_for("staff.invoices", school_code=school.code, ky=result.period.key))


# --- Invoices -----------------------------------------------------------------------------------


def _latest_period(school: School) -> str:
    return db.session.scalar(
        select(Invoice.period).where(Invoice.school_id == school.id)
        .order_by(Invoice.issued_at.desc(), Invoice.id.desc()).limit(1)
    ) or ""


@bp.get("/<school_code>/hoa-don")
def invoices(school_code: str):
    school = load_school(school_code)
    filters = {
        "lop": request.args.get("lop", "").strip(),
        "ky": request.args.get("ky", _latest_period(school)).strip(),
        "trang_thai": request.args.get("trang_thai", "").strip(),
    }
    if filters["trang_thai"] not in ("", "unpaid", *status_labels()):
        filters["trang_thai"] = ""
    # The school's students are loaded (and held) first, so each invoice's student comes from
    # the session's identity map instead of one query per invoice.
    school_students = db.session.scalars(
        select(Student).where(Student.school_id == school.id)).all()
    found = invoice_service.list_invoices(
        g.user, school, status=filters["trang_thai"] or None,
        class_name=filters["lop"] or None, period=filters["ky"] or None,
    )
    live = [i for i in found if i.status != "cancelled"]
    totals = {
        "count": len(found),
        "total_vnd": sum(i.total_vnd for i in live),
        "paid_vnd": sum(i.paid_vnd for i in live),
        "balance_vnd": sum(i.balance_vnd for i in live),
    }
    page = page_number()
    pages = max((len(found) + PER_PAGE - 1) // PER_PAGE, 1)
    periods = list(db.session.scalars(
        select(Invoice.period).where(Invoice.school_id == school.id).group_by(Invoice.period)
        .order_by(func.max(Invoice.id).desc())
    ))
    del school_students
    return render_template(
        "staff/billing/invoices.html", invoices=found[(page - 1) * PER_PAGE : page * PER_PAGE],
        totals=totals, filters=filters, page=page, pages=pages, periods=periods,
        classes=sorted({room.name for room in student_service.school_classes(school)}),
        statuses=status_labels(), period_label=period_label,
    )


def _school_invoice(school: School, code: str) -> Invoice:
    invoice = invoice_service.get_invoice_for(g.user, code)
    if invoice.school_id != school.id:
        abort(404)
    return invoice


def _invoice_page(school: School, invoice: Invoice, reason: str = "", status: int = 200):
    from ...services.corrections import list_corrections

    memo = invoice_service.memo_for(invoice)
    has_qr = invoice.balance_vnd > 0 and school.default_account is not None
    return render_template(
        "staff/billing/invoice.html", invoice=invoice, memo=memo, has_qr=has_qr,
        reason=reason, statuses=status_labels(), period_label=period_label,
        paid=invoice_service.paid_breakdown([invoice])[invoice.id],
        corrections=list_corrections(invoice), format_date=clock.format_date,
    ), status


@bp.get("/<school_code>/hoa-don/<invoice_code>")
def invoice(school_code: str, invoice_code: str):
    school = load_school(school_code)
    return _invoice_page(school, _school_invoice(school, invoice_code))


@bp.get("/<school_code>/hoa-don/<invoice_code>/qr.png")
def invoice_qr(school_code: str, invoice_code: str):
    school = load_school(school_code)
    payload = invoice_service.qr_payload(_school_invoice(school, invoice_code))
    if payload is None:
        abort(404)
    response = Response(qr_png(payload), mimetype="image/png")
    # The amount changes when a payment arrives: browsers must not show a stale code.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<school_code>/hoa-don/<invoice_code>/huy")
def invoice_cancel(school_code: str, invoice_code: str):
    school = load_school(school_code, manage=True)
    invoice = _school_invoice(school, invoice_code)
    reason = request.form.get("reason", "").strip()
    try:
        billing_service.cancel_invoice(g.user, school, invoice, reason)
    except ServiceError as exc:
        db.session.rollback()
        flash(localised(exc.message_vi, exc.message_en), "error")
        return _invoice_page(school, _school_invoice(school, invoice_code), reason, 422)
    db.session.commit()
    flash(_("Đã hủy hóa đơn %(code)s.", code=invoice.code), "info")
    return redirect(url_for("staff.invoice", school_code=school.code, invoice_code=invoice.code))


@bp.get("/<school_code>/thong-bao.pdf")
def class_notices(school_code: str):
    """Every unpaid notice of a class (or the school) for a period, two A5 per A4 sheet."""
    school = load_school(school_code)
    period = request.args.get("ky", "").strip()
    class_name = request.args.get("lop", "").strip() or None
    back = url_for("staff.invoices", school_code=school.code, ky=period, lop=class_name or "")
    if not period:
        flash(_("Chọn kỳ thu để in thông báo."), "error")
        return redirect(back)
    out = io.BytesIO()
    try:
        count = render_notices(
            invoice_service.notices_for_class(g.user, school, period=period,
                                              class_name=class_name),
            out, layout="a5x2", title=_("Thông báo thu tiền %(period)s", period=period),
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(localised(exc.message_vi, exc.message_en), "error")
        return redirect(back)
    if count == 0:
        flash(_("Không có hóa đơn chưa nộp nào để in thông báo."), "error")
        return redirect(back)
    out.seek(0)
    name = f"thong-bao-{school.code}-{period}-{class_name or 'ca-truong'}.pdf"
    return send_file(out, mimetype="application/pdf", download_name=name)

