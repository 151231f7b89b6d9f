"""Campaigns: fee notices of a period, or reminders of overdue invoices, written to the
outbox for the guardians of some classes (the web request only writes and enqueues).

Never the same message to the same guardian twice: every message has an idempotency key
(kind and level, invoice, guardian) that is unique in the table, so a campaign started twice,
or two campaigns over the same classes, write each message once; the second reports the
others as already sent. Guardians who cannot be written to (no number, a landline, an invalid
number or email, opted out) are reported with the reason and never sent to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..core import clock
from ..core.clock import today_vn
from ..core.names import sort_key
from ..core.periods import parse_period
from ..extensions import db
from ..models import Campaign, Classroom, Invoice, Message, School, Student, User
from ..services import audit, sql
from ..services.access import require_manage, require_read
from ..services.errors import Invalid, not_found
from ..services.students import class_name_key
from . import settings as messaging_settings
from .core import CHANNEL_LABELS, parse_channels, usable_channels
from .outbox import contacts_for, content, invoice_values, new_request_id, opt_out_url, reach
from .templates import get_template

SENT_STATUSES = ("sent", "delivered")


def _key(kind: str, level: int | None, invoice_id: int, contact_id: int) -> str:
    return f"{kind}{level or ''}:{invoice_id}:{contact_id}"


def _invoices(school: School, *, kind: str, level: int | None, period: str | None,
              classes: list[str], today: date) -> list[Invoice]:
    query = (
        select(Invoice)
        .join(Student, Student.id == Invoice.student_id)
        .join(Classroom, Classroom.id == Student.classroom_id)
        .where(Invoice.school_id == school.id, Invoice.status.in_(("open", "partial")),
               Student.status == "studying")
        .options(selectinload(Invoice.student))
    )
    if kind == "notice":
        query = query.where(Invoice.period == period)
    else:
        query = query.where(Invoice.due_date < today)
    if classes:
        query = query.where(Classroom.name.in_(classes))
    found = [i for i in db.session.scalars(query) if i.balance_vnd > 0]
    if kind == "reminder" and level and level > 1:
        # Escalation: the second reminder follows a first that went out, the final a second.
        reminded = set(db.session.scalars(select(Message.invoice_id).where(
            Message.school_id == school.id, Message.kind == "reminder",
            Message.level == level - 1, Message.status.in_(SENT_STATUSES))))
        found = [i for i in found if i.id in reminded]
    return sorted(found, key=lambda i: (i.student.classroom.name, sort_key(i.student.full_name),
                                        i.id))


def create(actor: User, school: School, *, kind: str, level: int | None = None,
           period: str | None = None, classes: list[str] | None = None,
           channels: list[str] | str | None = None, today: date | None = None) -> Campaign:
    """Write a campaign's messages to the outbox (flushes; the caller commits, then
    enqueues). Reminders of level 2 and 3 go only to invoices whose previous reminder went
    out."""
    require_manage(actor, school)
    today = today or today_vn()
    settings = messaging_settings.settings_for(school.id)
    if settings is None or not settings.enabled:
        raise Invalid("Trường chưa bật gửi tin nhắn (Tin nhắn → Cài đặt).",
                      "Messaging is not turned on for this school.")
    if kind not in ("notice", "reminder"):
        raise Invalid("Loại chiến dịch phải là thông báo học phí hoặc nhắc nộp.",
                      "kind must be notice or reminder.", field="kind")
    if kind == "reminder":
        if level not in (1, 2, 3):
            raise Invalid("Lần nhắc phải là 1, 2 hoặc 3.", "level must be 1, 2 or 3.",
                          field="level")
        period = None
    else:
        level = None
        try:
            period = parse_period((period or "").strip().upper()).key
        except ValueError as exc:
            raise Invalid("Hãy chọn kỳ thu của thông báo.", "Choose the notices' period.",
                          field="period") from exc
    order = parse_channels(channels) if channels else parse_channels(settings.channels)
    if not order:
        raise Invalid("Hãy chọn ít nhất một kênh gửi.", "Choose at least one channel.",
                      field="channels")
    creds = messaging_settings.credentials(settings)
    missing = [c for c in order if not creds.configured(c)]
    if missing:
        raise Invalid("Chưa đủ thông tin kết nối cho kênh: " +
                      ", ".join(CHANNEL_LABELS[c] for c in missing) + ".",
                      f"Not configured: {', '.join(missing)}.", field="channels")
    class_names = sorted({class_name_key(c) for c in classes or [] if c and c.strip()})
    campaign = Campaign(school_id=school.id, kind=kind, level=level, period=period,
                        classes=class_names, channels=",".join(order), created_by_id=actor.id,
                        created_count=0, duplicates=0, skipped=[])
    db.session.add(campaign)
    db.session.flush()

    invoices = _invoices(school, kind=kind, level=level, period=period, classes=class_names,
                         today=today)
    template = get_template(school.id, "notice" if kind == "notice" else f"reminder_{level}")
    reaches = {invoice.id: reach(invoice.student) for invoice in invoices}
    contacts = contacts_for(school.id, {r.address for r in reaches.values() if r.address})
    skipped: list[dict] = []
    rows: list[dict] = []
    keys: dict[str, int] = {}
    for invoice in invoices:
        student, found = invoice.student, reaches[invoice.id]

        def skip(reason: str, student=student) -> None:
            skipped.append({"student_code": student.code, "student_name": student.full_name,
                            "class": student.classroom.name, "reason": reason})

        if found.address is None:
            skip(found.problem or "")
            continue
        contact = contacts[found.address]
        if contact.opted_out_at is not None:
            skip("Phụ huynh đã từ chối nhận tin nhắn của trường.")
            continue
        if not usable_channels(order, phone_ok=bool(found.phone), email_ok=bool(found.email)):
            skip("Không có số điện thoại hoặc email cho các kênh đã chọn.")
            continue
        key = _key(kind, level, invoice.id, contact.id)
        if key in keys:
            continue
        values = invoice_values(school, student, invoice, opt_out_url(contact), today=today)
        keys[key] = len(rows)
        rows.append({
            "school_id": school.id, "campaign_id": campaign.id, "kind": kind, "level": level,
            "invoice_id": invoice.id, "student_id": student.id, "contact_id": contact.id,
            "idempotency_key": key, "request_id": new_request_id(), "channels": campaign.channels,
            "channel_index": 0, "status": "queued", "attempts": 0, "enqueues": 0,
            "content": content(template, values, found), "created_at": clock.now_utc(),
        })
    already = _existing_keys(list(keys))
    fresh = [row for row in rows if row["idempotency_key"] not in already]
    for start in range(0, len(fresh), 500):
        # A concurrent campaign may write the same key between the check and here: the
        # unique key decides, and the loser's row is simply not written.
        db.session.execute(sql.insert(Message.__table__).values(fresh[start:start + 500])
                           .on_conflict_do_nothing())
    campaign.created_count = db.session.scalar(
        select(func.count()).select_from(Message).where(Message.campaign_id == campaign.id))
    campaign.duplicates = len(rows) - campaign.created_count
    campaign.skipped = skipped
    db.session.flush()
    audit.record(actor, school.id, "messaging.campaign", f"campaign:{campaign.id}",
                 kind=kind, level=level, period=period, classes=class_names,
                 messages=campaign.created_count, skipped=len(skipped),
                 duplicates=campaign.duplicates)
    return campaign


def _existing_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(db.session.scalars(select(Message.idempotency_key).where(
            Message.idempotency_key.in_(keys[start:start + 500]))))
    return found


def get_campaign(actor: User, school: School, campaign_id: int) -> Campaign:
    require_read(actor, school)
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.school_id != school.id:
        raise not_found("chiến dịch", "Campaign")
    return campaign


def list_campaigns(actor: User, school: School, *, limit: int = 50) -> list[Campaign]:
    require_read(actor, school)
    return list(db.session.scalars(select(Campaign).where(Campaign.school_id == school.id)
                                   .order_by(Campaign.id.desc()).limit(limit)))


@dataclass
class Problem:
    message: Message
    student: Student
    address: str | None


def problems(campaign: Campaign, *, limit: int = 500) -> list[Problem]:
    """Messages to act on: failed, unknown (the worker stopped mid-send) or skipped."""
    from ..models import GuardianContact

    rows = db.session.execute(
        select(Message, Student, GuardianContact.address)
        .join(Student, Student.id == Message.student_id)
        .outerjoin(GuardianContact, GuardianContact.id == Message.contact_id)
        .where(Message.campaign_id == campaign.id,
               Message.status.in_(("failed", "unknown", "skipped")))
        .order_by(Message.id).limit(limit)).all()
    return [Problem(m, s, a) for m, s, a in rows]
