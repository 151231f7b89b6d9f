"""The running totals' own rules, on the database in use: which term and school year an
invoice period counts in (the same in the triggers and in the check), and the triggers exist."""

from __future__ import annotations

import pytest
from sqlalchemy import literal, select, text

from tuition.extensions import db
from tuition.models import BilledStudent, Invoice, Student
from tuition.services import summaries

SCOPES = {
    "2026-09": ("2026-2027-HK1", "2026-2027"),
    "2026-12": ("2026-2027-HK1", "2026-2027"),
    "2027-01": ("2026-2027-HK2", "2026-2027"),
    "2027-05": ("2026-2027-HK2", "2026-2027"),
    "2027-06": (None, None),
    "2026-08": (None, None),
    "2026-2027-HK1": ("2026-2027-HK1", "2026-2027"),
    "2026-2027-HK2": ("2026-2027-HK2", "2026-2027"),
    "2026-2027": (None, "2026-2027"),
}


@pytest.mark.parametrize(("period", "scopes"), SCOPES.items())
def test_which_term_and_year_a_period_counts_in(ctx, period, scopes):
    found = db.session.execute(select(summaries.term_scope(literal(period)),
                                      summaries.year_scope(literal(period)))).one()
    assert tuple(found) == scopes


def test_the_triggers_count_each_period_where_the_check_does(billed):
    student = db.session.scalar(select(Student).where(Student.code == "HS002"))
    for number, period in enumerate([p for p in SCOPES if p != "2026-09"], 1):
        db.session.add(Invoice(school_id=student.school_id, student_id=student.id,
                               code=f"LQTEST{number:04d}", period=period, total_vnd=1000,
                               paid_vnd=0, due_date=db.func.current_date(), status="open"))
    db.session.commit()
    counts = dict(db.session.execute(
        select(BilledStudent.scope, BilledStudent.invoices)
        .where(BilledStudent.student_id == student.id)).all())
    # 2026-09 was billed by the fixture.
    assert counts == {"2026-2027-HK1": 3, "2026-2027-HK2": 3, "2026-2027": 7}
    assert all(check.ok for check in summaries.verify())


def test_the_triggers_are_installed(app, ctx):
    if db.engine.dialect.name == "postgresql":
        names = set(db.session.scalars(text(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
    else:
        names = set(db.session.scalars(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    assert {"trg_summaries_invoice_insert", "trg_summaries_invoice_update",
            "trg_summaries_transaction_insert"} <= names


def test_money_received_in_the_totals_follows_the_one_rule(client, billed, monkeypatch):
    """Money set aside, a transfer recorded twice and a voided cash receipt: the running
    totals (triggers) say what the school's dashboard says (services/channels.py), and the
    recomputation agrees."""
    from datetime import UTC, datetime

    from sqlalchemy import func

    from tests.helpers import send_sepay, sepay_body
    from tuition.core import clock
    from tuition.models import ReceiptSummary
    from tuition.services import channels, schools

    monkeypatch.setattr(clock, "now_utc", lambda: datetime(2026, 9, 5, 3, 15, tzinfo=UTC))
    school = schools.get_school("LQD")

    def totals():
        db.session.rollback()
        stored = db.session.scalar(select(func.sum(ReceiptSummary.amount_vnd)).where(
            ReceiptSummary.school_id == school.id, ReceiptSummary.provider != "opening"))
        by_channel = channels.received_by_channel([school.id])[school.id]
        assert all(check.ok for check in summaries.verify()), [
            p for check in summaries.verify() for p in check.problems]
        return int(stored or 0), sum(by_channel.values())

    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    send_sepay(client, sepay_body("tien quy lop", 300_000))
    assert totals() == (800_000, 800_000)
    (waiting,) = billed.get("/schools/LQD/payments?status=review").get_json()["items"]
    billed.post(f"/payments/{waiting['id']}/set-aside", json={"reason": "Quỹ lớp"})
    assert totals() == (500_000, 500_000)  # set aside: not fee money
    # The statement's line of the first transfer, without its reference: one transfer.
    billed.upload("/schools/LQD/statements",
                  ("Ngày giao dịch,Số tiền,Nội dung\n"
                   f"05/09/2026,500000,{billed.codes['HS001']}\n").encode(), "sk.csv")
    assert totals() == (500_000, 500_000)
    # Cash, then its receipt voided: it left the box again.
    cash = billed.post("/schools/LQD/cash-payments", json={
        "student_code": "HS002", "amount_vnd": 200_000, "payer_name": "Bình"}).get_json()
    assert totals() == (700_000, 700_000)
    billed.post(f"/receipts/{cash['receipts'][0]['id']}/void", json={"reason": "Nhầm"})
    assert totals() == (500_000, 500_000)
