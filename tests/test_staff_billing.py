"""The accountant's pages for students, fees and billing, through a signed-in browser session."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from pypdf import PdfReader
from pyzbar.pyzbar import decode
from sqlalchemy import func, select

from tests.helpers import ROSTER
from tuition.extensions import db
from tuition.models import AuditEvent, Enrolment, Exemption, FeeItem, Invoice, Student
from tuition.services import invoices as invoice_service

PASSWORD = "mat-khau-rat-dai-123"
APP = "/app/LQD"


@pytest.fixture
def school(make_school):
    return make_school(prefix="LQ")


@pytest.fixture
def accountant(school, make_staff, staff_login):
    return staff_login(make_staff("accountant", school).email, PASSWORD)


def upload(browser, path: str, data: bytes, filename: str, form_page: str | None = None):
    return browser.post(path, data={
        "csrf_token": browser.csrf(form_page or path), "file": (io.BytesIO(data), filename),
    }, content_type="multipart/form-data")


def post(browser, path: str, form_page: str | None = None, **data):
    """Submit a form the way a browser does: with the CSRF token of the page it is on."""
    return browser.post(path, data={"csrf_token": browser.csrf(form_page or path), **data})


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def roster(accountant):
    response = upload(accountant, f"{APP}/hoc-sinh/nhap", ROSTER.encode(), "ds.csv")
    assert response.status_code == 302, page(response)
    return accountant


@pytest.fixture
def with_fee(roster):
    response = post(roster, f"{APP}/khoan-thu", code="HOCPHI", name="Học phí",
                    amount="500.000", unit="month", mandatory="1")
    assert response.status_code == 302, page(response)
    return roster


@pytest.fixture
def issued(with_fee):
    response = post(with_fee, f"{APP}/lap-hoa-don", action="issue", period="2026-09",
                    fee_items="HOCPHI", due_date="2026-09-15")
    assert response.status_code == 302, page(response)
    return with_fee


def invoice_codes() -> dict[str, str]:
    db.session.rollback()
    return {student.code: code for code, student in db.session.execute(
        select(Invoice.code, Student).join(Invoice.student))}


# --- Students -----------------------------------------------------------------------------------


def test_import_shows_counts_and_list_searches_without_diacritics(roster):
    listing = roster.get(f"{APP}/hoc-sinh")
    assert "Nguyễn Thị Ánh Dương" in page(listing) and "3 học sinh" in page(listing)
    found = page(roster.get(f"{APP}/hoc-sinh?q=nguyen+thi+anh"))
    assert "Nguyễn Thị Ánh Dương" in found and "Lê Bảo Ngọc" not in found
    assert "Lê Bảo Ngọc" in page(roster.get(f"{APP}/hoc-sinh?q=hs003"))
    one_class = page(roster.get(f"{APP}/hoc-sinh?lop=2A"))
    assert "Nguyễn Minh Khôi" in one_class and "Lê Bảo Ngọc" not in one_class
    again = upload(roster, f"{APP}/hoc-sinh/nhap", ROSTER.encode(), "ds.csv")
    assert "0 học sinh mới, 3 học sinh cập nhật" in page(roster.get(again.headers["Location"]))


def test_student_list_is_paginated(accountant):
    rows = "\n".join(f"HS{n:04d},Học Sinh Số {n},,3B,," for n in range(1, 251))
    data = ("Mã học sinh,Họ và tên,Ngày sinh,Lớp,Họ tên phụ huynh,Số điện thoại\n" + rows)
    assert upload(accountant, f"{APP}/hoc-sinh/nhap", data.encode(), "ds.csv").status_code == 302
    first = page(accountant.get(f"{APP}/hoc-sinh"))
    assert first.count("/sua\"") == 100 and "Trang 1 / 3" in first and "trang=2" in first
    last = page(accountant.get(f"{APP}/hoc-sinh?trang=3"))
    assert last.count("/sua\"") == 50 and "250 học sinh" in last


def test_edit_student(roster, ctx):
    path = f"{APP}/hoc-sinh/HS001/sua"
    form = {"full_name": "Nguyễn Thị Ánh Dương", "date_of_birth": "2019-03-05",
            "classroom_id": str(db.session.scalar(select(Student.classroom_id)
                                                  .where(Student.code == "HS002"))),
            "status": "studying", "guardian_name": "Trần Thị Hoa",
            "guardian_phone": "0912 345 679"}
    bad = post(roster, path, **{**form, "guardian_phone": "12345"})
    assert bad.status_code == 422
    assert "Số điện thoại" in page(bad) and "không hợp lệ" in page(bad)
    db.session.rollback()
    student = db.session.scalar(select(Student).where(Student.code == "HS001"))
    assert student.guardian_phone == "0912345678" and student.guardian_name == "Nguyễn Văn Bình"

    good = post(roster, path, **form)
    assert good.status_code == 302
    assert "Đã lưu thông tin học sinh" in page(roster.get(good.headers["Location"]))
    db.session.rollback()
    student = db.session.scalar(select(Student).where(Student.code == "HS001"))
    assert (student.guardian_phone, student.guardian_name, student.classroom.name) == (
        "0912345679", "Trần Thị Hoa", "2A")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "student.update"))
    assert event.details["changes"]["guardian_phone"] == ["0912345678", "0912345679"]


def test_roster_with_bad_rows_lists_every_one_and_imports_nothing(accountant, ctx):
    data = ("Mã học sinh,Họ và tên,Ngày sinh,Lớp,Số điện thoại\n"
            "HS001,Nguyễn An,05/03/2019,1A,0912345678\n"
            "HS002,Trần Bình,31/02/2019,1A,0912345678\n"
            "HS 003,Lê Chi,05/03/2019,1A,12345\n")
    response = upload(accountant, f"{APP}/hoc-sinh/nhap", data.encode(), "ds.csv")
    assert response.status_code == 422
    html = page(response)
    assert "Tệp có 3 lỗi; chưa nhập học sinh nào." in html
    cells = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]*)</td>', html)
    assert cells == [("3", "Ngày sinh"), ("4", "Mã học sinh"), ("4", "Số điện thoại")]
    assert db.session.scalar(select(func.count()).select_from(Student)) == 0


# --- Fees ---------------------------------------------------------------------------------------


def test_create_fee_item_with_dotted_amount_and_refuse_fractions(accountant, ctx):
    fractional = post(accountant, f"{APP}/khoan-thu", code="TIENAN", name="Tiền ăn",
                      amount="1.250.000,50", unit="month", mandatory="1")
    assert fractional.status_code == 422 and "phần lẻ" in page(fractional)
    created = post(accountant, f"{APP}/khoan-thu", code="tienan", name="Tiền ăn bán trú",
                   amount="1.250.000", unit="school_day", grades=["1", "2"], mandatory="0")
    assert created.status_code == 302
    listing = page(accountant.get(f"{APP}/khoan-thu"))
    assert "Tiền ăn bán trú" in listing and "1.250.000" in listing and "Lớp 1, Lớp 2" in listing
    item = db.session.scalar(select(FeeItem))
    assert (item.code, item.amount_vnd, item.grades, item.mandatory) == (
        "TIENAN", 1_250_000, "1,2", False)


def test_enrol_students_of_a_class(roster, ctx):
    post(roster, f"{APP}/khoan-thu", code="BANTRU", name="Bán trú", amount="300000",
         unit="month", mandatory="0")
    path = f"{APP}/khoan-thu/BANTRU/dang-ky?lop=1A"
    ids = {code: id_ for code, id_ in db.session.execute(select(Student.code, Student.id))}
    response = post(roster, path, student_ids=[str(ids["HS001"]), str(ids["HS003"])])
    assert response.status_code == 302
    assert "đăng ký thêm 2" in page(roster.get(response.headers["Location"]))
    post(roster, path, student_ids=[str(ids["HS003"])])
    db.session.rollback()
    assert set(db.session.scalars(select(Enrolment.student_id))) == {ids["HS003"]}


def test_exemption_and_adjustments(with_fee, ctx):
    response = post(with_fee, f"{APP}/mien-giam", student_code="HS001", item="HOCPHI",
                    kind="percent", value="50", reason="Hộ nghèo", valid_from="2026-09-01")
    assert response.status_code == 302
    assert "Hộ nghèo" in page(with_fee.get(f"{APP}/mien-giam"))
    assert db.session.scalar(select(Exemption.value)) == 50
    unknown = post(with_fee, f"{APP}/mien-giam", student_code="HS999", kind="percent",
                   value="50", reason="Hộ nghèo", valid_from="2026-09-01")
    assert unknown.status_code == 422 and "HS999" in page(unknown)

    one = post(with_fee, f"{APP}/dieu-chinh", student_code="HS002", amount="-150.000",
               description="Trả tiền ăn 5 ngày nghỉ")
    assert one.status_code == 302
    bad_file = ("Mã học sinh,Số tiền,Nội dung\nHS001,abc,Đồng phục\nHS001,12.5,Sách\n")
    response = upload(with_fee, f"{APP}/dieu-chinh/nhap", bad_file.encode(), "dc.csv",
                      form_page=f"{APP}/dieu-chinh")
    assert response.status_code == 422
    html = page(response)
    assert "Tệp có 2 lỗi" in html and html.count('<td class="num">2</td>') == 1
    good_file = "Mã học sinh,Số tiền,Nội dung\nHS001,200.000,Đồng phục\n"
    response = upload(with_fee, f"{APP}/dieu-chinh/nhap", good_file.encode(), "dc.csv",
                      form_page=f"{APP}/dieu-chinh")
    assert response.status_code == 302
    listing = page(with_fee.get(f"{APP}/dieu-chinh"))
    assert "-150.000" in listing and "Đồng phục" in listing and "Sách" not in listing


# --- Billing ------------------------------------------------------------------------------------


def test_billing_preview_then_issue(with_fee, ctx):
    form = {"period": "2026-09", "fee_items": "HOCPHI", "due_date": "2026-09-15"}
    preview = post(with_fee, f"{APP}/lap-hoa-don", action="preview", **form)
    assert preview.status_code == 200
    html = page(preview)
    assert "Sẽ lập 3 hóa đơn, tổng 1.500.000 đ." in html
    assert re.search(r"<td>1A</td><td class=\"num\">2</td><td class=\"num\">1.000.000</td>", html)
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0

    issued = post(with_fee, f"{APP}/lap-hoa-don", action="issue", **form)
    assert issued.status_code == 302 and "ky=2026-09" in issued.headers["Location"]
    listing = page(with_fee.get(issued.headers["Location"]))
    assert "Đã lập 3 hóa đơn" in listing
    assert len(invoice_codes()) == 3

    again = post(with_fee, f"{APP}/lap-hoa-don", action="preview", **form)
    assert "Sẽ lập 0 hóa đơn" in page(again) and "Bỏ qua 3 học sinh" in page(again)
    bad = post(with_fee, f"{APP}/lap-hoa-don", action="issue", **{**form, "period": "2026-13"})
    assert bad.status_code == 422 and "không hợp lệ" in page(bad)


def test_invoice_list_filters_and_totals(issued):
    every = page(issued.get(f"{APP}/hoa-don?ky=2026-09"))
    assert every.count("/app/LQD/hoa-don/LQ") == 3 and "1.500.000" in every
    one_class = page(issued.get(f"{APP}/hoa-don?ky=2026-09&lop=2A"))
    assert one_class.count("/app/LQD/hoa-don/LQ") == 1 and "Nguyễn Minh Khôi" in one_class
    paid = page(issued.get(f"{APP}/hoa-don?ky=2026-09&trang_thai=paid"))
    assert "Không có hóa đơn nào khớp với bộ lọc." in paid
    other_period = page(issued.get(f"{APP}/hoa-don?ky=2026-10"))
    assert "Không có hóa đơn nào khớp với bộ lọc." in other_period


def test_invoice_detail_memo_and_qr(issued, ctx):
    code = invoice_codes()["HS001"]
    html = page(issued.get(f"{APP}/hoa-don/{code}"))
    invoice = invoice_service.get_invoice(code)
    assert invoice_service.memo_for(invoice) in html and "500.000" in html
    qr_url = f"{APP}/hoa-don/{code}/qr.png"
    assert qr_url in html
    png = issued.get(qr_url)
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert decode(Image.open(io.BytesIO(png.data)))[0].data.decode() == (
        invoice_service.qr_payload(invoice))


def test_cancel_invoice_with_reason(issued, ctx):
    code = invoice_codes()["HS002"]
    path = f"{APP}/hoa-don/{code}"
    missing = post(issued, f"{path}/huy", form_page=path, reason=" ")
    assert missing.status_code == 422 and "Cần ghi lý do hủy." in page(missing)
    assert invoice_service.get_invoice(code).status == "open"
    done = post(issued, f"{path}/huy", form_page=path, reason="Học sinh chuyển trường")
    assert done.status_code == 302
    html = page(issued.get(done.headers["Location"]))
    assert "Đã hủy" in html and "Học sinh chuyển trường" in html
    db.session.rollback()
    assert invoice_service.get_invoice(code).status == "cancelled"
    assert issued.get(f"{path}/qr.png").status_code == 404


def test_notices_pdf_for_a_class(issued):
    listing = page(issued.get(f"{APP}/hoa-don?ky=2026-09&lop=1A"))
    assert "In thông báo thu tiền lớp 1A" in listing
    response = issued.get(f"{APP}/thong-bao.pdf?ky=2026-09&lop=1A")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = PdfReader(io.BytesIO(response.data)).pages
    assert len(pages) == 1  # two A5 notices on one A4 sheet
    text = pages[0].extract_text()
    assert "Nguyễn Thị Ánh Dương" in text and "Lê Bảo Ngọc" in text
    assert "Nguyễn Minh Khôi" not in text
    empty = issued.get(f"{APP}/thong-bao.pdf?ky=2026-10&lop=1A")
    assert empty.status_code == 302


# --- Who may do what ----------------------------------------------------------------------------


def test_principal_sees_pages_but_every_change_is_refused(issued, school, make_staff,
                                                          staff_login, ctx):
    principal = staff_login(make_staff("principal", school).email, PASSWORD)
    code = invoice_codes()["HS001"]
    pages = ["/hoc-sinh", "/khoan-thu", "/khoan-thu/HOCPHI/dang-ky", "/mien-giam",
             "/dieu-chinh", "/lap-hoa-don", "/hoa-don", f"/hoa-don/{code}",
             f"/hoa-don/{code}/qr.png", "/thong-bao.pdf?ky=2026-09&lop=1A"]
    for path in pages:
        response = principal.get(APP + path)
        assert response.status_code == 200, path
        if response.mimetype == "text/html":
            html = page(response)
            # The only form with a CSRF token is the header's (sign out, language).
            assert html.count('name="csrf_token"') == 2, path
            assert "Hủy hóa đơn" not in html and "Thêm khoản thu" not in html
    token = principal.csrf(f"{APP}/hoc-sinh")
    posts = {
        "/hoc-sinh/HS001/sua": {"full_name": "X", "status": "studying"},
        "/hoc-sinh/nhap": {}, "/khoan-thu": {"code": "X", "name": "X", "amount": "1"},
        "/khoan-thu/HOCPHI/dang-ky": {}, "/mien-giam": {"student_code": "HS001"},
        "/dieu-chinh": {"student_code": "HS001"}, "/dieu-chinh/nhap": {},
        "/lap-hoa-don": {"action": "preview", "period": "2026-09", "fee_items": "HOCPHI",
                         "due_date": "2026-09-15"},
        f"/hoa-don/{code}/huy": {"reason": "thử"},
    }
    for path, data in posts.items():
        response = principal.post(APP + path, data={"csrf_token": token, **data})
        assert response.status_code == 403, path
    assert invoice_service.get_invoice(code).status == "open"


def test_accountant_of_another_school_is_refused(issued, make_school, make_staff,
                                                 staff_login, ctx):
    other = make_school("KHAC", prefix="KH", name="Trường khác", account="0099001234567")
    stranger = staff_login(make_staff("accountant", other).email, PASSWORD)
    code = invoice_codes()["HS001"]
    for path in ["/hoc-sinh", "/khoan-thu", "/lap-hoa-don", "/hoa-don", f"/hoa-don/{code}",
                 f"/hoa-don/{code}/qr.png", "/thong-bao.pdf?ky=2026-09&lop=1A"]:
        assert stranger.get(APP + path).status_code in (403, 404), path
    token = stranger.csrf("/app/KHAC/hoc-sinh")
    response = stranger.post(f"{APP}/hoa-don/{code}/huy",
                             data={"csrf_token": token, "reason": "x"})
    assert response.status_code in (403, 404)
    # Its own school's URL with this school's invoice code: not found, not confirmed.
    assert stranger.get(f"/app/KHAC/hoa-don/{code}").status_code == 404
