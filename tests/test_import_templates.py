"""Imports speak the file's language: a template to download (that imports as it is), and
errors that name each column as the file writes it, or as the template does when it is missing.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.helpers import ROSTER
from tuition.importing.roster import TEMPLATE_HEADERS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def school(make_school):
    return make_school(prefix="LQ")


@pytest.fixture
def acct(school, make_user, api):
    _, token = make_user("accountant", school)
    return api(token)


@pytest.mark.parametrize(("fmt", "media_type"), [("xlsx", XLSX), ("csv", "text/csv")])
def test_the_api_template_has_the_headers_and_imports_as_it_is(acct, fmt, media_type):
    response = acct.get(f"/schools/LQD/students/import-template.{fmt}")
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert f"mau-danh-sach-hoc-sinh.{fmt}" in response.headers["Content-Disposition"]
    data = response.get_data()
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(data)).active
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert rows[0] == list(TEMPLATE_HEADERS.values())
        assert rows[1][0] == "HS001" and rows[1][5] == "0912345678"  # text: the 0 stays
        assert sheet["C2"].number_format == "DD/MM/YYYY"
    else:
        text = data.decode("utf-8-sig")
        assert text.splitlines()[0] == ",".join(TEMPLATE_HEADERS.values())
        assert "05/03/2019" in text
    imported = acct.upload("/schools/LQD/students/import", data, f"mau.{fmt}")
    assert imported.status_code == 200, imported.get_json()
    assert imported.get_json() == {"created": 1, "updated": 0}


def test_the_template_is_for_those_who_may_see_the_school(school, make_user, api, client,
                                                          make_school):
    _, principal = make_user("principal", school)
    assert api(principal).get("/schools/LQD/students/import-template.csv").status_code == 200
    other = make_school("KHAC", prefix="KH", account="0099001234567")
    _, stranger = make_user("accountant", other)
    assert api(stranger).get("/schools/LQD/students/import-template.xlsx").status_code == 403
    assert client.get("/api/v1/schools/LQD/students/import-template.xlsx").status_code == 401


def test_the_staff_pages_offer_both_templates(school, make_staff, staff_login):
    user = make_staff("accountant", school)
    browser = staff_login(user.email, "mat-khau-rat-dai-123")
    page = browser.get("/app/LQD/hoc-sinh/nhap").get_data(as_text=True)
    assert "/app/LQD/hoc-sinh/nhap/mau.xlsx" in page and "/app/LQD/hoc-sinh/nhap/mau.csv" in page
    roster = browser.get("/app/LQD/hoc-sinh/nhap/mau.xlsx")
    assert roster.status_code == 200 and roster.mimetype == XLSX
    token = browser.csrf("/app/LQD/hoc-sinh/nhap")
    imported = browser.post("/app/LQD/hoc-sinh/nhap", data={
        "csrf_token": token, "file": (io.BytesIO(roster.get_data()), "mau.xlsx")},
        content_type="multipart/form-data")
    assert imported.status_code == 302

    adjustments = browser.get("/app/LQD/dieu-chinh").get_data(as_text=True)
    assert "/app/LQD/dieu-chinh/mau.xlsx" in adjustments
    template = browser.get("/app/LQD/dieu-chinh/mau.csv")
    assert template.get_data().decode("utf-8-sig").splitlines() == [
        "Mã học sinh,Số tiền,Nội dung,Mã khoản thu",
        "HS001,-150000,Trả tiền ăn 5 ngày nghỉ,"]
    token = browser.csrf("/app/LQD/dieu-chinh")
    added = browser.post("/app/LQD/dieu-chinh/nhap", data={
        "csrf_token": token, "file": (io.BytesIO(template.get_data()), "mau.csv")},
        content_type="multipart/form-data")
    assert added.status_code == 302
    assert browser.get("/app/LQD/dieu-chinh/mau.pdf").status_code == 404


def test_roster_errors_name_columns_as_the_file_does(acct):
    data = ("MÃ HS;Họ tên;Ngày Sinh (dd/mm/yyyy);Tên lớp\n"
            "HS001;Nguyễn Văn An;31/02/2019;1A\n").encode()
    response = acct.upload("/schools/LQD/students/import", data, "ds.csv")
    assert response.status_code == 422
    assert [(r["row"], r["column"]) for r in response.get_json()["error"]["rows"]] == [
        (2, "Ngày Sinh (dd/mm/yyyy)")]
    # The grade of a class is checked by the import service, after parsing: same rule.
    data = "MÃ HS;Họ tên;Tên lớp\nHS001;Nguyễn Văn An;Hoa Mai\n".encode()
    response = acct.upload("/schools/LQD/students/import", data, "ds.csv")
    assert response.status_code == 422
    assert [(r["row"], r["column"]) for r in response.get_json()["error"]["rows"]] == [
        (2, "Tên lớp")]
    # A missing column is named as the template names it.
    data = "Mã HS;Họ tên\nHS001;Nguyễn Văn An\n".encode()
    rows = acct.upload("/schools/LQD/students/import", data, "ds.csv").get_json()["error"]["rows"]
    assert [(r["row"], r["column"]) for r in rows] == [(1, "Lớp")]
    assert all(r["column"] in TEMPLATE_HEADERS.values() or r["column"][0].isupper()
               for r in rows)


def test_adjustment_errors_name_columns_as_the_file_does(school, acct, make_staff, staff_login):
    acct.upload("/schools/LQD/students/import", ROSTER.encode(), "ds.csv")
    browser = staff_login(make_staff("accountant", school).email, "mat-khau-rat-dai-123")
    token = browser.csrf("/app/LQD/dieu-chinh")
    data = "MÃ HS,Thành tiền,Lý do\nHS404,-20000,Trả tiền ăn\n".encode()
    page = browser.post("/app/LQD/dieu-chinh/nhap", data={
        "csrf_token": token, "file": (io.BytesIO(data), "dc.csv")},
        content_type="multipart/form-data")
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "<td>MÃ HS</td>" in html and "HS404" in html


def test_statement_errors_name_columns_as_the_file_does(acct):
    data = ("NGÀY GIAO DỊCH,SỐ TIỀN,NỘI DUNG\n"
            "32/09/2026,500000,HP LQ\n").encode()
    response = acct.upload("/schools/LQD/statements", data, "saoke.csv",
                           date_column="ngày giao dịch", amount_column="số tiền",
                           memo_column="nội dung")
    assert response.status_code == 422
    assert [(r["row"], r["column"]) for r in response.get_json()["error"]["rows"]] == [
        (2, "NGÀY GIAO DỊCH")]
