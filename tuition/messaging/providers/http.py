"""One HTTP call with the distinctions a sender needs: not sent, maybe sent, answered."""

from __future__ import annotations

import requests
from urllib3.exceptions import NewConnectionError

from .base import TemporaryFailure


def call(session: requests.Session, method: str, url: str, *, timeout: float,
         **kwargs) -> requests.Response:
    """Make the request; turn transport errors into :class:`TemporaryFailure`.

    A failure to connect means nothing was sent; a timeout or a dropped connection after the
    request was written means it may have been (``maybe_sent``).
    """
    try:
        response = session.request(method, url, timeout=timeout, **kwargs)
    except requests.exceptions.ConnectTimeout as exc:
        raise TemporaryFailure(f"Không kết nối được tới nhà cung cấp: {exc}") from exc
    except requests.exceptions.ConnectionError as exc:
        # A refused connection never sent anything; a reset after sending might have.
        raise TemporaryFailure(f"Lỗi kết nối tới nhà cung cấp: {exc}",
                               maybe_sent=not _never_connected(exc)) from exc
    except requests.exceptions.Timeout as exc:
        raise TemporaryFailure(f"Nhà cung cấp không trả lời kịp: {exc}",
                               maybe_sent=True) from exc
    if response.status_code == 429 or response.status_code >= 500:
        retry_after = response.headers.get("Retry-After") or response.headers.get(
            "X-Rate-Limit-Reset")
        raise TemporaryFailure(
            f"Nhà cung cấp trả lời HTTP {response.status_code}",
            code=f"HTTP{response.status_code}",
            # A 5xx may come after the provider accepted the message; a 429 never.
            maybe_sent=response.status_code >= 500,
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None)
    return response


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    reason = exc.args[0] if exc.args else None
    return isinstance(getattr(reason, "reason", reason), NewConnectionError)
