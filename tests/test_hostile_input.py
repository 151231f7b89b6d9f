"""Hostile input, endpoint by endpoint: every API route, staff form, query parameter and webhook
gets huge numbers, floats, negatives, text where numbers belong, NUL, lone surrogates, 10 KB
strings, unknown enum values, wrong content types and methods. Each answer is a 4xx (never a
500) and nothing in the database changes; on PostgreSQL too (``DATABASE_URL``), where column
lengths and integer ranges are enforced.

Each test builds one school and walks a table of cases, collecting every failure, so one run
shows all that is wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import math
import time
from collections.abc import Iterable
from urllib.parse import quote

import pytest
from sqlalchemy import select, text

from tests.helpers import CASSO_KEY, KEY, payments_of, send_sepay, sepay_body
from tuition.extensions import db
from tuition.models import BankTransaction
from tuition.services import users

#: Values that no field should take as they are; a field lists those it may accept.
HOSTILE = {
    "10^20": 10**20,
    "2^63": 2**63,
    "-1": -1,
    "0": 0,
    "1.5": 1.5,
    "NaN": math.nan,
    "5000 digits": "@@DIGITS@@",  # written into the body as a bare 5,000-digit number
    "NUL": "An\x00",
    "lone surrogate": "An\ud800",
    "10 KB": "x" * 10_240,
    "text": "abc",
    "empty": "",
    "null": None,
    "list": [1],
    "object": {"a": 1},
    "true": True,
}
FORM_HOSTILE = {
    "10^20": "100000000000000000000",
    "2^63": str(2**63),
    "5000 digits": "9" * 5000,
    "-1": "-1",
    "1.5": "1,5",
    "NUL": "An\x00",
    "10 KB": "x" * 10_240,
    "text": "abc",
    "empty": "",
    "bad date": "31/02/2026",
}
QUERY_HOSTILE = ["bogus", "\x00", "9" * 5000, "100000000000000000000", "-1", "x" * 10_240,
                 "2026-13-45", "ừ"]


#: Part of the answer given when only the database refused a value (tuition/web/errors.py).
DATABASE_REFUSED = "có giá trị quá dài hoặc quá lớn"


def fingerprint(ignore: Iterable[str] = ()) -> dict[str, object]:
    """Every row of every table (small: one school), read on a fresh connection; on
    PostgreSQL as one digest per table, in one round trip."""
    tables = [t for t in db.metadata.sorted_tables if t.name not in set(ignore)]
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            query = " UNION ALL ".join(
                f"SELECT '{t.name}', md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), ''))"
                f" FROM {t.name} r" for t in tables)
            return dict(conn.execute(text(query)).all())
        return {t.name: [tuple(map(repr, row)) for row in conn.execute(
            select(t).order_by(*t.primary_key.columns)).all()] for t in tables}


class Probe:
    """Sends cases and records each that answered 5xx, answered 2xx/3xx when it should not,
    or changed the database."""

    def __init__(self, ignore: Iterable[str] = ()) -> None:
        self.ignore = tuple(ignore)
        self.failures: list[str] = []
        self.before = fingerprint(self.ignore)
        self.count = 0

    def check(self, label: str, response, *, ok_allowed: bool = False) -> None:
        self.count += 1
        status = response.status_code
        body = response.get_data().decode("utf-8", "replace")
        if status >= 500 or (status < 400 and not ok_allowed):
            self.failures.append(f"{label}: {status} {body[:160]}".replace("\n", " "))
        elif DATABASE_REFUSED in body:
            # The last-resort answer: the field should have been checked, with its own message.
            self.failures.append(f"{label}: only the database refused it")
        after = fingerprint(self.ignore)
        if after != self.before:
            changed = sorted(t for t in after if after[t] != self.before.get(t))
            self.failures.append(f"{label}: changed {changed}")
            self.before = after

    def done(self) -> None:
        assert self.count, "no case was sent"
        assert not self.failures, f"{len(self.failures)} of {self.count} cases:\n" + "\n".join(
            self.failures)


def json_text(body: dict) -> str:
    return json.dumps(body).replace('"@@DIGITS@@"', "9" * 5000)


def _get(body, path):
    for step in path:
        body = body[step]
    return body


def variants(body: dict, accepts: dict[str, set[str]]):
    """(label, body text) with one field at a time (nested: "a.b", "a[0].b") hostile."""
    def walk(value, path):
        if isinstance(value, dict):
            for key, inner in value.items():
                yield from walk(inner, (*path, key))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for key, inner in value[0].items():
                yield from walk(inner, (*path, 0, key))
        yield path

    for path in walk(body, ()):
        if not path:
            continue
        name = ".".join(str(p) for p in path)
        for kind, hostile in HOSTILE.items():
            if kind in accepts.get(name, set()) or hostile is _get(body, path):
                continue
            copy = json.loads(json.dumps(body))
            target = copy
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = hostile
            yield f"{name}={kind}", json_text(copy)


@pytest.fixture
def world(billed, client, make_user, make_staff, staff_login):
    """One school, three students with invoices, a matched payment (with its receipt), a
    payment waiting for review, staff signed in, tokens for every role."""
    acct = billed
    from tuition.services import schools

    school = schools.get_school("LQD")
    paid = sepay_body(f"HP {acct.codes['HS001']}", 500_000)
    assert send_sepay(client, paid).status_code == 200
    assert send_sepay(client, sepay_body("chuyen tien hoc", 200_000)).status_code == 200
    review = payments_of(acct, "review")[0]
    matched = payments_of(acct, "matched")[0]
    receipt = acct.get("/schools/LQD/receipts").get_json()["items"][0]
    admin, admin_token = users.create_user(None, email="root@test.vn", role="admin")
    db.session.commit()
    staff = make_staff("accountant", school)
    browser = staff_login(staff.email, "mat-khau-rat-dai-123")
    return {
        "acct": acct, "admin": admin_token, "browser": browser, "school": school,
        "review_id": review["id"], "allocation_id": matched["allocations"][0]["id"],
        "receipt_id": receipt["id"], "account_id": school.bank_accounts[0].id,
        "open_code": acct.codes["HS002"], "paid_code": acct.codes["HS001"],
    }


def _api(client, token: str, method: str, path: str, **kwargs):
    return client.open("/api/v1" + path, method=method,
                       headers={"Authorization": f"Bearer {token}"}, **kwargs)


# --- API: JSON bodies ------------------------------------------------------------------------

#: Scalars a text field may take as text: the services write them with str(), harmlessly.
AS_TEXT = {"text", "10^20", "2^63", "-1", "0", "1.5", "NaN", "true"}
#: A reason may be any short text.
REASON = {"reason": AS_TEXT}


def api_json_cases(w) -> list[tuple[str, str, dict, dict[str, set[str]], str]]:
    """(method, path, valid body, hostile kinds each field may accept, token key)."""
    open_code, review, allocation = w["open_code"], w["review_id"], w["allocation_id"]
    return [
        ("POST", "/schools", {
            "code": "MOI", "name": "Trường Mới", "level": ["tieu_hoc"], "address": "1 Phố",
            "tax_code": "0101234567", "phone": "024 1234 5678", "payment_prefix": "MQ",
            "bank_accounts": [{"bin": "970436", "account_number": "0099001234567",
                               "account_name": "TRUONG MOI"}],
        }, {"code": {"text"}, "address": {"empty", "null", "text"},
            "tax_code": {"empty", "null"}, "phone": {"empty", "null", "text"},
            "payment_prefix": AS_TEXT | {"empty", "null"}, "name": {"text"},
            "bank_accounts": {"empty", "null", "list", "0"},
            "bank_accounts.0.account_name": {"text"}}, "admin"),
        ("POST", "/schools/LQD/fee-items", {
            "code": "MOI", "name": "Khoản mới", "amount_vnd": 100_000, "unit": "month",
            "grades": ["1"], "classes": ["1A"], "mandatory": True,
        }, {"name": AS_TEXT | {"list", "object"}, "grades": {"empty", "null", "text", "list"},
            "classes": {"empty", "null", "text", "list", "10 KB", "0", "-1", "10^20", "2^63"},
            "code": AS_TEXT}, "acct"),
        ("POST", "/schools/LQD/billing-runs", {
            "period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15",
            "classes": ["1A"], "school_days": 20, "preview": False,
        }, {"classes": {"empty", "null"}, "school_days": {"null"}, "preview": {"true"}},
            "acct"),
        ("POST", f"/invoices/{open_code}/cancel", {"reason": "Nhập sai"}, REASON, "acct"),
        ("POST", f"/payments/{review}/allocations", {
            "allocations": [{"invoice_code": open_code, "amount_vnd": 100_000}],
            "reason": "Phụ huynh gọi điện",
        }, {**REASON, "allocations": {"empty", "null"}}, "acct"),
        ("POST", f"/payments/{review}/allocations", {
            "credit": {"student_code": "HS002", "amount_vnd": 100_000},
            "reason": "Ghi có cho học sinh",
        }, REASON, "acct"),
        ("POST", f"/allocations/{allocation}/reversal", {"reason": "Gán nhầm"}, REASON, "acct"),
        ("POST", f"/payments/{review}/set-aside", {"reason": "Không phải học phí"}, REASON,
         "acct"),
        ("POST", f"/receipts/{w['receipt_id']}/void", {
            "reason": "Sai tên", "replace": True, "payer_name": "Nguyễn Văn Bình",
        }, {**REASON, "payer_name": {"text", "null", "empty"}}, "acct"),
        ("PATCH", f"/schools/LQD/bank-accounts/{w['account_id']}", {
            "sepay_api_key": "k" * 32,
        }, {"sepay_api_key": {"null", "empty"}}, "acct"),
    ]


def test_api_json_bodies(world, client):
    probe = Probe()
    tokens = {"acct": world["acct"].headers["Authorization"].split()[1], "admin": world["admin"]}
    for method, path, body, accepts, who in api_json_cases(world):
        for label, body_text in variants(body, accepts):
            response = _api(client, tokens[who], method, path, data=body_text,
                            content_type="application/json")
            probe.check(f"{method} {path} {label}", response)
        for label, raw in [("not JSON", "{"), ("array", "[]"), ("deep", "[" * 50_000),
                           ("huge int", '{"a": ' + "9" * 5000 + "}"), ("NUL", '"\\u0000"')]:
            probe.check(f"{method} {path} {label}",
                        _api(client, tokens[who], method, path, data=raw,
                             content_type="application/json"))
        probe.check(f"{method} {path} as a form",
                    _api(client, tokens[who], method, path, data={"reason": "x"}))
    probe.done()


# --- Webhooks: unsigned is refused; signed is stored (cleaned, in review) unless impossible --


def _casso(client, data: dict, key: str = CASSO_KEY):
    body = {"error": 0, "data": data}
    stamp = str(int(time.time() * 1000))
    # ASCII escapes, as Casso's Python sample signs: a lone surrogate travels as "\ud800".
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    v1 = hmac.new(key.encode(), f"{stamp}.{canonical}".encode(), hashlib.sha512).hexdigest()
    return client.post("/webhooks/casso", data=canonical, headers={
        "X-Casso-Signature": f"t={stamp},v1={v1}", "Content-Type": "application/json"})


def _casso_data(txn_id: int, **fields) -> dict:
    return {"id": txn_id, "reference": f"FT26C{txn_id}", "description": "chuyen tien",
            "amount": 300_000, "runningBalance": 0, "transactionDateTime": "2026-09-05 11:00:00",
            "accountNumber": "0011001234567", "bankName": "Vietcombank",
            "counterAccountName": "LE VAN TAM", "counterAccountNumber": "190333444555",
            **fields}


def _stored(provider: str, txn_id: int):
    with db.engine.connect() as conn:
        return conn.execute(select(BankTransaction.__table__).where(
            BankTransaction.provider == provider,
            BankTransaction.provider_txn_id == str(txn_id))).one_or_none()


CLEANED_TEXT = {
    "NUL in the memo": ("content", "description", "HP LQ\x00 con An"),
    "lone surrogate in the memo": ("content", "description", "HP LQ \udc00"),
    "NUL in the reference": ("referenceCode", "reference", "FT26\x00"),
    "300-character reference": ("referenceCode", "reference", "R" * 300),
    "300-character bank name": ("gateway", "bankName", "B" * 300),
    "300-character account number": ("accountNumber", "accountNumber",
                                     "0011001234567" + "0" * 287),
}
IMPOSSIBLE = {"10^20": 10**20, "2^63": 2**63, "10^12 + 1": 10**12 + 1, "-1": -1, "1.5": 1.5,
              "text": "500000", "5000 digits": "@@DIGITS@@"}


def test_signed_notifications_with_unstorable_text_are_stored_for_review(world, client, app,
                                                                        monkeypatch):
    # An account number no school has can only be signed with the deployment-wide keys.
    monkeypatch.setitem(app.config, "SEPAY_API_KEY", KEY)
    monkeypatch.setitem(app.config, "CASSO_CHECKSUM_KEY", CASSO_KEY)
    ids = iter(range(70_000, 71_000))
    for label, (sepay_field, casso_field, value) in CLEANED_TEXT.items():
        txn_id = next(ids)
        body = {**sepay_body("chuyen tien", 300_000, txn_id=txn_id), sepay_field: value}
        response = client.post("/webhooks/sepay", data=json.dumps(body), headers={
            "Authorization": f"Apikey {KEY}", "Content-Type": "application/json"})
        if response.status_code == 401 and sepay_field == "accountNumber":
            continue  # the deployment-wide key may be limited to schools: then not signed
        assert response.status_code == 200, (label, response.get_data(as_text=True))
        row = _stored("sepay", txn_id)
        assert row is not None, label
        assert (row.status, row.status_reason) == ("review", "cleaned_input"), label
        assert json.loads(row.raw)[sepay_field] == value, label  # the raw body, whole
        assert "\x00" not in (row.memo + (row.bank_reference or "") + row.account_number)

        txn_id = next(ids)
        response = _casso(client, _casso_data(txn_id, **{casso_field: value}))
        assert response.status_code == 200, (label, response.get_data(as_text=True))
        assert _stored("casso", txn_id).status == "review", label
    # The review queue shows them, with the reason in words.
    page = world["browser"].get("/app/LQD/cho-xu-ly").get_data(as_text=True)
    assert "đã làm sạch" in page


def test_webhooks_refuse_what_cannot_be_a_transfer_and_anything_unsigned(world, client):
    probe = Probe()
    for label, amount in IMPOSSIBLE.items():
        body = json_text(sepay_body("HP", 1, txn_id=90_001)).replace(
            '"transferAmount": 1', '"transferAmount": ' + json.dumps(amount)).replace(
            '"@@DIGITS@@"', "9" * 5000)
        probe.check(f"sepay amount {label}", client.post(
            "/webhooks/sepay", data=body, headers={"Authorization": f"Apikey {KEY}",
                                                   "Content-Type": "application/json"}))
        if amount not in ("@@DIGITS@@", -1):  # Casso's -1 is a real 1 đ going out
            probe.check(f"casso amount {label}", _casso(client, _casso_data(90_002,
                                                                            amount=amount)))
    for label, value in [("id 2^63", 2**63), ("id 10^30", 10**30), ("id text", "x")]:
        body = {**sepay_body("HP", 1000, txn_id=1), "id": value}
        probe.check(f"sepay {label}", client.post("/webhooks/sepay", data=json.dumps(body),
                                                  headers={"Authorization": f"Apikey {KEY}"}))
    for label, (sepay_field, _casso_field, value) in CLEANED_TEXT.items():
        body = {**sepay_body("chuyen tien", 300_000, txn_id=90_003), sepay_field: value}
        probe.check(f"unsigned sepay, {label}", client.post(
            "/webhooks/sepay", data=json.dumps(body), headers={"Authorization": "Apikey nope"}))
    for raw in [b"", b"{", b"[" * 50_000, b'{"id": ' + b"9" * 5000 + b"}", b"\xff\xfe",
                b"x" * 70_000]:
        probe.check(f"sepay body {raw[:12]!r}", client.post("/webhooks/sepay", data=raw))
        probe.check(f"casso body {raw[:12]!r}", client.post("/webhooks/casso", data=raw))
    probe.check("GET sepay", client.get("/webhooks/sepay"))
    probe.check("PUT casso", client.put("/webhooks/casso", data="{}"))
    probe.done()


# --- Query strings, path segments and methods -------------------------------------------------

API_GETS = [
    ("/schools/LQD/students", ["class", "q"]),
    ("/schools/LQD/invoices", ["status", "class", "period"]),
    ("/schools/LQD/notices.pdf?period=2026-09", ["period", "class", "layout"]),
    ("/invoices/{open}/notice.pdf", ["layout"]),
    ("/schools/LQD/payments", ["status"]),
    ("/schools/LQD/receipts", ["class", "from", "to", "status"]),
    ("/schools/LQD/receipts.pdf", ["class", "from", "to", "status"]),
    ("/schools/LQD/parent-links", ["format"]),
    ("/schools/LQD/reports/dashboard", ["period", "today"]),
    ("/schools/LQD/reports/arrears", ["period", "group_by", "format", "today", "overdue_only"]),
    ("/schools/LQD/students/import-template.xlsx", ["x"]),
    ("/match-queue", ["x"]),
]
#: Filters that ignore an unknown value (answering what matches, often nothing) are fine.
FILTERS = {"class", "q", "period", "x", "overdue_only", "status"}
PATHS = ["/invoices/{bad}", "/invoices/{bad}/qr.png", "/invoices/{bad}/qr.svg",
         "/payments/{big}", "/receipts/{big}", "/receipts/{big}.pdf", "/schools/{bad}",
         "/schools/{bad}/students", "/allocations/{big}/reversal",
         "/schools/LQD/bank-accounts/{big}", "/schools/LQD/students/{bad}/parent-link",
         "/payments/{big}/set-aside", "/payments/{big}/allocations", "/receipts/{big}/void",
         "/invoices/{bad}/cancel"]
#: Paths above that only take POST (PATCH for the bank account).
_POSTED = ("reversal", "parent-link", "set-aside", "allocations", "void", "cancel")


def test_api_query_strings_paths_and_methods(world, client):
    probe = Probe(ignore={"students"})  # the parents' links list fills in missing tokens
    token = world["admin"]
    for template, params in API_GETS:
        path = template.replace("{open}", world["open_code"])
        joiner = "&" if "?" in path else "?"
        for name in params:
            for value in QUERY_HOSTILE:
                response = client.get(f"/api/v1{path}{joiner}{name}={quote(value)}",
                                      headers={"Authorization": f"Bearer {token}"})
                probe.check(f"GET {path} {name}={value[:12]!r}", response,
                            ok_allowed=name in FILTERS and value not in ("\x00",))
        probe.check(f"DELETE {path}", _api(client, token, "DELETE", path))
        probe.check(f"POST {path} _method", _api(client, token, "POST", path + "?_method=GET"))
    for template in PATHS:
        for bad in ["%00", "x" * 3000, "%F0%9F%98%80", "..%2F..%2Fetc", "-1"]:
            path = template.replace("{bad}", bad).replace("{big}", "99999999999999999999999")
            method = "PATCH" if "bank-accounts" in path else (
                "POST" if path.endswith(_POSTED) else "GET")
            probe.check(f"{method} {path[:60]}", _api(client, token, method, path, json={}))
    probe.check("no token", client.get("/api/v1/schools/LQD/students"))
    probe.check("token with NUL", client.get("/api/v1/schools/LQD/students",
                                             headers={"Authorization": "Bearer a\x00b"}))
    probe.check("10 KB token", client.get("/api/v1/schools/LQD/students",
                                          headers={"Authorization": "Bearer " + "t" * 10_240}))
    probe.done()


STAFF_GETS = [
    ("/app/LQD/hoc-sinh", ["q", "lop", "trang", "trang_thai"]),
    ("/app/LQD/hoa-don", ["lop", "ky", "trang_thai", "trang"]),
    ("/app/LQD/hoa-don/{open}", ["x"]),
    ("/app/LQD/thong-bao.pdf", ["ky", "lop"]),
    ("/app/LQD/giao-dich", ["status", "page"]),
    ("/app/LQD/cho-xu-ly", ["x"]),
    ("/app/LQD/bien-lai", ["status", "class", "student", "from", "to"]),
    ("/app/LQD/bien-lai.pdf", ["status", "class", "from", "to"]),
    ("/app/LQD/nhac-nop", ["ngay", "class", "mau"]),
    ("/app/LQD/nhac-nop.csv", ["ngay", "class", "mau"]),
    ("/app/LQD/tong-quan", ["period", "today"]),
    ("/app/LQD/cong-no", ["period", "group_by", "overdue_only"]),
    ("/app/LQD/cong-no.xlsx", ["period", "group_by"]),
    ("/app/LQD/nhat-ky", ["page"]),
    ("/app/LQD/khoan-thu/HOCPHI/dang-ky", ["lop"]),
    ("/app/LQD/sao-ke", ["x"]),
    ("/app/LQD/cai-dat", ["x"]),
]


def test_staff_pages_with_hostile_query_strings(world):
    browser = world["browser"]
    probe = Probe(ignore={"students"})
    for template, params in STAFF_GETS:
        path = template.replace("{open}", world["open_code"])
        for name in params:
            for value in QUERY_HOSTILE:
                response = browser.get(f"{path}?{name}={quote(value)}")
                # Pages show what matches (or fall back to a default): 200 and 302 are fine.
                probe.check(f"GET {path} {name}={value[:12]!r}", response,
                            ok_allowed=value != "\x00")
        probe.check(f"PUT {path}", browser.put(path))
        probe.check(f"POST {path} _method=POST", browser.post(path + "?_method=POST&page=2"),
                    ok_allowed=False)
    for path in ["/app/LQD/hoa-don/%00", "/app/LQD/hoa-don/" + "x" * 3000,
                 "/app/LQD/bien-lai/99999999999999999999.pdf", "/app/%00/hoc-sinh",
                 "/app/LQD/hoc-sinh/%00/sua", "/app/LQD/khoan-thu/%00/dang-ky",
                 "/p/%00", "/p/" + "x" * 3000, "/bien-lai/%00", "/kiem-tra/" + "x" * 3000,
                 "/p/abc/receipts/99999999999999999999.pdf", "/p/abc/qr/%00.png"]:
        probe.check(f"GET {path[:50]}", browser.get(path))
    probe.done()


# --- Staff forms -------------------------------------------------------------------------------

FORM_TEXT = {"text", "-1", "2^63", "10^20", "1.5", "bad date"}


def staff_form_cases(w) -> list[tuple[str, dict[str, str], dict[str, set[str]]]]:
    """(path, a valid form, hostile kinds each field may accept)."""
    from tuition.services import students

    room = next(r for r in students.school_classes(w["school"]) if r.name == "2A")
    return [
        ("/app/LQD/khoan-thu", {"code": "MOI", "name": "Khoản mới", "amount": "100.000",
                                "unit": "month", "grades": "1", "mandatory": "1"},
         {"code": {"text", "-1", "2^63"}, "name": FORM_TEXT, "grades": {"empty"},
          "mandatory": set(FORM_HOSTILE)}),
        ("/app/LQD/mien-giam", {"student_code": "HS002", "item": "HOCPHI", "kind": "fixed",
                                "value": "50.000", "reason": "Hộ nghèo",
                                "valid_from": "2026-09-01", "valid_to": "2027-05-31"},
         {"reason": FORM_TEXT, "item": {"empty"}, "valid_to": {"empty"}}),
        ("/app/LQD/dieu-chinh", {"student_code": "HS002", "amount": "-20.000",
                                 "description": "Trả tiền ăn"},
         {"description": FORM_TEXT, "amount": {"-1"}}),  # a 1 đ refund is an adjustment
        ("/app/LQD/lap-hoa-don", {"period": "2026-10", "fee_items": "HOCPHI",
                                  "due_date": "2026-10-15", "classes": "1A",
                                  "school_days": "20", "action": "issue"},
         {"classes": {"empty"}, "school_days": {"empty"}, "action": set(FORM_HOSTILE)}),
        (f"/app/LQD/hoa-don/{w['open_code']}/huy", {"reason": "Nhập sai"}, {"reason": FORM_TEXT}),
        (f"/app/LQD/cho-xu-ly/{w['review_id']}/gan", {
            "invoice_code": w["open_code"], "amount_vnd": "100.000", "reason": "Gọi điện"},
         {"reason": FORM_TEXT}),
        (f"/app/LQD/cho-xu-ly/{w['review_id']}/de-rieng", {"reason": "Không phải học phí"},
         {"reason": FORM_TEXT}),
        (f"/app/LQD/giao-dich/but-toan/{w['allocation_id']}/dao", {"reason": "Gán nhầm"},
         {"reason": FORM_TEXT}),
        (f"/app/LQD/bien-lai/{w['receipt_id']}/huy", {"reason": "Sai tên", "replace": "1",
                                                      "payer_name": "Nguyễn Văn Bình"},
         {"reason": FORM_TEXT, "replace": set(FORM_HOSTILE), "payer_name": FORM_TEXT | {"empty"}}),
        ("/app/LQD/cai-dat/truong", {"name": "Trường Tiểu học Lê Quý Đôn mới",
                                     "address": "16 Phố Huế", "phone": "024 3826 9999",
                                     "tax_code": "0101234567"},
         {"name": FORM_TEXT, "address": FORM_TEXT | {"empty"}, "phone": {"empty", "-1", "2^63"},
          "tax_code": {"empty"}}),
        ("/app/LQD/cai-dat/tai-khoan", {"bin": "970436", "account_number": "0099001234567",
                                        "account_name": "TRUONG LQD"},
         {"account_name": FORM_TEXT, "account_number": {"2^63"}}),
        ("/app/LQD/cai-dat/nguoi-dung", {"email": "moi@test.vn", "name": "Cô Mới",
                                         "role": "accountant",
                                         "password": "mat-khau-rat-dai-456"},
         # The staff form cuts a long name to its 120 characters, by design.
         {"name": FORM_TEXT | {"empty", "5000 digits", "10 KB"},
          "password": {"10 KB", "5000 digits", "10^20", "2^63", "bad date"}}),
        ("/app/LQD/hoc-sinh/HS002/sua", {"full_name": "Nguyễn Minh Khôi", "date_of_birth":
                                         "2018-11-12", "classroom_id": str(room.id),
                                         "status": "left", "guardian_name": "Nguyễn Văn Bình",
                                         "guardian_phone": "0912345678"},
         {"full_name": FORM_TEXT, "guardian_name": FORM_TEXT | {"empty"},
          "guardian_phone": {"empty"}, "date_of_birth": {"empty"}}),
    ]


def test_staff_forms(world):
    browser = world["browser"]
    token = browser.csrf("/app/LQD/khoan-thu")
    probe = Probe()
    for path, form, accepts in staff_form_cases(world):
        for name, valid in form.items():
            for kind, value in FORM_HOSTILE.items():
                if kind in accepts.get(name, set()) or value == valid:
                    continue
                response = browser.post(path, data={**form, name: value, "csrf_token": token})
                probe.check(f"POST {path} {name}={kind}", response)
        probe.check(f"POST {path} as JSON", browser.post(path, json={**form, "csrf_token": token}))
        probe.check(f"POST {path} without CSRF", browser.post(path, data=form))
    probe.done()


def test_sign_in_and_language_forms(world, client):
    token_page = client.get("/dang-nhap").get_data(as_text=True)
    from tests.conftest import csrf_token

    token = csrf_token(token_page)
    probe = Probe(ignore={"audit_events"})  # failed sign-ins may be audited
    for kind, value in FORM_HOSTILE.items():
        for field in ("email", "password"):
            form = {"email": "staff@test.vn", "password": "mat-khau-rat-dai-123", field: value,
                    "csrf_token": token}
            probe.check(f"sign in {field}={kind}", client.post("/dang-nhap", data=form))
        probe.check(f"language {kind}", client.post(
            "/ngon-ngu", data={"lang": value, "next": value, "csrf_token": token}),
            ok_allowed=value != "An\x00")
    probe.done()


# --- Uploads: the fields around the file ----------------------------------------------------


def test_upload_forms_and_their_fields(world, client):
    acct, browser = world["acct"], world["browser"]
    token = browser.csrf("/app/LQD/sao-ke")
    statement = "Ngày giao dịch,Số tiền,Nội dung\n05/09/2026,300000,HP\n".encode()
    probe = Probe()
    for kind, value in FORM_HOSTILE.items():
        for field in ("account_id", "date_column", "amount_column", "memo_column",
                      "date_format", "reference_column"):
            if kind == "empty":
                continue  # a field left empty is guessed (or the default account): documented
            fields = {field: value}
            probe.check(f"API statement {field}={kind}",
                        acct.upload("/schools/LQD/statements", statement, "s.csv", **fields))
            probe.check(f"staff statement {field}={kind}", browser.post("/app/LQD/sao-ke", data={
                "csrf_token": token, "file": (io.BytesIO(statement), "s.csv"), field: value},
                content_type="multipart/form-data"))
        if kind != "empty":
            probe.check(f"API roster school_year={kind}", acct.upload(
                "/schools/LQD/students/import", b"Ma HS,Ho ten,Lop\nHS9,An,1A\n", "d.csv",
                school_year=value))
        probe.check(f"API roster file name {kind}", acct.upload(
            "/schools/LQD/students/import", b"Ma HS,Ho ten,Lop\nHS9,An,1A\n", value or "x"),
            ok_allowed=False)
    probe.check("roster as JSON", acct.post("/schools/LQD/students/import", json={"file": "x"}))
    probe.check("roster without a file", acct.upload("/schools/LQD/students/import", b"", ""))
    probe.check("statement as a form", client.post(
        "/api/v1/schools/LQD/statements", data={"file": "x"}, headers=acct.headers))
    probe.done()
