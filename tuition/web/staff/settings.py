"""Staff pages: the school's settings (details, bank accounts, webhook keys, staff) and its
audit log.

Secrets (webhook keys, API tokens) are write-only here: a page says whether one is set,
never what it is.
"""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...core.banks import bank_by_bin, banks
from ...extensions import db
from ...models import BankAccount
from ...services import bank_accounts, settings
from ...services.errors import NotFound
from . import bp, load_school
from .payments import REFUSED, error_text, local_time

#: The per-account secrets, with what each is for.
KEY_FIELDS = {
    "sepay_api_key": _l("SePay — khóa webhook (hệ thống tạo)"),
    "casso_checksum_key": _l("Casso — khóa kiểm tra (checksum key)"),
    "sepay_api_token": _l("SePay — API token (đối soát định kỳ)"),
}

CHANGE_LABELS = {"add_account": _l("Thêm tài khoản"),
                 "update_keys": _l("Đổi khóa Casso / token SePay"),
                 "rotate_sepay_key": _l("Tạo khóa webhook SePay mới")}
CHANGE_STATUSES = {"pending": _l("Chờ duyệt"), "applied": _l("Đã áp dụng"),
                   "rejected": _l("Đã từ chối")}

ROLE_LABELS = {"admin": _l("Quản trị"), "accountant": _l("Kế toán"),
               "principal": _l("Hiệu trưởng")}

#: Audit actions in words; an action not listed shows its code.
ACTION_LABELS = {
    "adjustment.add": _l("Thêm điều chỉnh"),
    "allocation.reverse": _l("Đảo bút toán"),
    "bank_account.add": _l("Thêm tài khoản ngân hàng"),
    "bank_account.default": _l("Đặt tài khoản mặc định"),
    "bank_account.webhook_keys": _l("Đổi khóa webhook"),
    "bank_account.change_requested": _l("Yêu cầu thay đổi tài khoản ngân hàng"),
    "bank_account.change_applied": _l("Áp dụng thay đổi tài khoản ngân hàng"),
    "bank_account.change_rejected": _l("Từ chối thay đổi tài khoản ngân hàng"),
    "bank_account.deployment_key": _l("Đổi cài đặt khóa webhook chung"),
    "credit.apply": _l("Trừ tiền nộp thừa vào hóa đơn"),
    "payment.confirm": _l("Xác nhận giao dịch"),
    "billing_run.issue": _l("Lập hóa đơn"),
    "enrolment.add": _l("Ghi danh"),
    "exemption.add": _l("Thêm miễn giảm"),
    "fee_item.create": _l("Tạo khoản thu"),
    "invoice.cancel": _l("Hủy hóa đơn"),
    "parent_link.reissue": _l("Cấp lại đường dẫn phụ huynh"),
    "payment.assign": _l("Gán tiền vào hóa đơn"),
    "payment.credit": _l("Ghi có cho học sinh"),
    "payment.set_aside": _l("Để riêng giao dịch"),
    "receipt.replace": _l("Lập biên lai thay thế"),
    "receipt.void": _l("Hủy biên lai"),
    "school.create": _l("Tạo trường"),
    "school.update": _l("Sửa thông tin trường"),
    "statement.import": _l("Nhập sao kê"),
    "students.import": _l("Nhập danh sách học sinh"),
    "user.create": _l("Tạo người dùng"),
    "user.password_change": _l("Đổi mật khẩu"),
    "auth.sign_in": _l("Đăng nhập"),
    "auth.sign_out": _l("Đăng xuất"),
    "auth.sign_in_failed": _l("Đăng nhập sai"),
    "auth.sign_in_refused": _l("Đăng nhập bị từ chối (tài khoản bị khóa)"),
    "payments.rematch": _l("Ghép lại hàng chờ xử lý"),
    "student.update": _l("Sửa thông tin học sinh"),
    "student.guardian_phone": _l("Đổi số điện thoại phụ huynh"),
    "user.disable": _l("Khóa tài khoản"),
    "user.enable": _l("Mở khóa tài khoản"),
    "user.token_rotate": _l("Cấp mã API mới"),
    "user.token_revoke": _l("Thu hồi mã API"),
    "user.sessions_end": _l("Đăng xuất khỏi mọi nơi"),
}


def _settings_page(school, *, error: str | None = None, section: str | None = None,
                   form=None, status: int = 200, new_key=None):
    public = current_app.config.get("PUBLIC_URL", "").rstrip("/") or request.host_url.rstrip("/")
    accounts = [{"account": a, "bank": bank_by_bin(a.bin),
                 "keys": {field: bool(getattr(a, field)) for field in KEY_FIELDS}}
                for a in school.bank_accounts]
    bank_list = sorted(banks().values(), key=lambda b: b.short_name.lower())
    return render_template(
        "staff/settings/index.html", accounts=accounts, banks=bank_list, key_fields=KEY_FIELDS,
        webhook_urls={"SePay": f"{public}/webhooks/sepay", "Casso": f"{public}/webhooks/casso"},
        users=settings.school_users(g.user, school), roles=ROLE_LABELS,
        staff_roles=settings.STAFF_ROLES, error=error, section=section, form=form or {},
        changes=bank_accounts.changes(g.user, school, since_days=90), new_key=new_key,
        decides=bank_accounts.decides(g.user, school), change_labels=CHANGE_LABELS,
        local_time=local_time,
        change_statuses=CHANGE_STATUSES,
    ), status


@bp.get("/<school_code>/cai-dat", endpoint="settings")
def settings_page(school_code: str):
    return _settings_page(load_school(school_code))


def _done(message: str, anchor: str):
    db.session.commit()
    flash(message, "info")
    return redirect(url_for("staff.settings", school_code=g.school.code, _anchor=anchor))


def _refused(exc, section: str):
    db.session.rollback()
    # The form comes back filled in, except passwords and secrets.
    form = {k: v for k, v in request.form.items()
            if k not in ("csrf_token", "password", *KEY_FIELDS)}
    return _settings_page(g.school, error=error_text(exc), section=section, form=form,
                          status=422)


@bp.post("/<school_code>/cai-dat/truong")
def update_school(school_code: str):
    school = load_school(school_code, manage=True)
    try:
        changed = settings.update_school(g.user, school, request.form.to_dict())
    except REFUSED as exc:
        return _refused(exc, "school")
    return _done(_("Đã lưu thông tin trường.") if changed else _("Không có gì thay đổi."),
                 "truong")


def _bank_change_done(change, secret: str | None):
    """After a bank-account change: applied (a new SePay key is shown on this page, once, and
    never put in a cookie) or waiting for the principal."""
    db.session.commit()
    if secret:
        return _settings_page(g.school, new_key={
            "key": secret, "account": db.session.get(BankAccount, change.bank_account_id)})
    if change.status == "pending":
        flash(_("Đã gửi yêu cầu. Thay đổi có hiệu lực khi hiệu trưởng (hoặc quản trị viên) "
                "duyệt."), "info")
    elif change.status == "applied":
        flash(_("Đã áp dụng thay đổi tài khoản ngân hàng."), "info")
    else:
        flash(_("Đã từ chối yêu cầu."), "info")
    return redirect(url_for("staff.settings", school_code=g.school.code, _anchor="tai-khoan"))


@bp.post("/<school_code>/cai-dat/tai-khoan")
def add_bank_account(school_code: str):
    school = load_school(school_code)
    data = {key: request.form.get(key, "") for key in ("bin", "account_number", "account_name")}
    data["is_default"] = bool(request.form.get("is_default"))
    try:
        change, secret = bank_accounts.request(g.user, school, "add_account", data)
    except REFUSED as exc:
        return _refused(exc, "accounts")
    return _bank_change_done(change, secret)


@bp.post("/<school_code>/cai-dat/tai-khoan/<int:account_id>/mac-dinh")
def set_default_account(school_code: str, account_id: int):
    school = load_school(school_code, manage=True)
    account = settings.set_default_account(g.user, school, account_id)
    return _done(_("Tài khoản %(number)s là tài khoản mặc định in trên thông báo mới.",
                   number=account.account_number), "tai-khoan")


@bp.post("/<school_code>/cai-dat/tai-khoan/<int:account_id>/khoa")
def webhook_keys(school_code: str, account_id: int):
    """Set the keys typed in, clear those ticked; a field left empty stays as it is."""
    school = load_school(school_code)
    data: dict[str, str | None] = {}
    for field in bank_accounts.TYPED_SECRETS:
        if request.form.get(f"clear_{field}"):
            data[field] = None
        elif value := request.form.get(field, "").strip():
            data[field] = value
    if not data:
        flash(_("Không có khóa nào thay đổi."), "info")
        return redirect(url_for("staff.settings", school_code=school.code, _anchor="tai-khoan"))
    try:
        change, secret = bank_accounts.request(g.user, school, "update_keys", data,
                                               account_id=account_id)
    except REFUSED as exc:
        return _refused(exc, "keys")
    return _bank_change_done(change, secret)


@bp.post("/<school_code>/cai-dat/tai-khoan/<int:account_id>/khoa-sepay")
def rotate_sepay_key(school_code: str, account_id: int):
    school = load_school(school_code)
    try:
        change, secret = bank_accounts.request(g.user, school, "rotate_sepay_key", {},
                                               account_id=account_id)
    except REFUSED as exc:
        return _refused(exc, "keys")
    return _bank_change_done(change, secret)


@bp.post("/<school_code>/cai-dat/tai-khoan/<int:account_id>/khoa-chung")
def deployment_key(school_code: str, account_id: int):
    """Admin: attach the account to the deployment-wide webhook keys, or detach it."""
    school = load_school(school_code)
    try:
        bank_accounts.attach_to_deployment_key(g.user, school, account_id,
                                               request.form.get("attached") == "1")
    except REFUSED as exc:
        return _refused(exc, "keys")
    return _done(_("Đã lưu cài đặt khóa chung."), "tai-khoan")


@bp.post("/<school_code>/cai-dat/yeu-cau/<int:change_id>/<any(duyet, 'tu-choi'):decision>")
def decide_bank_change(school_code: str, change_id: int, decision: str):
    school = load_school(school_code)
    try:
        change, secret = bank_accounts.decide(
            g.user, change_id, approve=decision == "duyet", note=request.form.get("note", ""))
        if change.school_id != school.id:
            raise NotFound("Không tìm thấy yêu cầu thay đổi.", "Change request not found.")
    except REFUSED as exc:
        return _refused(exc, "changes")
    return _bank_change_done(change, secret)


@bp.post("/<school_code>/cai-dat/nguoi-dung")
def add_user(school_code: str):
    school = load_school(school_code, manage=True)
    try:
        user = settings.add_staff(
            g.user, school, email=request.form.get("email", ""),
            name=request.form.get("name", ""), role=request.form.get("role", ""),
            password=request.form.get("password", ""))
    except REFUSED as exc:
        return _refused(exc, "users")
    return _done(_("Đã tạo tài khoản %(email)s. Gửi mật khẩu tạm cho người dùng và nhắc đổi "
                   "mật khẩu sau lần đăng nhập đầu.", email=user.email), "nguoi-dung")


@bp.get("/<school_code>/nhat-ky", endpoint="audit")
def audit_page(school_code: str):
    school = load_school(school_code)
    page = settings.audit_log(g.user, school, page=request.args.get("page", 1, type=int) or 1)
    return render_template("staff/settings/audit.html", log=page, actions=ACTION_LABELS,
                           local_time=local_time)
