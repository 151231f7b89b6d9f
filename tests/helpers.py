"""Helpers shared by the payment tests: SePay bodies, sending them, reading results."""

from __future__ import annotations

import itertools
import json

from tuition.services import ledger, schools

KEY = "sepay-key-for-tests-0123456789"
CASSO_KEY = "casso-checksum-key-for-tests-0123456789"
ROSTER = (
    "Mã học sinh,Họ và tên,Ngày sinh,Lớp,Họ tên phụ huynh,Số điện thoại\n"
    "HS001,Nguyễn Thị Ánh Dương,05/03/2019,1A,Nguyễn Văn Bình,0912345678\n"
    "HS002,Nguyễn Minh Khôi,12/11/2018,2A,Nguyễn Văn Bình,0912345678\n"
    "HS003,Lê Bảo Ngọc,21/01/2019,1A,Lê Văn Tâm,0901234567\n"
)
_ids = itertools.count(1000)


def sepay_body(memo: str, amount: int, *, account="0011001234567", direction="in",
               txn_id=None, reference=None) -> dict:
    txn_id = txn_id or next(_ids)
    return {
        "id": txn_id, "gateway": "Vietcombank", "transactionDate": "2026-09-05 10:15:00",
        "accountNumber": account, "subAccount": "", "code": None, "content": memo,
        "transferType": direction, "description": f"BankAPINotify {memo}",
        "transferAmount": amount, "accumulated": 0,
        "referenceCode": reference or f"FT2624{txn_id:08d}",
    }


def send_sepay(client, body: dict, key: str = KEY):
    return client.post("/webhooks/sepay", data=json.dumps(body),
                       headers={"Authorization": f"Apikey {key}",
                                "Content-Type": "application/json"})


def payments_of(acct, status=None):
    query = f"?status={status}" if status else ""
    return acct.get(f"/schools/LQD/payments{query}").get_json()["items"]


def invoice(acct, student):
    return acct.get(f"/invoices/{acct.codes[student]}").get_json()


def assert_ledger_ok():
    report = ledger.verify_school(schools.get_school("LQD"))
    assert report.ok, report.problems
    return report


