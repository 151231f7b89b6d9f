"""Forty minutes past midnight in Vietnam it is still yesterday in UTC: every date a person
reads (receipt PDF, verification page, parents' page, receipts list and its filter, exports,
the dashboard, CLI output) must be Vietnam's, written dd/mm/yyyy."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from tests.helpers import send_sepay, sepay_body
from tuition.core import clock
from tuition.extensions import db
from tuition.models import Receipt, Student
from tuition.services.schools import get_school

PASSWORD = "mat-khau-rat-dai-123"
#: 00:40 on Monday 07/12/2026 in Vietnam.
MOMENT = datetime(2026, 12, 6, 17, 40, tzinfo=UTC)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def after_midnight(monkeypatch):
    monkeypatch.setattr(clock, "now_utc", lambda: MOMENT)


@pytest.fixture
def paid_at_midnight(client, billed, after_midnight):
    """HS001 paid at 00:39 on 07/12 (the bank's time); the receipt is issued at 00:40."""
    body = sepay_body(billed.codes["HS001"], 500_000)
    body["transactionDate"] = "2026-12-07 00:39:00"
    assert send_sepay(client, body).status_code == 200
    return db.session.query(Receipt).one()


def test_the_clock_says_it_is_the_seventh(after_midnight):
    assert clock.today_vn().isoformat() == "2026-12-07"
    assert MOMENT.date().isoformat() == "2026-12-06"


def test_receipt_pdf_verification_page_and_api_say_the_seventh(client, billed,
                                                                paid_at_midnight):
    receipt = paid_at_midnight
    pdf = billed.get(f"/receipts/{receipt.id}.pdf")
    text = " ".join(PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text().split())
    assert "Ngày 07 tháng 12 năm 2026" in text
    page = client.get(f"/bien-lai/{receipt.verify_token}").get_data(as_text=True)
    assert 'id="issued-on">07/12/2026<' in page
    assert "06/12/2026" not in page
    item = billed.get(f"/receipts/{receipt.id}").get_json()
    assert item["issued_at"] == "2026-12-07T00:40:00+07:00"
    assert [r["id"] for r in billed.get(
        "/schools/LQD/receipts?from=2026-12-07&to=2026-12-07").get_json()["items"]] == [
        receipt.id]
    assert billed.get("/schools/LQD/receipts?from=2026-12-06&to=2026-12-06").get_json()[
        "items"] == []


def test_parents_page_says_the_seventh(client, billed, paid_at_midnight):
    token = db.session.query(Student).filter_by(code="HS001").one().parent_token
    page = text_of(client.get(f"/p/{token}").get_data(as_text=True))
    assert f"Số {paid_at_midnight.label} · 07/12/2026" in page
    assert "07/12/2026 00:39" in page  # the bank's own time, not shifted
    assert "06/12/2026" not in page


def test_staff_receipts_list_and_its_day_filter(client, billed, paid_at_midnight, make_staff,
                                                staff_login):
    accountant = staff_login(make_staff("accountant", get_school("LQD")).email, PASSWORD)
    listing = text_of(accountant.get("/app/LQD/bien-lai").get_data(as_text=True))
    assert "07/12/2026 00:40" in listing
    that_day = accountant.get("/app/LQD/bien-lai?from=2026-12-07&to=2026-12-07")
    assert paid_at_midnight.label in that_day.get_data(as_text=True)
    day_before = accountant.get("/app/LQD/bien-lai?from=2026-12-06&to=2026-12-06")
    assert paid_at_midnight.label not in day_before.get_data(as_text=True)
    # Printed in bulk for "today": the receipt of 00:40 is today's.
    pdf = accountant.get("/app/LQD/bien-lai.pdf?from=2026-12-07&to=2026-12-07")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"


def test_exports_and_dashboard_count_from_the_seventh(client, billed, after_midnight,
                                                      make_staff, staff_login):
    accountant = staff_login(make_staff("accountant", get_school("LQD")).email, PASSWORD)
    # Due 15/09/2026: 83 days overdue on 07/12 (82 if UTC's date leaked in).
    reminders = accountant.get("/app/LQD/nhac-nop.csv")
    assert "nhac-nop-LQD-20261207.csv" in reminders.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(reminders.data.decode("utf-8-sig"))))
    assert all("15/09/2026" in row and "83" in row for row in rows[1:]) and len(rows) == 4
    arrears = billed.get("/schools/LQD/reports/arrears?format=csv")
    rows = list(csv.reader(io.StringIO(arrears.data.decode("utf-8-sig"))))
    assert {(row[-2], row[-1]) for row in rows[1:]} == {("15/09/2026", "83")}
    assert billed.get("/schools/LQD/reports/dashboard").get_json()["today"] == "2026-12-07"
    principal = staff_login(make_staff("principal", get_school("LQD")).email, PASSWORD)
    dashboard = text_of(principal.get("/app/LQD/tong-quan").get_data(as_text=True))
    assert "Số liệu tính đến ngày 07/12/2026" in dashboard


def test_cli_takes_and_prints_dates_as_people_write_them(runner, billed):
    result = runner.invoke(args=["tuition", "bill", "--school", "LQD", "--period", "2026-10",
                                 "--items", "HOCPHI", "--due", "15/10/2026", "--preview"])
    assert result.exit_code == 0, result.output
    assert "Sẽ lập 3 hóa đơn kỳ Tháng 10/2026, hạn nộp 15/10/2026, tổng 1.500.000 đ" in (
        result.output)


def test_cli_demo_bills_vietnams_month_just_after_midnight(runner, monkeypatch):
    # 00:40 on 01/12 in Vietnam is still November in UTC: the demo bills December.
    moment = datetime(2026, 11, 30, 17, 40, tzinfo=UTC)
    monkeypatch.setattr(clock, "now_utc", lambda: moment)
    result = runner.invoke(args=["tuition", "demo", "--students", "20"])
    assert result.exit_code == 0, result.output
    assert "hóa đơn kỳ Tháng 12/2026" in result.output
    assert '"transactionDate": "2026-12-01 00:40:00"' in result.output
