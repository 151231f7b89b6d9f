"""Messages end to end: campaigns and payment confirmations written to the outbox, sent by
real RQ workers over real Redis to the providers' stand-ins; fallback, retries, quotas,
interrupted sends, delivery reports, opting out, the staff pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import send_sepay, sepay_body
from tests.messaging.conftest import enable, run_workers
from tuition.core import clock
from tuition.extensions import db
from tuition.messaging import campaigns, jobs, sending
from tuition.messaging import templates as template_service
from tuition.models import (
    Campaign,
    GuardianContact,
    Message,
    MessageEvent,
    ProviderToken,
    Student,
)
from tuition.services import schools


def _student(code: str) -> Student:
    return db.session.scalar(select(Student).where(Student.code == code))


def _messages(**filters) -> list[Message]:
    query = select(Message).order_by(Message.id)
    for key, value in filters.items():
        query = query.where(getattr(Message, key) == value)
    return list(db.session.scalars(query))


def _events(message: Message) -> list[str]:
    return list(db.session.scalars(select(MessageEvent.event).where(
        MessageEvent.message_id == message.id).order_by(MessageEvent.id)))


@pytest.fixture
def accountant(lqd, make_staff, staff_login):
    user = make_staff("accountant", lqd)
    return staff_login(user.email, "mat-khau-rat-dai-123")


def _start_campaign(browser, **form):
    token = browser.csrf("/app/LQD/tin-nhan/chien-dich/moi")
    data = {"csrf_token": token, "kind": "notice", "period": "2026-09", "channels": ["sms"]}
    data.update(form)
    return browser.post("/app/LQD/tin-nhan/chien-dich/moi", data=data)


def test_notice_campaign_sends_one_sms_per_invoice_and_guardian(app, lqd, messaging,
                                                                accountant):
    response = _start_campaign(accountant)
    assert response.status_code == 302, response.get_data(as_text=True)
    campaign_url = response.headers["Location"]
    run_workers(app)
    sent = messaging.esms.by_phone()
    # HS001 and HS002 share a guardian: two invoices, two messages; HS003 one.
    assert {phone: len(items) for phone, items in sent.items()} == {
        "0912345678": 2, "0901234567": 1}
    text = sent["0901234567"][0].content
    student = _student("HS003")
    assert f"https://hocphi.example.vn/p/{student.parent_token}" in text
    assert "Le Bao Ngoc" in text and "500.000d" in text and "15/09/2026" in text
    assert "https://hocphi.example.vn/tu-choi/" in text
    assert sent["0901234567"][0].is_unicode == "0"
    assert all(m.status == "sent" and m.provider_message_id for m in _messages())

    page = accountant.get(campaign_url).get_data(as_text=True)
    assert "Đã gửi: <strong>3</strong>" in page

    # The same campaign again: every message already went to its guardian.
    again = _start_campaign(accountant)
    assert again.status_code == 302
    run_workers(app)
    assert len(messaging.esms.sent) == 3
    latest = db.session.scalar(select(Campaign).order_by(Campaign.id.desc()))
    assert (latest.created_count, latest.duplicates) == (0, 3)


def test_invalid_contacts_are_reported_and_never_sent_to(app, lqd, messaging, accountant):
    _student("HS003").guardian_phone = "02438261234"  # a landline
    _student("HS002").guardian_phone = None
    db.session.commit()
    response = _start_campaign(accountant)
    run_workers(app)
    assert [s.phone for s in messaging.esms.sent] == ["0912345678"]
    campaign = db.session.scalar(select(Campaign))
    reasons = {s["student_code"]: s["reason"] for s in campaign.skipped}
    assert "máy bàn" in reasons["HS003"]
    assert "Chưa có số điện thoại" in reasons["HS002"]
    page = accountant.get(response.headers["Location"]).get_data(as_text=True)
    assert "02438261234 là số máy bàn" in page and "Lê Bảo Ngọc" in page


def _zns_templates(school):
    operator = schools_admin()
    for key, template_id in (("notice", "231201"), ("confirmation", "231202")):
        current = template_service.get_template(school.id, key)
        template_service.save(operator, school, key, {
            "sms_text": current.text.sms, "email_subject": current.text.email_subject,
            "email_body": current.text.email_body, "unaccented": True,
            "zns_template_id": template_id,
            "zns_params": ("student_name=ten_hoc_sinh\namount=so_tien\ndue_date=han_nop"
                           if key == "notice" else
                           "student_name=ten_hoc_sinh\namount=so_tien\nreceipt_no=so_bien_lai"),
        })
    db.session.commit()


def schools_admin():
    from tuition.models import User

    return db.session.scalar(select(User).where(User.role == "admin"))


def test_zns_first_then_sms_when_the_guardian_has_no_zalo(app, lqd, messaging, accountant):
    enable(lqd, messaging, channels="zns,sms")
    _zns_templates(lqd)
    messaging.zalo.no_zalo.add("0901234567")
    _start_campaign(accountant, channels=["zns", "sms"])
    run_workers(app)
    assert sorted(s.phone for s in messaging.zalo.sent) == ["0912345678", "0912345678"]
    assert messaging.zalo.sent[0].template_data["amount"] == "500.000"
    assert [s.phone for s in messaging.esms.sent] == ["0901234567"]
    fallback = next(m for m in _messages() if m.channel == "sms")
    assert _events(fallback) == ["sending", "fallback", "sending", "sent"]
    reason = db.session.scalar(select(MessageEvent.detail).where(
        MessageEvent.message_id == fallback.id, MessageEvent.event == "fallback"))
    assert reason == "Zalo ZNS: Số điện thoại chưa có tài khoản Zalo (-118)"
    # The single-use refresh token was rotated and the new one stored.
    stored = db.session.scalar(select(ProviderToken))
    assert stored.refresh_token == messaging.zalo.refresh_token
    assert stored.access_token in messaging.zalo.access_tokens

    # Zalo forgets the token (-124): the worker refreshes once, stores the new pair, resends.
    messaging.zalo.expire_tokens()
    form = {"kind": "reminder_1", "channels": ["zns", "sms"]}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(clock, "now_utc", lambda: datetime(2026, 9, 20, 3, 0, tzinfo=UTC))
        template_service_reminder = template_service.get_template(lqd.id, "reminder_1")
        assert template_service_reminder.zns_template_id is None  # no ZNS template: SMS
        _start_campaign(accountant, **form)
        run_workers(app)
    assert messaging.zalo.refreshes == 1
    assert len(messaging.esms.sent) == 4


def test_zns_token_refresh_on_124_is_stored(app, lqd, messaging):
    enable(lqd, messaging, channels="zns")
    _zns_templates(lqd)
    _pay(app, "HS001")
    run_workers(app)
    assert len(messaging.zalo.sent) == 1 and messaging.zalo.refreshes == 1
    messaging.zalo.expire_tokens()
    _pay(app, "HS003")
    run_workers(app)
    assert len(messaging.zalo.sent) == 2 and messaging.zalo.refreshes == 2
    assert [code for code, _ in messaging.zalo.rejected] == [-124]
    assert db.session.scalar(select(ProviderToken.refresh_token)) == \
        messaging.zalo.refresh_token


def _pay(app, student_code: str, amount: int = 500000):
    client = app.test_client()
    code = db.session.scalar(select(Student).where(Student.code == student_code))
    from tuition.models import Invoice

    invoice = db.session.scalar(select(Invoice).where(Invoice.student_id == code.id))
    response = send_sepay(client, sepay_body(f"{invoice.code} {student_code}", amount))
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.rollback()
    return invoice


def test_payment_confirmation_is_written_with_the_receipt_and_sent(app, lqd, messaging,
                                                                     monkeypatch):
    # No Redis call in the webhook: break the connection and the webhook still succeeds.
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    _pay(app, "HS003", 300000)
    (message,) = _messages(kind="confirmation")
    assert (message.status, message.enqueued_at, message.content) == ("queued", None, None)
    monkeypatch.setitem(app.config, "REDIS_URL", messaging_redis(messaging))
    run_workers(app)
    (sms,) = messaging.esms.sent
    from tuition.models import Receipt

    receipt = db.session.scalar(select(Receipt))
    assert sms.phone == "0901234567"
    assert "300.000d" in sms.content and receipt.label in sms.content
    assert f"https://hocphi.example.vn/bien-lai/{receipt.verify_token}" in sms.content
    db.session.refresh(message)
    assert message.status == "sent"


def messaging_redis(standins) -> str:
    from tests.messaging.conftest import REDIS_URL

    return REDIS_URL


def test_no_messages_for_a_school_without_messaging(app, billed, messaging):
    _pay(app, "HS001")
    assert _messages() == []


def test_confirmation_by_email_when_the_guardian_has_only_an_email(app, lqd, messaging):
    enable(lqd, messaging, channels="sms,email")
    student = _student("HS003")
    student.guardian_phone = None
    student.guardian_email = "le.tam@example.vn"
    db.session.commit()
    _pay(app, "HS003")
    run_workers(app)
    assert messaging.esms.sent == []
    (mail,) = messaging.smtp.parsed()
    assert mail["To"] == "le.tam@example.vn"
    assert "đã nhận 500.000 đ" in mail["Subject"]
    assert "Lê Bảo Ngọc" in mail.get_content()
    assert "/tu-choi/" in mail.get_content()


def test_temporary_error_is_retried_later_with_backoff(app, lqd, messaging, monkeypatch):
    messaging.esms.http_fail_next.append(503)
    _pay(app, "HS003")
    run_workers(app)
    (message,) = _messages()
    assert message.status == "queued" and message.attempts == 1
    assert "HTTP 503" in message.error
    due = message.next_attempt_at.replace(tzinfo=UTC) if message.next_attempt_at.tzinfo is None \
        else message.next_attempt_at
    assert timedelta(seconds=25) < due - datetime.now(UTC) <= timedelta(seconds=31)
    assert messaging.esms.sent == []
    run_workers(app)  # not due yet: nothing happens
    assert messaging.esms.sent == []
    later = datetime.now(UTC) + timedelta(seconds=31)
    monkeypatch.setattr(clock, "now_utc", lambda: later)
    run_workers(app)
    db.session.refresh(message)
    assert message.status == "sent" and len(messaging.esms.sent) == 1
    assert _events(message) == ["sending", "retry", "sending", "sent"]


def test_permanent_error_fails_with_the_reason_and_no_retry(app, lqd, messaging):
    messaging.esms.blocked.add("0901234567")
    _pay(app, "HS003")
    run_workers(app)
    (message,) = _messages()
    assert message.status == "failed"
    assert message.error == "SMS: Số điện thoại bị chặn nhận tin (99)"
    assert messaging.esms.answers == ["99"]


def test_daily_quota_defers_to_midnight_in_vietnam(app, lqd, messaging, monkeypatch,
                                                   accountant):
    enable(lqd, messaging, sms_daily_quota="2")
    # 23:50 in Vietnam: the UTC date is still the 10th.
    evening = datetime(2026, 9, 10, 16, 50, tzinfo=UTC)
    monkeypatch.setattr(clock, "now_utc", lambda: evening)
    _start_campaign(accountant)
    run_workers(app)
    assert len(messaging.esms.sent) == 2
    (waiting,) = _messages(status="queued")
    assert waiting.next_attempt_at.replace(tzinfo=UTC) == datetime(2026, 9, 10, 17, 0,
                                                                   tzinfo=UTC)
    assert "hết hạn mức" in waiting.error
    after_midnight = datetime(2026, 9, 10, 17, 5, tzinfo=UTC)  # 00:05 on the 11th in Vietnam
    monkeypatch.setattr(clock, "now_utc", lambda: after_midnight)
    run_workers(app)
    assert len(messaging.esms.sent) == 3


def test_rate_limit_spreads_sends_over_seconds(app, lqd, messaging, monkeypatch, accountant):
    monkeypatch.setitem(app.config, "MESSAGE_RATE_PER_SECOND", {"sms": 1})
    _start_campaign(accountant)
    run_workers(app)
    times = sorted(s.at for s in messaging.esms.sent)
    assert len(times) == 3
    # One a second: three sends take three one-second windows (more than a second apart).
    assert times[-1] - times[0] > 1.0


def test_interrupted_sms_is_sent_again_once_and_zns_becomes_unknown(app, lqd, messaging,
                                                                   accountant):
    _start_campaign(accountant)
    first, second, third = _messages()
    # A worker claimed the first, eSMS accepted it, then the worker died before recording.
    messaging.esms.request_ids.add(first.request_id)
    for message, channel in ((first, "sms"), (second, "zns")):
        message.status, message.channel, message.attempts = "sending", channel, 1
        message.lease_until = datetime.now(UTC) - timedelta(seconds=1)
        message.enqueued_at = datetime.now(UTC)
    third.enqueued_at = datetime.now(UTC) - timedelta(hours=1)  # its job vanished from Redis
    db.session.commit()
    run_workers(app)
    first, second, third = _messages()
    assert first.status == "sent" and "interrupted_resend" in _events(first)
    assert messaging.esms.answers.count("124") == 1
    assert second.status == "unknown" and "không rõ" in second.error
    assert third.status == "sent"
    assert sorted(s.request_id for s in messaging.esms.sent) == [third.request_id]


def test_zalo_delivery_webhook_marks_delivered(app, lqd, messaging, client):
    enable(lqd, messaging, channels="zns")
    _zns_templates(lqd)
    _pay(app, "HS001")
    run_workers(app)
    (message,) = _messages()
    body, headers = messaging.zalo.delivery_webhook(message.provider_message_id)
    forged = dict(headers, **{"X-ZEvent-Signature": "mac=" + "0" * 64})
    assert client.post("/webhooks/zalo", data=body, headers=forged).status_code == 401
    db.session.refresh(message)
    assert message.status == "sent"
    response = client.post("/webhooks/zalo", data=body, headers=headers)
    assert response.status_code == 200 and response.get_json()["error"] == 0
    db.session.refresh(message)
    assert message.status == "delivered" and message.delivered_at is not None


def test_esms_callback_marks_delivered(app, lqd, messaging, client):
    _pay(app, "HS003")
    run_workers(app)
    (message,) = _messages()
    (sms,) = messaging.esms.sent
    query = f"SMSID={sms.sms_id}&SendStatus=5&SendSuccess=1&SendFailed=0&RequestId=" \
            f"{sms.request_id}&TypeId=2&telcoid=1&phonenumber={sms.phone}"
    assert client.get(f"/webhooks/esms/wrong-token?{query}").status_code == 404
    callback = sms.callback_url.replace("https://hocphi.example.vn", "")
    assert client.get(f"{callback}?{query}").status_code == 200
    db.session.refresh(message)
    assert message.status == "delivered"


def test_guardian_opts_out_by_the_link_in_the_message(app, lqd, messaging, accountant,
                                                      client):
    _start_campaign(accountant)
    run_workers(app)
    sms = messaging.esms.by_phone()["0901234567"][0].content
    token = sms.split("/tu-choi/")[1].split()[0]
    page = client.get(f"/tu-choi/{token}")
    assert page.status_code == 200 and "090****567" in page.get_data(as_text=True)
    contact = db.session.scalar(select(GuardianContact).where(GuardianContact.token == token))
    assert contact.opted_out_at is None  # opening the link changes nothing
    form = client.get(f"/tu-choi/{token}").get_data(as_text=True)
    from tests.conftest import csrf_token

    done = client.post(f"/tu-choi/{token}", data={"action": "stop",
                                                  "csrf_token": csrf_token(form)})
    assert "Đã dừng gửi tin nhắn" in done.get_data(as_text=True)
    db.session.refresh(contact)
    assert contact.opted_out_at is not None
    assert client.get("/tu-choi/not-a-token").status_code == 404

    # The guardian's payment confirmation is not sent.
    _pay(app, "HS003")
    run_workers(app)
    (confirmation,) = _messages(kind="confirmation")
    assert confirmation.status == "skipped" and "từ chối" in confirmation.error
    assert len(messaging.esms.by_phone()["0901234567"]) == 1


def test_settings_page_never_shows_secrets_and_principals_only_look(app, lqd, messaging,
                                                                    make_staff, staff_login,
                                                                    accountant):
    page = accountant.get("/app/LQD/tin-nhan/cai-dat").get_data(as_text=True)
    for secret in (messaging.esms.secret_key, messaging.zalo.app_secret,
                   messaging.zalo.oa_secret):
        assert secret not in page
    assert "đã đặt cho trường" in page
    principal = staff_login(make_staff("principal", lqd).email, "mat-khau-rat-dai-123")
    assert principal.get("/app/LQD/tin-nhan/cai-dat").status_code == 200
    token = principal.csrf("/app/LQD/tin-nhan/cai-dat")
    assert principal.post("/app/LQD/tin-nhan/cai-dat",
                          data={"csrf_token": token, "channel_1": "sms"}).status_code == 403
    assert principal.get("/app/LQD/tin-nhan/chien-dich/moi").status_code == 403


def test_turning_on_an_unconfigured_channel_is_refused(app, billed, messaging, make_staff,
                                                       staff_login):
    school = schools.get_school("LQD")
    browser = staff_login(make_staff("accountant", school).email, "mat-khau-rat-dai-123")
    token = browser.csrf("/app/LQD/tin-nhan/cai-dat")
    response = browser.post("/app/LQD/tin-nhan/cai-dat", data={
        "csrf_token": token, "enabled": "1", "channel_1": "zns"})
    assert response.status_code == 422
    assert "Chưa đủ thông tin kết nối cho kênh: Zalo ZNS" in response.get_data(as_text=True)


def test_template_preview_shows_sms_length_and_refuses_unknown_placeholders(lqd, accountant):
    token = accountant.csrf("/app/LQD/tin-nhan/mau/notice")
    data = {"csrf_token": token, "sms_text": "{ten_truong}: học phí {ky_thu} của "
            "{ten_hoc_sinh} là {so_tien}đ. {duong_dan}", "unaccented": "1",
            "email_subject": "Học phí", "email_body": "Kính gửi {phu_huynh}",
            "action": "preview"}
    page = accountant.post("/app/LQD/tin-nhan/mau/notice", data=data).get_data(as_text=True)
    assert "Truong Tieu hoc Le Quy Don: hoc phi Tháng 9/2026" not in page
    assert "Truong Tieu hoc Le Quy Don: hoc phi Thang 9/2026 cua " in page
    assert "/160 ký tự · 1 tin · không dấu (GSM-7)" in page
    data.update(unaccented="", action="preview")
    page = accountant.post("/app/LQD/tin-nhan/mau/notice", data=data).get_data(as_text=True)
    assert "/134 ký tự · 2 tin · có dấu (Unicode)" in page
    data.update(sms_text="{ten_hoc_sinh} {so_tienn}", action="save")
    refused = accountant.post("/app/LQD/tin-nhan/mau/notice", data=data)
    assert refused.status_code == 422
    assert "{so_tienn}" in refused.get_data(as_text=True)


def test_campaign_needs_messaging_on(app, billed, messaging):
    school = schools.get_school("LQD")
    from tuition.services.errors import Invalid

    with pytest.raises(Invalid) as refused:
        campaigns.create(schools_admin(), school, kind="notice", period="2026-09")
    assert "chưa bật" in refused.value.message_vi


def test_staff_resend_failed_messages(app, lqd, messaging, accountant):
    messaging.esms.blocked.add("0901234567")
    response = _start_campaign(accountant)
    run_workers(app)
    failed = _messages(status="failed")
    assert len(failed) == 1
    page = accountant.get(response.headers["Location"]).get_data(as_text=True)
    assert "Số điện thoại bị chặn nhận tin" in page
    messaging.esms.blocked.clear()
    token = accountant.csrf(response.headers["Location"])
    back = accountant.post("/app/LQD/tin-nhan/gui-lai", data={
        "csrf_token": token, "message": str(failed[0].id), "back": "/app/LQD/tin-nhan"})
    assert back.status_code == 302
    run_workers(app)
    assert len(messaging.esms.by_phone()["0901234567"]) == 1
    assert _events(_messages(id=failed[0].id)[0])[-3:] == ["requeue", "sending", "sent"]


def test_student_messages_partial(app, lqd, messaging, accountant):
    _start_campaign(accountant)
    run_workers(app)
    from flask import g, render_template_string

    from tuition.messaging.outbox import student_messages

    student = _student("HS003")
    with app.test_request_context("/app/LQD/hoc-sinh"):
        g.user = schools_admin()
        views = student_messages(g.user, lqd, student)
        html = render_template_string(
            '{% include "staff/messages/_student_messages.html" %}', student_messages=views)
    assert len(views) == 1 and views[0].address == "0901234567"
    assert "Thông báo học phí" in html and "Đã gửi" in html and "0901234567" in html


def test_jobs_survive_redis_being_down(app, lqd, messaging, accountant, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    response = _start_campaign(accountant)
    assert response.status_code == 302
    assert all(m.enqueued_at is None for m in _messages())
    from tests.messaging.conftest import REDIS_URL

    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    run_workers(app)
    assert len(messaging.esms.sent) == 3


def test_campaign_json(app, lqd, messaging, accountant):
    response = _start_campaign(accountant)
    run_workers(app)
    data = json.loads(accountant.get(response.headers["Location"] + ".json").data)
    assert data["counts"] == {"sent": 3}


def test_sending_is_idempotent_per_job(app, lqd, messaging, accountant):
    _start_campaign(accountant)
    (message, *_rest) = _messages()
    with app.app_context():
        assert sending.process(message.id) == "sent"
        assert sending.process(message.id) == "already sent"
    assert len(messaging.esms.sent) == 1
    assert jobs.message_job_id(5, 2) == "msg-5-2"


def test_whole_school_pdf_is_rendered_by_a_worker_with_progress(app, lqd, messaging,
                                                                make_staff, staff_login,
                                                                tmp_path):
    from tests.pdfs import page_text

    principal = staff_login(make_staff("principal", lqd).email, "mat-khau-rat-dai-123")
    token = principal.csrf("/app/LQD/tep-pdf")
    started = principal.post("/app/LQD/tep-pdf", data={
        "csrf_token": token, "kind": "notices", "period": "2026-09", "layout": "a4"})
    assert started.status_code == 302
    page_url = started.headers["Location"]
    state = principal.get(page_url + ".json").get_json()
    assert (state["status"], state["total"], state["download"]) == ("queued", 3, None)
    run_workers(app)
    state = principal.get(page_url + ".json").get_json()
    assert (state["status"], state["done"], state["total"]) == ("done", 3, 3)
    path = tmp_path / "notices.pdf"
    with principal.get(state["download"]) as pdf:
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        path.write_bytes(pdf.data)
    assert "Lê Bảo Ngọc" in "".join(page_text(path, n) for n in (1, 2, 3))
    assert "Nguyễn Minh Khôi" in page_text(path, 1) + page_text(path, 2) + page_text(path, 3)

    # Another school's staff get nothing, not even whether it exists.
    other = make_school_for_test(app)
    outsider = staff_login(make_staff("accountant", other).email, "mat-khau-rat-dai-123")
    assert outsider.get(state["download"]).status_code == 403
    assert outsider.get(page_url + ".json").status_code == 403
    # Nothing to print is said at once, and no job is made.
    token = principal.csrf("/app/LQD/tep-pdf")
    refused = principal.post("/app/LQD/tep-pdf", data={
        "csrf_token": token, "kind": "notices", "period": "2026-10"})
    assert refused.status_code == 422
    assert "Không có hóa đơn nào cần in thông báo." in refused.get_data(as_text=True)


def make_school_for_test(app):
    admin = schools_admin()
    school = schools.create_school(admin, {
        "code": "NTT", "name": "Trường THCS Nguyễn Trãi", "level": ["thcs"], "address": "",
        "payment_prefix": "NT", "bank_accounts": [{
            "bin": "970436", "account_number": "0011009999999", "account_name": "NTT"}]})
    db.session.commit()
    return school


def test_receipts_pdf_job(app, lqd, messaging, accountant, tmp_path):
    from tests.pdfs import page_text

    _pay(app, "HS001")
    _pay(app, "HS003")
    token = accountant.csrf("/app/LQD/tep-pdf")
    started = accountant.post("/app/LQD/tep-pdf", data={"csrf_token": token,
                                                        "kind": "receipts"})
    run_workers(app)
    state = accountant.get(started.headers["Location"] + ".json").get_json()
    assert (state["status"], state["done"]) == ("done", 2)
    path = tmp_path / "r.pdf"
    with accountant.get(state["download"]) as pdf:
        path.write_bytes(pdf.data)
    assert "BIÊN LAI" in page_text(path, 1).upper()


def test_roster_email_column_and_student_form(app, lqd, accountant, billed):
    roster = ("Mã học sinh,Họ và tên,Lớp,Họ tên phụ huynh,Số điện thoại,Email phụ huynh\n"
              "HS001,Nguyễn Thị Ánh Dương,1A,Nguyễn Văn Bình,0912345678, Binh.NV@Gmail.com\n"
              "HS003,Lê Bảo Ngọc,1A,Lê Văn Tâm,0901234567,\n")
    assert billed.upload("/schools/LQD/students/import", roster.encode(),
                         "ds.csv").status_code == 200
    assert billed.get("/schools/LQD/students").get_json()
    assert _student("HS001").guardian_email == "Binh.NV@gmail.com"
    bad = roster.replace(" Binh.NV@Gmail.com", "binh-at-gmail")
    refused = billed.upload("/schools/LQD/students/import", bad.encode(), "ds.csv")
    assert refused.status_code == 422
    assert "Email" in json.dumps(refused.get_json(), ensure_ascii=False)
    # The student form keeps the address unless it is changed.
    page = accountant.get("/app/LQD/hoc-sinh/HS001/sua").get_data(as_text=True)
    assert 'value="Binh.NV@gmail.com"' in page


def test_confirmation_costs_the_webhook_one_insert_and_no_query(app, lqd, messaging, client):
    from sqlalchemy import event

    from tests.helpers import KEY
    from tuition.models import Invoice

    codes = {i.student.code: i.code for i in db.session.scalars(select(Invoice))}
    send_sepay(client, sepay_body(codes["HS001"], 500_000), KEY)  # the year's counter row
    seen: list[str] = []

    def note(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()[:3]).upper())

    engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert send_sepay(client, sepay_body(codes["HS002"], 500_000)).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    # The same five SELECTs as without messages (test_webhook_statements), plus the outbox row.
    assert sum(s.startswith("SELECT") for s in seen) == 5, seen
    assert sum(s.startswith("INSERT INTO MESSAGES") for s in seen) == 1, seen
    db.session.rollback()
    assert [m.kind for m in _messages()] == ["confirmation", "confirmation"]


def test_payments_matched_in_a_batch_get_their_confirmations_too(app, lqd, messaging):
    """Queue mode's match workers book payments set-wise: each receipt still gets its
    parents' confirmation, in the same transaction."""
    from tuition.models import Receipt
    from tuition.services import batch_matching

    app.config["MATCH_IN_REQUEST"] = False
    try:
        for code in ("HS001", "HS002", "HS003"):
            _pay(app, code, 250000)
    finally:
        app.config["MATCH_IN_REQUEST"] = True
    assert _messages(kind="confirmation") == []
    assert batch_matching.match_pending().set_wise == 3
    db.session.commit()
    receipts = {r.id for r in db.session.scalars(select(Receipt))}
    confirmations = _messages(kind="confirmation")
    assert {m.receipt_id for m in confirmations} == receipts and len(receipts) == 3
    run_workers(app)
    assert len(messaging.esms.sent) == 3
