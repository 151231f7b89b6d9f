"""Staff sessions kept on the server, users that can be disabled, API tokens that can be
rotated and revoked: through the sign-in form, the account page, Settings → Users and the API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from tuition.core import clock
from tuition.extensions import db
from tuition.models import AuditEvent, StaffSession, User
from tuition.services import users

PASSWORD = "mat-khau-rat-dai-123"


@pytest.fixture
def school(make_school):
    return make_school(prefix="LQ")


@pytest.fixture
def staff(ctx, school):
    """Factory: a staff user of the school with a password; returns (user, API token)."""
    counter = iter(range(1, 100))

    def make(role: str = "accountant", of=None):
        user, token = users.create_user(
            None, email=f"{role}{next(counter)}@lqd.edu.vn", role=role,
            school=of or school, password=PASSWORD, name=f"Cô {role}")
        db.session.commit()
        return user, token

    return make


def signed_in(client) -> bool:
    response = client.get("/app/")
    return not (response.status_code == 302 and "/dang-nhap" in response.headers["Location"])


def post(browser, path: str, page: str = "/tai-khoan", **data):
    return browser.post(path, data={"csrf_token": browser.csrf(page), **data})


def _call(method: str, path: str, token: str, **kw):
    from flask import current_app

    return current_app.test_client().open(
        "/api/v1" + path, method=method, headers={"Authorization": f"Bearer {token}"}, **kw)


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


# -- sessions end on the server ----------------------------------------------------------------

def test_after_sign_out_the_old_cookie_no_longer_works(app, staff, staff_login):
    user, _ = staff()
    browser = staff_login(user.email, PASSWORD)
    cookie = browser.get_cookie("session").value
    copy = app.test_client()
    copy.set_cookie("session", cookie)
    assert signed_in(copy)  # a copied cookie is the session, until it ends

    response = post(browser, "/dang-xuat")
    assert response.status_code == 302
    assert not signed_in(browser)
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert not signed_in(replay)
    db.session.expire_all()
    row = db.session.scalar(select(StaffSession))
    assert row.end_reason == "sign_out" and row.ended_at is not None


def test_the_cookie_names_a_random_session_key_stored_hashed(app, staff, staff_login):
    user, _ = staff()
    browser = staff_login(user.email, PASSWORD)
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(browser.get_cookie("session").value)
    key = data["sid"]
    assert len(key) >= 40
    row = db.session.scalar(select(StaffSession))
    assert row.key_hash != key and len(row.key_hash) == 64 and row.user_id == user.id


def test_cookie_flags_and_lifetime(client, staff):
    user, _ = staff()
    page = client.get("/dang-nhap")
    response = client.post("/dang-nhap", data={
        "email": user.email, "password": PASSWORD,
        "csrf_token": csrf_token(page.get_data(as_text=True))})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie  # plain http (the test client): a Secure cookie would be lost


def test_cookie_is_secure_over_https(app, staff):
    user, _ = staff()
    browser = app.test_client()
    page = browser.get("/dang-nhap", base_url="https://hocphi.example.vn")
    response = browser.post("/dang-nhap", base_url="https://hocphi.example.vn", data={
        "email": user.email, "password": PASSWORD,
        "csrf_token": csrf_token(page.get_data(as_text=True))},
        headers={"Referer": "https://hocphi.example.vn/dang-nhap"})
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert all("Secure" in c for c in cookies), cookies
    assert any(c.startswith("session=") for c in cookies)


def test_sessions_expire_after_hours_or_when_idle(app, staff, staff_login, monkeypatch):
    user, _ = staff()
    start = clock.now_utc()
    monkeypatch.setattr(clock, "now_utc", lambda: start)
    browser = staff_login(user.email, PASSWORD)
    # Working all day: a request every 40 minutes keeps the session (2 hours idle allowed)...
    for minutes in range(40, 12 * 60, 40):
        monkeypatch.setattr(clock, "now_utc", lambda m=minutes: start + timedelta(minutes=m))
        assert signed_in(browser), f"signed out after {minutes} minutes"
    # ...until 12 hours after signing in, whatever happens.
    monkeypatch.setattr(clock, "now_utc", lambda: start + timedelta(hours=12, minutes=1))
    assert not signed_in(browser)

    monkeypatch.setattr(clock, "now_utc", lambda: start)
    idle = staff_login(user.email, PASSWORD)
    monkeypatch.setattr(clock, "now_utc", lambda: start + timedelta(minutes=119))
    assert signed_in(idle)
    monkeypatch.setattr(clock, "now_utc", lambda: start + timedelta(minutes=119 + 121))
    assert not signed_in(idle)  # two hours without a request


def test_idle_session_near_midnight_in_vietnam(app, staff, staff_login, monkeypatch):
    """Nothing about a session depends on the calendar day: 23:30 to 00:40 in Vietnam."""
    from datetime import UTC, datetime

    user, _ = staff()
    evening = datetime(2026, 12, 6, 16, 30, tzinfo=UTC)  # 23:30 in Vietnam
    monkeypatch.setattr(clock, "now_utc", lambda: evening)
    browser = staff_login(user.email, PASSWORD)
    monkeypatch.setattr(clock, "now_utc", lambda: evening + timedelta(minutes=70))
    assert signed_in(browser)
    page = browser.get("/tai-khoan").get_data(as_text=True)
    assert "06/12/2026 23:30" in page  # sign-in time, on Vietnam's clock


def test_sign_out_everywhere_else_from_the_account_page(app, staff, staff_login):
    user, _ = staff()
    here = staff_login(user.email, PASSWORD)
    there = staff_login(user.email, PASSWORD)
    page = here.get("/tai-khoan").get_data(as_text=True)
    assert page.count('class="session"') == 2 and "Phiên này" in page
    response = post(here, "/tai-khoan/dang-xuat-noi-khac")
    assert response.status_code == 302
    assert signed_in(here) and not signed_in(there)
    assert events("user.sessions_end")[0].details["ended"] == 1


def test_password_change_ends_other_sessions_and_revokes_the_token(
        app, client, api, staff, staff_login):
    user, token = staff()
    assert api(token).get("/me").status_code == 200
    here = staff_login(user.email, PASSWORD)
    there = staff_login(user.email, PASSWORD)
    response = post(here, "/doi-mat-khau", page="/doi-mat-khau", current_password=PASSWORD,
                    new_password="mat-khau-moi-dai-456", new_password_again="mat-khau-moi-dai-456")
    assert response.status_code == 302
    assert signed_in(here) and not signed_in(there)
    assert api(token).get("/me").status_code == 401
    event = events("user.password_change")[0]
    assert event.details == {"sessions_ended": 1, "token_revoked": True}
    assert "thu hồi" in here.get("/tai-khoan").get_data(as_text=True)


# -- API tokens ---------------------------------------------------------------------------------

def test_rotate_own_token_through_the_api(api, staff):
    user, old = staff()
    response = api(old).post("/me/token")
    assert response.status_code == 201
    new = response.get_json()["token"]
    assert new != old and new.startswith("tu_")
    assert api(old).get("/me").status_code == 401
    me = api(new).get("/me").get_json()
    assert me["email"] == user.email and me["api_token"] and me["api_token_issued_at"]
    assert events("user.token_rotate")[0].subject == f"user:{user.email}"


def test_rotate_own_token_on_the_account_page_shows_it_once(api, staff, staff_login):
    user, old = staff()
    browser = staff_login(user.email, PASSWORD)
    response = post(browser, "/tai-khoan/ma-api")
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    new = re.search(r'<code id="new-token">([^<]+)</code>', response.get_data(as_text=True))[1]
    assert api(new).get("/me").status_code == 200
    assert api(old).get("/me").status_code == 401
    again = browser.get("/tai-khoan").get_data(as_text=True)
    assert new not in again and "Đang dùng một mã, cấp lúc" in again
    assert new not in browser.get_cookie("session").value


def test_revoke_own_token_on_the_account_page(api, staff, staff_login):
    user, token = staff("principal")
    browser = staff_login(user.email, PASSWORD)
    assert post(browser, "/tai-khoan/ma-api/thu-hoi").status_code == 302
    assert api(token).get("/me").status_code == 401
    assert "Chưa có mã truy cập API." in browser.get("/tai-khoan").get_data(as_text=True)


def test_admin_revokes_another_users_token(api, admin, make_user, staff):
    _, admin_token = make_user("admin")
    user, token = staff("principal")
    response = _call("DELETE", f"/users/{user.id}/token", admin_token,
                     json={"reason": "nghỉ việc"})
    assert response.status_code == 200 and response.get_json()["api_token"] is False
    assert api(token).get("/me").status_code == 401
    assert events("user.token_revoke")[0].details == {"reason": "nghỉ việc"}


# -- who may manage whom -------------------------------------------------------------------------

def test_accountant_manages_the_schools_staff_principal_only_looks(make_school, staff):
    accountant, acct_token = staff("accountant")
    principal, boss_token = staff("principal")
    other_school = make_school("NTH", prefix="NT", account="0011009999999",
                               name="Trường Tiểu học Nguyễn Trãi")
    stranger, stranger_token = staff("accountant", of=other_school)

    listed = _call("GET", "/schools/LQD/users", boss_token).get_json()["items"]
    assert {u["email"] for u in listed} == {accountant.email, principal.email}
    assert _call("DELETE", f"/users/{accountant.id}/token", boss_token).status_code == 403
    assert _call("POST", f"/users/{accountant.id}/disable", boss_token).status_code == 403
    assert _call("POST", f"/users/{principal.id}/disable", stranger_token).status_code == 404
    assert _call("POST", f"/users/{accountant.id}/disable", acct_token).status_code == 409
    # The principal approves the accountants' bank-account changes: out of their reach.
    assert _call("DELETE", f"/users/{principal.id}/token", acct_token).status_code == 403
    assert _call("POST", f"/users/{principal.id}/disable", acct_token).status_code == 403
    assert _call("GET", "/me", boss_token).status_code == 200
    colleague, colleague_token = staff("accountant")
    response = _call("DELETE", f"/users/{colleague.id}/token", acct_token)
    assert response.status_code == 200
    assert _call("GET", "/me", colleague_token).status_code == 401
    assert _call("GET", "/me", stranger_token).status_code == 200


def test_accountant_cannot_touch_an_admin(admin, make_user, staff):
    _, acct_token = staff("accountant")
    assert _call("POST", f"/users/{admin.id}/disable", acct_token).status_code == 404
    assert _call("DELETE", f"/users/{admin.id}/token", acct_token).status_code == 404


# -- disabled users ------------------------------------------------------------------------------

def test_disabled_user_is_signed_out_cannot_sign_in_nor_use_the_token(
        app, client, make_user, staff, staff_login):
    _, admin_token = make_user("admin")
    user, token = staff("principal")
    browser = staff_login(user.email, PASSWORD)
    response = _call("POST", f"/users/{user.id}/disable", admin_token,
                     json={"reason": "nghỉ hưu"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["disabled"] and body["open_sessions"] == 0
    assert not signed_in(browser)
    assert _call("GET", "/me", token).status_code == 401
    page = client.get("/dang-nhap")
    refused = client.post("/dang-nhap", data={
        "email": user.email, "password": PASSWORD,
        "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert refused.status_code == 403
    assert "đã bị khóa" in refused.get_data(as_text=True)
    assert not signed_in(client)
    event = events("user.disable")[0]
    assert event.details == {"reason": "nghỉ hưu", "sessions_ended": 1}
    assert events("auth.sign_in_refused")[0].details["reason"] == "disabled"

    assert _call("POST", f"/users/{user.id}/enable", admin_token).status_code == 200
    assert _call("GET", "/me", token).status_code == 200
    staff_login(user.email, PASSWORD)


def test_settings_users_disable_enable_revoke_and_sign_out(api, school, staff, staff_login):
    accountant, _ = staff("accountant")
    principal, boss_token = staff("principal")
    # A colleague accountant is managed here; the principal is out of an accountant's reach.
    colleague, colleague_token = staff("accountant")
    colleague_browser = staff_login(colleague.email, PASSWORD)
    browser = staff_login(accountant.email, PASSWORD)
    page = browser.get("/app/LQD/cai-dat").get_data(as_text=True)
    assert "Đang hoạt động" in page and "Khóa tài khoản" in page
    assert post(browser, f"/app/LQD/cai-dat/nguoi-dung/{principal.id}/khoa",
                page="/app/LQD/cai-dat", reason="x").status_code == 403

    base = f"/app/LQD/cai-dat/nguoi-dung/{colleague.id}"
    settings = "/app/LQD/cai-dat"
    assert post(browser, f"{base}/dang-xuat", page=settings).status_code == 302
    assert not signed_in(colleague_browser)
    assert post(browser, f"{base}/thu-hoi-ma", page=settings).status_code == 302
    assert api(colleague_token).get("/me").status_code == 401
    assert api(boss_token).get("/me").status_code == 200
    response = post(browser, f"{base}/khoa", page=settings, reason="Chuyển công tác")
    assert response.status_code == 302
    page = browser.get(settings).get_data(as_text=True)
    assert "Đã khóa từ" in page
    db.session.expire_all()
    assert db.session.get(User, colleague.id).disabled_at is not None
    assert post(browser, f"{base}/mo-khoa", page=settings).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, colleague.id).disabled_at is None

    boss = staff_login(principal.email, PASSWORD)
    refused = post(boss, f"/app/LQD/cai-dat/nguoi-dung/{accountant.id}/khoa", page=settings)
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, accountant.id).disabled_at is None
    audit = browser.get("/app/LQD/nhat-ky").get_data(as_text=True)
    for label in ("Khóa tài khoản", "Mở khóa tài khoản", "Thu hồi mã API",
                  "Đăng xuất khỏi mọi nơi", "Đăng nhập"):
        assert label in audit
