"""Cash and transfers for the same student at the same moment, and a day signed off while
cash is being taken: on PostgreSQL and on SQLite, each racer with its own connection, the
ledger check (and ``flask tuition verify-ledger``) judging the result."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.test_concurrency import (  # noqa: F401  (school is a fixture)
    STUDENTS,
    all_at_once,
    assert_ledger_ok,
    fresh,
    invoice_of,
    post,
    school,
    send_sepay,
    sepay_raw,
)
from tuition.core import clock
from tuition.extensions import db
from tuition.models import CashClosing, CashEntry, Receipt


@pytest.fixture(autouse=True)
def _morning(monkeypatch):
    monkeypatch.setattr(clock, "now_utc", lambda: datetime(2026, 9, 5, 3, 15, tzinfo=UTC))


def cash(headers: dict, student: str, amount: int):
    def send(client):
        return client.post("/api/v1/schools/LQD/cash-payments", headers=headers, json={
            "student_code": student, "amount_vnd": amount, "payer_name": "Nguyễn Văn Bình"})
    return send


def test_cash_and_transfers_for_one_student_at_once_leave_the_ledger_exact(app, school):  # noqa: F811
    for student in STUDENTS[:4]:
        code = school.codes[student]
        responses = all_at_once(
            post(app, cash(school.headers, student, 300_000)),
            post(app, send_sepay, sepay_raw(f"{code} hoc phi", 300_000)),
            post(app, cash(school.headers, student, 300_000)),
            post(app, send_sepay, sepay_raw(f"IBFT {code}", 300_000)),
        )
        assert sorted(status for status, _body in responses) == [200, 200, 201, 201], responses
        fresh()
        paid = invoice_of(code)
        assert (paid.paid_vnd, paid.status) == (500_000, "paid"), student
        report = assert_ledger_ok()
        assert report.on_credit_vnd == 700_000 * (STUDENTS.index(student) + 1)
    report = assert_ledger_ok()
    assert (report.cash_vnd, report.cash_in_hand_vnd) == (2_400_000, 2_400_000)
    numbers = sorted(db.session.scalars(select(Receipt.number)))
    assert numbers == list(range(1, len(numbers) + 1))  # no gaps, no repeats
    documents = sorted(db.session.scalars(select(CashEntry.document)))
    assert documents == [f"PT26-{n:06d}" for n in range(1, 9)]
    verdict = app.test_cli_runner().invoke(args=["tuition", "verify-ledger"])
    assert verdict.exit_code == 0, verdict.output
    assert "tiền mặt 2.400.000" in verdict.output


def test_a_day_signed_off_while_cash_comes_in_stays_as_signed(app, school):  # noqa: F811
    close = {"date": "2026-09-05", "counted_vnd": 0, "note": "đếm khi đang thu"}

    def sign(client):
        return client.post("/api/v1/schools/LQD/cash-book/close", headers=school.headers,
                           json=close)

    responses = all_at_once(
        post(app, cash(school.headers, "HS001", 500_000)),
        post(app, sign),
        post(app, cash(school.headers, "HS002", 500_000)),
    )
    statuses = sorted(status for status, _body in responses)
    assert responses[1][0] == 201, responses  # the signature never fails
    fresh()
    closing = db.session.scalar(select(CashClosing))
    booked = db.session.scalar(select(func.count()).select_from(CashEntry))
    # Each payment either went in before the signature (and is in its figures) or was
    # refused because the day was signed off; none slipped in afterwards.
    assert closing.entries == booked and closing.in_vnd == 500_000 * booked
    assert (statuses.count(201), statuses.count(409)) == (1 + booked, 2 - booked), responses
    assert_ledger_ok()
