"""Security headers on every response; pages that work under the Content-Security-Policy in a
real browser (no inline handlers, scripts and styles only with the response's nonce)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from tuition.extensions import db
from tuition.models import Student

PASSWORD = "mat-khau-rat-dai-123"


def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";")}


@pytest.mark.parametrize("path", ["/dang-nhap", "/", "/healthz", "/p/khong-co-that",
                                  "/api/v1/openapi.json", "/static/staff.css"])
def test_every_response_has_the_headers(client, path):
    response = client.get(path)
    response.close()  # a static file is streamed
    policy = csp(response)
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in \
        policy["script-src"]
    assert policy["object-src"] == "object-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert "Strict-Transport-Security" not in response.headers  # plain http


def test_hsts_only_over_https(app, client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://hocphi.example.vn")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    # A client cannot claim https through a proxy header that nobody trusts...
    claimed = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in claimed.headers
    # ...but the trusted proxy in front of the app can.
    app.config["TRUSTED_PROXIES"] = 1
    try:
        proxied = client.get("/", headers={"X-Forwarded-Proto": "https",
                                           "X-Forwarded-For": "203.0.113.5"})
        assert "Strict-Transport-Security" in proxied.headers
    finally:
        app.config["TRUSTED_PROXIES"] = 0


def test_session_cookie_secure_behind_a_trusted_https_proxy(app, make_school, make_staff):
    user = make_staff("accountant", make_school())
    app.config["TRUSTED_PROXIES"] = 1
    try:
        browser = app.test_client()
        https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5",
                 "Referer": "https://localhost/dang-nhap"}
        page = browser.get("/dang-nhap", headers=https)
        response = browser.post("/dang-nhap", headers=https, data={
            "email": user.email, "password": PASSWORD,
            "csrf_token": csrf_token(page.get_data(as_text=True))})
        assert response.status_code == 302
        cookie = next(c for c in response.headers.getlist("Set-Cookie")
                      if c.startswith("session="))
        assert "Secure" in cookie
    finally:
        app.config["TRUSTED_PROXIES"] = 0


def test_parents_page_no_store_no_referrer_and_a_fresh_nonce(client, billed):
    token = db.session.scalar(select(Student.parent_token).where(Student.code == "HS001"))
    first, second = client.get(f"/p/{token}"), client.get(f"/p/{token}")
    for response in (first, second, client.get(f"/p/{token}/state.json")):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    nonces = []
    for response in (first, second):
        html = response.get_data(as_text=True)
        nonce = re.search(r"'nonce-([^']+)'", csp(response)["script-src"])[1]
        assert f'<script nonce="{nonce}">' in html and f'<style nonce="{nonce}">' in html
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_staff_pages_are_not_cached(staff_login, make_school, make_staff):
    browser = staff_login(make_staff("accountant", make_school()).email, PASSWORD)
    assert browser.get("/app/LQD/cai-dat").headers["Cache-Control"] == "no-store"
    assert browser.get("/dang-nhap").headers["Cache-Control"] == "no-store"


def test_no_inline_handlers_left_in_templates():
    """Inline handlers (onclick="...") cannot carry a nonce: the CSP blocks them."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "templates"
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.html")
                 if re.search(r"\son[a-z]+\s*=", path.read_text()) or
                 re.search(r"<script(?![^>]*\b(src|nonce)=)", path.read_text()) or
                 re.search(r"<style(?![^>]*\bnonce=)", path.read_text())]
    assert offenders == []


def _watch_csp(page, violations: list):
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)


def test_pages_work_under_the_policy_in_a_browser(app, client, billed, make_staff,
                                                  live_server, browser):
    """Every menu page of the staff app and the parents' page, in Chromium, with no CSP
    violation; the behaviours moved out of inline handlers still work."""
    from tuition.services.schools import get_school

    accountant = make_staff("accountant", get_school("LQD"))
    violations: list[str] = []
    page = browser.new_context().new_page()
    _watch_csp(page, violations)
    page.goto(f"{live_server}/dang-nhap")
    page.fill("input[name=email]", accountant.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server}/app/LQD/cai-dat")
    links = page.eval_on_selector_all("nav.menu a", "els => els.map(e => e.href)")
    assert len(links) >= 10
    for link in [*links, f"{live_server}/tai-khoan", f"{live_server}/doi-mat-khau"]:
        response = page.goto(link)
        assert response.status == 200, link
    # A select that submits its form when changed (was onchange="this.form.submit()").
    page.goto(f"{live_server}/app/LQD/cong-no")
    with page.expect_navigation():
        page.select_option("select[name=group_by]", "fee_item")
    assert "group_by=fee_item" in page.url
    # A form that asks first (was onsubmit="return confirm(...)").
    page.goto(f"{live_server}/tai-khoan")
    questions: list[str] = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.click("text=Cấp mã mới")
    assert questions and "Cấp mã mới?" in questions[0]
    assert page.locator("#new-token").count() == 0  # dismissed: nothing was issued

    token = db.session.scalar(select(Student.parent_token).where(Student.code == "HS001"))
    parent = browser.new_context().new_page()
    _watch_csp(parent, violations)
    parent.goto(f"{live_server}/p/{token}")
    parent.locator("button.copy").first.click()
    parent.locator("button.copy", has_text="Đã chép").first.wait_for(timeout=5000)
    assert violations == []

    # And the policy is really enforced: a script without the nonce does not run.
    parent.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.injected = true'; document.body.appendChild(s); }""")
    assert parent.evaluate("() => window.injected === undefined")
    assert any("Content Security Policy" in v for v in violations)
