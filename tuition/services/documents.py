"""Numbers of cash documents: phiếu thu (``PT26-000001``) for cash received and phiếu chi
(``PC26-000001``) for refunds, per school and year, without gaps.

Like receipt numbers: the counter row is updated (and so locked) for the rest of the
transaction, so two desks never take the same number, and a rolled-back transaction gives its
number back together with its document.
"""

from __future__ import annotations

import re

from sqlalchemy import bindparam, update

from ..extensions import db
from ..models import DocumentCounter
from . import sql

_TABLE = DocumentCounter.__table__
_TAKE = (
    update(_TABLE)
    .where(_TABLE.c.school_id == bindparam("for_school"), _TABLE.c.kind == bindparam("for_kind"),
           _TABLE.c.year == bindparam("for_year"))
    .values(last_number=_TABLE.c.last_number + 1)
    .returning(_TABLE.c.last_number)
)
_LABEL = re.compile(r"(P[TC])(\d{2})-(\d{6})")


def next_number(school_id: int, kind: str, year: int) -> str:
    """Take the next number of the school's ``kind`` (``PT`` or ``PC``) series of ``year``."""
    key = {"for_school": school_id, "for_kind": kind, "for_year": year}
    number = db.session.execute(_TAKE, key).scalar()
    if number is None:
        db.session.execute(
            sql.insert(_TABLE)
            .values(school_id=school_id, kind=kind, year=year, last_number=0)
            .on_conflict_do_nothing()
        )
        number = db.session.execute(_TAKE, key).scalar_one()
    return f"{kind}{year % 100:02d}-{number:06d}"


def compact(label: str) -> str:
    """A document number as it survives a bank memo: letters and digits only (PC26000012)."""
    return re.sub(r"[^0-9A-Z]", "", label.upper())
