"""Money received per channel from one query, and the cashless share on the dashboard."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tests.helpers import send_sepay, sepay_body
from tuition.core import clock
from tuition.extensions import db
from tuition.models import BankTransaction
from tuition.services import channels, schools
from tuition.services.channels import channel_expression, channel_of


def test_sql_and_python_classify_every_transaction_alike(billed):
    school = schools.get_school("LQD")
    providers = ("sepay", "casso", "statement", "cash", "opening")
    for n, (provider, va) in enumerate(itertools.product(providers, (None, "963869000001"))):
        db.session.add(BankTransaction(
            provider=provider, provider_txn_id=f"t{n}", school_id=school.id,
            account_number="", direction="in", amount_vnd=1000, memo="", raw="{}",
            occurred_at=datetime(2026, 9, 5), status="matched", virtual_account=va))
    db.session.flush()
    rows = db.session.execute(select(BankTransaction.provider, BankTransaction.virtual_account,
                                     channel_expression())).all()
    assert len(rows) == 10
    for provider, va, in_sql in rows:
        assert in_sql == channel_of(provider, va), (provider, va)
    assert {channel_of(p, v) for p, v, _c in rows} == {*channels.CHANNELS, None}
    db.session.rollback()


@pytest.fixture
def received(client, billed, monkeypatch):
    """September: 500,000 by transfer, 300,000 cash, 200,000 cash voided, a set-aside
    transfer, an opening credit; October: 400,000 cash."""
    monkeypatch.setattr(clock, "now_utc", lambda: datetime(2026, 9, 5, 3, 15, tzinfo=UTC))
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    billed.post("/schools/LQD/cash-payments", json={
        "student_code": "HS002", "amount_vnd": 300_000, "payer_name": "Nguyễn Văn Bình"})
    voided = billed.post("/schools/LQD/cash-payments", json={
        "student_code": "HS003", "amount_vnd": 200_000, "payer_name": "Lê Văn Tâm"}).get_json()
    billed.post(f"/receipts/{voided['receipts'][0]['id']}/void", json={"reason": "Nhầm"})
    send_sepay(client, sepay_body("tien dien thang 9", 900_000))
    review = billed.get("/schools/LQD/payments?status=review").get_json()["items"][0]
    billed.post(f"/payments/{review['id']}/set-aside", json={"reason": "Không phải học phí"})
    billed.upload("/schools/LQD/opening-balances", b"Ma hoc sinh,Du co\nHS003,50000\n",
                  "x.csv", source="Sổ cũ", school_year="2026-2027")
    monkeypatch.setattr(clock, "now_utc", lambda: datetime(2026, 10, 2, 3, 0, tzinfo=UTC))
    billed.post("/schools/LQD/cash-payments", json={
        "student_code": "HS002", "amount_vnd": 400_000, "payer_name": "Nguyễn Văn Bình"})
    return billed


def test_money_received_per_channel_and_the_cashless_share(received):
    september = received.get("/schools/LQD/reports/channels?period=2026-09").get_json()
    assert {r["channel"]: r["received_vnd"] for r in september["by_channel"]} == {
        "transfer": 500_000, "virtual_account": 0, "statement": 0, "cash": 300_000}
    assert (september["received_vnd"], september["cashless_vnd"]) == (800_000, 500_000)
    assert september["cashless_share"] == 0.625
    whole = received.get("/schools/LQD/reports/channels").get_json()
    assert whole["received_vnd"] == 1_200_000
    days = received.get("/schools/LQD/reports/channels?from=2026-10-01&to=2026-10-31")
    assert days.get_json()["received_vnd"] == 400_000
    assert received.get("/schools/LQD/reports/channels?period=2026-13").status_code == 422
    assert received.get(
        "/schools/LQD/reports/channels?period=2026-09&from=2026-09-01").status_code == 422


def test_one_query_answers_for_many_schools(received, make_school):
    other = make_school("KHAC", prefix="KH", account="0099887766")
    lqd = schools.get_school("LQD")
    figures = channels.received_by_channel([lqd.id, other.id], start=date(2026, 9, 1),
                                           end=date(2026, 9, 30))
    assert figures[other.id] == dict.fromkeys(channels.CHANNELS, 0)
    assert figures[lqd.id]["cash"] == 300_000


def test_the_dashboard_shows_the_cashless_share(received, make_staff, staff_login):
    accountant = make_staff("principal", schools.get_school("LQD"))
    browser = staff_login(accountant.email, "mat-khau-rat-dai-123")
    page = browser.get("/app/LQD/tong-quan?period=2026-09").get_data(as_text=True)
    assert 'id="cashless">62,5 %' in page
    assert "Tiền mặt" in page and "300.000 đ" in page
    data = received.get("/schools/LQD/reports/dashboard?period=2026-09").get_json()
    assert data["channels"]["cashless_share"] == 0.625
