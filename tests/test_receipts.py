"""Receipts are issued for every allocation, numbered without gaps, voided and replaced; the
parents' page shows one student's invoices, payments and receipts."""

from __future__ import annotations

import io
import threading

from PIL import Image
from pypdf import PdfReader
from pyzbar.pyzbar import decode

from tests.helpers import assert_ledger_ok, send_sepay, sepay_body
from tuition.core import vietqr
from tuition.extensions import db
from tuition.models import Receipt, Student


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def token_of(code: str) -> str:
    return db.session.query(Student).filter_by(code=code).one().parent_token


def test_matched_payment_gets_a_numbered_receipt(client, billed):
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    send_sepay(client, sepay_body(billed.codes["HS003"], 200_000))
    items = billed.get("/schools/LQD/receipts").get_json()["items"]
    assert [(r["number"], r["student_code"], r["amount_vnd"], r["status"]) for r in items] == [
        (1, "HS001", 500_000, "valid"), (2, "HS003", 200_000, "valid")]
    series = items[0]["series"]
    assert series.startswith("AA-") and len(series) == 5
    text = pdf_text(billed.get(f"/receipts/{items[0]['id']}.pdf").data)
    for expected in ("BIÊN LAI THU TIỀN", "Trường Tiểu học Lê Quý Đôn", "0000001",
                     "Nguyễn Thị Ánh Dương", "Nguyễn Văn Bình", "Học phí", "500.000",
                     "Năm trăm nghìn đồng", "Chuyển khoản", "Tự động", series):
        assert expected in text, expected


def test_class_and_date_filters_and_bulk_pdf(client, billed):
    for code in ("HS001", "HS002", "HS003"):
        send_sepay(client, sepay_body(billed.codes[code], 500_000))
    one_a = billed.get("/schools/LQD/receipts?class=1A").get_json()["items"]
    assert sorted(r["student_code"] for r in one_a) == ["HS001", "HS003"]
    assert billed.get("/schools/LQD/receipts?from=2000-01-01&to=2000-01-02").get_json()[
        "count"] == 0
    bulk = billed.get("/schools/LQD/receipts.pdf?class=1A")
    assert len(PdfReader(io.BytesIO(bulk.data)).pages) == 2


def test_void_and_replace_keep_numbers(client, billed):
    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    (receipt,) = billed.get("/schools/LQD/receipts").get_json()["items"]
    assert billed.post(f"/receipts/{receipt['id']}/void", json={"reason": ""}).status_code == 422
    response = billed.post(f"/receipts/{receipt['id']}/void", json={
        "reason": "Sai tên người nộp", "replace": True, "payer_name": "Nguyễn Thị Mai"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["voided"]["status"] == "void" and body["voided"]["number"] == 1
    assert body["replacement"]["number"] == 2
    assert body["replacement"]["replaces_id"] == receipt["id"]
    void_text = pdf_text(billed.get(f"/receipts/{receipt['id']}.pdf").data)
    assert "ĐÃ HỦY" in void_text and "Sai tên người nộp" in void_text
    new_text = pdf_text(billed.get(f"/receipts/{body['replacement']['id']}.pdf").data)
    assert "Nguyễn Thị Mai" in new_text and "0000001" in new_text  # names the one it replaces
    page = client.get(receipt["verify_url"].replace("https://hocphi.example.vn", ""))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "ĐÃ BỊ HỦY" in html and body["replacement"]["label"] in html


def test_reversal_voids_the_receipt(client, billed):
    send_sepay(client, sepay_body(billed.codes["HS002"], 500_000))
    payment = billed.get("/schools/LQD/payments").get_json()["items"][0]
    allocation = payment["allocations"][0]["id"]
    billed.post(f"/allocations/{allocation}/reversal", json={"reason": "Gán nhầm"})
    (receipt,) = billed.get("/schools/LQD/receipts").get_json()["items"]
    assert receipt["status"] == "void" and "Gán nhầm" in receipt["void_reason"]
    assert_ledger_ok()


def test_principal_cannot_void(client, billed, make_user, api):
    from tuition.services.schools import get_school

    send_sepay(client, sepay_body(billed.codes["HS001"], 500_000))
    (receipt,) = billed.get("/schools/LQD/receipts").get_json()["items"]
    _, token = make_user("principal", get_school("LQD"))
    principal = api(token)
    assert principal.get(f"/receipts/{receipt['id']}.pdf").status_code == 200
    assert principal.post(f"/receipts/{receipt['id']}/void",
                          json={"reason": "x"}).status_code == 403


def test_concurrent_receipts_have_no_gaps_or_repeats(app, client, billed, make_school):
    """Twelve payments for twelve invoices at the same moment: receipts 1..12 exactly."""
    for n in range(4, 16):
        billed.upload("/schools/LQD/students/import", (
            "Mã học sinh,Họ và tên,Lớp\n" f"HS{n:03d},Học Sinh Số {n},3A\n").encode(), "x.csv")
    billed.post("/schools/LQD/billing-runs", json={
        "period": "2026-09", "fee_items": ["HOCPHI"], "due_date": "2026-09-15"})
    codes = [i["code"] for i in billed.get("/schools/LQD/invoices?class=3A").get_json()["items"]]
    assert len(codes) == 12
    barrier = threading.Barrier(len(codes))
    results = []

    def pay(code):
        with app.test_client() as own:
            barrier.wait()
            results.append(send_sepay(own, sepay_body(code, 500_000)).status_code)

    threads = [threading.Thread(target=pay, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 12
    numbers = sorted(r.number for r in db.session.query(Receipt).all())
    assert numbers == list(range(1, 13))


def test_parents_page_shows_one_student(client, billed):
    token = token_of("HS001")
    page = client.get(f"/p/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Nguyễn Thị Ánh Dương" in html and "500.000 đ" in html
    assert billed.codes["HS001"] in html
    assert "Lê Bảo Ngọc" not in html and billed.codes["HS003"] not in html
    assert "0011001234567" in html and "TRUONG TIEU HOC LE QUY DON" in html
    qr = client.get(f"/p/{token}/qr/{billed.codes['HS001']}.png")
    payload = decode(Image.open(io.BytesIO(qr.data)))[0].data.decode()
    assert vietqr.parse_payload(payload).amount_vnd == 500_000
    # Another student's invoice through this token: not found.
    assert client.get(f"/p/{token}/qr/{billed.codes['HS003']}.png").status_code == 404


def test_parents_page_after_payment_and_receipts(client, billed):
    token = token_of("HS003")
    before = client.get(f"/p/{token}/state.json").get_json()
    send_sepay(client, sepay_body(billed.codes["HS003"], 500_000))
    after = client.get(f"/p/{token}/state.json").get_json()
    assert before["due_vnd"] == 500_000 and after["due_vnd"] == 0
    assert before["fingerprint"] != after["fingerprint"]
    html = client.get(f"/p/{token}").get_data(as_text=True)
    assert "Đã nộp đủ" in html
    receipt = db.session.query(Receipt).one()
    assert client.get(f"/p/{token}/receipts/{receipt.id}.pdf").status_code == 200
    other = token_of("HS001")
    assert client.get(f"/p/{other}/receipts/{receipt.id}.pdf").status_code == 404


def test_wrong_or_revoked_token_is_404_and_guessing_is_limited(app, client, billed):
    old = token_of("HS002")
    response = billed.post("/schools/LQD/students/HS002/parent-link")
    assert response.status_code == 201
    new_link = response.get_json()["link"]
    assert client.get(f"/p/{old}").status_code == 404
    assert client.get(new_link.replace("https://hocphi.example.vn", "")).status_code == 200
    statuses = [client.get(f"/p/guess{n}").status_code for n in range(25)]
    # 20 failures a minute per address; the revoked link above was the first.
    assert statuses.count(404) == 19 and statuses[19:] == [429] * 6


def test_parent_links_export(client, billed):
    response = billed.get("/schools/LQD/parent-links?format=csv")
    text = response.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Mã học sinh,Họ và tên,Lớp")
    assert "Nguyễn Thị Ánh Dương" in text and "https://hocphi.example.vn/p/" in text
    assert len(text.strip().splitlines()) == 4
