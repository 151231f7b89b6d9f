"""The application factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from .config import MIN_SECRET_KEY_BYTES, ConfigurationError, Defaults, database_url
from .extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. Never touches the database: ``flask db upgrade`` migrates."""
    project = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(
        "tuition",
        root_path=os.path.dirname(os.path.abspath(__file__)),
        instance_path=os.environ.get("TUITION_INSTANCE_PATH") or os.path.join(project, "instance"),
        instance_relative_config=True,
        template_folder=os.path.join(project, "templates"),
    )
    app.config.from_object(Defaults)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.instance_path)
    app.config.from_prefixed_env("TUITION")
    if config:
        app.config.update(config)
    _require_secret_key(app)
    from .importing import sandbox

    sandbox.configure(seconds=float(app.config["IMPORT_SECONDS"]),
                      memory_mb=int(app.config["IMPORT_MEMORY_MB"]))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)

    _rate_limit_storage(app)
    db.init_app(app)
    with app.app_context():  # creates no connection: only listens for the ones to come
        from .services.sql import guard_sqlite_row_locks

        for engine in db.engines.values():
            guard_sqlite_row_locks(engine)
    limiter.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_locale, default_translation_directories=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "translations"))
    from . import models  # noqa: F401  (registers the tables with the metadata)

    migrate.init_app(app, db, directory=os.path.join(project, "migrations"))

    from .web import (  # noqa: F401  (api_* modules add routes to the API blueprint)
        api,
        api_authority,
        api_billing,
        api_cash,
        api_receipts,
        api_reconciliation,
        api_reports,
        api_statements,
        api_templates,
        api_users,
        auth,
        authority,
        errors,
        invitations,
        messaging_public,
        parents,
        public,
        security,
        staff,
        webhooks,
    )

    # The API authenticates by bearer token and the webhooks by signature: no cookies, no CSRF.
    csrf.exempt(api.bp)
    csrf.exempt(webhooks.bp)
    # Webhooks are authenticated by signature and must never be throttled (money is lost if a
    # provider gives up); skipping the limiter also saves work on the busiest endpoint.
    limiter.exempt(webhooks.bp)

    errors.init_app(app)
    from .web import fast_webhooks

    fast_webhooks.init_app(app)  # before security's trusted-proxy layer, which goes outside
    security.init_app(app)
    from .web import guards

    guards.init_app(app)
    from .core.money import format_vnd

    app.add_template_filter(format_vnd, "vnd")
    from .web import formatting

    formatting.init_app(app)  # dates, percentages, periods and grades in the reader's language
    from flask_babel import get_locale

    app.jinja_env.globals["get_locale"] = get_locale
    app.register_blueprint(api.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(parents.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(authority.bp)
    app.register_blueprint(invitations.bp)

    from .cli import tuition_cli

    app.cli.add_command(tuition_cli)
    return app


def _locale() -> str:
    from flask import session

    return session.get("lang", "vi")


#: Written by scripts/demo.sh; used when TUITION_SECRET_KEY is not set.
DEMO_KEY_FILE = "demo-secret-key"


def _require_secret_key(app: Flask) -> None:
    """A secret key of at least 32 bytes, or a one-line :class:`ConfigurationError`.

    Without ``TUITION_SECRET_KEY`` the demo's key (``instance/demo-secret-key``, made by
    scripts/demo.sh) is used when it exists, so that commands run after the demo need no
    setup. Tests and debug runs accept anything (and get a throwaway key if there is none).
    """
    relaxed = app.debug or app.testing or os.environ.get("FLASK_DEBUG") == "1"
    if not app.config.get("SECRET_KEY"):
        demo_key = os.path.join(app.instance_path, DEMO_KEY_FILE)
        try:
            with open(demo_key, encoding="utf-8") as handle:
                app.config["SECRET_KEY"] = handle.read().strip()
        except OSError:
            pass
    if not app.config.get("SECRET_KEY"):
        if relaxed:
            app.config["SECRET_KEY"] = "dev-only-not-secret"
            return
        raise ConfigurationError(
            "TUITION_SECRET_KEY is not set: export TUITION_SECRET_KEY=$(python3 -c "
            "'import secrets; print(secrets.token_hex(32))') (keep it: it signs printed links)."
        )
    key = app.config["SECRET_KEY"]
    size = len(key.encode() if isinstance(key, str) else key)
    if size < MIN_SECRET_KEY_BYTES and not relaxed:
        raise ConfigurationError(
            f"TUITION_SECRET_KEY is {size} bytes long; it must have at least "
            f"{MIN_SECRET_KEY_BYTES}: make one with python3 -c "
            "'import secrets; print(secrets.token_hex(32))'."
        )


def _rate_limit_storage(app: Flask) -> None:
    """A Redis that does not answer must cost a request at most a moment, not a hang."""
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith(("redis://", "rediss://")):
        options = app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {})
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
