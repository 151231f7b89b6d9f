"""Local stand-ins for the message providers, speaking their documented APIs and checking
requests as the providers would (headers, required fields, phone formats, template ids,
single-use refresh tokens, duplicate request ids) with the documented error codes.

- :class:`ZaloStandIn`: Zalo OAuth (``POST /v4/oa/access_token``) and ZNS
  (``POST /message/template``) on one port; builds signed delivery webhooks.
- :class:`EsmsStandIn`: eSMS ``SendMultipleMessage_V4_post_json``.
- :class:`SmtpStandIn`: an aiosmtpd server that keeps what it receives.

Each runs in threads of the test (or benchmark) process on a free loopback port. They are
also what ``bench/bench_messages.py`` "sends" to.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server:
    """A threaded HTTP server whose handler calls ``self.handle(method, path, headers, body)``
    and answers its (status, JSON)."""

    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, answer = owner.handle(method, self.path, self.headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                try:
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender died waiting (a killed worker): as a real server would

            def do_POST(self):  # noqa: N802
                self._serve("POST")

            def do_GET(self):  # noqa: N802
                self._serve("GET")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, method, path, headers, body):  # pragma: no cover - overridden
        raise NotImplementedError


# --- Zalo -------------------------------------------------------------------------------------

_ZALO_PHONE = re.compile(r"(84|0)?[35789][0-9]{8}")
_TRACKING = re.compile(r"[A-Za-z0-9_]{1,48}")


@dataclass
class ZnsSent:
    phone: str
    template_id: str
    template_data: dict
    tracking_id: str
    msg_id: str
    access_token: str


class ZaloStandIn(_Server):
    """Zalo OAuth v4 for OAs and the ZNS send endpoint.

    ``templates`` maps an approved template id to the parameters it requires. Phones in
    ``no_zalo`` answer -118. ``expire_tokens()`` makes every access token invalid (-124) so
    that the client must refresh; a refresh token works once.
    """

    def __init__(self, *, app_id: str = "1234567890123456789", app_secret: str = "zalo-secret",
                 refresh_token: str = "first-refresh-token", oa_secret: str = "oa-secret-key",
                 templates: dict[str, list[str]] | None = None, daily_quota: int = 10_000,
                 delay: float = 0.0) -> None:
        super().__init__()
        self.app_id = app_id
        self.app_secret = app_secret
        self.oa_secret = oa_secret
        self.refresh_token = refresh_token
        self.access_tokens: dict[str, float] = {}
        self.templates = templates or {}
        self.no_zalo: set[str] = set()
        self.remaining = daily_quota
        self.daily_quota = daily_quota
        self.sent: list[ZnsSent] = []
        self.refreshes = 0
        self.rejected: list[tuple[int, dict]] = []
        self.delay = delay
        #: Error codes to answer to the next sends, one each (e.g. [-100]).
        self.fail_next: list[int] = []

    def expire_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def handle(self, method, path, headers, body):
        if method == "POST" and path == "/v4/oa/access_token":
            return self._token(headers, body)
        if method == "POST" and path == "/message/template":
            if self.delay:
                time.sleep(self.delay)
            return self._send(headers, body)
        return 404, {"error": -106, "message": "Method unsupported"}

    def _token(self, headers, body):
        if "application/x-www-form-urlencoded" not in (headers.get("Content-Type") or ""):
            return 400, {"error": -14001, "error_name": "Invalid parameter"}
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        with self.lock:
            if headers.get("secret_key") != self.app_secret:
                return 200, {"error": -14002, "error_name": "Invalid app secret",
                             "error_description": "secret_key is wrong"}
            if form.get("app_id") != self.app_id or form.get("grant_type") != "refresh_token":
                return 200, {"error": -14003, "error_name": "Invalid app id or grant type"}
            if form.get("refresh_token") != self.refresh_token:
                return 200, {"error": -14014, "error_name": "Invalid refresh token",
                             "error_description": "refresh token is invalid or used"}
            access = "at-" + secrets.token_hex(12)
            self.refresh_token = "rt-" + secrets.token_hex(12)  # single use: a new one
            self.access_tokens[access] = time.time() + 90000
            self.refreshes += 1
            return 200, {"access_token": access, "refresh_token": self.refresh_token,
                         "expires_in": "90000"}

    def _reject(self, code: int, message: str, body: dict):
        self.rejected.append((code, body))
        return 200, {"error": code, "message": message}

    def _send(self, headers, raw):
        if "application/json" not in (headers.get("Content-Type") or ""):
            return 400, {"error": -100, "message": "Content-Type must be application/json"}
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"error": -100, "message": "Body is not JSON"}
        with self.lock:
            token = headers.get("access_token")
            if not token or self.access_tokens.get(token, 0) < time.time():
                return self._reject(-124, "Access token invalid", body)
            if self.fail_next:
                code = self.fail_next.pop(0)
                return self._reject(code, "Unknown error" if code == -100 else "Error", body)
            phone = str(body.get("phone") or "")
            if not _ZALO_PHONE.fullmatch(phone):
                return self._reject(-108, "Phone number invalid", body)
            template_id = str(body.get("template_id") or "")
            if template_id not in self.templates:
                return self._reject(-109, "Template ID invalid", body)
            data = body.get("template_data")
            if not isinstance(data, dict) or not data:
                return self._reject(-111, "Template data empty", body)
            missing = [p for p in self.templates[template_id] if not str(data.get(p) or "")]
            if missing:
                # The docs list "template data invalid" without a readable number.
                return self._reject(-1124, f"Template data invalid: {','.join(missing)}", body)
            tracking = str(body.get("tracking_id") or "")
            if tracking and not _TRACKING.fullmatch(tracking):
                return self._reject(-100, "tracking_id invalid", body)
            national = "0" + phone[2:] if phone.startswith("84") else (
                phone if phone.startswith("0") else "0" + phone)
            if national in self.no_zalo:
                return self._reject(-118, "Zalo account not existed", body)
            if self.remaining <= 0:
                return self._reject(-1150, "Out of quota", body)
            self.remaining -= 1
            msg_id = secrets.token_hex(16)
            self.sent.append(ZnsSent(national, template_id, data, tracking, msg_id, token))
            return 200, {"error": 0, "message": "Success", "data": {
                "msg_id": msg_id, "sent_time": str(int(time.time() * 1000)),
                "sending_mode": "1",
                "quota": {"dailyQuota": str(self.daily_quota),
                          "remainingQuota": str(self.remaining)}}}

    def delivery_webhook(self, msg_id: str, *, timestamp: str | None = None,
                         secret: str | None = None) -> tuple[bytes, dict]:
        """A ``user_received_message`` event for ``msg_id`` and its signature header:
        sha256(app_id + body + timestamp + OA secret key)."""
        timestamp = timestamp or str(int(time.time() * 1000))
        body = json.dumps({
            "app_id": self.app_id, "event_name": "user_received_message",
            "sender": {"id": "579745863508352884"}, "recipient": {"id": "8201634983731327431"},
            "message": {"msg_id": msg_id, "delivery_time": timestamp},
            "timestamp": timestamp,
        }).encode()
        digest = hashlib.sha256(self.app_id.encode() + body + timestamp.encode() +
                                (secret or self.oa_secret).encode()).hexdigest()
        return body, {"X-ZEvent-Signature": f"mac={digest}", "Content-Type": "application/json"}


# --- eSMS -------------------------------------------------------------------------------------

_ESMS_PHONE = re.compile(r"(84|0)[35789][0-9]{8}")
_GSM = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
           "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€")


@dataclass
class SmsSent:
    phone: str
    content: str
    request_id: str
    sms_id: str
    is_unicode: str
    callback_url: str | None
    at: float = field(default_factory=time.time)


class EsmsStandIn(_Server):
    """eSMS.vn: ``POST /MainService.svc/json/SendMultipleMessage_V4_post_json/``."""

    PATH = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"

    def __init__(self, *, api_key: str = "esms-api-key", secret_key: str = "esms-secret",
                 brandnames: tuple[str, ...] = ("TRUONGLQD",), delay: float = 0.0) -> None:
        super().__init__()
        self.api_key = api_key
        self.secret_key = secret_key
        self.brandnames = set(brandnames)
        self.blocked: set[str] = set()
        self.sent: list[SmsSent] = []
        self.request_ids: set[str] = set()
        self.answers: list[str] = []
        self.delay = delay
        #: HTTP statuses to answer to the next requests, one each (e.g. [503]).
        self.http_fail_next: list[int] = []
        self._ids = itertools.count(1)
        #: After accepting the n-th SMS, hold its answer until ``release`` is set (the
        #: sender is then mid-call with the message already accepted).
        self.hold_after: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()

    def handle(self, method, path, headers, raw):
        if method != "POST" or path != self.PATH:
            return 404, {"CodeResult": "404", "ErrorMessage": "Not found"}
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            if self.http_fail_next:
                return self.http_fail_next.pop(0), {"CodeResult": "500"}
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"CodeResult": "400", "ErrorMessage": "Body is not JSON"}

        def answer(code: str, message: str = "", **extra):
            self.answers.append(code)
            return 200, {"CodeResult": code, "ErrorMessage": message, **extra}

        with self.lock:
            if body.get("ApiKey") != self.api_key or body.get("SecretKey") != self.secret_key:
                return answer("101", "Authorize Failed")
            if body.get("Brandname") not in self.brandnames:
                return answer("104", "Brandname chua duoc dang ky")
            if str(body.get("SmsType")) != "2":
                return answer("118", "Loai tin nhan khong hop le")
            phone = str(body.get("Phone") or "")
            if not _ESMS_PHONE.fullmatch(phone):
                return answer("108", "So dien thoai khong dung dinh dang")
            content = str(body.get("Content") or "")
            is_unicode = str(body.get("IsUnicode", "0"))
            if not content or is_unicode not in ("0", "1"):
                return answer("99", "Noi dung khong hop le")
            if is_unicode == "0" and any(ch not in _GSM for ch in content):
                # Diacritics sent as 7-bit would reach the phone garbled.
                return answer("99", "Noi dung co dau nhung IsUnicode=0")
            request_id = str(body.get("RequestId") or "")
            if request_id and request_id in self.request_ids:
                return answer("124", "Trung RequestId")
            national = "0" + phone[2:] if phone.startswith("84") else phone
            if national in self.blocked:
                return answer("99", "So dien thoai bi chan")
            if request_id:
                self.request_ids.add(request_id)
            sms_id = f"{next(self._ids):08d}-esms"
            self.sent.append(SmsSent(national, content, request_id, sms_id, is_unicode,
                                     body.get("CallbackUrl")))
            hold = self.hold_after is not None and len(self.sent) == self.hold_after
        if hold:
            self.holding.set()
            self.release.wait(60)
        return answer("100", "", CountRegenerate=0, SMSID=sms_id)

    def by_phone(self) -> dict[str, list[SmsSent]]:
        found: dict[str, list[SmsSent]] = {}
        for sms in self.sent:
            found.setdefault(sms.phone, []).append(sms)
        return found


# --- SMTP -------------------------------------------------------------------------------------


class SmtpStandIn:
    """An aiosmtpd server on a free port that keeps every message it accepts."""

    def __init__(self, *, refuse: set[str] | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[dict] = []
        self.refuse = refuse or set()
        owner = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, options):  # noqa
                if address in owner.refuse:
                    return "550 5.1.1 No such user"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                owner.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                       "data": envelope.content})
                return "250 Message accepted for delivery"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def parsed(self) -> list:
        from email import message_from_bytes, policy

        return [message_from_bytes(m["data"], policy=policy.default) for m in self.messages]
