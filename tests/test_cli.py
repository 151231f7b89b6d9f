"""The `flask tuition ...` commands, run through Flask's CLI runner."""

from __future__ import annotations

from pypdf import PdfReader

from tests.helpers import ROSTER
from tuition.extensions import db
from tuition.models import Invoice, Student


def test_create_user_prints_a_working_token_last(runner, make_school, api):
    make_school()
    result = runner.invoke(args=["tuition", "create-user", "--email", "KeToan@Truong.vn",
                                 "--role", "accountant", "--school", "LQD"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("tu_")
    assert api(token).get("/schools/LQD/students").status_code == 200
    again = runner.invoke(args=["tuition", "create-user", "--email", "ketoan@truong.vn",
                                "--role", "accountant", "--school", "LQD"])
    assert again.exit_code == 1 and "đã được dùng" in again.output
    no_school = runner.invoke(args=["tuition", "create-user", "--email", "x@y.vn",
                                    "--role", "principal"])
    assert no_school.exit_code == 1 and "--school" in no_school.output


def test_import_bill_and_print_notices(runner, make_school, tmp_path, api, make_user):
    school = make_school()
    _, token = make_user("accountant", school)
    api(token).post("/schools/LQD/fee-items", json={
        "code": "HOCPHI", "name": "Học phí", "amount_vnd": 400000, "unit": "month"})
    roster = tmp_path / "danh-sach.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    imported = runner.invoke(args=["tuition", "import-students", "--school", "LQD", str(roster)])
    assert imported.exit_code == 0, imported.output
    assert "3 mới" in imported.output
    assert db.session.query(Student).count() == 3

    bad = tmp_path / "sai.csv"
    bad.write_text(ROSTER + "HS009,,01/01/2019,1A,,\n", encoding="utf-8")
    refused = runner.invoke(args=["tuition", "import-students", "--school", "LQD", str(bad)])
    assert refused.exit_code == 1 and "dòng 5" in refused.output
    assert db.session.query(Student).count() == 3

    base = ["tuition", "bill", "--school", "LQD", "--period", "2026-09", "--items", "HOCPHI",
            "--due", "2026-09-15"]
    preview = runner.invoke(args=[*base, "--preview"])
    assert preview.exit_code == 0 and "Sẽ lập 3 hóa đơn" in preview.output
    assert "1.200.000 đ" in preview.output
    assert db.session.query(Invoice).count() == 0
    issued = runner.invoke(args=base)
    assert issued.exit_code == 0 and "Đã lập 3 hóa đơn" in issued.output
    again = runner.invoke(args=base)
    assert again.exit_code == 0 and "Không lập hóa đơn nào cho Tháng 9/2026" in again.output

    out = tmp_path / "thong-bao.pdf"
    printed = runner.invoke(args=["tuition", "notices", "--school", "LQD", "--period",
                                  "2026-09", "--layout", "a4", "-o", str(out)])
    assert printed.exit_code == 0, printed.output
    pages = PdfReader(str(out)).pages
    assert len(pages) == 3
    assert "Nguyễn Thị Ánh Dương" in "".join(page.extract_text() for page in pages)


def test_bill_refuses_unknown_items(runner, make_school):
    make_school()
    result = runner.invoke(args=["tuition", "bill", "--school", "LQD", "--period", "2026-09",
                                 "--items", "NOPE", "--due", "2026-09-15"])
    assert result.exit_code == 1 and "NOPE" in result.output


def test_demo_loads_once_with_a_balanced_ledger(runner, ctx):
    result = runner.invoke(args=["tuition", "demo", "--students", "80"])
    assert result.exit_code == 0, result.output
    assert "Trường Liên cấp Hoa Sen" in result.output
    assert result.output.count("tu_") == 3
    assert db.session.query(Student).count() >= 60
    assert db.session.query(Invoice).filter(Invoice.status == "paid").count() > 0
    ledger = runner.invoke(args=["tuition", "verify-ledger"])
    assert ledger.exit_code == 0 and "DEMO: OK" in ledger.output
    again = runner.invoke(args=["tuition", "demo"])
    assert again.exit_code == 0 and "đã có sẵn" in again.output
