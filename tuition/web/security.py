"""What every response carries for safety: the client's real address behind a reverse proxy,
session cookies marked ``Secure`` over https, and the security headers (CSP with a nonce,
frame-ancestors, nosniff, Referrer-Policy, HSTS over https, no-store on private pages).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Flask, g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from ..config import ConfigurationError

#: Pages whose URL holds a parent's private token: never cached, never sent as a referrer.
PRIVATE_LINK_BLUEPRINTS = ("parents",)
#: Pages of signed-in staff (and the sign-in form): never kept in a browser's cache.
STAFF_BLUEPRINTS = ("staff", "auth")
#: One year, without includeSubDomains: the school's other hosts may not speak https.
HSTS = "max-age=31536000"


def csp_nonce() -> str:
    """The nonce of this response's Content-Security-Policy, for ``<script>`` and ``<style>``
    blocks in templates: ``<script nonce="{{ csp_nonce() }}">``."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str | None) -> str:
    inline = f" 'nonce-{nonce}'" if nonce else ""
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self'{inline}",
        f"style-src 'self'{inline}",
        # style="..." attributes only set looks (widths, margins); scripts get no such leeway.
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class TrustedProxies:
    """Take the client's address and scheme from X-Forwarded-For / X-Forwarded-Proto, as set
    by ``TRUSTED_PROXIES`` reverse proxies; with none (the default) those headers are ignored.

    Read at each request, so the setting is the configuration's, whatever it is now.
    """

    def __init__(self, wsgi_app, config) -> None:
        self.wsgi_app = wsgi_app
        self.config = config
        self._fixed: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        count = self.config.get("TRUSTED_PROXIES") or 0
        if count <= 0:
            return self.wsgi_app(environ, start_response)
        fixed = self._fixed.get(count)
        if fixed is None:
            fixed = self._fixed[count] = ProxyFix(self.wsgi_app, x_for=count, x_proto=count)
        return fixed(environ, start_response)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the cookie ``Secure`` whenever the request came
    over https (directly, or through a trusted proxy) even if ``SESSION_COOKIE_SECURE`` is
    off: the same deployment may answer on http://127.0.0.1 for a health check."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure)


def _trusted_proxies(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ConfigurationError(
            f"TUITION_TRUSTED_PROXIES must be a whole number of reverse proxies (0, 1, 2...), "
            f"not {value!r}.")
    return int(value)


def add_headers(response):
    defaults, forced = headers_for(request.blueprint, request.is_secure, g.get("csp_nonce"))
    for name, value in defaults.items():
        response.headers.setdefault(name, value)
    response.headers.update(forced)
    return response


def headers_for(blueprint: str | None, secure: bool,
                nonce: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """The security headers of an answer from ``blueprint``: (those set unless the view set
    them itself, those always set)."""
    defaults = {
        "Content-Security-Policy": content_security_policy(nonce),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    forced = {}
    if secure:
        defaults["Strict-Transport-Security"] = HSTS
    if blueprint in PRIVATE_LINK_BLUEPRINTS:
        forced = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
    else:
        # Same origin keeps the Referer that Flask-WTF checks on https forms.
        defaults["Referrer-Policy"] = "same-origin"
        if blueprint in STAFF_BLUEPRINTS:
            defaults["Cache-Control"] = "no-store"
    return defaults, forced


def init_app(app: Flask) -> None:
    app.config["TRUSTED_PROXIES"] = _trusted_proxies(app.config.get("TRUSTED_PROXIES", 0))
    app.wsgi_app = TrustedProxies(app.wsgi_app, app.config)
    app.session_interface = SessionInterface()
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_HOURS"])
    app.after_request(add_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
