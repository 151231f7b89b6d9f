"""Hostile input, endpoint by endpoint: every API route, staff form, query parameter and webhook
gets huge numbers, floats, negatives, text where numbers belong, NUL, lone surrogates, 10 KB
strings, unknown enum values, wrong content types and methods. Each answer is a 4xx (never a
500) and nothing in the database changes; on PostgreSQL too (``DATABASE_URL``), where column
lengths and integer ranges are enforced.

Each test builds one school and walks a table of cases, collecting every failure, so one run
shows all that is wrong.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

import pytest
from sqlalchemy import select

from tests.helpers import payments_of, send_sepay, sepay_body
from tuition.extensions import db
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


def fingerprint(ignore: Iterable[str] = ()) -> dict[str, list]:
    """Every row of every table (small: one school), read on a fresh connection."""
    ignored = set(ignore)
    state = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in ignored:
                continue
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            state[table.name] = [tuple(map(repr, row)) for row in rows]
    return state


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
        if status >= 500 or (status < 400 and not ok_allowed):
            body = response.get_data(as_text=True)[:160].replace("\n", " ")
            self.failures.append(f"{label}: {status} {body}")
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
        for label, text in variants(body, accepts):
            response = _api(client, tokens[who], method, path, data=text,
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
