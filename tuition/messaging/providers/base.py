"""The interface every channel implements, and the outcomes of a send."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """One message as a channel sends it."""

    #: Ours, unique per message and constant across attempts: eSMS ``RequestId``, ZNS
    #: ``tracking_id``, the email's Message-ID.
    request_id: str
    #: National form ``0912345678`` (channels convert to what their API documents).
    phone: str | None
    email: str | None
    sms_text: str
    email_subject: str
    email_body: str
    #: Zalo: the approved template and its data, or None when the school has none for it.
    zns_template_id: str | None = None
    zns_data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    """The provider accepted the message."""

    provider_message_id: str | None
    #: The provider already had this request id (a repeat after a crash): it was sent before.
    duplicate: bool = False
    detail: str = ""
    #: What the provider says is left of its own daily quota, when it says so (Zalo).
    remaining_quota: int | None = None


class SendFailure(Exception):
    """A send that did not go through; ``code`` is the provider's code when it gave one."""

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TemporaryFailure(SendFailure):
    """Worth retrying later with the same channel (network, 5xx, provider busy).

    ``maybe_sent``: the request may have reached the provider (the answer was lost); only a
    channel that deduplicates on the request id may then send again.
    """

    def __init__(self, reason: str, *, code: str | None = None, maybe_sent: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(reason, code=code)
        self.maybe_sent = maybe_sent
        self.retry_after = retry_after


class PermanentFailure(SendFailure):
    """This channel will not deliver this message (bad number, no Zalo account, template
    refused, bad credentials): the next channel may."""


class Channel(Protocol):
    #: "zns", "sms" or "email".
    name: str
    #: Sending the same request id again cannot deliver twice (the provider deduplicates),
    #: so a message whose worker died mid-call may be sent again.
    repeat_safe: bool

    def send(self, message: Outgoing) -> Sent:
        """Send, or raise :class:`TemporaryFailure` / :class:`PermanentFailure`."""
        ...
