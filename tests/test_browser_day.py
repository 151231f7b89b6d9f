"""An accountant's day and the principal's, in a real headless Chromium (both engines):

* the accountant uploads the bank statement; its result page lists what it added and links
  the line that waits for a person;
* that line's memo has a mistyped code: the right child is suggested first; the accountant
  finds the child by name, places the money and credits the remainder;
* the student page shows it; the receipt reprints (its PDF text is read);
* the principal opens the dashboard (the money is there) and exports the arrears list (the
  XLSX is read).

Screenshots of each step go to ``$TUITION_SCREENSHOTS`` when it is set (to look at them)."""

from __future__ import annotations

import io
import subprocess

from openpyxl import load_workbook

from tests.helpers import assert_ledger_ok
from tests.test_browser_review import PASSWORD, shoot
from tuition.services.schools import get_school


def sign_in(browser, live_server, email: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900},
                               accept_downloads=True).new_page()
    page.goto(f"{live_server}/dang-nhap")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_the_accountants_day_and_the_principals(billed, make_staff, live_server, browser,
                                                tmp_path):
    school = get_school("LQD")
    accountant = make_staff("accountant", school)
    principal = make_staff("principal", school)
    code = billed.codes["HS003"]
    i = next(i for i in range(3, len(code) - 1) if code[i] != code[i + 1])
    typed = code[:i] + code[i + 1] + code[i] + code[i + 2:]
    statement = tmp_path / "sao-ke-thang-9.csv"
    statement.write_text(
        "Ngày giao dịch,Số tiền,Nội dung,Số tham chiếu\n"
        f"05/09/2026,500000,{billed.codes['HS001']} hoc phi be Duong,FT26DAY0001\n"
        f"06/09/2026,700000,{typed} hoc phi T9 LE VAN TAM,FT26DAY0002\n", encoding="utf-8")

    page = sign_in(browser, live_server, accountant.email)
    page.goto(f"{live_server}/app/LQD/sao-ke")
    page.set_input_files("input[name=file]", str(statement))
    page.click("text=Tải lên và đối soát")
    page.wait_for_load_state()
    summary = page.locator("#upload-summary").inner_text()
    assert "2 giao dịch mới (1 đã khớp hóa đơn, 1 chờ xử lý" in summary
    shoot(page, "day-1-statement-result")

    page.click("#upload-added a.review-link")
    page.wait_for_load_state()
    first = page.locator("table.suggestions tbody tr").first
    assert "Lê Bảo Ngọc" in first.inner_text() and f"Mã gần giống {code}" in first.inner_text()
    shoot(page, "day-2-transfer")
    page.fill("form.find input[name=tim]", "Lê Bảo Ngọc")
    page.click("form.find button[type=submit]")
    page.wait_for_load_state()
    page.click(f"button[name=pick][value={code}]")
    page.wait_for_load_state()
    page.locator("form.remainder button").click()
    page.wait_for_load_state()
    shoot(page, "day-3-placed")

    page.goto(f"{live_server}/app/LQD/hoc-sinh/HS003")
    assert page.locator("#student-credit").inner_text() == "200.000 đ"
    shoot(page, "day-4-student")
    reprint = page.locator("#bien-lai a", has_text="In lại").first.get_attribute("href")
    pdf = page.request.get(f"{live_server}{reprint}")
    assert pdf.ok
    (tmp_path / "bien-lai.pdf").write_bytes(pdf.body())
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "bien-lai.pdf"), "-"],
                          check=True, capture_output=True, text=True).stdout
    assert "BIÊN LAI THU TIỀN" in text.upper() and "Lê Bảo Ngọc" in text
    assert "500.000" in text and "FT26DAY0002" in text

    boss = sign_in(browser, live_server, principal.email)
    boss.goto(f"{live_server}/app/LQD/tong-quan?period=2026-09")
    assert boss.locator("#collected").inner_text() == "1.000.000 đ"
    shoot(boss, "day-5-dashboard")
    boss.goto(f"{live_server}/app/LQD/cong-no?period=2026-09")
    shoot(boss, "day-6-arrears")
    with boss.expect_download() as download:
        boss.click("text=Excel (XLSX)")
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    cells = [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value]
    assert "Nguyễn Minh Khôi" in cells  # HS002 still owes September
    assert "Lê Bảo Ngọc" not in cells and "Nguyễn Thị Ánh Dương" not in cells
    assert_ledger_ok()
