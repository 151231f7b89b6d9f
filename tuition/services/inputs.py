"""Checks on short texts people type (reasons, names), shared by the services.

Columns have lengths; PostgreSQL refuses a longer value with an error, SQLite stores it. Either
way the person should hear which field is too long, before anything is written.
"""

from __future__ import annotations

from .errors import Invalid

#: A reason (cancelling, voiding, assigning, reversing, setting aside). Room is left in the
#: 300-character columns for the prefix a voided receipt's reason gets ("Đảo bút toán: ...").
MAX_REASON = 250


def require_reason(reason: str, *, field: str = "reason") -> str:
    """``reason`` if it fits :data:`MAX_REASON`; callers have stripped it and checked that
    it is there."""
    return limit_length(reason, MAX_REASON, "Lý do", "The reason", field=field)


def limit_length(text: str, limit: int, label_vi: str, label_en: str, *, field: str) -> str:
    """``text`` if it has at most ``limit`` characters, else :class:`Invalid`."""
    if len(text) > limit:
        raise Invalid(f"{label_vi} dài quá {limit} ký tự.",
                      f"{label_en} is longer than {limit} characters.", field=field)
    return text
