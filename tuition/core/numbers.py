"""Numbers as people read and type them: percentages the Vietnamese way ("2,4 %"), and whole
numbers typed into forms and URLs (ids, page numbers, counts)."""

from __future__ import annotations

__all__ = ["MAX_ID", "format_percent", "small_int"]

def format_percent(ratio: float | None, *, decimals: int = 1, language: str = "vi") -> str:
    """A ratio as a percentage: ``0.024`` -> ``"2,4 %"`` in Vietnamese (decimal comma, a space
    before the sign), ``"2.4%"`` in English. ``None`` (nothing to divide by) is ``"—"``."""
    if ratio is None:
        return "—"
    # Rounded half up, as people round by hand, not to even (float repr makes 0.0245 odd).
    scaled = round(ratio * 100 * 10**decimals + 1e-9 * (1 if ratio >= 0 else -1))
    sign = "-" if scaled < 0 else ""
    whole, fraction = divmod(abs(scaled), 10**decimals)
    text = f"{sign}{whole}" + (f".{fraction:0{decimals}d}" if decimals else "")
    if language == "vi":
        return text.replace(".", ",") + " %"
    return text + "%"


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
