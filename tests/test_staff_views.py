"""The staff app for a principal: a menu of what a principal can use, refusals inside the
app's layout, a dashboard chart with axes and values whatever the number of days, periods
and grades named as people say them, and English that is complete (plurals included)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.helpers import send_sepay, sepay_body
from tuition.services.schools import get_school
from tuition.web.charts import MAX_BAR, MAX_X_LABELS, by_day_chart, nice_step, short_amount

PASSWORD = "mat-khau-rat-dai-123"
FOR_MANAGERS = ("/lap-hoa-don", "/cho-xu-ly", "/sao-ke", "/nhac-nop", "/thu-tien-mat",
                "/ket-chuyen-nam-hoc")


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def menu_links(html: str) -> list[str]:
    menu = html[html.index('<nav class="menu">'):]
    menu = menu[:menu.index("</nav>")]
    return re.findall(r'href="/app/LQD([^"]*)"', menu)


@pytest.fixture
def principal(billed, make_staff, staff_login):
    return staff_login(make_staff("principal", get_school("LQD")).email, PASSWORD)


@pytest.fixture
def accountant(billed, make_staff, staff_login):
    return staff_login(make_staff("accountant", get_school("LQD")).email, PASSWORD)


def test_principal_menu_has_only_what_a_principal_can_use(principal, accountant):
    shown = menu_links(principal.get("/app/LQD/tong-quan").get_data(as_text=True))
    assert "/tong-quan" in shown and "/cong-no" in shown and "/bien-lai" in shown
    assert not set(FOR_MANAGERS) & set(shown)
    for path in shown:  # every entry opens
        assert principal.get("/app/LQD" + path).status_code == 200, path
    everything = menu_links(accountant.get("/app/LQD/tong-quan").get_data(as_text=True))
    assert set(FOR_MANAGERS) <= set(everything)


def test_a_refusal_is_a_page_inside_the_app(principal, billed, make_school, make_staff,
                                            staff_login):
    refused = principal.get("/app/LQD/hoc-sinh/nhap")
    assert refused.status_code == 403
    html = refused.get_data(as_text=True)
    assert '<nav class="menu">' in html and 'id="error" data-status="403"' in html
    assert "Không có quyền" in text_of(html)
    assert "Bạn chỉ có quyền xem, không được thay đổi." in html
    assert menu_links(html) and not set(FOR_MANAGERS) & set(menu_links(html))
    # In English, the message is English.
    token = principal.csrf("/app/LQD/tong-quan")
    principal.post("/ngon-ngu", data={"lang": "en", "next": "/app/LQD/tong-quan",
                                      "csrf_token": token})
    english = text_of(principal.get("/app/LQD/hoc-sinh/nhap").get_data(as_text=True))
    assert "Not allowed" in english and "Your role may look but not change." in english
    # A page that does not exist, and another school's data: still inside the app, no menu
    # of the other school.
    missing = principal.get("/app/LQD/khong-co-trang-nay")
    assert missing.status_code == 404 and 'class="top"' in missing.get_data(as_text=True)
    make_school("KHAC", prefix="KH", name="Trường khác", account="0099001234567")
    other = principal.get("/app/KHAC/tong-quan")
    assert other.status_code == 403 and '<nav class="menu">' not in other.get_data(as_text=True)


# --- The chart ------------------------------------------------------------------------------


def days(count: int, start: date = date(2026, 9, 1), every: int = 1) -> list[dict]:
    return [{"date": (start + timedelta(days=i)).isoformat(), "collected_vnd": 1_000_000 + i,
             "cumulative_vnd": 0} for i in range(0, count, every)]


def test_one_day_is_one_bar_of_normal_width_with_axes_and_its_value():
    chart = by_day_chart([{"date": "2026-09-05", "collected_vnd": 1_500_000}])
    (bar,) = chart.bars
    assert bar.width <= MAX_BAR and bar.label == "05/09" and bar.value_label == "1,5 tr"
    assert [t.label for t in chart.y_ticks] == ["0", "500 nghìn", "1 tr", "1,5 tr"]
    assert bar.y == pytest.approx(chart.y_ticks[-1].position)  # the peak reaches the top tick
    assert [t.label for t in chart.x_ticks] == ["05/09"]


def test_ninety_days_are_thin_bars_with_readable_labels():
    chart = by_day_chart(days(90, every=3))  # money on every third day
    assert len(chart.bars) == 88  # every day from the first to the last, gaps included
    assert sum(1 for bar in chart.bars if bar.amount_vnd == 0) == 58
    assert 2 <= len(chart.x_ticks) <= MAX_X_LABELS
    assert not any(bar.value_label for bar in chart.bars)  # too many to write on
    assert all(chart.left <= bar.x and bar.x + bar.width <= chart.right for bar in chart.bars)
    assert chart.total_vnd == sum(d["collected_vnd"] for d in days(90, every=3))


def test_a_long_span_is_shown_per_month():
    chart = by_day_chart(days(2, start=date(2026, 9, 1)) + days(1, start=date(2027, 5, 20)))
    assert chart.per_month and [bar.label for bar in chart.bars][0] == "09/2026"
    assert len(chart.bars) == 9 and chart.bars[-1].label == "05/2027"


def test_round_steps_and_short_amounts():
    assert [nice_step(peak) for peak in (1, 9, 40_000_000, 39_934_500, 1_500_000)] == [
        1, 5, 10_000_000, 10_000_000, 500_000]
    assert short_amount(39_934_500) == "39,9 tr"
    assert short_amount(2_000_000_000) == "2 tỷ"
    assert short_amount(1_500_000, "en") == "1.5M"
    assert by_day_chart([]) is None


def test_dashboard_page_draws_the_axes_values_and_period_name(client, billed, principal):
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    html = principal.get("/app/LQD/tong-quan").get_data(as_text=True)
    chart = html[html.index('id="by-day-chart"'):html.index("</svg>")]
    assert chart.count("<rect") == 1 and 'class="value">500 nghìn<' in chart
    assert ">0<" in chart and ">500 nghìn<" in chart  # the value axis
    assert ">05/09<" in chart  # the day axis
    text = text_of(html)
    assert "Tổng quan thu học phí — Tháng 9/2026" in text
    assert "33,3 %" in text and "3 hóa đơn, 3 học sinh" in text


def test_english_dashboard_periods_grades_and_plurals(client, billed, principal):
    billed.post("/schools/LQD/billing-runs", json={
        "period": "2026-2027-HK2", "fee_items": ["HOCPHI"], "due_date": "2027-01-15",
        "classes": ["2A"]})
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    token = principal.csrf("/app/LQD/tong-quan")
    principal.post("/ngon-ngu", data={"lang": "en", "next": "/", "csrf_token": token})
    page = text_of(principal.get("/app/LQD/tong-quan?period=2026-09").get_data(as_text=True))
    assert "September 2026" in page and "Term 2, school year 2026-2027" in page
    assert "3 invoices, 3 students" in page and "Grade 1" in page and "Grade 2" in page
    assert "33.3%" in page
    one = text_of(principal.get("/app/LQD/tong-quan?period=2026-2027-HK2")
                  .get_data(as_text=True))
    assert "1 invoice, 1 student" in one
    arrears = text_of(principal.get("/app/LQD/cong-no?group_by=grade&period=all")
                      .get_data(as_text=True))
    assert "Grade 2 —" in arrears and "Term 2, school year 2026-2027" in arrears
    assert "2 students, 3 invoices" in arrears
