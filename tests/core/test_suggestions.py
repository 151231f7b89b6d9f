"""The review queue's suggestions, signal by signal (pure; the corpus test measures them all)."""

from __future__ import annotations

import random

import pytest

from tuition.core.memo_reading import read_memo
from tuition.core.paycode import new_code
from tuition.core.suggestions import Candidate, CandidatePool, rank_suggestions

RNG = random.Random(7)
CODES = [new_code("HP", RNG) for _ in range(6)]

KHOI = Candidate("Nguyễn Minh Khôi", "2A", CODES[0], 1_450_000, student_code="HS001",
                 guardian_name="Nguyễn Văn Bình", guardian_phone="0912345678")
DUONG = Candidate("Nguyễn Thị Ánh Dương", "1A", CODES[1], 1_450_000, student_code="HS002",
                  guardian_name="Nguyễn Văn Bình", guardian_phone="0912345678")
THANG = Candidate("Trần Đức Thắng", "3B", CODES[2], 1_500_000, student_code="HS003",
                  guardian_name="Trần Thị Hoa", guardian_phone="0987654321")
AN = Candidate("Lê Hoàng An", "2A", CODES[3], 1_450_000, student_code="HS004",
               guardian_name="Lê Văn Tâm", guardian_phone="0901234567")
TIEN = Candidate("Phạm Văn Tiến", "4C", CODES[4], 900_000, student_code="HS005",
                 guardian_name="Đỗ Thu Hà", guardian_phone="0355123456")
BINH = Candidate("Vũ Thanh Bình", "5A", CODES[5], 950_000, student_code="HS006",
                 guardian_name="Vũ Quốc Hùng", guardian_phone="0388777666")
ALL = [KHOI, DUONG, THANG, AN, TIEN, BINH]


def first(memo: str, amount: int = 700_000, **kwargs):
    ranked = rank_suggestions(memo, amount, ALL, **kwargs)
    assert ranked, f"nothing suggested for {memo!r}"
    return ranked[0]


def typo(code: str, kind: str) -> str:
    if kind == "substitution":
        return code[:4] + ("Z" if code[4] != "Z" else "Y") + code[5:]
    if kind == "transposition":
        i = next(i for i in range(3, len(code) - 1) if code[i] != code[i + 1])
        return code[:i] + code[i + 1] + code[i] + code[i + 2:]
    if kind == "deletion":
        return code[:5] + code[6:]
    return code[:5] + "K" + code[5:]


@pytest.mark.parametrize(("kind", "words_vi", "words_en"), [
    ("substitution", "đổi 1 ký tự", "one character changed"),
    ("transposition", "đảo 2 ký tự liền nhau", "two adjacent characters swapped"),
    ("deletion", "thiếu 1 ký tự", "one character missing"),
    ("insertion", "thừa 1 ký tự", "one character too many"),
])
def test_a_mistyped_code_points_to_the_nearest_issued_code(kind, words_vi, words_en) -> None:
    typed = typo(THANG.invoice_code, kind)
    for memo in (f"{typed} hoc phi", f"MBVCB.1234567890.hp {typed[2:]}.CT tu 1 A toi 2 B",
                 f"{typed[:2]} {typed[2:6]}-{typed[6:]}".lower()):
        top = first(memo)
        assert top.candidate is THANG
        assert top.reasons[0] == (
            f"Mã gần giống {THANG.invoice_code} ({words_vi}: “{typed}”)")
        assert top.reasons_en[0] == f"Code close to {THANG.invoice_code} ({words_en}: “{typed}”)"
        assert top.confident


def test_a_code_two_edits_away_is_no_evidence() -> None:
    code = THANG.invoice_code
    other = ["Z" if code[i] != "Z" else "Y" for i in (3, 4)]
    twice = code[:3] + "".join(other) + code[5:]
    assert all(s.candidate is not THANG for s in rank_suggestions(twice, 700_000, ALL))


def test_an_exact_open_code_ranks_first() -> None:
    top = first(f"{AN.invoice_code} {KHOI.invoice_code}", 100_000)
    assert top.candidate in (AN, KHOI) and top.reasons[0].startswith("Nội dung có mã thanh toán")


@pytest.mark.parametrize("phone", ["0912345678", "0912 345 678", "0912.345.678",
                                   "+84912345678", "84 912 345 678", "912345678"])
def test_the_guardians_phone_points_to_the_family(phone: str) -> None:
    ranked = rank_suggestions(f"{phone} hoc phi T11", 700_000, ALL)
    assert {s.candidate for s in ranked[:2]} == {KHOI, DUONG}
    assert ranked[0].reasons[0] == "Nội dung có số điện thoại phụ huynh 0912 345 678"
    # Siblings: the phone alone does not say which child.
    assert not ranked[0].confident
    # With the child's given name it does.
    top = first(f"{phone} hoc phi con Khoi")
    assert top.candidate is KHOI and top.confident


def test_the_guardians_name_and_the_payer() -> None:
    ranked = rank_suggestions("Nguyen Van Binh chuyen tien hoc phi cho con", 1_450_000, ALL)
    assert {s.candidate for s in ranked[:2]} == {KHOI, DUONG}
    # "Binh" in the guardian's name is not the pupil Vũ Thanh Bình.
    assert BINH not in {s.candidate for s in ranked}
    top = first("Nguyen Van Binh chuyen tien hoc phi cho con Duong", 1_450_000)
    assert top.candidate is DUONG and top.confident
    # The payer as the bank names it (Casso, or Vietcombank's "CT tu ... <NAME> toi ...").
    top = first("hoc phi T11", 1_500_000, payer_name="TRAN THI HOA")
    assert top.candidate is THANG
    assert "Người chuyển Tran Thi Hoa trùng tên phụ huynh" in top.reasons
    top = first("MBVCB.1234567890.hoc phi T11.CT tu 0011001234567 TRAN THI HOA toi "
                "0071000123456 TRUONG TIEU HOC LE QUY DON", 1_500_000)
    assert top.candidate is THANG


def test_who_paid_before() -> None:
    top = first("chuyen tien", 950_000, paid_before={"HS006"})
    assert top.candidate is BINH
    assert top.reasons[0] == "Tài khoản chuyển đã từng nộp tiền cho học sinh này"
    top = first("CK", 950_000, payer_name="VU QUOC HUNG", payer_name_paid_before={"HS006"})
    assert top.candidate is BINH
    assert "Người chuyển VU QUOC HUNG đã từng nộp tiền cho học sinh này" in top.reasons


@pytest.mark.parametrize("memo", [
    "hoc phi thang 11", "HOC PHI THANG 11 LOP 3B", "tien an thang muoi mot", "HP THANG10",
])
def test_thang_the_month_is_not_thang_the_child(memo: str) -> None:
    assert all("Thang" not in " ".join(s.reasons) for s in rank_suggestions(memo, 700_000, ALL))


def test_thang_the_child_is_found() -> None:
    top = first("hoc phi thang 11 be Thang lop 3B")
    assert top.candidate is THANG
    assert "Nội dung có tên gọi Thang" in top.reasons


@pytest.mark.parametrize(("memo", "expected"), [
    ("tien an ban tru be An lop 2A", AN),       # "tien an" is a meal fee; "be An" is a child
    ("chuyen tien Pham Van Tien", TIEN),         # the transfer wording and the child's name
    ("con Tien lop 4C nop tien hoc", TIEN),
    ("HOCPHIBEKHOILOP2A", KHOI),                 # glued by the bank
    ("nop tien an conkhoi(2a)", KHOI),
])
def test_memo_wording_is_not_taken_for_names(memo: str, expected: Candidate) -> None:
    assert first(memo).candidate is expected


def test_reading_marks_wording() -> None:
    reading = read_memo("Hoc phi T11 tien an be An lop 2A")
    assert reading.tokens == ("HOC", "PHI", "T11", "TIEN", "AN", "BE", "AN", "LOP", "2A")
    assert reading.name_words == frozenset({"AN"})
    assert [ok for ok in reading.eligible] == [False] * 6 + [True, False, False]
    assert read_memo("CT nhanh 247 den: hoc phi (CT1111) NGUYEN VAN BINH").payer_in_memo == (
        "NGUYEN VAN BINH")


@pytest.mark.parametrize("memo", [
    "chuyen tien", "hoc phi T11", "HOC PHI THANG 11 LOP 2A", "tien an ban tru", "CK", "",
    "ung ho quy lop 2A", "MBVCB.1234567890.chuyen tien.CT tu 0011001234567 KIEU THI NO toi 1 X",
])
def test_a_memo_naming_nobody_is_never_confident(memo: str) -> None:
    ranked = rank_suggestions(memo, 1_450_000, ALL)
    assert not any(s.confident for s in ranked)


def test_the_other_class_counts_against() -> None:
    other = Candidate("Đỗ Thị An", "3B", "HPAAAA2AA", 1)
    ranked = rank_suggestions("hoc phi be An lop 3B", 1_450_000, [AN, other])
    assert [s.candidate for s in ranked] == [other, AN]
    assert "Nội dung ghi lớp 3B, không phải lớp của học sinh" in ranked[1].reasons
    # Without the amount, nothing is left for the An of 2A.
    assert [s.candidate for s in rank_suggestions("be An lop 3B", 9, [AN, other])] == [other]


def test_a_pool_ranks_many_memos_like_a_list() -> None:
    pool = CandidatePool(ALL)
    for memo in ("hoc phi be Khoi 2A", "0912345678", "Nguyen Van Binh", "chuyen tien"):
        assert rank_suggestions(memo, 1_450_000, pool) == rank_suggestions(memo, 1_450_000, ALL)


def test_a_students_invoices_together() -> None:
    older = Candidate("Nguyễn Minh Khôi", "2A", "HPOLD22AA", 300_000, student_code="HS001")
    ranked = rank_suggestions("hoc phi", 1_750_000, [older, KHOI, AN])
    assert [s.candidate for s in ranked] == [older, KHOI]
    assert ranked[0].reasons == (
        "Số tiền bằng tổng còn phải thu của học sinh (2 hóa đơn, 1.750.000 đ)",)
