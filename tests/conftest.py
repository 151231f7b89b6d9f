"""Fixtures: one app and one migrated database per test session, emptied after each test.

``DATABASE_URL`` picks the database (PostgreSQL in CI's second pass); without it the tests
use a fresh SQLite file.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import threading

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.serving import make_server

from tests.helpers import CASSO_KEY, KEY, ROSTER
from tuition.app import create_app
from tuition.extensions import db, limiter
from tuition.models import User
from tuition.services import schools, users

#: Fixtures shared by several modules: a local stand-in for SePay's user API.
pytest_plugins = ["tests.sepay_fake"]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("DATABASE_URL") or (
        "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
    )


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (fresh ``g`` and database session), as in
    production, even while a test holds an app context of its own."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url):
    os.environ["DATABASE_URL"] = database_url
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-of-at-least-32-bytes-0123",
                      "PUBLIC_URL": "https://hocphi.example.vn"})
    app.test_client_class = IsolatedClient
    with app.app_context():
        _reset_schema()
        from flask_migrate import upgrade

        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _reset_schema() -> None:
    """Start from an empty database, so the migrations themselves are what builds it."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def _clean_tables(app):
    yield
    limiter.reset()
    app.extensions["fast_webhooks"].forget()  # the accounts it remembers are deleted below
    with app.app_context():
        db.session.rollback()
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                _empty_postgresql(conn, tables)
            else:
                for name in reversed(tables):
                    conn.execute(text(f"DELETE FROM {name}"))


def _empty_postgresql(conn, tables: list[str]) -> None:
    """Empty the tables a test wrote to and restart every id sequence.

    TRUNCATE of all 40-odd tables took 0.2-0.3 s per test (a new file per table), most of
    the suite's time on PostgreSQL; a test writes to a few small tables, which DELETE
    empties in milliseconds. Triggers and foreign-key checks are off meanwhile (replica
    role), so the order does not matter and the summary triggers do not write back.
    """
    written = [name for (name,) in conn.execute(text(" UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in tables)))]
    if written and conn.execute(text("SELECT current_setting('is_superuser')")).scalar() != "on":
        # The replica role needs a superuser; otherwise TRUNCATE what was written.
        conn.execute(text(f"TRUNCATE {', '.join(written)} CASCADE"))
    elif written:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for name in written:
            conn.execute(text(f"DELETE FROM {name}"))
    conn.execute(text(
        "SELECT setval(c.oid, 1, false) FROM pg_class AS c "
        "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'S' AND n.nspname = 'public'"))


@pytest.fixture(autouse=True)
def _no_outbound_network(monkeypatch):
    """Fail any connection that leaves this machine: tests never touch the internet."""
    real_connect = socket.socket.connect

    def guarded(sock, address):
        if sock.family == socket.AF_UNIX:
            return real_connect(sock, address)
        host = address[0]
        if host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("127."):
            raise RuntimeError(f"test tried to connect to {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def queue_mode(app):
    """Webhooks only store (durably) and answer; match workers match (MATCH_IN_REQUEST off)."""
    app.config["MATCH_IN_REQUEST"] = False
    yield
    app.config["MATCH_IN_REQUEST"] = True
    app.config["FAST_WEBHOOKS"] = True


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def admin(ctx) -> User:
    user, _token = users.create_user(None, email="admin@test.vn", role="admin")
    db.session.commit()
    return user


@pytest.fixture
def make_school(ctx, admin):
    """Factory: a school with one bank account (Vietcombank) and staff."""

    def make(code: str = "LQD", prefix: str | None = None, **fields):
        data = {
            "code": code,
            "name": fields.pop("name", "Trường Tiểu học Lê Quý Đôn"),
            "level": fields.pop("level", ["tieu_hoc"]),
            "address": "15 Phố Huế, Hà Nội",
            "tax_code": "0101234567",
            "phone": "024 3826 1234",
            "bank_accounts": [{
                "bin": "970436",
                "account_number": fields.pop("account", "0011001234567"),
                "account_name": "Truong Tieu hoc Le Quy Don",
            }],
            **fields,
        }
        if prefix:
            data["payment_prefix"] = prefix
        school = schools.create_school(admin, data)
        db.session.commit()
        return school

    return make


@pytest.fixture
def make_user(ctx):
    """Factory: a staff user; returns (user, API token)."""
    counter = iter(range(1, 10_000))

    def make(role: str = "accountant", school=None):
        user, token = users.create_user(
            None, email=f"{role}{next(counter)}@test.vn", role=role, school=school)
        db.session.commit()
        return user, token

    return make


@pytest.fixture
def api(client):
    """Call the JSON API with a token: ``api(token).get('/schools/X')``."""

    class Api:
        def __init__(self, token: str):
            self.headers = {"Authorization": f"Bearer {token}"}

        def _url(self, path: str) -> str:
            return path if path.startswith("/api/") else "/api/v1" + path

        def get(self, path, **kw):
            return client.get(self._url(path), headers=self.headers, **kw)

        def post(self, path, **kw):
            return client.post(self._url(path), headers=self.headers, **kw)

        def upload(self, path, data: bytes, filename: str, **fields):
            form = {"file": (io.BytesIO(data), filename), **fields}
            return client.post(self._url(path), headers=self.headers, data=form,
                               content_type="multipart/form-data")

    return Api


@pytest.fixture
def billed(make_school, make_user, api):
    """A school with 3 students, each with a 500,000 đ invoice for 2026-09."""
    school = make_school(prefix="LQ")
    _, token = make_user("accountant", school)
    acct = api(token)
    acct.upload("/schools/LQD/students/import", ROSTER.encode(), "ds.csv")
    acct.post("/schools/LQD/fee-items", json={
        "code": "HOCPHI", "name": "Học phí", "amount_vnd": 500000, "unit": "month"})
    acct.post("/schools/LQD/billing-runs", json={
        "period": "2026-09", "fee_items": ["HOCPHI"], "due_date": "2026-09-15"})
    school = schools.get_school("LQD")
    school.bank_accounts[0].sepay_api_key = KEY
    school.bank_accounts[0].casso_checksum_key = CASSO_KEY
    db.session.commit()
    acct.codes = {i["student_code"]: i["code"] for i in
                  acct.get("/schools/LQD/invoices").get_json()["items"]}
    return acct


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def staff_login(app):
    """Factory: a test client signed in through the real form; ``.csrf`` posts forms."""

    def login(email: str, password: str):
        browser = app.test_client()
        token = csrf_token(browser.get("/dang-nhap").get_data(as_text=True))
        response = browser.post("/dang-nhap", data={
            "email": email, "password": password, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        browser.csrf = lambda path: csrf_token(browser.get(path).get_data(as_text=True))
        return browser

    return login


@pytest.fixture
def make_staff(ctx):
    """Factory: a staff user with a password; returns the user."""
    counter = iter(range(1, 10_000))

    def make(role: str = "accountant", school=None, password: str = "mat-khau-rat-dai-123"):
        user, _token = users.create_user(
            None, email=f"staff-{role}{next(counter)}@test.vn", role=role, school=school,
            password=password, name=f"Cô {role.title()}")
        db.session.commit()
        return user

    return make


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on a free loopback port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def browser():
    """Debian's headless Chromium driven by Playwright (no browser is downloaded). Outside
    CI a machine without Chromium skips; in CI its absence is a failure."""
    if CHROMIUM is None and os.environ.get("CI") != "true":
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield browser
        browser.close()
