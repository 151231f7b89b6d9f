"""Statement upload through the API: lines matched like webhooks, repeats and overlaps are one
transaction, a bad file changes nothing."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.helpers import assert_ledger_ok, invoice, payments_of, send_sepay, sepay_body
from tuition.extensions import db
from tuition.models import AuditEvent, BankTransaction
from tuition.services import schools

ACCOUNT = "0011001234567"
URL = "/schools/LQD/statements"
HEADERS = ["STT", "Ngày giao dịch", "Số tham chiếu", "Số tiền ghi nợ", "Số tiền ghi có",
           "Số dư", "Nội dung"]


@pytest.fixture
def acct(billed):
    """An accountant's API client for LQD, whose 3 students each owe 500,000 đ."""
    return billed


def xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    # Internet banking exports put a title block above the table.
    sheet.append(["NGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM"])
    sheet.append(["SAO KÊ TÀI KHOẢN / ACCOUNT STATEMENT"])
    sheet.append(["Số tài khoản:", ACCOUNT])
    sheet.append(["Từ ngày:", "01/09/2026", "Đến ngày:", "30/09/2026"])
    sheet.append([])
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


#: Spreadsheet row of the first data line in :func:`xlsx` (5 title rows, then the header).
FIRST_ROW = 7


def september(acct) -> list[list[Any]]:
    hs1, hs2 = acct.codes["HS001"], acct.codes["HS002"]
    return [
        [1, datetime(2026, 9, 5, 8, 15, 2), "FT26248000001", None, 500_000, 500_000,
         f"MBVCB.123.{hs1} hoc phi be Duong.CT tu 0011 NGUYEN VAN BINH"],
        [2, "05/09/2026 09:00:00", "FT26248000002", None, "500.000", 1_000_000,
         f"IBFT {hs2.lower()} Nguyen Minh Khoi"],
        [3, "06/09/2026 10:30:00", "FT26249000003", None, "300.000", 1_300_000,
         "hoc phi be Ngoc lop 1A"],
        [4, "06/09/2026", None, "11.000", None, 1_289_000, "Phi quan ly tai khoan thang 8"],
    ]


def test_xlsx_statement_matches_reviews_and_keeps_outgoing_then_a_repeat_adds_nothing(acct):
    data = xlsx(september(acct))
    response = acct.upload(URL, data, "SaoKe_092026.xlsx")
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"rows": 4, "new": 4, "duplicates": 0, "outgoing": 1,
                                   "matched": 2, "review": 1, "confirmed": 0,
                                   "unconfirmed": 0}
    assert invoice(acct, "HS001")["status"] == "paid"
    assert invoice(acct, "HS002")["status"] == "paid"
    assert invoice(acct, "HS003")["status"] == "open"
    (review,) = payments_of(acct, "review")
    assert (review["amount_vnd"], review["memo"], review["provider"]) == (
        300_000, "hoc phi be Ngoc lop 1A", "statement")
    (outgoing,) = payments_of(acct, "ignored")
    assert (outgoing["direction"], outgoing["amount_vnd"], outgoing["status_reason"]) == (
        "out", 11_000, "outgoing")
    # The stored raw payload is the statement line, every column of it, in readable Vietnamese.
    raw = db.session.scalar(select(BankTransaction.raw).where(
        BankTransaction.bank_reference == "FT26249000003"))
    assert "Số dư" in raw  # ensure_ascii=False: readable, not \\u escapes
    assert json.loads(raw) == {
        "file": "SaoKe_092026.xlsx", "row": FIRST_ROW + 2,
        "cells": {"STT": 3, "Ngày giao dịch": "06/09/2026 10:30:00",
                  "Số tham chiếu": "FT26249000003", "Số tiền ghi nợ": None,
                  "Số tiền ghi có": "300.000", "Số dư": 1_300_000,
                  "Nội dung": "hoc phi be Ngoc lop 1A"}}

    again = acct.upload(URL, data, "SaoKe_092026 (1).xlsx")
    assert again.status_code == 201
    assert again.get_json() == {"rows": 4, "new": 0, "duplicates": 4, "outgoing": 0,
                                "matched": 0, "review": 0, "confirmed": 0, "unconfirmed": 0}
    assert len(payments_of(acct)) == 4
    assert invoice(acct, "HS001")["paid_vnd"] == 500_000
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "statement.import")
        .order_by(AuditEvent.id)).all()
    assert [e.details["new"] for e in events] == [4, 0]
    assert_ledger_ok()


def test_csv_with_bom_and_named_columns(acct):
    hs3 = acct.codes["HS003"]
    text = "\r\n".join([
        "Ngày hiệu lực;Mã GD;Phát sinh nợ;Phát sinh có;Diễn giải",
        f"2026-09-07 07:45;5512;;500000;{hs3} Le Bao Ngoc 1A",
        "2026-09-07 08:00;5513;;200000;ung ho quy lop",
    ]) + "\r\n"
    response = acct.upload(URL, text.encode("utf-8-sig"), "saoke.csv",
                           date_column="Ngày hiệu lực", reference_column="Mã GD",
                           date_format="%Y-%m-%d %H:%M")
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"rows": 2, "new": 2, "duplicates": 0, "outgoing": 0,
                                   "matched": 1, "review": 1, "confirmed": 0,
                                   "unconfirmed": 0}
    assert invoice(acct, "HS003")["status"] == "paid"
    paid = payments_of(acct, "matched")[0]
    assert (paid["bank_reference"], paid["occurred_at"]) == ("5512", "2026-09-07 07:45:00")
    assert_ledger_ok()


def test_a_transfer_seen_by_webhook_and_by_statement_is_one_payment(client, acct):
    code = acct.codes["HS001"]
    webhook = sepay_body(f"{code} hoc phi", 500_000, reference="FT26248000001")
    assert send_sepay(client, webhook).status_code == 200
    assert invoice(acct, "HS001")["status"] == "paid"

    response = acct.upload(URL, xlsx(september(acct)), "saoke.xlsx")
    assert response.status_code == 201
    # The statement also confirms the webhook's transfer (the bank lists it).
    assert response.get_json() == {"rows": 4, "new": 3, "duplicates": 1, "outgoing": 1,
                                   "matched": 1, "review": 1, "confirmed": 1,
                                   "unconfirmed": 0}
    hs1_payments = [p for p in payments_of(acct) if p["bank_reference"] == "FT26248000001"]
    assert [p["provider"] for p in hs1_payments] == ["sepay"]
    assert invoice(acct, "HS001")["paid_vnd"] == 500_000

    # The other way round: the statement came first, the webhook (late) changes nothing.
    late = sepay_body(f"{acct.codes['HS002']} hoc phi", 500_000, reference="FT26248000002")
    assert send_sepay(client, late).status_code == 200
    assert len(payments_of(acct)) == 4
    assert invoice(acct, "HS002")["paid_vnd"] == 500_000
    assert_ledger_ok()


def test_a_statement_with_bad_rows_imports_nothing_and_lists_every_bad_row(acct):
    rows = september(acct)
    rows[1][1] = "31/09/2026"  # no such day
    rows[2][4] = "300.000,50"  # dong have no fraction
    response = acct.upload(URL, xlsx(rows), "saoke.xlsx")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["status"] == 422
    assert "2 lỗi" in error["message"] and "nothing was imported" in error["message_en"]
    assert [(r["row"], r["column"]) for r in error["rows"]] == [
        (FIRST_ROW + 1, "Ngày giao dịch"), (FIRST_ROW + 2, "Số tiền ghi có")]
    assert all(r["message"] and r["message_en"] for r in error["rows"])
    assert "31/09/2026" in error["rows"][0]["message"]
    assert payments_of(acct) == []
    assert invoice(acct, "HS001")["status"] == "open"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "statement.import")) == 0


def test_unrecognised_columns_are_named_in_the_error(acct):
    data = "Ngày hiệu lực,Giá trị,Ghi chú\r\n07/09/2026,500000,x\r\n".encode()
    response = acct.upload(URL, data, "saoke.csv")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert [r["column"] for r in error["rows"]] == ["Ngày giao dịch", "Nội dung", "Số tiền"]
    assert all(r["row"] is None for r in error["rows"])
    assert "“Giá trị”" in error["rows"][0]["message"]
    # With the columns named, the same file imports.
    named = acct.upload(URL, data, "saoke.csv", date_column="Ngày hiệu lực",
                        amount_column="Giá trị", memo_column="Ghi chú")
    assert named.status_code == 201, named.get_json()


@pytest.mark.parametrize(
    ("fields", "status"),
    [({"account_id": "abc"}, 422), ({"memo_column": "Nội dung", "nonsense": "x"}, 201)],
)
def test_form_fields_are_checked(acct, fields, status):
    response = acct.upload(URL, xlsx(september(acct)), "saoke.xlsx", **fields)
    assert response.status_code == status, response.get_json()


def test_an_old_xls_file_is_refused_with_advice(acct):
    response = acct.upload(URL, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "saoke.xls")
    assert response.status_code == 422
    assert ".xlsx" in response.get_json()["error"]["message"]


def test_a_principal_may_not_upload(acct, make_user, api):
    _, token = make_user("principal", schools.get_school("LQD"))
    response = api(token).upload(URL, xlsx(september(acct)), "saoke.xlsx")
    assert response.status_code == 403
    assert payments_of(acct) == []


def test_another_schools_account_is_refused(acct, make_school):
    other = make_school("NTMK", prefix="NT", name="Trường Nguyễn Thị Minh Khai",
                        account="0421000999888")
    other_account_id = other.bank_accounts[0].id
    own_account_id = schools.get_school("LQD").bank_accounts[0].id
    data = xlsx(september(acct))
    response = acct.upload(URL, data, "saoke.xlsx", account_id=str(other_account_id))
    assert response.status_code == 404
    assert response.get_json()["error"]["message"]
    assert payments_of(acct) == []
    assert db.session.scalar(select(func.count()).select_from(BankTransaction)) == 0
    ok = acct.upload(URL, data, "saoke.xlsx", account_id=str(own_account_id))
    assert ok.status_code == 201
    assert_ledger_ok()
