"""Reading a hand-typed transfer memo for the review queue: which words could be names, which
phone numbers it carries, which classes it names. Pure; used by :mod:`tuition.core.suggestions`.

Parents write memos like "HOC PHI T11 BE AN LOP 2A", "Nguyen Van Binh chuyen tien hoc phi cho
con", "0912 345 678 tien an thang 10"; banks add their own wrappers (FORMATS.md). The words that
fill most memos — hoc phi, tien an, thang 11, chuyen tien, con, be, chau, lop ... — are also, in
other places, Vietnamese names: An, Tiến, Thắng, Nam, Châu, Tài, Tú, Đông, Phi, Anh. So a word is
set aside as memo wording by its context (the phrase it is part of), not by itself: "tien an"
is a meal fee but "be An" is a child, "thang 11" is a month but "be Thang" is Thắng.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tuition.core.memo import normalise, words

__all__ = ["MemoReading", "read_memo"]

#: Words that are never part of a name in a memo: fee and transfer wording, bank tokens.
_ALWAYS_NOISE = frozenset("""
    HP HPHI HOCPHI HS PH PHHS CK CKHOAN CHUYENKHOAN ND NOIDUNG LOP HOC NOP CHUYEN KHOAN GUI
    CHO CUA VA NHA NHE A AH DUM GIUM MBVCB IBFT NAPAS CTLNHIDI CRE TKTHE TK CT STK SO QR
    VIETQR SEVN TPBANK CHATPAY BY BANKAPINOTIFY VCB BIDV ACB MB TCB VIB TPB TECHCOMBANK
    VIETCOMBANK VIETINBANK AGRIBANK SACOMBANK MBBANK TOI DEN NHANH TIENHOC TIENAN BANTRU
    PHIBANTRU THANGNAY HK HKI HKII NAMHOC
""".split())

#: Phrases of memo wording: every word of an occurrence is set aside, whatever else it could be.
_NOISE_PHRASES: tuple[tuple[str, ...], ...] = tuple(tuple(p.split()) for p in """
    HOC PHI|TIEN HOC|TIEN AN|AN BAN TRU|AN TRUA|AN SANG|AN CHIEU|BAN TRU|TIEN BAN TRU
    CHUYEN TIEN|CHUYEN KHOAN|NOP TIEN|DONG TIEN|GUI TIEN|DONG HOC|DONG PHUC|TIEN DONG PHUC
    SO TIEN|TIEN XE|XE DUA DON|DUA DON|TIEN SACH|SACH VO|TIEN NUOC|NUOC UONG|TIEN QUY|QUY LOP
    QUY PHU HUYNH|PHU HUYNH|HOC SINH|NAM HOC|HOC KY|KY I|KY II|HOC THEM|NANG KHIEU|TIENG ANH
    BAO HIEM|Y TE|THANH TOAN|PHI AN|PHI HOC|TIEN PHI|CO SO VAT CHAT|VAT CHAT|CHAM SOC
    TIEN THANG|TIEN CHO|TIEN CUA|THANG NAY|THANG TRUOC|THANG SAU|THANG TOI|NAM NAY
    CT TU|TAI KHOAN|CT NHANH|NHANH DEN|TIEN TRONG|KY NAY|NHO CO|CO NHAN|NHAN GIUP|XIN CAM ON
    CAM ON|KINH GUI|NHA TRUONG|GUI NHA TRUONG|EM CHUYEN|EM GUI|XIN GUI
""".replace("\n", "|").split("|") if p.strip())

#: Words that stand for a month after "thang" (tháng): "thang 11", "thang muoi mot".
_MONTH_WORDS = frozenset(
    "MOT HAI BA TU BON NAM SAU BAY TAM CHIN MUOI GIENG CHAP NAY TRUOC SAU TOI".split())
#: Kinship words written before a child's (or an adult's) name: "be An", "con Khoi", "chau
#: Minh", "anh Binh". Before another word they are wording; at the end ("Minh Chau"), or before
#: a class or a number ("Ngoc Anh 2A"), they are names.
_MARKERS = frozenset("CON BE CHAU EM ANH CHI CO CHU BAC ONG BA ME BO CAC".split())

#: Bank wrappers around the payer's words (FORMATS.md), removed before reading names. The
#: Vietcombank one names the payer and the receiving account's holder (the school): the payer's
#: name is kept aside (it is often the guardian's), the school's is dropped.
_VCB_TAIL = re.compile(r"[.\s]*CT\s+tu\s+(\d+)\s+(.*?)\s+toi\s+\d+.*$", re.IGNORECASE)
#: VietinBank: "CT nhanh 247 den: <memo> (CT1111) <NAME>".
_VTB_TAIL = re.compile(r"\s*\(CT\d+\)\s*([^\d()]*)$", re.IGNORECASE)
_WRAPPERS = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"MBVCB\.\d+\.",
    r"TKThe\s*:\s*\d+\s+tai\s+\w+\.?",
    r"-?CTLNHIDI\d+-\d+/\d+-CRE-\d+",
    r"CT\s+nhanh\s+247\s+den\s*:",
    r"\(CT\d+\)",
    r"\bIBFT\b",
    r"\bFT\d{8,}\b",
    r"\(by TPBank ChatPay\)",
    r"^BIDV;\d+;",
    r"^MB\(\d+\)\(",
    r"-\d{6}-\d\d:\d\d:\d\d\s+\d{6}\s*$",
    r"^\d{6}\.\d{6}\.\d{6}\.",
))

#: Digit runs, allowing the spaces, dots and dashes people put inside phone numbers.
_DIGIT_RUN = re.compile(r"\+?\d(?:[\d .\-]*\d)?")


@dataclass(frozen=True, slots=True)
class MemoReading:
    """A memo as the suggestion ranking reads it."""

    #: The memo's words folded to A-Z0-9 (see :func:`tuition.core.memo.words`), in order.
    tokens: tuple[str, ...]
    #: For each token: may it be part of a name (False for memo wording).
    eligible: tuple[bool, ...]
    #: The whole memo folded and glued (see :func:`tuition.core.memo.normalise`).
    glued: str
    #: Digit strings of the memo, separators inside numbers removed ("0912 345 678").
    digit_runs: tuple[str, ...]
    #: The payer's name as a Vietcombank wrapper gives it ("CT tu <acct> <NAME> toi ..."), folded.
    payer_in_memo: str = ""
    #: The payer's words without the bank's wrappers, folded and glued (where codes are).
    text_glued: str = ""

    @property
    def words(self) -> frozenset[str]:
        return frozenset(self.tokens)

    @property
    def name_words(self) -> frozenset[str]:
        """The tokens that may be (part of) a name."""
        return frozenset(t for t, ok in zip(self.tokens, self.eligible, strict=True) if ok)

    def positions(self, word: str) -> list[int]:
        return [i for i, token in enumerate(self.tokens) if token == word]


def _is_number(token: str) -> bool:
    return any(ch.isdigit() for ch in token)


def read_memo(memo: str) -> MemoReading:
    """Tokens of ``memo`` with what could be a name marked, its digit runs and the payer's name
    if a bank wrapper gives it."""
    memo = memo or ""
    glued = normalise(memo)
    digit_runs = tuple(re.sub(r"\D", "", run) for run in _DIGIT_RUN.findall(memo))
    payer = ""
    text = memo
    for tail in (_VCB_TAIL, _VTB_TAIL):
        found = tail.search(text)
        if found:
            payer = " ".join(words(found.group(found.lastindex or 0)))
            text = text[: found.start()]
            break
    for wrapper in _WRAPPERS:
        text = wrapper.sub(" ", text)
    tokens = tuple(words(text))
    eligible = [not (_is_number(t) or t in _ALWAYS_NOISE) for t in tokens]
    count = len(tokens)
    for phrase in _NOISE_PHRASES:
        width = len(phrase)
        first = phrase[0]
        for start in range(count - width + 1):
            if tokens[start] == first and tokens[start : start + width] == phrase:
                for i in range(start, start + width):
                    eligible[i] = False
    wording = tuple(eligible)
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < count else ""
        if token == "THANG" and following and (_is_number(following) or following in
                                                _MONTH_WORDS):
            # "thang 11", "thang muoi": a month, never the name Thắng; nor is its number word.
            eligible[i] = False
            eligible[i + 1] = False
            if following == "MUOI" and i + 2 < count and tokens[i + 2] in _MONTH_WORDS:
                eligible[i + 2] = False
        elif token in _MARKERS and following and wording[i + 1]:
            # "be An", "chau Minh": the kinship word, not a name. (It stays a name before a
            # class or at the end: "Bao Chau", "Ngoc Anh 2A".)
            eligible[i] = False
    return MemoReading(tokens, tuple(eligible), glued, digit_runs, payer, normalise(text))
