"""Parse class rosters (danh sách học sinh) uploaded as XLSX or CSV.

The result is a list of clean :class:`RosterRow` values for the student-import service, or
:class:`RosterInvalid` listing every bad cell: one bad row means nothing is imported, so the
accountant should be able to fix the whole file in one go.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl.utils.datetime import from_excel

from ..core import clock
from .tabular import (
    Cell,
    CellError,
    RowCells,
    RowError,
    RowsInvalid,
    Table,
    clean_text,
    header_errors,
    match_headers,
    normalise_header,
    read_table,
    show,
)

__all__ = [
    "GRADES",
    "LEVEL_OF_GRADE",
    "ROSTER_COLUMNS",
    "TEMPLATE_EXAMPLE",
    "TEMPLATE_HEADERS",
    "RosterInvalid",
    "RosterRow",
    "RowError",
    "infer_grade",
    "parse_date_of_birth",
    "parse_email",
    "parse_phone",
    "parse_roster",
    "parse_student_code",
]

#: Grade codes, as stored on classrooms, and how they are shown.
GRADES: dict[str, str] = {
    "NT": "Nhà trẻ",
    "MGB": "Mẫu giáo bé",
    "MGN": "Mẫu giáo nhỡ",
    "MGL": "Mẫu giáo lớn",
    **{str(n): f"Lớp {n}" for n in range(1, 10)},
}

#: Grade code -> school level key (see ``tuition.models.school.LEVELS``).
LEVEL_OF_GRADE: dict[str, str] = {
    "NT": "mam_non",
    "MGB": "mam_non",
    "MGN": "mam_non",
    "MGL": "mam_non",
    **{str(n): "tieu_hoc" for n in range(1, 6)},
    **{str(n): "thcs" for n in range(6, 10)},
}

#: Accepted headers per field; matched after :func:`normalise_header`, so case, diacritics
#: and punctuation do not matter ("MÃ HỌC SINH", "ma_hoc_sinh" and "Mã học sinh (*)" agree).
ROSTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": (
        "Mã học sinh", "Mã HS", "Mã số học sinh", "Mã số HS", "Mã số", "Mã",
        "Mã định danh", "Mã định danh học sinh",
        "Student code", "Student ID", "Student number", "Code", "ID",
    ),
    "full_name": (
        "Họ và tên", "Họ tên", "Họ và tên học sinh", "Họ tên học sinh", "Tên học sinh",
        "Full name", "Name", "Student name", "Student full name",
    ),
    # Exports from school-management systems often split the name in two columns.
    "family_name": ("Họ đệm", "Họ và tên đệm", "Họ và đệm", "Họ", "Family name", "Last name"),
    "given_name": ("Tên", "Given name", "First name"),
    "date_of_birth": (
        "Ngày sinh", "Ngày tháng năm sinh", "Ngày/tháng/năm sinh", "NS",
        "Date of birth", "Birth date", "Birthdate", "Birthday", "DOB",
    ),
    "class_name": ("Lớp", "Tên lớp", "Lớp học", "Class", "Class name", "Classroom"),
    "guardian_name": (
        "Họ tên phụ huynh", "Họ và tên phụ huynh", "Phụ huynh", "Tên phụ huynh",
        "Họ tên cha mẹ", "Cha mẹ", "Người giám hộ", "Họ tên người giám hộ",
        "Guardian", "Guardian name", "Parent", "Parent name",
    ),
    "guardian_phone": (
        "Số điện thoại", "Điện thoại", "SĐT", "Số ĐT", "ĐT", "ĐTDĐ",
        "SĐT phụ huynh", "Điện thoại phụ huynh", "Số điện thoại phụ huynh", "ĐT phụ huynh",
        "Phone", "Phone number", "Mobile", "Guardian phone", "Parent phone",
    ),
    "guardian_email": (
        "Email", "E-mail", "Email phụ huynh", "Thư điện tử", "Địa chỉ email",
        "Guardian email", "Parent email",
    ),
}

#: The columns of the downloadable template, in order: field -> header. A column missing
#: from a file is named in messages as the template names it.
TEMPLATE_HEADERS: dict[str, str] = {
    "code": "Mã học sinh",
    "full_name": "Họ và tên",
    "date_of_birth": "Ngày sinh",
    "class_name": "Lớp",
    "guardian_name": "Họ tên phụ huynh",
    "guardian_phone": "Số điện thoại",
}
#: The template's example row (the birth date a real date, so Excel shows it as one).
TEMPLATE_EXAMPLE = ("HS001", "Nguyễn Thị Ánh Dương", date(2019, 3, 5), "1A", "Nguyễn Văn Bình",
                    "0912345678")

# How a required field is named in messages: Vietnamese (the template's header) and English.
_LABELS = {
    "code": (TEMPLATE_HEADERS["code"], "Student code"),
    "full_name": (TEMPLATE_HEADERS["full_name"], "Full name"),
    "class_name": (TEMPLATE_HEADERS["class_name"], "Class"),
}

_REQUIRED = ("code", "full_name", "class_name")
_MAX_NAME = 120  # students.full_name / guardian_name column width
_MAX_CLASS = 40  # classrooms.name column width
_MIN_AGE, _MAX_AGE = 1, 20


@dataclass(frozen=True)
class RosterRow:
    """One student as read from the file, already normalised."""

    #: Spreadsheet row number, for messages raised later by the import service.
    row: int
    code: str
    full_name: str
    date_of_birth: date | None
    class_name: str
    guardian_name: str | None
    guardian_phone: str | None
    #: Where messages go by email (optional column).
    guardian_email: str | None = None
    #: Field name -> the column's header as the file writes it, for later messages
    #: (shared by the rows of one file).
    columns: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def column(self, name: str) -> str:
        """The header of field ``name`` as in the file, else as the template writes it."""
        return self.columns.get(name) or TEMPLATE_HEADERS[name]


class RosterInvalid(RowsInvalid):
    """The roster has errors; :attr:`errors` lists every one of them."""


def parse_roster(data: bytes, filename: str, *, today: date | None = None) -> list[RosterRow]:
    """Parse an uploaded roster into rows, or raise :class:`RosterInvalid` with every error.

    ``today`` anchors the plausible birth-date range (1 to 20 years ago); tests pass it.
    Raises :class:`~tuition.importing.tabular.ImportFileError` when the file is unreadable.
    """
    table = read_table(data, filename)
    columns, header_errors = _roster_columns(table)
    if header_errors:
        raise RosterInvalid(header_errors)
    headers = {name: table.headers[index] for name, index in columns.items()}
    today = today or clock.today_vn()
    earliest, latest = _years_before(today, _MAX_AGE), _years_before(today, _MIN_AGE)

    def birth_date(value: Cell) -> date:
        return parse_date_of_birth(value, earliest=earliest, latest=latest, epoch=table.epoch)

    errors: list[RowError] = []
    result: list[RosterRow] = []
    first_row_of_code: dict[str, int] = {}
    for number, cells in table.rows:
        row = RowCells(table.headers, number, cells, errors)
        before = len(errors)
        code = row.parse(columns["code"], parse_student_code, required=_LABELS["code"])
        if "full_name" in columns:
            full_name = row.parse(
                columns["full_name"], _parse_full_name, required=_LABELS["full_name"]
            )
        else:
            # Split columns ("Họ đệm" + "Tên" -> "Nguyễn Văn" + "An"); errors go to "Tên".
            parts = (clean_text(cells[columns[part]]) for part in ("family_name", "given_name"))
            full_name = row.parse_value(
                columns["given_name"], " ".join(part for part in parts if part) or None,
                _parse_full_name, required=_LABELS["full_name"],
            )
        date_of_birth = row.parse(columns.get("date_of_birth"), birth_date)
        class_name = row.parse(
            columns["class_name"], parse_class_name, required=_LABELS["class_name"]
        )
        guardian_name = row.parse(columns.get("guardian_name"), _parse_guardian_name)
        guardian_phone = row.parse(columns.get("guardian_phone"), parse_phone)
        guardian_email = row.parse(columns.get("guardian_email"), parse_email)
        if code is not None:
            first = first_row_of_code.setdefault(code, number)
            if first != number:
                row.error(
                    columns["code"],
                    f"Mã học sinh {code} trùng với dòng {first}.",
                    f"Student code {code} is already used on row {first}.",
                )
        if len(errors) == before:
            assert code is not None and full_name is not None and class_name is not None
            result.append(RosterRow(
                row=number, code=code, full_name=full_name, date_of_birth=date_of_birth,
                class_name=class_name, guardian_name=guardian_name,
                guardian_phone=guardian_phone, guardian_email=guardian_email,
                columns=headers,
            ))
    if errors:
        raise RosterInvalid(errors)
    return result


def _roster_columns(table: Table) -> tuple[dict[str, int], list[RowError]]:
    """Locate the roster's columns; errors for missing or doubled ones."""
    match = match_headers(table.headers, ROSTER_COLUMNS, required=_REQUIRED)
    missing = list(match.missing)
    if "full_name" in missing and {"family_name", "given_name"} <= match.columns.keys():
        missing.remove("full_name")
    errors = header_errors(table, match, missing, _LABELS)
    return match.columns, errors


# --- Cell parsers ----------------------------------------------------------------------------

_CODE = re.compile(r"[A-Z0-9_-]{1,20}")


def parse_student_code(value: Cell) -> str:
    """Upper-cased code of 1-20 characters A-Z, 0-9, "-" or "_".

    Excel stores numeric codes as numbers, so 1001 and 1001.0 both become "1001".
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip().upper()
    else:
        text = ""
    if not _CODE.fullmatch(text):
        raise CellError(
            f"Mã học sinh {show(value)} không hợp lệ: chỉ gồm 1–20 ký tự chữ không dấu, "
            'số, "-" hoặc "_".',
            f"Student code {show(value)} is invalid: use 1-20 characters A-Z, 0-9, - or _.",
        )
    return text


def _parse_full_name(value: Cell) -> str:
    return _parse_person_name(value, "Họ và tên", "Full name")


def _parse_guardian_name(value: Cell) -> str:
    return _parse_person_name(value, "Họ tên phụ huynh", "Guardian name")


def _parse_person_name(value: Cell, label_vi: str, label_en: str) -> str:
    """NFC, single-spaced, diacritics kept; must contain a letter and fit the column."""
    text = clean_text(value) or ""
    if not any(ch.isalpha() for ch in text):
        raise CellError(
            f"{label_vi} {show(value)} không hợp lệ: phải có chữ cái.",
            f"{label_en} {show(value)} is invalid: it must contain letters.",
        )
    if len(text) > _MAX_NAME:
        raise CellError(
            f"{label_vi} dài quá {_MAX_NAME} ký tự.",
            f"{label_en} is longer than {_MAX_NAME} characters.",
        )
    return text


# "2a", "Lớp 6a1", "1/1" (the southern style), "10A2": a grade number then a section.
_NUMBERED_CLASS = re.compile(r"(?:lớp\s*)?(\d+[0-9a-z]*(?:\s*[/.\-]\s*[0-9a-z]+)?)", re.I)


def parse_class_name(value: Cell) -> str:
    """Class name as the school will see it everywhere.

    Numbered classes are canonicalised ("lớp 2a" -> "2A", "1 / 1" -> "1/1") so that one
    class is not split in two by how it was typed; other names ("Lá 1", "Chồi 2") are kept
    as written, NFC and single-spaced.
    """
    text = clean_text(value) or ""
    numbered = _NUMBERED_CLASS.fullmatch(text)
    if numbered:
        text = re.sub(r"\s+", "", numbered.group(1)).upper()
    if not text or len(text) > _MAX_CLASS:
        raise CellError(
            f"Tên lớp {show(value)} không hợp lệ (tối đa {_MAX_CLASS} ký tự).",
            f"Class name {show(value)} is invalid (at most {_MAX_CLASS} characters).",
        )
    return text


# CSVs written by scripts sometimes carry a (midnight) time after the date; it is ignored.
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DMY = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})" + _TIME)
_YMD = re.compile(r"(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})" + _TIME)
_SHORT_YEAR = re.compile(r"\d{1,2}([/.\-])\d{1,2}\1\d{2}")


def parse_date_of_birth(
    value: Cell, *, earliest: date, latest: date, epoch: datetime | None = None
) -> date:
    """A birth date from a date cell, an Excel serial number or dd/mm/yyyy-style text.

    Text is read day first, as Vietnamese write it; "12/25/2015" is refused rather than
    guessed. The result must lie between ``earliest`` and ``latest`` inclusive.
    """
    if isinstance(value, datetime):
        result = value.date()
    elif isinstance(value, date):
        result = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        # A date cell formatted as "General" shows (and stores) its serial number.
        try:
            result = (from_excel(value, epoch) if epoch else from_excel(value)).date()
        except (OverflowError, ValueError) as exc:
            raise _bad_date(value) from exc
    elif isinstance(value, str):
        result = _parse_date_text(value.strip())
    else:  # a bare time, a boolean
        raise _bad_date(value)
    if not earliest <= result <= latest:
        shown = result.strftime("%d/%m/%Y")
        raise CellError(
            f"Ngày sinh {shown} không hợp lý: học sinh phải từ {_MIN_AGE} đến {_MAX_AGE} "
            f"tuổi (sinh từ {earliest:%d/%m/%Y} đến {latest:%d/%m/%Y}).",
            f"Date of birth {shown} is implausible: students must be {_MIN_AGE} to "
            f"{_MAX_AGE} years old (born {earliest:%d/%m/%Y} to {latest:%d/%m/%Y}).",
        )
    return result


def _parse_date_text(text: str) -> date:
    if match := _DMY.fullmatch(text):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
    elif match := _YMD.fullmatch(text):
        year, month, day = int(match[1]), int(match[3]), int(match[4])
    elif _SHORT_YEAR.fullmatch(text):
        raise CellError(
            f'Ngày sinh "{text}" phải ghi năm đủ 4 chữ số, ví dụ 05/09/2018.',
            f'Date of birth "{text}" needs a four-digit year, e.g. 05/09/2018.',
        )
    else:
        raise _bad_date(text)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise CellError(
            f'Ngày sinh "{text}" không tồn tại (ngày/tháng/năm).',
            f'Date of birth "{text}" does not exist (day/month/year).',
        ) from exc


def _bad_date(value: Cell) -> CellError:
    return CellError(
        f"Ngày sinh {show(value)} không đúng định dạng; hãy nhập ngày/tháng/năm, "
        "ví dụ 05/09/2018.",
        f"Date of birth {show(value)} is not a date; use day/month/year, e.g. 05/09/2018.",
    )


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap target year
        return day.replace(year=day.year - years, day=28)


_PHONE_NOISE = re.compile(r"[\s.\-()]")
_DIGITS = re.compile(r"[0-9]+")
_MOBILE = re.compile(r"0[35789][0-9]{8}")
_LANDLINE = re.compile(r"02[0-9]{9}")


def parse_phone(value: Cell) -> str:
    """A Vietnamese phone number in national form: "0912345678" (or an 11-digit 02x landline).

    Accepts spaces and dots, "+84"/"84" prefixes, and numbers whose leading 0 Excel dropped
    because the cell was numeric (912345678).
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(value)
    elif isinstance(value, str):
        digits = _PHONE_NOISE.sub("", value)
        if digits.startswith("+84"):
            digits = "0" + digits[3:]
        elif digits.startswith("0084"):
            digits = "0" + digits[4:]
    else:
        digits = ""
    if _DIGITS.fullmatch(digits):
        if digits.startswith("84") and len(digits) in (11, 12):
            digits = "0" + digits[2:]
        elif not digits.startswith("0") and len(digits) in (9, 10):
            digits = "0" + digits
        if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
            return digits
    if isinstance(value, str) and re.search(r"[0-9].*[/,;].*[0-9]", value):
        raise CellError(
            f"Số điện thoại {show(value)}: chỉ ghi một số cho mỗi học sinh.",
            f"Phone {show(value)}: enter only one number per student.",
        )
    raise CellError(
        f"Số điện thoại {show(value)} không hợp lệ: cần 10 số, bắt đầu bằng 03, 05, 07, 08 "
        "hoặc 09 (hoặc số bàn 11 số bắt đầu bằng 02).",
        f"Phone {show(value)} is invalid: expected 10 digits starting with 03, 05, 07, 08 or "
        "09 (or an 11-digit landline starting with 02).",
    )


def parse_email(value: Cell) -> str:
    """A guardian's email address (trimmed, its domain lower-cased)."""
    from ..messaging.core import check_email

    email = check_email(value if isinstance(value, str) else None)
    if email is None:
        raise CellError(
            f"Email {show(value)} không hợp lệ (ví dụ: phuhuynh@gmail.com).",
            f"Email {show(value)} is not a valid address (e.g. parent@gmail.com).",
        )
    return email


# --- Grades ----------------------------------------------------------------------------------

# Checked in order on the normalised name (lowercase, no diacritics, punctuation -> space).
# Mầm non rules come first so that "5 tuổi" is not read as grade 5.
_PRESCHOOL_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), grade)
    for pattern, grade in (
        (r"\bnt(?:[a-z]|[0-9]+)?\b", "NT"),
        (r"\bmgb(?:[a-z]|[0-9]+)?\b", "MGB"),
        (r"\bmgn(?:[a-z]|[0-9]+)?\b", "MGN"),
        (r"\bmgl(?:[a-z]|[0-9]+)?\b", "MGL"),
        (r"\bnha tre\b", "NT"),
        (r"\b(?:[0-9]|[12][0-9]|3[0-6])(?: [0-9]{1,2})? thang\b", "NT"),
        (r"\b2(?: 3)? tuoi\b", "NT"),
        (r"\b3(?: 4)? tuoi\b", "MGB"),
        (r"\b4(?: 5)? tuoi\b", "MGN"),
        (r"\b5(?: 6)? tuoi\b", "MGL"),
        (r"\bbe\b", "MGB"),
        (r"\bnho\b", "MGN"),
        (r"\blon\b", "MGL"),
        # Southern names: Mầm (3-4), Chồi (4-5), Lá (5-6); "mầm non" is the level itself.
        (r"\bmam\b(?! non\b)", "MGB"),
        (r"\bchoi\b", "MGN"),
        (r"\bla\b", "MGL"),
    )
)
# "1a", "6a1", "lop 3", "6 2" (from "6/2"); the lookahead keeps "10a1" from reading as 1.
_SCHOOL_GRADE = re.compile(r"(?:lop )?([1-9])(?![0-9])(?:[a-z][a-z0-9]*| [a-z0-9]{1,3})?")


def infer_grade(class_name: str) -> str | None:
    """The grade code (a key of :data:`GRADES`) a class name suggests, or ``None``.

    "1A".."5C" -> "1".."5", "6A1".."9B" -> "6".."9"; mầm non groups by their usual names
    (nhà trẻ / NT / 24-36 tháng, mẫu giáo bé / MGB / 3-4 tuổi / Mầm, nhỡ / Chồi, lớn / Lá).
    """
    text = normalise_header(class_name)
    for pattern, grade in _PRESCHOOL_RULES:
        if pattern.search(text):
            return grade
    if match := _SCHOOL_GRADE.fullmatch(text):
        return match[1]
    return None
