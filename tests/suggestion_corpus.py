"""A corpus of transfer memos, written the ways parents and banks write them, for measuring the
review queue's suggestions (tests/core/test_suggestion_corpus.py, bench/bench_suggestions.py).

Deterministic: a seeded generator builds a primary school of about 600 pupils with realistic
names (Nguyễn, Trần, Lê ... repeated; repeated given names; siblings; the same full name in two
classes), guardians with phone numbers, open invoices with payment codes, bank accounts that
have paid before; then memos in several styles, each knowing which pupil it is about, and memos
that name nobody.

A memo is put in the corpus as "identifying" only when what it says picks out one pupil of the
roster (a given name with a class is only identifying if no other pupil of that class has that
given name; a guardian's phone only if the guardian has one child at the school or the memo
also gives the child's name ...): the target is that a person reading it could find the child.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from tuition.core.paycode import new_code
from tuition.core.suggestions import Candidate, CandidatePool

SEED = 20261107
PREFIX = "HP"
SCHOOL_ACCOUNT = "0071000123456"
SCHOOL_HOLDER = "TRUONG TIEU HOC LE QUY DON"

FAMILY_NAMES = [
    ("Nguyễn", 380), ("Trần", 110), ("Lê", 95), ("Phạm", 70), ("Hoàng", 40), ("Phan", 45),
    ("Vũ", 30), ("Võ", 20), ("Huỳnh", 20), ("Đặng", 20), ("Bùi", 20), ("Đỗ", 14),
    ("Hồ", 13), ("Ngô", 13), ("Dương", 10), ("Đinh", 10), ("Trương", 8), ("Lý", 5),
    ("Mai", 5), ("Tạ", 3), ("Cao", 4), ("Lương", 4),
]
BOY_MIDDLE = ["Văn", "Minh", "Đức", "Quang", "Hoàng", "Gia", "Anh", "Bảo", "Hữu", "Tuấn",
              "Thành", "Nhật", "Đăng", "Phúc", "Trung", "Minh", "Gia", "Văn"]
GIRL_MIDDLE = ["Thị", "Ngọc", "Thu", "Minh", "Bảo", "Khánh", "Phương", "Thanh", "Mai", "Hà",
               "Gia", "Thảo", "Diệu", "Quỳnh", "Hoài", "Ngọc", "Thị", "Bảo"]
# Common names, including those that are also memo words: An, Tiến, Thắng, Nam, Tài, Tú,
# Đông, Phi, Kỳ, Châu, Anh.
BOY_GIVEN = ["An", "Anh", "Bình", "Dũng", "Duy", "Đức", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy",
             "Khang", "Khánh", "Khoa", "Khôi", "Kiên", "Lâm", "Long", "Minh", "Nam", "Nhân",
             "Phát", "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tài", "Thắng", "Thành", "Tiến",
             "Trí", "Trung", "Tú", "Tuấn", "Việt", "Vinh", "Vũ", "Đông", "Phi", "Kỳ", "Nam",
             "Minh", "Huy", "Khôi", "An"]
GIRL_GIVEN = ["An", "Anh", "Châu", "Chi", "Diệp", "Dương", "Giang", "Hà", "Hân", "Hằng",
              "Hoa", "Hương", "Lan", "Linh", "Mai", "My", "Ngân", "Ngọc", "Nhi", "Nhung",
              "Oanh", "Phương", "Quyên", "Tâm", "Thảo", "Thư", "Trang", "Trâm", "Uyên", "Vy",
              "Yến", "Anh", "Linh", "Ngọc", "Châu", "Tiên"]
MAN_MIDDLE = ["Văn", "Đức", "Minh", "Quốc", "Hữu", "Xuân", "Thanh", "Ngọc", "Mạnh", "Công",
              "Văn", "Văn"]
MAN_GIVEN = ["Hùng", "Dũng", "Tuấn", "Thắng", "Cường", "Hải", "Nam", "Bình", "Sơn", "Tùng",
             "Long", "Trung", "Quân", "Hưng", "Tiến", "Tài", "Đông", "Phong", "Thành", "Hiếu",
             "Toàn", "Khải", "Lực", "Vinh"]
WOMAN_MIDDLE = ["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Kim", "Phương", "Thị"]
WOMAN_GIVEN = ["Hương", "Lan", "Hà", "Hoa", "Mai", "Thủy", "Nga", "Huyền", "Trang", "Linh",
               "Hằng", "Yến", "Dung", "Thảo", "Loan", "Oanh", "Hạnh", "Châu", "Vân", "Xuân"]
MOBILE_PREFIXES = ["090", "091", "093", "094", "096", "097", "098", "086", "088", "089",
                   "032", "033", "034", "035", "036", "037", "038", "039", "070", "076",
                   "077", "078", "079", "081", "082", "083", "084", "085", "056", "058"]
#: What a month costs, by grade (tuition, then with school meals): few distinct amounts, so
#: that many pupils owe exactly the same, as in a real school.
FEES = {1: (850_000, 1_450_000), 2: (850_000, 1_450_000), 3: (900_000, 1_500_000),
        4: (900_000, 1_500_000), 5: (950_000, 1_550_000)}


@dataclass
class Pupil:
    code: str
    full_name: str
    class_name: str
    gender: str
    family: int
    guardian_name: str = ""
    guardian_phone: str = ""
    #: Open invoices: (code, balance), oldest first.
    invoices: list[tuple[str, int]] = field(default_factory=list)

    @property
    def given(self) -> str:
        return self.full_name.split()[-1]

    @property
    def open_vnd(self) -> int:
        return sum(balance for _code, balance in self.invoices)


@dataclass
class Family:
    number: int
    surname: str
    guardian_name: str
    guardian_phone: str
    #: The account the family pays from, and whether it has paid before (for which pupils).
    account: str
    payer_name: str
    paid_for: set[str] = field(default_factory=set)
    children: list[str] = field(default_factory=list)


@dataclass
class Memo:
    style: str
    memo: str
    amount_vnd: int
    #: The pupil the memo is about; None when it names nobody.
    target: str | None
    payer_account: str | None = None
    payer_name: str | None = None


@dataclass
class Corpus:
    pupils: dict[str, Pupil]
    families: dict[int, Family]
    memos: list[Memo]

    def candidates(self) -> list[Candidate]:
        """One candidate per open invoice, and one without an invoice for a pupil who owes
        nothing, as the service builds them."""
        return [
            Candidate(p.full_name, p.class_name, code, balance, student_code=p.code,
                      guardian_name=p.guardian_name, guardian_phone=p.guardian_phone)
            for p in self.pupils.values() for code, balance in (p.invoices or [("", 0)])
        ]

    def paid_before(self, memo: Memo) -> set[str]:
        """The pupils the paying account has paid for before (what the service looks up)."""
        if not memo.payer_account:
            return set()
        return {code for family in self.families.values() if family.account == memo.payer_account
                for code in family.paid_for}

    def named_before(self, memo: Memo) -> set[str]:
        if not memo.payer_name:
            return set()
        return {code for family in self.families.values()
                if family.payer_name == memo.payer_name for code in family.paid_for}


def plain(text: str) -> str:
    """Without diacritics, as memos arrive (đ -> d)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in unicodedata.normalize("NFD", text)
                   if unicodedata.category(ch) != "Mn")


class _Writer:
    """Writes memos the ways parents do, then passes them through a bank."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, *options):
        return self.rng.choice(options)

    def month(self) -> str:
        m = self.rng.randint(9, 12)
        return self.pick(f"T{m}", f"thang {m}", f"th{m}", f"thang {m}/2026", f"T{m}/26",
                         f"thang {m:02d}", "", "", f"THANG{m}")

    def fee(self) -> str:
        return self.pick("hoc phi", "HP", "tien hoc", "tien an", "tien an ban tru",
                         "nop tien hoc", "dong hoc phi", "chuyen tien hoc phi", "",
                         "hoc phi va tien an", "nop hoc phi", "hoc phi ban tru")

    def kin(self) -> str:
        return self.pick("con", "be", "chau", "", "cho con", "cho be", "HS", "be", "con")

    def klass(self, name: str) -> str:
        return self.pick(f"lop {name}", f"lop {name.lower()}", name, name.lower(),
                         f"lop{name.lower()}", f"LOP {name}", f"({name})", f"lop {name}",
                         f"lop {name[0]} {name[1:]}", f"L{name}", f"lớp {name}")

    def polite(self) -> str:
        return self.pick("", "", "", "", "kinh gui nha truong", "a", "em chuyen", "xin cam on",
                         "nho co nhan giup", "ạ")

    def case(self, text: str) -> str:
        roll = self.rng.random()
        if roll < 0.40:
            return text.lower()
        if roll < 0.75:
            return text.upper()
        if roll < 0.88:
            return text.title()
        return text

    def bank(self, memo: str, payer: str) -> str:
        """Wrap the payer's words as one of the banks of FORMATS.md does."""
        rng = self.rng
        digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
        roll = rng.random()
        if rng.random() < 0.05:
            memo = memo.replace(" ", "")  # spaces dropped inside the memo
        if roll < 0.35:
            return memo
        if roll < 0.50:
            return (f"MBVCB.{digits(10)}.{memo}.CT tu {digits(13)} {plain(payer).upper()} "
                    f"toi {SCHOOL_ACCOUNT} {SCHOOL_HOLDER}")
        if roll < 0.60:
            return f"{digits(6)}.{digits(6)}.{digits(6)}.{memo}"
        if roll < 0.68:
            return f"TKThe :{digits(13)} tai VCB. {memo} -CTLNHIDI{digits(15)}-1/1-CRE-002"
        if roll < 0.76:
            return f"CT nhanh 247 den: {memo} (CT1111) {plain(payer).upper()}"
        if roll < 0.84:
            return f"{memo} FT{digits(14)}"
        if roll < 0.90:
            return f"IBFT {memo}"
        if roll < 0.95:
            return f"{memo.upper()}-{digits(6)}-{digits(2)}:{digits(2)}:{digits(2)} {digits(6)}"
        if roll < 0.98:
            return f"BIDV;{digits(13)};{memo}"
        return f"MB({digits(6)})({memo})"

    def finish(self, words: list[str], payer: str) -> str:
        words = [*words, self.polite()] if self.rng.random() < 0.5 else [self.polite(), *words]
        memo = " ".join(w for w in words if w)
        if self.rng.random() < 0.95:
            memo = plain(memo)
        return self.bank(self.case(memo), payer)

    def phone(self, number: str) -> str:
        rest = number[1:]
        return self.pick(number, f"{number[:4]} {number[4:7]} {number[7:]}", f"+84{rest}",
                         f"84{rest}", rest, f"{number[:4]}.{number[4:7]}.{number[7:]}",
                         f"{number[:3]} {number[3:6]} {number[6:]}")

    def typo(self, code: str) -> str:
        rng = self.rng
        alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
        kind = rng.choice(("substitution", "transposition", "deletion", "insertion"))
        # Errors fall anywhere, most often in the part after the prefix.
        i = rng.randrange(1, len(code) - 1) if rng.random() < 0.9 else rng.randrange(len(code))
        if kind == "substitution":
            return code[:i] + rng.choice(alphabet.replace(code[i], "")) + code[i + 1:]
        if kind == "transposition":
            unequal = [j for j in range(len(code) - 1) if code[j] != code[j + 1]]
            i = min(unequal, key=lambda j: abs(j - i))  # swapping equal ones changes nothing
            return code[:i] + code[i + 1] + code[i] + code[i + 2:]
        if kind == "deletion":
            return code[:i] + code[i + 1:]
        return code[:i] + rng.choice(alphabet) + code[i:]


def _weighted(rng: random.Random, pairs):
    names, weights = zip(*pairs, strict=True)
    return rng.choices(names, weights)[0]


def build_roster(rng: random.Random):
    classes = [f"{grade}{letter}" for grade in range(1, 6) for letter in "ABCD"]
    size = {name: rng.randint(27, 33) for name in classes}
    seats = [name for name in classes for _ in range(size[name])]
    rng.shuffle(seats)
    pupils: dict[str, Pupil] = {}
    families: dict[int, Family] = {}
    phones: set[str] = set()
    number = 0

    def new_phone() -> str:
        while True:
            phone = rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789")
                                                          for _ in range(7))
            if phone not in phones:
                phones.add(phone)
                return phone

    def child_name(surname: str, gender: str) -> str:
        while True:
            middle = rng.choice(BOY_MIDDLE if gender == "m" else GIRL_MIDDLE)
            given = rng.choice(BOY_GIVEN if gender == "m" else GIRL_GIVEN)
            parts = [surname, middle, given]
            if rng.random() < 0.15:  # four words: Nguyễn Thị Thu Hương, Trần Minh Gia Khôi
                parts.insert(2, rng.choice(GIRL_MIDDLE if gender == "f" else BOY_MIDDLE))
            if len(set(parts)) == len(parts):  # no "Mai Mai Ngọc", "Ngọc Ngọc"
                return " ".join(parts)

    while seats:
        number += 1
        surname = _weighted(rng, FAMILY_NAMES)
        father = rng.random() < 0.6
        if father:
            guardian = f"{surname} {rng.choice(MAN_MIDDLE)} {rng.choice(MAN_GIVEN)}"
        else:
            guardian = (f"{_weighted(rng, FAMILY_NAMES)} {rng.choice(WOMAN_MIDDLE)} "
                        f"{rng.choice(WOMAN_GIVEN)}")
        account = "".join(rng.choice("0123456789") for _ in range(rng.choice((10, 12, 13))))
        # The account holder is usually the guardian, sometimes the other parent.
        holder = guardian if rng.random() < 0.8 else (
            f"{_weighted(rng, FAMILY_NAMES)} {rng.choice(WOMAN_MIDDLE)} {rng.choice(WOMAN_GIVEN)}")
        family = Family(number, surname, guardian, new_phone(), account, plain(holder).upper())
        families[number] = family
        kids = rng.choices((1, 2, 3), (80, 17, 3))[0]
        for _ in range(min(kids, len(seats))):
            gender = rng.choice("mf")
            code = f"HS{len(pupils) + 1:04d}"
            pupil = Pupil(code, child_name(surname, gender), seats.pop(), gender, number,
                          guardian, family.guardian_phone)
            pupils[code] = pupil
            family.children.append(code)
    # The same full name in two classes, from two families (it happens in every big school).
    codes = list(pupils)
    for _ in range(10):
        first, second = rng.sample(codes, 2)
        if pupils[first].class_name != pupils[second].class_name:
            pupils[second].full_name = pupils[first].full_name
    # Open invoices: this month's, and for some an older one not fully paid; some pupils
    # have paid everything (their parents may still pay again, or ahead).
    issued = rng
    for pupil in pupils.values():
        grade = int(pupil.class_name[0])
        amount = rng.choice(FEES[grade])
        if rng.random() < 0.08:
            continue
        if rng.random() < 0.12:
            older = rng.choice((amount, 300_000, 450_000, 150_000))
            pupil.invoices.append((new_code(PREFIX, issued), older))
        pupil.invoices.append((new_code(PREFIX, issued), amount))
    # Families who have paid before from their account (for all their children or some).
    for family in families.values():
        if rng.random() < 0.55:
            family.paid_for = {c for c in family.children if rng.random() < 0.9}
    return pupils, families


def build(seed: int = SEED, per_style: int = 90, nobody: int = 160) -> Corpus:
    rng = random.Random(seed)
    pupils, families = build_roster(rng)
    write = _Writer(rng)

    by_given_class = Counter((plain(p.given).upper(), p.class_name) for p in pupils.values())
    by_full = Counter(plain(p.full_name).upper() for p in pupils.values())
    by_full_class = Counter((plain(p.full_name).upper(), p.class_name) for p in pupils.values())
    by_given = Counter(plain(p.given).upper() for p in pupils.values())
    by_middle_given_class = Counter(
        (" ".join(plain(p.full_name).upper().split()[-2:]), p.class_name)
        for p in pupils.values())
    guardians = Counter(plain(f.guardian_name).upper() for f in families.values())
    payer_names = Counter(f.payer_name for f in families.values())
    pupil_list = list(pupils.values())

    def amount_for(pupil: Pupil) -> int:
        if not pupil.invoices:
            return rng.choice(FEES[int(pupil.class_name[0])])
        roll = rng.random()
        if roll < 0.70:
            return pupil.invoices[-1][1]
        if roll < 0.80:
            return pupil.open_vnd
        return rng.choice((500_000, 1_000_000, 2_000_000, pupil.open_vnd + 50_000))

    def siblings(pupil: Pupil) -> list[Pupil]:
        return [pupils[c] for c in families[pupil.family].children]

    def tell_apart(pupil: Pupil) -> list[str]:
        """Words that pick the child out among its siblings (nothing for an only child)."""
        if len(siblings(pupil)) == 1:
            return rng.choice(([], [], [write.kin(), pupil.given]))
        given = plain(pupil.given).upper()
        same = [s for s in siblings(pupil) if plain(s.given).upper() == given]
        words = [write.kin(), pupil.given]
        if len(same) > 1 or rng.random() < 0.4:
            words.append(write.klass(pupil.class_name))
        return words

    memos: list[Memo] = []

    def add(style: str, make) -> None:
        made = 0
        attempts = 0
        while made < per_style and attempts < per_style * 20:
            attempts += 1
            pupil = rng.choice(pupil_list)
            memo = make(pupil)
            if memo is not None:
                memos.append(memo)
                made += 1

    def payer_of(pupil: Pupil) -> str:
        return families[pupil.family].payer_name

    def code_typo(pupil: Pupil) -> Memo | None:
        if not pupil.invoices:
            return None
        code = pupil.invoices[-1][0]
        typed = write.typo(code)
        roll = rng.random()
        if roll < 0.2:
            typed = f"{typed[:2]} {typed[2:]}"
        elif roll < 0.3:
            typed = f"{typed[:2]}-{typed[2:6]}-{typed[6:]}".lower()
        words = rng.choice((
            [typed, write.fee(), write.month()],
            [write.fee(), typed],
            [typed],
            [typed, write.kin(), pupil.given],
            [write.fee(), write.month(), typed, write.klass(pupil.class_name)],
        ))
        return Memo("code_typo", write.finish(words, payer_of(pupil)), amount_for(pupil),
                    pupil.code)

    def full_name(pupil: Pupil) -> Memo | None:
        key = plain(pupil.full_name).upper()
        with_class = by_full[key] > 1 or rng.random() < 0.4
        if with_class and by_full_class[(key, pupil.class_name)] > 1:
            return None
        words = rng.choice((
            [write.fee(), write.month(), pupil.full_name],
            [pupil.full_name, write.fee(), write.month()],
            [write.fee(), write.kin(), pupil.full_name],
            ["nop tien hoc cho", pupil.full_name],
        ))
        if with_class:
            words.append(write.klass(pupil.class_name))
        return Memo("full_name", write.finish(words, payer_of(pupil)), amount_for(pupil),
                    pupil.code)

    def name_class(pupil: Pupil) -> Memo | None:
        parts = pupil.full_name.split()
        short = " ".join(parts[-2:])
        if by_middle_given_class[(plain(short).upper(), pupil.class_name)] > 1:
            return None
        words = rng.choice((
            [write.fee(), write.month(), write.kin(), short, write.klass(pupil.class_name)],
            [short, write.klass(pupil.class_name), write.fee()],
            [write.kin(), short, write.klass(pupil.class_name), write.fee(), write.month()],
        ))
        return Memo("name_class", write.finish(words, payer_of(pupil)), amount_for(pupil),
                    pupil.code)

    def given_class(pupil: Pupil) -> Memo | None:
        if by_given_class[(plain(pupil.given).upper(), pupil.class_name)] > 1:
            return None
        words = rng.choice((
            [write.fee(), write.month(), write.kin(), pupil.given, write.klass(pupil.class_name)],
            [write.kin(), pupil.given, write.klass(pupil.class_name), write.fee()],
            [write.fee(), write.kin(), pupil.given, write.klass(pupil.class_name),
             write.month()],
        ))
        return Memo("given_class", write.finish(words, payer_of(pupil)), amount_for(pupil),
                    pupil.code)

    def guardian_name(pupil: Pupil) -> Memo | None:
        guardian = plain(pupil.guardian_name).upper()
        extra = tell_apart(pupil)
        if guardians[guardian] > 1 or (len(siblings(pupil)) > 1 and not extra):
            return None
        words = rng.choice((
            [pupil.guardian_name, "chuyen tien", write.fee(), *extra],
            [write.fee(), write.month(), *extra, "PH", pupil.guardian_name],
            [pupil.guardian_name, write.fee(), write.month(), *extra],
            ["phu huynh", pupil.guardian_name, "nop", write.fee(), *extra],
        ))
        return Memo("guardian_name", write.finish(words, payer_of(pupil)), amount_for(pupil),
                    pupil.code)

    def guardian_phone(pupil: Pupil) -> Memo | None:
        extra = tell_apart(pupil)
        if len(siblings(pupil)) > 1 and not extra:
            return None
        phone = write.phone(pupil.guardian_phone)
        words = rng.choice((
            [phone, write.fee(), write.month(), *extra],
            [write.fee(), write.month(), *extra, phone],
            ["PH", phone, "nop", write.fee(), *extra],
        ))
        return Memo("guardian_phone", write.finish(words, payer_of(pupil)), amount_for(pupil),
                    pupil.code)

    def payer_account(pupil: Pupil) -> Memo | None:
        family = families[pupil.family]
        if pupil.code not in family.paid_for:
            return None
        extra = [] if len(family.paid_for) == 1 else tell_apart(pupil)
        if len(family.paid_for) > 1 and not extra:
            return None
        words = rng.choice((["chuyen tien"], [write.fee(), write.month()], ["CK"],
                            [write.fee()], ["thanh toan", write.fee()]))
        return Memo("payer_account", write.finish([*words, *extra], family.payer_name),
                    amount_for(pupil), pupil.code, payer_account=family.account)

    def payer_name(pupil: Pupil) -> Memo | None:
        # Casso names the payer (counterAccountName); here a new account (no history) whose
        # holder is the guardian.
        family = families[pupil.family]
        holder = plain(pupil.guardian_name).upper()
        if family.payer_name != holder or payer_names[holder] > 1 or guardians[holder] > 1:
            return None
        extra = [] if len(family.children) == 1 else tell_apart(pupil)
        if len(family.children) > 1 and not extra:
            return None
        words = rng.choice((["chuyen tien"], [write.fee(), write.month()],
                            [write.fee(), write.month(), "cho con"]))
        return Memo("payer_name", write.finish([*words, *extra], holder), amount_for(pupil),
                    pupil.code, payer_account="9" + family.account, payer_name=holder)

    def vcb_payer(pupil: Pupil) -> Memo | None:
        # A Vietcombank wrapper names the payer: the guardian, paying from a new account.
        family = families[pupil.family]
        holder = plain(pupil.guardian_name).upper()
        if guardians[holder] > 1:
            return None
        extra = [] if len(family.children) == 1 else tell_apart(pupil)
        if len(family.children) > 1 and not extra:
            return None
        words = rng.choice((["chuyen tien"], [write.fee(), write.month()], ["CK"]))
        digits = "".join(rng.choice("0123456789") for _ in range(10))
        memo = plain(" ".join(w for w in [*words, *extra] if w))
        return Memo("vcb_payer", f"MBVCB.{digits}.{memo}.CT tu 1{digits[:9]}0 {holder} toi "
                    f"{SCHOOL_ACCOUNT} {SCHOOL_HOLDER}", amount_for(pupil), pupil.code)

    for style, make in (("code_typo", code_typo), ("full_name", full_name),
                        ("name_class", name_class), ("given_class", given_class),
                        ("guardian_name", guardian_name), ("guardian_phone", guardian_phone),
                        ("payer_account", payer_account), ("payer_name", payer_name),
                        ("vcb_payer", vcb_payer)):
        add(style, make)

    # Memos that name a child a person could not pick out: a given name many pupils share,
    # a guardian's name two families share. Not counted in the targets; the confident rate on
    # them is reported.
    def ambiguous(pupil: Pupil) -> Memo | None:
        given = plain(pupil.given).upper()
        if by_given[given] < 3:
            return None
        words = rng.choice(([write.fee(), write.month(), write.kin(), pupil.given],
                            [write.kin(), pupil.given, write.fee()]))
        return Memo("ambiguous", write.finish(words, "Nguyen Van A"),
                    rng.choice(FEES[rng.randint(1, 5)]), None)

    made = 0
    while made < per_style // 2:
        memo = ambiguous(rng.choice(pupil_list))
        if memo:
            memos.append(memo)
            made += 1

    # Memos that name nobody: fee wording, months, a class alone, a stranger's name, a phone
    # that is nobody's, the bank's default text; from accounts with no history.
    strangers = []
    guardian_given = {plain(f.guardian_name.split()[-1]).upper() for f in families.values()}
    while len(strangers) < 30:
        gender = rng.choice("mf")
        name = (f"{_weighted(rng, FAMILY_NAMES)} "
                f"{rng.choice(BOY_MIDDLE if gender == 'm' else GIRL_MIDDLE)} "
                f"{rng.choice(['Bảo', 'Đạt', 'Hậu', 'Lộc', 'Thịnh', 'Phú', 'Lực', 'Tín'])}")
        given = plain(name.split()[-1]).upper()
        if given not in by_given and given not in guardian_given:
            strangers.append(name)
    # Payers who are nobody's guardian and have never paid before.
    outsiders = [name for name in ("Hoàng Văn Toản", "Lê Thị Bích", "Phùng Minh Đạo",
                                   "Kiều Thị Nở", "Tô Văn Khải", "Lục Thị Hiền")
                 if plain(name).upper() not in guardians and plain(name).upper() not in payer_names]
    classes = sorted({p.class_name for p in pupil_list})
    for _ in range(nobody):
        words = rng.choice((
            ["chuyen tien"], ["CK"], [write.fee(), write.month()], ["thanh toan"],
            [write.fee(), write.month(), write.klass(rng.choice(classes))],
            ["nop tien ban tru", write.month()], ["ung ho quy lop", rng.choice(classes)],
            [write.fee(), "cho", rng.choice(("con", "chau", "be"))],
            [write.fee(), write.month(), "nam hoc 2026 2027"],
            [write.fee(), write.kin(), rng.choice(strangers)],
            [write.phone("09" + "".join(rng.choice("0123456789") for _ in range(8))),
             write.fee()],
            ["chuyen khoan"], [""], ["tien an thang", str(rng.randint(9, 12))],
        ))
        payer = rng.choice(outsiders)
        memos.append(Memo("nobody", write.finish(words, payer),
                          rng.choice(FEES[rng.randint(1, 5)]), None,
                          payer_account="77" + "".join(rng.choice("0123456789")
                                                       for _ in range(10)),
                          payer_name=rng.choice((None, plain(payer).upper()))))
    return Corpus(pupils, families, memos)


@dataclass
class Outcome:
    memo: Memo
    #: Distinct pupils in the order suggested.
    ranked: list[str]
    confident: bool

    @property
    def position(self) -> int | None:
        """1 for first; None when the target is not suggested (or there is none)."""
        if self.memo.target is None or self.memo.target not in self.ranked:
            return None
        return self.ranked.index(self.memo.target) + 1


def evaluate(corpus: Corpus, pool: CandidatePool | None = None) -> list[Outcome]:
    from tuition.core.suggestions import rank_suggestions

    pool = pool or CandidatePool(corpus.candidates())
    outcomes = []
    for memo in corpus.memos:
        ranked = rank_suggestions(memo.memo, memo.amount_vnd, pool, limit=None,
                                  payer_name=memo.payer_name,
                                  paid_before=corpus.paid_before(memo),
                                  payer_name_paid_before=corpus.named_before(memo))
        students: list[str] = []
        for suggestion in ranked:
            if suggestion.candidate.student_code not in students:
                students.append(suggestion.candidate.student_code)
        outcomes.append(Outcome(memo, students, bool(ranked and ranked[0].confident)))
    return outcomes


@dataclass
class Rates:
    count: int
    top1: float
    top3: float
    #: Share of memos whose first suggestion is flagged confident ...
    confident: float
    #: ... and flagged confident but not the memo's pupil (for memos naming nobody: all).
    confident_wrong: float


def rates(outcomes: list[Outcome]) -> dict[str, Rates]:
    """Per memo style and overall ("identifying": every style but "nobody")."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[outcome.memo.style].append(outcome)
        if outcome.memo.target is not None:
            groups["identifying"].append(outcome)

    def of(items: list[Outcome]) -> Rates:
        n = len(items)
        top1 = sum(1 for o in items if o.position == 1)
        top3 = sum(1 for o in items if o.position is not None and o.position <= 3)
        confident = sum(1 for o in items if o.confident)
        wrong = sum(1 for o in items if o.confident and o.position != 1)
        return Rates(n, top1 / n, top3 / n, confident / n, wrong / n)

    return {style: of(items) for style, items in sorted(groups.items())}
