"""The review queue finds the child, and an accountant's day has no dead ends: suggestions on
real transfers (webhooks, both engines), picking a student by searching, crediting a surplus
or a remainder, setting aside after a partial assignment, the student page, searching the
transactions and what a statement upload added."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import time

import pytest
from openpyxl import Workbook
from sqlalchemy import event, select

from tests.helpers import (
    CASSO_KEY,
    assert_ledger_ok,
    invoice,
    payments_of,
    send_sepay,
    sepay_body,
)
from tuition.extensions import db
from tuition.models import AuditEvent, Receipt, Student
from tuition.services import schools
from tuition.services.suggestions import suggestions_for

PASSWORD = "mat-khau-rat-dai-123"
QUEUE = "/app/LQD/cho-xu-ly"


@pytest.fixture
def accountant(billed, make_staff, staff_login):
    user = make_staff("accountant", schools.get_school("LQD"))
    return staff_login(user.email, PASSWORD)


@pytest.fixture
def principal(billed, make_staff, staff_login):
    user = make_staff("principal", schools.get_school("LQD"))
    return staff_login(user.email, PASSWORD)


def casso(client, memo: str, amount: int, txn_id: int, *, payer="LE VAN TAM",
          account="190333444555"):
    body = {"error": 0, "data": {
        "id": txn_id, "reference": f"FT26REVIEW{txn_id}", "description": memo, "amount": amount,
        "runningBalance": 0, "transactionDateTime": "2026-09-05 11:00:00",
        "accountNumber": "0011001234567", "bankName": "Vietcombank", "bankAbbreviation": "VCB",
        "virtualAccountNumber": "", "virtualAccountName": "",
        "counterAccountName": payer, "counterAccountNumber": account,
        "counterAccountBankId": "970407", "counterAccountBankName": "Techcombank",
    }}
    stamp = str(int(time.time() * 1000))
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    v1 = hmac.new(CASSO_KEY.encode(), f"{stamp}.{canonical}".encode(),
                  hashlib.sha512).hexdigest()
    response = client.post("/webhooks/casso", data=json.dumps(body), headers={
        "X-Casso-Signature": f"t={stamp},v1={v1}", "Content-Type": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)


def mistyped(code: str) -> str:
    """The code with two adjacent characters of its random part swapped."""
    i = next(i for i in range(3, len(code) - 1) if code[i] != code[i + 1])
    return code[:i] + code[i + 1] + code[i] + code[i + 2:]


def review_item(billed, memo_part: str | None = None) -> dict:
    items = payments_of(billed, "review")
    if memo_part:
        items = [p for p in items if memo_part in p["memo"]]
    (item,) = items
    return billed.get(f"/payments/{item['id']}").get_json()


def post(browser, path: str, page: str, **data):
    return browser.post(path, data={"csrf_token": browser.csrf(page), **data})


# --- suggestions on real transfers -------------------------------------------------------


def test_a_mistyped_code_suggests_its_invoice_first_and_assigns_nothing(client, billed):
    typed = mistyped(billed.codes["HS003"])
    send_sepay(client, sepay_body(f"{typed} hoc phi", 500_000))
    detail = review_item(billed)
    assert detail["status"] == "review" and detail["allocations"] == []
    top = detail["suggestions"][0]
    assert top["student_code"] == "HS003" and top["confident"]
    assert top["reasons"][0] == (f"Mã gần giống {billed.codes['HS003']} "
                                 f"(đảo 2 ký tự liền nhau: “{typed}”)")
    assert top["reasons_en"][0].startswith(f"Code close to {billed.codes['HS003']}")
    assert invoice(billed, "HS003")["paid_vnd"] == 0
    assert_ledger_ok()


@pytest.mark.parametrize("phone", ["0901234567", "0901 234 567", "+84901234567"])
def test_the_guardians_phone_finds_the_child(client, billed, phone):
    send_sepay(client, sepay_body(f"{phone} nop hoc phi T9", 500_000))
    top = review_item(billed)["suggestions"][0]
    assert top["student_code"] == "HS003"
    assert "Nội dung có số điện thoại phụ huynh 0901 234 567" in top["reasons"]


def test_the_guardians_name_then_the_given_name_tells_siblings_apart(client, billed):
    send_sepay(client, sepay_body("NGUYEN VAN BINH CK HOC PHI CON KHOI", 500_000))
    suggestions = review_item(billed)["suggestions"]
    assert [s["student_code"] for s in suggestions[:2]] == ["HS002", "HS001"]
    assert suggestions[0]["confident"] and not suggestions[1]["confident"]


def test_thang_the_month_is_not_a_name(client, billed):
    send_sepay(client, sepay_body("HOC PHI THANG 9 NAM HOC 2026-2027", 500_000))
    suggestions = review_item(billed)["suggestions"]
    assert not any(s["confident"] for s in suggestions)
    assert all("tên" not in " ".join(s["reasons"]) for s in suggestions)


def test_the_payer_who_paid_before_and_the_payer_named_like_the_guardian(client, billed):
    # Lê Văn Tâm's account paid Ngọc's invoice with its code: from then on it is known.
    casso(client, f"{billed.codes['HS003']}", 500_000, 501)
    billed.post("/schools/LQD/billing-runs", json={
        "period": "2026-10", "fee_items": ["HOCPHI"], "due_date": "2026-10-15"})
    casso(client, "chuyen tien", 500_000, 502)
    top = review_item(billed, "chuyen tien")["suggestions"][0]
    assert top["student_code"] == "HS003"
    assert "Tài khoản chuyển đã từng nộp tiền cho học sinh này" in top["reasons"]
    # A new account, but the bank names the payer: the roster's guardian of Ngọc.
    casso(client, "CK", 500_000, 503, account="5550001112")
    top = review_item(billed, "CK")["suggestions"][0]
    assert top["student_code"] == "HS003"
    assert "Người chuyển Le Van Tam trùng tên phụ huynh" in top["reasons"]


def test_a_whole_page_is_ranked_in_two_queries(app, client, billed):
    for memo in ("be Ngoc 1A", "con Khoi", "0912345678", "chuyen tien", "HS hoc phi"):
        send_sepay(client, sepay_body(memo, 400_000))
    from tuition.models import BankTransaction

    txns = list(db.session.scalars(select(BankTransaction).order_by(BankTransaction.id)))
    for txn in txns:
        txn.payer_account, txn.payer_name = "1900111", "NGUYEN VAN BINH"
    db.session.flush()
    statements = []

    def count(*_args):
        statements.append(1)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        ranked = suggestions_for(txns)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(ranked) == 5 and len(statements) == 2
    assert ranked[txns[0].id][0]["student_code"] == "HS003"
    db.session.rollback()


# --- set aside after a partial assignment ------------------------------------------------


def test_set_aside_after_a_partial_assignment_keeps_the_ledger_clean(client, billed):
    send_sepay(client, sepay_body("hoc phi be Ngoc + quy lop", 700_000))
    payment = payments_of(billed, "review")[0]
    billed.post(f"/payments/{payment['id']}/allocations", json={
        "allocations": [{"invoice_code": billed.codes["HS003"], "amount_vnd": 500_000}],
        "reason": "Phụ huynh xác nhận"})
    assert payments_of(billed, "review")[0]["unallocated_vnd"] == 200_000
    refused = billed.post(f"/payments/{payment['id']}/set-aside", json={"reason": " "})
    assert refused.status_code == 422
    response = billed.post(f"/payments/{payment['id']}/set-aside",
                           json={"reason": "Tiền quỹ lớp, sẽ chuyển cho hội phụ huynh"})
    assert response.status_code == 200 and response.get_json()["status"] == "ignored"
    report = assert_ledger_ok()
    assert report.on_invoices_vnd == 500_000 and report.set_aside_vnd == 200_000
    assert report.awaiting_review_vnd == 0
    assert invoice(billed, "HS003")["status"] == "paid"
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.set_aside"))
    assert event_.details == {"reason": "Tiền quỹ lớp, sẽ chuyển cho hội phụ huynh",
                              "amount_vnd": 200_000}
    # Nothing left to set aside.
    again = billed.post(f"/payments/{payment['id']}/set-aside", json={"reason": "x"})
    assert again.status_code == 409
    # Reversing the placed part brings the whole transfer back for review.
    allocation = payments_of(billed, "ignored")[0]["allocations"][0]["id"]
    billed.post(f"/allocations/{allocation}/reversal", json={"reason": "Nhầm"})
    assert payments_of(billed, "review")[0]["unallocated_vnd"] == 700_000
    assert_ledger_ok()


def test_the_queue_keeps_set_aside_after_a_partial_assignment(client, billed, accountant):
    send_sepay(client, sepay_body("hoc phi be Ngoc", 700_000))
    (payment,) = payments_of(billed, "review")
    post(accountant, f"{QUEUE}/{payment['id']}/gan", QUEUE,
         invoice_code=billed.codes["HS003"], amount_vnd="500.000", reason="Gán theo gợi ý")
    page = accountant.get(QUEUE).get_data(as_text=True)
    assert "Để riêng 200.000 đ" in page
    assert "Ghi có 200.000 đ còn lại cho Lê Bảo Ngọc" in page
    response = post(accountant, f"{QUEUE}/{payment['id']}/de-rieng", QUEUE,
                    reason="Phụ huynh nộp nhầm, sẽ hoàn trả")
    assert response.status_code == 302
    assert payments_of(billed, "ignored")[0]["unallocated_vnd"] == 200_000
    assert_ledger_ok()


# --- manual assignment without typing invoice codes --------------------------------------


def test_assign_by_searching_then_credit_the_remainder(client, billed, accountant):
    send_sepay(client, sepay_body("chuyen tien", 800_000))
    (payment,) = payments_of(billed, "review")
    item = f"{QUEUE}/{payment['id']}"
    queue = accountant.get(QUEUE).get_data(as_text=True)
    assert f'action="{item}"' in queue and 'name="tim"' in queue
    assert 'name="invoice_code" value=""' not in queue  # no code to type
    for query in ("ngoc", "Lê Bảo Ngọc", "ngoc 1a", "HS003", billed.codes["HS003"][:6].lower()):
        page = accountant.get(f"{item}?tim={query}").get_data(as_text=True)
        assert f'name="pick" value="{billed.codes["HS003"]}"' in page, query
        assert billed.codes["HS001"] not in page or query == "1a", query
    page = accountant.get(f"{item}?tim=2A").get_data(as_text=True)
    assert f'value="{billed.codes["HS002"]}"' in page
    assert f'value="{billed.codes["HS003"]}"' not in page
    assert "Không tìm thấy" in accountant.get(f"{item}?tim=ngoc 2a").get_data(as_text=True)
    # The reason field is labelled; an empty reason changes nothing.
    assert "Lý do (ghi vào sổ, bắt buộc)" in page
    code = billed.codes["HS003"]
    refused = post(accountant, f"{item}/chon", f"{item}?tim=ngoc", pick=code,
                   **{f"amount_{code}": "500.000"}, reason=" ", back="item")
    assert refused.status_code == 422 and "Cần ghi lý do" in refused.get_data(as_text=True)
    assert invoice(billed, "HS003")["paid_vnd"] == 0
    done = post(accountant, f"{item}/chon", f"{item}?tim=ngoc", pick=code,
                **{f"amount_{code}": "500.000"}, reason="Phụ huynh gọi điện xác nhận",
                back="item")
    assert done.status_code == 302 and done.headers["Location"].endswith(item)
    assert invoice(billed, "HS003")["status"] == "paid"
    page = accountant.get(item).get_data(as_text=True)
    assert "Ghi có 300.000 đ còn lại cho Lê Bảo Ngọc" in page
    credited = post(accountant, f"{item}/chon", item, credit="HS003",
                    **{"credit_HS003": "300000"}, reason="Phần còn lại ghi có cho học sinh")
    assert credited.status_code == 302 and credited.headers["Location"].endswith(QUEUE)
    queue = accountant.get(QUEUE).get_data(as_text=True)
    # The flash on the queue links to the student's page.
    assert re.search(r'Đã ghi có 300.000 đ cho học sinh <a href="/app/LQD/hoc-sinh/HS003">'
                     r"Lê Bảo Ngọc</a>", queue)
    (placed,) = payments_of(billed, "matched")
    assert [(a["kind"], a["amount_vnd"]) for a in placed["allocations"]] == [
        ("invoice", 500_000), ("credit", 300_000)]
    assert_ledger_ok()


def test_a_surplus_is_credited_with_the_suggestion(client, billed, accountant):
    send_sepay(client, sepay_body("hoc phi be Ngoc lop 1A", 650_000))
    (payment,) = payments_of(billed, "review")
    page = accountant.get(QUEUE).get_data(as_text=True)
    assert "Gán 500.000 đ và ghi có 150.000 đ thừa cho học sinh" in page
    form = re.search(r'<form method="post" action="[^"]+/gan" class="surplus">(.*?)</form>',
                     page, re.S).group(1)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    response = accountant.post(f"{QUEUE}/{payment['id']}/gan", data=fields)
    assert response.status_code == 302
    assert invoice(billed, "HS003")["status"] == "paid"
    (placed,) = payments_of(billed, "matched")
    assert sorted((a["kind"], a["amount_vnd"]) for a in placed["allocations"]) == [
        ("credit", 150_000), ("invoice", 500_000)]
    assert_ledger_ok()


def test_principals_see_the_item_but_cannot_pick(client, billed, principal):
    send_sepay(client, sepay_body("chuyen tien", 500_000))
    (payment,) = payments_of(billed, "review")
    page = principal.get(f"{QUEUE}/{payment['id']}?tim=ngoc").get_data(as_text=True)
    assert "chuyen tien" in page and 'name="pick"' not in page
    response = principal.post(f"{QUEUE}/{payment['id']}/chon", data={
        "csrf_token": principal.csrf(QUEUE), "pick": billed.codes["HS003"],
        f"amount_{billed.codes['HS003']}": "500000", "reason": "x"})
    assert response.status_code == 403
    assert invoice(billed, "HS003")["paid_vnd"] == 0


def test_another_schools_transfer_is_not_found(client, billed, accountant, make_school):
    send_sepay(client, sepay_body("chuyen tien", 500_000))
    (payment,) = payments_of(billed, "review")
    make_school("KHAC", prefix="KH", account="0099887766")
    assert accountant.get(f"/app/KHAC/cho-xu-ly/{payment['id']}").status_code == 403
    assert accountant.get(f"{QUEUE}/999999").status_code == 404


# --- the student page --------------------------------------------------------------------


def test_the_student_page_shows_invoices_payments_credit_receipts_link_history(
        client, billed, accountant):
    send_sepay(client, sepay_body(f"{billed.codes['HS003']} hoc phi", 700_000))
    page = accountant.get("/app/LQD/hoc-sinh/HS003").get_data(as_text=True)
    assert "Lê Bảo Ngọc" in page and "Lê Văn Tâm" in page and "0901234567" in page
    assert billed.codes["HS003"] in page and "Đã nộp" in page
    # The surplus of 200.000 đ is the student's credit.
    assert re.search(r'id="student-credit">200.000 đ<', page)
    receipt = db.session.scalar(select(Receipt).where(Receipt.student_id == db.session.scalar(
        select(Student.id).where(Student.code == "HS003"))))
    assert receipt.label in page and f"/app/LQD/bien-lai/{receipt.id}.pdf" in page
    student = db.session.scalar(select(Student).where(Student.code == "HS003"))
    assert f"https://hocphi.example.vn/p/{student.parent_token}" in page
    assert "Sao chép" in page and "/app/LQD/hoc-sinh/HS003/duong-dan" in page
    assert "Lịch sử" in page and "Lập hóa đơn" in page and "Lập biên lai" in page
    # Reprint from the page: a real PDF.
    pdf = accountant.get(f"/app/LQD/bien-lai/{receipt.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_reissuing_the_link_from_the_student_page(client, billed, accountant, principal):
    student = db.session.scalar(select(Student).where(Student.code == "HS003"))
    old = student.parent_token
    assert f"/p/{old}" in principal.get("/app/LQD/hoc-sinh/HS003").get_data(as_text=True)
    assert "cap-lai-duong-dan" not in principal.get("/app/LQD/hoc-sinh/HS003").get_data(
        as_text=True)
    assert post(principal, "/app/LQD/hoc-sinh/HS003/cap-lai-duong-dan",
                "/app/LQD/hoc-sinh/HS003").status_code == 403
    response = post(accountant, "/app/LQD/hoc-sinh/HS003/cap-lai-duong-dan",
                    "/app/LQD/hoc-sinh/HS003")
    assert response.status_code == 302
    db.session.expire_all()
    new = db.session.scalar(select(Student).where(Student.code == "HS003")).parent_token
    assert new != old
    assert client.get(f"/p/{old}").status_code == 404
    assert client.get(f"/p/{new}").status_code == 200
    page = accountant.get("/app/LQD/hoc-sinh/HS003").get_data(as_text=True)
    assert f"/p/{new}" in page and "Cấp lại đường dẫn phụ huynh" in page  # in the history
    slip = accountant.get("/app/LQD/hoc-sinh/HS003/duong-dan").get_data(as_text=True)
    assert f"https://hocphi.example.vn/p/{new}" in slip and "data:image/svg+xml;base64," in slip


def test_every_list_that_names_the_student_links_to_the_page(client, billed, accountant):
    link = 'href="/app/LQD/hoc-sinh/HS003"'
    send_sepay(client, sepay_body("hoc phi be Ngoc lop 1A", 300_000))
    send_sepay(client, sepay_body(f"{billed.codes['HS003']}", 200_000))
    pages = {
        "students": "/app/LQD/hoc-sinh",
        "invoices": "/app/LQD/hoa-don",
        "invoice": f"/app/LQD/hoa-don/{billed.codes['HS003']}",
        "review queue": QUEUE,
        "transactions": "/app/LQD/giao-dich",
        "receipts": "/app/LQD/bien-lai",
        "reminders": "/app/LQD/nhac-nop?ngay=2026-10-01",
        "arrears": "/app/LQD/cong-no?period=all",
    }
    for name, url in pages.items():
        response = accountant.get(url)
        assert response.status_code == 200, name
        assert link in response.get_data(as_text=True), name


def test_the_student_page_is_the_schools_own(client, billed, make_school, make_staff,
                                             staff_login):
    other = make_school("KHAC", prefix="KH", account="0099887766")
    stranger = staff_login(make_staff("accountant", other).email, PASSWORD)
    assert stranger.get("/app/LQD/hoc-sinh/HS003").status_code == 403
    assert stranger.get("/app/KHAC/hoc-sinh/HS003").status_code == 404


# --- finding transactions ----------------------------------------------------------------


def test_transactions_search_by_name_amount_memo_dates_and_reference(client, billed,
                                                                      accountant):
    send_sepay(client, sepay_body(billed.codes["HS003"], 500_000, reference="FT26240000111"))
    body = sepay_body("hoc phi con Khoi lop 2A", 450_000, reference="FT26240000222")
    body["transactionDate"] = "2026-09-20 23:50:00"
    send_sepay(client, body)
    casso(client, "ung ho quy lop", 120_000, 601, payer="TRAN THI HOA")

    def found(**query) -> list[str]:
        page = accountant.get("/app/LQD/giao-dich", query_string=query).get_data(as_text=True)
        return re.findall(r"<td><code>([^<]*)</code></td>", page)

    assert len(found()) == 3
    assert found(q="Lê Bảo Ngọc") == [billed.codes["HS003"]]  # money placed for her
    assert found(q="ngoc") == [billed.codes["HS003"]]
    assert found(q="Trần Thị Hoa") == ["ung ho quy lop"]     # the payer
    assert found(q="quy lop") == ["ung ho quy lop"]          # the memo
    assert found(q="FT26240000222") == ["hoc phi con Khoi lop 2A"]
    assert found(so_tien="500.000") == [billed.codes["HS003"]]
    assert found(tu_ngay="2026-09-20", den_ngay="2026-09-20") == ["hoc phi con Khoi lop 2A"]
    assert found(tu_ngay="20/09/2026", den_ngay="20/09/2026") == ["hoc phi con Khoi lop 2A"]
    assert found(tu_ngay="21/09/2026") == []
    page = accountant.get("/app/LQD/giao-dich?tu_ngay=2026-09-20").get_data(as_text=True)
    assert 'name="tu_ngay" value="20/09/2026"' in page
    assert found(q="khoi", status="review") == ["hoc phi con Khoi lop 2A"]
    bad = accountant.get("/app/LQD/giao-dich?so_tien=nam+tram")
    assert bad.status_code == 422 and "không hợp lệ" in bad.get_data(as_text=True)
    assert accountant.get("/app/LQD/giao-dich?tu_ngay=2026-10-01&den_ngay=2026-09-01"
                          ).status_code == 422


def test_a_statement_upload_lists_what_it_added_with_links_to_review(client, billed,
                                                                     accountant):
    book = Workbook()
    sheet = book.active
    sheet.append(["Ngày giao dịch", "Số tiền", "Nội dung", "Số tham chiếu"])
    sheet.append(["05/09/2026", 500000, billed.codes["HS001"], "REF0001"])
    sheet.append(["06/09/2026", 500000, "hoc phi be Ngoc lop 1A", "REF0002"])
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    response = accountant.post("/app/LQD/sao-ke", data={
        "csrf_token": accountant.csrf("/app/LQD/sao-ke"),
        "file": (io.BytesIO(data), "sao-ke.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = accountant.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 giao dịch mới (1 đã khớp hóa đơn, 1 chờ xử lý" in page
    review = payments_of(billed, "review")[0]
    assert f'href="/app/LQD/cho-xu-ly/{review["id"]}"' in page
    assert 'href="/app/LQD/hoc-sinh/HS001"' in page
    # The same file again adds nothing, and says so.
    again = accountant.post("/app/LQD/sao-ke", data={
        "csrf_token": accountant.csrf("/app/LQD/sao-ke"),
        "file": (io.BytesIO(data), "sao-ke.xlsx")}, content_type="multipart/form-data")
    page = accountant.get(again.headers["Location"]).get_data(as_text=True)
    assert "không thêm giao dịch mới" in page
    listing = accountant.get("/app/LQD/sao-ke").get_data(as_text=True)
    assert listing.count("sao-ke.xlsx") == 2


def test_english_mode_explains_suggestions_in_english(client, billed, accountant):
    typed = mistyped(billed.codes["HS003"])
    send_sepay(client, sepay_body(f"{typed} hoc phi", 500_000))
    post(accountant, "/ngon-ngu", QUEUE, lang="en", next=QUEUE)
    page = accountant.get(QUEUE).get_data(as_text=True)
    assert (f"Code close to {billed.codes['HS003']} (two adjacent characters swapped: "
            f"“{typed}”)") in page
    assert "Mã gần giống" not in page
    assert "Find a student or invoice (name, class, code)" in page
    (payment,) = payments_of(billed, "review")
    item = accountant.get(f"{QUEUE}/{payment['id']}?tim=ngoc").get_data(as_text=True)
    assert "Reason (recorded, required)" in item and "Assign to invoice" in item
    student = accountant.get("/app/LQD/hoc-sinh/HS003").get_data(as_text=True)
    assert "Parents' link" in student and "History" in student


def test_a_child_with_nothing_open_is_suggested_for_credit(client, billed, accountant):
    send_sepay(client, sepay_body(billed.codes["HS003"], 500_000))
    assert invoice(billed, "HS003")["status"] == "paid"
    send_sepay(client, sepay_body("0901 234 567 nop truoc thang sau", 300_000))
    top = review_item(billed)["suggestions"][0]
    assert top["student_code"] == "HS003" and top["invoice_code"] is None
    page = accountant.get(QUEUE).get_data(as_text=True)
    assert "Không còn hóa đơn mở" in page and "Ghi có 300.000 đ cho học sinh" in page
    (payment,) = payments_of(billed, "review")
    response = post(accountant, f"{QUEUE}/{payment['id']}/chon", QUEUE, credit="HS003",
                    credit_HS003="300000", reason="Nộp thêm, ghi có cho học sinh")
    assert response.status_code == 302
    assert payments_of(billed, "credited")[0]["allocations"][0]["amount_vnd"] == 300_000
    assert_ledger_ok()
