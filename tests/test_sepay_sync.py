"""The SePay pull backstop against a real local HTTP server that plays SePay's user API."""

from __future__ import annotations

import gc
import json
import socket
import warnings
from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from tests.sepay_fake import ACCOUNT, FORMAT, TOKEN
from tuition.cli_sync import sync, vietnam_now
from tuition.core.notifications import BankNotification, NotificationError
from tuition.extensions import db
from tuition.models import BankTransaction
from tuition.services import payments
from tuition.services.sepay_sync import (
    SyncError,
    fetch_transactions,
    parse_transaction,
    sync_account,
    sync_all,
)

KEY = "sepay-key-for-tests-0123456789"
ROSTER = (
    "Mã học sinh,Họ và tên,Ngày sinh,Lớp,Họ tên phụ huynh,Số điện thoại\n"
    "HS001,Nguyễn Thị Ánh Dương,05/03/2019,1A,Nguyễn Văn Bình,0912345678\n"
    "HS002,Nguyễn Minh Khôi,12/11/2018,2A,Nguyễn Văn Bình,0912345678\n"
)


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def recent(hours: float = 1) -> str:
    return (vietnam_now() - timedelta(hours=hours)).strftime(FORMAT)


def row(txn_id: int, memo: str, amount_in: str = "0.00", amount_out: str = "0.00", *,
        account: str = ACCOUNT, reference: str | None = None, when: str | None = None) -> dict:
    """A row shaped like SePay's v1 transaction list (ids and amounts are strings)."""
    return {
        "id": str(txn_id), "bank_brand_name": "Vietcombank", "account_number": account,
        "transaction_date": when or recent(), "amount_out": amount_out, "amount_in": amount_in,
        "accumulated": "0.00", "transaction_content": memo,
        "reference_number": reference or f"FT26{txn_id:010d}", "code": None,
        "sub_account": None, "bank_account_id": "19",
    }


# --------------------------------------------------------------------------- a billed school


def invoice(acct, student):
    return acct.get(f"/invoices/{acct.codes[student]}").get_json()


def stored() -> list[BankTransaction]:
    db.session.rollback()  # see what was committed, not what this session holds
    return list(db.session.scalars(select(BankTransaction).order_by(BankTransaction.id)))


def since() -> datetime:
    return vietnam_now() - timedelta(hours=48)


# --------------------------------------------------------------------------- parsing


def test_parse_a_documented_row():
    item = {"id": "49", "bank_brand_name": "Vietcombank", "account_number": "0071000888888",
            "transaction_date": "2023-02-26 17:23:31", "amount_out": "0.00",
            "amount_in": "2277000.00", "accumulated": "19077000.00",
            "transaction_content": "chuyen tien", "reference_number": "MBVCB.3278907687",
            "code": None, "sub_account": None, "bank_account_id": "19"}
    assert parse_transaction(item) == BankNotification(
        provider="sepay", provider_txn_id="49", account_number="0071000888888",
        direction="in", amount_vnd=2_277_000, memo="chuyen tien",
        bank_reference="MBVCB.3278907687", occurred_at=datetime(2023, 2, 26, 17, 23, 31),
        payer_account=None, payer_name=None, bank_name="Vietcombank")


@pytest.mark.parametrize("changes, direction, amount", [
    ({"amount_in": "500000"}, "in", 500_000),
    ({"amount_in": 500000}, "in", 500_000),
    ({"amount_in": "0.00", "amount_out": "200000.00"}, "out", 200_000),
    ({"id": 77}, "in", 500_000),
])
def test_parse_accepts(changes, direction, amount):
    parsed = parse_transaction({**row(5, "x", "500000.00"), **changes})
    assert (parsed.direction, parsed.amount_vnd) == (direction, amount)


@pytest.mark.parametrize("changes", [
    {"amount_in": "12.5"},
    {"amount_in": "12.50"},
    {"amount_in": "1,000.00"},
    {"amount_in": "-500000.00"},
    {"amount_in": 500000.0},
    {"amount_in": True},
    {"amount_in": ""},
    {"amount_in": None},
    {"amount_in": "0.00"},
    {"amount_out": "10.00"},
    {"id": "abc"},
    {"id": None},
    {"id": -1},
    {"transaction_date": "2026-9-5 10:15:00"},
    {"account_number": ""},
    {"account_number": "1" * 41},
    {"transaction_content": "a\x00b"},
])
def test_parse_refuses(changes):
    with pytest.raises(NotificationError):
        parse_transaction({**row(5, "x", "500000.00"), **changes})


def test_parse_refuses_a_non_object():
    with pytest.raises(NotificationError):
        parse_transaction(["49"])


# --------------------------------------------------------------------------- ingesting


def test_a_transaction_the_webhook_missed_is_ingested_and_matched(synced, sepay, runner):
    code = synced.codes["HS001"]
    item = row(5001, f"MBVCB.123.{code} hoc phi be Duong.CT tu 0011", "500000.00",
               reference="FT26000005001")
    sepay.transactions.append(item)
    result = runner.invoke(sync, [])
    assert result.exit_code == 0, result.output
    assert f"Tài khoản {ACCOUNT} (LQD): lấy về 1, mới 1, trùng 0, bị từ chối 0;" in result.output
    assert invoice(synced, "HS001")["status"] == "paid"
    (txn,) = stored()
    assert (txn.provider, txn.provider_txn_id, txn.bank_reference, txn.status) == (
        "sepay", "5001", "FT26000005001", "matched")
    assert json.loads(txn.raw) == item
    (asked,) = sepay.requests
    assert asked["path"] == "/userapi/transactions/list"
    assert asked["authorization"] == f"Bearer {TOKEN}"
    assert asked["query"]["account_number"] == [ACCOUNT]
    assert asked["query"]["limit"] == ["5000"]
    asked_since = datetime.strptime(asked["query"]["transaction_date_min"][0], FORMAT)
    assert abs(asked_since - (vietnam_now() - timedelta(hours=48))) < timedelta(minutes=1)
    # Running it again changes nothing.
    again = runner.invoke(sync, ["--hours", "2"])
    assert again.exit_code == 0, again.output
    assert "lấy về 1, mới 0, trùng 1" in again.output
    assert len(stored()) == 1 and invoice(synced, "HS001")["paid_vnd"] == 500_000


def test_a_transaction_received_by_webhook_is_a_duplicate(synced, sepay, client, http):
    code = synced.codes["HS002"]
    webhook = {"id": 7001, "gateway": "Vietcombank", "transactionDate": recent(),
               "accountNumber": ACCOUNT, "subAccount": "", "code": None, "content": code,
               "transferType": "in", "description": "", "transferAmount": 500_000,
               "accumulated": 0, "referenceCode": "FT26000007001"}
    response = client.post("/webhooks/sepay", data=json.dumps(webhook),
                           headers={"Authorization": f"Apikey {KEY}",
                                    "Content-Type": "application/json"})
    assert response.status_code == 200
    before = [(t.id, t.status, t.raw) for t in stored()]
    sepay.transactions.append(row(7001, code, "500000.00", reference="FT26000007001"))
    result = sync_account(synced.account, session=http, base_url=sepay.url, since=since())
    db.session.commit()
    assert (result.fetched, result.new, result.duplicates, result.rejected) == (1, 0, 1, [])
    assert [(t.id, t.status, t.raw) for t in stored()] == before
    assert invoice(synced, "HS002")["paid_vnd"] == 500_000


def test_the_same_bank_reference_through_another_channel_is_a_duplicate(synced, sepay, http):
    code = synced.codes["HS001"]
    casso = BankNotification(
        provider="casso", provider_txn_id="c-1", account_number=ACCOUNT, direction="in",
        amount_vnd=500_000, memo=code, bank_reference="FT26REF0001",
        occurred_at=datetime.strptime(recent(), FORMAT), payer_account=None, payer_name=None,
        bank_name="VCB")
    txn, _ = payments.record(casso, "{}")
    payments.process(txn.id)
    db.session.commit()
    sepay.transactions.append(row(7002, code, "500000.00", reference="FT26REF0001"))
    result = sync_account(synced.account, session=http, base_url=sepay.url, since=since())
    db.session.commit()
    assert (result.new, result.duplicates) == (0, 1)
    (only,) = stored()
    assert only.provider == "casso"
    assert invoice(synced, "HS001")["paid_vnd"] == 500_000


def test_a_webhook_row_stored_but_never_processed_is_completed(synced, sepay, http):
    code = synced.codes["HS001"]
    item = row(7003, code, "500000.00")
    payments.record(parse_transaction(item), json.dumps(item))  # the worker died here
    db.session.commit()
    sepay.transactions.append(item)
    result = sync_account(synced.account, session=http, base_url=sepay.url, since=since())
    db.session.commit()
    assert (result.new, result.duplicates) == (0, 1)
    assert stored()[0].status == "matched"


def test_outgoing_transfers_are_stored_as_out_and_ignored(synced, sepay, http):
    sepay.transactions.append(row(7004, "tra tien dien", amount_out="200000.00"))
    result = sync_account(synced.account, session=http, base_url=sepay.url, since=since())
    db.session.commit()
    assert result.new == 1
    (txn,) = stored()
    assert (txn.direction, txn.amount_vnd, txn.status, txn.status_reason) == (
        "out", 200_000, "ignored", "outgoing")


def test_a_malformed_row_is_rejected_and_reported_while_others_are_ingested(
        synced, sepay, runner):
    sepay.transactions += [
        row(8001, synced.codes["HS001"], "500000.00"),
        row(8002, "hoc phi", "12.5"),
        row(8003, synced.codes["HS002"], "500000.00"),
    ]
    result = runner.invoke(sync, [])
    assert result.exit_code == 1
    assert "lấy về 3, mới 2, trùng 0, bị từ chối 1;" in result.stdout
    assert "Giao dịch SePay 8002" in result.stderr and "'12.5'" in result.stderr
    assert sorted(t.provider_txn_id for t in stored()) == ["8001", "8003"]
    assert invoice(synced, "HS002")["status"] == "paid"


def test_rows_for_another_account_are_rejected(synced, sepay, http):
    sepay.tokens[TOKEN].add("9999999999")
    sepay.transactions.append(row(8004, "x", "100000.00", account="9999999999"))

    def ignoring_the_filter(path, query, authorization):
        return 200, {}, json.dumps({"status": 200, "error": None,
                                    "messages": {"success": True},
                                    "transactions": sepay.transactions}).encode()

    sepay.answer = ignoring_the_filter
    result = sync_account(synced.account, session=http, base_url=sepay.url, since=since())
    assert result.new == 0 and len(result.rejected) == 1
    assert "tài khoản khác" in result.rejected[0]
    assert stored() == []


def test_a_full_window_is_fetched_by_stepping_back(sepay, http):
    base = vietnam_now() - timedelta(hours=5)
    times = [base, base + timedelta(minutes=1), base + timedelta(minutes=1),
             base + timedelta(minutes=2), base + timedelta(minutes=3)]
    sepay.transactions = [row(9000 + i, "x", "1000.00", when=t.strftime(FORMAT))
                          for i, t in enumerate(times)]
    rows = fetch_transactions(http, sepay.url, TOKEN, ACCOUNT, since(), limit=3)
    assert sorted(r["id"] for r in rows) == [str(9000 + i) for i in range(5)]
    assert [r["query"].get("transaction_date_max") for r in sepay.requests] == [
        None, [times[1].strftime(FORMAT)], [times[0].strftime(FORMAT)]]


def test_a_second_fuller_than_a_page_is_an_error_not_a_silent_gap(sepay, http):
    when = recent(2)
    sepay.transactions = [row(9010 + i, "x", "1000.00", when=when) for i in range(3)]
    with pytest.raises(SyncError, match="share one second"):
        fetch_transactions(http, sepay.url, TOKEN, ACCOUNT, since(), limit=2)


def test_rate_limited_once_then_served(sepay, http):
    sepay.transactions.append(row(9100, "x", "1000.00"))
    sepay.canned.append((429, {"x-sepay-userapi-retry-after": "0"}, b'{"status":429}'))
    rows = fetch_transactions(http, sepay.url, TOKEN, ACCOUNT, since())
    assert [r["id"] for r in rows] == ["9100"] and len(sepay.requests) == 2


# --------------------------------------------------------------------------- failures


def test_a_wrong_token_is_a_clear_error_and_a_failing_exit(synced, sepay, runner, http):
    synced.account.sepay_api_token = "not-the-token"
    db.session.commit()
    result = runner.invoke(sync, ["--school", "LQD"])
    assert result.exit_code == 1
    assert "SePay từ chối API token (HTTP 401)" in result.stderr
    assert "not-the-token" not in result.output
    with pytest.raises(SyncError, match="HTTP 401"):
        fetch_transactions(http, sepay.url, "nope", ACCOUNT, since())


def test_one_failing_account_does_not_lose_another(synced, sepay, runner, make_school):
    other = make_school("NTH", prefix="NT", name="Trường Tiểu học Nguyễn Trãi",
                        account="0022002222222")
    other.bank_accounts[0].sepay_api_token = "revoked-token"
    db.session.commit()
    sepay.transactions.append(row(9200, synced.codes["HS001"], "500000.00"))
    result = runner.invoke(sync, [])
    assert result.exit_code == 1
    assert f"Tài khoản {ACCOUNT} (LQD): lấy về 1, mới 1" in result.stdout
    assert "Tài khoản 0022002222222 (NTH): LỖI" in result.stderr
    assert [t.provider_txn_id for t in stored()] == ["9200"]
    assert invoice(synced, "HS001")["status"] == "paid"


def test_the_deployment_token_serves_accounts_without_their_own(synced, sepay, app, http):
    synced.account.sepay_api_token = None
    db.session.commit()
    sepay.transactions.append(row(9300, synced.codes["HS001"], "500000.00"))
    assert sync_all(session=http, base_url=sepay.url, since=since()) == []
    ((account, outcome),) = sync_all(session=http, base_url=sepay.url, since=since(),
                                     deployment_token=TOKEN)
    assert account.account_number == ACCOUNT and outcome.new == 1


def test_no_token_anywhere_is_a_failing_exit(make_school, sepay, runner):
    make_school()
    result = runner.invoke(sync, [])
    assert result.exit_code == 1 and "TUITION_SEPAY_API_TOKEN" in result.stderr
    assert sepay.requests == []


def test_server_down_is_a_clear_error(synced, sepay, app, runner, http):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(SyncError) as caught:
        sync_account(synced.account, session=http, base_url=dead, since=since())
    assert caught.value.message_vi.startswith("Không kết nối được tới SePay")
    app.config["SEPAY_API_URL"] = dead
    result = runner.invoke(sync, [])
    assert result.exit_code == 1 and "Không kết nối được tới SePay" in result.stderr


@pytest.mark.parametrize("status, body, message", [
    (200, b"<html>login</html>", "không phải JSON"),
    (200, b'{"status":200,"error":null}', "thiếu danh sách"),
    (500, b'{"status":500,"error":"Internal"}', "HTTP 500: Internal"),
    (302, b"", "HTTP 302"),
])
def test_unexpected_answers_are_clear_errors(sepay, http, status, body, message):
    sepay.canned.append((status, {"Location": "http://192.0.2.1/"}, body))
    with pytest.raises(SyncError) as caught:
        fetch_transactions(http, sepay.url, TOKEN, ACCOUNT, since())
    assert message in caught.value.message_vi


def test_a_slow_server_times_out(sepay, http):
    sepay.delay = 1.0
    with pytest.raises(SyncError, match="did not answer within 0.2 s"):
        fetch_transactions(http, sepay.url, TOKEN, ACCOUNT, since(), timeout=0.2)


def test_the_network_guard_stays_on(http):
    # Only 127.0.0.1 is ever contacted above; anything else is stopped by conftest's guard.
    with warnings.catch_warnings():
        # The guard's RuntimeError leaves urllib3's half-made socket for the collector.
        warnings.simplefilter("ignore", ResourceWarning)
        with pytest.raises(RuntimeError, match="test tried to connect"):
            fetch_transactions(http, "http://192.0.2.1", TOKEN, ACCOUNT, since(), timeout=1)
        gc.collect()

