"""The school's settings and audit log in the staff app: details, bank accounts, webhook keys
(never shown back), staff accounts; who may look and who may change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tuition.extensions import db
from tuition.models import AuditEvent, BankAccount, BankAccountChange, School, User
from tuition.services import schools

PASSWORD = "mat-khau-rat-dai-123"
PAGE = "/app/LQD/cai-dat"
SECRET = "sepay-secret-key-0123456789abcdef"


@pytest.fixture
def school(make_school):
    return make_school(prefix="LQ")


@pytest.fixture
def accountant(school, make_staff, staff_login):
    return staff_login(make_staff("accountant", school).email, PASSWORD)


def post(browser, path: str, **data):
    return browser.post(path, data={"csrf_token": browser.csrf(PAGE), **data})


def test_settings_page_shows_school_accounts_webhooks_and_users(accountant):
    page = accountant.get(PAGE).get_data(as_text=True)
    assert "Trường Tiểu học Lê Quý Đôn" in page and "0011001234567" in page
    assert "https://hocphi.example.vn/webhooks/sepay" in page
    assert "https://hocphi.example.vn/webhooks/casso" in page
    assert "Vietcombank" in page and 'value="970436"' in page  # the NAPAS list as a select
    assert "chưa đặt" in page and "Kế toán" in page


def test_edit_school_details_with_audit(accountant):
    response = post(accountant, f"{PAGE}/truong", name="Trường TH Lê Quý Đôn",
                    address="15 Phố Huế, Hai Bà Trưng, Hà Nội", phone="024 3826 1234",
                    tax_code="0101234567")
    assert response.status_code == 302
    db.session.expire_all()
    school = schools.get_school("LQD")
    assert school.name == "Trường TH Lê Quý Đôn"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "school.update"))
    assert set(event.details["changed"]) == {"name", "address"}
    bad = post(accountant, f"{PAGE}/truong", name="X", tax_code="12345")
    assert bad.status_code == 422 and "Mã số thuế" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert schools.get_school("LQD").name == "Trường TH Lê Quý Đôn"


@pytest.fixture
def principal(school, make_staff, staff_login):
    return staff_login(make_staff("principal", school).email, PASSWORD)


def test_an_accountant_asks_for_a_bank_account_and_the_principal_approves(accountant,
                                                                          principal):
    response = post(accountant, f"{PAGE}/tai-khoan", bin="970418",
                    account_number="1234 5678 90", account_name="Truong Le Quy Don")
    assert response.status_code == 302
    assert "Chờ duyệt" in accountant.get(PAGE).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(BankAccount).where(BankAccount.bin == "970418")) is None
    (change,) = db.session.scalars(select(BankAccountChange))
    # The accountant cannot approve their own request.
    assert post(accountant, f"{PAGE}/yeu-cau/{change.id}/duyet").status_code == 403
    page = principal.get(PAGE).get_data(as_text=True)
    assert f"/yeu-cau/{change.id}/duyet" in page
    assert post(principal, f"{PAGE}/yeu-cau/{change.id}/duyet").status_code == 302
    db.session.expire_all()
    added = db.session.scalar(select(BankAccount).where(BankAccount.bin == "970418"))
    assert (added.account_number, added.is_default) == ("1234567890", False)
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "bank_account.change_applied"))
    assert event.details["account_number"] == "1234567890"
    assert post(accountant, f"{PAGE}/tai-khoan/{added.id}/mac-dinh").status_code == 302
    db.session.expire_all()
    assert schools.get_school("LQD").default_account.id == added.id
    refused = post(accountant, f"{PAGE}/tai-khoan", bin="999999", account_number="123456",
                   account_name="X")
    assert refused.status_code == 422
    assert "không có trong danh sách NAPAS" in refused.get_data(as_text=True)


def test_a_rejected_request_changes_nothing_and_says_why(accountant, principal):
    post(accountant, f"{PAGE}/tai-khoan", bin="970418", account_number="99887766",
         account_name="Tai khoan la")
    (change,) = db.session.scalars(select(BankAccountChange))
    assert post(principal, f"{PAGE}/yeu-cau/{change.id}/tu-choi").status_code == 422
    assert post(principal, f"{PAGE}/yeu-cau/{change.id}/tu-choi",
                note="Không phải tài khoản của trường").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(BankAccount).where(BankAccount.bin == "970418")) is None
    assert "Không phải tài khoản của trường" in accountant.get(PAGE).get_data(as_text=True)


def test_webhook_keys_are_requested_approved_and_never_shown(accountant, principal):
    account_id = schools.get_school("LQD").bank_accounts[0].id
    url = f"{PAGE}/tai-khoan/{account_id}/khoa"
    assert post(accountant, url, casso_checksum_key="casso-checksum-0123456789").status_code \
        == 302
    db.session.expire_all()
    assert db.session.get(BankAccount, account_id).casso_checksum_key is None  # not yet
    (change,) = db.session.scalars(select(BankAccountChange))
    post(principal, f"{PAGE}/yeu-cau/{change.id}/duyet")
    db.session.expire_all()
    account = db.session.get(BankAccount, account_id)
    assert account.casso_checksum_key == "casso-checksum-0123456789"
    assert db.session.get(BankAccountChange, change.id).payload == {
        "casso_checksum_key": "set"}  # the secret is not kept in the request
    page = accountant.get(PAGE).get_data(as_text=True)
    assert "casso-checksum-0123456789" not in page

    # The SePay key is generated by the server and shown once, to whoever applies it.
    shown = post(principal, f"{PAGE}/tai-khoan/{account_id}/khoa-sepay")
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    db.session.expire_all()
    key = db.session.get(BankAccount, account_id).sepay_api_key
    assert key and len(key) >= 32 and key in html
    assert key not in principal.get(PAGE).get_data(as_text=True)
    assert "session" not in shown.headers.get("Set-Cookie", "") or key not in str(
        shown.headers)
    audits = db.session.scalars(select(AuditEvent)).all()
    assert all(key not in str(a.details) and "casso-checksum" not in str(a.details)
               for a in audits)
    # A typed SePay key is refused: keys are generated here.
    typed = post(accountant, url, sepay_api_key=SECRET)
    assert typed.status_code == 302 or typed.status_code == 422
    db.session.expire_all()
    assert db.session.get(BankAccount, account_id).sepay_api_key == key
    short = post(accountant, url, sepay_api_token="ngan")
    assert short.status_code == 422 and "16-200" in short.get_data(as_text=True)


def test_add_a_user_who_can_then_sign_in(accountant, staff_login):
    response = post(accountant, f"{PAGE}/nguoi-dung", email="KeToan2@lqd.edu.vn",
                    name="Cô Kế toán", role="accountant", password="tam-thoi-12345")
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "ketoan2@lqd.edu.vn"))
    assert (user.role, user.school_id) == ("accountant", schools.get_school("LQD").id)
    assert "ketoan2@lqd.edu.vn" in accountant.get(PAGE).get_data(as_text=True)
    staff_login("ketoan2@lqd.edu.vn", "tam-thoi-12345")
    # A principal approves bank-account changes: only an admin makes one.
    principal_attempt = post(accountant, f"{PAGE}/nguoi-dung", email="ht@lqd.edu.vn",
                             role="principal", password="tam-thoi-12345")
    assert principal_attempt.status_code == 403
    admin_attempt = post(accountant, f"{PAGE}/nguoi-dung", email="x@lqd.edu.vn", role="admin",
                         password="tam-thoi-12345")
    assert admin_attempt.status_code == 422
    short = post(accountant, f"{PAGE}/nguoi-dung", email="y@lqd.edu.vn", role="accountant",
                 password="ngan")
    assert short.status_code == 422
    assert db.session.scalar(select(User).where(User.email.in_(
        ["x@lqd.edu.vn", "y@lqd.edu.vn", "ht@lqd.edu.vn"]))) is None


def test_audit_log_newest_first_with_actor(accountant):
    post(accountant, f"{PAGE}/truong", name="Tên mới", address="", phone="", tax_code="")
    page = accountant.get("/app/LQD/nhat-ky").get_data(as_text=True)
    assert "Sửa thông tin trường" in page and "Tạo trường" in page
    assert page.index("Sửa thông tin trường") < page.index("Tạo trường")
    assert "staff-accountant" in page


def test_principal_reads_and_decides_bank_accounts_but_changes_nothing_else(school,
                                                                            principal):
    page = principal.get(PAGE).get_data(as_text=True)
    assert "Trường Tiểu học Lê Quý Đôn" in page
    assert "/cai-dat/truong" not in page
    assert "/nguoi-dung" not in page and "/mac-dinh" not in page
    assert principal.get("/app/LQD/nhat-ky").status_code == 200
    account_id = school.bank_accounts[0].id
    token = principal.csrf(PAGE)
    for path, data in [
        (f"{PAGE}/truong", {"name": "Đổi"}),
        (f"{PAGE}/tai-khoan/{account_id}/mac-dinh", {}),
        (f"{PAGE}/tai-khoan/{account_id}/khoa-chung", {"attached": "1"}),
        (f"{PAGE}/nguoi-dung", {"email": "a@b.vn", "role": "accountant",
                                "password": "tam-thoi-12345"}),
    ]:
        assert principal.post(path, data={"csrf_token": token, **data}).status_code in (
            403, 422), path
    db.session.expire_all()
    assert db.session.get(School, school.id).name == "Trường Tiểu học Lê Quý Đôn"
    assert db.session.get(BankAccount, account_id).uses_deployment_key is False


def test_admin_reads_the_audit_log(school, admin, staff_login):
    from werkzeug.security import generate_password_hash

    admin.password_hash = generate_password_hash(PASSWORD)
    db.session.commit()
    browser = staff_login(admin.email, PASSWORD)
    page = browser.get("/app/LQD/nhat-ky").get_data(as_text=True)
    assert "Tạo trường" in page and "admin@test.vn" in page


def test_accountant_of_another_school_is_refused(school, make_school, make_staff, staff_login):
    other = make_school("NTT", prefix="NT", account="0022002234567")
    browser = staff_login(make_staff("accountant", other).email, PASSWORD)
    assert browser.get(PAGE).status_code == 403
    assert browser.get("/app/LQD/nhat-ky").status_code == 403
    token = browser.csrf("/app/NTT/cai-dat")
    lqd_account = school.bank_accounts[0].id
    response = browser.post(f"/app/LQD/cai-dat/tai-khoan/{lqd_account}/khoa-sepay",
                            data={"csrf_token": token})
    assert response.status_code in (403, 404)
    # Through its own school's URL, another school's account is simply not found.
    response = browser.post(f"/app/NTT/cai-dat/tai-khoan/{lqd_account}/khoa",
                            data={"csrf_token": token, "casso_checksum_key": SECRET})
    assert response.status_code in (404, 422)
    assert db.session.scalar(select(BankAccountChange)) is None
    response = browser.post(f"/app/NTT/cai-dat/tai-khoan/{lqd_account}/mac-dinh",
                            data={"csrf_token": token})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(BankAccount, lqd_account).sepay_api_key is None


def test_the_principal_is_told_of_bank_account_changes_on_the_dashboard(accountant, principal):
    assert "bank-changes" not in principal.get("/app/LQD/tong-quan").get_data(as_text=True)
    account_id = schools.get_school("LQD").bank_accounts[0].id
    post(accountant, f"{PAGE}/tai-khoan/{account_id}/khoa-sepay")
    page = principal.get("/app/LQD/tong-quan").get_data(as_text=True)
    assert 'id="bank-changes"' in page and "1 yêu cầu đang chờ duyệt" in page
    (change,) = db.session.scalars(select(BankAccountChange))
    approved = post(principal, f"{PAGE}/yeu-cau/{change.id}/duyet")
    assert approved.status_code == 200  # the new key is shown on this page, once
    page = principal.get("/app/LQD/tong-quan").get_data(as_text=True)
    assert "đang chờ duyệt" not in page and "1 thay đổi đã áp dụng" in page


def test_admins_see_money_that_reached_no_school(client, school, admin, staff_login,
                                                accountant):
    from werkzeug.security import generate_password_hash

    from tests.helpers import send_sepay, sepay_body

    client.application.config["SEPAY_API_KEY"] = "deployment-wide-key-0123456789abcdef"
    try:
        assert send_sepay(client, sepay_body("hoc phi be Na", 650_000, account="55554444333"),
                          key="deployment-wide-key-0123456789abcdef").status_code == 200
    finally:
        client.application.config["SEPAY_API_KEY"] = None
    admin.password_hash = generate_password_hash(PASSWORD)
    db.session.commit()
    browser = staff_login(admin.email, PASSWORD)
    assert "(1)" in browser.get("/app/").get_data(as_text=True)
    page = browser.get("/app/quan-tri/giao-dich-chua-xac-dinh").get_data(as_text=True)
    assert "55554444333" in page and "650.000 đ" in page and "hoc phi be Na" in page
    assert accountant.get("/app/quan-tri/giao-dich-chua-xac-dinh").status_code == 403
