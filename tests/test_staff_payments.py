"""The accountant's money-in pages through the signed-in staff app: the review queue (assign,
split, set aside, rematch), payments (reverse), statement upload, receipts and reminders."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from tests.helpers import assert_ledger_ok, invoice, payments_of, send_sepay, sepay_body
from tuition.extensions import db
from tuition.models import AuditEvent, Receipt, Student
from tuition.services import schools

PASSWORD = "mat-khau-rat-dai-123"
QUEUE = "/app/LQD/cho-xu-ly"


@pytest.fixture
def accountant(billed, make_staff, staff_login):
    """A signed-in accountant of LQD (3 students, each owing 500,000 đ)."""
    user = make_staff("accountant", schools.get_school("LQD"))
    return staff_login(user.email, PASSWORD)


@pytest.fixture
def principal(billed, make_staff, staff_login):
    user = make_staff("principal", schools.get_school("LQD"))
    return staff_login(user.email, PASSWORD)


def post(browser, path: str, page: str, **data):
    return browser.post(path, data={"csrf_token": browser.csrf(page), **data})


def test_review_queue_lists_a_no_code_transfer_with_suggestions(client, billed, accountant):
    send_sepay(client, sepay_body("hoc phi be Ngoc lop 1A", 500_000))
    page = accountant.get(QUEUE).get_data(as_text=True)
    assert "hoc phi be Ngoc lop 1A" in page
    assert "500.000" in page
    assert "không có mã thanh toán hợp lệ" in page
    assert billed.codes["HS003"] in page and "Lê Bảo Ngọc" in page
    assert "Gán theo gợi ý" in page and "Để riêng" in page and "Ghép lại" in page


def test_one_click_assign_pays_the_invoice_and_empties_the_queue(client, billed, accountant):
    send_sepay(client, sepay_body("hoc phi be Ngoc lop 1A", 500_000))
    (payment,) = payments_of(billed, "review")
    response = post(accountant, f"{QUEUE}/{payment['id']}/gan", QUEUE,
                    invoice_code=billed.codes["HS003"], amount_vnd="500000",
                    reason="Gán theo gợi ý")
    assert response.status_code == 302
    assert invoice(billed, "HS003")["status"] == "paid"
    page = accountant.get(QUEUE).get_data(as_text=True)
    assert "Không có giao dịch nào chờ xử lý." in page
    assert "Đã gán 1 khoản" in page  # the flash after the redirect
    assert_ledger_ok()


def test_split_over_two_invoices(client, billed, accountant):
    send_sepay(client, sepay_body("hoc phi 2 chau nha anh Binh", 1_000_000))
    (payment,) = payments_of(billed, "review")
    response = accountant.post(f"{QUEUE}/{payment['id']}/gan", data={
        "csrf_token": accountant.csrf(QUEUE), "reason": "Phụ huynh xác nhận qua điện thoại",
        "invoice_code": [billed.codes["HS001"], billed.codes["HS002"].lower(), ""],
        "amount_vnd": ["500.000", "500 000 đ", ""]})
    assert response.status_code == 302
    assert invoice(billed, "HS001")["status"] == "paid"
    assert invoice(billed, "HS002")["status"] == "paid"
    assert payments_of(billed, "review") == []
    assert_ledger_ok()


def test_a_refused_assign_changes_nothing_and_says_why(client, billed, accountant):
    send_sepay(client, sepay_body("hoc phi 2 chau", 600_000))
    (payment,) = payments_of(billed, "review")
    response = accountant.post(f"{QUEUE}/{payment['id']}/gan", data={
        "csrf_token": accountant.csrf(QUEUE), "reason": "chia",
        "invoice_code": [billed.codes["HS001"], billed.codes["HS002"]],
        "amount_vnd": ["500.000", "500.000"]})
    assert response.status_code == 422
    assert "Chỉ còn 600.000 đ chưa gán" in response.get_data(as_text=True)
    assert invoice(billed, "HS001")["paid_vnd"] == 0
    bad_amount = post(accountant, f"{QUEUE}/{payment['id']}/gan", QUEUE,
                      invoice_code=billed.codes["HS001"], amount_vnd="năm trăm",
                      reason="chia")
    assert bad_amount.status_code == 422
    assert "không hợp lệ" in bad_amount.get_data(as_text=True)
    assert payments_of(billed, "review")[0]["allocations"] == []


def test_set_aside_needs_a_reason(client, billed, accountant):
    send_sepay(client, sepay_body("ung ho quy lop", 200_000))
    (payment,) = payments_of(billed, "review")
    url = f"{QUEUE}/{payment['id']}/de-rieng"
    assert post(accountant, url, QUEUE, reason=" ").status_code == 422
    assert payments_of(billed, "review")
    assert post(accountant, url, QUEUE, reason="Quỹ lớp, không phải học phí").status_code == 302
    assert payments_of(billed, "review") == []
    assert payments_of(billed, "ignored")[0]["status_reason"] == "set_aside"


def test_rematch_after_the_invoice_code_becomes_known(client, billed, accountant):
    response = post(accountant, f"{QUEUE}/ghep-lai", QUEUE)
    assert response.status_code == 302
    assert "Đã ghép lại: 0" in accountant.get(QUEUE).get_data(as_text=True)


def test_reversing_an_allocation_reopens_the_invoice_with_audit(client, billed, accountant):
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    (payment,) = payments_of(billed, "matched")
    allocation = payment["allocations"][0]["id"]
    page = accountant.get("/app/LQD/giao-dich").get_data(as_text=True)
    assert billed.codes["HS001"] in page and "Đảo bút toán" in page
    response = post(accountant, f"/app/LQD/giao-dich/but-toan/{allocation}/dao",
                    "/app/LQD/giao-dich", reason="Phụ huynh chuyển nhầm", back="payments")
    assert response.status_code == 302 and "/giao-dich" in response.headers["Location"]
    detail = invoice(billed, "HS001")
    assert (detail["status"], detail["paid_vnd"]) == ("open", 0)
    assert payments_of(billed, "review")[0]["unallocated_vnd"] == 500_000
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"allocation.reverse", "receipt.void"} <= actions
    assert db.session.scalar(select(Receipt.status)) == "void"
    log = accountant.get("/app/LQD/nhat-ky").get_data(as_text=True)
    assert "Đảo bút toán" in log and "Phụ huynh chuyển nhầm" in log
    again = post(accountant, f"/app/LQD/giao-dich/but-toan/{allocation}/dao",
                 "/app/LQD/giao-dich", reason="lần nữa", back="payments")
    assert again.status_code == 422
    assert "đã được đảo" in again.get_data(as_text=True)
    assert_ledger_ok()


def test_statement_upload_lists_row_errors_and_imports_nothing(client, billed, accountant):
    text = "\r\n".join([
        "Ngày giao dịch;Số tham chiếu;Ghi có;Nội dung",
        f"31/09/2026 08:00;FT1;500000;{billed.codes['HS001']}",
        "05/09/2026 09:00;FT2;300.000,50;ung ho",
    ]) + "\r\n"
    page = "/app/LQD/sao-ke"
    response = accountant.post(page, data={
        "csrf_token": accountant.csrf(page),
        "file": (io.BytesIO(text.encode("utf-8-sig")), "saoke.csv"),
        "credit_column": "Ghi có", "date_format": "%d/%m/%Y %H:%M",
    }, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html
    assert "2 lỗi" in html and "31/09/2026" in html
    assert payments_of(billed) == []


def test_statement_upload_shows_counts(client, billed, accountant):
    text = ("Ngày giao dịch;Số tham chiếu;Ghi có;Nội dung\r\n"
            f"05/09/2026 08:00;FT1;500000;{billed.codes['HS001']} hoc phi\r\n")
    page = "/app/LQD/sao-ke"
    response = accountant.post(page, data={
        "csrf_token": accountant.csrf(page), "file": (io.BytesIO(text.encode()), "sk.csv"),
        "credit_column": "Ghi có", "date_format": "%d/%m/%Y %H:%M",
    }, content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    assert "Đã đọc 1 dòng: 1 giao dịch mới (1 đã khớp hóa đơn" in response.get_data(as_text=True)
    assert invoice(billed, "HS001")["status"] == "paid"


def test_receipts_find_reprint_and_void_with_replacement(client, billed, accountant):
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    send_sepay(client, sepay_body(billed.codes["HS002"], 500_000))
    found = accountant.get("/app/LQD/bien-lai?class=1a").get_data(as_text=True)
    assert "Nguyễn Thị Ánh Dương" in found and "Nguyễn Minh Khôi" not in found
    by_code = accountant.get("/app/LQD/bien-lai?student=hs002").get_data(as_text=True)
    assert "Nguyễn Minh Khôi" in by_code and "Nguyễn Thị Ánh Dương" not in by_code
    receipt = db.session.scalar(select(Receipt).order_by(Receipt.id))
    pdf = accountant.get(f"/app/LQD/bien-lai/{receipt.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "Nguyễn Thị Ánh Dương" in text
    bulk = accountant.get("/app/LQD/bien-lai.pdf?status=valid")
    assert len(PdfReader(io.BytesIO(bulk.data)).pages) >= 1

    url = f"/app/LQD/bien-lai/{receipt.id}/huy"
    assert post(accountant, url, "/app/LQD/bien-lai", reason="").status_code == 422
    response = post(accountant, url, "/app/LQD/bien-lai", reason="Sai tên người nộp",
                    replace="1", payer_name="Trần Thị Hoa")
    assert response.status_code == 302
    db.session.expire_all()
    statuses = [(r.status, r.content["payer_name"]) for r in
                db.session.scalars(select(Receipt).where(Receipt.student_id == receipt.student_id)
                                   .order_by(Receipt.id))]
    assert statuses == [("void", "Nguyễn Văn Bình"), ("valid", "Trần Thị Hoa")]
    page = accountant.get("/app/LQD/bien-lai?status=void").get_data(as_text=True)
    assert "Sai tên người nộp" in page


def test_reminders_list_and_exports_escape_formulas(client, billed, accountant):
    student = db.session.scalar(select(Student).where(Student.code == "HS003"))
    student.full_name = '=HYPERLINK("http://evil.example","Bấm")'
    student.guardian_phone = "+84901234567"
    db.session.commit()
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    url = "/app/LQD/nhac-nop?ngay=2026-10-01&mau={ten_hoc_sinh}+nợ+{so_tien}+đ+{duong_dan}"
    page = accountant.get(url).get_data(as_text=True)
    assert "2 học sinh" in page
    assert "Nguyễn Minh Khôi nợ 500.000 đ https://hocphi.example.vn/p/" in page
    assert "16 ngày" in page and "Nguyễn Thị Ánh Dương" not in page  # HS001 has paid
    assert "=HYPERLINK(&#34;http" in page or "=HYPERLINK(&quot;http" in page

    csv_response = accountant.get(url.replace("nhac-nop?", "nhac-nop.csv?"))
    assert csv_response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(csv_response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Lớp", "Mã học sinh", "Học sinh"]
    evil = next(row for row in rows if row[1] == "HS003")
    assert evil[2].startswith("'=HYPERLINK(") and evil[4] == "'+84901234567"
    assert evil[9].startswith("'=HYPERLINK(")  # the message starts with the name

    xlsx = accountant.get(url.replace("nhac-nop?", "nhac-nop.xlsx?"))
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    cells = {row[1].value: row for row in sheet.iter_rows(min_row=2)}
    # In XLSX the text stays exact: typed as a string and quote-prefixed, never a formula.
    assert cells["HS003"][2].value.startswith("=HYPERLINK(")
    assert cells["HS003"][2].data_type == "s" and cells["HS003"][2].quotePrefix
    assert cells["HS002"][5].value == 500_000


def test_reissuing_a_parents_link_revokes_the_old_one(client, billed, accountant):
    url = "/app/LQD/nhac-nop?ngay=2026-10-01"
    accountant.get(url)
    old = db.session.scalar(select(Student.parent_token).where(Student.code == "HS002"))
    assert client.get(f"/p/{old}").status_code == 200
    response = post(accountant, "/app/LQD/nhac-nop/HS002/cap-lai-duong-dan", url,
                    ngay="2026-10-01")
    assert response.status_code == 302 and "ngay=2026-10-01" in response.headers["Location"]
    db.session.expire_all()
    new = db.session.scalar(select(Student.parent_token).where(Student.code == "HS002"))
    assert new != old and client.get(f"/p/{old}").status_code == 404


def test_principal_sees_but_cannot_change(client, billed, principal):
    send_sepay(client, sepay_body("hoc phi be Ngoc lop 1A", 500_000))
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    page = principal.get(QUEUE).get_data(as_text=True)
    assert "hoc phi be Ngoc lop 1A" in page and billed.codes["HS003"] in page
    assert "/gan" not in page and "/de-rieng" not in page and "ghep-lai" not in page
    receipts_page = principal.get("/app/LQD/bien-lai").get_data(as_text=True)
    assert "In lại" in receipts_page and "/huy" not in receipts_page
    assert principal.get("/app/LQD/nhat-ky").status_code == 200
    assert "/dao" not in principal.get("/app/LQD/giao-dich").get_data(as_text=True)
    assert "cap-lai-duong-dan" not in principal.get(
        "/app/LQD/nhac-nop?ngay=2026-10-01").get_data(as_text=True)

    review_id = payments_of(billed, "review")[0]["id"]
    matched = payments_of(billed, "matched")[0]
    receipt_id = db.session.scalar(select(Receipt.id))
    token = principal.csrf(QUEUE)
    for path, data in [
        (f"{QUEUE}/{review_id}/gan", {"invoice_code": billed.codes["HS003"],
                                      "amount_vnd": "500000", "reason": "x"}),
        (f"{QUEUE}/{review_id}/de-rieng", {"reason": "x"}),
        (f"{QUEUE}/ghep-lai", {}),
        (f"/app/LQD/giao-dich/but-toan/{matched['allocations'][0]['id']}/dao", {"reason": "x"}),
        ("/app/LQD/sao-ke", {}),
        (f"/app/LQD/bien-lai/{receipt_id}/huy", {"reason": "x"}),
        ("/app/LQD/nhac-nop/HS002/cap-lai-duong-dan", {}),
    ]:
        assert principal.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    assert payments_of(billed, "review")[0]["allocations"] == []
    assert invoice(billed, "HS001")["status"] == "paid"


def test_accountant_of_another_school_is_refused(client, billed, make_school, make_staff,
                                                 staff_login):
    other = make_staff("accountant", make_school("NTT", prefix="NT", account="0022002234567"))
    browser = staff_login(other.email, PASSWORD)
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    for path in (QUEUE, "/app/LQD/giao-dich", "/app/LQD/sao-ke", "/app/LQD/bien-lai",
                 "/app/LQD/nhac-nop", "/app/LQD/nhac-nop.csv", "/app/LQD/bien-lai.pdf"):
        assert browser.get(path).status_code == 403, path
    receipt_id = db.session.scalar(select(Receipt.id))
    assert browser.get(f"/app/NTT/bien-lai/{receipt_id}.pdf").status_code == 404
    allocation = payments_of(billed)[0]["allocations"][0]["id"]
    token = browser.csrf("/app/NTT/giao-dich")
    response = browser.post(f"/app/NTT/giao-dich/but-toan/{allocation}/dao",
                            data={"csrf_token": token, "reason": "x"})
    assert response.status_code == 404
    assert invoice(billed, "HS001")["status"] == "paid"
