"""Configuration, read from the environment.

``DATABASE_URL`` selects the database (default: an SQLite file in the instance folder);
every other setting is ``TUITION_<NAME>`` (``TUITION_SECRET_KEY``, ``TUITION_PUBLIC_URL``, ...),
loaded with :meth:`flask.Config.from_prefixed_env`.
"""

from __future__ import annotations

import os

#: Shortest secret key accepted outside tests and debug (it signs sessions and printed links).
MIN_SECRET_KEY_BYTES = 32


class ConfigurationError(RuntimeError):
    """The deployment is set up wrongly; the message (one line) says what to set."""


def database_url(instance_path: str) -> str:
    """The SQLAlchemy URL from ``DATABASE_URL``, with the psycopg 3 driver for PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + os.path.join(instance_path, "tuition.db")
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


class Defaults:
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    JSON_SORT_KEYS = False
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    #: Reading an uploaded spreadsheet runs in a child process with this budget: wall-clock
    #: seconds and address space in MB. Past either, the upload is refused (4xx).
    IMPORT_SECONDS = 30
    IMPORT_MEMORY_MB = 512
    #: Base URL printed on notices and receipts (verification links, parents' pages).
    PUBLIC_URL = "http://127.0.0.1:5000"
    #: Deployment-wide webhook secrets; per bank account keys take precedence.
    SEPAY_API_KEY = None
    CASSO_CHECKSUM_KEY = None
    #: The SePay user API, for the pull backstop (`flask tuition sync`).
    SEPAY_API_URL = "https://my.sepay.vn"
    SEPAY_API_TOKEN = None
    #: True: a webhook matches the payment before answering. False: it only stores it
    #: (durably) and answers; `flask tuition match-worker` matches what is pending. The
    #: second is for high volume: storing is cheap, matching is done at the workers' pace.
    MATCH_IN_REQUEST = True
    #: Queue mode only: a new, well-signed notification is stored by a small WSGI path in
    #: front of Flask (web/fast_webhooks.py); everything else goes through Flask as before.
    FAST_WEBHOOKS = True
    #: Seconds a worker may reuse a receiving account it looked up (0: look up every time).
    #: A few seconds save a query per notification at high volume; a changed webhook key
    #: then takes effect in the other workers within that time.
    ACCOUNT_CACHE_SECONDS = 0
    #: Where rate-limit counters live; use redis://... when running several workers.
    RATELIMIT_STORAGE_URI = "memory://"
    #: Failed guesses of a parents' link allowed per address.
    PARENT_LINK_GUESSES = "20 per minute"
    #: How often an open parents' page asks whether a payment has arrived.
    PARENT_PAGE_POLL_MS = 10_000
    #: Redis unreachable: count in each process's memory until it is back, and never let a
    #: storage error fail a request (parents' pages and sign-in keep working).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    #: Failed sign-ins allowed per address, and per account (from browsers that have not
    #: signed in to it before), within the window; then that address or account waits.
    SIGN_IN_FAILURES_PER_ADDRESS = "20 per 15 minutes"
    SIGN_IN_FAILURES_PER_ACCOUNT = "5 per 15 minutes"
    #: Reverse proxies in front of the app that set X-Forwarded-For and X-Forwarded-Proto
    #: (0: none; then those headers are ignored, since any client could send them).
    TRUSTED_PROXIES = 0
    #: A staff session ends this long after sign-in, or after this long without a request.
    SESSION_HOURS = 12
    SESSION_IDLE_MINUTES = 120

    # --- Messages to parents and background jobs (tuition.messaging) ---------------------
    #: Redis for RQ (the job queues), rate limits and daily quotas of the message channels.
    REDIS_URL = "redis://127.0.0.1:6379/0"
    #: Zalo ZNS: API and OAuth hosts, and the deployment's OA app (a school may set its own).
    ZNS_API_URL = "https://business.openapi.zalo.me"
    ZNS_OAUTH_URL = "https://oauth.zaloapp.com"
    ZNS_APP_ID = None
    ZNS_APP_SECRET = None
    #: Signs Zalo's webhooks (X-ZEvent-Signature).
    ZNS_OA_SECRET = None
    #: The first refresh token; after the first refresh the stored (rotated) one is used.
    ZNS_REFRESH_TOKEN = None
    #: Zalo's development mode: delivered only to the app's and the OA's admins.
    ZNS_DEVELOPMENT = False
    #: SMS: which gateway (``esms``) and its account.
    SMS_GATEWAY = "esms"
    ESMS_API_URL = "https://rest.esms.vn"
    ESMS_API_KEY = None
    ESMS_SECRET_KEY = None
    ESMS_BRANDNAME = None
    #: eSMS validates but neither sends nor charges.
    ESMS_SANDBOX = False
    #: Email over SMTP (STARTTLS when offered; port 465 is implicit TLS).
    SMTP_HOST = None
    SMTP_PORT = 587
    SMTP_USER = None
    SMTP_PASSWORD = None
    SMTP_SENDER = None
    #: Messages per second per channel and provider account, across all workers.
    MESSAGE_RATE_PER_SECOND = {"zns": 20, "sms": 10, "email": 5}
    #: Messages a day per channel and school, unless the school sets its own.
    MESSAGE_DAILY_QUOTA = {"zns": 5000, "sms": 3000, "email": 3000}
    #: Seconds between attempts after temporary errors (the last repeats); attempts per
    #: channel = len + 1, then the next channel is tried.
    MESSAGE_RETRY_INTERVALS = [30, 120, 600, 1800]
    #: A worker owns a message it is sending this long; past it, the worker is presumed dead.
    MESSAGE_LEASE_SECONDS = 120
    #: Timeout of one call to a provider (must stay well under the lease).
    PROVIDER_TIMEOUT_SECONDS = 15
    #: How often each worker's dispatcher enqueues the outbox and sweeps lost work.
    DISPATCH_INTERVAL_SECONDS = 1.0
    #: A queued message whose job has not run after this long is enqueued again.
    MESSAGE_REQUEUE_AFTER_SECONDS = 900
    #: Where background PDFs are written (default: ``exports`` in the instance folder).
    EXPORTS_DIR = None
    #: A running PDF job that reported no progress for this long is started again.
    EXPORT_STALE_SECONDS = 300
