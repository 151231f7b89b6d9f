"""Onboarding a province's schools from one Excel list: schools, accounts, accountants and
their sign-in invitations, all or nothing; then each accountant sets a password through a
link that works once and for 72 hours. Never a password in a file."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from datetime import timedelta

import pytest
from openpyxl import Workbook

from tests.authority_world import BA_DINH, HANOI, HOAN_KIEM, PASSWORD
from tests.conftest import csrf_token
from tests.smtp_standin import SmtpStandIn
from tuition.core import clock
from tuition.extensions import db
from tuition.models import Invitation, School, User
from tuition.services import invitations

HEADERS = ["STT", "Mã trường", "Tên trường", "Cấp học", "Xã/phường", "Mã số thuế",
           "Ngân hàng", "Số tài khoản", "Email kế toán", "Họ tên kế toán"]
GOOD = [
    [1, "THBD", "Trường Tiểu học Ba Đình", "Tiểu học", "Phường Ba Đình", "0101111111",
     "Vietcombank", "0011009998887", "ketoan.thbd@example.edu.vn", "Lê Thị Hoa"],
    [2, "MNHK", "Trường Mầm non Hoàn Kiếm", "Mầm non", "00070", None, 970415,
     "'102030405060", "KeToan.MNHK@example.edu.vn", None],
    [3, "LCTH", "Trường Liên cấp Thăng Long", "Tiểu học, THCS", "ba dinh", "0102222222",
     "VCB", "0011007776665", "ketoan.lcth@example.edu.vn", "Trần Văn Minh"],
]


def xlsx(rows, headers=HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def admin_browser(make_staff, staff_login):
    return staff_login(make_staff("admin").email, PASSWORD)


def upload(browser, data: bytes, province=HANOI, name="danh-sach-truong.xlsx"):
    token = csrf_token(browser.get("/app/quan-tri/nhap-truong").get_data(as_text=True))
    return browser.post("/app/quan-tri/nhap-truong", data={
        "csrf_token": token, "province": str(province), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data")


def links_of(html: str) -> dict[str, str]:
    rows = re.findall(r"<td>([A-Z0-9]+)</td><td>[^<]*</td><td>([^<]+)</td>\s*"
                      r'<td><code class="invite-link">([^<]+)</code>', html)
    return {email: link for _code, email, link in rows}


def test_a_good_list_creates_schools_accounts_accountants_and_invitations(admin_browser):
    response = upload(admin_browser, xlsx(GOOD))
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    html = response.get_data(as_text=True)
    links = links_of(html)
    assert set(links) == {"ketoan.thbd@example.edu.vn", "ketoan.mnhk@example.edu.vn",
                          "ketoan.lcth@example.edu.vn"}
    assert all(link.startswith("https://hocphi.example.vn/moi/") for link in links.values())
    found = {s.code: s for s in db.session.scalars(db.select(School))}
    assert (found["THBD"].province_code, found["THBD"].ward_code) == (HANOI, BA_DINH)
    assert found["MNHK"].ward_code == HOAN_KIEM and found["MNHK"].level_list == ["mam_non"]
    assert found["LCTH"].level_list == ["tieu_hoc", "thcs"]
    assert found["MNHK"].bank_accounts[0].bin == "970415"
    assert found["MNHK"].bank_accounts[0].account_number == "102030405060"
    assert found["THBD"].bank_accounts[0].account_name == "TRUONG TIEU HOC BA DINH"
    accountants = {u.email: u for u in db.session.scalars(
        db.select(User).where(User.role == "accountant"))}
    assert accountants["ketoan.thbd@example.edu.vn"].school_id == found["THBD"].id
    assert accountants["ketoan.thbd@example.edu.vn"].name == "Lê Thị Hoa"
    # Nobody has a password yet, and only the tokens' hashes are stored.
    assert all(u.password_hash is None for u in accountants.values())
    stored = set(db.session.scalars(db.select(Invitation.token_hash)))
    for link in links.values():
        token = link.rsplit("/", 1)[1]
        assert hashlib.sha256(token.encode()).hexdigest() in stored
        assert token not in stored
    # The same list as CSV, to send on; it holds links, never a password.
    data_link = re.search(r'href="data:text/csv;base64,([^"]+)"', html).group(1)
    table = base64.b64decode(data_link).decode("utf-8-sig")
    assert "Email kế toán" in table and all(link in table for link in links.values())
    assert "mật khẩu" not in table.split("\n", 1)[1].lower()


def test_every_bad_row_is_listed_and_nothing_is_created(admin_browser, billed):
    before = db.session.scalar(db.select(db.func.count(School.id)))
    bad = [
        GOOD[0],
        [2, "THBD", "Trường trùng mã", "Tiểu học", "Ba Đình", None, "VCB", "0011000000001",
         "a@example.edu.vn", None],
        [3, "XA", "Trường ở tỉnh khác", "THCS", "Phường An Đông", None, "VCB",
         "0011000000002", "b@example.edu.vn", None],
        [4, "NOBANK", "Trường không rõ ngân hàng", "Tiểu học", "Ba Đình", None,
         "Ngân hàng Mặt Trăng", "0011000000003", "c@example.edu.vn", None],
        [5, "TAKEN", "Trường dùng tài khoản của trường khác", "Tiểu học", "Ba Đình", None,
         "VCB", "0011001234567", "d@example.edu.vn", None],
        [6, "BADLVL", "Trường đại học", "Đại học", "Ba Đình", "123", "VCB", "0011000000004",
         "not-an-email", None],
    ]
    response = upload(admin_browser, xlsx(bad))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>',
                        html)
    listed = {(int(row), column) for row, column, _message in errors}
    assert {(3, "Mã trường"), (4, "Xã/phường"), (5, "Ngân hàng"), (7, "Cấp học"),
            (7, "Mã số thuế"), (7, "Email kế toán")} <= listed
    assert any("không thuộc" in m or "Không có xã/phường" in m for _r, _c, m in errors)
    assert db.session.scalar(db.select(db.func.count(School.id))) == before
    # The file's own errors fixed, the account number already used by LQD is refused.
    response = upload(admin_browser, xlsx([GOOD[0], bad[4]]))
    assert response.status_code == 422
    assert "0011001234567" in response.get_data(as_text=True)
    assert "LQD" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(School.id))) == before


def test_only_an_admin_onboards(billed, make_staff, staff_login):
    from tuition.services.schools import get_school

    accountant = staff_login(make_staff("accountant", get_school("LQD")).email, PASSWORD)
    assert accountant.get("/app/quan-tri/nhap-truong").status_code == 403
    assert accountant.get("/app/quan-tri/mau-danh-sach-truong.xlsx").status_code == 403


def test_the_template_reads_back_as_a_valid_list(admin_browser):
    from tuition.importing.schools import parse_school_list

    template = admin_browser.get("/app/quan-tri/mau-danh-sach-truong.xlsx")
    assert template.status_code == 200
    (row,) = parse_school_list(template.data, "mau.xlsx", province_code=HANOI)
    assert (row.code, row.ward_code, row.bin) == ("THLQD", BA_DINH, "970436")


def test_an_accountant_sets_a_password_once_through_the_link(admin_browser, app):
    links = links_of(upload(admin_browser, xlsx(GOOD[:1])).get_data(as_text=True))
    link = links["ketoan.thbd@example.edu.vn"].replace("https://hocphi.example.vn", "")
    newcomer = app.test_client()
    page = newcomer.get(link)
    assert page.status_code == 200
    assert "ketoan.thbd@example.edu.vn" in page.get_data(as_text=True)
    token = csrf_token(page.get_data(as_text=True))
    short = newcomer.post(link, data={"csrf_token": token, "password": "ngan",
                                      "password_again": "ngan"})
    assert short.status_code == 422
    differ = newcomer.post(link, data={"csrf_token": token, "password": "mat-khau-moi-123",
                                       "password_again": "mat-khau-moi-124"})
    assert differ.status_code == 422
    done = newcomer.post(link, data={"csrf_token": token, "password": "mat-khau-moi-123",
                                     "password_again": "mat-khau-moi-123"})
    assert done.status_code == 302
    assert newcomer.get("/app/").status_code == 302  # signed in: sent to the school's page
    assert newcomer.get("/app/THBD/hoc-sinh").status_code == 200
    # Used: the link now says so, and cannot set a password again.
    again = app.test_client().get(link)
    assert again.status_code == 410 and 'data-state="used"' in again.get_data(as_text=True)
    # The password works at the sign-in form.
    fresh = app.test_client()
    form = csrf_token(fresh.get("/dang-nhap").get_data(as_text=True))
    assert fresh.post("/dang-nhap", data={"email": "ketoan.thbd@example.edu.vn",
                                          "password": "mat-khau-moi-123",
                                          "csrf_token": form}).status_code == 302


def test_expired_revoked_and_unknown_links_say_so(admin_browser, app, monkeypatch):
    links = links_of(upload(admin_browser, xlsx(GOOD[:2])).get_data(as_text=True))
    first = links["ketoan.thbd@example.edu.vn"].replace("https://hocphi.example.vn", "")
    second = links["ketoan.mnhk@example.edu.vn"].replace("https://hocphi.example.vn", "")
    visitor = app.test_client()
    # The admin sends the first accountant a new link: the old one stops working.
    token = csrf_token(admin_browser.get("/app/").get_data(as_text=True))
    reissued = admin_browser.post("/app/quan-tri/moi-lai", data={
        "csrf_token": token, "email": "ketoan.thbd@example.edu.vn"}, follow_redirects=True)
    new_link = re.search(r"https://hocphi\.example\.vn(/moi/[\w-]+)",
                         reissued.get_data(as_text=True)).group(1)
    revoked = visitor.get(first)
    assert revoked.status_code == 410 and 'data-state="revoked"' in revoked.get_data(
        as_text=True)
    assert visitor.get(new_link).status_code == 200
    # 72 hours and a minute later (00:41 in Vietnam), both are expired.
    later = clock.now_utc() + invitations.LIFETIME + timedelta(minutes=1)
    monkeypatch.setattr(clock, "now_utc", lambda: later)
    for path in (second, new_link):
        expired = visitor.get(path)
        assert expired.status_code == 410
        assert 'data-state="expired"' in expired.get_data(as_text=True)
        assert "hết hạn" in expired.get_data(as_text=True)
    unknown = visitor.get("/moi/khong-co-lien-ket-nay")
    assert unknown.status_code == 404 and 'data-state="unknown"' in unknown.get_data(
        as_text=True)


def test_invitations_are_emailed_when_smtp_is_configured(admin_browser, app, monkeypatch):
    with SmtpStandIn() as server:
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", server.port)
        monkeypatch.setitem(app.config, "SMTP_SENDER", "hocphi@so-gd.example.vn")
        response = upload(admin_browser, xlsx(GOOD))
        assert response.status_code == 200
        links = links_of(response.get_data(as_text=True))
    assert len(server.received) == 3
    by_recipient = {to[0]: message for _from, to, message in server.received}
    message = by_recipient["ketoan.mnhk@example.edu.vn"]
    body = message.get_content()
    assert links["ketoan.mnhk@example.edu.vn"] in body
    assert "Trường Mầm non Hoàn Kiếm" in body and "một lần" in body
    assert "hocphi@so-gd.example.vn" in message["From"]
    assert "Lời mời" in message["Subject"]
