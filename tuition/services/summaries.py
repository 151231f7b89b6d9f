"""The running totals behind the authority's overview: what they should be, checked and rebuilt.

The summary tables (tuition.models.summaries) are kept by database triggers, in the transaction
that changes an invoice or stores a transfer. This module computes the same totals afresh from
the base tables, in SQL, so that ``flask tuition verify-summaries`` can prove them exact (and
``--repair`` can rebuild them, e.g. after loading data with triggers disabled).

Definitions (the same as the triggers'):

summary_invoices
    per school, invoice period and due date, over invoices not cancelled: how many, how many
    still owe, and the sums of total, paid and max(total - paid, 0);
summary_billed_students / summary_students
    per school and scope (a term or a school year an invoice period falls in, see
    :func:`term_scope` and :func:`year_scope`): each student's live invoices, and the students
    with at least one;
summary_receipts
    per school, month of ``occurred_at`` and provider, over incoming transactions that left
    the match queue (status other than ``received``): how many count as money received, their
    sum, and the latest ``received_at``. A transaction enters when it is processed, so that a
    webhook's INSERT updates no summary row (services/channels.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    union_all,
)

from ..extensions import db
from ..models import (
    BankTransaction,
    BilledStudent,
    CashEntry,
    Invoice,
    InvoiceSummary,
    ReceiptSummary,
    StudentCount,
)
from .channels import counts_as_received, processed

#: At most this many differences are listed per table (the count is always given).
SHOWN_PROBLEMS = 20



def _part(text_column, start: int, length: int):
    return func.substr(text_column, start, length, type_=String)


def term_scope(period):
    """The term an invoice period counts in: a term its own key; a month of September to
    December its school year's HK1, of January to May its HK2; otherwise NULL."""
    month = cast(_part(period, 6, 2), Integer)
    year = cast(_part(period, 1, 4), Integer)
    return case(
        (func.length(period) == 13, period),
        (and_(func.length(period) == 7, month >= 9),
         _part(period, 1, 4) + "-" + cast(year + 1, String) + "-HK1"),
        (and_(func.length(period) == 7, month <= 5),
         cast(year - 1, String) + "-" + _part(period, 1, 4) + "-HK2"),
        else_=None,
    )


def year_scope(period):
    """The school year an invoice period counts in (NULL for a month of June to August)."""
    month = cast(_part(period, 6, 2), Integer)
    year = cast(_part(period, 1, 4), Integer)
    return case(
        (func.length(period) == 9, period),
        (func.length(period) == 13, _part(period, 1, 9)),
        (and_(func.length(period) == 7, month >= 9),
         _part(period, 1, 4) + "-" + cast(year + 1, String)),
        (and_(func.length(period) == 7, month <= 5),
         cast(year - 1, String) + "-" + _part(period, 1, 4)),
        else_=None,
    )


def month_of(column):
    """``YYYY-MM`` of a timestamp column, on the engine in use."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.substr(column, 1, 7, type_=String)


_LIVE = Invoice.status != "cancelled"
_OWING = case((Invoice.total_vnd > Invoice.paid_vnd, 1), else_=0)
_OUTSTANDING = case((Invoice.total_vnd > Invoice.paid_vnd,
                     Invoice.total_vnd - Invoice.paid_vnd), else_=0)


def expected_invoices():
    return (
        select(Invoice.school_id, Invoice.period, Invoice.due_date,
               func.count().label("invoices"), func.sum(_OWING).label("invoices_owing"),
               func.sum(Invoice.total_vnd).label("expected_vnd"),
               func.sum(Invoice.paid_vnd).label("collected_vnd"),
               func.sum(_OUTSTANDING).label("outstanding_vnd"))
        .where(_LIVE)
        .group_by(Invoice.school_id, Invoice.period, Invoice.due_date)
    )


def expected_billed_students():
    scopes = union_all(
        select(Invoice.school_id, Invoice.student_id, term_scope(Invoice.period).label("scope"))
        .where(_LIVE),
        select(Invoice.school_id, Invoice.student_id, year_scope(Invoice.period).label("scope"))
        .where(_LIVE),
    ).subquery()
    return (
        select(scopes.c.school_id, scopes.c.scope, scopes.c.student_id,
               func.count().label("invoices"))
        .where(scopes.c.scope.is_not(None))
        .group_by(scopes.c.school_id, scopes.c.scope, scopes.c.student_id)
    )


def expected_students():
    billed = expected_billed_students().subquery()
    return (
        select(billed.c.school_id, billed.c.scope, func.count().label("students"))
        .group_by(billed.c.school_id, billed.c.scope)
    )


def expected_receipts():
    """Money received per school, month and provider, by the rule of services/channels.py
    (set-aside money and duplicates do not count; cash does, less its voided receipts); the
    latest delivery is over every incoming transaction that left the match queue."""
    month = month_of(BankTransaction.occurred_at)
    counted = counts_as_received(BankTransaction)
    voided = (
        select(CashEntry.transaction_id, func.sum(CashEntry.amount_vnd).label("voided"))
        .where(CashEntry.kind == "void").group_by(CashEntry.transaction_id).subquery())
    return (
        select(BankTransaction.school_id, month.label("month"), BankTransaction.provider,
               func.sum(case((counted, 1), else_=0)).label("transactions"),
               func.sum(case((counted, BankTransaction.amount_vnd
                              - func.coalesce(voided.c.voided, 0)), else_=0))
               .label("amount_vnd"),
               func.max(BankTransaction.received_at).label("last_received_at"))
        .outerjoin(voided, voided.c.transaction_id == BankTransaction.id)
        .where(BankTransaction.direction == "in", BankTransaction.school_id.is_not(None),
               processed(BankTransaction))
        .group_by(BankTransaction.school_id, month, BankTransaction.provider)
    )


#: Each summary table: its model, key columns, value columns, and its recomputation.
_TABLES = (
    (InvoiceSummary, ("school_id", "period", "due_date"),
     ("invoices", "invoices_owing", "expected_vnd", "collected_vnd", "outstanding_vnd"),
     expected_invoices),
    (BilledStudent, ("school_id", "scope", "student_id"), ("invoices",),
     expected_billed_students),
    (StudentCount, ("school_id", "scope"), ("students",), expected_students),
    (ReceiptSummary, ("school_id", "month", "provider"),
     ("transactions", "amount_vnd", "last_received_at"), expected_receipts),
)


@dataclass
class SummaryCheck:
    table: str
    rows: int = 0
    differences: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.differences == 0


def verify() -> list[SummaryCheck]:
    """Compare every summary table with its recomputation from the base tables.

    A stored row of zeros that the recomputation does not have is fine (an invoice was
    cancelled, say); anything else that differs is a problem, named by its key.
    """
    return [_compare(*table) for table in _TABLES]


def _compare(model, keys, values, recompute) -> SummaryCheck:
    table = model.__table__
    expected = recompute().subquery()
    joined = expected.join(table, and_(*(expected.c[k] == table.c[k] for k in keys)), full=True)

    def zero(column):
        return column if column.name == "last_received_at" else func.coalesce(column, 0)

    differs = or_(*(
        or_(zero(expected.c[v]) != zero(table.c[v]),
            and_(expected.c[v].is_(None), table.c[v].is_not(None)),
            and_(expected.c[v].is_not(None), table.c[v].is_(None)))
        if v == "last_received_at" else zero(expected.c[v]) != zero(table.c[v])
        for v in values))
    check = SummaryCheck(table.name)
    check.rows = db.session.scalar(select(func.count()).select_from(table))
    check.differences = db.session.scalar(select(func.count()).select_from(joined).where(differs))
    if check.differences:
        shown = db.session.execute(
            select(*(func.coalesce(expected.c[k], table.c[k]) for k in keys),
                   *(expected.c[v] for v in values), *(table.c[v] for v in values))
            .select_from(joined).where(differs).limit(SHOWN_PROBLEMS)
        ).all()
        for row in shown:
            key = ", ".join(f"{k}={row[i]}" for i, k in enumerate(keys))
            want = row[len(keys):len(keys) + len(values)]
            have = row[len(keys) + len(values):]
            diff = ", ".join(f"{v} {have[i]} != {want[i]}" for i, v in enumerate(values)
                             if have[i] != want[i])
            check.problems.append(f"{table.name} ({key}): stored {diff} (recomputed)")
    return check


def rebuild() -> None:
    """Replace every summary row by its recomputation (after a bulk load with triggers off,
    or to repair). Takes the tables' write locks on PostgreSQL so nothing changes meanwhile."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(
            "LOCK TABLE invoices, bank_transactions IN SHARE ROW EXCLUSIVE MODE"))
    for model, *_rest in _TABLES:
        db.session.execute(delete(model.__table__))
    for model, keys, values, recompute in _TABLES:
        if model is StudentCount:
            # On SQLite the billed students' triggers have just counted them; start afresh.
            db.session.execute(delete(model.__table__))
        db.session.execute(insert(model.__table__).from_select([*keys, *values], recompute()))
    db.session.flush()

