"""Everything about one student for the staff app's student page: invoices, payments, credit,
receipts, the parents' link and the history.

The page is a plain structure: ``{"student": {...}, "sections": {name: data, ...}}``, one key
per section, in the order shown. A new section (the messages sent to the guardians, the
student's virtual bank account ...) is one more function here adding one more key, and one
more template (``templates/staff/students/sections/_<name>.html``); nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select

from ..core.periods import parse_period
from ..extensions import db
from ..models import (
    Allocation,
    AuditEvent,
    BankTransaction,
    Invoice,
    Receipt,
    School,
    Student,
    User,
)
from .access import require_read
from .links import parent_url
from .payments import student_credit_vnd

#: How many history entries the page shows (newest first).
HISTORY_LIMIT = 100


def _period_label(key: str) -> str:
    try:
        return parse_period(key).label
    except ValueError:
        return key


def _invoices(ctx: dict) -> list[dict]:
    return [{
        "code": inv.code, "period": inv.period, "period_label": _period_label(inv.period),
        "total_vnd": inv.total_vnd, "paid_vnd": inv.paid_vnd, "balance_vnd": inv.balance_vnd,
        "status": inv.status, "due_date": inv.due_date, "issued_at": inv.issued_at,
        "cancel_reason": inv.cancel_reason,
    } for inv in ctx["invoices"]]


def _payments(ctx: dict) -> list[dict]:
    """Every allocation to the student's invoices or credit, with its transfer; reversals
    and credit used are shown too (nothing about money is hidden)."""
    codes = {inv.id: inv.code for inv in ctx["invoices"]}
    reversed_ids = {a.reverses_id for a, _t in ctx["allocations"] if a.reverses_id}
    rows = []
    for allocation, txn in ctx["allocations"]:
        rows.append({
            "allocation_id": allocation.id, "transaction_id": txn.id, "kind": allocation.kind,
            "invoice_code": codes.get(allocation.invoice_id),
            "amount_vnd": allocation.amount_vnd, "reason": allocation.reason,
            "automatic": allocation.created_by_id is None,
            "reversal": allocation.reverses_id is not None,
            "reversed": allocation.id in reversed_ids,
            "occurred_at": txn.occurred_at, "payer_name": txn.payer_name,
            "payer_account": txn.payer_account, "memo": txn.memo,
            "bank_reference": txn.bank_reference, "transaction_status": txn.status,
            "transaction_amount_vnd": txn.amount_vnd, "created_at": allocation.created_at,
        })
    return rows


def _credit(ctx: dict) -> dict:
    movements = [row for row in _payments(ctx) if row["kind"] == "credit"]
    return {"balance_vnd": student_credit_vnd(ctx["student"].id), "movements": movements}


def _receipts(ctx: dict) -> list[dict]:
    codes = {inv.id: inv.code for inv in ctx["invoices"]}
    return [{
        "id": r.id, "label": r.label, "issued_at": r.issued_at, "amount_vnd": r.amount_vnd,
        "status": r.status, "void_reason": r.void_reason,
        "invoice_code": codes.get(r.invoice_id), "payer_name": r.content.get("payer_name"),
    } for r in ctx["receipts"]]


def _parent_link(ctx: dict) -> dict:
    student = ctx["student"]
    return {"url": parent_url(student) if student.parent_token else None}


def _history(ctx: dict) -> list[dict]:
    """What happened to the student, newest first: invoices issued, money placed (by the
    matcher or by whom), receipts issued and voided, and the audit trail of changes (details
    edited, link reissued, invoice cancelled, allocation reversed ...)."""
    student = ctx["student"]
    entries: list[dict] = []
    for inv in ctx["invoices"]:
        entries.append({"at": inv.issued_at, "action": "invoice.issue", "actor_id": None,
                        "subject": inv.code, "details": {"total_vnd": inv.total_vnd}})
    codes = {inv.id: inv.code for inv in ctx["invoices"]}
    for allocation, txn in ctx["allocations"]:
        action = ("allocation.reversal" if allocation.reverses_id else
                  f"allocation.{allocation.kind}")
        entries.append({"at": allocation.created_at, "action": action,
                        "actor_id": allocation.created_by_id,
                        "subject": codes.get(allocation.invoice_id) or f"#{txn.id}",
                        "details": {"amount_vnd": allocation.amount_vnd,
                                    "reason": allocation.reason}})
    for receipt in ctx["receipts"]:
        entries.append({"at": receipt.issued_at, "action": "receipt.issue",
                        "actor_id": receipt.issued_by_id, "subject": receipt.label,
                        "details": {"amount_vnd": receipt.amount_vnd}})
    # Changes made by people, from the audit trail; money placements are listed above from
    # the allocations themselves.
    subjects = [f"student:{student.code}", *(f"invoice:{inv.code}" for inv in ctx["invoices"]),
                *(f"receipt:{r.label}" for r in ctx["receipts"]),
                *(f"allocation:{a.id}" for a, _t in ctx["allocations"])]
    txn_subjects = {f"payment:{txn.id}" for _a, txn in ctx["allocations"]}
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.school_id == student.school_id,
            or_(AuditEvent.subject.in_(subjects),
                AuditEvent.subject.in_(txn_subjects)
                & (AuditEvent.action == "payment.set_aside")))
        .order_by(AuditEvent.id.desc()).limit(HISTORY_LIMIT)
    )
    for event in events:
        entries.append({"at": event.created_at, "action": event.action,
                        "actor_id": event.actor_id, "subject": event.subject.split(":", 1)[-1],
                        "details": dict(event.details or {})})
    actors = {entry["actor_id"] for entry in entries if entry["actor_id"]}
    names = dict(db.session.execute(
        select(User.id, User.name).where(User.id.in_(actors))).all()) if actors else {}
    emails = dict(db.session.execute(
        select(User.id, User.email).where(User.id.in_(actors))).all()) if actors else {}
    for entry in entries:
        actor = entry.pop("actor_id")
        entry["actor"] = (names.get(actor) or emails.get(actor)) if actor else None
    entries.sort(key=lambda entry: _sortable(entry["at"]), reverse=True)
    return entries[:HISTORY_LIMIT]


def _sortable(moment: datetime) -> datetime:
    """A stored moment as naive UTC (SQLite gives them back naive, PostgreSQL aware)."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


#: The sections, in the order the page shows them: name -> builder.
SECTIONS: dict[str, Callable[[dict], Any]] = {
    "invoices": _invoices,
    "payments": _payments,
    "credit": _credit,
    "receipts": _receipts,
    "parent_link": _parent_link,
    "history": _history,
}


def student_page(actor: User, school: School, student: Student) -> dict:
    """The student page's data for ``actor`` (anyone who may read the school)."""
    require_read(actor, school)
    if student.school_id != school.id:
        raise ValueError("the student is not of this school")
    invoices = list(db.session.scalars(
        select(Invoice).where(Invoice.student_id == student.id)
        .order_by(Invoice.period.desc(), Invoice.id.desc())))
    invoice_ids = [inv.id for inv in invoices]
    touches = Allocation.student_id == student.id
    if invoice_ids:
        touches = touches | Allocation.invoice_id.in_(invoice_ids)
    allocations = [(allocation, txn) for allocation, txn in db.session.execute(
        select(Allocation, BankTransaction)
        .join(BankTransaction, Allocation.transaction_id == BankTransaction.id)
        .where(touches)
        .order_by(BankTransaction.occurred_at.desc(), Allocation.id.desc()))]
    receipts = list(db.session.scalars(
        select(Receipt).where(Receipt.student_id == student.id)
        .order_by(Receipt.issued_at.desc(), Receipt.id.desc())))
    ctx = {"student": student, "invoices": invoices, "allocations": allocations,
           "receipts": receipts}
    room = student.classroom
    return {
        "student": {
            "code": student.code, "full_name": student.full_name,
            "class_name": room.name, "school_year": room.school_year,
            "date_of_birth": student.date_of_birth, "status": student.status,
            "guardian_name": student.guardian_name, "guardian_phone": student.guardian_phone,
            "open_vnd": sum(inv.balance_vnd for inv in invoices),
        },
        "sections": {name: build(ctx) for name, build in SECTIONS.items()},
    }
