"""A small province for the authority tests: schools in two wards of Hà Nội and one in Hồ Chí
Minh City, their authorities, and helpers to pay and to store cash or statement money.

=====  ===========================  ======================  ========  =====================
code   school                       ward (code)             level     2026-09 invoices
=====  ===========================  ======================  ========  =====================
LQD    Trường Tiểu học Lê Quý Đôn   Phường Ba Đình (4)      tiểu học  3 x 500,000, due 09-15
HSN    Trường Mầm non Hoa Sen       Phường Hoàn Kiếm (70)   mầm non   2 x 400,000, due 09-10
NTT    Trường THCS Nguyễn Trãi      Phường An Đông (27316)  THCS      1 x 600,000, due 09-15
=====  ===========================  ======================  ========  =====================

LQD is the ``billed`` fixture's school (students HS001-HS003, invoices in ``billed.codes``).
"""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from tuition.core import clock
from tuition.extensions import db
from tuition.models import BankTransaction
from tuition.services import schools, users

HANOI, BA_DINH, HOAN_KIEM = 1, 4, 70
HCMC, AN_DONG = 79, 27316
PASSWORD = "mat-khau-rat-dai-123"
HSN_KEY = "sepay-key-hoa-sen-0123456789"
NTT_KEY = "sepay-key-nguyen-trai-0123456789"
_ids = itertools.count(1)


def bill(api_client, code: str, roster: str, amount: int, due: str, period: str = "2026-09"):
    api_client.upload(f"/schools/{code}/students/import", roster.encode(), "ds.csv")
    assert api_client.post(f"/schools/{code}/fee-items", json={
        "code": "HOCPHI", "name": "Học phí", "amount_vnd": amount, "unit": "month"},
    ).status_code == 201
    response = api_client.post(f"/schools/{code}/billing-runs", json={
        "period": period, "fee_items": ["HOCPHI"], "due_date": due})
    assert response.status_code == 201, response.get_json()
    return {i["student_code"]: i["code"] for i in
            api_client.get(f"/schools/{code}/invoices?period={period}").get_json()["items"]}


@pytest.fixture
def province(billed, make_school, make_user, api, admin):
    """The three schools, billed for 2026-09; returns a namespace of clients and codes."""
    lqd = schools.get_school("LQD")
    schools.set_place(admin, lqd, BA_DINH)
    hsn = make_school("HSN", prefix="HX", name="Trường Mầm non Hoa Sen", level=["mam_non"],
                      account="1122334455", ward_code=HOAN_KIEM)
    hsn.bank_accounts[0].sepay_api_key = HSN_KEY
    ntt = make_school("NTT", prefix="NX", name="Trường THCS Nguyễn Trãi", level=["thcs"],
                      account="5544332211", ward_code=AN_DONG)
    ntt.bank_accounts[0].sepay_api_key = NTT_KEY
    db.session.commit()
    _, hsn_token = make_user("accountant", hsn)
    _, ntt_token = make_user("accountant", ntt)
    world = type("World", (), {})()
    world.lqd = billed
    world.hsn = api(hsn_token)
    world.hsn.codes = bill(world.hsn, "HSN", (
        "Mã học sinh,Họ và tên,Lớp\nMN01,Trần Thu Hà,MGB1\nMN02,Phạm Gia Huy,MGN1\n"),
        400_000, "2026-09-10")
    world.ntt = api(ntt_token)
    world.ntt.codes = bill(world.ntt, "NTT", "Mã học sinh,Họ và tên,Lớp\nTH01,Vũ Minh Châu,6A1\n",
                           600_000, "2026-09-15")
    return world


def authority(*, province_code=None, ward_code=None, email=None):
    """An authority user with a password; returns (user, API token)."""
    user, token = users.create_user(
        None, email=email or f"so-gd-{next(_ids)}@test.vn", role="authority",
        province_code=province_code, ward_code=ward_code, password=PASSWORD,
        name="Phòng Kế hoạch - Tài chính")
    db.session.commit()
    return user, token


def store_money(school_code: str, provider: str, amount: int, when: str,
                direction: str = "in") -> BankTransaction:
    """Money that reached a school some other way than a webhook: a cash desk entry, a bank
    statement line, an opening balance (stored as the cash desk and statements store them)."""
    school = schools.get_school(school_code)
    number = next(_ids)
    txn = BankTransaction(
        provider=provider, provider_txn_id=f"{provider}-{number}", school_id=school.id,
        bank_account_id=school.bank_accounts[0].id,
        account_number=school.bank_accounts[0].account_number, direction=direction,
        amount_vnd=amount, memo=f"{provider} {number}",
        occurred_at=datetime.fromisoformat(when), raw="{}", status="review",
        received_at=clock.now_utc())
    db.session.add(txn)
    db.session.commit()
    return txn

