"""Suggestions for a transfer waiting in the review queue: which open invoices (which children)
the memo, the amount and the payer point to, best first, each with its reasons.

Pure, and it never assigns anything: the accountant picks. A ``confident`` flag on the first
suggestion only tells the page to show it prominently.

Evidence, strongest first (see the ``SCORE_*`` weights):

* a payment code one edit away from an issued code of the school (one character changed, two
  adjacent characters swapped, one dropped or one added), or the exact code of an open invoice
  (a transfer naming several codes whose amounts did not add up);
* the student's full name, also glued ("NGUYENVANAN") and in any order;
* the guardian's phone number from the roster ("0912 345 678", "+84912345678", "912345678");
* the guardian's full name from the roster, in the memo or as the payer the bank names;
* the paying account (or, more weakly, the payer's name) has paid for this student before;
* the given name with the word before it in the name ("Minh Khoi", "Nguyen An");
* the class ("lop 2A", "2a", "LOP2A"), the amount equal to what is open, the given name alone.

Memo wording is not taken for names: "tien an" is not An, "thang 11" is not Thắng (see
:mod:`tuition.core.memo_reading`). Words of a guardian's name found in the memo do not count as
the child's name ("Nguyen Van Binh chuyen tien cho con" does not point at a child called Bình).
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from tuition.core.memo import words
from tuition.core.memo_reading import MemoReading, read_memo
from tuition.core.money import format_vnd

__all__ = [
    "Candidate",
    "CandidatePool",
    "Reason",
    "Suggestion",
    "rank_suggestions",
]

SCORE_CODE_EXACT = 120
SCORE_CODE_NEAR = 100
SCORE_FULL_NAME = 60
SCORE_GUARDIAN_PHONE = 55
SCORE_GUARDIAN_NAME = 45
SCORE_PAYER_ACCOUNT = 40
SCORE_PARTIAL_NAME = 35
SCORE_PAYER_IS_GUARDIAN = 35
SCORE_PAYER_NAME = 25
SCORE_AMOUNT = 20
SCORE_CLASS = 15
SCORE_GIVEN_NAME = 12
#: The memo names a class, and it is not this student's.
SCORE_OTHER_CLASS = -15
#: A given name counts for more among the children of a family the memo already points to
#: (by the guardian's name or phone, or the payer): it tells siblings apart.
SCORE_GIVEN_IN_FAMILY = 35
#: So does a given name with the class: "be An lop 2A" picks out An of 2A.
SCORE_GIVEN_WITH_CLASS = 25

#: The first suggestion is "confident" when it scores at least this much (one identifying
#: signal: a near code, a full name, the guardian's phone or name with the amount ...) ...
CONFIDENT_SCORE = 60
#: ... and leads every other student by at least this much.
CONFIDENT_MARGIN = 20
#: Candidates that only the class and/or the amount point to are noise when there are many
#: (every pupil of 2A owing the month's fee); they are shown only when at most this many.
WEAK_LIMIT = 5
#: Reasons that only narrow the field; every other reason points at a person.
WEAK_KINDS = frozenset({"amount", "amount_total", "class", "other_class"})
#: Reasons that point at a family rather than at one child.
FAMILY_KINDS = frozenset({"guardian_name", "guardian_phone", "payer_is_guardian",
                          "payer_account", "payer_name"})
#: Reasons from who paid rather than from what the memo says.
PAYER_KINDS = frozenset({"payer_is_guardian", "payer_account", "payer_name"})
#: Reasons that name a child.
NAME_KINDS = frozenset({"full_name", "partial_name", "given_name"})
#: A glued name ("NGUYENVANAN") counts only when this long: shorter ones occur by chance.
GLUED_MIN = 8


def _require_amount(value: object, name: str, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int number of dong, not {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'}")
    return value


def _phone(key: str) -> str:
    """A phone key (national number without its 0) as people write it: 0912 345 678."""
    number = "0" + key
    return f"{number[:4]} {number[4:7]} {number[7:]}" if len(number) == 10 else number


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open invoice that a transfer in review might be meant for, with its student."""

    student_name: str
    class_name: str
    invoice_code: str
    balance_vnd: int
    #: The paying bank account has paid for this student before.
    payer_paid_before: bool = False
    #: Identifies the student (a student may have several open invoices).
    student_code: str = ""
    guardian_name: str = ""
    #: As the roster keeps it: "0912345678".
    guardian_phone: str = ""
    #: A transfer with the same payer name has paid for this student before.
    payer_name_paid_before: bool = False

    def __post_init__(self) -> None:
        _require_amount(self.balance_vnd, "balance_vnd", allow_zero=True)

    @property
    def student_key(self) -> str:
        return self.student_code or f"{self.student_name}\x1f{self.class_name}"


#: Reason kinds: (Vietnamese, English) wordings; arguments are filled in by position.
_WORDING: dict[str, tuple[str, str]] = {
    "code_exact": ("Nội dung có mã thanh toán {0}", "The memo has the payment code {0}"),
    "code_near": ("Mã gần giống {0} ({1}: “{2}”)", "Code close to {0} ({1}: “{2}”)"),
    "full_name": ("Nội dung có đầy đủ họ tên {0}", "The memo has the full name {0}"),
    "partial_name": ("Nội dung có tên {0}", "The memo has the name {0}"),
    "given_name": ("Nội dung có tên gọi {0}", "The memo has the given name {0}"),
    "class": ("Nội dung có lớp {0}", "The memo names class {0}"),
    "other_class": ("Nội dung ghi lớp {0}, không phải lớp của học sinh",
                    "The memo names class {0}, not the student's"),
    "amount": ("Số tiền bằng số còn phải thu {0}", "The amount equals the open balance {0}"),
    "amount_total": ("Số tiền bằng tổng còn phải thu của học sinh ({0} hóa đơn, {1})",
                     "The amount equals the student's total open balance ({0} invoices, {1})"),
    "guardian_phone": ("Nội dung có số điện thoại phụ huynh {0}",
                       "The memo has the guardian's phone number {0}"),
    "guardian_name": ("Nội dung có tên phụ huynh {0}", "The memo has the guardian's name {0}"),
    "payer_is_guardian": ("Người chuyển {0} trùng tên phụ huynh",
                          "The payer {0} has the guardian's name"),
    "payer_account": ("Tài khoản chuyển đã từng nộp tiền cho học sinh này",
                      "The paying account has paid for this student before"),
    "payer_name": ("Người chuyển {0} đã từng nộp tiền cho học sinh này",
                   "The payer {0} has paid for this student before"),
}
#: How a typed code differs from the issued one, (Vietnamese, English).
_EDITS = {
    "substitution": ("đổi 1 ký tự", "one character changed"),
    "transposition": ("đảo 2 ký tự liền nhau", "two adjacent characters swapped"),
    "deletion": ("thiếu 1 ký tự", "one character missing"),
    "insertion": ("thừa 1 ký tự", "one character too many"),
}
_SCORES = {
    "code_exact": SCORE_CODE_EXACT, "code_near": SCORE_CODE_NEAR,
    "full_name": SCORE_FULL_NAME, "partial_name": SCORE_PARTIAL_NAME,
    "given_name": SCORE_GIVEN_NAME, "class": SCORE_CLASS, "other_class": SCORE_OTHER_CLASS,
    "amount": SCORE_AMOUNT,
    "amount_total": SCORE_AMOUNT, "guardian_phone": SCORE_GUARDIAN_PHONE,
    "guardian_name": SCORE_GUARDIAN_NAME, "payer_is_guardian": SCORE_PAYER_IS_GUARDIAN,
    "payer_account": SCORE_PAYER_ACCOUNT, "payer_name": SCORE_PAYER_NAME,
}
#: The order reasons are listed in: what names the child, the family, then the rest.
_ORDER = {kind: place for place, kind in enumerate((
    "code_exact", "code_near", "full_name", "partial_name", "given_name", "guardian_phone",
    "guardian_name", "payer_is_guardian", "payer_account", "payer_name", "class", "amount",
    "amount_total", "other_class"))}
#: Reasons that say the same thing twice are not counted twice: of each group, the best.
_EXCLUSIVE = (
    ("code_exact", "code_near"),
    ("full_name", "partial_name", "given_name"),
    ("amount", "amount_total"),
    ("guardian_name", "payer_is_guardian"),
    ("payer_account", "payer_name"),
)


@dataclass(frozen=True, slots=True)
class Reason:
    """One piece of evidence, worded on demand in Vietnamese (``vi``) or English (``en``)."""

    kind: str
    args: tuple = ()

    @property
    def score(self) -> int:
        return _SCORES[self.kind]

    def _worded(self, language: int) -> str:
        args = self.args
        if self.kind == "code_near":
            args = (args[0], _EDITS[args[1]][language], args[2])
        return _WORDING[self.kind][language].format(*args)

    @property
    def vi(self) -> str:
        return self._worded(0)

    @property
    def en(self) -> str:
        return self._worded(1)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A candidate with its score (higher is likelier) and the reasons for it."""

    candidate: Candidate
    score: int
    #: In Vietnamese, as shown to the accountant.
    reasons: tuple[str, ...]
    reasons_en: tuple[str, ...] = ()
    #: The evidence itself (kinds and arguments), for code that needs more than words.
    evidence: tuple[Reason, ...] = ()
    #: Only ever set on the first suggestion: it stands out from the rest (display only).
    confident: bool = False


@functools.lru_cache(maxsize=65536)
def _name_words(name: str) -> tuple[str, ...]:
    return tuple(words(name or ""))


def _class_label(class_name: str) -> str:
    label = _name_words(class_name)
    if label[:1] == ("LOP",):
        label = label[1:]
    return "".join(label)


def _edit(typed: str, code: str) -> str | None:
    """How ``typed`` differs from ``code`` by one edit ("same" if equal), or None."""
    if typed == code:
        return "same"
    if len(typed) == len(code):
        diff = [i for i in range(len(code)) if typed[i] != code[i]]
        if len(diff) == 1:
            return "substitution"
        if (len(diff) == 2 and diff[1] == diff[0] + 1 and typed[diff[0]] == code[diff[1]]
                and typed[diff[1]] == code[diff[0]]):
            return "transposition"
        return None
    if len(typed) == len(code) - 1:
        short, long_, kind = typed, code, "deletion"
    elif len(typed) == len(code) + 1:
        short, long_, kind = code, typed, "insertion"
    else:
        return None
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return kind if short[i:] == long_[i + 1:] else None


class CandidatePool:
    """Candidates prepared once (indexes by name word, class, amount, phone, code) so that
    the memos of a whole review page are ranked without going through every invoice for each.
    """

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self.candidates: tuple[Candidate, ...] = tuple(candidates)
        #: given name -> {full name words: candidate ids}
        self._students: dict[str, dict[tuple[str, ...], list[int]]] = defaultdict(
            lambda: defaultdict(list))
        self._guardians: dict[str, dict[tuple[str, ...], list[int]]] = defaultdict(
            lambda: defaultdict(list))
        self._guardian_names: dict[tuple[str, ...], list[int]] = defaultdict(list)
        #: names glued ("NGUYENVANAN") -> candidate ids, students and guardians apart.
        self._glued_students: dict[str, list[int]] = defaultdict(list)
        self._glued_guardians: dict[str, list[int]] = defaultdict(list)
        self._classes: dict[str, list[int]] = defaultdict(list)
        #: class label -> {given name, or middle and given names, glued: (ids, words)}, for
        #: memos whose spaces a bank dropped ("CONHOAIHAN1D", "BEPHUONGLOP4A").
        self._class_glued: dict[str, dict[str, tuple[list[int], tuple[str, ...]]]] = (
            defaultdict(dict))
        self._balances: dict[int, list[int]] = defaultdict(list)
        self._phones: dict[str, list[int]] = defaultdict(list)
        self._codes: dict[str, list[int]] = defaultdict(list)
        self._by_student: dict[str, list[int]] = defaultdict(list)
        self._flagged: list[int] = []
        for index, candidate in enumerate(self.candidates):
            name = _name_words(candidate.student_name)
            if name:
                self._students[name[-1]][name].append(index)
                if len(name) >= 2:
                    self._glued_students["".join(name)].append(index)
            guardian = _name_words(candidate.guardian_name)
            if len(guardian) >= 2:
                self._guardians[guardian[-1]][guardian].append(index)
                self._guardian_names[guardian].append(index)
                self._glued_guardians["".join(guardian)].append(index)
            label = _class_label(candidate.class_name)
            if label:
                self._classes[label].append(index)
                for part in (name[-1:], name[-2:] if len(name) >= 2 else ()):
                    glued = "".join(part)
                    if len(glued) >= 3:
                        entry = self._class_glued[label].setdefault(glued, ([], part))
                        entry[0].append(index)
            self._balances[candidate.balance_vnd].append(index)
            phone = "".join(ch for ch in candidate.guardian_phone or "" if ch.isdigit())
            if len(phone) >= 9:
                self._phones[phone[1:] if phone.startswith("0") else phone].append(index)
            if candidate.invoice_code:
                self._codes[candidate.invoice_code.upper()].append(index)
            self._by_student[candidate.student_key].append(index)
            if candidate.payer_paid_before or candidate.payer_name_paid_before:
                self._flagged.append(index)
        self._phone_lengths = sorted({len(key) for key in self._phones})
        self._code_lengths = sorted({len(code) for code in self._codes})
        # A student's open invoices together: "the amount is all that is open" for the
        # students who have more than one.
        self._totals: dict[int, list[int]] = defaultdict(list)
        for ids in self._by_student.values():
            if len(ids) > 1:
                total = sum(self.candidates[i].balance_vnd for i in ids)
                self._totals[total].extend(ids)
        self._deletes: dict[str, set[str]] | None = None

    # -- evidence finders: each yields (candidate id, Reason) ------------------------------

    def _delete_index(self) -> dict[str, set[str]]:
        """Every issued code and every code with one character left out -> the codes.

        Two strings are one substitution, adjacent swap, drop or insertion apart only if one
        of their single-deletion variants (or themselves) agree, so a window of the memo is
        looked up by its own variants and the hits are then checked exactly.
        """
        if self._deletes is None:
            index: dict[str, set[str]] = defaultdict(set)
            for code in self._codes:
                index[code].add(code)
                for i in range(len(code)):
                    index[code[:i] + code[i + 1:]].add(code)
            self._deletes = dict(index)
        return self._deletes

    def _near_codes(self, glued: str):
        if not self._codes:
            return
        get = self._delete_index().get
        best: dict[str, tuple[int, str, str]] = {}
        for length in self._code_lengths:
            for width in (length - 1, length, length + 1):
                for start in range(len(glued) - width + 1):
                    typed = glued[start:start + width]
                    # A code starts with letters: a run of digits is a bank's number.
                    if typed.isdigit():
                        continue
                    # A dropped character: the window is a code minus one, as indexed. Else
                    # the window minus one character is (a code, or a code minus one).
                    keys = [typed] if width < length else [
                        typed, *(typed[:i] + typed[i + 1:] for i in range(width))]
                    for key in keys:
                        for code in get(key, ()):
                            how = _edit(typed, code)
                            if how is None:
                                continue
                            rank = 0 if how == "same" else 1
                            if code not in best or rank < best[code][0]:
                                best[code] = (rank, how, typed)
        for code, (_rank, how, typed) in best.items():
            reason = (Reason("code_exact", (code,)) if how == "same"
                      else Reason("code_near", (code, how, typed)))
            for index_ in self._codes[code]:
                yield index_, reason

    def _phone_hits(self, reading: MemoReading):
        seen: set[str] = set()
        for run in reading.digit_runs:
            for length in self._phone_lengths:
                for start in range(len(run) - length + 1):
                    key = run[start:start + length]
                    if key in self._phones and key not in seen:
                        seen.add(key)
                        for index in self._phones[key]:
                            yield index, Reason("guardian_phone", (_phone(key),))

    def _guardian_hits(self, reading: MemoReading, spans: set[int],
                       glued_spans: dict[int, list[tuple[int, int]]]):
        tokens = reading.tokens
        for position, token in enumerate(tokens):
            for name, ids in self._guardians.get(token, {}).items():
                start = position - len(name) + 1
                if start >= 0 and tokens[start:position + 1] == name:
                    spans.update(range(start, position + 1))
                    for index in ids:
                        yield index, Reason("guardian_name", (self.candidates[index]
                                                              .guardian_name,))
        for position, token in _long_tokens(reading):
            for glued, ids in self._glued_guardians.items():
                if len(glued) < GLUED_MIN:
                    continue
                start = token.find(glued)
                if start < 0:
                    continue
                glued_spans.setdefault(position, []).append((start, start + len(glued)))
                for index in ids:
                    yield index, Reason("guardian_name", (self.candidates[index]
                                                          .guardian_name,))

    def _payer_hits(self, payer_names: Iterable[str]):
        for payer in payer_names:
            name = _name_words(payer)
            for index in self._guardian_names.get(name, ()) if len(name) >= 2 else ():
                yield index, Reason("payer_is_guardian", (" ".join(name).title(),))

    def _student_hits(self, reading: MemoReading, spans: set[int],
                      glued_spans: dict[int, list[tuple[int, int]]]):
        tokens, eligible = reading.tokens, reading.eligible
        free = [ok and i not in spans for i, ok in enumerate(eligible)]
        for position, token in enumerate(tokens):
            entries = self._students.get(token)
            if not entries:
                continue
            for name, ids in entries.items():
                size = len(name)
                start = position - size + 1
                if size >= 2 and start >= 0 and tokens[start:position + 1] == name:
                    reason = Reason("full_name", (self.candidates[ids[0]].student_name,))
                elif not free[position]:
                    continue
                elif size >= 2 and _around(name[:-1], tokens, free, position, size + 1):
                    # The whole name in another order ("AN NGUYEN VAN"), close together.
                    reason = Reason("full_name", (self.candidates[ids[0]].student_name,))
                elif (size >= 2 and position >= 1 and free[position - 1]
                      and tokens[position - 1] in name[:-1]):
                    shown = f"{tokens[position - 1]} {token}".title()
                    reason = Reason("partial_name", (shown,))
                else:
                    reason = Reason("given_name", (token.title(),))
                for index in ids:
                    yield index, reason
        for position, token in _long_tokens(reading):
            guardians = glued_spans.get(position, ())

            def inside_guardian(start: int, end: int) -> bool:
                return any(a <= start and end <= b for a, b in guardians)  # noqa: B023

            for glued, ids in self._glued_students.items():
                # (A child may carry a guardian's full name: it still counts.)
                if len(glued) >= GLUED_MIN and glued in token:
                    for index in ids:
                        yield index, Reason("full_name", (self.candidates[index].student_name,))
            # A given name (or middle and given names) glued to its class ("CONHAN1D",
            # "BEPHUONGLOP4A", "MINHKIENL1A"), or ending the token before it ("CHOCONTU 1D").
            following = reading.tokens[position + 1] if position + 1 < len(reading.tokens) else ""
            for label, names in self._class_glued.items():
                ends = [at for at in _occurrences(token, label) if at > 0]
                if following in (label, f"LOP{label}", f"L{label}"):
                    ends.append(len(token))
                for at in ends:
                    before = token[:at]
                    for cut in ("LOP", "L"):
                        if at < len(token) and before.endswith(cut):
                            before = before[:-len(cut)]
                            break
                    for glued, (ids, part) in names.items():
                        if before.endswith(glued) and not inside_guardian(
                                len(before) - len(glued), len(before)):
                            if len(part) == 2:
                                reason = Reason("partial_name", (" ".join(part).title(),))
                            else:
                                reason = Reason("given_name", (part[0].title(),))
                            klass = Reason("class", (self.candidates[ids[0]].class_name,))
                            for index in ids:
                                yield index, reason
                                yield index, klass

    def _class_hits(self, reading: MemoReading, named: list[str]):
        memo_words = reading.words
        for label, ids in self._classes.items():
            # "2A" must be a whole word: glued into digits it may be part of an account
            # number or a code. After "LOP" it is unambiguous even when glued.
            if (label in memo_words or f"LOP{label}" in reading.glued
                    or f"L{label}" in memo_words):
                reason = Reason("class", (self.candidates[ids[0]].class_name,))
                named.append(reason.args[0])
                for index in ids:
                    yield index, reason

    def _amount_hits(self, amount_vnd: int):
        for index in self._balances.get(amount_vnd, ()):
            yield index, Reason("amount", (f"{format_vnd(amount_vnd)} đ",))
        for index in self._totals.get(amount_vnd, ()):
            key = self.candidates[index].student_key
            yield index, Reason("amount_total",
                                (len(self._by_student[key]), f"{format_vnd(amount_vnd)} đ"))

    def _history_hits(self, paid_before: Collection[str], named_before: Collection[str],
                      payer_name: str):
        for index in self._flagged:
            candidate = self.candidates[index]
            if candidate.payer_paid_before:
                yield index, Reason("payer_account")
            elif candidate.payer_name_paid_before:
                yield index, Reason("payer_name", (payer_name or "",))
        for key in paid_before:
            for index in self._by_student.get(key, ()):
                yield index, Reason("payer_account")
        for key in named_before:
            for index in self._by_student.get(key, ()):
                yield index, Reason("payer_name", (payer_name or "",))

    # -- ranking ---------------------------------------------------------------------------

    def rank(self, memo: str, amount_vnd: int, *, limit: int | None = 10,
             payer_name: str | None = None, paid_before: Collection[str] = (),
             payer_name_paid_before: Collection[str] = ()) -> list[Suggestion]:
        """See :func:`rank_suggestions`."""
        amount_vnd = _require_amount(amount_vnd, "amount_vnd")
        reading = read_memo(memo or "")
        spans: set[int] = set()
        glued_spans: dict[int, list[tuple[int, int]]] = {}
        classes: list[str] = []
        found: dict[int, dict[str, Reason]] = defaultdict(dict)

        def collect(hits) -> None:
            for index, reason in hits:
                reasons = found[index]
                kept = reasons.get(reason.kind)
                if kept is None or _stronger(reason, kept):
                    reasons[reason.kind] = reason

        collect(self._near_codes(reading.text_glued))
        collect(self._phone_hits(reading))
        collect(self._guardian_hits(reading, spans, glued_spans))
        payers = [name for name in (payer_name, reading.payer_in_memo) if name]
        collect(self._payer_hits(payers))
        collect(self._student_hits(reading, spans, glued_spans))
        collect(self._class_hits(reading, classes))
        collect(self._amount_hits(amount_vnd))
        collect(self._history_hits(paid_before, payer_name_paid_before,
                                   (payer_name or reading.payer_in_memo or "").upper()))

        weak = [index for index, reasons in found.items() if WEAK_KINDS.issuperset(reasons)]
        kept = (found.keys() if len(weak) <= WEAK_LIMIT else found.keys() - set(weak))
        other_class = Reason("other_class", (", ".join(classes),)) if classes else None
        # When the memo names a child, who paid counts for less for the children it does not
        # name: an account that paid for Bình before, sending "hoc phi be An lop 2A", is more
        # likely paying for An (a sibling, a relative's child) than for Bình.
        names_someone = any(not NAME_KINDS.isdisjoint(found[index]) for index in kept)
        scored: list[tuple[int, int, tuple[Reason, ...]]] = []
        for index in kept:
            reasons = found[index]
            if other_class and "class" not in reasons:
                reasons["other_class"] = other_class
            evidence = _best_of_groups(reasons)
            score = _score(evidence, names_someone)
            if score > 0:
                scored.append((-score, index, evidence))
        # Best first; ties in the order the candidates were given.
        scored.sort()
        confident = False
        if scored:
            top_key = self.candidates[scored[0][1]].student_key
            runner_up = next((-score for score, index, _ in scored[1:]
                              if self.candidates[index].student_key != top_key), 0)
            top = -scored[0][0]
            confident = top >= CONFIDENT_SCORE and top - runner_up >= CONFIDENT_MARGIN
        shown = scored if limit is None else scored[:limit]
        return [
            Suggestion(self.candidates[index], -score, tuple(r.vi for r in evidence),
                       tuple(r.en for r in evidence), evidence,
                       confident=confident and position == 0)
            for position, (score, index, evidence) in enumerate(shown)
        ]


def _long_tokens(reading: MemoReading) -> list[tuple[int, str]]:
    """Tokens long enough to be words glued together by a bank ("HOCPHINGUYENVANAN")."""
    return [(i, t) for i, t in enumerate(reading.tokens) if len(t) >= GLUED_MIN + 2]


def _around(wanted: tuple[str, ...], tokens: tuple[str, ...], free: list[bool],
            position: int, reach: int) -> bool:
    """Are all ``wanted`` words (as many times as wanted) among the free tokens within
    ``reach`` of ``position``, the given name's own place left out?"""
    near = Counter(tokens[i] for i in range(max(0, position - reach),
                                            min(len(tokens), position + reach + 1))
                   if free[i] and i != position)
    return not Counter(wanted) - near


def _occurrences(text: str, part: str) -> list[int]:
    found = []
    at = text.find(part)
    while at >= 0:
        found.append(at)
        at = text.find(part, at + 1)
    return found


def _score(evidence: tuple[Reason, ...], names_someone: bool = False) -> int:
    kinds = {reason.kind for reason in evidence}
    score = sum(reason.score for reason in evidence)
    if "given_name" in kinds and kinds & FAMILY_KINDS:
        score += SCORE_GIVEN_IN_FAMILY - SCORE_GIVEN_NAME
    elif "given_name" in kinds and "class" in kinds:
        score += SCORE_GIVEN_WITH_CLASS - SCORE_GIVEN_NAME
    if names_someone and kinds.isdisjoint(NAME_KINDS):
        score -= sum(reason.score for reason in evidence if reason.kind in PAYER_KINDS) // 2
    return score


def _stronger(new: Reason, kept: Reason) -> bool:
    return new.score > kept.score


def _best_of_groups(reasons: dict[str, Reason]) -> tuple[Reason, ...]:
    """The reasons of one candidate in reading order, one of each exclusive group."""
    chosen = dict(reasons)
    for group in _EXCLUSIVE:
        present = [kind for kind in group if kind in chosen]
        for kind in present[1:]:
            del chosen[kind]
    return tuple(sorted(chosen.values(), key=lambda reason: _ORDER[reason.kind]))


def rank_suggestions(
    memo: str, amount_vnd: int, candidates: Iterable[Candidate] | CandidatePool, *,
    limit: int | None = 10, payer_name: str | None = None,
    paid_before: Collection[str] = (), payer_name_paid_before: Collection[str] = (),
) -> list[Suggestion]:
    """Candidates that the memo, the amount or the payer point to, best first.

    ``candidates`` is a list of :class:`Candidate` or a :class:`CandidatePool` built once for
    many memos. ``payer_name`` is the payer as the bank names it, if it does;
    ``paid_before`` and ``payer_name_paid_before`` are the ``student_key`` of students the
    paying account, or a payer of that name, has paid for before (the candidates' own flags
    say the same per candidate).

    Candidates with no evidence are left out, and so are candidates that only the class or
    the amount point to when there are more than :data:`WEAK_LIMIT` of them. Ties keep the
    order given. Nothing is assigned.
    """
    pool = candidates if isinstance(candidates, CandidatePool) else CandidatePool(candidates)
    return pool.rank(memo, amount_vnd, limit=limit, payer_name=payer_name,
                     paid_before=paid_before, payer_name_paid_before=payer_name_paid_before)
