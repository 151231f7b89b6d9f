"""The authority's overview against figures computed by hand (see tests/authority_world.py),
and its running totals: exact at once after every way money moves, and checked by
``flask tuition verify-summaries``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.authority_world import (
    AN_DONG,
    BA_DINH,
    HANOI,
    HCMC,
    HOAN_KIEM,
    HSN_KEY,
    authority,
    province,  # noqa: F401  (fixture)
    store_money,
)
from tests.helpers import assert_ledger_ok, send_sepay, sepay_body
from tuition.core import clock
from tuition.extensions import db
from tuition.services import summaries

TODAY = "2026-10-20"


def overview(api_client, **params):
    query = "&".join(f"{k}={v}" for k, v in {"today": TODAY, **params}.items())
    response = api_client.get(f"/authority/overview?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def by_code(report):
    return {row["code"]: row for row in report["schools"]}


def assert_summaries_exact():
    checks = summaries.verify()
    assert all(c.ok for c in checks), [p for c in checks for p in c.problems]


def pay(client, codes, student, amount, *, key=None, account=None, when="2026-09-05 10:15:00"):
    body = sepay_body(f"{codes[student]} hoc phi", amount, **({"account": account}
                                                                if account else {}))
    body["transactionDate"] = when
    response = send_sepay(client, body, **({"key": key} if key else {}))
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def paid(client, province):  # noqa: F811
    """LQD: HS001 pays 500,000 and HS002 200,000 by transfer; 300,000 in cash (September),
    100,000 from a statement line (October), an opening balance of 1,000,000 and an outgoing
    transfer. HSN: MN01 pays 400,000 by transfer."""
    pay(client, province.lqd.codes, "HS001", 500_000)
    pay(client, province.lqd.codes, "HS002", 200_000)
    store_money("LQD", "cash", 300_000, "2026-09-20 08:00:00")
    store_money("LQD", "statement", 100_000, "2026-10-02 14:00:00")
    store_money("LQD", "opening", 1_000_000, "2026-09-01 00:00:00")
    store_money("LQD", "sepay", 50_000, "2026-09-21 00:00:00", direction="out")
    pay(client, province.hsn.codes, "MN01", 400_000, key=HSN_KEY, account="1122334455")
    return province


def test_province_overview_matches_figures_computed_by_hand(paid, api):
    _, token = authority(province_code=HANOI)
    report = overview(api(token), period="2026-09")
    assert report["scope"] == {"province_code": 1, "province": "Thành phố Hà Nội",
                               "ward_code": None, "ward": None, "unit": "Thành phố Hà Nội"}
    assert report["period_label"] == "Tháng 9/2026"
    assert set(by_code(report)) == {"LQD", "HSN"}  # not NTT, in Hồ Chí Minh City
    lqd, hsn = by_code(report)["LQD"], by_code(report)["HSN"]
    assert (lqd["ward"], lqd["level"]) == ("Phường Ba Đình", "Tiểu học")
    assert (lqd["students"], lqd["invoices"], lqd["expected_vnd"], lqd["collected_vnd"],
            lqd["outstanding_vnd"], lqd["collection_rate"]) == (
        3, 3, 1_500_000, 700_000, 800_000, 0.4667)
    # Due 15/09, seen on 20/10: 35 days overdue.
    assert lqd["aging"] == {"not_due": 0, "1_30": 0, "31_60": 800_000, "over_60": 0}
    assert lqd["overdue_vnd"] == 800_000
    # September's money: 700,000 by transfer and 300,000 in cash; not the opening balance,
    # not the outgoing transfer, not October's statement line.
    assert (lqd["received_vnd"], lqd["cash_vnd"], lqd["cashless_vnd"], lqd["cashless_share"]) \
        == (1_000_000, 300_000, 700_000, 0.7)
    assert lqd["feed"] == "ok" and not lqd["feed_silent"]
    assert lqd["low_rate"] and lqd["low_cashless"]  # below 80% and 90%
    assert (hsn["students"], hsn["expected_vnd"], hsn["collected_vnd"], hsn["collection_rate"],
            hsn["cashless_share"], hsn["aging"]["31_60"]) == (2, 800_000, 400_000, 0.5, 1.0,
                                                              400_000)
    assert not hsn["low_cashless"]

    totals = report["totals"]
    assert (totals["schools"], totals["students"], totals["expected_vnd"],
            totals["collected_vnd"], totals["collection_rate"], totals["received_vnd"],
            totals["cashless_vnd"], totals["cashless_share"]) == (
        2, 5, 2_300_000, 1_100_000, 0.4783, 1_400_000, 1_100_000, 0.7857)
    assert [(g["label"], g["schools"], g["expected_vnd"]) for g in report["by_ward"]] == [
        ("Phường Ba Đình", 1, 1_500_000), ("Phường Hoàn Kiếm", 1, 800_000)]
    assert [(g["label"], g["collected_vnd"]) for g in report["by_level"]] == [
        ("Mầm non", 400_000), ("Tiểu học", 700_000)]


def test_school_year_counts_each_student_once_and_takes_every_month(paid, api):
    paid.lqd.post("/schools/LQD/billing-runs", json={
        "period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15"})
    _, token = authority(province_code=HANOI)
    year = overview(api(token))  # the school year of 20/10/2026 by default
    assert (year["period"], year["school_year"]) == ("2026-2027", "2026-2027")
    lqd = by_code(year)["LQD"]
    assert (lqd["students"], lqd["invoices"], lqd["expected_vnd"]) == (3, 6, 3_000_000)
    # October's invoices are due 15/10: 5 days overdue on 20/10.
    assert lqd["aging"] == {"not_due": 0, "1_30": 1_500_000, "31_60": 800_000, "over_60": 0}
    # October's statement line now counts: 1,100,000 received, 800,000 of it cashless.
    assert (lqd["received_vnd"], lqd["cashless_vnd"], lqd["cashless_share"]) == (
        1_100_000, 800_000, 0.7273)
    term = by_code(overview(api(token), period="2026-2027-HK1"))["LQD"]
    assert (term["students"], term["invoices"]) == (3, 6)
    october_report = overview(api(token), period="2026-10")
    assert october_report["year_totals"]["expected_vnd"] == year["totals"]["expected_vnd"]
    october = by_code(october_report)["LQD"]
    assert (october["students"], october["expected_vnd"], october["received_vnd"]) == (
        3, 1_500_000, 100_000)
    trend = {m["month"]: m for m in year["trend"]}
    assert list(trend)[:2] == ["2026-09", "2026-10"] and len(trend) == 9
    assert (trend["2026-09"]["expected_vnd"], trend["2026-09"]["collected_vnd"]) == (
        2_300_000, 1_100_000)
    assert (trend["2026-10"]["expected_vnd"], trend["2026-10"]["received_vnd"],
            trend["2026-10"]["cashless_share"]) == (1_500_000, 100_000, 1.0)
    assert trend["2026-09"]["cash_vnd"] == 300_000


def test_filters_sorting_and_highlight_thresholds(paid, api):
    _, token = authority(province_code=HANOI)
    reader = api(token)
    assert [r["code"] for r in overview(reader, level="mam_non")["schools"]] == ["HSN"]
    assert [r["code"] for r in overview(reader, ward=BA_DINH)["schools"]] == ["LQD"]
    by_rate = overview(reader, period="2026-09", sort="rate", desc=1)["schools"]
    assert [r["code"] for r in by_rate] == ["HSN", "LQD"]
    lenient = by_code(overview(reader, period="2026-09", min_rate=40, min_cashless=70))
    assert not lenient["LQD"]["low_rate"] and not lenient["LQD"]["low_cashless"]
    assert reader.get("/authority/overview?min_rate=120").status_code == 422
    assert reader.get("/authority/overview?sort=guardian_phone").status_code == 422
    assert reader.get("/authority/overview?period=2026-13").status_code == 422
    assert reader.get("/authority/overview?level=dai_hoc").status_code == 422
    assert reader.get(f"/authority/overview?ward={AN_DONG}").status_code == 422


def test_silent_bank_feed_is_flagged_after_a_week(paid, api, monkeypatch):
    _, token = authority(province_code=HANOI)
    later = datetime.now(UTC) + timedelta(days=8)
    monkeypatch.setattr(clock, "now_utc", lambda: later)
    schools_ = by_code(overview(api(token)))
    assert schools_["LQD"]["feed"] == "silent" and schools_["LQD"]["feed_silent"]
    _, hcm = authority(province_code=HCMC)
    assert by_code(overview(api(hcm)))["NTT"]["feed"] == "never"


def test_a_payment_changes_the_overview_at_once(client, province, api):  # noqa: F811
    _, token = authority(ward_code=BA_DINH)
    reader = api(token)
    before = by_code(overview(reader, period="2026-09"))["LQD"]
    assert (before["collected_vnd"], before["received_vnd"]) == (0, 0)
    pay(client, province.lqd.codes, "HS003", 500_000)
    after = by_code(overview(reader, period="2026-09"))["LQD"]
    assert (after["collected_vnd"], after["received_vnd"], after["cashless_vnd"]) == (
        500_000, 500_000, 500_000)
    assert after["feed"] == "ok"
    assert_summaries_exact()


def test_billing_cancelling_reversing_and_credit_keep_the_totals_exact(
        client, province, api):  # noqa: F811
    """Every way an invoice or a transfer changes: the overview follows at once, and the
    running totals equal their recomputation after each step."""
    lqd = province.lqd
    _, token = authority(province_code=HANOI)
    reader = api(token)

    def school():
        assert_summaries_exact()
        return by_code(overview(reader))["LQD"]

    assert (school()["expected_vnd"], school()["students"]) == (1_500_000, 3)
    # A transfer for two siblings, then a reversal of one of them.
    pay(client, lqd.codes, "HS001", 500_000)
    pay(client, lqd.codes, "HS002", 650_000)  # 150,000 over: the student's credit
    assert school()["collected_vnd"] == 1_000_000
    payments = lqd.get("/schools/LQD/payments").get_json()["items"]
    first = next(p for p in payments if p["amount_vnd"] == 500_000)
    reversal = lqd.post(f"/allocations/{first['allocations'][0]['id']}/reversal",
                        json={"reason": "Gán nhầm"})
    assert reversal.status_code == 201
    assert school()["collected_vnd"] == 500_000
    # Cancel HS003's invoice: no longer expected, and HS003 no longer billed.
    cancel = lqd.post(f"/invoices/{lqd.codes['HS003']}/cancel", json={"reason": "Chuyển trường"})
    assert cancel.status_code == 200
    row = school()
    assert (row["expected_vnd"], row["students"], row["invoices"]) == (1_000_000, 2, 2)
    # A new month for the three (HS003 still studies): HS002's credit pays 150,000 of it.
    lqd.post("/schools/LQD/billing-runs", json={
        "period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15"})
    row = school()
    assert (row["expected_vnd"], row["collected_vnd"], row["students"], row["invoices"]) == (
        2_500_000, 650_000, 3, 5)
    # The accountant places the reversed 500,000 on HS001's October invoice.
    october = {i["student_code"]: i["code"] for i in
               lqd.get("/schools/LQD/invoices?period=2026-10").get_json()["items"]}
    assign = lqd.post(f"/payments/{first['id']}/allocations", json={
        "reason": "Phụ huynh xác nhận", "allocations": [
            {"invoice_code": october["HS001"], "amount_vnd": 500_000}]})
    assert assign.status_code == 201, assign.get_json()
    assert school()["collected_vnd"] == 1_150_000
    # A term invoice for a new student counts once in the year.
    lqd.upload("/schools/LQD/students/import",
               "Mã học sinh,Họ và tên,Lớp\nHS009,Đào Thị Mơ,3A\n".encode(), "ds.csv")
    lqd.post("/schools/LQD/fee-items", json={
        "code": "BANTRU", "name": "Bán trú", "amount_vnd": 200_000, "unit": "term"})
    lqd.post("/schools/LQD/billing-runs", json={
        "period": "2026-2027-HK1", "fee_items": ["BANTRU"], "due_date": "2026-09-30"})
    row = school()
    assert row["students"] == 4
    assert_ledger_ok()


def test_ward_overview_and_verify_summaries_cli(paid, api, runner):
    _, token = authority(ward_code=HOAN_KIEM)
    report = overview(api(token))
    assert [r["code"] for r in report["schools"]] == ["HSN"]
    assert report["scope"]["unit"] == "Phường Hoàn Kiếm, Thành phố Hà Nội"
    ok = runner.invoke(args=["tuition", "verify-summaries"])
    assert ok.exit_code == 0, ok.output
    assert "summary_invoices: OK" in ok.output
    # Someone edits a summary by hand: the check names the row; --repair rebuilds it.
    db.session.execute(db.text("UPDATE summary_invoices SET collected_vnd = collected_vnd + 1 "
                               "WHERE period = '2026-09'"))
    db.session.commit()
    broken = runner.invoke(args=["tuition", "verify-summaries"])
    assert broken.exit_code == 1
    assert "period=2026-09" in broken.output and "collected_vnd" in broken.output
    repaired = runner.invoke(args=["tuition", "verify-summaries", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert_summaries_exact()
