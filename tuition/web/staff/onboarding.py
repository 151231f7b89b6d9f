"""Admin pages: onboarding a list of schools (with their accountants' invitations), and
inviting one user again."""

from __future__ import annotations

import base64

from flask import Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...core import places
from ...extensions import db
from ...importing.schools import SCHOOL_COLUMNS, SchoolListInvalid, parse_school_list
from ...importing.tabular import ImportFileError
from ...services import invitations, onboarding
from ...services.access import require_admin
from ...services.errors import ServiceError
from ...spreadsheets import csv_bytes, xlsx_bytes
from . import bp
from .students import MAX_UPLOAD, localised


def send_invitation_mails(done) -> int:
    """After the commit: email each invitation when SMTP is configured. A failure is shown,
    never fatal: the links are on the screen and in the CSV."""
    from ... import mail

    if not mail.configured(current_app.config):
        return 0
    try:
        return mail.send(current_app.config,
                         [invitations.mail_for(d.invitation, d.school) for d in done])
    except OSError as exc:  # mail.MailError too
        current_app.logger.warning("sending invitations failed: %s", exc)
        flash(_("Không gửi được email mời (%(error)s); hãy gửi các liên kết dưới đây cho "
                "từng kế toán.", error=type(exc).__name__), "error")
        return 0


def links_csv(done) -> bytes:
    return csv_bytes(
        ["Mã trường", "Tên trường", "Email kế toán", "Liên kết đặt mật khẩu", "Hết hạn"],
        ([d.school.code, d.school.name, d.accountant.email, d.invitation.link,
          d.invitation.expires_at.isoformat()] for d in done))


@bp.route("/quan-tri/nhap-truong", methods=["GET", "POST"], endpoint="onboard_schools")
def onboard_schools():
    require_admin(g.user)
    provinces = places.provinces()
    if request.method == "GET":
        return render_template("staff/onboarding/upload.html", provinces=provinces,
                               row_errors=[], province=None)
    province = request.form.get("province", type=int)
    upload = request.files.get("file")
    if places.province(province) is None or upload is None or not upload.filename:
        flash(_("Hãy chọn tỉnh/thành phố và tệp danh sách trường (XLSX hoặc CSV)."), "error")
        return render_template("staff/onboarding/upload.html", provinces=provinces,
                               row_errors=[], province=province), 422
    data = upload.read(MAX_UPLOAD + 1)
    try:
        if len(data) > MAX_UPLOAD:
            raise ImportFileError("Tệp lớn hơn 5 MB.", "The file is larger than 5 MB.")
        rows = parse_school_list(data, upload.filename, province_code=province)
        done = onboarding.onboard(g.user, rows, province_code=province)
    except (ImportFileError, ServiceError) as exc:
        db.session.rollback()
        flash(localised(exc.message_vi, exc.message_en), "error")
        return render_template("staff/onboarding/upload.html", provinces=provinces,
                               row_errors=[], province=province), 422
    except SchoolListInvalid as exc:
        db.session.rollback()
        flash(_("Tệp có %(n)d lỗi; chưa tạo trường nào. Sửa các dòng dưới đây rồi tải lại.",
                n=len(exc.errors)), "error")
        row_errors = [(e.row, e.column, localised(e.message, e.message_en)) for e in exc.errors]
        return render_template("staff/onboarding/upload.html", provinces=provinces,
                               row_errors=row_errors, province=province,
                               filename=upload.filename), 422
    db.session.commit()
    mailed = send_invitation_mails(done)
    # The tokens are not stored: the list is shown (and offered as CSV) this once.
    csv_link = "data:text/csv;base64," + base64.b64encode(links_csv(done)).decode()
    return render_template("staff/onboarding/done.html", done=done, mailed=mailed,
                           csv_link=csv_link, province=places.province(province))


@bp.get("/quan-tri/mau-danh-sach-truong.xlsx", endpoint="onboard_template")
def onboard_template():
    require_admin(g.user)
    headers = [spellings[0] for spellings in SCHOOL_COLUMNS.values()]
    example = ["THLQD", "Trường Tiểu học Lê Quý Đôn", "Tiểu học", "Phường Ba Đình",
               "0101234567", "Vietcombank", "0011001234567", "TRUONG TIEU HOC LE QUY DON",
               "ketoan.lqd@example.edu.vn", "Nguyễn Thị Lan"]
    body = xlsx_bytes("Danh sách trường", headers, [example],
                      widths=[12, 34, 14, 22, 14, 14, 18, 30, 30, 22])
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet", headers={
                        "Content-Disposition": "attachment; filename=mau-danh-sach-truong.xlsx"})


@bp.post("/quan-tri/moi-lai", endpoint="reinvite")
def reinvite():
    """A new invitation for a user whose link expired (the older links stop working)."""
    from sqlalchemy import func, select

    from ...models import School, User

    require_admin(g.user)
    email = request.form.get("email", "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        flash(_("Không có tài khoản với email này."), "error")
        return redirect(url_for("staff.home"))
    issued = invitations.issue(g.user, user)
    db.session.commit()
    school = db.session.get(School, user.school_id) if user.school_id else None
    from ... import mail

    if mail.configured(current_app.config):
        try:
            mail.send(current_app.config, [invitations.mail_for(issued, school)])
        except OSError as exc:  # mail.MailError too
            current_app.logger.warning("sending an invitation failed: %s", exc)
    flash(_("Liên kết mới cho %(email)s (dùng một lần, hết hạn %(when)s): %(link)s",
            email=user.email, when=invitations.clock.format_datetime(issued.expires_at),
            link=issued.link), "info")
    return redirect(url_for("staff.home"))
