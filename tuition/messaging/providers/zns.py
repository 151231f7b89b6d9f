"""Zalo ZNS (template messages from a school's Official Account).

Send: ``POST {api}/message/template`` with header ``access_token`` and a JSON body
``{phone, template_id, template_data, tracking_id}``; the answer is
``{"error": 0, "data": {"msg_id", "sent_time", "quota": {...}}}`` or a negative error code.
Access tokens live about 25 hours; they are refreshed with the OA's refresh token at
``POST {oauth}/v4/oa/access_token`` (form-encoded, header ``secret_key``), which answers a new
access token *and a new refresh token*: the old refresh token is spent, so the caller must
store the new one before anything else (see :class:`TokenSource`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import requests

from .base import Outgoing, PermanentFailure, Sent, TemporaryFailure
from .http import call

#: Zalo's documented error codes that mean "not this message through ZNS" (fall back).
PERMANENT_CODES = {
    -101: "Ứng dụng Zalo không hợp lệ",
    -102: "Ứng dụng Zalo không tồn tại",
    -103: "Ứng dụng Zalo chưa được kích hoạt",
    -104: "Khóa bí mật của ứng dụng Zalo không hợp lệ",
    -105: "Ứng dụng Zalo chưa liên kết với Official Account",
    -106: "Phương thức không được hỗ trợ",
    -107: "ID thông báo không hợp lệ",
    -108: "Số điện thoại không hợp lệ",
    -109: "ID mẫu ZNS không hợp lệ",
    -110: "Phiên bản Zalo của người nhận quá cũ",
    -111: "Dữ liệu mẫu ZNS trống",
    -118: "Số điện thoại chưa có tài khoản Zalo",
}
TOKEN_INVALID = -124
UNKNOWN_ERROR = -100
_TRACKING_ID = re.compile(r"[A-Za-z0-9_]{1,48}")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    #: Seconds the access token lives (Zalo says about 90,000).
    expires_in: int


class TokenSource(Protocol):
    """Where a worker gets the OA's access token; implemented over the database."""

    def current(self) -> str:
        """A usable access token (refreshed first when it has expired)."""
        ...

    def refresh(self, stale: str) -> str:
        """Zalo refused ``stale``: refresh (unless another worker already did) and return
        the token to use now."""
        ...


class ZaloOAuth:
    """Refreshing an OA access token."""

    def __init__(self, oauth_url: str, app_id: str, app_secret: str, *,
                 session: requests.Session | None = None, timeout: float = 15) -> None:
        self.url = oauth_url.rstrip("/") + "/v4/oa/access_token"
        self.app_id = app_id
        self.app_secret = app_secret
        self.session = session or requests.Session()
        self.timeout = timeout

    def refresh(self, refresh_token: str) -> TokenPair:
        response = call(
            self.session, "POST", self.url, timeout=self.timeout,
            headers={"secret_key": self.app_secret},
            data={"app_id": self.app_id, "grant_type": "refresh_token",
                  "refresh_token": refresh_token},
        )
        try:
            body = response.json()
        except ValueError as exc:
            raise TemporaryFailure("Zalo trả lời không phải JSON khi làm mới token") from exc
        if not body.get("access_token") or not body.get("refresh_token"):
            code = str(body.get("error", ""))
            raise PermanentFailure(
                "Không làm mới được access token của Zalo OA "
                f"({body.get('error_name') or body.get('error_description') or code}); "
                "cần cấp lại refresh token", code=code or None)
        return TokenPair(body["access_token"], body["refresh_token"],
                         int(body.get("expires_in") or 90000))


class ZnsChannel:
    name = "zns"
    #: Whether Zalo deduplicates on tracking_id is not documented: never send twice blind.
    repeat_safe = False

    def __init__(self, api_url: str, tokens: TokenSource, *,
                 session: requests.Session | None = None, timeout: float = 15,
                 development: bool = False) -> None:
        self.url = api_url.rstrip("/") + "/message/template"
        self.tokens = tokens
        self.session = session or requests.Session()
        self.timeout = timeout
        self.development = development

    def send(self, message: Outgoing) -> Sent:
        if not message.phone:
            raise PermanentFailure("Không có số điện thoại")
        if not message.zns_template_id:
            raise PermanentFailure("Chưa khai báo mẫu ZNS cho loại tin này")
        if not _TRACKING_ID.fullmatch(message.request_id):
            raise PermanentFailure("Mã theo dõi (tracking_id) không hợp lệ")
        body = {
            "phone": "84" + message.phone[1:],
            "template_id": message.zns_template_id,
            "template_data": message.zns_data,
            "tracking_id": message.request_id,
        }
        if self.development:
            body["mode"] = "development"
        token = self.tokens.current()
        answer = self._post(token, body)
        if answer.get("error") == TOKEN_INVALID:
            answer = self._post(self.tokens.refresh(token), body)
        return self._outcome(answer)

    def _post(self, token: str, body: dict) -> dict:
        response = call(self.session, "POST", self.url, timeout=self.timeout, json=body,
                        headers={"access_token": token})
        try:
            answer = response.json()
        except ValueError as exc:
            raise TemporaryFailure(f"Zalo trả lời HTTP {response.status_code} không phải JSON",
                                   maybe_sent=True) from exc
        if not isinstance(answer, dict) or "error" not in answer:
            raise TemporaryFailure("Zalo trả lời không đúng định dạng", maybe_sent=True)
        return answer

    @staticmethod
    def _outcome(answer: dict) -> Sent:
        code = answer.get("error")
        message = str(answer.get("message") or "")
        if code == 0:
            data = answer.get("data") or {}
            quota = (data.get("quota") or {}).get("remainingQuota")
            return Sent(str(data.get("msg_id") or ""), detail=message,
                        remaining_quota=int(quota) if str(quota or "").isdigit() else None)
        if code == UNKNOWN_ERROR:
            raise TemporaryFailure(f"Zalo: lỗi không xác định ({message})", code=str(code))
        if code == TOKEN_INVALID:
            raise PermanentFailure("Zalo từ chối access token kể cả sau khi làm mới",
                                   code=str(code))
        reason = PERMANENT_CODES.get(code)
        if reason is None:
            # Codes whose numbers the docs do not show reliably: known by their message.
            lowered = message.lower()
            reason = ("Hết hạn mức gửi ZNS trong ngày" if "quota" in lowered else
                      "Người nhận không nhận tin từ OA" if "refuse" in lowered
                      or "inactive" in lowered else f"Zalo từ chối: {message or code}")
        raise PermanentFailure(reason, code=str(code))
