"""Sending email over SMTP, when the deployment has a server configured.

Settings (environment): ``TUITION_SMTP_HOST`` (no host: no email is sent), ``TUITION_SMTP_PORT``
(587), ``TUITION_SMTP_USER`` and ``TUITION_SMTP_PASSWORD`` (optional), ``TUITION_SMTP_STARTTLS``
(true), ``TUITION_MAIL_FROM``. Messages are sent after the transaction that made them commits.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def configured(config: Mapping) -> bool:
    return bool(config.get("SMTP_HOST"))


def send(config: Mapping, mails: Iterable[Mail]) -> int:
    """Send the mails over one SMTP connection; returns how many were accepted. Raises
    :class:`smtplib.SMTPException` or :class:`OSError` if the server cannot be used."""
    mails = list(mails)
    if not mails or not configured(config):
        return 0
    sender = config.get("MAIL_FROM") or f"no-reply@{config['SMTP_HOST']}"
    with smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 587),
                      timeout=int(config.get("SMTP_TIMEOUT") or 20)) as server:
        if config.get("SMTP_STARTTLS", True) not in (False, "false", "0", 0):
            server.starttls()
        if config.get("SMTP_USER"):
            server.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        for mail in mails:
            message = EmailMessage()
            message["From"] = formataddr(("Thu học phí", sender))
            message["To"] = mail.to
            message["Subject"] = mail.subject
            message.set_content(mail.body)
            server.send_message(message)
    return len(mails)
