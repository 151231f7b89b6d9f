"""The billing foundation through the real HTTP API: schools, rosters, fees, billing runs."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from pypdf import PdfReader
from pyzbar.pyzbar import decode

from tuition.core import vietqr
from tuition.core.paycode import is_valid

ROSTER = (
    "\ufeffMã học sinh,Họ và tên,Ngày sinh,Lớp,Họ tên phụ huynh,Số điện thoại\n"
    "HS001,Nguyễn Thị Ánh Dương,05/03/2019,1A,Nguyễn Văn Bình,0912345678\n"
    "HS002,Trần Minh Khôi,12/11/2018,2A,Trần Thị Hoa,0987654321\n"
    "HS003,Lê Bảo Ngọc,21/01/2019,1A,Lê Văn Tâm,0901234567\n"
)


@pytest.fixture
def school_setup(make_school, make_user, api):
    """A school with three students and two fee items; returns the accountant's Api."""
    school = make_school(prefix="LQ")
    _, token = make_user("accountant", school)
    acct = api(token)
    assert acct.upload("/schools/LQD/students/import", ROSTER.encode(), "ds.csv").status_code == 200
    for item in (
        {"code": "HOCPHI", "name": "Học phí", "amount_vnd": 300000, "unit": "month"},
        {"code": "TIENAN", "name": "Tiền ăn bán trú", "amount_vnd": 30000,
         "unit": "school_day", "grades": ["1"]},
    ):
        assert acct.post("/schools/LQD/fee-items", json=item).status_code == 201
    return acct


def test_requests_without_a_valid_token_are_refused(client):
    response = client.get("/api/v1/schools/LQD/students")
    assert response.status_code == 401
    assert "Authorization" in response.get_json()["error"]["message"]
    response = client.get("/api/v1/schools/LQD/students",
                          headers={"Authorization": "Bearer tu_forged"})
    assert response.status_code == 401


def test_admin_creates_school_with_bank_account(make_user, api):
    _, token = make_user("admin")
    response = api(token).post("/schools", json={
        "code": "thcs-ntt", "name": "Trường THCS Nguyễn Tri Phương", "level": "thcs",
        "address": "Huế", "tax_code": "3300123456",
        "bank_accounts": [{"bin": "970415", "account_number": "1122 3344 55",
                           "account_name": "Truong THCS Nguyen Tri Phuong"}],
    })
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["code"] == "THCS-NTT"
    assert body["bank_accounts"] == [{
        "id": body["bank_accounts"][0]["id"], "bin": "970415", "account_number": "1122334455",
        "account_name": "TRUONG THCS NGUYEN TRI PHUONG", "is_default": True,
    }]
    assert 2 <= len(body["payment_prefix"]) <= 4


@pytest.mark.parametrize("patch, field", [
    ({"level": "dai_hoc"}, "level"),
    ({"tax_code": "12ab"}, "tax_code"),
    ({"bank_accounts": [{"bin": "999999", "account_number": "123456",
                         "account_name": "X"}]}, "bin"),
    ({"payment_prefix": "FT"}, "payment_prefix"),
])
def test_invalid_school_is_refused_and_nothing_is_stored(make_user, api, patch, field):
    _, token = make_user("admin")
    data = {"code": "ABC", "name": "Trường A", "level": "tieu_hoc", **patch}
    response = api(token).post("/schools", json=data)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["field"] == field and error["message"] and error["message_en"]
    assert api(token).get("/schools/ABC").status_code == 404


def test_accountant_cannot_create_schools(make_school, make_user, api):
    school = make_school()
    _, token = make_user("accountant", school)
    response = api(token).post("/schools", json={"code": "X1", "name": "X", "level": "thcs"})
    assert response.status_code == 403


def test_roster_import_then_list(school_setup):
    body = school_setup.get("/schools/LQD/students").get_json()
    assert body["count"] == 3
    first = body["items"][0]
    assert first == {
        "code": "HS001", "full_name": "Nguyễn Thị Ánh Dương", "date_of_birth": "2019-03-05",
        "class": "1A", "grade": "1", "status": "studying", "guardian_name": "Nguyễn Văn Bình",
        "guardian_phone": "0912345678",
    }


def test_reimport_updates_by_code(school_setup):
    changed = ROSTER.replace("Trần Minh Khôi,12/11/2018,2A", "Trần Minh Khôi,12/11/2018,3A")
    result = school_setup.upload("/schools/LQD/students/import", changed.encode(), "ds.csv")
    assert result.get_json() == {"created": 0, "updated": 3}
    students = school_setup.get("/schools/LQD/students?class=3A").get_json()["items"]
    assert [s["code"] for s in students] == ["HS002"]


def test_roster_with_bad_rows_imports_nothing_and_lists_every_bad_row(school_setup):
    bad = ROSTER + (
        "HS004,Phạm Văn Long,31/02/2019,1A,Phạm Văn Hùng,0912000111\n"
        "HS005,,01/01/2019,1A,Ngô Thị Lan,0912000222\n"
        "HS006,Đỗ Hải Yến,01/01/2019,1A,Đỗ Văn Nam,12345\n"
    )
    response = school_setup.upload("/schools/LQD/students/import", bad.encode(), "ds.csv")
    assert response.status_code == 422
    rows = response.get_json()["error"]["rows"]
    assert sorted({r["row"] for r in rows}) == [5, 6, 7]
    assert all(r["message"] and r["column"] for r in rows)
    assert school_setup.get("/schools/LQD/students").get_json()["count"] == 3


def test_billing_preview_then_issue_is_idempotent(school_setup):
    run = {"period": "2026-09", "fee_items": ["HOCPHI", "TIENAN"], "due_date": "2026-09-15",
           "school_days": 22}
    preview = school_setup.post("/schools/LQD/billing-runs", json={**run, "preview": True})
    assert preview.status_code == 200
    body = preview.get_json()
    # 1A: 300,000 + 22 * 30,000 = 960,000 each (2 students); 2A: tuition only.
    assert body["invoices"] == 3
    assert body["total_vnd"] == 2 * 960_000 + 300_000
    assert body["by_class"] == {"1A": {"invoices": 2, "total_vnd": 1_920_000},
                                "2A": {"invoices": 1, "total_vnd": 300_000}}
    assert school_setup.get("/schools/LQD/invoices").get_json()["count"] == 0

    issued = school_setup.post("/schools/LQD/billing-runs", json=run)
    assert issued.status_code == 201 and issued.get_json()["invoices"] == 3
    again = school_setup.post("/schools/LQD/billing-runs", json=run).get_json()
    assert again["invoices"] == 0 and again["skipped_existing"] == 3

    joined = ROSTER + "HS007,Vũ Gia Huy,02/02/2019,1A,Vũ Văn Quang,0934567890\n"
    school_setup.upload("/schools/LQD/students/import", joined.encode(), "ds.csv")
    third = school_setup.post("/schools/LQD/billing-runs", json=run).get_json()
    assert third["invoices"] == 1 and third["skipped_existing"] == 3

    items = school_setup.get("/schools/LQD/invoices?period=2026-09").get_json()["items"]
    assert len(items) == 4
    assert len({i["code"] for i in items}) == 4
    for item in items:
        assert is_valid(item["code"]) and item["code"].startswith("LQ")
        assert item["balance_vnd"] == item["total_vnd"] > 0


def test_invoice_detail_qr_and_notice(school_setup):
    school_setup.post("/schools/LQD/billing-runs", json={
        "period": "2026-09", "fee_items": ["HOCPHI", "TIENAN"], "due_date": "2026-09-15",
        "school_days": 20, "classes": ["1A"]})
    items = school_setup.get("/schools/LQD/invoices?class=1A").get_json()["items"]
    code = next(i["code"] for i in items if i["student_code"] == "HS001")
    detail = school_setup.get(f"/invoices/{code}").get_json()
    assert detail["total_vnd"] == 900_000 and detail["paid_vnd"] == 0
    assert detail["balance_vnd"] == 900_000 and detail["status"] == "open"
    assert detail["memo"].startswith(code) and len(detail["memo"]) <= 25
    assert [(line["description"], line["quantity"], line["amount_vnd"])
            for line in detail["lines"]] == [("Học phí", 1, 300_000),
                                             ("Tiền ăn bán trú", 20, 600_000)]
    parsed = vietqr.parse_payload(detail["qr_payload"])
    assert (parsed.bin, parsed.account_number, parsed.amount_vnd, parsed.memo) == (
        "970436", "0011001234567", 900_000, detail["memo"])

    png = school_setup.get(f"/invoices/{code}/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    decoded = decode(Image.open(io.BytesIO(png.data)))
    assert decoded[0].data.decode() == detail["qr_payload"]
    svg = school_setup.get(f"/invoices/{code}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data

    pdf = school_setup.get(f"/invoices/{code}/notice.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    for expected in ("Trường Tiểu học Lê Quý Đôn", "Nguyễn Thị Ánh Dương", "Tiền ăn bán trú",
                     "900.000", "Chín trăm nghìn đồng", detail["memo"], "0011001234567",
                     "TRUONG TIEU HOC LE QUY DON"):
        assert expected in text, expected


def test_class_notices_in_one_pdf(school_setup):
    school_setup.post("/schools/LQD/billing-runs", json={
        "period": "2026-09", "fee_items": ["HOCPHI"], "due_date": "2026-09-15"})
    response = school_setup.get("/schools/LQD/notices.pdf?period=2026-09&class=1A&layout=a4")
    assert response.status_code == 200
    pages = PdfReader(io.BytesIO(response.data)).pages
    assert len(pages) == 2
    # Class-list order: by given name (Dương before Ngọc).
    assert "Nguyễn Thị Ánh Dương" in pages[0].extract_text()
    assert "Lê Bảo Ngọc" in pages[1].extract_text()


def test_cancel_with_reason_then_rebill(school_setup):
    run = {"period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15"}
    school_setup.post("/schools/LQD/billing-runs", json=run)
    code = school_setup.get("/schools/LQD/invoices").get_json()["items"][0]["code"]
    refused = school_setup.post(f"/invoices/{code}/cancel", json={"reason": " "})
    assert refused.status_code == 422
    cancelled = school_setup.post(f"/invoices/{code}/cancel", json={"reason": "Lập nhầm"})
    assert cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["cancel_reason"] == "Lập nhầm"
    assert school_setup.post(f"/invoices/{code}/cancel", json={"reason": "x"}).status_code == 409
    rerun = school_setup.post("/schools/LQD/billing-runs", json=run).get_json()
    assert rerun["invoices"] == 1
    statuses = sorted(i["status"] for i in
                      school_setup.get("/schools/LQD/invoices").get_json()["items"])
    assert statuses == ["cancelled", "open", "open", "open"]


def test_other_schools_and_principals(school_setup, make_school, make_user, api):
    other = make_school("NTT", name="Trường THCS Nguyễn Trãi", account="9988776655")
    _, stranger_token = make_user("accountant", other)
    stranger = api(stranger_token)
    assert stranger.get("/schools/LQD/students").status_code == 403
    school_setup.post("/schools/LQD/billing-runs", json={
        "period": "2026-09", "fee_items": ["HOCPHI"], "due_date": "2026-09-15"})
    code = school_setup.get("/schools/LQD/invoices").get_json()["items"][0]["code"]
    assert stranger.get(f"/invoices/{code}").status_code == 404
    assert stranger.get(f"/invoices/{code}/qr.png").status_code == 404

    from tuition.services.schools import get_school

    _, principal_token = make_user("principal", get_school("LQD"))
    principal = api(principal_token)
    assert principal.get(f"/invoices/{code}").status_code == 200
    response = principal.post("/schools/LQD/billing-runs", json={
        "period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15"})
    assert response.status_code == 403
    assert principal.post(f"/invoices/{code}/cancel", json={"reason": "x"}).status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"period": "2026-13", "fee_items": ["HOCPHI"], "due_date": "2026-09-15"}, "period"),
    ({"period": "2026-09", "fee_items": ["NOPE"], "due_date": "2026-09-15"}, "fee_items"),
    ({"period": "2026-09", "fee_items": ["HOCPHI"], "due_date": "15/09/2026"}, "due_date"),
    ({"period": "2026-09", "fee_items": ["HOCPHI"], "due_date": "2026-09-15",
      "classes": ["9Z"]}, "classes"),
])
def test_bad_billing_runs_are_refused(school_setup, body, field):
    response = school_setup.post("/schools/LQD/billing-runs", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field
    assert school_setup.get("/schools/LQD/invoices").get_json()["count"] == 0


def test_fee_item_amount_must_be_integer_dong(school_setup):
    response = school_setup.post("/schools/LQD/fee-items", json={
        "code": "X", "name": "X", "amount_vnd": 1000.5, "unit": "month"})
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "amount_vnd"


def test_openapi_describes_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi":
            path = rule.rule[len("/api/v1"):].replace("<code>", "{code}")
            path = re.sub(r"<(?:int:)?(\w+)>", r"{\1}", path)
            if path.startswith("/schools/{code}"):
                path = path.replace("/schools/{code}", "/schools/{school}", 1)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((path, method))
    assert routes == documented
