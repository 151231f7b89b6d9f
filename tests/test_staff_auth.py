"""Signing in, CSRF, sessions, password change and who may see what in the staff app."""

from __future__ import annotations

from tests.conftest import csrf_token

PASSWORD = "mat-khau-rat-dai-123"


def test_sign_in_with_wrong_password_is_refused(client, make_school, make_staff):
    user = make_staff("accountant", make_school())
    token = csrf_token(client.get("/dang-nhap").get_data(as_text=True))
    response = client.post("/dang-nhap", data={
        "email": user.email, "password": "sai-mat-khau", "csrf_token": token})
    assert response.status_code == 401
    assert "Email hoặc mật khẩu không đúng." in response.get_data(as_text=True)
    assert client.get("/app/").status_code == 302


def test_forms_without_csrf_token_are_refused(client, make_school, make_staff):
    user = make_staff("accountant", make_school())
    response = client.post("/dang-nhap", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400


def test_sign_in_sign_out(staff_login, make_school, make_staff):
    user = make_staff("accountant", make_school())
    browser = staff_login(user.email, PASSWORD)
    assert browser.get("/app/").status_code in (200, 302)
    token = browser.csrf("/doi-mat-khau")
    assert browser.post("/dang-xuat", data={"csrf_token": token}).status_code == 302
    response = browser.get("/app/")
    assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]


def test_password_change_ends_other_sessions(staff_login, make_school, make_staff):
    user = make_staff("accountant", make_school())
    first = staff_login(user.email, PASSWORD)
    second = staff_login(user.email, PASSWORD)
    token = first.csrf("/doi-mat-khau")
    too_short = first.post("/doi-mat-khau", data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": "ngan",
        "new_password_again": "ngan"})
    assert too_short.status_code == 422
    changed = first.post("/doi-mat-khau", data={
        "csrf_token": token, "current_password": PASSWORD,
        "new_password": "mat-khau-moi-dai-456", "new_password_again": "mat-khau-moi-dai-456"})
    assert changed.status_code == 302
    assert first.get("/doi-mat-khau").status_code == 200
    assert second.get("/doi-mat-khau").status_code == 302  # signed out
    staff_login(user.email, "mat-khau-moi-dai-456")


def test_language_switch(staff_login, make_school, make_staff):
    user = make_staff("accountant", make_school())
    browser = staff_login(user.email, PASSWORD)
    page = browser.get("/doi-mat-khau").get_data(as_text=True)
    assert "Đổi mật khẩu" in page
    browser.post("/ngon-ngu", data={"lang": "en", "csrf_token": csrf_token(page),
                                     "next": "/doi-mat-khau"})
    assert "Change password" in browser.get("/doi-mat-khau").get_data(as_text=True)
