"""Numbers as people read them: percentages the Vietnamese way ("2,4 %")."""

from __future__ import annotations

__all__ = ["format_percent"]


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
