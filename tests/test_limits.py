"""Rate limits: only failed sign-ins count, per address and per account (time-limited, and a
browser that signed in before is counted apart); the client's address behind a trusted proxy;
one limit over all of a parents' link's routes; and limits with Redis stopped or shared."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from tests.conftest import csrf_token
from tuition.extensions import db
from tuition.models import AuditEvent, Student

PASSWORD = "mat-khau-rat-dai-123"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def limits(app):
    """Set limits for one test; the defaults come back after it."""
    saved = {k: app.config[k] for k in ("SIGN_IN_FAILURES_PER_ADDRESS",
                                        "SIGN_IN_FAILURES_PER_ACCOUNT", "PARENT_LINK_GUESSES",
                                        "TRUSTED_PROXIES")}

    def set_(**values):
        app.config.update(values)

    yield set_
    app.config.update(saved)


def sign_in(client, email: str, password: str, **kw):
    page = client.get("/dang-nhap", **kw)
    return client.post("/dang-nhap", data={
        "email": email, "password": password,
        "csrf_token": csrf_token(page.get_data(as_text=True))}, **kw)


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


# -- sign-in ----------------------------------------------------------------------------------

def test_successful_sign_ins_are_not_counted(app, make_school, make_staff, limits):
    limits(SIGN_IN_FAILURES_PER_ADDRESS="3 per minute", SIGN_IN_FAILURES_PER_ACCOUNT="3 per minute")
    user = make_staff("accountant", make_school())
    for _ in range(8):  # a whole office signing in through one address
        assert sign_in(app.test_client(), user.email, PASSWORD).status_code == 302


def test_failures_per_address_then_wait(app, make_school, make_staff, limits):
    limits(SIGN_IN_FAILURES_PER_ADDRESS="4 per minute")
    school = make_school()
    users = [make_staff("accountant", school) for _ in range(3)]
    client = app.test_client()
    for n in range(4):  # different accounts, one address
        assert sign_in(client, users[n % 3].email, "sai-mat-khau-123").status_code == 401
    refused = sign_in(client, users[0].email, PASSWORD)
    assert refused.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    # Another address is not held up.
    assert sign_in(app.test_client(), users[0].email, PASSWORD,
                   **from_address("10.1.2.3")).status_code == 302


def test_failures_per_account_whatever_the_address_time_limited(
        app, make_school, make_staff, limits):
    limits(SIGN_IN_FAILURES_PER_ACCOUNT="3 per 2 seconds")
    user = make_staff("accountant", make_school())
    for n in range(3):
        assert sign_in(app.test_client(), user.email, "doan-mo-123",
                       **from_address(f"10.0.0.{n + 1}")).status_code == 401
    # From yet another address, even with the right password: wait.
    assert sign_in(app.test_client(), user.email, PASSWORD,
                   **from_address("10.0.0.9")).status_code == 429
    time.sleep(2.1)  # the account is held for a while, never for good
    assert sign_in(app.test_client(), user.email, PASSWORD,
                   **from_address("10.0.0.9")).status_code == 302


def test_a_browser_that_signed_in_before_is_not_locked_out_by_someone_else(
        app, make_school, make_staff, limits):
    limits(SIGN_IN_FAILURES_PER_ACCOUNT="3 per minute")
    user = make_staff("accountant", make_school())
    own = app.test_client()
    assert sign_in(own, user.email, PASSWORD).status_code == 302
    assert own.post("/dang-xuat", data={
        "csrf_token": csrf_token(own.get("/tai-khoan").get_data(as_text=True))}).status_code == 302
    for n in range(4):  # someone else keeps failing on this account
        sign_in(app.test_client(), user.email, "doan-mo-123", **from_address(f"10.9.0.{n}"))
    assert sign_in(app.test_client(), user.email, PASSWORD,
                   **from_address("10.9.0.99")).status_code == 429
    # The owner's browser still signs in (it carries the signed "known device" cookie).
    assert sign_in(own, user.email, PASSWORD).status_code == 302
    # A forged device cookie is worth nothing.
    forged = app.test_client()
    forged.set_cookie("tuition_device", "eyJmb28iOiJiYXIifQ.forged.signature", path="/dang-nhap")
    assert sign_in(forged, user.email, PASSWORD,
                   **from_address("10.9.0.98")).status_code == 429


# -- the client's address behind a reverse proxy -----------------------------------------------

def _last_failure_ip() -> str:
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "auth.sign_in_failed").order_by(AuditEvent.id.desc())).first(
    ).details["ip"]


def test_forwarded_for_is_ignored_without_trusted_proxies(app, make_school, make_staff, limits):
    limits(SIGN_IN_FAILURES_PER_ADDRESS="2 per minute")
    user = make_staff("accountant", make_school())
    for n in range(2):
        sign_in(app.test_client(), user.email, "sai-mat-khau-123",
                headers={"X-Forwarded-For": f"203.0.113.{n}"})
    assert _last_failure_ip() == "127.0.0.1"
    # A client cannot dodge the limit by making up X-Forwarded-For.
    assert sign_in(app.test_client(), user.email, PASSWORD,
                   headers={"X-Forwarded-For": "203.0.113.77"}).status_code == 429


def test_forwarded_for_is_the_client_with_one_trusted_proxy(app, make_school, make_staff,
                                                            limits):
    limits(SIGN_IN_FAILURES_PER_ADDRESS="2 per minute", TRUSTED_PROXIES=1)
    user = make_staff("accountant", make_school())
    for _ in range(2):
        sign_in(app.test_client(), user.email, "sai-mat-khau-123",
                headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.5"})
    assert _last_failure_ip() == "203.0.113.5"  # the address the proxy saw, not the claim
    assert sign_in(app.test_client(), user.email, PASSWORD,
                   headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 429
    # Everybody else behind the same proxy is another client.
    assert sign_in(app.test_client(), user.email, PASSWORD,
                   headers={"X-Forwarded-For": "203.0.113.6"}).status_code == 302


# -- the parents' link: one limit over every route ----------------------------------------------

def test_one_limit_over_all_of_a_parents_links_routes(app, client, billed, limits):
    limits(PARENT_LINK_GUESSES="5 per minute")
    token = db.session.scalar(select(Student.parent_token).where(Student.code == "HS001"))
    guesses = ["/p/aaaaaaaaaaaa", "/p/bbbbbbbbbbbb/state.json", "/p/cccccccccccc/qr/X.png",
               "/p/dddddddddddd/receipts/1.pdf", "/bien-lai/eeeeeeeeeeee"]
    for path in guesses:
        assert client.get(path).status_code == 404, path
    assert client.get("/p/ffffffffffff/state.json").status_code == 429
    assert client.get(f"/p/{token}").status_code == 429  # this address waits, for every route
    # Pages that were found are not counted: another address reads its page as often as it likes.
    other = from_address("10.5.5.5")
    for _ in range(8):
        assert client.get(f"/p/{token}/state.json", **other).status_code == 200


# -- Redis: stopped, and shared between processes -------------------------------------------------

REDIS_URL = os.environ.get("TUITION_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served(database_url: str, *, workers: int, **settings: str):
    """The app in gunicorn (a real process, as in production) with these settings."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TUITION_") and k not in ("FLASK_DEBUG", "FLASK_APP")}
    env.update(DATABASE_URL=database_url, TUITION_SECRET_KEY="k" * 48,
               TUITION_PUBLIC_URL="https://hocphi.example.vn", **{
                   f"TUITION_{k}": v for k, v in settings.items()})
    # --preload: the app is imported once, then the workers fork (quicker to start).
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--preload", "--workers", str(workers), "--bind",
         f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if requests.get(f"{base}/healthz", timeout=5).ok:
                    break
            except requests.RequestException:
                if process.poll() is not None:
                    pytest.fail(f"gunicorn stopped: {process.stderr.read()}")
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # nothing to save; a graceful stop takes seconds
        _, errors = process.communicate()
        assert "Traceback" not in errors, errors


def _web_sign_in(base: str, email: str, password: str) -> requests.Response:
    session = requests.Session()
    token = csrf_token(session.get(f"{base}/dang-nhap", timeout=5).text)
    return session.post(f"{base}/dang-nhap", data={
        "email": email, "password": password, "csrf_token": token},
        allow_redirects=False, timeout=5)


def test_redis_down_parents_pages_and_sign_in_still_answer(database_url, billed, make_staff):
    from tuition.services.schools import get_school

    user = make_staff("accountant", get_school("LQD"))
    token = db.session.scalar(select(Student.parent_token).where(Student.code == "HS001"))
    with socket.socket() as probe:  # nothing listens there
        assert probe.connect_ex(("127.0.0.1", 6390)) != 0
    with served(database_url, workers=1, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6390",
                PARENT_LINK_GUESSES="3 per minute") as base:
        page = requests.get(f"{base}/p/{token}", timeout=5)
        assert page.status_code == 200 and "Nguyễn Thị Ánh Dương" in page.text
        assert requests.get(f"{base}/p/{token}/state.json", timeout=5).json()["due_vnd"] == 500_000
        assert requests.get(f"{base}/dang-nhap", timeout=5).status_code == 200
        assert _web_sign_in(base, user.email, "sai-mat-khau-123").status_code == 401
        assert _web_sign_in(base, user.email, PASSWORD).status_code == 302
        # Limits still hold, counted in the process's memory until Redis is back.
        statuses = [requests.get(f"{base}/p/zzzzzzzzzzz{n}", timeout=5).status_code
                    for n in range(4)]
        assert statuses == [404, 404, 404, 429]


def _redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    return client


def test_shared_limit_counts_in_redis_across_workers(database_url, billed):
    store = _redis()
    store.flushdb()
    token = db.session.scalar(select(Student.parent_token).where(Student.code == "HS001"))
    with served(database_url, workers=2, RATELIMIT_STORAGE_URI=REDIS_URL,
                PARENT_LINK_GUESSES="4 per minute") as base:
        assert requests.get(f"{base}/p/{token}", timeout=5).status_code == 200
        guesses = ["/p/aaaaaaaaaaaa", "/p/bbbbbbbbbbbb/state.json", "/bien-lai/cccccccccccc",
                   "/p/dddddddddddd/qr/X.png"]
        assert [requests.get(base + g, timeout=5).status_code for g in guesses] == [404] * 4
        assert requests.get(f"{base}/p/{token}/state.json", timeout=5).status_code == 429
        keys = [k.decode() for k in store.keys("*")]
        counters = [k for k in keys if "parent-link" in k]
        assert len(counters) == 1, keys
        assert int(store.get(counters[0])) == 4
    store.flushdb()


def test_failed_sign_ins_are_counted_in_redis(database_url, make_school, make_staff):
    store = _redis()
    store.flushdb()
    user = make_staff("accountant", make_school())
    with served(database_url, workers=2, RATELIMIT_STORAGE_URI=REDIS_URL,
                SIGN_IN_FAILURES_PER_ACCOUNT="3 per minute") as base:
        assert [_web_sign_in(base, user.email, "sai-mat-khau-123").status_code
                for _ in range(3)] == [401] * 3
        assert _web_sign_in(base, user.email, PASSWORD).status_code == 429
        keys = [k.decode() for k in store.keys("*")]
        assert any(re.search(r"sign-in:[0-9a-f]{32}", k) for k in keys), keys
        assert not any(user.email in k for k in keys)  # no email in Redis, only a hash
    store.flushdb()
