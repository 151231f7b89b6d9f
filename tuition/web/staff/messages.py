"""Staff pages for messages to parents and background PDFs.

Messages: the overview (campaigns, confirmations), the messaging settings (channels, their
order, credentials: write-only), templates with preview and SMS length, campaign creation,
and a page per campaign with counts and the failures to act on. The request only writes the
outbox, commits and enqueues; workers send.

Background PDFs: start a whole-school notices or receipts PDF, watch its progress, download
it when done (staff of the school only).
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ...core.clock import format_datetime
from ...extensions import db
from ...messaging import campaigns as campaign_service
from ...messaging import exports as export_service
from ...messaging import jobs, outbox, sending
from ...messaging import settings as settings_service
from ...messaging import templates as template_service
from ...messaging.core import CHANNEL_LABELS, CHANNELS, TEMPLATE_KEYS, placeholders
from ...models import Invoice, Message
from ...services.students import school_classes
from . import bp, load_school
from .payments import REFUSED, error_text

STATUS_LABELS = {
    "queued": _l("Chờ gửi"),
    "sending": _l("Đang gửi"),
    "sent": _l("Đã gửi"),
    "delivered": _l("Đã nhận"),
    "failed": _l("Lỗi"),
    "unknown": _l("Không rõ"),
    "skipped": _l("Bỏ qua"),
}
TEMPLATE_LABELS = {
    "notice": _l("Thông báo học phí"),
    "reminder_1": _l("Nhắc nộp lần 1"),
    "reminder_2": _l("Nhắc nộp lần 2"),
    "reminder_3": _l("Nhắc nộp lần cuối"),
    "confirmation": _l("Xác nhận đã nhận tiền"),
}
SECRET_LABELS = {
    "zns_app_secret": _l("Zalo — khóa bí mật của ứng dụng (app secret)"),
    "zns_oa_secret": _l("Zalo — OA secret key (ký webhook)"),
    "zns_refresh_token": _l("Zalo — refresh token của OA"),
    "sms_api_key": _l("eSMS — ApiKey"),
    "sms_secret_key": _l("eSMS — SecretKey"),
    "smtp_password": _l("SMTP — mật khẩu"),
}
EXPORT_STATUS = {"queued": _l("Chờ tạo"), "running": _l("Đang tạo"), "done": _l("Xong"),
                 "failed": _l("Lỗi")}


def _when(moment) -> str:
    return format_datetime(moment)


@bp.context_processor
def _messaging_helpers():
    return {"message_status": STATUS_LABELS, "channel_labels": CHANNEL_LABELS,
            "template_labels": TEMPLATE_LABELS, "when": _when}


def _queued_note(count: int | None) -> None:
    if count is None:
        flash(_("Hàng đợi (Redis) tạm thời không kết nối được: tin nhắn đã được lưu và sẽ "
                "được gửi khi máy gửi kết nối lại."), "error")


def _counts_by_campaign(ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        for campaign_id, status, n in db.session.execute(
                select(Message.campaign_id, Message.status, func.count())
                .where(Message.campaign_id.in_(ids))
                .group_by(Message.campaign_id, Message.status)):
            counts[campaign_id][status] = n
    return counts


# --- Overview and settings -------------------------------------------------------------------


@bp.get("/<school_code>/tin-nhan", endpoint="messages")
def messages_page(school_code: str):
    school = load_school(school_code)
    found = campaign_service.list_campaigns(g.user, school)
    return render_template(
        "staff/messages/index.html", summary=settings_service.summary(g.user, school),
        campaigns=found, counts=_counts_by_campaign([c.id for c in found]),
        confirmations=outbox.status_counts(school.id, kind="confirmation"),
        templates=template_service.all_templates(g.user, school),
    )


@bp.route("/<school_code>/tin-nhan/cai-dat", methods=["GET", "POST"],
          endpoint="message_settings")
def settings_page(school_code: str):
    school = load_school(school_code, manage=request.method == "POST")
    error = None
    if request.method == "POST":
        form = request.form
        order = [form.get(f"channel_{i}", "") for i in range(1, len(CHANNELS) + 1)]
        data = {key: form.get(key, "") for key in settings_service.PLAIN_FIELDS}
        data.update({key: form.get(key, "") for key in settings_service.SECRET_FIELDS})
        data.update(channels=[c for c in order if c], enabled=bool(form.get("enabled")),
                    confirmations=bool(form.get("confirmations")))
        clear = tuple(k for k in settings_service.SECRET_FIELDS if form.get(f"clear_{k}"))
        try:
            settings_service.update(g.user, school, data, clear=clear)
        except REFUSED as exc:
            db.session.rollback()
            error = error_text(exc)
        else:
            db.session.commit()
            flash(_("Đã lưu cài đặt tin nhắn."), "info")
            return redirect(url_for("staff.message_settings", school_code=school.code))
    public = current_app.config["PUBLIC_URL"].rstrip("/")
    return render_template(
        "staff/messages/settings.html", summary=settings_service.summary(g.user, school),
        channels=CHANNELS, secret_labels=SECRET_LABELS, error=error,
        zalo_webhook=f"{public}/webhooks/zalo",
    ), 422 if error else 200


# --- Templates --------------------------------------------------------------------------------


@bp.route("/<school_code>/tin-nhan/mau/<key>", methods=["GET", "POST"],
          endpoint="message_template")
def template_page(school_code: str, key: str):
    if key not in TEMPLATE_KEYS:
        abort(404)
    saving = request.method == "POST" and request.form.get("action") == "save"
    school = load_school(school_code, manage=saving)
    data = None
    error = None
    if request.method == "POST":
        data = {field: request.form.get(field, "") for field in (
            "sms_text", "email_subject", "email_body", "zns_template_id", "zns_params")}
        data["unaccented"] = bool(request.form.get("unaccented"))
    if saving:
        try:
            template_service.save(g.user, school, key, data)
        except REFUSED as exc:
            db.session.rollback()
            error = error_text(exc)
        else:
            db.session.commit()
            flash(_("Đã lưu mẫu “%(name)s”.", name=TEMPLATE_LABELS[key]), "info")
            return redirect(url_for("staff.message_template", school_code=school.code, key=key))
    try:
        shown = template_service.preview(g.user, school, key, data)
    except REFUSED as exc:
        db.session.rollback()
        error = error or error_text(exc)
        shown = template_service.preview(g.user, school, key, None)
    db.session.rollback()  # a preview gives students without a link one; nothing to keep
    form = data or {
        "sms_text": shown.template.text.sms, "email_subject": shown.template.text.email_subject,
        "email_body": shown.template.text.email_body,
        "zns_template_id": shown.template.zns_template_id or "",
        "zns_params": "\n".join(f"{k}={v}" for k, v in shown.template.zns_params.items()),
        "unaccented": shown.template.text.unaccented,
    }
    return render_template("staff/messages/template.html", key=key, preview=shown, form=form,
                           error=error, placeholders=placeholders(key)), 422 if error else 200


# --- Campaigns ------------------------------------------------------------------------------


def _periods(school) -> list[str]:
    return list(db.session.scalars(
        select(Invoice.period).where(Invoice.school_id == school.id,
                                     Invoice.status.in_(("open", "partial")))
        .distinct().order_by(Invoice.period.desc())))


@bp.route("/<school_code>/tin-nhan/chien-dich/moi", methods=["GET", "POST"],
          endpoint="campaign_new")
def campaign_new(school_code: str):
    school = load_school(school_code, manage=True)
    summary = settings_service.summary(g.user, school)
    error = None
    form = {"kind": request.args.get("kind", "notice"), "period": "", "classes": [],
            "channels": summary.channels}
    if request.method == "POST":
        form = {"kind": request.form.get("kind", ""), "period": request.form.get("period", ""),
                "classes": request.form.getlist("classes"),
                "channels": [c for c in summary.channels + list(CHANNELS)
                             if c in request.form.getlist("channels")]}
        form["channels"] = list(dict.fromkeys(form["channels"]))
        kind, _sep, level = form["kind"].partition("_")
        try:
            campaign = campaign_service.create(
                g.user, school, kind=kind, level=int(level) if level.isdigit() else None,
                period=form["period"], classes=form["classes"], channels=form["channels"])
        except REFUSED as exc:
            db.session.rollback()
            error = error_text(exc)
        else:
            db.session.commit()
            _queued_note(jobs.try_dispatch())
            flash(_("Đã tạo chiến dịch: %(n)d tin nhắn đang được gửi.",
                    n=campaign.created_count), "info")
            return redirect(url_for("staff.campaign", school_code=school.code,
                                    campaign_id=campaign.id))
    return render_template(
        "staff/messages/campaign_new.html", summary=summary, form=form, error=error,
        periods=_periods(school), classes=sorted({c.name for c in school_classes(school)}),
        channels=CHANNELS,
    ), 422 if error else 200


@bp.get("/<school_code>/tin-nhan/chien-dich/<int:campaign_id>", endpoint="campaign")
def campaign_page(school_code: str, campaign_id: int):
    school = load_school(school_code)
    campaign = campaign_service.get_campaign(g.user, school, campaign_id)
    counts = outbox.status_counts(school.id, campaign_id=campaign.id)
    pending = counts.get("queued", 0) + counts.get("sending", 0)
    return render_template(
        "staff/messages/campaign.html", campaign=campaign, counts=counts, pending=pending,
        problems=campaign_service.problems(campaign),
        done=sum(n for s, n in counts.items() if s not in ("queued", "sending")),
    )


@bp.get("/<school_code>/tin-nhan/chien-dich/<int:campaign_id>.json",
        endpoint="campaign_json")
def campaign_json(school_code: str, campaign_id: int):
    school = load_school(school_code)
    campaign = campaign_service.get_campaign(g.user, school, campaign_id)
    return jsonify({"id": campaign.id, "created": campaign.created_count,
                    "skipped": len(campaign.skipped), "duplicates": campaign.duplicates,
                    "counts": outbox.status_counts(school.id, campaign_id=campaign.id)})


@bp.post("/<school_code>/tin-nhan/gui-lai", endpoint="messages_requeue")
def requeue(school_code: str):
    school = load_school(school_code, manage=True)
    ids = [int(v) for v in request.form.getlist("message") if v.isdigit()]
    back = request.form.get("back") or url_for("staff.messages", school_code=school.code)
    if not back.startswith(f"/app/{school.code}/"):
        back = url_for("staff.messages", school_code=school.code)
    try:
        count = sending.requeue(g.user, school, ids)
    except REFUSED as exc:
        db.session.rollback()
        flash(error_text(exc), "error")
        return redirect(back)
    db.session.commit()
    _queued_note(jobs.try_dispatch())
    flash(_("Đã đưa %(n)d tin nhắn vào hàng đợi gửi lại.", n=count), "info")
    return redirect(back)


@bp.get("/<school_code>/tin-nhan/xac-nhan", endpoint="confirmations")
def confirmations(school_code: str):
    school = load_school(school_code)
    from ...models import Student

    rows = db.session.execute(
        select(Message, Student).join(Student, Student.id == Message.student_id)
        .where(Message.school_id == school.id, Message.kind == "confirmation")
        .order_by(Message.id.desc()).limit(200)).all()
    return render_template("staff/messages/confirmations.html", rows=rows,
                           counts=outbox.status_counts(school.id, kind="confirmation"))


# --- Background PDFs -------------------------------------------------------------------------


@bp.route("/<school_code>/tep-pdf", methods=["GET", "POST"], endpoint="exports")
def exports_page(school_code: str):
    school = load_school(school_code)
    error = None
    if request.method == "POST":
        kind = request.form.get("kind", "")
        try:
            export = export_service.start(g.user, school, kind, request.form.to_dict())
        except REFUSED as exc:
            db.session.rollback()
            error = error_text(exc)
        else:
            db.session.commit()
            _queued_note(jobs.try_dispatch())
            return redirect(url_for("staff.export", school_code=school.code,
                                    export_id=export.id))
    return render_template(
        "staff/messages/exports.html", exports=export_service.list_exports(g.user, school),
        periods=_periods(school), classes=sorted({c.name for c in school_classes(school)}),
        statuses=EXPORT_STATUS, error=error), 422 if error else 200


def _export_json(export, school) -> dict:
    return {"id": export.id, "status": export.status, "done": export.done,
            "total": export.total, "error": export.error,
            "download": url_for("staff.export_download", school_code=school.code,
                                export_id=export.id) if export.status == "done" else None}


@bp.get("/<school_code>/tep-pdf/<int:export_id>", endpoint="export")
def export_page(school_code: str, export_id: int):
    school = load_school(school_code)
    export = export_service.get_export(g.user, school, export_id)
    return render_template("staff/messages/export.html", export=export, statuses=EXPORT_STATUS,
                           state=_export_json(export, school))


@bp.get("/<school_code>/tep-pdf/<int:export_id>.json", endpoint="export_json")
def export_json(school_code: str, export_id: int):
    school = load_school(school_code)
    return jsonify(_export_json(export_service.get_export(g.user, school, export_id), school))


@bp.get("/<school_code>/tep-pdf/<int:export_id>/tai-ve", endpoint="export_download")
def export_download(school_code: str, export_id: int):
    school = load_school(school_code)
    export = export_service.get_export(g.user, school, export_id)
    path = export_service.file_path(export)
    if path is None:
        abort(404)
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=export_service.download_name(export, school))
