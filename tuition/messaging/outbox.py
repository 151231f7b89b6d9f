"""Writing the outbox: guardians' contacts, the values a message is rendered with, payment
confirmations (in the receipt's own transaction), preparing a message, opting out, and what
a student's page lists.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import func, select

from ..core import clock
from ..core.clock import format_date, format_datetime, today_vn
from ..core.money import format_vnd
from ..core.periods import parse_period
from ..extensions import db
from ..models import (
    GuardianContact,
    Invoice,
    Message,
    MessageEvent,
    Receipt,
    School,
    Student,
    User,
)
from ..services import sql
from ..services.access import require_read
from ..services.links import ensure_token, parent_url
from .core import check_email, check_phone, kind_of, parse_channels, usable_channels
from .templates import Template, get_template


def new_request_id() -> str:
    """Our id of a message at the provider: 16 hex digits (eSMS RequestId, ZNS tracking_id)."""
    return secrets.token_hex(8)


def new_contact_token() -> str:
    return secrets.token_urlsafe(9)


def opt_out_url(contact: GuardianContact) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/tu-choi/{contact.token}"


# --- Contacts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """How a student's guardian can be reached."""

    #: The guardian's identity for messages: the mobile number, else the email address.
    address: str | None
    phone: str | None
    email: str | None
    #: Why nobody can be written to (Vietnamese), when address is None.
    problem: str | None


def reach(student: Student) -> Reach:
    phone = check_phone(student.guardian_phone)
    email = check_email(student.guardian_email)
    if phone.ok:
        return Reach(phone.national, phone.national, email, None)
    if email:
        return Reach(email, None, email, None)
    problem = phone.problem[0] if student.guardian_phone else (
        "Chưa có số điện thoại hay email của phụ huynh.")
    if student.guardian_email and not email:
        problem += f" Email “{student.guardian_email}” không hợp lệ."
    return Reach(None, None, None, problem)


def contacts_for(school_id: int, addresses: set[str]) -> dict[str, GuardianContact]:
    """The contact rows of these addresses, created when missing (race-safe)."""
    if not addresses:
        return {}
    found = _load_contacts(school_id, addresses)
    missing = addresses - found.keys()
    if missing:
        db.session.execute(
            sql.insert(GuardianContact.__table__).values([
                {"school_id": school_id, "address": address, "token": new_contact_token(),
                 "created_at": clock.now_utc()} for address in sorted(missing)
            ]).on_conflict_do_nothing())
        found = _load_contacts(school_id, addresses)
    return found


def _load_contacts(school_id: int, addresses: set[str]) -> dict[str, GuardianContact]:
    found: dict[str, GuardianContact] = {}
    ordered = sorted(addresses)
    for start in range(0, len(ordered), 500):
        for contact in db.session.scalars(select(GuardianContact).where(
                GuardianContact.school_id == school_id,
                GuardianContact.address.in_(ordered[start:start + 500]))):
            found[contact.address] = contact
    return found


# --- Values ---------------------------------------------------------------------------------


def _common(school: School, student: Student, contact_url: str) -> dict[str, str]:
    ensure_token(student)
    return {
        "ten_truong": school.name,
        "ten_hoc_sinh": student.full_name,
        "ma_hoc_sinh": student.code,
        "lop": student.classroom.name,
        "phu_huynh": student.guardian_name or "",
        "duong_dan": parent_url(student),
        "tu_choi": contact_url,
    }


def invoice_values(school: School, student: Student, invoice: Invoice, contact_url: str,
                   *, today: date) -> dict[str, str]:
    """Values of a notice or a reminder of ``invoice`` (its open balance)."""
    return {
        **_common(school, student, contact_url),
        "ma_hoa_don": invoice.code,
        "ky_thu": parse_period(invoice.period).label,
        "so_tien": format_vnd(invoice.balance_vnd),
        "han_nop": format_date(invoice.due_date),
        "so_ngay": str(max((today - invoice.due_date).days, 0)),
    }


def receipt_values(school: School, student: Student, receipt: Receipt,
                   contact_url: str) -> dict[str, str]:
    from ..services.receipts import verify_url

    return {
        **_common(school, student, contact_url),
        "ma_hoa_don": db.session.scalar(select(Invoice.code).where(
            Invoice.id == receipt.invoice_id)) or "",
        "so_tien": format_vnd(receipt.amount_vnd),
        "con_lai": format_vnd(receipt.content.get("balance_after_vnd", 0)),
        "so_bien_lai": receipt.label,
        "kiem_tra": verify_url(receipt),
        "ngay_nhan": format_datetime(receipt.issued_at),
    }


def content(template: Template, values: dict[str, str], found: Reach) -> dict:
    """What a message holds once prepared: where it goes and its texts for every channel."""
    return {
        "phone": found.phone, "email": found.email,
        "sms": template.sms(values),
        "email_subject": template.email_subject(values),
        "email_body": template.email_body(values),
        "zns_template_id": template.zns_template_id,
        "zns_data": template.zns_data(values),
    }


def sample_values(school: School, key: str, *, today: date | None = None
                  ) -> tuple[dict[str, str], str]:
    """Values for a template preview: the school's latest invoice (with its student), or
    made-up ones; and who the sample is."""
    today = today or today_vn()
    url = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/tu-choi/AbCdEfGhIjKl"
    kind = kind_of(key)
    if kind == "confirmation":
        receipt = db.session.scalar(select(Receipt).where(Receipt.school_id == school.id)
                                    .order_by(Receipt.id.desc()).limit(1))
        if receipt is not None:
            student = db.session.get(Student, receipt.student_id)
            return receipt_values(school, student, receipt, url), student.full_name
    invoice = db.session.scalar(select(Invoice).where(
        Invoice.school_id == school.id, Invoice.status != "cancelled")
        .order_by(Invoice.id.desc()).limit(1))
    if invoice is not None:
        student = invoice.student
        values = invoice_values(school, student, invoice, url, today=today)
        values.update({"so_bien_lai": "AA-26 / 0000123",
                       "kiem_tra": f"{current_app.config['PUBLIC_URL'].rstrip('/')}"
                                   "/bien-lai/AbCdEfGhIjKlMnOp",
                       "con_lai": "0", "ngay_nhan": format_datetime(clock.now_utc())})
        return values, student.full_name
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return {
        "ten_truong": school.name, "ten_hoc_sinh": "Nguyễn Thị Ánh Dương",
        "ma_hoc_sinh": "HS001", "lop": "1A", "phu_huynh": "Nguyễn Văn Bình",
        "duong_dan": f"{base}/p/AbCdEfGhIjKl", "tu_choi": url, "ma_hoa_don": "HPK7M2Q9XA",
        "ky_thu": "Tháng 09/2026", "so_tien": "1.250.000", "han_nop": "15/09/2026",
        "so_ngay": "7", "con_lai": "0", "so_bien_lai": "AA-26 / 0000123",
        "kiem_tra": f"{base}/bien-lai/AbCdEfGhIjKlMnOp",
        "ngay_nhan": format_datetime(clock.now_utc()),
    }, ""


# --- Payment confirmations ------------------------------------------------------------------

def confirm_payment(receipt: Receipt, channels: str) -> None:
    """Write the payment confirmation of a new receipt into the outbox, in the receipt's own
    transaction: the payment and its message commit together or not at all.

    Cheap on purpose (it runs inside every webhook that books a payment): one INSERT, only
    for schools that send confirmations (``channels``, their order, comes with the receipt's
    facts: :func:`tuition.services.receipts.issue` reads it in the query it already makes).
    The message is prepared (guardian, texts) by the worker; no Redis call here: the
    dispatcher enqueues it after the commit.
    """
    db.session.execute(sql.insert(Message.__table__).values(
        school_id=receipt.school_id, kind="confirmation", invoice_id=receipt.invoice_id,
        receipt_id=receipt.id, student_id=receipt.student_id,
        idempotency_key=f"confirmation:{receipt.id}", request_id=new_request_id(),
        channels=channels, channel_index=0, status="queued", attempts=0, enqueues=0,
        created_at=clock.now_utc(),
    ).on_conflict_do_nothing())


def confirm_payments(receipts: list[dict]) -> None:
    """:func:`confirm_payment` for receipts issued in bulk (batch matching): one INSERT for
    all of them. ``receipts``: dicts with ``id``, ``school_id``, ``invoice_id``,
    ``student_id`` and ``channels`` (only receipts whose school sends confirmations)."""
    if not receipts:
        return
    now = clock.now_utc()
    db.session.execute(sql.insert(Message.__table__).on_conflict_do_nothing(), [
        {"school_id": r["school_id"], "kind": "confirmation", "invoice_id": r["invoice_id"],
         "receipt_id": r["id"], "student_id": r["student_id"],
         "idempotency_key": f"confirmation:{r['id']}", "request_id": new_request_id(),
         "channels": r["channels"], "channel_index": 0, "status": "queued", "attempts": 0,
         "enqueues": 0, "created_at": now}
        for r in receipts])


def prepare(message: Message, school: School) -> str | None:
    """Fill in a message written without its guardian and texts (a confirmation): returns
    None when ready, or why it cannot be sent (Vietnamese)."""
    student = db.session.get(Student, message.student_id)
    found = reach(student)
    if found.address is None:
        return found.problem
    contact = contacts_for(school.id, {found.address})[found.address]
    message.contact_id = contact.id
    template = get_template(school.id, "confirmation")
    receipt = db.session.get(Receipt, message.receipt_id)
    values = receipt_values(school, student, receipt, opt_out_url(contact))
    message.content = content(template, values, found)
    if not usable_channels(parse_channels(message.channels), phone_ok=bool(found.phone),
                           email_ok=bool(found.email)):
        return "Không có kênh nào gửi được tới phụ huynh này (thiếu số điện thoại hoặc email)."
    return None


# --- Opting out -----------------------------------------------------------------------------


def contact_for_token(token: str) -> GuardianContact | None:
    if not token or len(token) > 16:
        return None
    return db.session.scalar(select(GuardianContact).where(GuardianContact.token == token))


def set_opt_out(contact: GuardianContact, opted_out: bool) -> None:
    """The guardian's own choice, from the link in a message (no account)."""
    contact.opted_out_at = clock.now_utc() if opted_out else None
    db.session.flush()
    from ..services import audit

    audit.record(None, contact.school_id, "messaging.opt_out" if opted_out
                 else "messaging.opt_in", f"contact:{contact.id}")


# --- Reading --------------------------------------------------------------------------------


@dataclass
class MessageView:
    message: Message
    invoice_code: str | None
    address: str | None
    events: list[MessageEvent]

    @property
    def text(self) -> str:
        c = self.message.content or {}
        return c.get("email_subject", "") if self.message.channel == "email" else c.get("sms", "")


def student_messages(actor: User, school: School, student: Student, *,
                     limit: int = 50) -> list[MessageView]:
    """The messages sent (or being sent) about a student, newest first, with their events:
    for the student's page."""
    require_read(actor, school)
    if student.school_id != school.id:
        return []
    rows = db.session.execute(
        select(Message, Invoice.code, GuardianContact.address)
        .join(Invoice, Invoice.id == Message.invoice_id)
        .outerjoin(GuardianContact, GuardianContact.id == Message.contact_id)
        .where(Message.student_id == student.id)
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
    ).all()
    events: dict[int, list[MessageEvent]] = {}
    if rows:
        for event in db.session.scalars(
                select(MessageEvent).where(MessageEvent.message_id.in_([m.id for m, *_ in rows]))
                .order_by(MessageEvent.id)):
            events.setdefault(event.message_id, []).append(event)
    return [MessageView(m, code, address, events.get(m.id, [])) for m, code, address in rows]


def status_counts(school_id: int, *, campaign_id: int | None = None,
                  kind: str | None = None, since: datetime | None = None) -> dict[str, int]:
    query = select(Message.status, func.count()).where(Message.school_id == school_id)
    if campaign_id is not None:
        query = query.where(Message.campaign_id == campaign_id)
    if kind is not None:
        query = query.where(Message.kind == kind)
    if since is not None:
        query = query.where(Message.created_at >= since)
    return dict(db.session.execute(query.group_by(Message.status)).all())
