"""Bank statement uploads: what each upload added, so the accountant can go through it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import created_at_column


class StatementUpload(db.Model):
    """One uploaded statement file: its counts and the transactions it added."""

    __tablename__ = "statement_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    filename: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: rows, new, duplicates, outgoing, matched, review (see statements.import_statement).
    counts: Mapped[dict] = mapped_column(JSON)
    #: Ids of the bank transactions this upload added (lines already known are not listed).
    transaction_ids: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = created_at_column()
