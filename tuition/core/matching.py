"""What to do with a received transfer: pure decisions, no database.

Two entry points:

* decide() takes the invoices whose payment codes were found in the memo (the caller ran
  memo.find_codes() and looked the codes up among the receiving school's invoices) and the
  amount, and says how to allocate the money. It only ever allocates to invoices named by a
  valid code; everything uncertain goes to review with nothing allocated.
* rank_suggestions() helps a person in the review queue: it scores candidate invoices against
  the memo and the amount and explains each score in Vietnamese. It never assigns anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from tuition.core.memo import normalise, words

__all__ = [
    "Candidate",
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


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open invoice that a transfer in review might be meant for."""

    student_name: str
    class_name: str
    invoice_code: str
    balance_vnd: int
    #: The paying bank account has paid for this student before.
    payer_paid_before: bool = False

    def __post_init__(self) -> None:
        _require_amount(self.balance_vnd, "balance_vnd", allow_zero=True)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A candidate with its score (higher is likelier) and the Vietnamese reasons for it."""

    candidate: Candidate
    score: int
    reasons: tuple[str, ...]


# Weights: a full name is the strongest evidence a hand-typed memo carries; the amount alone is
# weak because many students owe the same fee; class and payer history break ties.
SCORE_FULL_NAME = 50
SCORE_PARTIAL_NAME = 35
SCORE_GIVEN_NAME = 10
SCORE_CLASS = 15
SCORE_AMOUNT = 20
SCORE_PAYER = 25


def rank_suggestions(
    memo: str, amount_vnd: int, candidates: Iterable[Candidate], *, limit: int | None = 10
) -> list[Suggestion]:
    """Candidates that the memo, the amount or the payer point to, best first.

    Signals (diacritics and case ignored, name words in any order):

    * the student's full name in the memo (also when spaces were stripped: "NGUYENVANAN");
    * or the given name (the last word) and at least one other word of the name;
    * or only the given name: weak, since "be An" fits many children, but it is what
      parents write ("hoc phi be An lop 2A");
    * the class ("2A", "lop 2a", "LOP2A");
    * the amount equal to the invoice's open balance;
    * the paying account has paid for this student before.

    Candidates with no signal are left out; ties keep the order given. Nothing is assigned.
    """
    amount_vnd = _require_amount(amount_vnd, "amount_vnd")
    memo_words = set(words(memo))
    glued = normalise(memo)
    ranked: list[Suggestion] = []
    for candidate in candidates:
        score = 0
        reasons: list[str] = []

        name_words = words(candidate.student_name)
        if name_words:
            given = name_words[-1]
            present = [word for word in name_words if word in memo_words]
            joined = "".join(name_words)
            # The glued form only counts when long enough not to occur by chance ("LEAN").
            if len(name_words) >= 2 and (
                len(present) == len(name_words) or (len(joined) >= 8 and joined in glued)
            ):
                score += SCORE_FULL_NAME
                reasons.append(f"Nội dung có đầy đủ họ tên {candidate.student_name}")
            elif given in memo_words and len(present) >= 2:
                score += SCORE_PARTIAL_NAME
                reasons.append(f"Nội dung có tên {' '.join(present).title()}")
            elif given in memo_words:
                score += SCORE_GIVEN_NAME
                reasons.append(f"Nội dung có tên gọi {given.title()}")

        if _class_in_memo(candidate.class_name, memo_words, glued):
            score += SCORE_CLASS
            reasons.append(f"Nội dung có lớp {candidate.class_name}")

        if amount_vnd == candidate.balance_vnd:
            score += SCORE_AMOUNT
            reasons.append(f"Số tiền bằng số còn phải thu {_vnd(candidate.balance_vnd)}")

        if candidate.payer_paid_before:
            score += SCORE_PAYER
            reasons.append("Tài khoản chuyển đã từng nộp tiền cho học sinh này")

        if score:
            ranked.append(Suggestion(candidate, score, tuple(reasons)))

    ranked.sort(key=lambda suggestion: -suggestion.score)
    return ranked if limit is None else ranked[:limit]


def _class_in_memo(class_name: str, memo_words: set[str], glued: str) -> bool:
    """True when the class ("2A", "Lớp 2A") is a word of the memo, or glued to "LOP"."""
    class_words = words(class_name)
    if class_words[:1] == ["LOP"]:
        class_words = class_words[1:]
    if not class_words:
        return False
    label = "".join(class_words)
    # "2A" on its own must be a whole word: inside a glued memo it could be part of an account
    # number or a code. After "LOP" it is unambiguous even when glued.
    return label in memo_words or f"LOP{label}" in glued
