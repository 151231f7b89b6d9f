"""Bank statement upload: the lines of an exported statement become bank transactions.

For schools without an aggregator (SePay, Casso). A statement line goes through the same
``payments.record`` as a webhook, so a transfer seen both ways is one transaction: the line's
id is stable across uploads, and the bank's reference ties it to the webhook's row.
"""

from __future__ import annotations

import json
from datetime import datetime, time

from sqlalchemy import select

from ..core.banks import bank_by_bin
from ..extensions import db
from ..importing.statements import COLUMN_FIELDS, parse_statement_lines, resolve_mapping
from ..models import BankAccount, BankTransaction, School, StatementUpload, User
from . import audit, payments, reconciliation
from .access import require_manage, require_read
from .errors import Conflict, Invalid, not_found

#: Mapping keys an upload may give besides the column fields.
_OTHER_MAPPING_FIELDS = ("date_format",)


def receiving_account(school: School, account_id: int | None) -> BankAccount:
    """The school's account the statement is for: the one named, else the default one."""
    if account_id is None:
        account = school.default_account
        if account is None:
            raise Conflict("Trường chưa có tài khoản ngân hàng.",
                           "The school has no bank account.")
        return account
    for account in school.bank_accounts:
        if account.id == account_id:
            return account
    # Another school's account looks exactly like a missing one: ids reveal nothing.
    raise not_found("tài khoản ngân hàng của trường", "Bank account of this school")


def _mapping_fields(mapping: dict | None) -> tuple[dict[str, str], str | None]:
    mapping = dict(mapping or {})
    if unknown := sorted(set(mapping) - set(COLUMN_FIELDS) - set(_OTHER_MAPPING_FIELDS)):
        raise Invalid(f"Trường không hợp lệ: {', '.join(unknown)}.",
                      f"Unknown mapping fields: {', '.join(unknown)}.", field=unknown[0])
    for name, value in mapping.items():
        if value is not None and not isinstance(value, str):
            raise Invalid(f"“{name}” phải là tên cột (chuỗi).",
                          f"{name} must be a column header (a string).", field=name)
    date_format = (mapping.pop("date_format", None) or "").strip() or None
    if date_format is not None and "%" not in date_format:
        raise Invalid(
            "“date_format” phải theo dạng strftime, ví dụ %d/%m/%Y %H:%M:%S.",
            "date_format must be a strftime pattern, e.g. %d/%m/%Y %H:%M:%S.",
            field="date_format",
        )
    columns = {name: value for name, value in mapping.items() if value and value.strip()}
    return columns, date_format


def import_statement(actor: User, school: School, data: bytes, filename: str, *,
                     account_id: int | None, mapping: dict | None) -> dict:
    """Store and match every line of an uploaded statement; all lines or none.

    ``mapping`` names columns by header text (fields of ``StatementMapping``, plus
    ``date_format``); columns not named are guessed from the headers. A bad line raises
    :class:`~tuition.importing.statements.StatementInvalid` listing every bad line, before
    anything is stored. Lines already known (an earlier upload, or a webhook with the same bank
    reference) are counted as duplicates and left as they are.

    Returns counts: ``rows`` lines read = ``new`` + ``duplicates``; of the new ones,
    ``outgoing`` (money out, stored and not matched), ``matched`` (put on invoices, fully or
    in part) and ``review`` (waiting for a person); and ``upload_id``, the
    :class:`~tuition.models.StatementUpload` that lists the transactions it added.
    """
    require_manage(actor, school)
    # The uploader names the account: its lines go to it, whatever other account (another
    # bank's, another school's) shares the number.
    account = receiving_account(school, account_id)
    columns, date_format = _mapping_fields(mapping)
    bank = bank_by_bin(account.bin)
    statement_mapping = resolve_mapping(
        data, filename, account_number=account.account_number, columns=columns,
        date_format=date_format, bank_name=bank.short_name if bank else None,
    )
    lines = parse_statement_lines(data, filename, statement_mapping)

    counts = {"rows": len(lines), "new": 0, "duplicates": 0, "outgoing": 0, "matched": 0,
              "review": 0}
    listing = _listing(account, lines)
    added: list[int] = []
    for line in lines:
        raw = json.dumps({"file": filename, "row": line.row, "cells": line.cells},
                         ensure_ascii=False)
        try:
            txn, created = payments.record(line.notification, raw=raw, account=account)
        except payments.ConflictingNotification as exc:
            raise Conflict(
                f"Dòng {line.row} trùng mã với giao dịch đã ghi nhận (số {exc.stored_id}) "
                "nhưng khác số tiền hoặc chiều giao dịch; chưa nhập dòng nào. Hãy kiểm tra "
                "lại tệp sao kê hoặc liên hệ quản trị viên.",
                f"Line {line.row} repeats the id of recorded payment {exc.stored_id} with a "
                "different amount or direction; nothing was imported.",
                row=line.row, conflicts_with=exc.stored_id) from exc
        # Also completes a duplicate whose matching was interrupted (still "received").
        txn = payments.process(txn.id)
        if listing is not None:
            listing.transaction_ids.add(txn.id)
        if not created:
            counts["duplicates"] += 1
            continue
        counts["new"] += 1
        added.append(txn.id)
        if txn.direction == "out":
            counts["outgoing"] += 1
        elif txn.status in ("matched", "partial"):
            counts["matched"] += 1
        else:
            counts["review"] += 1
    if listing is not None:
        # The statement is the bank's own list for its days: webhook-notified transfers of
        # those days that it does not show are flagged.
        checked = reconciliation.check(listing, source="statement", actor=actor)
        counts["confirmed"], counts["unconfirmed"] = checked.confirmed, len(checked.unconfirmed)
    upload = StatementUpload(school_id=school.id, bank_account_id=account.id,
                             filename=filename[:200], uploaded_by_id=actor.id,
                             counts=dict(counts), transaction_ids=added)
    db.session.add(upload)
    db.session.flush()
    audit.record(actor, school.id, "statement.import", f"bank_account:{account.id}",
                 filename=filename, mapping=statement_mapping.columns(), upload=upload.id,
                 **counts)
    return {**counts, "upload_id": upload.id}


def _listing(account: BankAccount, lines) -> reconciliation.Listing | None:
    """The days a statement covers (whole days when it gives dates without times)."""
    moments = [line.notification.occurred_at for line in lines]
    if not moments:
        return None
    start, end = min(moments), max(moments)
    if all(m.time() == time(0) for m in moments):
        end = datetime.combine(end.date(), time.max)
    listing = reconciliation.Listing(account.id, datetime.combine(start.date(), time(0)), end)
    for line in lines:
        n = line.notification
        if n.bank_reference:
            listing.references.add((n.bank_reference, n.amount_vnd, n.direction))
    return listing


def get_upload(actor: User, school: School, upload_id: int) -> tuple[StatementUpload, list]:
    """An upload of the school and the transactions it added (in statement order)."""
    require_read(actor, school)
    upload = db.session.get(StatementUpload, upload_id)
    if upload is None or upload.school_id != school.id:
        raise not_found("lần nhập sao kê", "Statement upload")
    ids = list(upload.transaction_ids or [])
    found = {txn.id: txn for txn in db.session.scalars(
        select(BankTransaction).where(BankTransaction.id.in_(ids)))} if ids else {}
    return upload, [found[i] for i in ids if i in found]


def recent_uploads(actor: User, school: School, limit: int = 10) -> list[StatementUpload]:
    require_read(actor, school)
    return list(db.session.scalars(
        select(StatementUpload).where(StatementUpload.school_id == school.id)
        .order_by(StatementUpload.id.desc()).limit(limit)))
