"""How money reached a school: the one place that says which transfers are cash.

Money received is the incoming bank transactions. Each has a provider: ``sepay`` and
``casso`` (webhooks of the bank feed), ``statement`` (an uploaded bank statement), ``cash``
(money counted at the school's cash desk) and ``opening`` (balances carried over when a school
starts, which is not money received in the period). The cashless share of a school is its
cashless money over all money received; every figure about channels asks here.
"""

from __future__ import annotations

from typing import Literal

Channel = Literal["cash", "cashless"]

#: Money handed over in cash.
CASH_PROVIDERS = frozenset({"cash"})
#: Not money received at all: balances carried over from before the school used the service.
NOT_RECEIVED_PROVIDERS = frozenset({"opening"})
#: Providers whose transactions arrive by webhook: their latest delivery is "the bank feed".
WEBHOOK_PROVIDERS = frozenset({"sepay", "casso"})


def channel(provider: str) -> Channel | None:
    """``"cash"``, ``"cashless"`` (transfer, virtual account, statement line), or None for
    what is not money received."""
    if provider in NOT_RECEIVED_PROVIDERS:
        return None
    return "cash" if provider in CASH_PROVIDERS else "cashless"


def share(part: int, whole: int) -> float | None:
    """``part / whole`` to four places; None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None
