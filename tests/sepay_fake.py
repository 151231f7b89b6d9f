"""A local HTTP server that plays SePay's user API (transaction list), as fixtures: ``sepay``
(the fake, with its rows and the requests it saw) and ``synced`` (the billed school with a
SePay API token). Loaded for every test module by tests/conftest.py."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tuition.extensions import db
from tuition.services import schools

TOKEN = "sepay-user-api-token-for-tests"
ACCOUNT = "0011001234567"
FORMAT = "%Y-%m-%d %H:%M:%S"


# --------------------------------------------------------------------------- fake SePay


class FakeSePay:
    """State of the fake: which token sees which accounts, the rows, and what was asked."""

    def __init__(self) -> None:
        self.tokens: dict[str, set[str]] = {TOKEN: {ACCOUNT}}
        self.transactions: list[dict] = []
        self.requests: list[dict] = []
        #: Answers given before any normal one: (status, headers, body bytes).
        self.canned: list[tuple[int, dict[str, str], bytes]] = []
        self.delay = 0.0
        self.url = ""

    def answer(self, path: str, query: dict[str, list[str]], authorization: str):
        self.requests.append({"path": path, "query": query, "authorization": authorization})
        if self.canned:
            return self.canned.pop(0)
        if path != "/userapi/transactions/list":
            return 404, {}, b'{"status":404,"error":"Not found"}'
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or token not in self.tokens:
            return 401, {}, json.dumps({"status": 401, "error": "Unauthorized",
                                        "messages": {"success": False}}).encode()
        params = {name: values[-1] for name, values in query.items()}
        date_min = params.get("transaction_date_min", "")
        limit = int(params.get("limit", "5000"))
        if "account_number" not in params or not 1 <= limit <= 5000:
            return 400, {}, b'{"status":400,"error":"Bad request"}'
        datetime.strptime(date_min, FORMAT)  # the client must send the full timestamp
        rows = [
            row for row in self.transactions
            if row["account_number"] == params["account_number"]
            and row["account_number"] in self.tokens[token]
            and row["transaction_date"] >= date_min
            and row["transaction_date"] <= params.get("transaction_date_max", "9999")
        ]
        # v1 lists the most recent transactions first and has no page parameter.
        rows.sort(key=lambda r: (r["transaction_date"], int(r["id"])), reverse=True)
        body = {"status": 200, "error": None, "messages": {"success": True},
                "transactions": rows[:limit]}
        return 200, {}, json.dumps(body, ensure_ascii=False).encode()


def _handler(fake: FakeSePay):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            url = urlsplit(self.path)
            status, headers, body = fake.answer(
                url.path, parse_qs(url.query), self.headers.get("Authorization", ""))
            if fake.delay:
                time.sleep(fake.delay)
            try:
                self.send_response(status)
                headers = {"Content-Type": "application/json", **headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def sepay(app):
    fake = FakeSePay()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    saved = {name: app.config[name] for name in ("SEPAY_API_URL", "SEPAY_API_TOKEN")
             if name in app.config}
    app.config["SEPAY_API_URL"] = fake.url
    try:
        yield fake
    finally:
        for name in ("SEPAY_API_URL", "SEPAY_API_TOKEN"):
            app.config.pop(name, None)
        app.config.update(saved)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def synced(billed):
    """The conftest's billed school, with a SePay API token on its account."""
    school = schools.get_school("LQD")
    school.bank_accounts[0].sepay_api_token = TOKEN
    db.session.commit()
    billed.account = school.bank_accounts[0]
    return billed


