"""Receipts: one for every dong allocated to an invoice, numbered without gaps.

Numbers come from a per-school, per-series counter row that is locked (``FOR UPDATE``) for
the rest of the transaction, so concurrent issuing on PostgreSQL never skips or repeats a
number: a rolled-back transaction gives its number back together with its receipt.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Row, bindparam, select, update

from ..core import clock
from ..core.banks import bank_by_bin
from ..core.clock import VIETNAM
from ..core.periods import parse_period
from ..core.words import amount_in_words
from ..extensions import db
from ..messaging.outbox import confirm_payment, confirm_payments
from ..models import (
    Allocation,
    BankAccount,
    BankTransaction,
    Classroom,
    Invoice,
    InvoiceLine,
    MessagingSettings,
    Receipt,
    ReceiptSeries,
    School,
    Student,
    User,
)
from . import audit, sql
from .access import require_manage
from .errors import Conflict, Invalid, not_found
from .inputs import limit_length
from .students import class_name_key

#: The reason credits.settle gives the allocations it makes from a credit balance.
CREDIT_USE_REASON = "Trừ vào số tiền nộp thừa trước đó"


def _take_numbers(school_id: int, letters: str, template: str, when: datetime,
                  count: int = 1) -> tuple[str, str, int]:
    """Take the next ``count`` numbers of the school's series for ``when``: (series, template,
    last number taken).

    The UPDATE locks the counter row for the rest of the transaction, so numbers are gapless
    under concurrency; callers take them as late as possible, right before storing the
    receipts and committing, because it queues every other receipt of the school behind these.
    """
    series = f"{letters}-{when.astimezone(VIETNAM):%y}"
    key = {"for_school": school_id, "for_series": series, "count": count}
    row = db.session.execute(_TAKE_NUMBERS, key).first()
    if row is None:
        # First receipt of the year: create the counter. A concurrent creator may win the
        # unique key; either way the row then exists and the UPDATE locks it.
        db.session.execute(
            sql.insert(_SERIES)
            .values(school_id=school_id, series=series, template_symbol=template,
                    last_number=0)
            .on_conflict_do_nothing()
        )
        row = db.session.execute(_TAKE_NUMBERS, key).one()
    return series, row.template_symbol, row.last_number


_SERIES = ReceiptSeries.__table__
#: Built once (it runs for every receipt). Bind names differ from the columns: an UPDATE
#: reserves the column names for its SET clause.
_TAKE_NUMBERS = (
    update(_SERIES)
    .where(_SERIES.c.school_id == bindparam("for_school"),
           _SERIES.c.series == bindparam("for_series"))
    .values(last_number=_SERIES.c.last_number + bindparam("count"))
    .returning(_SERIES.c.template_symbol, _SERIES.c.last_number)
)


def _facts(invoice: Invoice, bank_account_id: int | None) -> tuple[Row, list[list]]:
    """What a receipt of ``invoice`` says besides the money, in one query: the school (and
    its series letters), the student and class, the receiving bank, and the invoice lines."""
    rows = db.session.execute(_FACTS, {"invoice_id": invoice.id,
                                       "bank_account_id": bank_account_id}).all()
    lines = [[row.description, row.amount_vnd] for row in rows if row.description is not None]
    return rows[0], lines


#: Built once: it runs for every receipt, and building it costs more Python than running it.
_FACTS = (
    select(School.name, School.address, School.tax_code, School.phone,
           School.receipt_series_letters, School.receipt_template,
           Student.full_name, Student.code, Student.guardian_name,
           Classroom.name.label("class_name"),
           select(BankAccount.bin).where(BankAccount.id == bindparam("bank_account_id"))
           .scalar_subquery().label("bank_bin"),
           # The channels of the parents' payment confirmation; empty when the school does
           # not send them (read here so the webhook's hot path has no extra query).
           select(MessagingSettings.channels)
           .where(MessagingSettings.school_id == School.id,
                  MessagingSettings.enabled.is_(True), MessagingSettings.confirmations.is_(True))
           .scalar_subquery().label("message_channels"),
           InvoiceLine.description, InvoiceLine.amount_vnd)
    .select_from(Invoice)
    .join(School, School.id == Invoice.school_id)
    .join(Student, Student.id == Invoice.student_id)
    .join(Classroom, Classroom.id == Student.classroom_id)
    .outerjoin(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
    .where(Invoice.id == bindparam("invoice_id"))
    .order_by(InvoiceLine.position)
)


#: How money that did not come by transfer is named on a receipt.
_METHODS = {"cash": "Tiền mặt", "opening": "Trừ số dư có đầu kỳ chuyển sang"}


def _content(allocation: Allocation, invoice: Invoice, txn: BankTransaction,
             actor: User | None, facts: Row, lines: list[list]) -> dict:
    return _content_of(
        amount_vnd=allocation.amount_vnd, from_credit=allocation.reason == CREDIT_USE_REASON,
        invoice_total_vnd=invoice.total_vnd, invoice_paid_vnd=invoice.paid_vnd,
        period=invoice.period, provider=txn.provider, provider_txn_id=txn.provider_txn_id,
        payer_name=txn.payer_name, bank_name=txn.bank_name, bank_reference=txn.bank_reference,
        actor=actor, facts=facts, bank_bin=facts.bank_bin, lines=lines)


def _content_of(*, amount_vnd: int, from_credit: bool, invoice_total_vnd: int,
                invoice_paid_vnd: int, period: str, provider: str, provider_txn_id: str,
                payer_name: str | None, bank_name: str | None, bank_reference: str | None,
                actor: User | None, facts, bank_bin: str | None, lines: list[list]) -> dict:
    """What a receipt says, frozen when issued. ``invoice_paid_vnd`` is the invoice's paid
    amount with this receipt's money already on it; ``facts`` the school, student and class
    (see ``_FACTS``); ``bank_bin`` the receiving account's bank; ``provider`` the channel the
    money came by (cash and opening balances name no bank)."""
    bank = bank_by_bin(bank_bin) if bank_bin else None
    paid_before = invoice_paid_vnd - amount_vnd
    return {
        "school_name": facts.name,
        "school_address": facts.address,
        "school_tax_code": facts.tax_code or "",
        "school_phone": facts.phone or "",
        # Cash is handed over by someone the desk names; a transfer's is the guardian.
        "payer_name": (payer_name if provider == "cash" else
                       facts.guardian_name or payer_name) or "",
        "student_name": facts.full_name,
        "student_code": facts.code,
        "class_name": facts.class_name,
        "period_label": parse_period(period).label,
        "lines": lines,
        "invoice_total_vnd": invoice_total_vnd,
        "paid_before_vnd": paid_before,
        "balance_after_vnd": max(invoice_total_vnd - paid_before - amount_vnd, 0),
        "method": _METHODS.get(provider, "Chuyển khoản") + (
            " (trừ tiền nộp thừa)" if from_credit and provider != "opening" else ""),
        "bank_name": "" if provider in _METHODS else
        (bank.short_name if bank else bank_name) or "",
        # Cash: the phiếu thu number; a credit brought in has no reference of its own.
        "bank_reference": (provider_txn_id.partition("/")[2] if provider == "cash"
                           else "" if provider == "opening"
                           else bank_reference or provider_txn_id),
        "issued_by": actor.name or actor.email if actor else "Tự động",
    }


def issue(allocation: Allocation, *, actor: User | None = None,
          replaces: Receipt | None = None, content: dict | None = None,
          invoice: Invoice | None = None, txn: BankTransaction | None = None) -> Receipt:
    """Number and store the receipt of one allocation to an invoice (flushes).

    ``invoice`` and ``txn``, when the caller has them at hand, are the allocation's invoice
    (as it stands after the allocation) and transaction; otherwise they are loaded.
    """
    if invoice is None:
        invoice = db.session.get(Invoice, allocation.invoice_id)
    if txn is None:
        txn = allocation.transaction
    facts, lines = _facts(invoice, txn.bank_account_id)
    if content is None:
        content = _content(allocation, invoice, txn, actor, facts, lines)
    now = clock.now_utc()
    token = secrets.token_urlsafe(12)
    series, template_symbol, number = _take_numbers(
        invoice.school_id, facts.receipt_series_letters, facts.receipt_template, now)
    receipt = Receipt(
        school_id=invoice.school_id, series=series, template_symbol=template_symbol,
        number=number, allocation_id=allocation.id, invoice_id=invoice.id,
        student_id=invoice.student_id, amount_vnd=allocation.amount_vnd, content=content,
        verify_token=token, lookup_code=lookup_code(token),
        issued_by_id=actor.id if actor else None,
        issued_at=now, status="valid", replaces_id=replaces.id if replaces else None,
    )
    db.session.add(receipt)
    db.session.flush()
    if replaces is None and facts.message_channels:
        # Transactional outbox: the parents' confirmation commits with the receipt, or not.
        confirm_payment(receipt, facts.message_channels)
    return receipt


@dataclass(frozen=True)
class ToIssue:
    """One receipt to issue in bulk (see :func:`issue_many`): an allocation to an invoice
    just made by automatic matching, with what the receipt needs of its invoice and payment.
    ``invoice_paid_vnd`` already includes this allocation."""

    allocation_id: int
    amount_vnd: int
    invoice_id: int
    school_id: int
    student_id: int
    invoice_total_vnd: int
    invoice_paid_vnd: int
    period: str
    bank_account_id: int | None
    provider: str
    provider_txn_id: str
    payer_name: str | None
    bank_name: str | None
    bank_reference: str | None


def issue_many(items: list[ToIssue]) -> int:
    """Number and store the receipts of many automatic allocations at once: their facts in one
    query, each school's numbers in one counter update (taken in a block, so still gapless and
    in allocation order), one bulk insert. Returns how many receipts were issued."""
    if not items:
        return 0
    facts: dict[int, tuple[Row, list[list]]] = {}
    rows = db.session.execute(_FACTS_MANY, {
        "invoice_ids": sorted({item.invoice_id for item in items})}).all()
    for row in rows:
        fact, lines = facts.setdefault(row.invoice_id, (row, []))
        if row.description is not None:
            lines.append([row.description, row.amount_vnd])
    banks = dict(db.session.execute(_BANKS, {"ids": sorted(
        {item.bank_account_id for item in items if item.bank_account_id})}).all())
    now = clock.now_utc()
    per_school: dict[int, list[ToIssue]] = {}
    for item in items:
        per_school.setdefault(item.school_id, []).append(item)
    receipts = []
    for school_id, school_items in sorted(per_school.items()):
        first = facts[school_items[0].invoice_id][0]
        series, template_symbol, last = _take_numbers(
            school_id, first.receipt_series_letters, first.receipt_template, now,
            len(school_items))
        number = last - len(school_items)
        for item in school_items:
            number += 1
            fact, lines = facts[item.invoice_id]
            token = secrets.token_urlsafe(12)
            receipts.append({
                "school_id": school_id, "series": series, "template_symbol": template_symbol,
                "number": number, "allocation_id": item.allocation_id,
                "invoice_id": item.invoice_id, "student_id": item.student_id,
                "amount_vnd": item.amount_vnd, "verify_token": token,
                "lookup_code": lookup_code(token), "issued_by_id": None, "issued_at": now,
                "status": "valid", "replaces_id": None,
                "content": _content_of(
                    amount_vnd=item.amount_vnd, from_credit=False,
                    invoice_total_vnd=item.invoice_total_vnd,
                    invoice_paid_vnd=item.invoice_paid_vnd, period=item.period,
                    provider=item.provider, provider_txn_id=item.provider_txn_id,
                    payer_name=item.payer_name, bank_name=item.bank_name,
                    bank_reference=item.bank_reference, actor=None, facts=fact,
                    bank_bin=banks.get(item.bank_account_id), lines=lines),
            })
    ids = sql.insert_rows(Receipt.__table__, receipts, ("allocation_id",))
    # Parents' confirmations, in the receipts' transaction (see issue()).
    confirm_payments([
        {"id": receipt_id, "school_id": row["school_id"], "invoice_id": row["invoice_id"],
         "student_id": row["student_id"], "channels": facts[row["invoice_id"]][0].message_channels}
        for receipt_id, row in zip(ids, receipts, strict=True)
        if facts[row["invoice_id"]][0].message_channels])
    return len(receipts)


_BANKS = select(BankAccount.id, BankAccount.bin).where(sql.in_list(BankAccount.id, "ids"))
_FACTS_MANY = (
    select(Invoice.id.label("invoice_id"), School.name, School.address, School.tax_code,
           School.phone, School.receipt_series_letters, School.receipt_template,
           Student.full_name, Student.code, Student.guardian_name,
           Classroom.name.label("class_name"),
           select(MessagingSettings.channels)
           .where(MessagingSettings.school_id == School.id,
                  MessagingSettings.enabled.is_(True), MessagingSettings.confirmations.is_(True))
           .scalar_subquery().label("message_channels"),
           InvoiceLine.description, InvoiceLine.amount_vnd)
    .select_from(Invoice)
    .join(School, School.id == Invoice.school_id)
    .join(Student, Student.id == Invoice.student_id)
    .join(Classroom, Classroom.id == Student.classroom_id)
    .outerjoin(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
    .where(sql.in_list(Invoice.id, "invoice_ids"))
    .order_by(Invoice.id, InvoiceLine.position)
)


def issue_new(txn: BankTransaction,
              made: list[tuple[Allocation, Invoice]]) -> list[Receipt]:
    """Receipts for allocations to invoices just made (flushed) by automatic matching, given
    with their invoices. New allocations have no receipt yet, so nothing is looked up."""
    return [issue(allocation, invoice=invoice, txn=txn)
            for allocation, invoice in made if allocation.amount_vnd > 0]


def issue_pending(txn: BankTransaction, *, actor: User | None = None) -> list[Receipt]:
    """Receipts for the transaction's allocations to invoices that have none yet."""
    db.session.flush()
    have = set(db.session.scalars(
        select(Receipt.allocation_id).where(
            Receipt.allocation_id.in_([a.id for a in txn.allocations]))
    )) if txn.allocations else set()
    reversed_ids = {a.reverses_id for a in txn.allocations if a.reverses_id}
    return [
        issue(a, actor=actor, txn=txn)
        for a in txn.allocations
        if a.kind == "invoice" and a.amount_vnd > 0 and a.id not in have
        and a.id not in reversed_ids
    ]


def void(actor: User | None, receipt: Receipt, *, reason: str) -> Receipt:
    """Mark a receipt void (its number stays used); it shows as void everywhere."""
    if actor is not None:
        require_manage(actor, db.session.get(School, receipt.school_id))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Cần ghi lý do hủy biên lai.", "A reason is required.", field="reason")
    # A reversal's receipt gets "Đảo bút toán: " before the reason, so this is the column's
    # length rather than MAX_REASON.
    limit_length(reason, 300, "Lý do", "The reason", field="reason")
    if receipt.status == "void":
        raise Conflict("Biên lai đã bị hủy.", "The receipt is already void.")
    receipt.status = "void"
    receipt.void_reason = reason
    receipt.voided_at = clock.now_utc()
    receipt.voided_by_id = actor.id if actor else None
    db.session.flush()
    audit.record(actor, receipt.school_id, "receipt.void", f"receipt:{receipt.label}",
                 reason=reason)
    return receipt


def void_for_allocation(allocation: Allocation, *, actor: User | None, reason: str) -> None:
    """When an allocation is reversed, its receipt is voided with the same reason."""
    receipt = db.session.scalar(select(Receipt).where(
        Receipt.allocation_id == allocation.id, Receipt.status == "valid"))
    if receipt is not None:
        void(actor, receipt, reason=f"Đảo bút toán: {reason}")


def void_and_replace(actor: User, receipt: Receipt, *, reason: str,
                     payer_name: str | None = None) -> Receipt:
    """Void a receipt issued in error and issue its replacement under a new number."""
    school = db.session.get(School, receipt.school_id)
    require_manage(actor, school)
    allocation = db.session.get(Allocation, receipt.allocation_id)
    if any(a.reverses_id == allocation.id for a in allocation.transaction.allocations):
        raise Conflict("Khoản tiền này đã bị đảo; không thể lập biên lai thay thế.",
                       "The allocation was reversed; no replacement can be issued.")
    if payer_name is not None and not isinstance(payer_name, str):
        raise Invalid("Tên người nộp phải là chữ.", "payer_name must be text.",
                      field="payer_name")
    limit_length((payer_name or "").strip(), 120, "Tên người nộp", "The payer's name",
                 field="payer_name")
    void(actor, receipt, reason=reason)
    content = dict(receipt.content)
    if payer_name and payer_name.strip():
        content["payer_name"] = payer_name.strip()
    content["issued_by"] = actor.name or actor.email
    replacement = issue(allocation, actor=actor, replaces=receipt, content=content)
    audit.record(actor, school.id, "receipt.replace", f"receipt:{receipt.label}",
                 replacement=replacement.label)
    return replacement


def get_receipt(actor: User, receipt_id: int) -> Receipt:
    receipt = db.session.get(Receipt, receipt_id)
    if receipt is None or not actor.can_read(receipt.school_id):
        raise not_found("biên lai", "Receipt")
    return receipt


def lookup_code(verify_token: str) -> str:
    """The short code printed on a receipt ("Mã tra cứu"): the first eight characters of its
    verification token, in capitals, so that it can be typed in by hand."""
    return verify_token[:8].upper()


def find_by_lookup_code(code: str) -> Receipt | None:
    """The receipt whose printed lookup code is ``code`` (spaces and case do not matter)."""
    code = "".join((code or "").split()).upper()
    if len(code) != 8:
        return None
    found = db.session.scalars(
        select(Receipt).where(Receipt.lookup_code == code).order_by(Receipt.id).limit(2)).all()
    # Two receipts sharing a code (one chance in trillions) would need the full link.
    return found[0] if len(found) == 1 else None


def verify_url(receipt: Receipt) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/bien-lai/{receipt.verify_token}"


def document(receipt: Receipt):
    """The printable receipt (a :class:`tuition.pdf.receipts.ReceiptDoc`)."""
    from ..pdf.receipts import ReceiptDoc, ReceiptLine

    c = receipt.content
    replaces = receipt.replaces.label if receipt.replaces_id else None
    return ReceiptDoc(
        school_name=c["school_name"], school_address=c["school_address"],
        school_tax_code=c["school_tax_code"], school_phone=c["school_phone"],
        template_symbol=receipt.template_symbol, series=receipt.series, number=receipt.number,
        issued_at=clock.to_vn(receipt.issued_at), payer_name=c["payer_name"],
        student_name=c["student_name"], student_code=c["student_code"],
        class_name=c["class_name"], period_label=c["period_label"],
        lines=tuple(ReceiptLine(d, a) for d, a in c["lines"]),
        invoice_total_vnd=c["invoice_total_vnd"], paid_before_vnd=c["paid_before_vnd"],
        amount_vnd=receipt.amount_vnd, balance_after_vnd=c["balance_after_vnd"],
        amount_in_words=amount_in_words(receipt.amount_vnd), method=c["method"],
        bank_name=c["bank_name"], bank_reference=c["bank_reference"],
        issued_by=c["issued_by"], verify_url=verify_url(receipt),
        short_code=lookup_code(receipt.verify_token), void=receipt.status == "void",
        void_reason=receipt.void_reason, replaces=replaces,
    )


def receipt_json(receipt: Receipt) -> dict:
    c = receipt.content
    return {
        "id": receipt.id,
        "series": receipt.series,
        "number": receipt.number,
        "label": receipt.label,
        "template_symbol": receipt.template_symbol,
        "issued_at": clock.isoformat(receipt.issued_at),
        "amount_vnd": receipt.amount_vnd,
        "student_code": c["student_code"],
        "student_name": c["student_name"],
        "class": c["class_name"],
        "payer_name": c["payer_name"],
        "status": receipt.status,
        "void_reason": receipt.void_reason,
        "replaces_id": receipt.replaces_id,
        "verify_url": verify_url(receipt),
    }


def list_receipts(school: School, *, class_name: str | None = None,
                  date_from=None, date_to=None, status: str | None = None) -> list[Receipt]:
    query = select(Receipt).where(Receipt.school_id == school.id)
    if status:
        query = query.where(Receipt.status == status)
    # Days are Vietnam's: a receipt issued at 00:40 on 07/12 (17:40 UTC on 06/12) is of 07/12.
    # The bounds are UTC moments, which SQLite compares as the UTC text it stores.
    if date_from:
        query = query.where(Receipt.issued_at >= clock.start_of_day_utc(date_from))
    if date_to:
        query = query.where(Receipt.issued_at < clock.start_of_day_utc(date_to + timedelta(1)))
    found = list(db.session.scalars(query.order_by(Receipt.series, Receipt.number)))
    if class_name:
        found = [r for r in found if r.content["class_name"] == class_name_key(class_name)]
    return found
