"""The common bank notification, stored without Flask's request machinery.

In queue mode (``MATCH_IN_REQUEST`` off) a webhook only stores the notification and answers;
the match workers do the rest. At a bank's peak this is the busiest request of the service,
and Flask's dispatch (request and application contexts, the extensions' before- and
after-request hooks, the ORM session) cost more Python than the storing itself: measured under
gunicorn, about 2 ms of CPU per notification against 0.95 ms for one INSERT behind a bare Flask
endpoint (bench/bench_batch_matching.py prints both).

So this WSGI layer, in front of the Flask application, takes ``POST /webhooks/sepay`` and
``/webhooks/casso`` and handles the common case itself, with the same functions as the Flask
view: the provider's parser, the receiving account's own key (web/webhooks.py), and the same
INSERT (services/payments.py), then commit and answer ``{"success": true}``. The common case
is a notification that parses, is signed by the own key of exactly one receiving account, and
is new. Anything else (malformed, unsigned, signed by the deployment key, a repeat, a
conflicting repeat, a body without a length or over the limit, match-in-request mode, an error
of any kind) is handed to the Flask view with its body untouched, which answers as it always
has: only the common case is fast, and the answers are the same (tests/test_fast_webhooks.py
compares them).

Each worker remembers the receiving accounts of the numbers it stored notifications for, so
that the next notification makes one statement, the INSERT. That INSERT stores nothing unless
the account still has the key that signed (and its school and number): a key rotated or
revoked meanwhile is never honoured, the worker forgets the account, and the Flask view,
reading the database afresh, answers 401.
"""

from __future__ import annotations

import io
import json
import logging

from werkzeug.wsgi import get_content_length

from ..core import notifications as nt
from ..extensions import db
from ..services import payments
from . import security, webhooks

log = logging.getLogger(__name__)

_PREFIX = "/webhooks/"
#: Account numbers whose accounts a worker remembers (a province's schools fit).
_ACCOUNTS_REMEMBERED = 20_000
#: What the Flask view's ``jsonify({"success": True})`` sends.
_SUCCESS = json.dumps({"success": True}, separators=(",", ":")).encode() + b"\n"


class FastWebhooks:
    """WSGI middleware: stores the common notification, hands the rest to ``wsgi_app``."""

    def __init__(self, app, wsgi_app) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._engine = None
        self._headers: dict[bool, list[tuple[str, str]]] = {}
        #: Receiving accounts by number, as read when a notification for it was stored:
        #: the next one needs no lookup (see _store).
        self._accounts: dict[str, tuple] = {}

    def __call__(self, environ, start_response):
        provider = self._provider(environ)
        if provider is None:
            return self.wsgi_app(environ, start_response)
        # None for a streamed (chunked) body, 0 for none or a malformed length.
        length = get_content_length(environ)
        if not length or length > (self.app.config.get("MAX_CONTENT_LENGTH") or length):
            return self.wsgi_app(environ, start_response)  # Flask answers 411/413 or reads it
        raw = environ["wsgi.input"].read(length)
        # Whatever happens next, the Flask view reads the same body.
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        try:
            stored = len(raw) == length and self._store(provider, raw, environ)
        except Exception:  # the Flask view does it again, and answers as it does
            log.exception("fast webhook path failed; handing the notification to Flask")
            stored = False
        if not stored:
            return self.wsgi_app(environ, start_response)
        secure = environ.get("wsgi.url_scheme") == "https"
        start_response("200 OK", [*self._response_headers(secure),
                                  ("Content-Length", str(len(_SUCCESS)))])
        return [_SUCCESS]

    def forget(self) -> None:
        """Forget the remembered accounts (the tests empty the database between them)."""
        self._accounts.clear()

    def _provider(self, environ) -> webhooks.Provider | None:
        if environ.get("REQUEST_METHOD") != "POST":
            return None
        path = environ.get("PATH_INFO", "")
        if not path.startswith(_PREFIX):
            return None
        config = self.app.config
        if config["MATCH_IN_REQUEST"] or not config["FAST_WEBHOOKS"]:
            return None
        return webhooks.PROVIDERS.get(path[len(_PREFIX):])

    def _store(self, provider: webhooks.Provider, raw: bytes, environ) -> bool:
        """Store a new notification signed by one account's own key; False (nothing
        written) for any other."""
        try:
            notification = provider.parse(raw)
        except nt.NotificationError:
            return False

        def header(name: str) -> str | None:
            return environ.get("HTTP_" + name.upper().replace("-", "_"))

        def verify(body: bytes, keys: list[str]) -> bool:
            return provider.signed(body, keys, header)

        number = notification.account_number.strip().upper()
        with self._database().connect() as connection:
            candidates = self._accounts.get(number)
            remembered = candidates is not None
            if not remembered:
                # Read now, never from ACCOUNT_CACHE_SECONDS: only a remembered account gets
                # the INSERT that checks it is still what it was.
                candidates = payments.accounts_by_number(connection, number)
            signed = webhooks.own_key_signers(raw, candidates, provider.key_field, verify)
            new_id = None
            if len(signed) == 1:
                account = signed[0]
                # A remembered account may have changed since: the INSERT then checks that
                # it still has the key that signed, its school and its number.
                new_id = payments.insert_new(
                    connection, notification, raw, account,
                    signed_with=(provider.key_field, getattr(account, provider.key_field))
                    if remembered else None)
            if new_id is None:
                # Unsigned, a repeat, or an account that changed: the view decides, on what
                # the database says now.
                connection.rollback()
                self._accounts.pop(number, None)
                return False
            connection.commit()
        if not remembered:
            if len(self._accounts) >= _ACCOUNTS_REMEMBERED:
                self._accounts.clear()
            self._accounts[number] = candidates
        return True

    def _database(self):
        if self._engine is None:
            with self.app.app_context():
                self._engine = db.engine
        return self._engine

    def _response_headers(self, secure: bool) -> list[tuple[str, str]]:
        headers = self._headers.get(secure)
        if headers is None:
            defaults, forced = security.headers_for(webhooks.bp.name, secure)
            headers = self._headers[secure] = [
                ("Content-Type", "application/json"), *defaults.items(), *forced.items()]
        return headers


def init_app(app) -> None:
    """Put the fast path in front of the Flask application (inside the trusted-proxy layer,
    which security.init_app adds after this)."""
    app.wsgi_app = app.extensions["fast_webhooks"] = FastWebhooks(app, app.wsgi_app)
