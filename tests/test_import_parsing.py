"""Parsing of uploaded rosters and adjustment files (pure: no app, no database)."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from tuition.importing.adjustments import (
    AdjustmentRow,
    AdjustmentsInvalid,
    parse_adjustments,
    parse_amount_vnd,
)
from tuition.importing.roster import (
    GRADES,
    LEVEL_OF_GRADE,
    ROSTER_COLUMNS,
    RosterInvalid,
    RosterRow,
    RowError,
    infer_grade,
    parse_class_name,
    parse_date_of_birth,
    parse_phone,
    parse_roster,
    parse_student_code,
)
from tuition.importing.tabular import (
    CellError,
    ImportFileError,
    match_headers,
    normalise_header,
    read_table,
)

TODAY = date(2026, 9, 1)
VI_HEADERS = ["STT", "Mã học sinh", "Họ và tên", "Ngày sinh", "Lớp", "Họ tên phụ huynh",
              "Số điện thoại"]


def xlsx(rows: list[list[object]], *, start_row: int = 1) -> bytes:
    """An .xlsx file whose first sheet holds ``rows`` from ``start_row`` down."""
    workbook = Workbook()
    sheet = workbook.active
    for offset, values in enumerate(rows):
        for column, value in enumerate(values, start=1):
            if value is not None:
                sheet.cell(row=start_row + offset, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_text(lines: list[str], *, bom: bool = False) -> bytes:
    return ("\ufeff" if bom else "").encode() + "\r\n".join(lines).encode()


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def cp1258(text: str) -> bytes:
    """What Excel's plain "CSV" gives on Vietnamese Windows: Windows-1258.

    That code page has ơ, ư, ê... precomposed but the five tone marks only as combining
    characters, so Python's codec needs the tones split off first.
    """
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for char in text:
        base, *marks = unicodedata.normalize("NFD", char)
        letter = unicodedata.normalize("NFC", base + "".join(m for m in marks if m not in tones))
        out.append((letter + "".join(m for m in marks if m in tones)).encode("cp1258"))
    return b"".join(out)


def roster_errors(data: bytes, filename: str) -> list[tuple[int, str]]:
    with pytest.raises(RosterInvalid) as caught:
        parse_roster(data, filename, today=TODAY)
    return [(error.row, error.column) for error in caught.value.errors]


# --- Rosters -------------------------------------------------------------------------------


def test_xlsx_roster_with_vietnamese_headers_and_excel_types():
    data = xlsx(
        [
            VI_HEADERS,
            [1, 1001, "Nguyễn Văn An", date(2019, 3, 5), "1a", "Nguyễn Văn Bình", 912345678],
            [2, 1002.0, nfd("Trần Thị Bảo Ngọc"), datetime(2018, 12, 31), "Lớp 2B", None,
             "+84 987 654 321"],
            [],  # a blank line in the middle of the list
            [3, " hs-003 ", "  Lê   Minh  Châu ", "05/09/2014", "6A1", "Lê Văn Dũng",
             "0356.123.456"],
            [4, "HS_004", "Phạm Gia Huy", None, "Lá 1", None, None],
        ],
        start_row=2,  # row 1 left empty, as when a title was deleted
    )

    rows = parse_roster(data, "Danh sách lớp.xlsx", today=TODAY)

    assert rows == [
        RosterRow(3, "1001", "Nguyễn Văn An", date(2019, 3, 5), "1A", "Nguyễn Văn Bình",
                  "0912345678"),
        RosterRow(4, "1002", "Trần Thị Bảo Ngọc", date(2018, 12, 31), "2B", None,
                  "0987654321"),
        RosterRow(6, "HS-003", "Lê Minh Châu", date(2014, 9, 5), "6A1", "Lê Văn Dũng",
                  "0356123456"),
        RosterRow(7, "HS_004", "Phạm Gia Huy", None, "Lá 1", None, None),
    ]
    # NFD from macOS comes out composed, so it compares equal to what is typed on the web.
    assert rows[1].full_name == unicodedata.normalize("NFC", "Trần Thị Bảo Ngọc")


def test_excel_serial_number_dates_are_read_with_the_workbook_epoch():
    serial = (datetime(2019, 3, 5) - datetime(1899, 12, 30)).days
    data = xlsx([["Mã HS", "Họ tên", "Ngày sinh", "Tên lớp"], ["A1", "Võ An", serial, "1A"]])

    assert parse_roster(data, "a.xlsx", today=TODAY)[0].date_of_birth == date(2019, 3, 5)


def test_csv_with_bom_and_english_headers():
    data = csv_text(
        [
            "Student code,Full name,Date of birth,Class,Guardian name,Phone",
            'S1,"Đỗ Hoàng Nam",2019-03-05,3c,"Đỗ Văn Tú",0912 345 678',
            "S2,Bùi Thu Hà,5/9/2015,4A,,84912345678",
        ],
        bom=True,
    )

    assert parse_roster(data, "roster.CSV", today=TODAY) == [
        RosterRow(2, "S1", "Đỗ Hoàng Nam", date(2019, 3, 5), "3C", "Đỗ Văn Tú", "0912345678"),
        RosterRow(3, "S2", "Bùi Thu Hà", date(2015, 9, 5), "4A", None, "0912345678"),
    ]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_without_bom_any_delimiter_and_nfd_names(delimiter):
    lines = [
        delimiter.join(["Mã HS", "Họ tên", "Ngày sinh", "Lớp", "Phụ huynh", "SĐT"]),
        delimiter.join(["7", nfd("Nguyễn Thị Ánh"), "01.06.2020", "MGL A", nfd("Hồ Thị Lan"),
                        "0868123456"]),
    ]

    [row] = parse_roster(csv_text(lines), "ds.csv", today=TODAY)

    assert row == RosterRow(2, "7", "Nguyễn Thị Ánh", date(2020, 6, 1), "MGL A", "Hồ Thị Lan",
                            "0868123456")
    assert row.full_name == unicodedata.normalize("NFC", row.full_name)


def test_utf16_csv_from_excel_unicode_text_is_read():
    text = "Mã học sinh\tHọ và tên\tLớp\r\nX9\tLý Tiểu Long\t9B\r\n"

    [row] = parse_roster(text.encode("utf-16"), "ds.csv", today=TODAY)

    assert (row.code, row.full_name, row.class_name) == ("X9", "Lý Tiểu Long", "9B")


def test_split_family_and_given_name_columns_are_joined():
    data = xlsx([["Mã HS", "Họ đệm", "Tên", "Lớp"], ["K1", "Nguyễn Văn", "An", "5A"],
                 ["K2", None, None, "5A"]])

    with pytest.raises(RosterInvalid) as caught:
        parse_roster(data, "a.xlsx", today=TODAY)

    assert caught.value.errors == [
        RowError(3, "Tên", "Thiếu họ và tên.", "Full name is missing."),
    ]
    good = xlsx([["Mã HS", "Họ đệm", "Tên", "Lớp"], ["K1", "Nguyễn Văn", "An", "5A"]])
    assert parse_roster(good, "a.xlsx", today=TODAY)[0].full_name == "Nguyễn Văn An"


def test_every_bad_row_is_reported_with_row_and_column():
    data = xlsx([
        VI_HEADERS,
        [1, "A1", "Nguyễn An", "31/02/2019", "1A", None, "0912345678"],  # impossible date
        [2, "A2", None, "01/01/2019", "1A", None, None],  # missing name
        [3, "A3", "Trần Bình", None, "1A", None, "0123456789"],  # not a mobile prefix
        [4, "a1", "Lê Chi", None, "1A", None, None],  # duplicate of row 2 (case-insensitive)
        [5, "A5", "Mai Dung", "01/01/1990", "1A", None, None],  # far too old
        [6, "A6", "Hà Em", "x", None, None, "12"],  # two problems on one row, plus no class
        [7, "A7", "Đinh Giang", date(2019, 1, 1), "1A", None, None],  # fine
    ])

    with pytest.raises(RosterInvalid) as caught:
        parse_roster(data, "a.xlsx", today=TODAY)

    errors = caught.value.errors
    assert [(e.row, e.column) for e in errors] == [
        (2, "Ngày sinh"),
        (3, "Họ và tên"),
        (4, "Số điện thoại"),
        (5, "Mã học sinh"),
        (6, "Ngày sinh"),
        (7, "Ngày sinh"),
        (7, "Lớp"),
        (7, "Số điện thoại"),
    ]
    messages = [e.message for e in errors]
    assert messages[0] == 'Ngày sinh "31/02/2019" không tồn tại (ngày/tháng/năm).'
    assert messages[1] == "Thiếu họ và tên."
    assert messages[2].startswith('Số điện thoại "0123456789" không hợp lệ')
    assert messages[3] == "Mã học sinh A1 trùng với dòng 2."
    assert messages[4].startswith("Ngày sinh 01/01/1990 không hợp lý")
    assert all(e.message_en for e in errors)


def test_missing_required_columns_are_named():
    data = csv_text(["STT,Họ và tên,Ngày sinh", "1,An,01/01/2019"])

    with pytest.raises(RosterInvalid) as caught:
        parse_roster(data, "a.csv", today=TODAY)

    # A missing column is named as the template names it, never by an internal field name.
    assert [(e.row, e.column) for e in caught.value.errors] == [(1, "Mã học sinh"), (1, "Lớp")]
    assert caught.value.errors[0].message == (
        'Thiếu cột "Mã học sinh" (hoặc "Student code") ở dòng tiêu đề 1.'
    )


def test_two_columns_with_the_same_meaning_are_an_error():
    data = csv_text(["Mã HS,Họ tên,Họ và tên,Lớp", "1,An,An,1A"])

    assert roster_errors(data, "a.csv") == [(1, "Họ và tên")]


@pytest.mark.parametrize(
    "header",
    ["Mã học sinh", "MÃ HỌC SINH", "Ma hoc sinh", "Mã HS", "student_code", "Student code",
     " Mã  học sinh (*) ", nfd("Mã học sinh"), "MÃ SỐ HỌC SINH"],
)
def test_code_header_spellings(header):
    match = match_headers(["STT", header], ROSTER_COLUMNS)

    assert match.columns == {"code": 1}


def test_normalise_header():
    assert normalise_header("SĐT phụ huynh") == "sdt phu huynh"
    assert normalise_header("Ngày sinh (dd/mm/yyyy)") == "ngay sinh"
    assert normalise_header("Họ_và-tên") == "ho va ten"


def test_header_spellings_never_mean_two_fields():
    with pytest.raises(ValueError, match="both"):
        match_headers([], {"a": {"Mã HS"}, "b": {"ma hs"}})


def test_roster_of_5000_xlsx_rows():
    rows = [["Mã học sinh", "Họ và tên", "Ngày sinh", "Lớp", "Họ tên phụ huynh", "SĐT"]]
    rows += [
        [f"HS{n:05}", f"Nguyễn Văn Học Sinh {n}", date(2015, 1 + n % 12, 1 + n % 28),
         f"{1 + n % 5}A", "Nguyễn Văn Cha", 912000000 + n]
        for n in range(5000)
    ]

    parsed = parse_roster(xlsx(rows), "big.xlsx", today=TODAY)

    assert len(parsed) == 5000
    assert parsed[-1] == RosterRow(5001, "HS04999", "Nguyễn Văn Học Sinh 4999",
                                   date(2015, 8, 16), "5A", "Nguyễn Văn Cha", "0912004999")


# --- Unreadable files ----------------------------------------------------------------------


def test_non_utf8_csv_is_refused_in_vietnamese():
    data = cp1258("Mã học sinh,Họ và tên,Lớp\r\n1,Nguyễn Văn Ánh,1A\r\n")

    with pytest.raises(ImportFileError) as caught:
        read_table(data, "ds.csv")

    assert "CSV UTF-8" in caught.value.message_vi
    assert "không dùng bảng mã UTF-8" in caught.value.message_vi
    assert "CSV UTF-8" in caught.value.message_en


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"Ma HS,Lop\n1,1A\n", "ds.txt", "Chỉ nhận tệp Excel (.xlsx) hoặc CSV (.csv)."),
        (b"%PDF-1.7\n...", "ds.pdf", "Chỉ nhận tệp Excel (.xlsx) hoặc CSV (.csv)."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "ds.xls", "Excel 97-2003"),
        (b"not a zip at all", "ds.xlsx", "Không đọc được tệp Excel"),
        (b"PK\x03\x04 truncated", "ds.xlsx", "Không đọc được tệp Excel"),
        (b"", "ds.csv", "Tệp không có dữ liệu."),
        (b"\r\n ,,\r\n", "ds.csv", "Tệp không có dữ liệu."),
        (b"Ma HS,Lop\r\n", "ds.csv", "chỉ có dòng tiêu đề (dòng 1)"),
    ],
)
def test_unreadable_files(data, filename, expected):
    with pytest.raises(ImportFileError) as caught:
        read_table(data, filename)

    assert expected in caught.value.message_vi
    assert caught.value.message_en


def test_xlsx_with_a_damaged_sheet_is_refused():
    source = zipfile.ZipFile(io.BytesIO(xlsx([["Mã HS"], ["1"]])))
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as target:
        for name in source.namelist():
            body = source.read(name)
            target.writestr(name, b"<worksheet><sheetData><row" if "worksheets/" in name else body)

    with pytest.raises(ImportFileError, match="Không đọc được tệp Excel"):
        read_table(damaged.getvalue(), "ds.xlsx")


def test_xlsx_renamed_to_csv_is_explained():
    with pytest.raises(ImportFileError, match="đuôi .csv"):
        read_table(xlsx([["Mã HS"], ["1"]]), "ds.csv")


def test_read_table_pads_rows_and_counts_row_numbers_like_excel():
    table = read_table(csv_text(["", "A,B,C", "1", "", '"x\ny",2,3,extra']), "t.csv")

    assert table.header_row == 2
    assert table.headers == ["A", "B", "C"]
    assert table.rows == [(3, ["1", None, None]), (5, ["x\ny", "2", "3"])]


# --- Cells ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("05/09/2018", date(2018, 9, 5)),
        ("5/9/2018", date(2018, 9, 5)),
        ("05-09-2018", date(2018, 9, 5)),
        ("05.09.2018", date(2018, 9, 5)),
        ("2018-09-05", date(2018, 9, 5)),
        ("2018-09-05 00:00:00", date(2018, 9, 5)),
        (" 29/02/2020 ", date(2020, 2, 29)),
        (datetime(2018, 9, 5, 0, 0), date(2018, 9, 5)),
        (date(2018, 9, 5), date(2018, 9, 5)),
        (43348, date(2018, 9, 5)),
        (43348.0, date(2018, 9, 5)),
        ("01/09/2025", date(2025, 9, 1)),  # both ends of the range are allowed
        ("01/09/2006", date(2006, 9, 1)),
    ],
)
def test_date_of_birth_accepted(value, expected):
    assert parse_date_of_birth(value, earliest=date(2006, 9, 1), latest=date(2025, 9, 1)) == (
        expected
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("29/02/2019", "không tồn tại"),
        ("12/25/2018", "không tồn tại"),  # month first is refused, not guessed
        ("05/09/18", "năm đủ 4 chữ số"),
        ("5 tháng 9", "không đúng định dạng"),
        ("2018/09/05/1", "không đúng định dạng"),
        (True, "không đúng định dạng"),
        (1e30, "không đúng định dạng"),
        ("02/09/2025", "không hợp lý"),  # under a year old
        ("31/08/2006", "không hợp lý"),
    ],
)
def test_date_of_birth_refused(value, message):
    with pytest.raises(CellError, match=message):
        parse_date_of_birth(value, earliest=date(2006, 9, 1), latest=date(2025, 9, 1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0912 345 678", "0912345678"),
        ("+84 912345678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0084912345678", "0912345678"),
        ("912345678", "0912345678"),
        (912345678, "0912345678"),
        (912345678.0, "0912345678"),
        (84912345678, "0912345678"),
        ("0356-123-456", "0356123456"),
        ("0706.123.456", "0706123456"),
        ("0587123456", "0587123456"),
        ("024 3987 6543", "02439876543"),
        (2439876543, "02439876543"),
    ],
)
def test_phone_accepted(value, expected):
    assert parse_phone(value) == expected


@pytest.mark.parametrize(
    "value",
    ["0123456789", "091234567", "09123456789", "+1 415 555 0100", "abc", "0912 345 67x",
     "0912345678 / 0987654321", 912345678.5, True],
)
def test_phone_refused(value):
    with pytest.raises(CellError, match="Số điện thoại"):
        parse_phone(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1001, "1001"), (1001.0, "1001"), (" hs-01 ", "HS-01"), ("ab_9", "AB_9"),
     ("X" * 20, "X" * 20)],
)
def test_student_code_accepted(value, expected):
    assert parse_student_code(value) == expected


@pytest.mark.parametrize("value", ["HS 01", "HS01é", "X" * 21, 10.5, "", True, "mã1"])
def test_student_code_refused(value):
    with pytest.raises(CellError, match="Mã học sinh"):
        parse_student_code(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2a", "2A"), ("lớp 6a1", "6A1"), ("LỚP 9B", "9B"), (" 1 / 1 ", "1/1"),
     ("Lá  1", "Lá 1"), (nfd("Chồi 2"), "Chồi 2"), ("Nhà trẻ 24-36 tháng", "Nhà trẻ 24-36 tháng")],
)
def test_class_name(value, expected):
    assert parse_class_name(value) == expected


@pytest.mark.parametrize(
    ("class_name", "grade"),
    [
        ("1A", "1"), ("5C", "5"), ("3", "3"), ("Lớp 4", "4"), ("1/1", "1"), ("6A1", "6"),
        ("9B", "9"), ("7a10", "7"), ("10A1", None), ("12", None),
        ("Nhà trẻ", "NT"), ("NT1", "NT"), ("Nhóm 24-36 tháng", "NT"), ("Nhà trẻ A", "NT"),
        ("Mẫu giáo bé", "MGB"), ("MGB2", "MGB"), ("Bé 1", "MGB"), ("3 tuổi A", "MGB"),
        ("3-4 tuổi", "MGB"), ("Mầm 1", "MGB"),
        ("Mẫu giáo nhỡ", "MGN"), ("MGN", "MGN"), ("Nhỡ B", "MGN"), ("4 tuổi", "MGN"),
        ("Chồi 2", "MGN"),
        ("Mẫu giáo lớn", "MGL"), ("MGL A", "MGL"), ("Lớn 3", "MGL"), ("5 tuổi", "MGL"),
        ("5-6 tuổi", "MGL"), ("Lá 1", "MGL"),
        ("Mầm non", None), ("Tiếng Anh", None), ("", None),
    ],
)
def test_infer_grade(class_name, grade):
    assert infer_grade(class_name) == grade


def test_grade_labels_and_levels():
    assert list(GRADES) == ["NT", "MGB", "MGN", "MGL", "1", "2", "3", "4", "5", "6", "7",
                            "8", "9"]
    assert GRADES["MGN"] == "Mẫu giáo nhỡ" and GRADES["7"] == "Lớp 7"
    assert LEVEL_OF_GRADE.keys() == GRADES.keys()
    assert {LEVEL_OF_GRADE[g] for g in ("NT", "MGB", "MGN", "MGL")} == {"mam_non"}
    assert {LEVEL_OF_GRADE[str(n)] for n in range(1, 6)} == {"tieu_hoc"}
    assert {LEVEL_OF_GRADE[str(n)] for n in range(6, 10)} == {"thcs"}


# --- Adjustments ---------------------------------------------------------------------------


def test_adjustments_from_xlsx():
    data = xlsx([
        ["Mã học sinh", "Số tiền (VNĐ)", "Nội dung"],
        [1001, -150000, "Hoàn tiền ăn 5 ngày nghỉ"],
        ["HS02", "-150.000", "Hoàn tiền ăn"],
        ["hs02", "250,000", nfd("Đồng phục")],
        ["HS03", 300000.0, "Sách giáo khoa"],
        ["HS04", "1 200 000 đ", "Học phí bổ sung"],
    ])

    assert parse_adjustments(data, "dieu_chinh.xlsx") == [
        AdjustmentRow(2, "1001", -150000, "Hoàn tiền ăn 5 ngày nghỉ"),
        AdjustmentRow(3, "HS02", -150000, "Hoàn tiền ăn"),
        AdjustmentRow(4, "HS02", 250000, "Đồng phục"),
        AdjustmentRow(5, "HS03", 300000, "Sách giáo khoa"),
        AdjustmentRow(6, "HS04", 1200000, "Học phí bổ sung"),
    ]


def test_adjustments_from_csv_with_english_headers():
    data = csv_text(["Student code;Amount;Description", "A1;-20.000;Meal refund"], bom=True)

    assert parse_adjustments(data, "adj.csv") == [AdjustmentRow(2, "A1", -20000, "Meal refund")]


def test_adjustments_report_every_bad_row():
    data = xlsx([
        ["Mã HS", "Số tiền", "Lý do"],
        ["A1", 150.5, "Lẻ"],
        ["A2", "0", "Không"],
        ["A3", "1.5", "Thập phân"],
        [None, "100.000", "Không mã"],
        ["A5", "(50.000)", None],
        ["A6", "50000", "Đúng"],
    ])

    with pytest.raises(AdjustmentsInvalid) as caught:
        parse_adjustments(data, "a.xlsx")

    assert [(e.row, e.column, e.message) for e in caught.value.errors] == [
        (2, "Số tiền", 'Số tiền "150.5" có phần lẻ; số tiền phải là số nguyên đồng.'),
        (3, "Số tiền", "Số tiền bằng 0; hãy xoá dòng này nếu không cần điều chỉnh."),
        (4, "Số tiền", 'Số tiền "1.5" có phần lẻ; số tiền phải là số nguyên đồng.'),
        (5, "Mã HS", "Thiếu mã học sinh."),
        (6, "Số tiền", 'Số tiền "(50.000)": dùng dấu trừ cho khoản giảm, ví dụ -150.000.'),
        (6, "Lý do", "Thiếu nội dung."),
    ]


def test_adjustments_missing_columns():
    with pytest.raises(AdjustmentsInvalid) as caught:
        parse_adjustments(csv_text(["Mã HS,Ghi chú", "A1,x"]), "a.csv")

    assert [(e.row, e.column) for e in caught.value.errors] == [(1, "Số tiền")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(-150000, -150000), (150000.0, 150000), ("-150.000", -150000), ("150,000", 150000),
     ("1.500.000", 1500000), ("1 500 000", 1500000), ("1\u00a0500\u00a0000", 1500000),
     ("−50.000", -50000), ("75000₫", 75000), ("200.000 VNĐ", 200000), ("12", 12)],
)
def test_amount_accepted(value, expected):
    amount = parse_amount_vnd(value)
    assert amount == expected and type(amount) is int


@pytest.mark.parametrize(
    ("value", "message"),
    [(150.5, "phần lẻ"), ("150.000,50", "phần lẻ"), ("1,5", "phần lẻ"), (0, "bằng 0"),
     ("-0", "bằng 0"), ("1.500,000", "không hợp lệ"), ("15.00.000", "không hợp lệ"),
     ("abc", "không hợp lệ"), (True, "không hợp lệ"), ("--5", "không hợp lệ"),
     (2_000_000_000, "quá lớn")],
)
def test_amount_refused(value, message):
    with pytest.raises(CellError, match=message):
        parse_amount_vnd(value)


def test_adjustments_name_missing_and_doubled_columns_before_reading_rows():
    data = csv_text(["Mã học sinh;Số tiền;Số tiền (đ)", "A1;-20.000;-20.000"])

    with pytest.raises(AdjustmentsInvalid) as caught:
        parse_adjustments(data, "adj.csv")

    assert [(e.row, e.column, e.message, e.message_en) for e in caught.value.errors] == [
        (1, "Nội dung", 'Thiếu cột "Nội dung" (hoặc "Description") ở dòng tiêu đề 1.',
         'The "Description" (or "Nội dung") column is missing from header row 1.'),
        (1, "Số tiền (đ)", 'Các cột "Số tiền", "Số tiền (đ)" có cùng ý nghĩa; hãy giữ lại '
         "một cột.", 'Columns "Số tiền", "Số tiền (đ)" mean the same thing; keep only one.'),
    ]
