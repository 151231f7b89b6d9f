"""Invoice states and the one function that moves between them."""

from __future__ import annotations


class InvoiceStateError(Exception):
    """A transition that the rules forbid."""


class InvoiceCancelled(InvoiceStateError):
    pass


class InvoiceHasPayments(InvoiceStateError):
    pass


def status_for(total_vnd: int, paid_vnd: int) -> str:
    """The status of a live invoice from what it asks and what was allocated to it."""
    if paid_vnd <= 0:
        return "open" if total_vnd > 0 else "paid"
    return "paid" if paid_vnd >= total_vnd else "partial"


def transition(current: str, event: str, *, total_vnd: int, paid_vnd: int) -> str:
    """Apply ``event`` (``"cancel"`` or ``"payment_changed"``) to an invoice in ``current``."""
    if current == "cancelled":
        raise InvoiceCancelled("the invoice is cancelled")
    if event == "cancel":
        if paid_vnd:
            raise InvoiceHasPayments("reverse the payments allocated to this invoice first")
        return "cancelled"
    if event == "payment_changed":
        return status_for(total_vnd, paid_vnd)
    raise ValueError(f"unknown event {event!r}")
