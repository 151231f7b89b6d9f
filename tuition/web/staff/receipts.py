"""Staff pages for what goes to parents: receipts (find, reprint, void) and payment reminders
(overdue students, a message per guardian, CSV/XLSX exports, reissuing a parents' link)."""

from __future__ import annotations

import io
from datetime import date

from flask import Response, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...core import clock
from ...extensions import db
from ...models import Receipt, Student
from ...services import cash, parents, receipts, reminders
from ...services.errors import Invalid, not_found
from . import bp, load_school
from .payments import REFUSED, error_text, local_time

#: What each placeholder of a reminder template stands for (the service fills them in).
PLACEHOLDER_LABELS = {
    "ten_hoc_sinh": _l("Họ tên học sinh"),
    "ma_hoc_sinh": _l("Mã học sinh"),
    "lop": _l("Lớp"),
    "phu_huynh": _l("Họ tên phụ huynh"),
    "so_tien": _l("Số tiền còn phải nộp"),
    "han_nop": _l("Hạn nộp sớm nhất"),
    "so_ngay": _l("Số ngày quá hạn"),
    "duong_dan": _l("Đường dẫn riêng của phụ huynh"),
    "ten_truong": _l("Tên trường"),
}
#: The list shows at most this many receipts; the PDF takes every one of the filter.
LIST_LIMIT = 300


def _day(name: str) -> date | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _filters() -> dict:
    status = request.args.get("status") or ""
    return {
        "class": (request.args.get("class") or "").strip().upper(),
        "from": _day("from"), "to": _day("to"),
        "status": status if status in ("valid", "void") else "",
        "student": (request.args.get("student") or "").strip().upper(),
    }


def _found(school, filters: dict) -> list[Receipt]:
    found = receipts.list_receipts(
        school, class_name=filters["class"] or None, date_from=filters["from"],
        date_to=filters["to"], status=filters["status"] or None)
    if filters["student"]:
        found = [r for r in found if r.content["student_code"] == filters["student"]]
    return found


def _query_args(filters: dict) -> dict:
    return {key: value.isoformat() if isinstance(value, date) else value
            for key, value in filters.items() if value}


def _receipts_page(school, *, error: str | None = None, error_receipt: int | None = None,
                   status: int = 200):
    filters = _filters()
    found = _found(school, filters)
    newest_first = list(reversed(found))
    return render_template(
        "staff/receipts/list.html", receipts=newest_first[:LIST_LIMIT], total=len(found),
        total_vnd=sum(r.amount_vnd for r in found if r.status == "valid"),
        filters=filters, query=_query_args(filters), limit=LIST_LIMIT, local_time=local_time,
        error=error, error_receipt=error_receipt,
    ), status


@bp.get("/<school_code>/bien-lai", endpoint="receipts")
def receipts_page(school_code: str):
    return _receipts_page(load_school(school_code))


def _pdf(docs, name: str):
    from ...pdf.receipts import LAYOUTS, render_receipts

    layout = request.args.get("kho", "a5")
    if layout not in LAYOUTS:
        raise Invalid("Khổ giấy phải là a5 hoặc 80mm.", "The layout must be a5 or 80mm.")
    out = io.BytesIO()
    if render_receipts(docs, out, layout=layout) == 0:
        raise Invalid("Không có biên lai nào để in.", "No receipts to print.")
    out.seek(0)
    return send_file(out, mimetype="application/pdf", download_name=name)


def _school_receipt(school, receipt_id: int) -> Receipt:
    receipt = db.session.get(Receipt, receipt_id)
    if receipt is None or receipt.school_id != school.id:
        raise not_found("biên lai", "Receipt")
    return receipt


@bp.get("/<school_code>/bien-lai/<int:receipt_id>.pdf")
def receipt_pdf(school_code: str, receipt_id: int):
    """Reprint one receipt (a void one prints stamped as void)."""
    receipt = _school_receipt(load_school(school_code), receipt_id)
    return _pdf([receipts.document(receipt)],
                f"bien-lai-{receipt.series}-{receipt.number:07d}.pdf")


@bp.get("/<school_code>/bien-lai.pdf")
def receipts_pdf(school_code: str):
    """Every receipt of the filter in one PDF, for printing in bulk."""
    school = load_school(school_code)
    found = _found(school, _filters())
    if not found:
        flash(_("Không có biên lai nào để in."), "error")
        return redirect(url_for("staff.receipts", school_code=school.code,
                                **_query_args(_filters())))
    return _pdf((receipts.document(r) for r in found), f"bien-lai-{school.code}.pdf")


@bp.post("/<school_code>/bien-lai/<int:receipt_id>/huy")
def void_receipt(school_code: str, receipt_id: int):
    """Void with a reason; optionally issue a replacement (e.g. with the payer's name fixed)."""
    school = load_school(school_code, manage=True)
    receipt = _school_receipt(school, receipt_id)
    reason = request.form.get("reason", "")
    try:
        if not request.form.get("replace") and cash.is_cash_receipt(receipt):
            # Cash: the money leaves the cash book with the receipt (see services/cash.py).
            cash.void_receipt(g.user, receipt, reason=reason)
            message = _("Đã hủy biên lai %(label)s; tiền đã ghi chi trong sổ quỹ.",
                        label=receipt.label)
        elif request.form.get("replace"):
            replacement = receipts.void_and_replace(
                g.user, receipt, reason=reason,
                payer_name=request.form.get("payer_name") or None)
            message = _("Đã hủy biên lai %(old)s và lập biên lai thay thế %(new)s.",
                        old=receipt.label, new=replacement.label)
        else:
            receipts.void(g.user, receipt, reason=reason)
            message = _("Đã hủy biên lai %(label)s.", label=receipt.label)
    except REFUSED as exc:
        db.session.rollback()
        return _receipts_page(school, error=error_text(exc), error_receipt=receipt_id,
                              status=422)
    db.session.commit()
    flash(message, "info")
    return redirect(url_for("staff.receipts", school_code=school.code))


# ----------------------------------------------------------------------------- reminders


def _as_of() -> date:
    """The day balances are counted overdue at: today in Vietnam, or the ``ngay`` asked for."""
    asked = _day("ngay")
    return asked or clock.today_vn()


def _reminders(school):
    today = _as_of()
    class_name = (request.args.get("class") or "").strip().upper()
    template = request.args.get("mau") or reminders.DEFAULT_TEMPLATE
    found = reminders.overdue(g.user, school, today=today, class_name=class_name or None)
    # New parents' links for students who had none: kept, so the exported links stay valid.
    db.session.commit()
    return today, class_name, template, found


@bp.get("/<school_code>/nhac-nop", endpoint="reminders")
def reminders_page(school_code: str):
    school = load_school(school_code)
    today, class_name, template, found = _reminders(school)
    rows = [(r, reminders.render_message(template, r, school)) for r in found]
    args = {"ngay": request.args.get("ngay") or None, "class": class_name or None,
            "mau": request.args.get("mau") or None}
    return render_template(
        "staff/receipts/reminders.html", rows=rows, today=today, class_name=class_name,
        template=template, placeholders={name: PLACEHOLDER_LABELS.get(name, name)
                      for name in reminders.PLACEHOLDERS},
        total_vnd=sum(r.amount_vnd for r in found),
        export_args={k: v for k, v in args.items() if v},
    )


@bp.get("/<school_code>/nhac-nop.<any(csv, xlsx):fmt>")
def reminders_export(school_code: str, fmt: str):
    """The reminder list for an SMS/Zalo campaign tool: CSV (UTF-8 with BOM) or XLSX."""
    school = load_school(school_code)
    today, _class_name, template, found = _reminders(school)
    rows = reminders.export_rows(found, template, school)
    name = f"nhac-nop-{school.code}-{today:%Y%m%d}.{fmt}"
    if fmt == "csv":
        body, mimetype = reminders.to_csv(rows), "text/csv; charset=utf-8"
    else:
        body = reminders.to_xlsx(rows)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.post("/<school_code>/nhac-nop/<student_code>/cap-lai-duong-dan")
def reissue_link(school_code: str, student_code: str):
    """Revoke a student's parents' link (e.g. sent to a wrong number) and issue a new one."""
    school = load_school(school_code, manage=True)
    student = db.session.scalar(select(Student).where(
        Student.school_id == school.id, Student.code == student_code.upper()))
    if student is None:
        raise not_found("học sinh", "Student")
    link = parents.reissue(g.user, school, student)
    db.session.commit()
    flash(_("Đã cấp lại đường dẫn cho %(name)s; đường dẫn cũ không còn dùng được: %(link)s",
            name=student.full_name, link=link), "info")
    back = {k: v for k, v in request.form.items() if k in ("ngay", "class", "mau") and v}
    return redirect(url_for("staff.reminders", school_code=school.code, **back))
