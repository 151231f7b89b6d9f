"""Staff pages: one student's page (invoices, payments, credit, receipts, the parents' link
and the history), the parents' link to print, and reissuing it.

Every list that names a student links here (templates/staff/_links.html). The page is built
from :func:`tuition.services.student_page.student_page`; each of its sections is one template
under ``templates/staff/students/sections/``.
"""

from __future__ import annotations

import base64

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...qrimage import qr_svg
from ...services import parents
from ...services import students as student_service
from ...services.links import ensure_token, parent_url
from ...services.student_page import student_page
from . import bp, load_school
from .billing import period_label, status_labels
from .payments import STATUS_LABELS, local_time
from .settings import ACTION_LABELS

#: History entries that are not audit actions, in words.
HISTORY_LABELS = {
    **ACTION_LABELS,
    "invoice.issue": _l("Lập hóa đơn"),
    "allocation.invoice": _l("Gán tiền vào hóa đơn"),
    "allocation.credit": _l("Ghi có / trừ số dư có"),
    "allocation.reversal": _l("Bút toán đảo"),
    "receipt.issue": _l("Lập biên lai"),
}


def _student(school, code: str):
    student = student_service.get_student(school, code)
    if student is None:
        abort(404)
    return student


@bp.get("/<school_code>/hoc-sinh/<student_code>", endpoint="student_page")
def student_page_view(school_code: str, student_code: str):
    school = load_school(school_code)
    student = _student(school, student_code)
    page = student_page(g.user, school, student)
    return render_template(
        "staff/students/page.html", page=page, sections=page["sections"],
        student=page["student"], invoice_statuses=status_labels(),
        payment_statuses=STATUS_LABELS, history_labels=HISTORY_LABELS,
        period_label=period_label, local_time=local_time,
    )


@bp.get("/<school_code>/hoc-sinh/<student_code>/duong-dan", endpoint="student_link_print")
def student_link_print(school_code: str, student_code: str):
    """The parents' link on a slip to print (with its QR code), for a parent without it."""
    school = load_school(school_code)
    student = _student(school, student_code)
    if not student.parent_token:
        abort(404)
    link = parent_url(student)
    qr = base64.b64encode(qr_svg(link).encode()).decode("ascii")
    return render_template("staff/students/link_print.html", student=student, link=link,
                           qr=f"data:image/svg+xml;base64,{qr}")


@bp.post("/<school_code>/hoc-sinh/<student_code>/cap-lai-duong-dan",
         endpoint="student_link_reissue")
def student_link_reissue(school_code: str, student_code: str):
    """Revoke the parents' link (sent to a wrong number, shared ...) and issue a new one; a
    student who had none gets one."""
    school = load_school(school_code, manage=True)
    student = _student(school, student_code)
    if student.parent_token:
        link = parents.reissue(g.user, school, student)
        message = _("Đã cấp lại đường dẫn cho %(name)s; đường dẫn cũ không còn dùng được: "
                    "%(link)s", name=student.full_name, link=link)
    else:
        ensure_token(student)
        db.session.flush()
        link = parent_url(student)
        message = _("Đã cấp đường dẫn cho %(name)s: %(link)s", name=student.full_name,
                    link=link)
    db.session.commit()
    flash(message, "info")
    return redirect(url_for("staff.student_page", school_code=school.code,
                            student_code=student.code) + "#duong-dan")
