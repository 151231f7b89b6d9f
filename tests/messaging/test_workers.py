"""Real worker processes (``flask tuition worker``: RQ SimpleWorker + dispatcher) against
real Redis: one is SIGKILLed in the middle of a campaign, right after eSMS accepted a message
and before the worker could record it; the others finish, and every guardian has exactly one
message."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.messaging.conftest import enable
from tuition.extensions import db
from tuition.messaging import campaigns
from tuition.models import Message, MessageEvent, User
from tuition.services import schools

ROOT = Path(__file__).resolve().parents[2]
GUARDIANS = 40


def _roster(n: int) -> str:
    lines = ["Mã học sinh,Họ và tên,Lớp,Họ tên phụ huynh,Số điện thoại"]
    lines += [f"HS{i:03d},Học Sinh {i:03d},{1 + i % 5}A,Phụ Huynh {i:03d},09100{i:05d}"
              for i in range(1, n + 1)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def big_school(make_school, make_user, api, messaging):
    school = make_school(prefix="LQ")
    _, token = make_user("accountant", school)
    acct = api(token)
    assert acct.upload("/schools/LQD/students/import", _roster(GUARDIANS).encode(),
                       "ds.csv").status_code == 200
    acct.post("/schools/LQD/fee-items", json={
        "code": "HOCPHI", "name": "Học phí", "amount_vnd": 500000, "unit": "month"})
    acct.post("/schools/LQD/billing-runs", json={
        "period": "2026-09", "fee_items": ["HOCPHI"], "due_date": "2026-09-15"})
    school = schools.get_school("LQD")
    enable(school, messaging)
    return school


def _worker(env: dict, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "tuition", "worker"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _env(app, database_url: str, messaging) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUITION_")}
    env.update({
        "DATABASE_URL": database_url, "TUITION_SECRET_KEY": app.config["SECRET_KEY"],
        "TUITION_PUBLIC_URL": app.config["PUBLIC_URL"],
        "TUITION_REDIS_URL": app.config["REDIS_URL"],
        "TUITION_ESMS_API_URL": messaging.esms.url,
        "TUITION_MESSAGE_LEASE_SECONDS": "3", "TUITION_PROVIDER_TIMEOUT_SECONDS": "1",
        "TUITION_DISPATCH_INTERVAL_SECONDS": "0.2",
        "TUITION_MESSAGE_RATE_PER_SECOND": json.dumps({"sms": 1000}),
    })
    return env


def _final_count(campaign_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Message).where(
        Message.campaign_id == campaign_id,
        Message.status.in_(("sent", "delivered", "failed", "unknown", "skipped"))))


def test_killed_worker_loses_nothing_and_sends_nothing_twice(app, database_url, big_school,
                                                             messaging, tmp_path):
    admin = db.session.scalar(select(User).where(User.role == "admin"))
    campaign = campaigns.create(admin, big_school, kind="notice", period="2026-09")
    db.session.commit()
    assert campaign.created_count == GUARDIANS
    # eSMS accepts the 8th SMS and then holds its answer: its worker is mid-call.
    messaging.esms.hold_after = 8
    env = _env(app, database_url, messaging)
    first = _worker(env, tmp_path / "worker-a.log")
    others: list[subprocess.Popen] = []
    try:
        assert messaging.esms.holding.wait(60), (tmp_path / "worker-a.log").read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        messaging.esms.release.set()
        others = [_worker(env, tmp_path / f"worker-{n}.log") for n in "bc"]
        deadline = time.monotonic() + 90
        while _final_count(campaign.id) < GUARDIANS and time.monotonic() < deadline:
            time.sleep(0.3)
    finally:
        for process in [first, *others]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [first, *others]:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    logs = "\n".join(p.read_text(errors="replace") for p in tmp_path.glob("worker-*.log"))
    statuses = db.session.execute(select(Message.status, func.count()).where(
        Message.campaign_id == campaign.id).group_by(Message.status)).all()
    assert dict(statuses) == {"sent": GUARDIANS}, logs
    # Every guardian got exactly one SMS ...
    per_phone = {phone: len(items) for phone, items in messaging.esms.by_phone().items()}
    assert len(per_phone) == GUARDIANS and set(per_phone.values()) == {1}
    # ... including the one whose worker died: sent again with its RequestId, which eSMS
    # refused as a duplicate (124), and that counted as sent.
    assert messaging.esms.answers.count("124") == 1
    resent = db.session.scalars(select(MessageEvent.message_id).where(
        MessageEvent.event == "interrupted_resend")).all()
    assert len(resent) == 1
    held = messaging.esms.sent[7]
    assert db.session.scalar(select(Message.request_id).where(Message.id == resent[0])) == \
        held.request_id
