"""The principal's dashboard and arrears pages, and their exports."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader

from tests.helpers import send_sepay, sepay_body
from tuition.services.schools import get_school

PASSWORD = "mat-khau-rat-dai-123"


def test_dashboard_shows_collected_and_outstanding(client, billed, make_staff, staff_login):
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    send_sepay(client, sepay_body(billed.codes["HS002"], 200_000))
    principal = staff_login(make_staff("principal", get_school("LQD")).email, PASSWORD)
    html = principal.get("/app/LQD/tong-quan").get_data(as_text=True)
    assert 'id="expected">1.500.000 đ' in html
    assert 'id="collected">700.000 đ' in html
    assert 'id="outstanding">800.000 đ' in html
    assert 'id="rate">46,7 %' in html
    assert "by-day-chart" in html and "Học phí" in html


def test_arrears_page_and_exports(client, billed, make_staff, staff_login):
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    principal = staff_login(make_staff("principal", get_school("LQD")).email, PASSWORD)
    html = principal.get("/app/LQD/cong-no?group_by=class").get_data(as_text=True)
    assert "Nguyễn Minh Khôi" in html and "Lê Bảo Ngọc" in html
    assert "Nguyễn Thị Ánh Dương" not in html  # paid in full
    xlsx = principal.get("/app/LQD/cong-no.xlsx?period=2026-09")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    names = sorted(row[1].value for row in sheet.iter_rows(min_row=2))
    assert names == ["Lê Bảo Ngọc", "Nguyễn Minh Khôi"]
    csv_text = principal.get("/app/LQD/cong-no.csv?period=2026-09").data.decode("utf-8-sig")
    assert "Nguyễn Minh Khôi" in csv_text
    pdf = principal.get("/app/LQD/cong-no.pdf?period=2026-09")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "DANH SÁCH CÔNG NỢ" in text and "Lê Bảo Ngọc" in text


def test_other_schools_staff_cannot_see_reports(billed, make_school, make_staff, staff_login):
    other = make_school("NTT", name="Trường THCS Nguyễn Trãi", account="9988776655")
    stranger = staff_login(make_staff("principal", other).email, PASSWORD)
    assert stranger.get("/app/LQD/tong-quan").status_code == 403
    assert stranger.get("/app/LQD/cong-no.xlsx").status_code == 403
