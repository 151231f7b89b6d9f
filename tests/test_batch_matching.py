"""Matching the queue in batches gives exactly what matching one by one gives: same statuses,
same allocations, gapless receipts, a clean ledger; several workers share the queue."""

from __future__ import annotations

import random
import threading

from sqlalchemy import func, select

from tests.helpers import KEY, send_sepay, sepay_body
from tuition.extensions import db
from tuition.models import Allocation, BankTransaction, Invoice, Receipt, Student
from tuition.services import batch_matching, ledger, payments, schools, summaries

STUDENTS = 12


def make_billed_school(make_school, api, make_user, code: str, prefix: str, account: str):
    school = make_school(code, prefix=prefix, account=account)
    _user, token = make_user("accountant", school)
    acct = api(token)
    roster = "Mã học sinh,Họ và tên,Lớp,Họ tên phụ huynh,Số điện thoại\n" + "".join(
        f"HS{n:03d},Học Sinh Số {n},{1 + n % 3}A,Phụ Huynh {n // 2},09{n // 2:08d}\n"
        for n in range(1, STUDENTS + 1))
    assert acct.upload(f"/schools/{code}/students/import", roster.encode(),
                       "ds.csv").status_code < 300
    acct.post(f"/schools/{code}/fee-items", json={
        "code": "HOCPHI", "name": "Học phí", "amount_vnd": 500_000, "unit": "month"})
    for period in ("2026-09", "2026-10"):
        acct.post(f"/schools/{code}/billing-runs", json={
            "period": period, "fee_items": ["HOCPHI"], "due_date": f"{period}-15"})
    made = schools.get_school(code)
    made.bank_accounts[0].sepay_api_key = KEY
    db.session.commit()
    return {(i["student_code"], i["period"]): i["code"] for i in
            acct.get(f"/schools/{code}/invoices").get_json()["items"]}


def scenario(codes: dict, rng: random.Random) -> list[tuple[str, int]]:
    """(memo, amount) notifications of every kind the matcher meets."""
    notes = []
    for n in range(1, STUDENTS + 1):
        student = f"HS{n:03d}"
        sept, octo = codes[student, "2026-09"], codes[student, "2026-10"]
        kind = n % 6
        if kind == 0:
            notes.append((f"{sept} hoc phi", 500_000))
        elif kind == 1:  # tenths of an invoice, many for one invoice
            notes += [(f"IBFT {sept}", 50_000)] * rng.randint(3, 10)
        elif kind == 2:  # overpaid: the surplus pays October at once
            notes.append((f"{sept} hoc phi 2 thang", 800_000))
        elif kind == 3:  # siblings together (exact), then paid twice
            sibling = codes[f"HS{n + 1:03d}", "2026-09"] if n < STUDENTS else octo
            notes.append((f"{sept} {sibling}", 1_000_000))
            notes.append((f"{sept}", 500_000))
        elif kind == 4:  # no code
            notes.append((f"hoc phi chau {n}", 420_000))
        else:  # partial then rest, and a mismatched split
            notes.append((f"{octo}", 200_000))
            notes.append((f"{octo}", 300_000))
            notes.append((f"{sept} {octo}", 123_000))
    rng.shuffle(notes)
    return notes


def outcome(code: str) -> dict:
    school = schools.get_school(code)
    invoices = {(s, p): (paid, status) for s, p, paid, status in db.session.execute(
        select(Student.code, Invoice.period, Invoice.paid_vnd, Invoice.status)
        .join(Student, Student.id == Invoice.student_id)
        .where(Invoice.school_id == school.id))}
    statuses = sorted((t.amount_vnd, t.status, t.status_reason) for t in db.session.scalars(
        select(BankTransaction).where(BankTransaction.school_id == school.id)))
    receipts = sorted(db.session.scalars(select(Receipt.number).where(
        Receipt.school_id == school.id)))
    # What each receipt says, but the school's own facts (two schools are compared).
    contents = sorted(
        (amount, sorted((k, str(v)) for k, v in content.items() if not k.startswith("school")))
        for amount, content in db.session.execute(select(Receipt.amount_vnd, Receipt.content)
                                                  .where(Receipt.school_id == school.id)))
    report = ledger.verify_school(school)
    assert report.ok, report.problems
    return {"invoices": invoices, "statuses": statuses, "receipts": len(receipts),
            "contents": contents,
            "gapless": receipts == list(range(1, len(receipts) + 1)),
            "credit": report.on_credit_vnd, "review": report.awaiting_review_vnd}


def test_batches_book_what_one_by_one_books(client, make_school, make_user, api, queue_mode):
    one = make_billed_school(make_school, api, make_user, "SEQ", "SQ", "1111222233")
    batch = make_billed_school(make_school, api, make_user, "BAT", "BA", "4444555566")
    for codes, account, seed_base in ((one, "1111222233", 1), (batch, "4444555566", 1)):
        for n, (memo, amount) in enumerate(scenario(codes, random.Random(7))):
            body = sepay_body(memo, amount, account=account, txn_id=seed_base * 10_000 + n)
            assert send_sepay(client, body).status_code == 200
    school_one = schools.get_school("SEQ").id
    for txn_id in db.session.scalars(select(BankTransaction.id).where(
            BankTransaction.school_id == school_one).order_by(BankTransaction.id)):
        payments.process(txn_id)
        db.session.commit()
    # The batch school's rows, in batches of 7 (the other school's are matched already).
    batches = 0
    while (result := batch_matching.match_pending(7)).claimed:
        db.session.commit()
        batches += 1
        assert result.set_wise + result.one_by_one == result.claimed
    db.session.expire_all()
    assert batches > 3
    expected, got = outcome("SEQ"), outcome("BAT")
    assert got == expected
    assert got["gapless"] and got["receipts"] > 20 and got["credit"] >= 0


def test_several_workers_share_the_queue_in_batches(app, client, make_school, make_user, api,
                                                    queue_mode):
    codes = make_billed_school(make_school, api, make_user, "LQD", "LQ", "0011001234567")
    # Each notification pays a tenth of a September or an October invoice, the two months
    # interleaved: every batch changes the running totals of both periods (rows that the
    # authority's triggers lock), which must stay exact.
    tenths = [(f"{codes[f'HS{n:03d}', period]} hp", n * 100 + tenth + (50 if period > "2026-09"
                                                                     else 0))
              for n in range(1, STUDENTS + 1) for period in ("2026-09", "2026-10")
              for tenth in range(10)]
    random.Random(3).shuffle(tenths)
    for memo, txn_id in tenths:
        send_sepay(client, sepay_body(memo, 50_000, txn_id=70_000 + txn_id))
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def work():
        try:
            with app.app_context():
                barrier.wait()
                while batch_matching.match_pending(8).claimed:
                    db.session.commit()
                db.session.rollback()
        except BaseException as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(BankTransaction).where(
        BankTransaction.status == "received")) == 0
    assert db.session.scalar(select(func.count()).select_from(Allocation)) == STUDENTS * 20
    paid = db.session.scalars(select(Invoice.status)).all()
    assert paid == ["paid"] * STUDENTS * 2
    numbers = sorted(db.session.scalars(select(Receipt.number)))
    assert numbers == list(range(1, STUDENTS * 20 + 1))
    report = ledger.verify_school(schools.get_school("LQD"))
    assert report.ok, report.problems
    assert [check.problems for check in summaries.verify()] == [[]] * 4
