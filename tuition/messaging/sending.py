"""What a worker does with one message.

1. Claim (one short transaction, the message row locked): skip it if it is no longer queued;
   prepare it if needed; pick the first channel of its order that can reach the guardian,
   is configured and has quota; take a rate-limit slot; mark it ``sending`` with a lease and
   the attempt number; commit.
2. Call the provider, with no transaction open. The request carries the message's request id
   (eSMS ``RequestId``, ZNS ``tracking_id``), fixed when the message was written.
3. Record the answer (a second short transaction): ``sent`` with the provider's id; a
   temporary error puts it back in the queue for later (backoff); a permanent one moves to
   the next channel, or fails it with the reason.

A worker killed during step 2 leaves the message ``sending``; when its lease runs out the
sweeper (:func:`recover_interrupted`) sends it again only through a channel whose provider
deduplicates on the request id (eSMS answers 124 to a repeat, which counts as sent), and
otherwise marks it ``unknown`` for staff to decide: never the same message twice.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import select

from ..core import clock
from ..extensions import db
from ..models import GuardianContact, Message, MessageEvent, ProviderToken, School, User
from ..services import audit, sql
from ..services.access import require_manage
from ..services.errors import Invalid
from . import outbox
from .core import (
    CHANNEL_LABELS,
    parse_channels,
    parse_intervals,
    retry_delay,
    transition,
    usable_channels,
)
from .limits import Limits, next_day_vn
from .providers.base import Channel, Outgoing, PermanentFailure, Sent, TemporaryFailure
from .providers.email import SmtpChannel
from .providers.sms import GATEWAYS
from .providers.zns import TokenPair, ZaloOAuth, ZnsChannel
from .settings import Credentials, credentials, daily_quota, settings_for

log = logging.getLogger(__name__)

#: How long a worker may wait for a rate-limit slot before putting the message back.
MAX_RATE_WAIT = 5.0


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite gives timestamps back naive (they are UTC)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _event(message: Message, event: str, detail: str | None = None, *,
           channel: str | None = None, actor: User | None = None) -> None:
    db.session.add(MessageEvent(message_id=message.id, event=event,
                                channel=channel if channel is not None else message.channel,
                                detail=(detail or "")[:300] or None,
                                actor_id=actor.id if actor else None, created_at=clock.now_utc()))


def _move(message: Message, event: str, detail: str | None = None, **kw) -> None:
    message.status = transition(message.status, event)
    _event(message, event, detail, **kw)


def _limits() -> Limits:
    from .jobs import redis_connection

    return Limits(redis_connection())


# --- Channels ---------------------------------------------------------------------------


class DbTokens:
    """Zalo OA tokens kept in ``provider_tokens``; refreshed under the row's lock so that two
    workers never spend the single-use refresh token twice."""

    def __init__(self, key: str, oauth: ZaloOAuth, initial_refresh_token: str | None) -> None:
        self.key = key
        self.oauth = oauth
        self.initial = initial_refresh_token
        self._cached: tuple[str, datetime] | None = None

    def current(self) -> str:
        now = clock.now_utc()
        if self._cached and self._cached[1] > now + timedelta(minutes=1):
            return self._cached[0]
        row = db.session.execute(select(ProviderToken.access_token, ProviderToken.expires_at)
                                 .where(ProviderToken.key == self.key)).first()
        db.session.commit()
        if row and row.access_token and _aware(row.expires_at) > now + timedelta(minutes=1):
            self._cached = (row.access_token, _aware(row.expires_at))
            return row.access_token
        return self.refresh(None)

    def refresh(self, stale: str | None) -> str:
        now = clock.now_utc()
        db.session.execute(sql.insert(ProviderToken.__table__).values(
            key=self.key, updated_at=now).on_conflict_do_nothing())
        row = db.session.scalar(select(ProviderToken).where(ProviderToken.key == self.key)
                                .with_for_update())
        expires = _aware(row.expires_at)
        if row.access_token and row.access_token != stale and expires and \
                expires > now + timedelta(minutes=1):
            db.session.commit()  # another worker refreshed meanwhile
            self._cached = (row.access_token, expires)
            return row.access_token
        refresh_token = row.refresh_token or self.initial
        if not refresh_token:
            db.session.rollback()
            raise PermanentFailure("Chưa có refresh token của Zalo OA")
        try:
            pair: TokenPair = self.oauth.refresh(refresh_token)
        except Exception:
            db.session.rollback()
            raise
        expires = now + timedelta(seconds=pair.expires_in)
        row.access_token = pair.access_token
        row.refresh_token = pair.refresh_token
        row.expires_at = expires
        row.updated_at = now
        db.session.commit()
        self._cached = (pair.access_token, expires)
        return pair.access_token


def esms_callback_token() -> str:
    """The secret part of the callback URL given to eSMS (its callbacks are not signed)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"esms-callback", hashlib.sha256).hexdigest()[:24]


_CHANNELS: dict[tuple, Channel] = {}


def build_channel(name: str, creds: Credentials, school: School) -> Channel:
    """The channel object for these credentials (kept per process: its HTTP session keeps
    connections to the provider open between messages)."""
    cfg = current_app.config
    timeout = float(cfg["PROVIDER_TIMEOUT_SECONDS"])
    urls = (cfg["ZNS_API_URL"], cfg["ZNS_OAUTH_URL"], cfg["ESMS_API_URL"], cfg["SMS_GATEWAY"],
            cfg["PUBLIC_URL"], bool(cfg["ZNS_DEVELOPMENT"]), bool(cfg["ESMS_SANDBOX"]), timeout)
    key = (name, creds, urls, school.name if name == "email" else None)
    channel = _CHANNELS.get(key)
    if channel is not None:
        return channel
    session = requests.Session()
    if name == "zns":
        oauth = ZaloOAuth(cfg["ZNS_OAUTH_URL"], creds.zns_app_id or "",
                          creds.zns_app_secret or "", session=session, timeout=timeout)
        initial = (str(cfg["ZNS_REFRESH_TOKEN"]) if cfg.get("ZNS_REFRESH_TOKEN")
                   and creds.zns_token_key == "zns:default" else None)
        channel = ZnsChannel(cfg["ZNS_API_URL"], DbTokens(creds.zns_token_key, oauth, initial),
                             session=session, timeout=timeout,
                             development=bool(cfg["ZNS_DEVELOPMENT"]))
    elif name == "sms":
        gateway = GATEWAYS[cfg["SMS_GATEWAY"]]
        callback = (f"{cfg['PUBLIC_URL'].rstrip('/')}/webhooks/esms/{esms_callback_token()}")
        channel = gateway(cfg["ESMS_API_URL"], creds.sms_api_key or "",
                          creds.sms_secret_key or "", creds.sms_brandname or "",
                          callback_url=callback, sandbox=bool(cfg["ESMS_SANDBOX"]),
                          session=session, timeout=timeout)
    else:
        channel = SmtpChannel(creds.smtp_host or "", creds.smtp_port, creds.email_sender or "",
                              user=creds.smtp_user, password=creds.smtp_password,
                              sender_name=school.name, timeout=timeout)
    if len(_CHANNELS) > 200:
        _CHANNELS.clear()
    _CHANNELS[key] = channel
    return channel


def repeat_safe(channel: str) -> bool:
    if channel == "sms":
        return GATEWAYS[current_app.config["SMS_GATEWAY"]].repeat_safe
    return {"zns": ZnsChannel.repeat_safe, "email": SmtpChannel.repeat_safe}.get(channel, False)


# --- One message ----------------------------------------------------------------------------


@dataclass
class Claim:
    message_id: int
    attempt: int
    name: str
    channel: Channel
    outgoing: Outgoing
    school_id: int
    quota: int


@dataclass
class Wait:
    seconds: float


def process(message_id: int) -> str:
    """Send one message (the body of the RQ job); returns what happened, for the log."""
    waited = 0.0
    for _step in range(20):
        claim = _claim(message_id)
        if isinstance(claim, Wait):
            if waited + claim.seconds > MAX_RATE_WAIT:
                return _defer(message_id, claim.seconds)
            time.sleep(claim.seconds)
            waited += claim.seconds
            continue
        if isinstance(claim, str):
            return claim
        try:
            sent = claim.channel.send(claim.outgoing)
        except TemporaryFailure as failure:
            return _temporary(claim, failure)
        except PermanentFailure as failure:
            outcome = _permanent(claim, failure)
            if outcome == "fallback":
                continue
            return outcome
        except Exception as exc:  # noqa: BLE001 — a bug must not pass for "not sent"
            log.exception("sending message %s", message_id)
            db.session.rollback()
            return _temporary(claim, TemporaryFailure(f"Lỗi hệ thống khi gửi: {exc}",
                                                      maybe_sent=True))
        return _sent(claim, sent)
    return "gave up"


def _lock(message_id: int) -> Message | None:
    return db.session.scalar(select(Message).where(Message.id == message_id).with_for_update())


def _claim(message_id: int) -> Claim | Wait | str:
    now = clock.now_utc()
    message = _lock(message_id)
    if message is None:
        db.session.rollback()
        return "missing"
    if message.status != "queued":
        db.session.commit()
        return f"already {message.status}"
    if message.next_attempt_at and _aware(message.next_attempt_at) > now + timedelta(seconds=1):
        message.enqueued_at = None  # too early: the dispatcher enqueues it again when due
        db.session.commit()
        return "not due"
    school = db.session.get(School, message.school_id)
    settings = settings_for(school.id)
    if settings is None or not settings.enabled:
        return _finish_skip(message, "Trường đã tắt gửi tin nhắn.")
    if message.content is None:
        problem = outbox.prepare(message, school)
        if problem:
            return _finish_skip(message, problem)
    contact = db.session.get(GuardianContact, message.contact_id)
    if contact is not None and contact.opted_out_at is not None:
        return _finish_skip(message, "Phụ huynh đã từ chối nhận tin nhắn của trường.")
    content = message.content
    order = parse_channels(message.channels)
    creds = credentials(settings)
    limits = _limits()
    reasons: list[str] = []
    exhausted = False
    position = message.channel_index
    chosen: str | None = None
    quota = 0
    while position < len(order):
        name = order[position]
        label = CHANNEL_LABELS[name]
        if not usable_channels([name], phone_ok=bool(content.get("phone")),
                               email_ok=bool(content.get("email"))):
            reasons.append(f"{label}: không có " + ("email" if name == "email"
                                                    else "số điện thoại di động"))
        elif name == "zns" and not content.get("zns_template_id"):
            reasons.append(f"{label}: chưa khai báo mẫu ZNS")
        elif not creds.configured(name):
            reasons.append(f"{label}: chưa cấu hình")
        else:
            quota = daily_quota(settings, name)
            slot = limits.take(channel=name, account=getattr(creds, f"{name}_account"),
                               school_id=school.id, per_second=int(
                                   current_app.config["MESSAGE_RATE_PER_SECOND"].get(name, 0)),
                               daily_quota=quota, now=now)
            if slot.ok:
                chosen = name
                break
            if not slot.exhausted:
                db.session.commit()  # releases the row while waiting for the next second
                return Wait(slot.wait)
            exhausted = True
            reasons.append(f"{label}: hết hạn mức gửi trong ngày")
        position += 1
    if chosen is None:
        if exhausted:
            message.next_attempt_at = next_day_vn(now)
            message.enqueued_at = None
            message.error = "; ".join(reasons)[:300]
            _move(message, "defer", "Hết hạn mức trong ngày; gửi lại từ 0 giờ ngày mai.")
            db.session.commit()
            return "deferred to tomorrow"
        message.error = "; ".join([e for e in [message.error] if e] + reasons)[:300]
        message.finished_at = now
        _move(message, "fail", message.error)
        db.session.commit()
        return "failed: no channel"
    if position != message.channel_index:
        _event(message, "fallback", "; ".join(reasons), channel=chosen)
        message.channel_index = position
        message.attempts = 0
    message.status = transition(message.status, "claim")
    message.channel = chosen
    message.attempts += 1
    message.lease_until = now + timedelta(seconds=int(current_app.config["MESSAGE_LEASE_SECONDS"]))
    _event(message, "sending", f"lần {message.attempts}")
    outgoing = Outgoing(
        request_id=message.request_id, phone=content.get("phone"), email=content.get("email"),
        sms_text=content.get("sms", ""), email_subject=content.get("email_subject", ""),
        email_body=content.get("email_body", ""),
        zns_template_id=content.get("zns_template_id"), zns_data=content.get("zns_data") or {},
    )
    claim = Claim(message.id, message.attempts, chosen, build_channel(chosen, creds, school),
                  outgoing, school.id, quota)
    db.session.commit()
    return claim


def _finish_skip(message: Message, reason: str) -> str:
    message.error = reason[:300]
    message.finished_at = clock.now_utc()
    _move(message, "skip", reason)
    db.session.commit()
    return "skipped"


def _defer(message_id: int, seconds: float) -> str:
    message = _lock(message_id)
    if message is None or message.status != "queued":
        db.session.commit()
        return "not deferred"
    message.next_attempt_at = clock.now_utc() + timedelta(seconds=max(seconds, 1))
    message.enqueued_at = None
    db.session.commit()
    return "rate limited"


def _current(claim: Claim) -> Message | None:
    """The message, locked, if this claim still owns it."""
    message = _lock(claim.message_id)
    if message is None or message.status != "sending" or message.attempts != claim.attempt \
            or message.channel != claim.name:
        return None
    return message


def _sent(claim: Claim, sent: Sent) -> str:
    now = clock.now_utc()
    message = _lock(claim.message_id)
    if message.status in ("sent", "delivered"):
        db.session.commit()
        return "already sent"
    if message.status not in ("sending", "queued", "unknown"):
        _event(message, "sent", "Nhà cung cấp nhận tin sau khi đã xử lý xong", channel=claim.name)
        db.session.commit()
        return "late answer"
    if sent.provider_message_id:
        message.provider_message_id = sent.provider_message_id[:64]
    message.channel = claim.name
    message.sent_at = now
    message.finished_at = now
    message.lease_until = None
    message.error = None
    detail = sent.detail or (f"mã {sent.provider_message_id}" if sent.provider_message_id
                             else "")
    _move(message, "sent", detail, channel=claim.name)
    db.session.commit()
    if sent.remaining_quota == 0:
        _limits().exhaust(channel=claim.name, school_id=claim.school_id,
                          daily_quota=claim.quota, now=now)
    return "sent"


def _temporary(claim: Claim, failure: TemporaryFailure) -> str:
    now = clock.now_utc()
    message = _current(claim)
    if message is None:
        db.session.commit()
        return "lost ownership"
    reason = f"{CHANNEL_LABELS[claim.name]}: {failure.reason}"[:300]
    message.error_code = failure.code
    if failure.maybe_sent and not claim.channel.repeat_safe:
        message.error = (reason + " — có thể tin đã đến; không tự gửi lại.")[:300]
        message.finished_at = now
        message.lease_until = None
        _move(message, "unknown", message.error)
        db.session.commit()
        return "unknown"
    if not failure.maybe_sent:
        _limits().give_back(channel=claim.name, school_id=claim.school_id, now=now)
    intervals = parse_intervals(current_app.config["MESSAGE_RETRY_INTERVALS"])
    if message.attempts > len(intervals):
        db.session.rollback()
        return _permanent(claim, PermanentFailure(
            f"{failure.reason} (sau {claim.attempt} lần thử)", code=failure.code))
    delay = max(retry_delay(message.attempts, intervals), int(failure.retry_after or 0))
    message.next_attempt_at = now + timedelta(seconds=delay)
    message.enqueued_at = None
    message.lease_until = None
    message.error = reason
    _move(message, "retry", f"{reason}; thử lại sau {delay} giây")
    db.session.commit()
    return "retry"


def _permanent(claim: Claim, failure: PermanentFailure) -> str:
    now = clock.now_utc()
    message = _current(claim)
    if message is None:
        db.session.commit()
        return "lost ownership"
    _limits().give_back(channel=claim.name, school_id=claim.school_id, now=now)
    code = f" ({failure.code})" if failure.code else ""
    reason = f"{CHANNEL_LABELS[claim.name]}: {failure.reason}{code}"
    message.error = "; ".join([e for e in [message.error] if e and e != reason] + [reason])[-300:]
    message.error_code = failure.code
    message.lease_until = None
    if message.channel_index + 1 < len(parse_channels(message.channels)):
        message.channel_index += 1
        message.attempts = 0
        message.next_attempt_at = None
        message.enqueued_at = None
        _move(message, "fallback", reason)
        db.session.commit()
        return "fallback"
    message.finished_at = now
    _move(message, "fail", reason)
    db.session.commit()
    return "failed"


# --- Sweeping and staff actions --------------------------------------------------------------


def recover_interrupted(limit: int = 200) -> int:
    """Messages whose worker stopped mid-send (lease over): send again where the provider
    deduplicates on our request id, else mark ``unknown``. Returns how many."""
    now = clock.now_utc()
    stuck = list(db.session.scalars(
        select(Message).where(Message.status == "sending", Message.lease_until < now)
        .order_by(Message.id).limit(limit).with_for_update(skip_locked=True)))
    for message in stuck:
        message.lease_until = None
        if repeat_safe(message.channel or ""):
            message.enqueued_at = None
            _move(message, "interrupted_resend", "Máy gửi dừng giữa chừng; gửi lại với cùng "
                  "mã yêu cầu (nhà cung cấp bỏ qua nếu đã nhận).")
        else:
            message.finished_at = now
            message.error = ("Máy gửi dừng giữa chừng; không rõ tin đã đến chưa. Kiểm tra "
                             "trước khi gửi lại.")
            _move(message, "interrupted_unknown", message.error)
    db.session.commit()
    return len(stuck)


def requeue(actor: User, school: School, message_ids: list[int]) -> int:
    """Staff send failed, unknown or skipped messages again (from the first channel)."""
    require_manage(actor, school)
    if not message_ids:
        raise Invalid("Hãy chọn tin nhắn cần gửi lại.", "Choose messages to send again.")
    found = list(db.session.scalars(select(Message).where(
        Message.id.in_(message_ids), Message.school_id == school.id,
        Message.status.in_(("failed", "unknown", "skipped"))).with_for_update()))
    for message in found:
        if message.kind == "confirmation" and message.status == "skipped":
            message.content = None  # prepared again: the roster may have been fixed
            message.contact_id = None
        message.channel_index = 0
        message.attempts = 0
        message.next_attempt_at = None
        message.enqueued_at = None
        message.finished_at = None
        _move(message, "requeue", "Gửi lại theo yêu cầu", actor=actor)
    db.session.flush()
    if found:
        audit.record(actor, school.id, "messaging.requeue", f"school:{school.code}",
                     messages=[m.id for m in found])
    return len(found)


# --- Delivery reports ------------------------------------------------------------------------


def delivery_report(*, provider_message_id: str | None = None, request_id: str | None = None,
                    channel: str, delivered: bool, detail: str = "",
                    at: datetime | None = None) -> Message | None:
    """A provider says a message reached the phone (or not). Unknown ids are ignored."""
    query = select(Message).where(Message.channel == channel)
    if request_id:
        query = query.where(Message.request_id == request_id)
    elif provider_message_id:
        query = query.where(Message.provider_message_id == provider_message_id)
    else:
        return None
    message = db.session.scalar(query.with_for_update())
    if message is None:
        return None
    if delivered and message.status in ("sent", "sending", "unknown"):
        message.delivered_at = at or clock.now_utc()
        message.finished_at = message.finished_at or message.delivered_at
        message.error = None
        _move(message, "delivered", detail, channel=channel)
    elif not delivered and message.status == "sent":
        message.error = f"{CHANNEL_LABELS[channel]}: {detail}"[:300]
        _move(message, "undelivered", detail, channel=channel)
    db.session.flush()
    return message

