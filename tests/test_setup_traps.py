"""Setting up: the secret key (32 bytes at least outside tests; the demo's key read from
instance/; one line, not a traceback, when it is missing) and the demo's published password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tuition.app import _require_secret_key, create_app
from tuition.config import ConfigurationError
from tuition.extensions import db
from tuition.models import School, User

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "0123456789abcdef" * 4


def _bare_app(tmp_path, **config) -> Flask:
    app = Flask("check", instance_path=str(tmp_path))
    app.config.update(config)
    return app


def test_a_short_secret_key_stops_the_app_with_one_line():
    with pytest.raises(ConfigurationError) as refused:
        create_app({"SECRET_KEY": "ci-only-secret"})
    message = str(refused.value)
    assert "\n" not in message
    assert "14 bytes" in message and "at least 32" in message


def test_key_rules(tmp_path):
    long_enough = _bare_app(tmp_path, SECRET_KEY="x" * 32)
    _require_secret_key(long_enough)
    # Bytes, not characters: 16 Vietnamese letters of two bytes each are enough.
    _require_secret_key(_bare_app(tmp_path, SECRET_KEY="ữ" * 11))
    with pytest.raises(ConfigurationError):
        _require_secret_key(_bare_app(tmp_path, SECRET_KEY="ư" * 15))
    # Tests and debug runs may use anything.
    _require_secret_key(_bare_app(tmp_path, SECRET_KEY="short", TESTING=True))
    _require_secret_key(_bare_app(tmp_path, SECRET_KEY="short", DEBUG=True))
    missing = _bare_app(tmp_path)
    with pytest.raises(ConfigurationError, match="TUITION_SECRET_KEY is not set"):
        _require_secret_key(missing)
    (tmp_path / "demo-secret-key").write_text(GOOD_KEY + "\n")
    _require_secret_key(missing)
    assert missing.config["SECRET_KEY"] == GOOD_KEY


def flask(*args: str, instance: Path, database_url: str, **env: str):
    """Run the real ``flask --app wsgi ...`` with TUITION_SECRET_KEY unset."""
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("TUITION_", "FLASK_"))}
    environment.update(TUITION_INSTANCE_PATH=str(instance), DATABASE_URL=database_url, **env)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=60)


def test_commands_without_a_key_say_in_one_line_what_to_set(tmp_path, database_url):
    for args in (["tuition", "--help"], ["tuition", "verify-ledger"], ["--help"]):
        result = flask(*args, instance=tmp_path, database_url=database_url)
        assert result.returncode != 0, args
        assert "Traceback" not in result.stderr + result.stdout, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "TUITION_SECRET_KEY" in lines[0], result.stderr
        assert "export TUITION_SECRET_KEY=" in lines[0]


def test_commands_use_the_demos_key_from_instance(tmp_path, database_url):
    (tmp_path / "demo-secret-key").write_text(GOOD_KEY + "\n")
    help_text = flask("tuition", "--help", instance=tmp_path, database_url=database_url)
    assert help_text.returncode == 0, help_text.stderr
    for command in ("create-user", "demo", "verify-ledger", "match-worker", "rematch"):
        assert command in help_text.stdout
    ledger = flask("tuition", "verify-ledger", instance=tmp_path, database_url=database_url)
    assert ledger.returncode == 0 and "Traceback" not in ledger.stderr, ledger.stderr


def test_a_short_key_in_the_environment_is_one_line_too(tmp_path, database_url):
    result = flask("tuition", "--help", instance=tmp_path, database_url=database_url,
                   TUITION_SECRET_KEY="ci-only-secret")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "tuition: TUITION_SECRET_KEY is 14 bytes long; it must have at least 32: make one with "
        "python3 -c 'import secrets; print(secrets.token_hex(32))'.")


def test_demo_refuses_its_published_password_where_other_schools_exist(runner, make_school):
    make_school()
    result = runner.invoke(args=["tuition", "demo", "--students", "20"])
    assert result.exit_code == 1
    assert "mật khẩu công khai" in result.output and "--password" in result.output
    assert db.session.scalar(select(School.id).where(School.code == "DEMO")) is None
    assert db.session.scalar(select(User.id).where(User.email.like("%@demo.tuition.vn"))) is None


def test_demo_with_a_chosen_password_on_a_used_database(runner, make_school, staff_login):
    make_school()
    short = runner.invoke(args=["tuition", "demo", "--students", "20", "--password", "ngan"])
    assert short.exit_code == 1 and "10 ký tự" in short.output
    result = runner.invoke(args=["tuition", "demo", "--students", "20",
                                 "--password", "mat-khau-demo-rieng"])
    assert result.exit_code == 0, result.output
    assert "demo-matkhau-2026" not in result.output and "mat-khau-demo-rieng" in result.output
    staff_login("ketoan@demo.tuition.vn", "mat-khau-demo-rieng")
