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
