"""Fixtures for messages: a real Redis (database 4 by default; flushed), the providers'
stand-ins, the app pointed at them, a school with messaging on, and running real RQ workers
in this process until nothing is due."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
import redis

from tests.standins import EsmsStandIn, SmtpStandIn, ZaloStandIn
from tuition.extensions import db
from tuition.messaging import jobs
from tuition.messaging import settings as messaging_settings
from tuition.services import schools

#: Tests may flush this Redis database.
REDIS_URL = os.environ.get("TUITION_TEST_REDIS_URL", "redis://127.0.0.1:6379/4")
ZNS_TEMPLATES = {"231201": ["student_name", "amount", "due_date"],
                 "231202": ["student_name", "amount", "receipt_no"]}


@pytest.fixture
def redis_url():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"Redis is not running at {REDIS_URL}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def standins():
    zalo = ZaloStandIn(templates=ZNS_TEMPLATES).start()
    esms = EsmsStandIn().start()
    smtp = SmtpStandIn(refuse={"khong-ton-tai@example.vn"}).start()
    yield SimpleNamespace(zalo=zalo, esms=esms, smtp=smtp)
    zalo.stop()
    esms.stop()
    smtp.stop()


@pytest.fixture
def messaging(app, monkeypatch, redis_url, standins, tmp_path):
    """The app pointed at Redis database 4 and at the stand-ins."""
    for key, value in {
        "REDIS_URL": redis_url, "ZNS_API_URL": standins.zalo.url,
        "ZNS_OAUTH_URL": standins.zalo.url, "ESMS_API_URL": standins.esms.url,
        "MESSAGE_RATE_PER_SECOND": {"zns": 1000, "sms": 1000, "email": 1000},
        "MESSAGE_RETRY_INTERVALS": [30, 120], "PROVIDER_TIMEOUT_SECONDS": 5,
        "EXPORTS_DIR": str(tmp_path / "exports"),
    }.items():
        monkeypatch.setitem(app.config, key, value)
    return standins


def enable(school, standins, *, channels="sms", **extra) -> None:
    """Messaging on for ``school`` with the stand-ins' credentials (as staff would type)."""
    operator = _operator()
    messaging_settings.update(operator, school, {
        "enabled": True, "channels": channels, "confirmations": True,
        "zns_app_id": standins.zalo.app_id, "zns_app_secret": standins.zalo.app_secret,
        "zns_oa_secret": standins.zalo.oa_secret,
        "zns_refresh_token": standins.zalo.refresh_token,
        "sms_api_key": standins.esms.api_key, "sms_secret_key": standins.esms.secret_key,
        "sms_brandname": "TRUONGLQD", "email_sender": "hocphi@lqd.edu.vn",
        "smtp_host": "127.0.0.1", "smtp_port": str(standins.smtp.port), **extra,
    })
    db.session.commit()


def _operator():
    from tuition.models import User

    return User(id=None, role="admin", email="test@localhost", name="test")


@pytest.fixture
def lqd(billed, messaging):
    """The billed school (3 students, 3 invoices of 500,000 đ for 2026-09) with SMS on."""
    school = schools.get_school("LQD")
    enable(school, messaging)
    return school


def run_workers(app, *, rounds: int = 20) -> int:
    """Dispatch and run real RQ workers (SimpleWorker, in this process) until nothing is due.
    Returns how many jobs were dispatched."""
    from rq import Queue
    from rq.worker import SimpleWorker

    connection = jobs.redis_connection(app)
    total = 0
    for _ in range(rounds):
        with app.app_context():
            jobs.sweep()
            dispatched = jobs.dispatch()
        worker = SimpleWorker([Queue(q, connection=connection) for q in jobs.QUEUES],
                              connection=connection)
        worked = worker.work(burst=True, logging_level="WARNING")
        total += dispatched
        if not dispatched and not worked:
            break
    db.session.rollback()  # the test's session sees what the workers committed
    return total
