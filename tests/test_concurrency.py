"""Money under concurrency, on PostgreSQL and on SQLite: duplicate deliveries at the same
moment, two transfers racing for one invoice, a worker killed half-way, billing runs racing,
two accountants placing the same transfer.

Every race starts its threads on a :class:`threading.Barrier`; each thread has its own app
context, hence its own session and database connection (or its own HTTP connection to a real
threaded server). SQLite has no row locks: these tests are what shows that its guard (the
write lock taken where PostgreSQL locks a row) keeps money exact there too.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from datetime import date

import pytest
from sqlalchemy import func, select

from tuition.extensions import db
from tuition.models import (
    Allocation,
    BankTransaction,
    BilledMonth,
    BillingRun,
    Invoice,
    Student,
    User,
)
from tuition.services import billing, fees, ledger, schools

KEY = "sepay-key-for-concurrency-0123456789"
CASSO_KEY = "casso-key-for-concurrency-0123456789"
ACCOUNT = "0011001234567"
STUDENTS = [f"HS{n:03d}" for n in range(1, 9)]
ROSTER = "Mã học sinh,Họ và tên,Ngày sinh,Lớp,Họ tên phụ huynh,Số điện thoại\n" + "".join(
    f"{code},Nguyễn Văn Khôi {n},05/03/2019,1A,Nguyễn Văn Bình {n},09123456{n:02d}\n"
    for n, code in enumerate(STUDENTS, 1)
)
_ids = itertools.count(50_000)


@pytest.fixture
def school(make_school, make_user, api):
    """Eight students, each with one 500,000 đ invoice for 2026-09; ``.codes`` by student."""
    made = make_school(prefix="LQ", account=ACCOUNT)
    accountant, token = make_user("accountant", made)
    acct = api(token)
    assert acct.upload("/schools/LQD/students/import", ROSTER.encode(), "ds.csv").status_code \
        < 300
    acct.post("/schools/LQD/fee-items", json={
        "code": "HOCPHI", "name": "Học phí", "amount_vnd": 500_000, "unit": "month"})
    acct.post("/schools/LQD/billing-runs", json={
        "period": "2026-09", "fee_items": ["HOCPHI"], "due_date": "2026-09-15"})
    made = schools.get_school("LQD")
    made.bank_accounts[0].sepay_api_key = KEY
    made.bank_accounts[0].casso_checksum_key = CASSO_KEY
    db.session.commit()
    acct.codes = {i["student_code"]: i["code"] for i in
                  acct.get("/schools/LQD/invoices").get_json()["items"]}
    assert sorted(acct.codes) == STUDENTS
    acct.user_id = accountant.id
    return acct


def sepay_raw(memo: str, amount: int, *, txn_id: int | None = None,
              reference: str | None = None) -> bytes:
    txn_id = txn_id or next(_ids)
    return json.dumps({
        "id": txn_id, "gateway": "Vietcombank", "transactionDate": "2026-09-05 10:15:00",
        "accountNumber": ACCOUNT, "subAccount": "", "code": None, "content": memo,
        "transferType": "in", "description": f"BankAPINotify {memo}",
        "transferAmount": amount, "accumulated": 0,
        "referenceCode": reference or f"FT2624{txn_id:08d}",
    }).encode()


def send_sepay(client, raw: bytes):
    return client.post("/webhooks/sepay", data=raw, headers={
        "Authorization": f"Apikey {KEY}", "Content-Type": "application/json"})


def send_casso(client, memo: str, amount: int, *, txn_id: int, reference: str):
    body = {"error": 0, "data": {
        "id": txn_id, "reference": reference, "description": memo, "amount": amount,
        "runningBalance": 0, "transactionDateTime": "2026-09-05 10:15:00",
        "accountNumber": ACCOUNT, "bankName": "Vietcombank", "bankAbbreviation": "VCB",
        "counterAccountName": "NGUYEN VAN BINH", "counterAccountNumber": "190333444555",
    }}
    stamp = str(int(time.time() * 1000))
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    v1 = hmac.new(CASSO_KEY.encode(), f"{stamp}.{canonical}".encode(),
                  hashlib.sha512).hexdigest()
    return client.post("/webhooks/casso", data=json.dumps(body), headers={
        "X-Casso-Signature": f"t={stamp},v1={v1}", "Content-Type": "application/json"})


def all_at_once(*calls):
    """Run the callables in threads released together; return their results in order.

    A thread's exception is re-raised here, so a deadlock error or an IntegrityError in any
    racer fails the test.
    """
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # noqa: B036  (handed to the test thread)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(t.is_alive() for t in threads), "a racer is stuck (lock never released?)"
    if errors:
        raise errors[0]
    return results


def post(app, send, *args, **kwargs):
    """A request from its own test client: its own app context, session and connection."""
    def call():
        response = send(app.test_client(), *args, **kwargs)
        return response.status_code, response.get_json()
    return call


def fresh():
    """Forget what this (test) thread's session remembers; the racers wrote behind its back."""
    db.session.rollback()
    db.session.expire_all()


def invoice_of(code: str) -> Invoice:
    return db.session.scalar(select(Invoice).where(Invoice.code == code))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def assert_ledger_ok() -> ledger.LedgerReport:
    report = ledger.verify_school(schools.get_school("LQD"))
    assert report.ok, report.problems
    return report


def test_same_notification_from_eight_workers_is_one_payment(app, school):
    code = school.codes["HS001"]
    raw = sepay_raw(f"{code} hoc phi", 500_000)
    responses = all_at_once(*[post(app, send_sepay, raw) for _ in range(8)])
    assert responses == [(200, {"success": True})] * 8
    fresh()
    assert count(BankTransaction) == 1
    assert count(Allocation) == 1
    paid = invoice_of(code)
    assert (paid.paid_vnd, paid.status) == (500_000, "paid")
    assert db.session.scalar(select(BankTransaction.status)) == "matched"
    assert_ledger_ok()


def test_two_transfers_for_one_invoice_at_once_leave_it_exact(app, school):
    rounds = STUDENTS[:5]
    for student in rounds:
        code = school.codes[student]
        responses = all_at_once(
            post(app, send_sepay, sepay_raw(f"{code} hoc phi", 300_000)),
            post(app, send_sepay, sepay_raw(f"IBFT {code}", 300_000)),
        )
        assert responses == [(200, {"success": True})] * 2
        fresh()
        paid = invoice_of(code)
        assert (paid.paid_vnd, paid.status) == (500_000, "paid"), student
        on_invoice = db.session.scalar(select(func.sum(Allocation.amount_vnd)).where(
            Allocation.invoice_id == paid.id))
        assert on_invoice == 500_000, student
        report = assert_ledger_ok()
        assert report.on_credit_vnd == 100_000 * (rounds.index(student) + 1)
    assert count(BankTransaction) == 2 * len(rounds)
    # Whichever came first is a partial payment; the other paid the rest, the surplus credited.
    assert sorted(db.session.scalars(select(BankTransaction.status))) == (
        ["matched"] * len(rounds) + ["partial"] * len(rounds))


def test_same_transfer_from_two_providers_at_once_is_one_payment(app, school):
    for n, student in enumerate(STUDENTS[:3]):
        code = school.codes[student]
        reference = f"FT26REF{n:06d}"
        responses = all_at_once(
            post(app, send_sepay, sepay_raw(code, 500_000, reference=reference)),
            post(app, send_casso, code, 500_000, txn_id=90_000 + n, reference=reference),
        )
        assert responses == [(200, {"success": True})] * 2
        fresh()
        assert count(BankTransaction, BankTransaction.bank_reference == reference) == 1
        paid = invoice_of(code)
        assert (paid.paid_vnd, paid.status) == (500_000, "paid")
    assert count(BankTransaction) == 3
    assert count(Allocation) == 3
    assert assert_ledger_ok().on_credit_vnd == 0


# The dying worker: a separate interpreter stores the notification exactly as the webhook
# does, optionally matches it too, and is SIGKILLed before the matching is committed.
DYING_WORKER = textwrap.dedent("""
    import os, signal, sys
    from tuition.app import create_app
    from tuition.core.notifications import parse_sepay
    from tuition.extensions import db
    from tuition.services import payments

    raw = open(sys.argv[1], "rb").read()
    app = create_app({"TESTING": True, "SECRET_KEY": "dying-worker"})
    with app.app_context():
        txn, created = payments.record(parse_sepay(raw), raw)
        db.session.commit()
        if sys.argv[2] == "after-flush":
            txn = payments.process(txn.id)  # flushed, row locks held, not committed
            print(txn.status, len(txn.allocations), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
""")


@pytest.mark.parametrize("killed", ["after-store", "after-flush"])
def test_retry_after_a_killed_worker_completes_the_payment_once(
        app, school, client, tmp_path, database_url, killed):
    code = school.codes["HS002"]
    raw = sepay_raw(f"{code} hoc phi", 500_000)
    (tmp_path / "body.json").write_bytes(raw)
    (tmp_path / "worker.py").write_text(DYING_WORKER)
    worker = subprocess.run(
        [sys.executable, str(tmp_path / "worker.py"), str(tmp_path / "body.json"), killed],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "DATABASE_URL": database_url},
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr
    if killed == "after-flush":
        assert worker.stdout.split() == ["matched", "1"]  # the work existed, uncommitted

    fresh()
    (stored,) = db.session.scalars(select(BankTransaction))
    assert (stored.status, stored.allocations) == ("received", [])
    assert invoice_of(code).paid_vnd == 0

    for _ in range(2):  # the provider's retry, and one more for good measure
        response = send_sepay(client, raw)
        assert (response.status_code, response.get_json()) == (200, {"success": True})
    fresh()
    assert count(BankTransaction) == 1
    assert count(Allocation) == 1
    paid = invoice_of(code)
    assert (paid.paid_vnd, paid.status) == (500_000, "paid")
    assert_ledger_ok()


def test_two_billing_runs_for_one_period_at_once_issue_each_invoice_once(app, school):
    def bill(period):
        def call():
            with app.app_context():
                actor = db.session.get(User, school.user_id)
                result = billing.run_billing(
                    actor, schools.get_school("LQD"), period=period, fee_codes=["HOCPHI"],
                    due_date=date(2026, 12, 31))
                db.session.commit()
                return len(result.issued)
        return call

    for period in ("2026-10", "2026-11", "2026-12"):
        issued = all_at_once(bill(period), bill(period))
        assert sorted(issued) == [0, len(STUDENTS)], (period, issued)
        fresh()
        assert count(Invoice, Invoice.period == period) == len(STUDENTS)
        assert db.session.scalar(
            select(func.count(func.distinct(Invoice.student_id)))
            .where(Invoice.period == period)) == len(STUDENTS)
        # The run that found everything billed issued nothing and left no run behind.
        runs = db.session.scalars(
            select(BillingRun.invoices_created).where(BillingRun.period == period))
        assert list(runs) == [len(STUDENTS)]


def test_a_month_run_and_a_term_run_at_once_bill_each_month_once(app, school):
    """October as a month and the first term, at the same moment, after September was
    billed: whichever goes first, every student is billed each month of the term once."""
    def bill(period):
        def call():
            with app.app_context():
                actor = db.session.get(User, school.user_id)
                result = billing.run_billing(
                    actor, schools.get_school("LQD"), period=period, fee_codes=["HOCPHI"],
                    due_date=date(2026, 12, 31))
                db.session.commit()
                return period, len(result.issued), result.total_vnd
        return call

    results = all_at_once(bill("2026-2027-HK1"), bill("2026-10"))
    fresh()
    issued = dict((period, (count, total)) for period, count, total in results)
    students = len(STUDENTS)
    assert issued["2026-2027-HK1"][0] == students
    # Term first: it takes October and the month run finds nothing; else three months each.
    assert issued["2026-10"] in ((0, 0), (students, students * 500_000))
    assert sum(total for _count, total in issued.values()) == students * 3 * 500_000
    per_student = db.session.execute(
        select(BilledMonth.student_id, func.count(), func.count(func.distinct(BilledMonth.month)))
        .where(BilledMonth.released_at.is_(None)).group_by(BilledMonth.student_id)).all()
    assert sorted((rows, months) for _sid, rows, months in per_student) == [(4, 4)] * students
    assert db.session.scalar(select(func.sum(Invoice.total_vnd))) == students * 4 * 500_000
    assert_ledger_ok()


def test_an_exemption_and_a_payment_for_the_same_invoice_at_once(app, school):
    """A transfer paying HS001's September and a 100 % exemption for it, at the same moment:
    however they interleave, the invoice asks nothing and the 500,000 đ is the family's
    credit, every dong accounted for."""
    def exempt():
        with app.app_context():
            actor = db.session.get(User, school.user_id)
            made = schools.get_school("LQD")
            student = db.session.scalar(select(Student).where(Student.code == "HS001"))
            fees.add_exemption(actor, made, student, kind="percent", value=100,
                               reason="Hộ nghèo", valid_from=date(2026, 9, 1))
            db.session.commit()

    code = school.codes["HS001"]
    all_at_once(post(app, send_sepay, sepay_raw(f"{code} hoc phi", 500_000)), exempt)
    fresh()
    september = invoice_of(code)
    assert (september.total_vnd, september.paid_vnd, september.status) == (0, 0, "paid")
    report = assert_ledger_ok()
    assert report.on_credit_vnd == 500_000 and report.on_invoices_vnd == 0


def http_post(url: str, raw: bytes):
    """One delivery over real HTTP, on its own connection."""
    request = urllib.request.Request(url, data=raw, method="POST", headers={
        "Authorization": f"Apikey {KEY}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def test_one_notification_delivered_eight_times_at_once_over_http_is_booked_once(
        app, school, live_server):
    """The aggregator's retry racing a slow first delivery, against a real threaded server;
    then ``flask tuition verify-ledger`` is the judge."""
    for round_, student in enumerate(STUDENTS[:3]):
        code = school.codes[student]
        raw = sepay_raw(f"{code} hoc phi", 500_000)
        responses = all_at_once(*[
            (lambda raw=raw: http_post(f"{live_server}/webhooks/sepay", raw))
            for _ in range(8)])
        assert responses == [(200, {"success": True})] * 8
        fresh()
        assert count(BankTransaction) == round_ + 1
        assert count(Allocation) == round_ + 1
        assert (invoice_of(code).paid_vnd, invoice_of(code).status) == (500_000, "paid")
    verdict = app.test_cli_runner().invoke(args=["tuition", "verify-ledger"])
    assert verdict.exit_code == 0, verdict.output
    assert "LQD: OK" in verdict.output


def test_two_accountants_placing_one_transfer_at_once_place_it_once(app, school, client):
    """Two people assign the same unmatched transfer (to different invoices) at the same
    moment: one wins, the other is told the money is already placed."""
    for n in range(3):
        raw = sepay_raw(f"chuyen tien hoc phi lan {n}", 500_000)
        assert send_sepay(client, raw).status_code == 200
        fresh()
        txn_id = db.session.scalar(select(BankTransaction.id).order_by(
            BankTransaction.id.desc()).limit(1))
        targets = [school.codes[STUDENTS[2 * n]], school.codes[STUDENTS[2 * n + 1]]]

        def assign(invoice_code, txn_id=txn_id):
            def call():
                response = app.test_client().post(
                    f"/api/v1/payments/{txn_id}/allocations", headers=school.headers,
                    json={"allocations": [{"invoice_code": invoice_code,
                                           "amount_vnd": 500_000}],
                          "reason": "Phụ huynh gọi điện xác nhận"})
                return response.status_code
            return call

        statuses = all_at_once(*[assign(code) for code in targets])
        assert sorted(statuses) == [201, 409], statuses
        fresh()
        assert count(Allocation, Allocation.transaction_id == txn_id) == 1
        paid = [invoice_of(code).paid_vnd for code in targets]
        assert sorted(paid) == [0, 500_000]
    assert_ledger_ok()


def test_credit_is_spent_once_when_two_surpluses_and_a_billing_run_race(app, school):
    """Two overpayments for one child's September and October invoices and a November billing
    run, all at once: every dong of credit is spent once, on what is open, oldest first."""
    def bill(period):
        def call():
            with app.app_context():
                actor = db.session.get(User, school.user_id)
                billing.run_billing(actor, schools.get_school("LQD"), period=period,
                                    fee_codes=["HOCPHI"], due_date=date(2026, 11, 15))
                db.session.commit()
        return call

    bill("2026-10")()
    fresh()
    october = db.session.scalar(select(Invoice.code).where(
        Invoice.period == "2026-10", Invoice.student_id == invoice_of(
            school.codes["HS004"]).student_id))
    all_at_once(
        post(app, send_sepay, sepay_raw(f"{school.codes['HS004']} hoc phi", 800_000)),
        post(app, send_sepay, sepay_raw(f"{october} hoc phi", 900_000)),
        bill("2026-11"),
    )
    fresh()
    student_id = invoice_of(october).student_id
    invoices = {inv.period: inv for inv in db.session.scalars(
        select(Invoice).where(Invoice.student_id == student_id))}
    # 1,700,000 received for 1,500,000 owed: all three paid, 200,000 left as credit.
    assert {p: (i.paid_vnd, i.status) for p, i in invoices.items()} == {
        "2026-09": (500_000, "paid"), "2026-10": (500_000, "paid"),
        "2026-11": (500_000, "paid")}
    report = assert_ledger_ok()
    assert report.on_credit_vnd == 200_000
