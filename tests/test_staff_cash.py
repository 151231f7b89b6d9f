"""The cash desk, cash book, refunds, virtual accounts, the year's turn and opening balances
through the signed-in staff app (real forms with CSRF tokens)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from tests.helpers import assert_ledger_ok, invoice, send_sepay, sepay_body
from tuition.core import clock
from tuition.extensions import db
from tuition.models import BankTransaction, PaymentVoucher, Receipt, Student, YearTurn
from tuition.services import schools

PASSWORD = "mat-khau-rat-dai-123"
DESK = "/app/LQD/thu-tien-mat"
BOOK = "/app/LQD/so-quy"


@pytest.fixture(autouse=True)
def _morning(monkeypatch):
    monkeypatch.setattr(clock, "now_utc", lambda: datetime(2026, 9, 5, 3, 15, tzinfo=UTC))


@pytest.fixture
def accountant(billed, make_staff, staff_login):
    user = make_staff("accountant", schools.get_school("LQD"))
    browser = staff_login(user.email, PASSWORD)
    # The next morning's session: the previous day's has expired by then.
    browser.sign_in_again = lambda: staff_login(user.email, PASSWORD)
    return browser


@pytest.fixture
def principal(billed, make_staff, staff_login):
    user = make_staff("principal", schools.get_school("LQD"))
    return staff_login(user.email, PASSWORD)


def post(browser, path: str, page: str, **data):
    return browser.post(path, data={"csrf_token": browser.csrf(page), **data})


def test_the_desk_takes_cash_for_one_student_and_prints_its_receipt(accountant, billed):
    page = accountant.get(f"{DESK}?student=hs001").get_data(as_text=True)
    assert "Nguyễn Thị Ánh Dương" in page and 'id="due">500.000 đ' in page
    assert 'value="Nguyễn Văn Bình"' in page  # the guardian, as the payer
    response = post(accountant, DESK, DESK, student="HS001", amount="500.000 đ",
                    payer_name="Nguyễn Văn Bình", paid_at="2026-09-05T09:30")
    assert response.status_code == 302
    done = accountant.get(response.headers["Location"]).get_data(as_text=True)
    assert "PT26-000001" in done and "AA-26 / 0000001" in done
    assert "Đã thu 500.000 đ tiền mặt" in done
    txn = db.session.query(BankTransaction).one()
    assert txn.occurred_at == datetime(2026, 9, 5, 9, 30)
    for layout, width in (("a5", 148), ("80mm", 80)):
        pdf = accountant.get(f"{DESK}/bien-lai.pdf?gd={txn.id}&kho={layout}")
        assert pdf.status_code == 200
        mediabox = PdfReader(io.BytesIO(pdf.data)).pages[0].mediabox
        assert round(float(mediabox.width) / 72 * 25.4) == width
    assert accountant.get(f"{DESK}/bien-lai.pdf?gd={txn.id}&kho=a3").status_code == 404
    assert invoice(billed, "HS001")["status"] == "paid"


def test_a_refused_payment_shows_the_form_again_and_records_nothing(accountant):
    response = post(accountant, DESK, DESK, student="HS001", amount="năm trăm",
                    payer_name="Nguyễn Văn Bình")
    assert response.status_code == 422
    assert "không hợp lệ" in response.get_data(as_text=True)
    assert post(accountant, DESK, DESK, student="HS404", amount="500000",
                payer_name="X").status_code == 422
    db.session.rollback()
    assert db.session.query(BankTransaction).count() == 0


def test_principals_see_the_desk_and_the_book_but_change_nothing(principal):
    assert principal.get(f"{DESK}?student=HS001").status_code == 200
    assert "cash-form" not in principal.get(f"{DESK}?student=HS001").get_data(as_text=True)
    response = principal.post(DESK, data={"csrf_token": principal.csrf(DESK), "student": "HS001",
                                          "amount": "500000", "payer_name": "X"})
    assert response.status_code == 403
    assert principal.get(BOOK).status_code == 200
    assert principal.post(f"{BOOK}/khoa", data={
        "csrf_token": principal.csrf(BOOK), "counted": "0"}).status_code == 403


def test_an_empty_class_sheet_is_refused(accountant):
    page = accountant.get(f"{DESK}/lop?lop=1A").get_data(as_text=True)
    assert "Nguyễn Thị Ánh Dương" in page and "Lê Bảo Ngọc" in page
    response = post(accountant, f"{DESK}/lop", f"{DESK}/lop?lop=1A", lop="1A")
    assert response.status_code == 422
    assert "Chưa chọn học sinh nào" in response.get_data(as_text=True)


def test_voiding_a_cash_receipt_from_the_receipts_page_shows_in_the_book(accountant, billed):
    post(accountant, DESK, DESK, student="HS001", amount="500000", payer_name="Bình")
    receipt = db.session.query(Receipt).one()
    response = post(accountant, f"/app/LQD/bien-lai/{receipt.id}/huy", "/app/LQD/bien-lai",
                    reason="Phụ huynh lấy lại tiền")
    assert response.status_code == 302
    book = accountant.get(BOOK).get_data(as_text=True)
    assert "Hủy biên lai" in book and 'id="closing">0 đ' in book
    assert invoice(billed, "HS001")["status"] == "open"
    assert_ledger_ok()


def test_the_book_is_signed_off_and_takes_a_deposit(accountant, monkeypatch):
    post(accountant, DESK, DESK, student="HS001", amount="500000", payer_name="Bình")
    short = post(accountant, f"{BOOK}/khoa", BOOK, ngay="2026-09-05", counted="490.000")
    assert short.status_code == 422 and "lý do chênh lệch" in short.get_data(as_text=True)
    signed = post(accountant, f"{BOOK}/khoa", BOOK, ngay="2026-09-05", counted="490.000",
                  note="Thiếu 10.000 đ, thủ quỹ bù")
    assert signed.status_code == 302
    page = accountant.get(BOOK).get_data(as_text=True)
    assert "Đã khóa sổ" in page and "Thiếu 10.000 đ" in page and "close-form" not in page
    at_bank = post(accountant, f"{BOOK}/nop-ngan-hang", BOOK, amount="500000",
                   deposited_on="2026-09-05", slip_number="GNT-1")
    assert at_bank.status_code == 422  # the day is signed off
    monkeypatch.setattr(clock, "now_utc", lambda: datetime(2026, 9, 6, 2, 0, tzinfo=UTC))
    accountant = accountant.sign_in_again()
    ok = post(accountant, f"{BOOK}/nop-ngan-hang", BOOK, amount="500000",
              deposited_on="2026-09-06", slip_number="GNT-1")
    assert ok.status_code == 302
    page = accountant.get(f"{BOOK}?ngay=2026-09-06").get_data(as_text=True)
    assert "GNT-1" in page and "Chờ ngân hàng báo" in page
    assert_ledger_ok()


def test_refunds_page_issues_prints_and_cancels_vouchers(accountant, client, billed):
    send_sepay(client, sepay_body(billed.codes["HS002"], 700_000))
    page = accountant.get("/app/LQD/hoan-tien").get_data(as_text=True)
    assert "Nguyễn Minh Khôi" in page and "200.000 đ" in page
    response = post(accountant, "/app/LQD/hoan-tien", "/app/LQD/hoan-tien", student="HS002",
                    amount="200.000", method="transfer", payee_name="Nguyễn Văn Bình",
                    payee_account="190333444555", payee_bank="Techcombank",
                    reason="Phụ huynh xin nhận lại tiền thừa")
    assert response.status_code == 302
    voucher = db.session.query(PaymentVoucher).one()
    pdf = accountant.get(f"/app/LQD/phieu-chi/{voucher.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    cancelled = post(accountant, f"/app/LQD/phieu-chi/{voucher.id}/huy", "/app/LQD/hoan-tien",
                     reason="Nhầm số tài khoản")
    assert cancelled.status_code == 302
    db.session.refresh(voucher)
    assert voucher.status == "cancelled"
    assert assert_ledger_ok().on_credit_vnd == 200_000


def test_virtual_accounts_page_imports_and_turns_them_on(accountant):
    page = "/app/LQD/tai-khoan-dinh-danh"
    data = {"csrf_token": accountant.csrf(page), "file": (io.BytesIO(
        "Mã học sinh,Tài khoản định danh\nHS001,963869000001\nHS777,963869000002\n"
        .encode()), "tk.csv")}
    bad = accountant.post(page, data=data, content_type="multipart/form-data")
    assert bad.status_code == 422 and "HS777" in bad.get_data(as_text=True)
    data = {"csrf_token": accountant.csrf(page), "file": (io.BytesIO(
        b"Ma hoc sinh,VA\nHS001,963869000001\n"), "tk.csv")}
    assert accountant.post(page, data=data,
                           content_type="multipart/form-data").status_code == 302
    assert post(accountant, f"{page}/su-dung", page, uses="1").status_code == 302
    listing = accountant.get(page).get_data(as_text=True)
    assert "963869000001" in listing and "Ngừng dùng" in listing
    money = accountant.get("/app/LQD/hoc-sinh/HS001/tien").get_data(as_text=True)
    assert "963869000001" in money


def test_the_year_turn_page_previews_then_applies(accountant):
    page = accountant.get("/app/LQD/ket-chuyen-nam-hoc").get_data(as_text=True)
    assert 'name="c:1A" value="2A"' in page and 'name="s:HS003" value="2A"' in page
    edited = accountant.get("/app/LQD/ket-chuyen-nam-hoc?c:1A=2B").get_data(as_text=True)
    assert 'name="s:HS003" value="2B"' in edited
    year = db.session.query(Student).first().classroom.school_year
    response = post(accountant, "/app/LQD/ket-chuyen-nam-hoc", "/app/LQD/ket-chuyen-nam-hoc",
                    from_year=year, **{"c:1A": "2B", "c:2A": "3A", "s:HS003": "1A"})
    assert response.status_code == 302
    turn = db.session.query(YearTurn).one()
    assert {m["student"]: m["to"] for m in turn.moves} == {"HS001": "2B", "HS002": "3A",
                                                           "HS003": "1A"}


def test_the_opening_balances_page_imports_a_file(accountant, billed):
    page = "/app/LQD/so-du-dau-ky"
    data = {"csrf_token": accountant.csrf(page), "source": "Sổ Excel năm trước",
            "school_year": "2026-2027", "due_date": "2026-10-01",
            "file": (io.BytesIO("Mã học sinh,Số dư\nHS002,350000\n".encode()), "sd.csv")}
    response = accountant.post(page, data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    followed = accountant.get(page).get_data(as_text=True)
    assert "Sổ Excel năm trước" in followed and "350.000" in followed
    data["csrf_token"] = accountant.csrf(page)
    data["file"] = (io.BytesIO("Mã học sinh,Số dư\nHS002,350000\n".encode()), "sd.csv")
    again = accountant.post(page, data=data, content_type="multipart/form-data")
    assert again.status_code == 422 and "đã có số dư nợ" in again.get_data(as_text=True)
    data["csrf_token"] = accountant.csrf(page)
    data["due_date"] = "mai"
    data["file"] = (io.BytesIO(b"Ma hoc sinh,So du\nHS003,1\n"), "sd.csv")
    assert accountant.post(page, data=data,
                           content_type="multipart/form-data").status_code == 422
    assert db.session.query(Student).filter_by(code="HS002").one().id


def test_a_principal_opening_the_book_sees_the_cash_of_those_who_hold_it(accountant, billed,
                                                                        make_staff,
                                                                        staff_login):
    response = post(accountant, DESK, DESK, student="HS001", amount="500000",
                    payer_name="Nguyễn Văn Bình", paid_at="2026-09-05T09:30")
    assert response.status_code == 302
    boss = staff_login(make_staff("principal", schools.get_school("LQD")).email, PASSWORD)
    page = boss.get(f"{BOOK}?ngay=2026-09-05").get_data(as_text=True)
    assert "PT26-000001" in page and "500.000 đ" in page
    # The accountant still opens their own book, and the principal can pick anyone's.
    assert "PT26-000001" in accountant.get(f"{BOOK}?ngay=2026-09-05").get_data(as_text=True)
