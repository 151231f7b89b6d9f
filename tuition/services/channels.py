"""How money reached a school: transfer with a payment code, virtual account, bank statement or
cash; and how much came each way, per school and period, in one query.

The classification is made once, here, for every view (the dashboard, the authority's view,
exports): :func:`channel_expression` in SQL and :func:`channel_of` in Python say the same thing
and a test holds them together.

Money received is what arrived as fee money: incoming transactions, except

* credits brought in from before the service (provider ``opening``): not money received here;
* transactions set aside (status ``ignored``): not fee money, e.g. the school's own cash
  coming back from the bank (a deposit), or a cash entry whose receipt was voided in full;
* a transfer recorded twice through two channels (status ``duplicate``): counted once;
* the voided part of a cash entry whose receipt was voided (it left the cash box again).

The cashless share of a school is money by transfer (with a code, or seen through the bank
statement) and by virtual account over all money received: everything but cash.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, literal, select

from ..core.periods import PeriodError, parse_period
from ..extensions import db
from ..models import BankTransaction, CashEntry, School, User
from .access import require_read
from .errors import Invalid

#: Channels in the order they are shown, with their Vietnamese names.
CHANNELS = {
    "transfer": "Chuyển khoản có mã thanh toán",
    "virtual_account": "Tài khoản định danh",
    "statement": "Sao kê ngân hàng",
    "cash": "Tiền mặt",
}
#: The channels that make a school cashless: every way but cash (a transfer seen through the
#: bank statement is a transfer too).
CASHLESS = ("transfer", "virtual_account", "statement")


def channel_expression(table=BankTransaction):
    """The channel of a transaction as SQL (NULL for what is not money received here)."""
    return case(
        (table.provider == "opening", literal(None)),
        (table.provider == "cash", literal("cash")),
        (table.provider == "statement", literal("statement")),
        (table.virtual_account.is_not(None), literal("virtual_account")),
        else_=literal("transfer"),
    )


def counts_as_received(table=BankTransaction):
    """Whether a transaction's money counts as received, as SQL: processed (not waiting in
    the match queue, status ``received``, which lasts a fraction of a second), not set aside,
    not a duplicate; cash always (a voided receipt's money is taken off by its cash-book
    entry, so a cash entry voided in full counts for nothing). The authority's totals (the
    summary triggers, services/summaries.py) follow the same rule."""
    return processed(table) & ~(table.status.in_(("ignored", "duplicate"))
                                & (table.provider != "cash"))


def processed(table=BankTransaction):
    """Whether a transaction has left the match queue, as SQL. What waits there is in no
    total yet: counting it at once would make every webhook of a school update the same
    summary row, one at a time (see the migration e3a1f7c90b25)."""
    return table.status != "received"


def channel_of(provider: str, virtual_account: str | None) -> str | None:
    """The channel of one transaction, exactly as :func:`channel_expression` decides it."""
    if provider == "opening":
        return None
    if provider in ("cash", "statement"):
        return provider
    return "virtual_account" if virtual_account is not None else "transfer"


def received_by_channel(school_ids: Iterable[int], *, start: date | None = None,
                        end: date | None = None) -> dict[int, dict[str, int]]:
    """Money received per school and channel, between ``start`` and ``end`` (both included,
    by the day the money moved, Vietnam time; None: unbounded). One query for any number of
    schools. Every school asked for is in the answer, with every channel (0 when none)."""
    ids = sorted(set(school_ids))
    found = {school_id: dict.fromkeys(CHANNELS, 0) for school_id in ids}
    if not ids:
        return found
    voided = (
        select(CashEntry.transaction_id, func.sum(CashEntry.amount_vnd).label("voided"))
        .where(CashEntry.kind == "void")
        .group_by(CashEntry.transaction_id)
        .subquery()
    )
    channel = channel_expression().label("channel")
    query = (
        select(BankTransaction.school_id, channel,
               func.sum(BankTransaction.amount_vnd - func.coalesce(voided.c.voided, 0)))
        .outerjoin(voided, voided.c.transaction_id == BankTransaction.id)
        .where(BankTransaction.school_id.in_(ids), BankTransaction.direction == "in",
               BankTransaction.provider != "opening", counts_as_received(BankTransaction))
        .group_by(BankTransaction.school_id, channel)
    )
    if start is not None:
        query = query.where(
            BankTransaction.occurred_at >= datetime.combine(start, datetime.min.time()))
    if end is not None:
        query = query.where(BankTransaction.occurred_at < datetime.combine(
            end + timedelta(days=1), datetime.min.time()))
    for school_id, name, amount in db.session.execute(query):
        if name is not None:
            found[school_id][name] = int(amount or 0)  # PostgreSQL sums BIGINT as NUMERIC
    return found


def summary(by_channel: dict[str, int]) -> dict:
    """Totals of one school's channels: received, cashless, and the cashless share."""
    received = sum(by_channel.values())
    cashless = sum(by_channel[name] for name in CASHLESS)
    return {
        "by_channel": [{"channel": name, "label": label, "received_vnd": by_channel[name]}
                       for name, label in CHANNELS.items()],
        "received_vnd": received,
        "cashless_vnd": cashless,
        "cashless_share": round(cashless / received, 4) if received else None,
    }


def period_bounds(period: str | None) -> tuple[date | None, date | None]:
    """The first and last day of a period key (None, None for every period)."""
    if period is None or not period.strip():
        return None, None
    try:
        parsed = parse_period(period)
    except PeriodError as exc:
        raise Invalid(exc.message_vi, exc.message_en, field="period") from exc
    return parsed.start, parsed.end


def school_channels(actor: User, school: School, *, period: str | None = None,
                    start: date | None = None, end: date | None = None) -> dict:
    """Money received by one school per channel, for a period or between two days."""
    require_read(actor, school)
    return school_channel_figures(school, period=period, start=start, end=end)


def school_channel_figures(school: School, *, period: str | None = None,
                           start: date | None = None, end: date | None = None) -> dict:
    """:func:`school_channels` for a caller that has checked who is asking."""
    if period is not None:
        start, end = period_bounds(period)
    figures = received_by_channel([school.id], start=start, end=end)[school.id]
    return {"school": school.code, "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None, **summary(figures)}
