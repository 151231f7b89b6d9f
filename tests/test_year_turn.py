"""The school year's turn (classes promoted from a previewed mapping; balances carried over,
nothing of last year rewritten) and opening balances brought in from Excel."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import text

from tests.helpers import assert_ledger_ok, invoice, send_sepay, sepay_body
from tuition.extensions import db
from tuition.models import BankTransaction, Classroom, Invoice, Receipt, Student, YearTurn
from tuition.services import ledger, schools
from tuition.services.year_turn import default_target


def this_year() -> str:
    return db.session.query(Classroom.school_year).first()[0]


def next_of(year: str) -> str:
    first = int(year[:4]) + 1
    return f"{first}-{first + 1}"


def preview(acct, **body):
    response = acct.post("/schools/LQD/year-turn", json={"preview": True, **body})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize(("name", "grade", "levels", "expected"), [
    ("1A", "1", "tieu_hoc", ("2A", True)),
    ("4A2", "4", "tieu_hoc", ("5A2", True)),
    ("5A", "5", "tieu_hoc", (None, True)),
    ("5A", "5", "tieu_hoc,thcs", ("6A", True)),
    ("9B", "9", "thcs", (None, True)),
    ("Mầm 1", "MGB", "mam_non", ("Chồi 1", True)),
    ("Chồi 2", "MGN", "mam_non", ("Lá 2", True)),
    ("Lá 1", "MGL", "mam_non", (None, True)),
    ("Sao Mai", "MGB", "mam_non", ("Sao Mai", False)),
])
def test_the_default_mapping_moves_each_class_up_a_grade(name, grade, levels, expected):
    school = SimpleNamespace(level_list=levels.split(","))
    assert default_target(name, grade, school) == expected


def test_the_preview_changes_nothing(billed):
    plan = preview(billed)
    year = this_year()
    assert (plan["from_year"], plan["to_year"]) == (year, next_of(year))
    assert [(c["class"], c["to"], c["students"]) for c in plan["classes"]] == [
        ("1A", "2A", 2), ("2A", "3A", 1)]
    assert plan["counts"] == {"promote": 3, "repeat": 0, "move": 0, "graduate": 0}
    assert plan["carried_debt_vnd"] == 1_500_000
    assert db.session.query(YearTurn).count() == 0
    assert {s.classroom.school_year for s in db.session.query(Student)} == {year}


def test_the_turn_moves_students_and_carries_balances_without_rewriting_last_year(
        client, billed, make_user):
    year = this_year()
    send_sepay(client, sepay_body(billed.codes["HS001"], 800_000))  # 300,000 credit
    send_sepay(client, sepay_body(billed.codes["HS003"], 200_000))  # 300,000 still owed
    options = {"from_year": year, "students": {"HS003": "1A", "HS002": "3B"}}
    plan = preview(billed, **options)
    actions = {s["student_code"]: (s["to"], s["action"]) for s in plan["students"]}
    assert actions == {"HS001": ("2A", "promote"), "HS002": ("3B", "move"),
                       "HS003": ("1A", "repeat")}
    principal = type(billed)(make_user("principal", schools.get_school("LQD"))[1])
    assert principal.post("/schools/LQD/year-turn", json={"preview": False}).status_code == 403
    assert principal.post("/schools/LQD/year-turn", json={}).status_code == 200
    before = {(i.code, i.period, i.total_vnd, i.paid_vnd, i.status)
              for i in db.session.query(Invoice)}
    old_classes = {(c.id, c.name, c.school_year) for c in db.session.query(Classroom)}

    done = billed.post("/schools/LQD/year-turn", json={"preview": False, **options})
    assert done.status_code == 201, done.get_json()
    assert (done.get_json()["carried_debt_vnd"], done.get_json()["carried_credit_vnd"]) == (
        800_000, 300_000)
    db.session.expire_all()
    placed = {s.code: (s.classroom.name, s.classroom.school_year, s.status)
              for s in db.session.query(Student)}
    new = next_of(year)
    assert placed == {"HS001": ("2A", new, "studying"), "HS002": ("3B", new, "studying"),
                      "HS003": ("1A", new, "studying")}
    # Last year's classes and invoices are exactly as they were.
    assert old_classes <= {(c.id, c.name, c.school_year) for c in db.session.query(Classroom)}
    assert before == {(i.code, i.period, i.total_vnd, i.paid_vnd, i.status)
                      for i in db.session.query(Invoice)}
    report = assert_ledger_ok()
    assert (report.carried_debt_vnd, report.carried_credit_vnd) == (800_000, 300_000)
    assert billed.post("/schools/LQD/year-turn",
                       json={"preview": False, **options}).status_code == 409
    # The new year bills the new classes; the credit carried pays it, the old debt stays.
    billed.post("/schools/LQD/billing-runs", json={
        "period": f"{new[:4]}-09", "fee_items": ["HOCPHI"], "due_date": f"{new[:4]}-09-15"})
    fresh = {i["student_code"]: i for i in
             billed.get(f"/schools/LQD/invoices?period={new[:4]}-09").get_json()["items"]}
    assert fresh["HS001"]["paid_vnd"] == 300_000 and fresh["HS001"]["class"] == "2A"
    assert invoice(billed, "HS003")["balance_vnd"] == 300_000
    assert_ledger_ok()


def test_a_graduating_class_leaves_and_its_debt_stays_visible_as_last_years(
        billed, make_staff, staff_login):
    year = this_year()
    done = billed.post("/schools/LQD/year-turn", json={
        "preview": False, "from_year": year, "classes": {"2A": None}})
    assert done.status_code == 201
    graduate = db.session.query(Student).filter_by(code="HS002").one()
    assert graduate.status == "left" and graduate.classroom.school_year == year
    accountant = make_staff("accountant", schools.get_school("LQD"))
    browser = staff_login(accountant.email, "mat-khau-rat-dai-123")
    page = browser.get("/app/LQD/hoc-sinh/HS001/tien").get_data(as_text=True)
    assert "năm học trước" in page and f"({year})" in page
    turn_page = browser.get("/app/LQD/ket-chuyen-nam-hoc").get_data(as_text=True)
    assert f"{year} → {next_of(year)}" in turn_page


def test_a_bad_class_name_in_the_plan_changes_nothing(billed):
    response = billed.post("/schools/LQD/year-turn", json={
        "preview": False, "students": {"HS001": "Lớp năng khiếu"}})
    assert response.status_code == 422
    assert response.get_json()["error"]["errors"][0]["student"] == "HS001"
    assert db.session.query(YearTurn).count() == 0


def test_the_ledger_check_recomputes_what_the_turn_carried(client, billed):
    send_sepay(client, sepay_body(billed.codes["HS001"], 200_000))
    billed.post("/schools/LQD/year-turn", json={"preview": False})
    assert_ledger_ok()
    # Someone rewrites last year's payment behind the books' back.
    db.session.execute(text("UPDATE allocations SET amount_vnd = 100000"))
    db.session.execute(text("UPDATE invoices SET paid_vnd = 100000 WHERE paid_vnd = 200000"))
    db.session.commit()
    problems = ledger.verify_school(schools.get_school("LQD")).problems
    assert any("student HS001 carried (300000, 0) but the records say (400000, 0)" in p
               for p in problems), problems


OPENING = (
    "Mã học sinh,Còn nợ,Dư có,Ghi chú\n"
    "HS001,1.200.000,,Học phí tháng 6-8 chưa nộp\n"
    "HS003,,200000,Nộp thừa năm trước\n"
)


def test_opening_balances_come_in_with_their_source_named(billed):
    response = billed.upload("/schools/LQD/opening-balances", OPENING.encode(), "so-du.csv",
                             source="Phần mềm MISA", school_year="2026-2027",
                             due_date="2026-09-30")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["debts"], body["debt_vnd"], body["credits"], body["credit_vnd"]) == (
        1, 1_200_000, 1, 200_000)
    debt = db.session.query(Invoice).filter_by(period="2026-2027-DK").one()
    assert (debt.student.code, debt.total_vnd, debt.status) == ("HS001", 1_200_000, "open")
    assert debt.lines[0].description == (
        "Số dư nợ đầu kỳ chuyển sang — nguồn: Phần mềm MISA (Học phí tháng 6-8 chưa nộp)")
    credit = db.session.query(BankTransaction).filter_by(provider="opening").one()
    assert "Phần mềm MISA" in credit.memo and credit.status == "credited"
    # Credit brought in pays what is open at once, with a receipt that says what it was.
    assert invoice(billed, "HS003")["paid_vnd"] == 200_000
    receipt = db.session.query(Receipt).one()
    assert receipt.content["method"] == "Trừ số dư có đầu kỳ chuyển sang"
    report = assert_ledger_ok()
    assert (report.opening_credit_vnd, report.received_vnd) == (200_000, 200_000)
    # Not money received: the channels leave it out.
    assert billed.get("/schools/LQD/reports/channels").get_json()["received_vnd"] == 0
    # The school year's dashboard counts the opening debt as expected.
    dash = billed.get("/schools/LQD/reports/dashboard?period=2026-2027").get_json()
    assert dash["totals"]["expected_vnd"] == 1_500_000 + 1_200_000
    detail = billed.get(f"/invoices/{debt.code}").get_json()
    assert detail["qr_payload"]
    again = billed.upload("/schools/LQD/opening-balances", OPENING.encode(), "so-du.csv",
                          source="MISA", school_year="2026-2027")
    assert again.status_code == 422
    assert {r["row"] for r in again.get_json()["error"]["rows"]} == {2, 3}


@pytest.mark.parametrize(("content", "form", "status"), [
    (OPENING, {"source": ""}, 422),
    (OPENING, {"source": "MISA", "school_year": "2026-2028"}, 422),
    ("Mã học sinh,Số dư\nHS001,-1.5\n", {"source": "MISA"}, 422),
    ("Mã học sinh,Ghi chú\nHS001,x\n", {"source": "MISA"}, 422),
    ("Mã học sinh,Số dư\nHS999,100000\n", {"source": "MISA"}, 422),
])
def test_bad_opening_balance_files_change_nothing(billed, content, form, status):
    response = billed.upload("/schools/LQD/opening-balances", content.encode(), "x.csv",
                             **{"school_year": "2026-2027", **form})
    assert response.status_code == status, response.get_json()
    assert db.session.query(Invoice).filter(Invoice.period.like("%-DK")).count() == 0
    assert db.session.query(BankTransaction).count() == 0
