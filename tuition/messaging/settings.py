"""A school's messaging settings: channels and their order, and its own credentials.

Credentials a school leaves empty come from the deployment (``TUITION_ZNS_APP_ID``,
``TUITION_ESMS_API_KEY``, ``TUITION_SMTP_HOST``, ...). Secrets are never read back to a page
or an API: :func:`summary` says only whether each is set and where it comes from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..core import clock
from ..extensions import db
from ..models import MessagingSettings, ProviderToken, School, User
from ..services import audit
from ..services.access import require_manage, require_read
from ..services.errors import Invalid
from .core import CHANNEL_LABELS, CHANNELS, check_email, parse_channels

#: Write-only fields, with what each is for (Vietnamese label).
SECRET_FIELDS = {
    "zns_app_secret": "Zalo — khóa bí mật của ứng dụng (app secret)",
    "zns_oa_secret": "Zalo — OA secret key (ký webhook)",
    "zns_refresh_token": "Zalo — refresh token của OA",
    "sms_api_key": "eSMS — ApiKey",
    "sms_secret_key": "eSMS — SecretKey",
    "smtp_password": "SMTP — mật khẩu",
}
#: Plain fields (shown back).
PLAIN_FIELDS = ("zns_app_id", "sms_brandname", "email_sender", "smtp_host", "smtp_port",
                "smtp_user", "zns_daily_quota", "sms_daily_quota", "email_daily_quota")
_BRANDNAME = re.compile(r"[A-Za-z0-9 .\-]{1,11}")


def settings_for(school_id: int) -> MessagingSettings | None:
    return db.session.scalar(
        select(MessagingSettings).where(MessagingSettings.school_id == school_id))


def zns_token_key(settings: MessagingSettings | None) -> str:
    """Which stored token pair the school's ZNS uses: its own OA's or the deployment's."""
    if settings is not None and settings.zns_app_id:
        return f"zns:school:{settings.school_id}"
    return "zns:default"


@dataclass(frozen=True)
class Credentials:
    """What a channel needs, the school's own values over the deployment's."""

    zns_app_id: str | None
    zns_app_secret: str | None
    zns_oa_secret: str | None
    zns_token_key: str
    sms_api_key: str | None
    sms_secret_key: str | None
    sms_brandname: str | None
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    email_sender: str | None
    #: The deployment's, or "school:<id>" when the school has its own account: rate limits
    #: count per provider account.
    zns_account: str
    sms_account: str
    email_account: str

    def configured(self, channel: str) -> bool:
        if channel == "zns":
            return bool(self.zns_app_id and self.zns_app_secret)
        if channel == "sms":
            return bool(self.sms_api_key and self.sms_secret_key and self.sms_brandname)
        if channel == "email":
            return bool(self.smtp_host and self.email_sender)
        return False


def _env(name: str) -> str | None:
    value = current_app.config.get(name)
    # from_prefixed_env reads JSON: an all-digit app id arrives as an int.
    return None if value in (None, "") else str(value)


def credentials(settings: MessagingSettings | None) -> Credentials:
    s = settings
    own_zns = bool(s and s.zns_app_id)
    own_sms = bool(s and s.sms_api_key)
    own_smtp = bool(s and s.smtp_host)
    school = f"school:{s.school_id}" if s else "default"
    return Credentials(
        zns_app_id=(s.zns_app_id if own_zns else _env("ZNS_APP_ID")),
        zns_app_secret=(s.zns_app_secret if own_zns else _env("ZNS_APP_SECRET")),
        zns_oa_secret=(s.zns_oa_secret if own_zns else _env("ZNS_OA_SECRET")),
        zns_token_key=zns_token_key(s),
        sms_api_key=(s.sms_api_key if own_sms else _env("ESMS_API_KEY")),
        sms_secret_key=(s.sms_secret_key if own_sms else _env("ESMS_SECRET_KEY")),
        sms_brandname=(s and s.sms_brandname) or _env("ESMS_BRANDNAME"),
        smtp_host=(s.smtp_host if own_smtp else _env("SMTP_HOST")),
        smtp_port=int((s.smtp_port if own_smtp and s.smtp_port else None)
                      or current_app.config.get("SMTP_PORT") or 587),
        smtp_user=(s.smtp_user if own_smtp else _env("SMTP_USER")),
        smtp_password=(s.smtp_password if own_smtp else _env("SMTP_PASSWORD")),
        email_sender=(s and s.email_sender) or _env("SMTP_SENDER"),
        zns_account=school if own_zns else "default",
        sms_account=school if own_sms else "default",
        email_account=school if own_smtp else "default",
    )


def daily_quota(settings: MessagingSettings | None, channel: str) -> int:
    own = getattr(settings, f"{channel}_daily_quota", None) if settings else None
    return int(own or current_app.config["MESSAGE_DAILY_QUOTA"].get(channel) or 0)


@dataclass
class Summary:
    settings: MessagingSettings | None
    enabled: bool
    channels: list[str]
    confirmations: bool
    #: channel -> configured (credentials complete, own or the deployment's)
    configured: dict[str, bool]
    #: secret field -> "school" (set for this school), "deployment" or "" (not set)
    secrets: dict[str, str]
    quotas: dict[str, int]


def summary(actor: User, school: School) -> Summary:
    """What the settings page shows: no secret value, only whether each is set."""
    require_read(actor, school)
    s = settings_for(school.id)
    creds = credentials(s)
    env_names = {"zns_app_secret": "ZNS_APP_SECRET", "zns_oa_secret": "ZNS_OA_SECRET",
                 "zns_refresh_token": "ZNS_REFRESH_TOKEN", "sms_api_key": "ESMS_API_KEY",
                 "sms_secret_key": "ESMS_SECRET_KEY", "smtp_password": "SMTP_PASSWORD"}
    secrets = {}
    for field, env in env_names.items():
        if field == "zns_refresh_token":
            own = bool(db.session.scalar(select(ProviderToken.id).where(
                ProviderToken.key == f"zns:school:{school.id}",
                ProviderToken.refresh_token.is_not(None))))
        else:
            own = bool(s and getattr(s, field))
        secrets[field] = "school" if own else ("deployment" if _env(env) else "")
    return Summary(
        settings=s, enabled=bool(s and s.enabled),
        channels=parse_channels(s.channels) if s else ["sms"],
        confirmations=bool(s.confirmations) if s else True,
        configured={c: creds.configured(c) for c in CHANNELS}, secrets=secrets,
        quotas={c: daily_quota(s, c) for c in CHANNELS},
    )


def _text(data: dict[str, Any], key: str, max_len: int) -> str | None:
    value = data.get(key)
    value = "" if value is None else str(value).strip()
    if len(value) > max_len:
        raise Invalid(f"Trường “{key}” tối đa {max_len} ký tự.",
                      f"{key} must be at most {max_len} characters.", field=key)
    return value or None


def _quota(data: dict[str, Any], key: str) -> int | None:
    value = str(data.get(key) or "").strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 10_000_000:
        raise Invalid("Hạn mức mỗi ngày phải là số nguyên dương.",
                      "A daily quota must be a positive whole number.", field=key)
    return int(value)


def update(actor: User, school: School, data: dict[str, Any], *,
           clear: tuple[str, ...] = ()) -> MessagingSettings:
    """Change the school's messaging settings from a form or JSON.

    ``channels`` is the fallback order (``"zns,sms"`` or a list); secrets given replace the
    stored ones, secrets named in ``clear`` are removed, secrets left out stay as they are.
    Turning messaging on needs every chosen channel configured (own or deployment
    credentials). Audited without any secret value.
    """
    require_manage(actor, school)
    s = settings_for(school.id)
    if s is None:
        s = MessagingSettings(school_id=school.id, enabled=False, channels="sms",
                              confirmations=True)
        db.session.add(s)
    changed: list[str] = []

    def put(field: str, value) -> None:
        if getattr(s, field) != value:
            setattr(s, field, value)
            changed.append(field)

    if "channels" in data:
        channels = parse_channels(data["channels"])
        if not channels:
            raise Invalid("Hãy chọn ít nhất một kênh gửi.", "Choose at least one channel.",
                          field="channels")
        put("channels", ",".join(channels))
    for flag in ("enabled", "confirmations"):
        if flag in data:
            put(flag, str(data[flag]).lower() in ("1", "true", "on", "yes"))
    for field in PLAIN_FIELDS:
        if field not in data:
            continue
        if field.endswith("_daily_quota"):
            put(field, _quota(data, field))
        elif field == "smtp_port":
            port = str(data.get(field) or "").strip()
            if port and (not port.isdigit() or not 1 <= int(port) <= 65535):
                raise Invalid("Cổng SMTP không hợp lệ.", "Invalid SMTP port.", field=field)
            put(field, int(port) if port else None)
        else:
            put(field, _text(data, field, 254 if field == "email_sender" else 200))
    if s.sms_brandname and not _BRANDNAME.fullmatch(s.sms_brandname):
        raise Invalid("Brandname tối đa 11 ký tự chữ không dấu, số, dấu cách, “.” hoặc “-”.",
                      "The brandname is at most 11 letters (no diacritics), digits, spaces, "
                      "'.' or '-'.", field="sms_brandname")
    if s.email_sender and check_email(s.email_sender) is None:
        raise Invalid("Địa chỉ gửi email không hợp lệ.", "The sender address is not valid.",
                      field="email_sender")
    if s.zns_app_id and not str(s.zns_app_id).isdigit():
        raise Invalid("App ID của Zalo chỉ gồm chữ số.", "The Zalo app id is digits only.",
                      field="zns_app_id")
    for field in SECRET_FIELDS:
        value = _text(data, field, 600 if field == "zns_refresh_token" else 200)
        if field == "zns_refresh_token":
            if value and not s.zns_app_id:
                raise Invalid("Refresh token dùng cho ứng dụng Zalo riêng của trường: hãy nhập "
                              "App ID trước.", "A refresh token needs the school's own Zalo "
                              "app id.", field="zns_app_id")
            if value or field in clear:
                _store_refresh_token(school.id, value)
                changed.append(field)
            continue
        if value:
            put(field, value)
        elif field in clear and getattr(s, field):
            put(field, None)
    db.session.flush()
    if s.enabled:
        creds = credentials(s)
        missing = [c for c in parse_channels(s.channels) if not creds.configured(c)]
        if missing:
            names = ", ".join(CHANNEL_LABELS[c] for c in missing)
            raise Invalid(f"Chưa đủ thông tin kết nối cho kênh: {names}.",
                          f"These channels are not configured: {', '.join(missing)}.",
                          field="channels", channels=missing)
    if changed:
        s.updated_at = clock.now_utc()
        db.session.flush()
        audit.record(actor, school.id, "messaging.settings", f"school:{school.code}",
                     changed=sorted(set(changed)))
    return s


def _store_refresh_token(school_id: int, refresh_token: str | None) -> None:
    """A refresh token typed by staff (after granting the app access to the OA) replaces
    whatever pair was stored: the next send refreshes with it."""
    key = f"zns:school:{school_id}"
    row = db.session.scalar(select(ProviderToken).where(ProviderToken.key == key))
    if row is None:
        row = ProviderToken(key=key)
        db.session.add(row)
    row.refresh_token = refresh_token
    row.access_token = None
    row.expires_at = None
    row.updated_at = clock.now_utc()
