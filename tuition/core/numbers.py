"""Whole numbers typed into forms and URLs (ids, page numbers, counts)."""

from __future__ import annotations

#: The largest id or count accepted: a 32-bit INTEGER column's range.
MAX_ID = 2**31 - 1


def small_int(text: str | None, *, limit: int = MAX_ID) -> int | None:
    """``text`` as a whole number from 0 to ``limit``, else ``None``.

    Only ASCII digits count: ``str.isdigit`` also takes "²" and "٣", which ``int`` refuses,
    and a 5,000-digit string would pass ``isdigit`` and then fail ``int`` (or overflow a
    column). Surrounding spaces are ignored.
    """
    value = (text or "").strip()
    if not value or not (value.isascii() and value.isdigit()) or len(value.lstrip("0")) > 12:
        return None
    number = int(value)
    return number if number <= limit else None
