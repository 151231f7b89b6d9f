"""Reports: the dashboard of a period and the arrears list, exact to the dong, with exports.

The school: classes 1A, 1B (grade 1) and 2A (grade 2), two students each. Tuition (HOCPHI,
500,000 đ a month) for everyone, meals (TIENAN, 300,000 đ) for grade 1; a 100,000 đ credit for
Lê Bảo Ngọc. Payments arrive through SePay webhooks on given days; one invoice is cancelled and
billed again. Seen on 2026-11-20:

=====  ===========================  =====  =====================  =====================  ==========
code   name                         class  2026-09 total / paid   2026-10 total / paid   2026-11
=====  ===========================  =====  =====================  =====================  ==========
HS001  Nguyễn Thị Ánh Dương         1A     800k / 800k            500k / 500k            500k / 500k
HS002  Nguyễn Minh Khôi             2A     500k / 200k            500k / 0               500k / 0 *
HS003  Lê Bảo Ngọc                  1A     700k / 350k (credit)   500k / 500k            500k / 0
HS004  =HYPERLINK("http://x")       1B     800k / 0               500k / 0               500k / 0
HS005  Trần Đức Việt                2A     500k / 500k            500k / 250k            500k / 0 *
HS006  Phạm Thùy Linh               1B     (800k cancelled)       500k / 0               500k / 0
                                           500k / 500k
=====  ===========================  =====  =====================  =====================  ==========

Due: 2026-09 on 09-15 (HS006's second invoice 09-20), 2026-10 on 10-15, 2026-11 on 11-10 for
grade 1 and on 11-30 (*) for 2A.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.helpers import KEY, send_sepay, sepay_body
from tuition.extensions import db
from tuition.importing.adjustments import AdjustmentRow
from tuition.pdf.arrears import render_arrears
from tuition.services import fees, reports, schools, students

TODAY = date(2026, 11, 20)
INJECTION_NAME = '=HYPERLINK("http://x")'
INJECTION_PHONE = "+84901112233"
ROSTER = (
    "Mã học sinh,Họ và tên,Ngày sinh,Lớp,Họ tên phụ huynh,Số điện thoại\n"
    "HS001,Nguyễn Thị Ánh Dương,05/03/2019,1A,Nguyễn Văn Bình,0912345678\n"
    "HS002,Nguyễn Minh Khôi,12/11/2018,2A,Nguyễn Văn Bình,0912345678\n"
    "HS003,Lê Bảo Ngọc,21/01/2019,1A,Lê Văn Tâm,0901234567\n"
    "HS004,Đỗ Hoàng Nam,02/02/2019,1B,Đỗ Văn Hùng,0987654321\n"
    "HS005,Trần Đức Việt,14/07/2018,2A,Trần Thị Mai,0934567890\n"
    "HS006,Phạm Thùy Linh,30/09/2019,1B,Phạm Văn Sơn,0978123456\n"
)


def pay(client, codes, student: str, period: str, amount: int, day: str) -> None:
    body = sepay_body(f"{codes[(student, period)]} {student}", amount)
    body["transactionDate"] = f"{day} 09:30:00"
    assert send_sepay(client, body).status_code == 200


@pytest.fixture
def school_with_arrears(client, make_school, make_user, api):
    """The school of the module docstring; returns the accountant's API client."""
    school = make_school(prefix="LQ")
    accountant, token = make_user("accountant", school)
    acct = api(token)
    assert acct.upload("/schools/LQD/students/import", ROSTER.encode(), "ds.csv").status_code \
        == 200
    assert acct.post("/schools/LQD/fee-items", json={
        "code": "HOCPHI", "name": "Học phí", "amount_vnd": 500_000, "unit": "month"}
    ).status_code == 201
    assert acct.post("/schools/LQD/fee-items", json={
        "code": "TIENAN", "name": "Tiền ăn bán trú", "amount_vnd": 300_000, "unit": "month",
        "grades": ["1"]}).status_code == 201
    fees.add_adjustments(accountant, school, [AdjustmentRow(
        row=2, student_code="HS003", amount_vnd=-100_000, description="Hoàn tiền ăn tháng 8")])
    # Names and phones that an export must keep inert (no roster validation in the way).
    hs004 = students.get_student(school, "HS004")
    hs004.full_name, hs004.guardian_phone = INJECTION_NAME, INJECTION_PHONE
    school.bank_accounts[0].sepay_api_key = KEY
    db.session.commit()

    def bill(period, items, due, classes=None):
        response = acct.post("/schools/LQD/billing-runs", json={
            "period": period, "fee_items": items, "due_date": due,
            **({"classes": classes} if classes else {})})
        assert response.status_code == 201, response.get_json()

    bill("2026-09", ["HOCPHI", "TIENAN"], "2026-09-15")
    codes = {(i["student_code"], "2026-09"): i["code"]
             for i in acct.get("/schools/LQD/invoices").get_json()["items"]}
    assert acct.post(f"/invoices/{codes['HS006', '2026-09']}/cancel",
                     json={"reason": "Sai khoản thu"}).status_code == 200
    bill("2026-09", ["HOCPHI"], "2026-09-20", ["1B"])
    bill("2026-10", ["HOCPHI"], "2026-10-15")
    bill("2026-11", ["HOCPHI"], "2026-11-10", ["1A", "1B"])
    bill("2026-11", ["HOCPHI"], "2026-11-30", ["2A"])
    codes = {(i["student_code"], i["period"]): i["code"]
             for i in acct.get("/schools/LQD/invoices").get_json()["items"]
             if i["status"] != "cancelled"}
    assert len(codes) == 18

    pay(client, codes, "HS001", "2026-09", 800_000, "2026-09-05")
    pay(client, codes, "HS002", "2026-09", 200_000, "2026-09-05")
    pay(client, codes, "HS003", "2026-09", 350_000, "2026-09-10")
    pay(client, codes, "HS005", "2026-09", 500_000, "2026-09-10")
    pay(client, codes, "HS006", "2026-09", 500_000, "2026-09-21")
    pay(client, codes, "HS001", "2026-10", 500_000, "2026-10-03")
    pay(client, codes, "HS003", "2026-10", 500_000, "2026-10-03")
    pay(client, codes, "HS005", "2026-10", 250_000, "2026-10-16")
    pay(client, codes, "HS001", "2026-11", 500_000, "2026-11-02")
    acct.codes = codes
    return acct


def amounts(expected, collected, outstanding, rate):
    return {"expected_vnd": expected, "collected_vnd": collected,
            "outstanding_vnd": outstanding, "collection_rate": rate}


# --------------------------------------------------------------------------------------------
# Apportioning


@pytest.mark.parametrize(("amount", "weights", "parts"), [
    (100, [1, 1, 1], [34, 33, 33]),
    (200, [1, 1, 1], [67, 67, 66]),
    (1_000_000, [500_000, 300_000, 0], [625_000, 375_000, 0]),
    (10, [3, 3, 4], [3, 3, 4]),
    (7, [0, 0], [0, 0]),
    (0, [5, 5], [0, 0]),
])
def test_apportion_is_exact_with_largest_remainders(amount, weights, parts):
    assert reports.apportion(amount, weights) == parts
    if any(weights):
        assert sum(reports.apportion(amount, weights)) == amount


def test_split_invoice_nets_credits_then_spreads_the_paid_amount():
    shares = reports.split_invoice([("A", 100_000), ("B", 200_000), (None, -1), ("C", 0)],
                                   100_001)
    assert [(s.key, s.billed_vnd, s.credit_vnd, s.expected_vnd, s.collected_vnd)
            for s in shares] == [("A", 100_000, 0, 100_000, 33_334),
                                 ("B", 200_000, -1, 199_999, 66_667)]
    assert sum(s.collected_vnd for s in shares) == 100_001
    assert sum(s.expected_vnd for s in shares) == 299_999
    # Nothing paid, fully paid, and paid beyond the total (capped at the net total).
    assert [s.collected_vnd for s in reports.split_invoice([("A", 3), ("B", 3)], 0)] == [0, 0]
    assert [s.collected_vnd for s in reports.split_invoice([("A", 3), ("B", 4)], 9)] == [3, 4]
    # A credit as large as the charges leaves nothing to collect.
    zero = reports.split_invoice([("A", 300), ("B", 100), (None, -400)], 0)
    assert [(s.credit_vnd, s.expected_vnd) for s in zero] == [(-300, 0), (-100, 0)]


# --------------------------------------------------------------------------------------------
# Dashboard


def test_dashboard_of_a_month(school_with_arrears):
    body = school_with_arrears.get(
        "/schools/LQD/reports/dashboard?period=2026-09&today=2026-11-20").get_json()
    assert (body["school"], body["period"], body["today"]) == ("LQD", "2026-09", "2026-11-20")
    # The cancelled 800,000 đ invoice of HS006 counts nowhere.
    assert body["totals"] == {
        "students": 6, "invoices": 6, "invoices_paid": 3, "invoices_partial": 2,
        "invoices_open": 1, **amounts(3_800_000, 2_350_000, 1_450_000, 0.6184),
        "gross_arrears_vnd": 1_450_000, "credit_held_vnd": 0, "net_arrears_vnd": 1_450_000}
    assert body["by_grade"] == [
        {"grade": "1", "label": "Khối 1", "classes": 2, "students": 4, "invoices": 4,
         **amounts(2_800_000, 1_650_000, 1_150_000, 0.5893)},
        {"grade": "2", "label": "Khối 2", "classes": 1, "students": 2, "invoices": 2,
         **amounts(1_000_000, 700_000, 300_000, 0.7)},
    ]
    assert [(c["class"], c["grade"], c["students"], c["invoices"], c["expected_vnd"],
             c["collected_vnd"], c["outstanding_vnd"], c["collection_rate"])
            for c in body["by_class"]] == [
        ("1A", "1", 2, 2, 1_500_000, 1_150_000, 350_000, 0.7667),
        ("1B", "1", 2, 2, 1_300_000, 500_000, 800_000, 0.3846),
        ("2A", "2", 2, 2, 1_000_000, 700_000, 300_000, 0.7),
    ]
    # HS003's invoice: 500k + 300k - 100k credit, 350k paid. The credit is netted 5:3 into
    # the charges (62,500 and 37,500), the 350k spread 437,500 : 262,500.
    assert body["by_fee_item"] == [
        {"code": "HOCPHI", "name": "Học phí", "billed_vnd": 3_000_000, "credits_vnd": -62_500,
         **amounts(2_937_500, 1_918_750, 1_018_750, 0.6532)},
        {"code": "TIENAN", "name": "Tiền ăn bán trú", "billed_vnd": 900_000,
         "credits_vnd": -37_500, **amounts(862_500, 431_250, 431_250, 0.5)},
    ]
    assert body["collections_by_day"] == [
        {"date": "2026-09-05", "collected_vnd": 1_000_000, "cumulative_vnd": 1_000_000},
        {"date": "2026-09-10", "collected_vnd": 850_000, "cumulative_vnd": 1_850_000},
        {"date": "2026-09-21", "collected_vnd": 500_000, "cumulative_vnd": 2_350_000},
    ]
    assert [(a["bucket"], a["invoices"], a["outstanding_vnd"]) for a in body["aging"]] == [
        ("not_due", 0, 0), ("1_30", 0, 0), ("31_60", 0, 0), ("over_60", 3, 1_450_000)]


def test_dashboard_of_every_period_ages_the_balance(school_with_arrears, ctx, admin):
    school = schools.get_school("LQD")
    body = reports.dashboard(admin, school, period=None, today=TODAY)
    assert body["period"] is None
    assert {k: body["totals"][k] for k in ("invoices", "expected_vnd", "collected_vnd",
                                           "outstanding_vnd")} == {
        "invoices": 18, "expected_vnd": 9_800_000, "collected_vnd": 4_100_000,
        "outstanding_vnd": 5_700_000}
    assert [(a["bucket"], a["label"], a["invoices"], a["students"], a["outstanding_vnd"])
            for a in body["aging"]] == [
        ("not_due", "Chưa đến hạn", 2, 2, 1_000_000),        # 2A, November, due 11-30
        ("1_30", "Quá hạn 1-30 ngày", 3, 3, 1_500_000),      # grade 1, November, due 11-10
        ("31_60", "Quá hạn 31-60 ngày", 4, 4, 1_750_000),    # October, due 10-15
        ("over_60", "Quá hạn trên 60 ngày", 3, 3, 1_450_000),  # September
    ]
    assert [(d["date"], d["collected_vnd"]) for d in body["collections_by_day"]] == [
        ("2026-09-05", 1_000_000), ("2026-09-10", 850_000), ("2026-09-21", 500_000),
        ("2026-10-03", 1_000_000), ("2026-10-16", 250_000), ("2026-11-02", 500_000)]
    assert body["collections_by_day"][-1]["cumulative_vnd"] == 4_100_000
    fee_items = {f["code"]: f for f in body["by_fee_item"]}
    assert sum(f["expected_vnd"] for f in fee_items.values()) == 9_800_000
    assert sum(f["collected_vnd"] for f in fee_items.values()) == 4_100_000
    assert fee_items["HOCPHI"]["expected_vnd"] == 2_937_500 + 3_000_000 + 3_000_000


@pytest.mark.parametrize(("today", "bucket"), [
    (date(2026, 10, 15), "not_due"),   # due today
    (date(2026, 10, 16), "1_30"),
    (date(2026, 11, 14), "1_30"),      # 30 days past due
    (date(2026, 11, 15), "31_60"),
    (date(2026, 12, 14), "31_60"),     # 60 days
    (date(2026, 12, 15), "over_60"),
])
def test_aging_boundaries(school_with_arrears, ctx, admin, today, bucket):
    aging = reports.dashboard(admin, schools.get_school("LQD"), period="2026-10",
                              today=today)["aging"]
    assert {a["bucket"]: a["outstanding_vnd"] for a in aging if a["invoices"]} == {
        bucket: 1_750_000}


def test_a_term_takes_its_months(school_with_arrears, ctx, admin):
    body = reports.dashboard(admin, schools.get_school("LQD"), period="2026-2027-hk1",
                             today=TODAY)
    assert body["period"] == "2026-2027-HK1"
    assert body["totals"]["expected_vnd"] == 9_800_000


# --------------------------------------------------------------------------------------------
# Arrears


ROW_HS003 = {
    "student_code": "HS003", "student_name": "Lê Bảo Ngọc", "class": "1A", "grade": "1",
    "guardian_name": "Lê Văn Tâm", "guardian_phone": "0901234567", "period": "2026-09",
    "total_vnd": 700_000, "paid_vnd": 350_000, "balance_vnd": 350_000,
    "due_date": "2026-09-15", "days_overdue": 66,
}


def test_arrears_list_down_to_the_student(school_with_arrears):
    body = school_with_arrears.get(
        "/schools/LQD/reports/arrears?period=2026-09&today=2026-11-20").get_json()
    assert body["totals"] == {"invoices": 3, "students": 3, "total_vnd": 2_000_000,
                              "paid_vnd": 550_000, "balance_vnd": 1_450_000,
                              "gross_arrears_vnd": 1_450_000, "credit_held_vnd": 0,
                              "net_arrears_vnd": 1_450_000}
    first = {k: v for k, v in body["items"][0].items() if k != "invoice_id"}
    assert first == {**ROW_HS003, "invoice_code": school_with_arrears.codes["HS003", "2026-09"]}
    assert [(r["student_code"], r["student_name"], r["guardian_phone"], r["balance_vnd"])
            for r in body["items"]] == [
        ("HS003", "Lê Bảo Ngọc", "0901234567", 350_000),
        ("HS004", INJECTION_NAME, INJECTION_PHONE, 800_000),
        ("HS002", "Nguyễn Minh Khôi", "0912345678", 300_000),
    ]


def test_arrears_grouped_by_class_and_grade(school_with_arrears):
    body = school_with_arrears.get(
        "/schools/LQD/reports/arrears?group_by=class&today=2026-11-20").get_json()
    assert body["totals"]["balance_vnd"] == 5_700_000
    assert [(g["key"], g["label"], g["students"], g["invoices"], g["balance_vnd"])
            for g in body["groups"]] == [
        ("1A", "Lớp 1A", 1, 2, 850_000),
        ("1B", "Lớp 1B", 2, 5, 2_800_000),
        ("2A", "Lớp 2A", 2, 5, 2_050_000),
    ]
    # Within a class by given name (Linh before the odd name), then by period.
    assert [(r["student_code"], r["period"], r["days_overdue"])
            for r in body["groups"][1]["items"]] == [
        ("HS006", "2026-10", 36), ("HS006", "2026-11", 10),
        ("HS004", "2026-09", 66), ("HS004", "2026-10", 36), ("HS004", "2026-11", 10)]
    overdue = school_with_arrears.get(
        "/schools/LQD/reports/arrears?group_by=grade&today=2026-11-20&overdue_only=1"
    ).get_json()
    assert [(g["key"], g["label"], g["balance_vnd"]) for g in overdue["groups"]] == [
        ("1", "Khối 1", 3_650_000), ("2", "Khối 2", 1_050_000)]


def test_arrears_by_fee_item_splits_each_invoice(school_with_arrears):
    body = school_with_arrears.get(
        "/schools/LQD/reports/arrears?group_by=fee_item&period=2026-09&today=2026-11-20"
    ).get_json()
    assert [(g["key"], g["label"], g["balance_vnd"]) for g in body["groups"]] == [
        ("HOCPHI", "HOCPHI - Học phí", 1_018_750),
        ("TIENAN", "TIENAN - Tiền ăn bán trú", 431_250),
    ]
    assert [(r["student_code"], r["total_vnd"], r["paid_vnd"], r["balance_vnd"])
            for r in body["groups"][0]["items"]] == [
        ("HS003", 437_500, 218_750, 218_750),
        ("HS004", 500_000, 0, 500_000),
        ("HS002", 500_000, 200_000, 300_000),
    ]
    assert [(r["student_code"], r["balance_vnd"]) for r in body["groups"][1]["items"]] == [
        ("HS003", 131_250), ("HS004", 300_000)]


def test_bad_parameters_are_refused(school_with_arrears):
    for query in ("group_by=student", "format=docx", "period=2026-13", "today=20/11/2026"):
        response = school_with_arrears.get(f"/schools/LQD/reports/arrears?{query}")
        assert response.status_code == 422, query


# --------------------------------------------------------------------------------------------
# Exports


def test_csv_has_a_bom_and_inert_cells(school_with_arrears):
    response = school_with_arrears.get(
        "/schools/LQD/reports/arrears?period=2026-09&today=2026-11-20&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "cong-no-LQD-2026-09.csv" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["Mã học sinh", "Họ và tên", "Lớp", "Khối", "Phụ huynh", "Số điện thoại",
                       "Kỳ thu", "Mã hóa đơn", "Phải nộp (đ)", "Đã nộp (đ)", "Còn nợ (đ)",
                       "Hạn nộp", "Số ngày quá hạn"]
    assert rows[1] == ["HS003", "Lê Bảo Ngọc", "1A", "1", "Lê Văn Tâm", "0901234567",
                       "Tháng 9/2026", school_with_arrears.codes["HS003", "2026-09"], "700000",
                       "350000", "350000", "15/09/2026", "66"]
    assert rows[2][1] == "'" + INJECTION_NAME and rows[2][5] == "'" + INJECTION_PHONE
    assert len(rows) == 4
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r"))
                   for row in rows for cell in row)


def test_xlsx_values_and_no_formulas(school_with_arrears):
    response = school_with_arrears.get(
        "/schools/LQD/reports/arrears?group_by=fee_item&period=2026-09&today=2026-11-20"
        "&format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][8] == "Khoản thu"
    assert rows[1][:2] == ["HS003", "Lê Bảo Ngọc"]
    assert rows[1][8:] == ["Học phí", 437_500, 218_750, 218_750,
                           rows[1][12], 66]
    assert rows[1][12].date() == date(2026, 9, 15)
    odd = [row for row in rows if row[0] == "HS004"]
    assert [row[1] for row in odd] == [INJECTION_NAME, INJECTION_NAME]
    assert odd[0][5] == INJECTION_PHONE
    assert len(rows) == 1 + 3 + 2
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert all(c.data_type == "s" for c in cells if isinstance(c.value, str))


def test_pdf_prints_vietnamese_names_exactly(school_with_arrears):
    response = school_with_arrears.get(
        "/schools/LQD/reports/arrears?group_by=class&today=2026-11-20&format=pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    page = reader.pages[0]
    assert page.mediabox.width > page.mediabox.height  # landscape
    text = unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in reader.pages))
    for expected in ("DANH SÁCH CÔNG NỢ", "Trường Tiểu học Lê Quý Đôn", "Lê Bảo Ngọc",
                     "Nguyễn Minh Khôi", "Phạm Thùy Linh", "Trần Đức Việt", "Lê Văn Tâm",
                     "Lớp 1B", "Cộng Lớp 2A", "2.050.000", "5.700.000", INJECTION_NAME,
                     "Tính đến ngày 20/11/2026"):
        assert expected in text, expected


def test_pdf_repeats_the_header_on_every_page():
    rows = [{"invoice_id": i, "student_code": f"HS{i:04d}", "student_name": f"Học Sinh Số {i}",
             "class": "1A", "grade": "1", "guardian_name": "Phụ Huynh", "guardian_phone": "09",
             "period": "2026-09", "invoice_code": f"LQ{i:08d}", "total_vnd": 500_000,
             "paid_vnd": 0, "balance_vnd": 500_000, "due_date": "2026-09-15",
             "days_overdue": 66} for i in range(1, 121)]
    report = {"school_name": "Trường Tiểu học Lê Quý Đôn", "period": "2026-09",
              "today": "2026-11-20", "group_by": None, "items": rows,
              "totals": {"invoices": 120, "students": 120, "total_vnd": 60_000_000,
                         "paid_vnd": 0, "balance_vnd": 60_000_000}}
    out = io.BytesIO()
    pages = render_arrears(report, out)
    reader = PdfReader(io.BytesIO(out.getvalue()))
    assert pages == len(reader.pages) >= 3
    texts = [unicodedata.normalize("NFC", p.extract_text()) for p in reader.pages]
    assert all("Họ và tên" in t and "Còn nợ" in t for t in texts)
    assert "Học Sinh Số 120" in texts[-1] and "60.000.000" in texts[-1]


# --------------------------------------------------------------------------------------------
# Who may see them


def test_principal_reads_other_schools_staff_do_not(school_with_arrears, make_school,
                                                    make_user, api):
    school = schools.get_school("LQD")
    _, principal = make_user("principal", school)
    for path in ("dashboard?period=2026-09", "arrears?format=csv"):
        assert api(principal).get(f"/schools/LQD/reports/{path}").status_code == 200
    other = make_school("NTH", prefix="NT", account="0021000999888", name="Trường THCS X")
    _, outsider = make_user("accountant", other)
    for path in ("dashboard", "arrears", "arrears?format=xlsx", "arrears?format=pdf"):
        response = api(outsider).get(f"/schools/LQD/reports/{path}")
        assert response.status_code == 403, path
    assert api("not-a-token").get("/schools/LQD/reports/dashboard").status_code == 401


def test_service_checks_access_too(school_with_arrears, ctx, make_school, make_user):
    from tuition.services.errors import Forbidden

    other = make_school("NTH", prefix="NT", account="0021000999888")
    outsider, _ = make_user("principal", other)
    with pytest.raises(Forbidden):
        reports.arrears(outsider, schools.get_school("LQD"), period=None, group_by=None,
                        today=TODAY)
