"""SMS brandname gateways. Each gateway is a :class:`~.base.Channel` named ``"sms"``; the
school's settings say which one (``GATEWAYS``). Adding one is a class with ``send``.

eSMS.vn: ``POST {api}/MainService.svc/json/SendMultipleMessage_V4_post_json/`` with
``ApiKey``, ``SecretKey``, ``Phone``, ``Content``, ``Brandname``, ``SmsType`` (2: customer
care), ``IsUnicode``, ``RequestId`` (duplicate guard: a repeat answers 124) and
``CallbackUrl``. ``CodeResult`` 100 means accepted, not delivered: delivery comes to the
callback.
"""

from __future__ import annotations

import requests

from ..core import sms_length
from .base import Outgoing, PermanentFailure, Sent, TemporaryFailure
from .http import call

#: eSMS error codes (developers.esms.vn, table of error codes).
ESMS_ERRORS = {
    "99": "Số điện thoại bị chặn nhận tin",
    "101": "Sai ApiKey hoặc SecretKey của eSMS",
    "102": "Tài khoản eSMS chưa có bảng giá",
    "103": "Tài khoản eSMS không đủ tiền",
    "104": "Brandname chưa được đăng ký",
    "108": "Số điện thoại không đúng định dạng",
    "118": "Loại tin nhắn không được hỗ trợ",
    "140": "Địa chỉ IP của máy chủ chưa được eSMS cho phép",
    "146": "Nội dung không khớp mẫu chăm sóc khách hàng đã đăng ký",
    "177": "Brandname chưa đăng ký với nhà mạng của số này",
}
ESMS_ACCEPTED = "100"
ESMS_DUPLICATE = "124"


class EsmsGateway:
    name = "sms"
    #: eSMS refuses a repeated RequestId (124): sending again cannot deliver twice.
    repeat_safe = True

    def __init__(self, api_url: str, api_key: str, secret_key: str, brandname: str, *,
                 callback_url: str | None = None, sandbox: bool = False,
                 session: requests.Session | None = None, timeout: float = 15) -> None:
        self.url = api_url.rstrip("/") + "/MainService.svc/json/SendMultipleMessage_V4_post_json/"
        self.api_key = api_key
        self.secret_key = secret_key
        self.brandname = brandname
        self.callback_url = callback_url
        self.sandbox = sandbox
        self.session = session or requests.Session()
        self.timeout = timeout

    def send(self, message: Outgoing) -> Sent:
        if not message.phone:
            raise PermanentFailure("Không có số điện thoại")
        body = {
            "ApiKey": self.api_key,
            "SecretKey": self.secret_key,
            "Phone": message.phone,
            "Content": message.sms_text,
            "Brandname": self.brandname,
            "SmsType": "2",
            "IsUnicode": "1" if sms_length(message.sms_text).unicode else "0",
            "RequestId": message.request_id,
            "Sandbox": "1" if self.sandbox else "0",
        }
        if self.callback_url:
            body["CallbackUrl"] = self.callback_url
        response = call(self.session, "POST", self.url, timeout=self.timeout, json=body)
        try:
            answer = response.json()
        except ValueError as exc:
            raise TemporaryFailure(f"eSMS trả lời HTTP {response.status_code} không phải JSON",
                                   maybe_sent=True) from exc
        code = str(answer.get("CodeResult", ""))
        if code == ESMS_ACCEPTED:
            return Sent(str(answer.get("SMSID") or ""))
        if code == ESMS_DUPLICATE:
            return Sent(None, duplicate=True,
                        detail="eSMS đã nhận tin này trước đó (RequestId trùng)")
        reason = ESMS_ERRORS.get(code) or f"eSMS từ chối: {answer.get('ErrorMessage') or code}"
        raise PermanentFailure(reason, code=code or None)


#: SMS gateways by the name used in settings (``TUITION_SMS_GATEWAY``).
GATEWAYS = {"esms": EsmsGateway}
