"""The authority's overview in a real headless Chromium: signing in, filters and highlights,
the trend chart, a payment showing at once, the exports downloaded and read back, English."""

from __future__ import annotations

import io
import os

from openpyxl import load_workbook
from pypdf import PdfReader

from tests.authority_world import (
    HANOI,
    HSN_KEY,
    PASSWORD,
    authority,
    province,  # noqa: F401  (fixture)
)
from tests.helpers import send_sepay, sepay_body

#: Set TUITION_SCREENSHOTS=/some/dir to keep screenshots of the pages for a look.
SHOTS = os.environ.get("TUITION_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/dang-nhap")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def cell(page, code: str, column: str) -> str:
    return page.locator(f"#schools tr[data-code={code}] td[data-col={column}]").inner_text()


def test_overview_filters_highlights_updates_and_exports(client, province, live_server,  # noqa: F811
                                                         browser):
    send_sepay(client, sepay_body(f"{province.lqd.codes['HS001']} hoc phi", 500_000))
    body = sepay_body(f"{province.hsn.codes['MN01']} hoc phi", 400_000, account="1122334455")
    send_sepay(client, body, key=HSN_KEY)
    send_sepay(client, dict(body, id=987654, referenceCode="FT-MN02",
                            content=f"{province.hsn.codes['MN02']} hoc phi"), key=HSN_KEY)
    user, _token = authority(province_code=HANOI)

    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, user.email)
    assert page.url.endswith("/quan-ly/")  # an authority lands on its own pages
    assert page.locator("#unit").inner_text() == "Thành phố Hà Nội"
    page.select_option("select[name=period]", "2026-09")
    page.click("#filters button[type=submit]")
    page.wait_for_load_state()
    rows = page.locator("#schools tbody tr")
    assert rows.count() == 2
    assert page.locator("#schools tr[data-code=NTT]").count() == 0
    # LQD collected 500,000 of 1,500,000: 33,3 %, below 80%, highlighted; HSN all of it.
    assert cell(page, "LQD", "rate") == "33,3 %"
    assert "low" in page.locator("#schools tr[data-code=LQD] td[data-col=rate]").get_attribute(
        "class")
    assert cell(page, "HSN", "rate") == "100,0 %"
    assert "low" not in page.locator(
        "#schools tr[data-code=HSN] td[data-col=rate]").get_attribute("class")
    assert page.locator("#total-collected").inner_text() == "1.300.000 đ"
    assert page.locator("#trend-chart text", has_text="09/2026").count() == 1
    assert page.locator("#trend-chart rect.bar-collected").count() == 9
    assert page.locator("#by-ward tr").count() == 3  # header and two wards
    shot(page, "authority-overview")

    # A lower threshold: LQD is no longer highlighted. Only mầm non: only HSN.
    page.fill("input[name=min_rate]", "30")
    page.click("#filters button[type=submit]")
    page.wait_for_load_state()
    assert "low" not in (page.locator(
        "#schools tr[data-code=LQD] td[data-col=rate]").get_attribute("class") or "")
    page.select_option("select[name=level]", "mam_non")
    page.click("#filters button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#schools tbody tr").count() == 1
    page.select_option("select[name=level]", "")
    page.click("#filters button[type=submit]")
    page.wait_for_load_state()
    # Sorting by collection rate, then the other way.
    page.click("#schools thead a:has-text('Tỷ lệ thu')")
    page.wait_for_load_state()
    assert page.locator("#schools tbody tr").first.get_attribute("data-code") == "LQD"
    page.click("#schools thead a:has-text('Tỷ lệ thu')")
    page.wait_for_load_state()
    assert page.locator("#schools tbody tr").first.get_attribute("data-code") == "HSN"

    # A parent pays: the next look shows it.
    send_sepay(client, sepay_body(f"{province.lqd.codes['HS002']} hoc phi", 500_000))
    page.reload()
    assert cell(page, "LQD", "rate") == "66,7 %"
    assert page.locator("#total-collected").inner_text() == "1.800.000 đ"

    with page.expect_download() as download:
        page.click("#export-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()))
    sheet = book["Tổng hợp"]
    lines = [sheet.cell(row=r, column=1).value for r in range(1, 7)]
    assert lines[0].startswith("BÁO CÁO TÌNH HÌNH THU PHÍ")
    assert "Đơn vị: Thành phố Hà Nội" in lines
    assert any(line and line.startswith("Kỳ báo cáo: Tháng 9/2026") for line in lines)
    assert any(line and line.startswith("Ngày lập: ") for line in lines)
    names = [row[2].value for row in sheet.iter_rows(min_row=1) if row[1].value in ("LQD", "HSN")]
    assert sorted(names) == ["Trường Mầm non Hoa Sen", "Trường Tiểu học Lê Quý Đôn"]
    assert sorted(book.sheetnames) == ["Theo cấp học", "Theo tháng", "Theo xã phường",
                                       "Tổng hợp"]

    with page.expect_download() as download:
        page.click("#export-pdf")
    with open(download.value.path(), "rb") as handle:
        pdf = handle.read()
    if SHOTS:
        with open(os.path.join(SHOTS, "authority-overview.pdf"), "wb") as handle:
            handle.write(pdf)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "BÁO CÁO TÌNH HÌNH THU PHÍ KHÔNG DÙNG TIỀN MẶT" in text
    assert "Đơn vị: Thành phố Hà Nội" in text and "Tháng 9/2026" in text
    assert "Trường Tiểu học Lê Quý Đôn" in text and "1.800.000" in text

    # Drill-down: grades and classes, no names.
    page.click("#schools tr[data-code=LQD] a")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Trường Tiểu học Lê Quý Đôn"
    assert page.locator("#collected").inner_text() == "1.000.000 đ"
    assert "1A" in page.locator("#by-class").inner_text()
    assert page.locator("text=Nguyễn Thị Ánh Dương").count() == 0
    shot(page, "authority-school")

    # English.
    page.goto(f"{live_server}/quan-ly/?period=2026-09")
    page.click("button[value=en]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Cashless fee collection"
    assert "Schools" in page.locator("#schools").locator("..").inner_text()
    shot(page, "authority-overview-en")
    context.close()
