"""The audit log records sign-in, sign-out, failed sign-in, rematch (web, API, CLI) and every
change of a guardian's phone (import and form) with the old and the new number."""

from __future__ import annotations

import io

from sqlalchemy import select

from tests.conftest import csrf_token
from tests.helpers import ROSTER
from tuition.extensions import db
from tuition.models import AuditEvent, Student
from tuition.services import schools

PASSWORD = "mat-khau-rat-dai-123"


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def test_sign_in_sign_out_and_failures_are_audited(app, make_school, make_staff):
    school = make_school()
    user = make_staff("accountant", school)
    browser = app.test_client()
    page = csrf_token(browser.get("/dang-nhap").get_data(as_text=True))
    agent = {"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/131"}
    browser.post("/dang-nhap", headers=agent, data={
        "email": user.email, "password": "sai-mat-khau-123", "csrf_token": page})
    browser.post("/dang-nhap", data={
        "email": "ai-do@nowhere.vn", "password": "doan-mo-123", "csrf_token": page})
    browser.post("/dang-nhap", headers=agent, data={
        "email": user.email.upper(), "password": PASSWORD, "csrf_token": page})
    browser.post("/dang-xuat", data={
        "csrf_token": csrf_token(browser.get("/tai-khoan").get_data(as_text=True))})

    known, unknown = events("auth.sign_in_failed")
    assert (known.school_id, known.actor_id, known.subject) == (school.id, None,
                                                                f"user:{user.email}")
    assert known.details["ip"] == "127.0.0.1" and "Chrome/131" in known.details["user_agent"]
    assert (unknown.school_id, unknown.subject, unknown.details["email"]) == (
        None, "user:?", "ai-do@nowhere.vn")
    signed_in, = events("auth.sign_in")
    assert (signed_in.actor_id, signed_in.school_id) == (user.id, school.id)
    signed_out, = events("auth.sign_out")
    assert signed_out.actor_id == user.id

    reader = app.test_client()
    reader.post("/dang-nhap", data={
        "email": user.email, "password": PASSWORD,
        "csrf_token": csrf_token(reader.get("/dang-nhap").get_data(as_text=True))})
    log = reader.get(f"/app/{school.code}/nhat-ky").get_data(as_text=True)
    for label in ("Đăng nhập sai", "Đăng nhập", "Đăng xuất"):
        assert label in log


def test_rematch_is_audited_from_the_web_the_api_and_the_cli(billed, make_staff, staff_login,
                                                             runner):
    school = schools.get_school("LQD")
    browser = staff_login(make_staff("accountant", school).email, PASSWORD)
    queue = "/app/LQD/cho-xu-ly"
    browser.post(f"{queue}/ghep-lai", data={"csrf_token": browser.csrf(queue)})
    assert billed.post("/schools/LQD/payments/rematch").status_code == 200
    assert runner.invoke(args=["tuition", "rematch", "--school", "LQD"]).exit_code == 0
    found = events("payments.rematch")
    assert len(found) == 3
    assert {e.subject for e in found} == {"school:LQD"}
    assert [e.actor_id is None for e in found] == [False, False, True]
    assert all(e.details["matched"] == 0 for e in found)


def test_roster_import_records_each_changed_guardian_phone(billed):
    changed = ROSTER.replace("HS003,Lê Bảo Ngọc,21/01/2019,1A,Lê Văn Tâm,0901234567",
                             "HS003,Lê Bảo Ngọc,21/01/2019,1A,Lê Văn Tâm,0987 654 321")
    changed += "HS004,Phạm Minh An,02/02/2019,1A,Phạm Văn Lâm,0911111111\n"
    response = billed.upload("/schools/LQD/students/import", changed.encode(), "ds.csv")
    assert response.status_code == 200, response.get_json()
    found = events("student.guardian_phone")
    assert [(e.subject, e.details) for e in found] == [
        ("student:HS003", {"old": "0901234567", "new": "0987654321", "via": "import"})]
    again = billed.upload("/schools/LQD/students/import", changed.encode(), "ds.csv")
    assert again.status_code == 200 and len(events("student.guardian_phone")) == 1


def test_editing_a_guardian_phone_in_the_form_is_recorded(billed, make_staff, staff_login):
    browser = staff_login(make_staff("accountant", schools.get_school("LQD")).email, PASSWORD)
    student = db.session.scalar(select(Student).where(Student.code == "HS001"))
    path = "/app/LQD/hoc-sinh/HS001/sua"
    form = {"full_name": student.full_name, "date_of_birth": "2019-03-05",
            "classroom_id": str(student.classroom_id), "status": "studying",
            "guardian_name": student.guardian_name, "guardian_phone": "0912 000 111"}
    response = browser.post(path, data={"csrf_token": browser.csrf(path), **form})
    assert response.status_code == 302
    event, = events("student.guardian_phone")
    assert (event.subject, event.details) == (
        "student:HS001", {"old": "0912345678", "new": "0912000111", "via": "form"})
    log = browser.get("/app/LQD/nhat-ky").get_data(as_text=True)
    assert "Đổi số điện thoại phụ huynh" in log and "0912000111" in log
    # Changing something else leaves the phone's record alone.
    form["guardian_name"] = "Nguyễn Văn Bình An"
    browser.post(path, data={"csrf_token": browser.csrf(path), **form})
    assert len(events("student.guardian_phone")) == 1


def test_importing_from_the_staff_page_records_phones_too(billed, make_staff, staff_login):
    browser = staff_login(make_staff("accountant", schools.get_school("LQD")).email, PASSWORD)
    path = "/app/LQD/hoc-sinh/nhap"
    data = ROSTER.replace("0912345678", "0933333333")  # both children of Nguyễn Văn Bình
    response = browser.post(path, data={
        "csrf_token": browser.csrf(path), "file": (io.BytesIO(data.encode()), "ds.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    found = events("student.guardian_phone")
    assert sorted(e.subject for e in found) == ["student:HS001", "student:HS002"]
    assert {e.details["new"] for e in found} == {"0933333333"}
