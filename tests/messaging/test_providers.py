"""Each channel against its local stand-in, without the app: request shapes, the provider's
error codes, and what the sender learns (sent, temporary, permanent, maybe sent)."""

from __future__ import annotations

import json

import pytest
import requests

from tests.standins import EsmsStandIn, SmtpStandIn, ZaloStandIn, free_port
from tuition.messaging.providers.base import (
    Outgoing,
    PermanentFailure,
    TemporaryFailure,
)
from tuition.messaging.providers.email import SmtpChannel
from tuition.messaging.providers.sms import EsmsGateway
from tuition.messaging.providers.zns import ZaloOAuth, ZnsChannel


def outgoing(**kw) -> Outgoing:
    base = dict(request_id="a1b2c3d4e5f60718", phone="0912345678", email="ph@example.vn",
                sms_text="Truong LQD: hoc phi thang 09 con 500.000d",
                email_subject="Học phí", email_body="Kính gửi phụ huynh",
                zns_template_id="231201", zns_data={"student_name": "An", "amount": "500.000"})
    base.update(kw)
    return Outgoing(**base)


@pytest.fixture
def zalo():
    server = ZaloStandIn(templates={"231201": ["student_name", "amount"]}).start()
    yield server
    server.stop()


class MemoryTokens:
    """A token source over memory, with the same refresh-once semantics as the DB one."""

    def __init__(self, oauth: ZaloOAuth, refresh_token: str) -> None:
        self.oauth = oauth
        self.refresh_token = refresh_token
        self.access_token: str | None = None

    def current(self) -> str:
        return self.access_token or self.refresh(None)

    def refresh(self, stale):
        pair = self.oauth.refresh(self.refresh_token)
        self.refresh_token = pair.refresh_token
        self.access_token = pair.access_token
        return pair.access_token


def zns(zalo: ZaloStandIn, refresh_token: str = "first-refresh-token") -> ZnsChannel:
    oauth = ZaloOAuth(zalo.url, zalo.app_id, zalo.app_secret)
    return ZnsChannel(zalo.url, MemoryTokens(oauth, refresh_token))


def test_zns_sends_template_with_international_phone(zalo):
    sent = zns(zalo).send(outgoing())
    assert sent.provider_message_id == zalo.sent[0].msg_id
    assert zalo.sent[0].phone == "0912345678"
    assert zalo.sent[0].tracking_id == "a1b2c3d4e5f60718"
    assert zalo.sent[0].template_data == {"student_name": "An", "amount": "500.000"}
    assert sent.remaining_quota == zalo.remaining


def test_zns_refreshes_an_invalid_token_once_and_rotates_the_refresh_token(zalo):
    channel = zns(zalo)
    channel.send(outgoing())
    first_refresh = channel.tokens.refresh_token
    zalo.expire_tokens()  # Zalo now answers -124 to the stored access token
    channel.send(outgoing(request_id="second"))
    assert zalo.refreshes == 2
    assert channel.tokens.refresh_token != first_refresh
    assert [code for code, _ in zalo.rejected] == [-124]


def test_zns_spent_refresh_token_is_a_permanent_failure(zalo):
    channel = zns(zalo, refresh_token="already-used")
    with pytest.raises(PermanentFailure, match="refresh token"):
        channel.send(outgoing())


@pytest.mark.parametrize("setup, kw, code", [
    (lambda z: z.no_zalo.add("0912345678"), {}, "-118"),
    (lambda z: None, {"zns_template_id": "999"}, "-109"),
    (lambda z: None, {"zns_data": {"student_name": "An"}}, "-1124"),
])
def test_zns_permanent_errors(zalo, setup, kw, code):
    setup(zalo)
    with pytest.raises(PermanentFailure) as caught:
        zns(zalo).send(outgoing(**kw))
    assert caught.value.code == code


def test_zns_unknown_error_is_temporary(zalo):
    zalo.fail_next.append(-100)
    with pytest.raises(TemporaryFailure) as caught:
        zns(zalo).send(outgoing())
    assert not caught.value.maybe_sent


@pytest.fixture
def esms():
    server = EsmsStandIn().start()
    yield server
    server.stop()


def gateway(server: EsmsStandIn, **kw) -> EsmsGateway:
    return EsmsGateway(server.url, kw.pop("api_key", server.api_key), server.secret_key,
                       kw.pop("brandname", "TRUONGLQD"), callback_url="http://x/cb", **kw)


def test_esms_send_and_duplicate_request_id(esms):
    channel = gateway(esms)
    first = channel.send(outgoing())
    assert first.provider_message_id == esms.sent[0].sms_id and not first.duplicate
    again = channel.send(outgoing())  # the same RequestId: eSMS answers 124
    assert again.duplicate
    assert len(esms.sent) == 1 and esms.answers == ["100", "124"]
    assert esms.sent[0].is_unicode == "0" and esms.sent[0].callback_url == "http://x/cb"


def test_esms_marks_unicode_content(esms):
    gateway(esms).send(outgoing(sms_text="Học phí tháng 09"))
    assert esms.sent[0].is_unicode == "1"


@pytest.mark.parametrize("kw, code", [
    ({"api_key": "wrong"}, "101"), ({"brandname": "OTHER"}, "104"),
])
def test_esms_configuration_errors(esms, kw, code):
    with pytest.raises(PermanentFailure) as caught:
        gateway(esms, **kw).send(outgoing())
    assert caught.value.code == code


def test_esms_bad_phone_and_blocked(esms):
    with pytest.raises(PermanentFailure) as caught:
        gateway(esms).send(outgoing(phone="02438261234"))
    assert caught.value.code == "108"
    esms.blocked.add("0912345678")
    with pytest.raises(PermanentFailure) as caught:
        gateway(esms).send(outgoing(request_id="other"))
    assert caught.value.code == "99"


def test_esms_server_error_is_temporary_and_may_have_been_sent(esms):
    esms.http_fail_next.append(503)
    with pytest.raises(TemporaryFailure) as caught:
        gateway(esms).send(outgoing())
    assert caught.value.maybe_sent and caught.value.code == "HTTP503"


def test_refused_connection_was_not_sent():
    channel = EsmsGateway(f"http://127.0.0.1:{free_port()}", "k", "s", "B", timeout=2)
    with pytest.raises(TemporaryFailure) as caught:
        channel.send(outgoing())
    assert not caught.value.maybe_sent


def test_read_timeout_may_have_been_sent(esms):
    esms.delay = 1.0
    channel = EsmsGateway(esms.url, esms.api_key, esms.secret_key, "TRUONGLQD", timeout=0.2)
    with pytest.raises(TemporaryFailure) as caught:
        channel.send(outgoing())
    assert caught.value.maybe_sent


@pytest.fixture
def smtp():
    server = SmtpStandIn(refuse={"khong-co@example.vn"}).start()
    yield server
    server.stop()


def test_smtp_sends_utf8_mail(smtp):
    channel = SmtpChannel("127.0.0.1", smtp.port, "hocphi@truong.edu.vn",
                          sender_name="Trường Tiểu học Lê Quý Đôn")
    sent = channel.send(outgoing(email_subject="Thông báo học phí — Ánh Dương",
                                 email_body="Kính gửi phụ huynh em Nguyễn Thị Ánh Dương"))
    (mail,) = smtp.parsed()
    assert mail["Subject"] == "Thông báo học phí — Ánh Dương"
    assert mail["To"] == "ph@example.vn"
    assert "Lê Quý Đôn" in str(mail["From"])
    assert "Ánh Dương" in mail.get_content()
    assert str(mail["Message-ID"]).strip() == sent.provider_message_id
    assert "a1b2c3d4e5f60718" in mail["Message-ID"]


def test_smtp_refused_recipient_is_permanent(smtp):
    channel = SmtpChannel("127.0.0.1", smtp.port, "hocphi@truong.edu.vn")
    with pytest.raises(PermanentFailure):
        channel.send(outgoing(email="khong-co@example.vn"))
    assert smtp.messages == []


def test_smtp_down_is_temporary_and_not_sent():
    channel = SmtpChannel("127.0.0.1", free_port(), "hocphi@truong.edu.vn", timeout=2)
    with pytest.raises(TemporaryFailure) as caught:
        channel.send(outgoing())
    assert not caught.value.maybe_sent


def test_standin_checks_zalo_request_shape(zalo):
    # What the stand-in refuses, as Zalo would: no token, wrong content type.
    answer = requests.post(zalo.url + "/message/template", data="x",
                           headers={"Content-Type": "text/plain"}, timeout=5)
    assert answer.status_code == 400
    answer = requests.post(zalo.url + "/message/template", json={}, timeout=5)
    assert answer.json()["error"] == -124
    assert json.loads(zalo.delivery_webhook("m1")[0])["message"]["msg_id"] == "m1"
