"""Email from the deployment itself (sign-in invitations), through the messaging email channel
(:class:`tuition.messaging.providers.email.SmtpChannel`: one SMTP client for the whole app).

Settings (environment), shared with the messages to parents: ``TUITION_SMTP_HOST`` (no host:
no email is sent), ``TUITION_SMTP_PORT`` (587; 465 is implicit TLS), ``TUITION_SMTP_USER``,
``TUITION_SMTP_PASSWORD``, ``TUITION_SMTP_SENDER``. STARTTLS is used when the server offers
it. Mails are sent after the transaction that made them commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .messaging.providers.base import Outgoing, PermanentFailure, TemporaryFailure
from .messaging.providers.email import SmtpChannel


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class MailError(OSError):
    """The mail server could not take a mail."""


def configured(config: Mapping) -> bool:
    return bool(config.get("SMTP_HOST"))


def send(config: Mapping, mails: Iterable[Mail]) -> int:
    """Send the mails; returns how many were accepted. Raises :class:`MailError` (an
    ``OSError``) if the server cannot be used or refuses one."""
    mails = list(mails)
    if not mails or not configured(config):
        return 0
    host = config["SMTP_HOST"]
    channel = SmtpChannel(
        host, int(config.get("SMTP_PORT") or 587),
        config.get("SMTP_SENDER") or f"no-reply@{host}", sender_name="Thu học phí",
        user=config.get("SMTP_USER") or None, password=config.get("SMTP_PASSWORD") or None,
        timeout=float(config.get("SMTP_TIMEOUT") or 20))
    for mail in mails:
        try:
            channel.send(Outgoing(request_id=secrets.token_hex(8), phone=None, email=mail.to,
                                  sms_text="", email_subject=mail.subject,
                                  email_body=mail.body))
        except (PermanentFailure, TemporaryFailure) as exc:
            raise MailError(str(exc)) from exc
    return len(mails)
