"""Statement upload parsing: XLSX and CSV built in the test, exact values, every error reported."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

import pytest
from openpyxl import Workbook

from tuition.core.notifications import BankNotification
from tuition.importing.statements import (
    StatementError,
    StatementInvalid,
    StatementMapping,
    guess_mapping,
    parse_amount,
    parse_statement,
    parse_statement_lines,
    resolve_mapping,
)

ACCOUNT = "0011001234567"

HEADERS = ["STT", "Ngày giao dịch", "Số tham chiếu", "Số tiền ghi nợ", "Số tiền ghi có",
           "Số dư", "Nội dung"]

SPLIT_MAPPING = StatementMapping(
    account_number=ACCOUNT,
    date_column="Ngày giao dịch",
    credit_column="Số tiền ghi có",
    debit_column="Số tiền ghi nợ",
    memo_column="Nội dung",
    reference_column="Số tham chiếu",
    bank_name="Vietcombank",
)


def make_xlsx(rows: list[list[Any]], preamble: bool = True) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if preamble:
        # Real exports start with a title block above the table.
        sheet.append(["SAO KÊ TÀI KHOẢN / ACCOUNT STATEMENT"])
        sheet.append(["Số tài khoản:", ACCOUNT])
        sheet.append([])
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_csv(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


XLSX_ROWS: list[list[Any]] = [
    [1, datetime(2025, 9, 5, 8, 15, 2), "FT25248123456", None, 1_250_000, 11_250_000,
     "HP7K2Q4 hoc phi thang 9"],
    [2, "05/09/2025 09:00:00", "", 0, "2.500.000", 13_750_000, "hoc phi be An lop 2A"],
    [3, "06/09/2025", None, "15.000", None, 13_735_000, "Phi quan ly tai khoan"],
    [4, "06/09/2025 10:30", 998877, None, 500000.0, 14_235_000, None],
]


def test_xlsx_parses_to_exact_values() -> None:
    result = parse_statement(make_xlsx(XLSX_ROWS), "saoke.xlsx", SPLIT_MAPPING)
    assert result[0] == BankNotification(
        provider="statement",
        provider_txn_id=f"{ACCOUNT}:FT25248123456",
        account_number=ACCOUNT,
        direction="in",
        amount_vnd=1_250_000,
        memo="HP7K2Q4 hoc phi thang 9",
        bank_reference="FT25248123456",
        occurred_at=datetime(2025, 9, 5, 8, 15, 2),
        payer_account=None,
        payer_name=None,
        bank_name="Vietcombank",
    )
    second, third, fourth = result[1:]
    assert (second.direction, second.amount_vnd, second.bank_reference) == ("in", 2_500_000, None)
    assert second.occurred_at == datetime(2025, 9, 5, 9, 0, 0)
    assert second.memo == "hoc phi be An lop 2A"
    assert second.provider_txn_id.startswith("stmt-")
    assert (third.direction, third.amount_vnd) == ("out", 15_000)
    assert third.occurred_at == datetime(2025, 9, 6)
    # Excel stores a numeric reference as a number; it must not come back as "998877.0".
    assert (fourth.provider_txn_id, fourth.amount_vnd, fourth.memo) == (
        f"{ACCOUNT}:998877", 500_000, "")
    assert fourth.bank_reference == "998877"
    assert fourth.occurred_at == datetime(2025, 9, 6, 10, 30)
    assert all(n.provider == "statement" for n in result)


CSV_LINES = [
    "Ngày giao dịch,Số tham chiếu,Số tiền ghi nợ,Số tiền ghi có,Số dư,Nội dung",
    '05/09/2025 08:15:02,FT25248123456,,"1,250,000","11,250,000",HP7K2Q4 hoc phi thang 9',
    '05/09/2025 09:00:00,,0,"2,500,000.00","13,750,000",hoc phi be An lop 2A',
    '06/09/2025,,"-15,000",,"13,735,000",Phi quan ly tai khoan',
]


def test_csv_with_bom_parses() -> None:
    result = parse_statement(make_csv(CSV_LINES), "saoke.csv", SPLIT_MAPPING)
    assert [(n.direction, n.amount_vnd, n.bank_reference) for n in result] == [
        ("in", 1_250_000, "FT25248123456"),
        ("in", 2_500_000, None),
        ("out", 15_000, None),
    ]
    assert result[0].occurred_at == datetime(2025, 9, 5, 8, 15, 2)


def test_same_lines_in_xlsx_and_csv_get_the_same_ids() -> None:
    xlsx = parse_statement(make_xlsx(XLSX_ROWS[:3]), "a.xlsx", SPLIT_MAPPING)
    from_csv = parse_statement(make_csv(CSV_LINES), "a.csv", SPLIT_MAPPING)
    assert [n.provider_txn_id for n in xlsx] == [n.provider_txn_id for n in from_csv]


def test_semicolon_csv_with_signed_amount_column() -> None:
    data = make_csv([
        "Ngày;Số tiền;Mô tả",
        "01/10/2025 07:00:00;1 250 000;HP AB12",
        "01/10/2025 07:05:00;-300.000 VND;rut tien",
    ])
    mapping = StatementMapping(
        account_number=ACCOUNT, date_column="Ngày", amount_column="Số tiền", memo_column="Mô tả"
    )
    result = parse_statement(data, "x.CSV", mapping)
    assert [(n.direction, n.amount_vnd, n.memo) for n in result] == [
        ("in", 1_250_000, "HP AB12"),
        ("out", 300_000, "rut tien"),
    ]


def test_reparsing_gives_identical_ids_and_identical_lines_stay_distinct() -> None:
    same = [1, "07/09/2025", None, None, "1.000.000", 0, "hoc phi"]
    rows = [*XLSX_ROWS, same, same, [*same[:6], "hoc phi khac"]]
    data = make_xlsx(rows)
    first = [n.provider_txn_id for n in parse_statement(data, "s.xlsx", SPLIT_MAPPING)]
    again = [n.provider_txn_id for n in parse_statement(data, "s.xlsx", SPLIT_MAPPING)]
    assert first == again
    assert len(set(first)) == len(first)
    # A later, overlapping statement repeats the same lines in the same order: same ids.
    overlap = [n.provider_txn_id for n in parse_statement(
        make_xlsx(rows[4:6], preamble=False), "s2.xlsx", SPLIT_MAPPING
    )]
    assert overlap == first[4:6]
    # The id depends on the account: another school's identical line is another transaction.
    other = StatementMapping(**{**SPLIT_MAPPING.__dict__, "account_number": "999"})
    assert parse_statement(data, "s.xlsx", other)[4].provider_txn_id != first[4]


def test_repeated_reference_keeps_both_lines() -> None:
    rows = [
        [1, "05/09/2025", "FT1", None, 100_000, 0, "HP"],
        [2, "05/09/2025", "FT1", 100_000, None, 0, "hoan tra"],
    ]
    result = parse_statement(make_xlsx(rows), "r.xlsx", SPLIT_MAPPING)
    assert [n.provider_txn_id for n in result] == [f"{ACCOUNT}:FT1", f"{ACCOUNT}:FT1#2"]
    # Opposite directions: both keep the bank's reference (it is unique per direction).
    assert [n.bank_reference for n in result] == ["FT1", "FT1"]


def test_repeated_reference_in_the_same_direction_is_not_taken_for_the_first() -> None:
    rows = [
        [1, "05/09/2025", "FT1", None, 100_000, 0, "HP lan 1"],
        [2, "05/09/2025", "FT1", None, 200_000, 0, "HP lan 2"],
    ]
    result = parse_statement(make_xlsx(rows), "r.xlsx", SPLIT_MAPPING)
    assert [n.provider_txn_id for n in result] == [f"{ACCOUNT}:FT1", f"{ACCOUNT}:FT1#2"]
    assert [n.bank_reference for n in result] == ["FT1", None]


def test_reference_ids_are_scoped_to_the_account() -> None:
    # Short references ("998877") repeat between banks; another school's line is not ours.
    other = StatementMapping(**{**SPLIT_MAPPING.__dict__, "account_number": "12345"})
    ours = parse_statement(make_xlsx(XLSX_ROWS), "s.xlsx", SPLIT_MAPPING)
    theirs = parse_statement(make_xlsx(XLSX_ROWS), "s.xlsx", other)
    assert {n.provider_txn_id for n in ours}.isdisjoint(n.provider_txn_id for n in theirs)
    long_reference = "R" * 100
    (line,) = parse_statement(
        make_xlsx([[1, "05/09/2025", long_reference, None, 1000, 0, "x"]]), "s.xlsx", SPLIT_MAPPING
    )
    assert line.provider_txn_id.startswith("stmt-") and len(line.provider_txn_id) <= 80
    assert line.bank_reference == long_reference


def test_a_reference_too_long_to_store_is_a_row_error() -> None:
    rows = [[1, "05/09/2025", "R" * 121, None, 1000, 0, "x"]]
    with pytest.raises(StatementInvalid) as info:
        parse_statement(make_xlsx(rows), "s.xlsx", SPLIT_MAPPING)
    assert [(e.row, e.column) for e in info.value.errors] == [(5, "Số tham chiếu")]


def test_every_bad_row_is_reported() -> None:
    rows = [
        [1, "05/09/2025 08:00:00", "FT1", None, 100_000, 0, "ok"],
        [2, "31/02/2025", "FT2", None, 100_000, 0, "bad date"],
        [3, "05/09/2025", "FT3", None, "1.250.000,50", 0, "fraction"],
        [4, "05/09/2025", "FT4", None, 1250.5, 0, "float fraction"],
        [5, "05/09/2025", "FT5", 100_000, 100_000, 0, "both sides"],
        [6, "05/09/2025", "FT6", None, None, 0, "no amount"],
        [7, "hom qua", "FT7", "abc", None, 0, "two problems"],
        [None, None, None, None, None, None, None],  # blank spacer line: skipped, not an error
    ]
    with pytest.raises(StatementInvalid) as info:
        parse_statement(make_xlsx(rows), "bad.xlsx", SPLIT_MAPPING)
    errors = info.value.errors
    # The header is on row 4 (three preamble rows), so data row i is spreadsheet row 4 + i.
    assert [(e.row, e.column) for e in errors] == [
        (6, "Ngày giao dịch"),
        (7, "Số tiền ghi có"),
        (8, "Số tiền ghi có"),
        (9, None),
        (10, "Số tiền ghi có"),
        (11, "Ngày giao dịch"),
        (11, "Số tiền ghi nợ"),
    ]
    assert all(isinstance(e, StatementError) and e.message_vi and e.message_en for e in errors)
    assert "fraction" in errors[1].message_en and "phần lẻ" in errors[1].message_vi
    assert "row 6" in str(info.value)


def test_missing_columns_are_reported() -> None:
    mapping = StatementMapping(
        account_number=ACCOUNT, date_column="Ngày giao dịch", amount_column="Amount",
        memo_column="Diễn giải",
    )
    with pytest.raises(StatementInvalid) as info:
        parse_statement(make_xlsx(XLSX_ROWS), "s.xlsx", mapping)
    assert {e.column for e in info.value.errors} >= {"Amount", "Diễn giải"}


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"PK\x03\x04 not really a zip", "s.xlsx"),
        (b"anything", "s.xls"),
        (b"Ng\xe0y,So tien\n", "s.csv"),  # Windows-1258, not UTF-8
        (make_csv(["Ngày giao dịch,Số tham chiếu,Số tiền ghi nợ,Số tiền ghi có,Số dư,Nội dung"]),
         "empty.csv"),
    ],
)
def test_unreadable_or_empty_files(data: bytes, filename: str) -> None:
    with pytest.raises(StatementInvalid) as info:
        parse_statement(data, filename, SPLIT_MAPPING)
    assert info.value.errors and info.value.errors[0].message_vi


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1.250.000", 1_250_000),
        ("1,250,000", 1_250_000),
        ("1 250 000", 1_250_000),
        ("1\u00a0250\u00a0000", 1_250_000),
        ("1250000", 1_250_000),
        ("1,250,000.00", 1_250_000),
        ("1.250.000,00", 1_250_000),
        ("-15.000", -15_000),
        ("(15.000)", -15_000),
        ("+500", 500),
        ("2.000.000 VND", 2_000_000),
        ("2.000.000đ", 2_000_000),
        (1_250_000, 1_250_000),
        (1_250_000.0, 1_250_000),
        ("", None),
        (None, None),
    ],
)
def test_parse_amount(cell: Any, expected: int | None) -> None:
    assert parse_amount(cell) == expected


@pytest.mark.parametrize(
    "cell", ["1.250.000,50", "1,5", "1.5", 1250.5, "12.34.567", "1.250,000.00", "abc", "-", True,
             10**20, "1.000.000.000.001", "9" * 4000, 2**63]
)
def test_parse_amount_rejects(cell: Any) -> None:
    with pytest.raises(ValueError):
        parse_amount(cell)


def test_mapping_requires_one_amount_layout() -> None:
    with pytest.raises(ValueError):
        StatementMapping(account_number=ACCOUNT, date_column="d", memo_column="m")
    with pytest.raises(ValueError):
        StatementMapping(
            account_number=ACCOUNT, date_column="d", memo_column="m", amount_column="a",
            credit_column="c",
        )
    with pytest.raises(ValueError):
        StatementMapping(account_number=" ", date_column="d", memo_column="m", amount_column="a")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            HEADERS,
            {
                "date_column": "Ngày giao dịch",
                "credit_column": "Số tiền ghi có",
                "debit_column": "Số tiền ghi nợ",
                "memo_column": "Nội dung",
                "reference_column": "Số tham chiếu",
            },
        ),
        (
            ["Ngày GD", "Mã giao dịch", "Ghi nợ", "Ghi có", "Mô tả"],
            {
                "date_column": "Ngày GD",
                "reference_column": "Mã giao dịch",
                "debit_column": "Ghi nợ",
                "credit_column": "Ghi có",
                "memo_column": "Mô tả",
            },
        ),
        (
            ["Ngày hạch toán", "Số bút toán", "Nợ", "Có", "Diễn giải"],
            {
                "date_column": "Ngày hạch toán",
                "reference_column": "Số bút toán",
                "debit_column": "Nợ",
                "credit_column": "Có",
                "memo_column": "Diễn giải",
            },
        ),
        (
            ["Ngày", "Số tiền", "Số dư", "Nội dung"],
            {"date_column": "Ngày", "amount_column": "Số tiền", "memo_column": "Nội dung"},
        ),
        (
            ["Ngày giao dịch\nTransaction Date", "Số tiền ghi có (VND)\nCredit",
             "Số tiền ghi nợ (VND)\nDebit", "Nội dung chi tiết\nTransactions in detail",
             "Số tham chiếu\nReference No."],
            {
                "date_column": "Ngày giao dịch\nTransaction Date",
                "credit_column": "Số tiền ghi có (VND)\nCredit",
                "debit_column": "Số tiền ghi nợ (VND)\nDebit",
                "memo_column": "Nội dung chi tiết\nTransactions in detail",
                "reference_column": "Số tham chiếu\nReference No.",
            },
        ),
        (
            ["Transaction Date", "Reference", "Debit", "Credit", "Description", None],
            {
                "date_column": "Transaction Date",
                "reference_column": "Reference",
                "debit_column": "Debit",
                "credit_column": "Credit",
                "memo_column": "Description",
            },
        ),
    ],
)
def test_guess_mapping(headers: list[Any], expected: dict[str, str]) -> None:
    assert guess_mapping(headers) == expected


def test_guessed_mapping_parses_the_statement() -> None:
    mapping = StatementMapping(account_number=ACCOUNT, **guess_mapping(HEADERS))
    assert len(parse_statement(make_xlsx(XLSX_ROWS), "s.xlsx", mapping)) == 4


def test_lines_keep_every_cell_of_the_row() -> None:
    (first, *_rest) = parse_statement_lines(make_xlsx(XLSX_ROWS), "s.xlsx", SPLIT_MAPPING)
    assert first.row == 5
    assert first.cells == {
        "STT": 1,
        "Ngày giao dịch": "2025-09-05T08:15:02",
        "Số tham chiếu": "FT25248123456",
        "Số tiền ghi nợ": None,
        "Số tiền ghi có": 1_250_000,
        "Số dư": 11_250_000,
        "Nội dung": "HP7K2Q4 hoc phi thang 9",
    }
    json.dumps(first.cells)  # storable as the raw payload


def test_resolve_mapping_guesses_below_a_title_block() -> None:
    mapping = resolve_mapping(make_xlsx(XLSX_ROWS), "s.xlsx", account_number=ACCOUNT)
    assert mapping.columns() == {
        "date_column": "Ngày giao dịch",
        "memo_column": "Nội dung",
        "credit_column": "Số tiền ghi có",
        "debit_column": "Số tiền ghi nợ",
        "reference_column": "Số tham chiếu",
    }
    csv_with_title = make_csv(["SAO KÊ TÀI KHOẢN", "Số tài khoản: 0011001234567", "", *CSV_LINES])
    assert resolve_mapping(csv_with_title, "s.csv", account_number=ACCOUNT) == mapping
    assert len(parse_statement(csv_with_title, "s.csv", mapping)) == 3


def test_resolve_mapping_named_columns_win_over_the_guess() -> None:
    data = make_csv(["Ngày,Số tiền,Ghi chú,Mô tả", "01/10/2025,1000,a,b"])
    mapping = resolve_mapping(
        data, "s.csv", account_number=ACCOUNT, columns={"memo_column": "Ghi chú"},
        date_format="%d/%m/%Y",
    )
    assert mapping.columns() == {
        "date_column": "Ngày", "memo_column": "Ghi chú", "amount_column": "Số tiền"}
    assert mapping.date_format == "%d/%m/%Y"
    # Naming a credit column replaces the guessed signed amount column.
    split = resolve_mapping(data, "s.csv", account_number=ACCOUNT,
                            columns={"credit_column": "Số tiền"})
    assert (split.amount_column, split.credit_column) == (None, "Số tiền")


def test_resolve_mapping_says_which_columns_it_cannot_find() -> None:
    data = make_csv(["Ngày hiệu lực,Giá trị,Ghi chú", "01/10/2025,1000,x"])
    with pytest.raises(StatementInvalid) as info:
        resolve_mapping(data, "s.csv", account_number=ACCOUNT)
    errors = info.value.errors
    # Columns are named as people name them; the message says which field to fill in.
    assert [e.column for e in errors] == ["Ngày giao dịch", "Nội dung", "Số tiền"]
    assert "“Giá trị”" in errors[0].message_vi and "'Ghi chú'" in errors[0].message_en
    assert "date_column" in errors[0].message_vi and "credit_column" in errors[2].message_en


def test_resolve_mapping_refuses_two_amount_layouts() -> None:
    columns = {"date_column": "Ngày giao dịch", "memo_column": "Nội dung",
               "amount_column": "Số dư", "credit_column": "Số tiền ghi có"}
    with pytest.raises(StatementInvalid):
        resolve_mapping(make_xlsx(XLSX_ROWS), "s.xlsx", account_number=ACCOUNT, columns=columns)
