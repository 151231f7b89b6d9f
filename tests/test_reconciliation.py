"""Reconciliation: booked notifications checked against the bank's own list (SePay's
transaction API, played by a local server speaking it, or an uploaded statement)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.helpers import send_sepay, sepay_body
from tests.sepay_fake import FORMAT
from tests.test_sepay_sync import row
from tuition.cli_sync import vietnam_now
from tuition.extensions import db
from tuition.models import Allocation, AuditEvent, BankTransaction, Receipt


def hours_ago(hours: float) -> str:
    return (vietnam_now() - timedelta(hours=hours)).strftime(FORMAT)


def webhook(client, acct, student: str, txn_id: int, *, when: str):
    body = {**sepay_body(f"{acct.codes[student]} hoc phi", 500_000, txn_id=txn_id),
            "transactionDate": when}
    assert send_sepay(client, body).status_code == 200
    return db.session.scalar(select(BankTransaction).where(
        BankTransaction.provider_txn_id == str(txn_id)))


def test_a_notified_transfer_the_bank_does_not_list_is_flagged_then_cleared(
        client, synced, sepay, runner):
    real = webhook(client, synced, "HS001", 9101, when=hours_ago(5))
    forged = webhook(client, synced, "HS002", 9102, when=hours_ago(4))
    fresh = webhook(client, synced, "HS003", 9103, when=hours_ago(0.1))  # too recent to judge
    # SePay lists the first transfer only.
    sepay.transactions.append(row(9101, f"{synced.codes['HS001']} hoc phi", "500000.00",
                                  when=hours_ago(5), reference=f"FT2624{9101:08d}"))
    result = runner.invoke(args=["tuition", "sync", "--hours", "48"])
    assert result.exit_code == 1, result.output  # a person must look
    assert "khớp 1, ngân hàng không có 1" in result.output
    db.session.expire_all()
    checks = {t.id: t.bank_check for t in db.session.scalars(select(BankTransaction))}
    assert checks == {real.id: "confirmed", forged.id: "unconfirmed", fresh.id: None}
    flagged = db.session.scalars(select(Receipt).where(Receipt.review_reason.isnot(None))).all()
    assert [r.allocation_id for r in flagged] == list(db.session.scalars(
        select(Allocation.id).where(Allocation.transaction_id == forged.id)))
    page = client.get(f"/bien-lai/{flagged[0].verify_token}").get_data(as_text=True)
    assert "đang được kiểm tra lại" in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.unconfirmed"))
    assert event.subject == f"payment:{forged.id}" and event.details["source"] == "sepay_api"
    dashboard = synced.get("/schools/LQD/reconciliation").get_json()["unconfirmed"]
    assert [t["id"] for t in dashboard] == [forged.id]

    # The bank's list shows it after all (a delayed posting): confirmed, marks cleared.
    sepay.transactions.append(row(9102, f"{synced.codes['HS002']} hoc phi", "500000.00",
                                  when=hours_ago(4), reference=f"FT2624{9102:08d}"))
    response = synced.post("/schools/LQD/reconciliation", json={"hours": 24})
    assert response.status_code == 200, response.get_json()
    (account,) = response.get_json()["accounts"]
    assert (account["confirmed"], account["unconfirmed"]) == (2, [])
    db.session.expire_all()
    assert db.session.get(BankTransaction, forged.id).bank_check == "confirmed"
    assert db.session.scalar(select(Receipt).where(Receipt.review_reason.isnot(None))) is None


def test_a_statement_confirms_what_it_shows_and_flags_what_it_does_not(client, synced):
    shown = webhook(client, synced, "HS001", 9201, when="2026-09-05 10:15:00")
    missing = webhook(client, synced, "HS002", 9202, when="2026-09-06 09:00:00")
    outside = webhook(client, synced, "HS003", 9203, when="2026-09-20 09:00:00")
    statement = ("Ngày giao dịch,Số tiền,Nội dung,Số tham chiếu\n"
                 f"05/09/2026,500000,{synced.codes['HS001']} hoc phi,FT2624{9201:08d}\n"
                 "07/09/2026,120000,tien quy lop,FT26OTHER001\n")
    response = synced.upload("/schools/LQD/statements", statement.encode(), "sao-ke.csv")
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["confirmed"], response.get_json()["unconfirmed"]) == (1, 1)
    db.session.expire_all()
    checks = {t.id: t.bank_check for t in db.session.scalars(select(BankTransaction))}
    assert checks[shown.id] == "confirmed" and checks[missing.id] == "unconfirmed"
    assert checks[outside.id] is None  # the statement says nothing of 20/09


def test_reconciling_needs_a_token_and_a_manager(synced, make_user, api, app):
    from tuition.services import schools

    _user, token = make_user("principal", schools.get_school("LQD"))
    assert api(token).post("/schools/LQD/reconciliation", json={}).status_code == 403
    assert synced.post("/schools/LQD/reconciliation", json={"hours": 0}).status_code == 422
    account = schools.get_school("LQD").bank_accounts[0]
    account.sepay_api_token = None
    db.session.commit()
    refused = synced.post("/schools/LQD/reconciliation", json={})
    assert refused.status_code == 409
    assert "sao kê" in refused.get_json()["error"]["message"]


def test_the_flag_shows_on_the_dashboard(client, synced, sepay, make_staff, staff_login, runner):
    from tuition.services import schools

    webhook(client, synced, "HS001", 9301, when=hours_ago(3))
    runner.invoke(args=["tuition", "sync", "--hours", "48"])
    principal = staff_login(make_staff("principal", schools.get_school("LQD")).email,
                            "mat-khau-rat-dai-123")
    page = principal.get("/app/LQD/tong-quan").get_data(as_text=True)
    assert 'id="unconfirmed"' in page and "1 giao dịch ngân hàng chưa xác nhận" in page
