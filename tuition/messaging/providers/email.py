"""Email over SMTP (STARTTLS when the server offers it, or implicit TLS on port 465)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from .base import Outgoing, PermanentFailure, Sent, TemporaryFailure


class SmtpChannel:
    name = "email"
    #: SMTP has no idempotency key: a message interrupted mid-transaction is not resent.
    repeat_safe = False

    def __init__(self, host: str, port: int, sender: str, *, user: str | None = None,
                 password: str | None = None, sender_name: str | None = None,
                 timeout: float = 20, require_tls: bool = False) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.sender_name = sender_name
        self.user = user
        self.password = password
        self.timeout = timeout
        self.require_tls = require_tls

    def build(self, message: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = formataddr((self.sender_name or "", self.sender))
        mail["To"] = message.email
        mail["Subject"] = message.email_subject
        domain = self.sender.rpartition("@")[2] or "localhost"
        mail["Message-ID"] = make_msgid(idstring=message.request_id, domain=domain)
        mail["X-Tuition-Request-Id"] = message.request_id
        mail.set_content(message.email_body)
        return mail

    def send(self, message: Outgoing) -> Sent:
        if not message.email:
            raise PermanentFailure("Không có địa chỉ email")
        mail = self.build(message)
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"Không kết nối được máy chủ email: {exc}") from exc
        try:
            try:
                refused = smtp.send_message(mail)
            except smtplib.SMTPRecipientsRefused as exc:
                raise PermanentFailure(f"Máy chủ email từ chối địa chỉ {message.email}",
                                       code=_code(exc)) from exc
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code >= 500:
                    raise PermanentFailure(f"Máy chủ email từ chối: {exc.smtp_code} "
                                           f"{_text(exc.smtp_error)}",
                                           code=str(exc.smtp_code)) from exc
                raise TemporaryFailure(f"Máy chủ email tạm từ chối: {exc.smtp_code} "
                                       f"{_text(exc.smtp_error)}",
                                       code=str(exc.smtp_code)) from exc
            except (OSError, smtplib.SMTPException) as exc:
                # Cut off in the middle of the transaction: the server may have queued it.
                raise TemporaryFailure(f"Mất kết nối máy chủ email khi gửi: {exc}",
                                       maybe_sent=True) from exc
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        if refused:
            raise PermanentFailure(f"Máy chủ email từ chối địa chỉ {message.email}")
        return Sent(mail["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.port == 465:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                  context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif self.require_tls:
                smtp.close()
                raise smtplib.SMTPException("the server does not offer STARTTLS")
        if self.user:
            try:
                smtp.login(self.user, self.password or "")
            except smtplib.SMTPAuthenticationError as exc:
                smtp.close()
                raise PermanentFailure("Sai tài khoản hoặc mật khẩu SMTP",
                                       code=str(exc.smtp_code)) from exc
        return smtp


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _code(exc: smtplib.SMTPRecipientsRefused) -> str | None:
    for code, _msg in exc.recipients.values():
        return str(code)
    return None
