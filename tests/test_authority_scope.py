"""Who sees what: an authority sees its own province or ward, only in aggregate, read only;
school staff never see the authority's pages; and the authority sees nothing of any school
anywhere else (every staff page and API route is walked)."""

from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.authority_world import (
    AN_DONG,
    BA_DINH,
    HANOI,
    HOAN_KIEM,
    PASSWORD,
    authority,
    province,  # noqa: F401  (fixture)
)
from tests.conftest import csrf_token
from tests.helpers import ROSTER, send_sepay, sepay_body
from tuition.extensions import db
from tuition.models import Allocation, BankTransaction, Invoice, Receipt
from tuition.services.schools import get_school

#: Everything personal the roster and invoices hold, which no authority may ever read.
PERSONAL = [value for line in ROSTER.splitlines()[1:] for value in line.split(",")
            if not re.fullmatch(r"[\d/]+|\d[A-Z]", value)] + [
    "Trần Thu Hà", "Phạm Gia Huy", "Vũ Minh Châu", "HS001", "MN01", "TH01"]


def readable(response) -> str:
    """What a response says, as text: JSON, HTML, XLSX cells or PDF text."""
    kind = response.mimetype
    if kind == "application/pdf":
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    if kind.endswith("spreadsheetml.sheet"):
        book = load_workbook(io.BytesIO(response.data))
        return "\n".join(str(cell.value) for sheet in book for row in sheet.iter_rows()
                         for cell in row if cell.value is not None)
    return response.get_data(as_text=True)


def assert_nothing_personal(text: str, invoice_codes) -> None:
    for value in [*PERSONAL, *invoice_codes]:
        assert value not in text, f"{value!r} shown to an authority"


@pytest.fixture
def paid(client, province):  # noqa: F811
    for _school, codes, key, account in (
            ("LQD", province.lqd.codes, None, None),
            ("HSN", province.hsn.codes, "sepay-key-hoa-sen-0123456789", "1122334455")):
        for student, code in codes.items():
            body = sepay_body(f"{code} {student}", 100_000, **(
                {"account": account} if account else {}))
            send_sepay(client, body, **({"key": key} if key else {}))
    return province


def all_invoice_codes():
    return list(db.session.scalars(db.select(Invoice.code)))


def test_a_ward_authority_sees_its_ward_only_and_nothing_personal(paid, api, client,
                                                                   staff_login):
    user, token = authority(ward_code=BA_DINH)
    reader = api(token)
    report = reader.get("/authority/overview?period=2026-09").get_json()
    assert [s["code"] for s in report["schools"]] == ["LQD"]
    assert [g["label"] for g in report["by_ward"]] == ["Phường Ba Đình"]
    assert report["totals"]["expected_vnd"] == 1_500_000
    # Another ward of the province, another province: refused or not found, never shown.
    assert reader.get(f"/authority/overview?ward={HOAN_KIEM}").status_code == 403
    assert reader.get(f"/authority/overview?ward={AN_DONG}").status_code == 422
    moved = reader.get("/authority/overview?province=79").get_json()
    assert [s["code"] for s in moved["schools"]] == ["LQD"]  # the scope is the user's own
    for code in ("HSN", "NTT", "NOPE"):
        assert reader.get(f"/authority/schools/{code}/dashboard").status_code == 404
    drill = reader.get("/authority/schools/LQD/dashboard?period=2026-09")
    assert drill.status_code == 200
    assert [c["class"] for c in drill.get_json()["by_class"]] == ["1A", "2A"]

    browser = staff_login(user.email, PASSWORD)
    answers = [
        reader.get("/authority/overview?period=2026-09"),
        reader.get("/authority/overview?format=xlsx"),
        reader.get("/authority/overview?format=pdf"),
        drill,
        browser.get("/quan-ly/?period=2026-09"),
        browser.get("/quan-ly/tong-hop.xlsx"),
        browser.get("/quan-ly/tong-hop.pdf"),
        browser.get("/quan-ly/truong/LQD?period=2026-09"),
    ]
    for response in answers:
        assert response.status_code == 200, response.request.path
        text = readable(response)
        assert_nothing_personal(text, all_invoice_codes())
        assert "Hoa Sen" not in text and "Nguyễn Trãi" not in text
    assert browser.get("/quan-ly/truong/HSN").status_code == 404
    assert browser.get("/quan-ly/truong/NTT").status_code == 404


def test_a_province_authority_sees_every_ward_of_its_province_only(paid, api):
    _, token = authority(province_code=HANOI)
    reader = api(token)
    report = reader.get("/authority/overview").get_json()
    assert sorted(s["code"] for s in report["schools"]) == ["HSN", "LQD"]
    assert reader.get("/authority/schools/HSN/dashboard").status_code == 200
    assert reader.get("/authority/schools/NTT/dashboard").status_code == 404
    text = json.dumps(report, ensure_ascii=False) + readable(
        reader.get("/authority/overview?format=xlsx"))
    assert_nothing_personal(text, all_invoice_codes())
    assert "Nguyễn Trãi" not in text


def test_school_staff_cannot_open_the_authority_view(paid, api, make_user, make_staff,
                                                     staff_login, client):
    school = get_school("LQD")
    for role in ("principal", "accountant"):
        _, token = make_user(role, school)
        assert api(token).get("/authority/overview").status_code == 403
        assert api(token).get("/authority/schools/LQD/dashboard").status_code == 403
        browser = staff_login(make_staff(role, school).email, PASSWORD)
        assert browser.get("/quan-ly/").status_code == 403
        assert browser.get("/quan-ly/tong-hop.xlsx").status_code == 403
    assert client.get("/api/v1/authority/overview").status_code == 401
    signed_out = client.get("/quan-ly/")
    assert signed_out.status_code == 302 and "/dang-nhap" in signed_out.location


def _sample_values(paid) -> dict:
    """A real value for every URL parameter, so each route reaches its access check."""
    return {
        "school_code": "LQD", "code": "LQD", "student_code": "HS001", "item_code": "HOCPHI",
        "invoice_code": paid.lqd.codes["HS001"],
        "fmt": "xlsx", "token": "x",
        "payment_id": db.session.scalar(db.select(BankTransaction.id)),
        "txn_id": db.session.scalar(db.select(BankTransaction.id)),
        "allocation_id": db.session.scalar(db.select(Allocation.id)),
        "receipt_id": db.session.scalar(db.select(Receipt.id)),
        "account_id": get_school("LQD").bank_accounts[0].id,
    }


def _placeholder(rule, name: str):
    """A value for a URL parameter the sample does not name: one of an ``any(...)``
    converter's words, else 1 for a number and "x" for text."""
    from werkzeug.routing import AnyConverter, IntegerConverter

    converter = rule._converters[name]
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return 1 if isinstance(converter, IntegerConverter) else "x"


#: Open to anyone (the API's description) or the authority's own.
ALLOWED = {"api.openapi", "api.authority_overview", "api.authority_school",
           "staff.home", "api.me", "api.rotate_my_token"}  # the last two: their own account


def test_every_staff_page_and_api_route_refuses_an_authority(paid, app, api, staff_login):
    user, token = authority(province_code=HANOI)
    reader = api(token)
    browser = staff_login(user.email, PASSWORD)
    csrf = csrf_token(browser.get("/doi-mat-khau").get_data(as_text=True))
    values = _sample_values(paid)
    invoice_code = paid.lqd.codes["HS001"]
    walked = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(("staff.", "api.")) or rule.endpoint in ALLOWED:
            continue
        args = {name: values[name] if name in values else _placeholder(rule, name)
                for name in rule.arguments}
        if rule.rule.startswith("/api/v1/invoices/"):
            args["code"] = invoice_code
        with app.test_request_context():
            path = app.url_for(rule.endpoint, **args)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint.startswith("api."):
                # A plausible body, so that the request gets past validation to the access check.
                response = app.test_client().open(
                    path, method=method, headers=reader.headers,
                    json=None if method == "GET" else {"reason": "Thử", "ward_code": BA_DINH})
            else:
                response = browser.open(path, method=method, data={
                    "csrf_token": csrf, "reason": "Thử"} if method == "POST" else None)
            walked.append((method, path, response.status_code))
            assert response.status_code in (403, 404), (method, path, response.status_code,
                                                        response.get_data(as_text=True)[:300])
            others = [c for c in all_invoice_codes() if c not in path]
            # The refused page may echo the address asked for (its language switch returns
            # there): what the authority typed is not shown to them by the app.
            assert_nothing_personal(response.get_data(as_text=True).replace(path, ""), others)
    assert len(walked) > 60
    # The staff app's home sends an authority to its own pages.
    home = browser.get("/app/")
    assert home.status_code == 302 and home.location.endswith("/quan-ly/")



def test_an_admin_looks_at_any_province_and_places_schools(paid, api, client, make_user):
    from tuition.services import users

    _user, token = users.create_user(None, email="root@test.vn", role="admin")
    db.session.commit()
    root = api(token)
    hcmc = root.get("/authority/overview?province=79").get_json()
    assert [s["code"] for s in hcmc["schools"]] == ["NTT"]
    assert root.get("/authority/overview?province=2").status_code == 422  # no such province

    def place(who: str, ward: int):
        return client.put("/api/v1/schools/NTT/place", json={"ward_code": ward},
                          headers={"Authorization": f"Bearer {who}"})

    # NTT moves to a ward of Hà Nội: Hà Nội's authority sees it at once.
    moved = place(token, BA_DINH)
    assert moved.status_code == 200 and moved.get_json()["ward_code"] == BA_DINH
    _, hanoi = authority(province_code=HANOI)
    schools = api(hanoi).get("/authority/overview").get_json()["schools"]
    assert sorted(s["code"] for s in schools) == ["HSN", "LQD", "NTT"]
    assert place(token, 99999).status_code == 422
    _, accountant = make_user("accountant", get_school("NTT"))
    assert place(accountant, AN_DONG).status_code == 403
    assert place(hanoi, AN_DONG).status_code == 403
