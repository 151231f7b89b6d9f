"""No money lost or forged across schools: ids are per account, an account number is one
school's, a school's own key decides where its notifications go, conflicting repeats are
refused loudly and kept for an admin."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.helpers import assert_ledger_ok, invoice, payments_of, send_sepay, sepay_body
from tuition.extensions import db
from tuition.models import BankAccount, BankTransaction, RefusedNotification
from tuition.services import schools

OTHER_KEY = "nguyen-trai-own-sepay-key-0123456789"
DEPLOYMENT_KEY = "deployment-wide-key-0123456789abcdef"


@pytest.fixture
def admin_api(api, make_user):
    _user, token = make_user("admin")
    return api(token)


@pytest.fixture
def second_school(billed, admin_api):
    """Another school (NTT), billed for one student, with its own account and key."""
    created = admin_api.post("/schools", json={
        "code": "NTT", "name": "Trường THCS Nguyễn Trãi", "level": "thcs",
        "bank_accounts": [{"bin": "970415", "account_number": "1122334455",
                           "account_name": "Truong THCS Nguyen Trai"}]})
    assert created.status_code == 201, created.get_json()
    admin_api.upload("/schools/NTT/students/import",
                     "Mã học sinh,Họ và tên,Lớp\nNT001,Trần Văn An,6A\n".encode(), "ds.csv")
    admin_api.post("/schools/NTT/fee-items", json={
        "code": "HOCPHI", "name": "Học phí", "amount_vnd": 300_000, "unit": "month"})
    admin_api.post("/schools/NTT/billing-runs", json={
        "period": "2026-09", "fee_items": ["HOCPHI"], "due_date": "2026-09-15"})
    school = schools.get_school("NTT")
    school.bank_accounts[0].sepay_api_key = OTHER_KEY
    db.session.commit()
    (item,) = admin_api.get("/schools/NTT/invoices").get_json()["items"]
    return item["code"]


def test_the_same_provider_id_at_two_schools_is_two_payments(client, billed, second_school):
    """SePay numbers transactions per account: id 7001 at LQD and id 7001 at NTT are two
    transfers, and neither school loses its money."""
    first = send_sepay(client, sepay_body(billed.codes["HS001"], 500_000, txn_id=7001))
    second = send_sepay(client, sepay_body(second_school, 300_000, txn_id=7001,
                                           account="1122334455", reference="FT26NTT7001"),
                        key=OTHER_KEY)
    assert (first.status_code, second.status_code) == (200, 200)
    assert db.session.query(BankTransaction).count() == 2
    assert invoice(billed, "HS001")["status"] == "paid"
    assert billed.get(f"/invoices/{second_school}").status_code == 404  # not LQD's business
    ntt = db.session.scalar(select(BankTransaction).where(
        BankTransaction.account_number == "1122334455"))
    assert ntt.school_id == schools.get_school("NTT").id and ntt.status == "matched"


def test_a_repeat_with_another_amount_is_refused_loudly_and_kept(client, billed, admin_api):
    body = sepay_body(billed.codes["HS001"], 500_000, txn_id=8001)
    assert send_sepay(client, body).status_code == 200
    forged = {**body, "transferAmount": 5_000_000}
    for _ in range(2):  # the aggregator retries
        response = send_sepay(client, forged)
        assert response.status_code == 409
        assert response.get_json()["success"] is False
        assert "khác" in response.get_json()["message"]
    (stored,) = db.session.scalars(select(BankTransaction))
    assert stored.amount_vnd == 500_000
    assert invoice(billed, "HS001")["paid_vnd"] == 500_000
    (refused,) = db.session.scalars(select(RefusedNotification))
    assert (refused.deliveries, refused.amount_vnd, refused.conflicts_with_id) == (
        2, 5_000_000, stored.id)
    assert json.loads(refused.raw)["transferAmount"] == 5_000_000
    listed = admin_api.get("/refused-notifications").get_json()["items"]
    assert listed[0]["conflicts_with"]["amount_vnd"] == 500_000
    assert listed[0]["details"] == "amount_vnd"
    assert billed.get("/refused-notifications").status_code == 403
    # The same direction flipped is refused too.
    assert send_sepay(client, {**body, "transferType": "out"}).status_code == 409
    assert_ledger_ok()


def test_another_schools_account_number_is_refused(billed, second_school, admin_api, api,
                                                   make_user):
    _user, token = make_user("accountant", schools.get_school("NTT"))
    ntt_accountant = api(token)
    taken = {"bin": "970415", "account_number": "0011001234567",
             "account_name": "Truong THCS Nguyen Trai"}
    refused = ntt_accountant.post("/schools/NTT/bank-accounts", json=taken)
    assert refused.status_code == 409
    assert "trường khác" in refused.get_json()["error"]["message"]
    assert admin_api.post("/schools/NTT/bank-accounts", json=taken).status_code == 409
    assert db.session.scalar(select(BankAccount).where(
        BankAccount.school_id == schools.get_school("NTT").id,
        BankAccount.account_number == "0011001234567")) is None


def test_a_shared_number_never_blocks_or_takes_the_owners_notifications(
        client, billed, second_school, admin_api):
    """An admin allowed NTT an account with LQD's number at another bank. LQD's signed
    notifications still reach LQD; NTT's key reaches NTT; LQD's statements still import."""
    added = admin_api.post("/schools/NTT/bank-accounts", json={
        "bin": "970415", "account_number": "0011001234567",
        "account_name": "Truong THCS Nguyen Trai", "allow_shared_number": True})
    assert added.status_code == 200, added.get_json()
    shared_id = added.get_json()["account"]["id"]
    rotated = admin_api.post(f"/schools/NTT/bank-accounts/{shared_id}/sepay-key")
    assert rotated.status_code == 200, rotated.get_json()
    ntt_key = rotated.get_json()["sepay_api_key"]
    assert send_sepay(client, sepay_body(billed.codes["HS001"], 500_000)).status_code == 200
    assert invoice(billed, "HS001")["status"] == "paid"
    # NTT's other account's key does not sign for this one.
    assert send_sepay(client, sepay_body("hoc phi NT001", 300_000), key=OTHER_KEY).status_code \
        == 401
    assert send_sepay(client, sepay_body("hoc phi NT001", 300_000), key=ntt_key).status_code \
        == 200
    routed = db.session.scalars(select(BankTransaction).order_by(BankTransaction.id)).all()
    assert [t.school_id for t in routed] == [schools.get_school("LQD").id,
                                            schools.get_school("NTT").id]
    statement = ("Ngày giao dịch,Số tiền,Nội dung,Số tham chiếu\n"
                 f"06/09/2026,500000,{billed.codes['HS002']} hoc phi,FT26STMT0001\n")
    uploaded = billed.upload("/schools/LQD/statements", statement.encode(), "sao-ke.csv")
    assert uploaded.status_code == 201, uploaded.get_json()
    assert invoice(billed, "HS002")["status"] == "paid"
    assert_ledger_ok()


def test_the_deployment_key_signs_only_accounts_an_admin_attached(client, billed, admin_api):
    account = schools.get_school("LQD").bank_accounts[0]
    account.sepay_api_key = None
    db.session.commit()
    client.application.config["SEPAY_API_KEY"] = DEPLOYMENT_KEY
    try:
        body = sepay_body(billed.codes["HS001"], 500_000)
        assert send_sepay(client, body, key=DEPLOYMENT_KEY).status_code == 401
        # An accountant cannot attach it.
        patch = client.patch(f"/api/v1/schools/LQD/bank-accounts/{account.id}",
                             headers=billed.headers, json={"uses_deployment_key": True})
        assert patch.status_code == 403
        patch = client.patch(f"/api/v1/schools/LQD/bank-accounts/{account.id}",
                             headers=admin_api.headers, json={"uses_deployment_key": True})
        assert patch.status_code == 200, patch.get_json()
        assert send_sepay(client, body, key=DEPLOYMENT_KEY).status_code == 200
        assert invoice(billed, "HS001")["status"] == "paid"
        # A number no school has: kept for admins, never credited.
        stray = send_sepay(client, sepay_body("hoc phi con", 420_000, account="99990000111"),
                           key=DEPLOYMENT_KEY)
        assert stray.status_code == 200
    finally:
        client.application.config["SEPAY_API_KEY"] = None
    (unrouted,) = admin_api.get("/unrouted-payments").get_json()["items"]
    assert (unrouted["account_number"], unrouted["amount_vnd"]) == ("99990000111", 420_000)
    assert billed.get("/unrouted-payments").status_code == 403
    assert payments_of(billed, "review") == []


def test_one_key_for_two_accounts_with_one_number_is_told_apart_by_bank_or_kept(
        client, billed, second_school, admin_api):
    admin_api.post("/schools/NTT/bank-accounts", json={
        "bin": "970415", "account_number": "0011001234567",
        "account_name": "Truong THCS Nguyen Trai", "allow_shared_number": True})
    for account in db.session.scalars(select(BankAccount).where(
            BankAccount.account_number == "0011001234567")):
        account.sepay_api_key = None
        account.uses_deployment_key = True
    db.session.commit()
    client.application.config["SEPAY_API_KEY"] = DEPLOYMENT_KEY
    try:
        told = sepay_body(billed.codes["HS001"], 500_000)  # gateway: Vietcombank
        assert send_sepay(client, told, key=DEPLOYMENT_KEY).status_code == 200
        untold = {**sepay_body(billed.codes["HS002"], 500_000), "gateway": "Ngân hàng X"}
        assert send_sepay(client, untold, key=DEPLOYMENT_KEY).status_code == 200
    finally:
        client.application.config["SEPAY_API_KEY"] = None
    assert invoice(billed, "HS001")["status"] == "paid"
    assert invoice(billed, "HS002")["paid_vnd"] == 0
    kept = db.session.scalar(select(BankTransaction).where(BankTransaction.school_id.is_(None)))
    assert kept.amount_vnd == 500_000 and kept.status == "review"
