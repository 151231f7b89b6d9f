"""Decisions for a received transfer, and suggestions for the review queue."""

from __future__ import annotations

import pytest

from tuition.core.matching import (
    Candidate,
    MatchDecision,
    OpenInvoice,
    decide,
    rank_suggestions,
)

A = OpenInvoice("HPA6J9ZWX", 1_500_000, "open")
A_PARTIAL = OpenInvoice("HPA6J9ZWX", 500_000, "partial")
B = OpenInvoice("HPK7M2Q9X", 1_200_000, "open")
PAID = OpenInvoice("HPPAID22A", 0, "paid")
CANCELLED = OpenInvoice("HPCANC22B", 1_500_000, "cancelled")
SETTLED_OPEN = OpenInvoice("HPZERO22C", 0, "open")


@pytest.mark.parametrize(
    ("invoices", "amount", "kind", "allocations", "credit", "reason"),
    [
        ([], 1_500_000, "no_code", [], 0, "no_known_code"),
        ([A], 1_500_000, "paid", [(A.code, 1_500_000)], 0, "amount_equals_balance"),
        ([A], 1_000_000, "partial", [(A.code, 1_000_000)], 0, "amount_below_balance"),
        ([A_PARTIAL], 500_000, "paid", [(A.code, 500_000)], 0, "amount_equals_balance"),
        ([A_PARTIAL], 1, "partial", [(A.code, 1)], 0, "amount_below_balance"),
        ([A], 1_600_000, "overpaid", [(A.code, 1_500_000)], 100_000, "amount_above_balance"),
        ([PAID], 1_500_000, "credit_review", [], 1_500_000, "invoice_paid"),
        ([CANCELLED], 1_500_000, "credit_review", [], 1_500_000, "invoice_cancelled"),
        ([SETTLED_OPEN], 700_000, "credit_review", [], 700_000, "invoice_paid"),
        (
            [A, B],
            2_700_000,
            "split",
            [(A.code, 1_500_000), (B.code, 1_200_000)],
            0,
            "amount_equals_sum_of_balances",
        ),
        (
            [B, A],
            2_700_000,
            "split",
            [(B.code, 1_200_000), (A.code, 1_500_000)],
            0,
            "amount_equals_sum_of_balances",
        ),
        ([A, B], 2_699_999, "review", [], 0, "several_codes_amount_mismatch"),
        ([A, B], 2_700_001, "review", [], 0, "several_codes_amount_mismatch"),
        ([A, B], 1_500_000, "review", [], 0, "several_codes_amount_mismatch"),
        ([A, PAID], 1_500_000, "review", [], 0, "several_codes_some_closed"),
        ([CANCELLED, B], 2_700_000, "review", [], 0, "several_codes_some_closed"),
        # The same code twice in one memo is one invoice.
        ([A, A], 1_500_000, "paid", [(A.code, 1_500_000)], 0, "amount_equals_balance"),
    ],
)
def test_decide(
    invoices: list[OpenInvoice],
    amount: int,
    kind: str,
    allocations: list[tuple[str, int]],
    credit: int,
    reason: str,
) -> None:
    decision = decide(invoices, amount)
    assert decision.kind == kind
    assert decision.allocations == allocations
    assert decision.credit_vnd == credit
    assert decision.reason == reason
    assert decision.reason_vi
    if kind in {"review", "no_code"}:
        assert decision.needs_review and not decision.allocations and not decision.credit_vnd
    else:
        # Every dong is accounted for: allocated or credited, never both, never lost.
        assert sum(amount for _, amount in decision.allocations) + decision.credit_vnd == amount
    assert decision.needs_review is (kind in {"review", "credit_review", "no_code"})


def test_decision_reasons_name_the_invoice_and_amount_in_vietnamese() -> None:
    decision = decide([A], 1_000_000)
    assert A.code in decision.reason_vi
    assert "500.000 đ" in decision.reason_vi


@pytest.mark.parametrize("amount", [1_500_000.0, 1.5e6, True, "1500000", None])
def test_decide_refuses_non_int_amounts(amount: object) -> None:
    with pytest.raises(TypeError):
        decide([A], amount)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [0, -1])
def test_decide_refuses_non_positive_amounts(amount: int) -> None:
    with pytest.raises(ValueError):
        decide([A], amount)


@pytest.mark.parametrize(
    ("balance", "status", "error"),
    [
        (1.0, "open", TypeError),
        (False, "open", TypeError),
        (-1, "open", ValueError),
        (100, "overdue", ValueError),
    ],
)
def test_open_invoice_refuses_bad_fields(balance: object, status: str, error: type) -> None:
    with pytest.raises(error):
        OpenInvoice("HPA6J9ZWX", balance, status)  # type: ignore[arg-type]


def test_match_decision_defaults() -> None:
    assert MatchDecision("no_code") == MatchDecision("no_code", [], 0, "", ())
    assert MatchDecision("no_code", reason="no_known_code").reason_vi.startswith("Nội dung")


AN = Candidate("Nguyễn Văn An", "2A", "HPA6J9ZWX", 1_500_000)
AN_OTHER = Candidate("Trần Thị An", "3B", "HPK7M2Q9X", 1_200_000)
BINH = Candidate("Lê Thanh Bình", "2A", "HPB2C3D4E", 1_500_000, payer_paid_before=True)
HUONG = Candidate("Phạm Thị Thu Hương", "5C", "HPH5J6K7L", 900_000)
CANDIDATES = [AN, AN_OTHER, BINH, HUONG]


@pytest.mark.parametrize(
    ("memo", "amount", "expected"),
    [
        # Full name, any order, diacritics stripped; plus class and amount. Bình's account
        # paid before, but the memo names An: who paid counts for half.
        ("hoc phi Nguyen Van An lop 2A", 1_500_000, [(AN, 95), (BINH, 55)]),
        ("AN NGUYEN VAN 2A HOC PHI", 1_500_000, [(AN, 95), (BINH, 55)]),
        ("Học phí Nguyễn Văn An", 700_000, [(AN, 60), (BINH, 20), (AN_OTHER, 12)]),
        # Spaces stripped by the bank: the glued full name still counts.
        ("HOCPHINGUYENVANAN", 700_000, [(AN, 60), (BINH, 20)]),
        # Given name and the word before it in the name.
        ("hoc phi be Van An", 700_000, [(AN, 35), (BINH, 20), (AN_OTHER, 12)]),
        ("Thu Huong lop 5c", 900_000, [(HUONG, 70), (BINH, 5)]),
        # Given name with the class; the An of another class is left out.
        ("hoc phi be An lop 2a", 700_000, [(AN, 40), (BINH, 35)]),
        ("hoc phi be An LOP2A", 1_200_000, [(AN, 40), (BINH, 35), (AN_OTHER, 17)]),
        # A word of the name that is not the given name is not enough.
        ("chuyen tien Nguyen Van", 700_000, [(BINH, 40)]),
        # Amount alone (one invoice owes it) and payer history alone.
        ("chuyen tien", 900_000, [(BINH, 40), (HUONG, 20)]),
        # "2A" glued into digits is not a class; "tien an" is a meal fee, not An.
        ("TK 1900022A", 700_000, [(BINH, 40)]),
        ("tien an thang 11", 700_000, [(BINH, 40)]),
    ],
)
def test_rank_suggestions(memo: str, amount: int, expected: list[tuple[Candidate, int]]) -> None:
    ranked = rank_suggestions(memo, amount, CANDIDATES)
    assert [(s.candidate, s.score) for s in ranked] == expected
    for suggestion in ranked:
        assert suggestion.reasons and len(suggestion.reasons_en) == len(suggestion.reasons)


def test_rank_suggestions_explains_in_vietnamese_and_english() -> None:
    [first, *_] = rank_suggestions("Nguyen Van An lop 2A", 1_500_000, CANDIDATES)
    assert first.candidate is AN
    assert first.reasons == (
        "Nội dung có đầy đủ họ tên Nguyễn Văn An",
        "Nội dung có lớp 2A",
        "Số tiền bằng số còn phải thu 1.500.000 đ",
    )
    assert first.reasons_en == (
        "The memo has the full name Nguyễn Văn An",
        "The memo names class 2A",
        "The amount equals the open balance 1.500.000 đ",
    )


def test_rank_suggestions_limit_and_class_label_with_lop() -> None:
    # Thirty pupils of 2A owing the amount: only the class and the amount point at them,
    # which says nothing about which child; they are not suggested.
    candidates = [Candidate(f"Học Sinh {i}", "Lớp 2A", f"HPX{i:06d}", 100) for i in range(30)]
    assert rank_suggestions("lop 2a", 100, candidates) == []
    # Five or fewer such candidates are worth showing.
    assert [s.score for s in rank_suggestions("lop 2a", 100, candidates[:3])] == [35] * 3
    given = [f"Q{chr(65 + i // 6)}{chr(65 + i % 6)}" for i in range(30)]
    named = [Candidate(f"Nguyễn Văn {g}", "Lớp 2A", f"HPX{i:06d}", 100)
             for i, g in enumerate(given)]
    memo = " ".join(given)
    assert len(rank_suggestions(memo, 100, named)) == 10
    assert len(rank_suggestions(memo, 100, named, limit=None)) == 30


@pytest.mark.parametrize("amount", [100.0, True])
def test_rank_suggestions_refuses_non_int_amounts(amount: object) -> None:
    with pytest.raises(TypeError):
        rank_suggestions("x", amount, CANDIDATES)  # type: ignore[arg-type]
