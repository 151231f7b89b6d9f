"""What to do with a received transfer: pure decisions, no database.

Two entry points:

* decide() takes the invoices whose payment codes were found in the memo (the caller ran
  memo.find_codes() and looked the codes up among the receiving school's invoices) and the
  amount, and says how to allocate the money. It only ever allocates to invoices named by a
  valid code; everything uncertain goes to review with nothing allocated.
* rank_suggestions() helps a person in the review queue: it scores candidate invoices against
  the memo, the amount and the payer and explains each score. It never assigns anything. It
  lives in :mod:`tuition.core.suggestions` and is re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from tuition.core.suggestions import Candidate, CandidatePool, Suggestion, rank_suggestions

__all__ = [
    "Candidate",
    "CandidatePool",
    "MatchDecision",
    "OpenInvoice",
    "Suggestion",
    "decide",
    "rank_suggestions",
]

InvoiceStatus = Literal["open", "partial", "paid", "cancelled"]
DecisionKind = Literal["paid", "partial", "overpaid", "split", "review", "credit_review", "no_code"]

_STATUSES = frozenset({"open", "partial", "paid", "cancelled"})
_PAYABLE = frozenset({"open", "partial"})


def _require_amount(value: object, name: str, *, allow_zero: bool = False) -> int:
    """``value`` as a number of dong: an int, never a float or bool (TypeError), not negative."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int number of dong, not {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'}")
    return value


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """An invoice named by a code in the memo, as it stands before this transfer.

    ``status`` may be anything an invoice can be: a parent can pay a code twice or pay a
    cancelled invoice, and decide() must see that to route the money to review.
    """

    code: str
    #: What is still owed, in dong; 0 for a paid or cancelled invoice.
    balance_vnd: int
    status: InvoiceStatus

    def __post_init__(self) -> None:
        _require_amount(self.balance_vnd, "balance_vnd", allow_zero=True)
        if self.status not in _STATUSES:
            raise ValueError(f"unknown invoice status {self.status!r}")

    @property
    def payable(self) -> bool:
        return self.status in _PAYABLE and self.balance_vnd > 0


@dataclass(frozen=True, slots=True)
class MatchDecision:
    """How to book one transfer.

    ``allocations`` pairs invoice codes with the dong to allocate to each; their sum plus
    ``credit_vnd`` is the transfer amount, except for ``review`` and ``no_code`` where nothing
    is allocated or credited and the whole amount waits for a person.
    """

    kind: DecisionKind
    allocations: list[tuple[str, int]] = field(default_factory=list)
    #: Surplus for the student's credit balance (overpaid, or a closed invoice paid again).
    credit_vnd: int = 0
    #: Short machine-readable reason, stable for logs and tests.
    reason: str = ""
    #: What the Vietnamese reason names (codes, amounts); it is worded only when asked for,
    #: because most decisions are never shown to a person and matching must be fast.
    context: tuple = ()

    @property
    def reason_vi(self) -> str:
        """The reason for school staff, in Vietnamese."""
        wording = _REASONS_VI.get(self.reason)
        return wording(*self.context) if wording else ""

    @property
    def needs_review(self) -> bool:
        return self.kind in {"review", "credit_review", "no_code"}


def decide(invoices: Sequence[OpenInvoice], amount_vnd: int) -> MatchDecision:
    """Decide how to book ``amount_vnd`` received with a memo naming ``invoices``.

    ``invoices`` are the school's invoices whose codes were found in the memo, in memo order
    (repeats are ignored); codes that matched no issued invoice are simply left out by the
    caller. The rules:

    * no invoice -> ``no_code``: nothing allocated, the transfer goes to review;
    * one invoice already paid or cancelled -> ``credit_review``: nothing allocated to it,
      the whole amount is credited to the student and flagged for review;
    * one payable invoice: amount equal to the balance -> ``paid``; less -> ``partial``
      (all of it allocated); more -> ``overpaid`` (balance allocated, surplus credited);
    * several invoices (siblings on one transfer): ``split`` when every one is payable and the
      amount is exactly the sum of their balances; otherwise ``review`` with nothing allocated,
      because any split would be a guess about which child the parent meant to pay for.
    """
    amount_vnd = _require_amount(amount_vnd, "amount_vnd")
    if len(invoices) < 2:
        named = list(invoices)
    else:
        unique: dict[str, OpenInvoice] = {}
        for invoice in invoices:
            unique.setdefault(invoice.code, invoice)
        named = list(unique.values())

    if not named:
        return MatchDecision("no_code", reason="no_known_code")

    if len(named) == 1:
        invoice = named[0]
        if not invoice.payable:
            reason = "invoice_cancelled" if invoice.status == "cancelled" else "invoice_paid"
            return MatchDecision("credit_review", credit_vnd=amount_vnd, reason=reason,
                                 context=(invoice.code,))
        if amount_vnd == invoice.balance_vnd:
            return MatchDecision("paid", [(invoice.code, amount_vnd)],
                                 reason="amount_equals_balance", context=(invoice.code,))
        if amount_vnd < invoice.balance_vnd:
            return MatchDecision("partial", [(invoice.code, amount_vnd)],
                                 reason="amount_below_balance",
                                 context=(invoice.code, invoice.balance_vnd - amount_vnd))
        surplus = amount_vnd - invoice.balance_vnd
        return MatchDecision("overpaid", [(invoice.code, invoice.balance_vnd)],
                             credit_vnd=surplus, reason="amount_above_balance",
                             context=(invoice.code, surplus))

    codes = tuple(invoice.code for invoice in named)
    closed = tuple(invoice.code for invoice in named if not invoice.payable)
    if closed:
        return MatchDecision("review", reason="several_codes_some_closed",
                             context=(codes, closed))
    total = sum(invoice.balance_vnd for invoice in named)
    if amount_vnd != total:
        return MatchDecision("review", reason="several_codes_amount_mismatch",
                             context=(codes, amount_vnd, total))
    return MatchDecision("split", [(invoice.code, invoice.balance_vnd) for invoice in named],
                         reason="amount_equals_sum_of_balances", context=(codes,))


_REASONS_VI = {
    "no_known_code": lambda: (
        "Nội dung chuyển khoản không có mã thanh toán hợp lệ; cần đối soát thủ công."),
    "invoice_cancelled": lambda code: (
        f"Hóa đơn {code} đã bị hủy; toàn bộ số tiền được ghi có cho học sinh và chờ kiểm tra."),
    "invoice_paid": lambda code: (
        f"Hóa đơn {code} đã được thanh toán đủ; toàn bộ số tiền được ghi có cho học sinh và "
        "chờ kiểm tra."),
    "amount_equals_balance": lambda code: f"Thanh toán đủ hóa đơn {code}.",
    "amount_below_balance": lambda code, missing: (
        f"Thanh toán một phần hóa đơn {code}; còn thiếu {_vnd(missing)}."),
    "amount_above_balance": lambda code, surplus: (
        f"Thanh toán đủ hóa đơn {code}; số tiền thừa {_vnd(surplus)} được ghi có cho học sinh."),
    "several_codes_some_closed": lambda codes, closed: (
        f"Nội dung có nhiều mã ({', '.join(codes)}) nhưng hóa đơn {', '.join(closed)} đã "
        "thanh toán hoặc đã hủy; cần phân bổ thủ công."),
    "several_codes_amount_mismatch": lambda codes, amount, total: (
        f"Nội dung có nhiều mã ({', '.join(codes)}); số tiền {_vnd(amount)} khác tổng còn "
        f"phải thu {_vnd(total)}; cần phân bổ thủ công."),
    "amount_equals_sum_of_balances": lambda codes: (
        f"Thanh toán đủ các hóa đơn {', '.join(codes)}."),
}


def _vnd(amount: int) -> str:
    """``1250000`` -> ``"1.250.000 đ"``, the way Vietnamese staff read amounts."""
    return f"{amount:_} đ".replace("_", ".")
