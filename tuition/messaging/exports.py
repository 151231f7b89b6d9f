"""Whole-school PDFs (fee notices of a period, receipts of a range) rendered by a background
job into a file, with progress, instead of holding a web request open.

The file is written under a random name in the exports folder (``TUITION_EXPORTS_DIR``,
default ``instance/exports``) as ``.part`` and renamed when complete, so a download never gets
half a PDF. Only staff of the school may see or download it.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from ..core import clock
from ..core.periods import PeriodError, parse_period
from ..extensions import db
from ..models import Classroom, Invoice, PdfExport, School, Student, User
from ..services import invoices as invoice_service
from ..services import receipts as receipt_service
from ..services.access import require_read
from ..services.errors import Invalid, not_found
from ..services.students import class_name_key

log = logging.getLogger(__name__)

#: Progress is written at most this often (seconds), and at least every this many items.
PROGRESS_SECONDS = 0.5
PROGRESS_ITEMS = 100


def exports_dir() -> Path:
    configured = current_app.config.get("EXPORTS_DIR")
    path = Path(configured) if configured else Path(current_app.instance_path) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _day(value: Any, field: str) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise Invalid("Ngày phải có dạng yyyy-mm-dd.", "Dates must read yyyy-mm-dd.",
                      field=field) from exc


def start(actor: User, school: School, kind: str, data: dict[str, Any]) -> PdfExport:
    """Record a PDF to render (flushes; the caller commits, then enqueues). Reading is all it
    does, so principals may start one too."""
    require_read(actor, school)
    class_name = class_name_key(str(data.get("class") or "")) or None
    if kind == "notices":
        try:
            period = parse_period(str(data.get("period") or "").strip().upper()).key
        except PeriodError as exc:
            raise Invalid("Hãy chọn kỳ thu.", "Choose a period.", field="period") from exc
        layout = data.get("layout") or "a5x2"
        if layout not in ("a5x2", "a4"):
            raise Invalid("Bố cục phải là a5x2 hoặc a4.", "layout must be a5x2 or a4.",
                          field="layout")
        params = {"period": period, "class": class_name, "layout": layout}
        invoice_service.receiving_account(school)
        total = _count_notices(school, period, class_name)
        if total == 0:
            raise Invalid("Không có hóa đơn nào cần in thông báo.", "No unpaid invoices to print.")
    elif kind == "receipts":
        status = data.get("status") or None
        if status not in (None, "valid", "void"):
            raise Invalid("Trạng thái không hợp lệ.", "Invalid status.", field="status")
        params = {"class": class_name, "from": _day(data.get("from"), "from"),
                  "to": _day(data.get("to"), "to"), "status": status}
        total = len(_receipts(school, params))
        if total == 0:
            raise Invalid("Không có biên lai nào để in.", "No receipts to print.")
    else:
        raise Invalid("Loại tệp phải là thông báo hoặc biên lai.",
                      "kind must be notices or receipts.", field="kind")
    export = PdfExport(school_id=school.id, kind=kind, params=params, status="queued",
                       total=total, done=0, created_by_id=actor.id)
    db.session.add(export)
    db.session.flush()
    return export


def _count_notices(school: School, period: str, class_name: str | None) -> int:
    query = (select(func.count()).select_from(Invoice)
             .join(Student, Student.id == Invoice.student_id)
             .join(Classroom, Classroom.id == Student.classroom_id)
             .where(Invoice.school_id == school.id, Invoice.period == period,
                    Invoice.status.in_(("open", "partial"))))
    if class_name:
        query = query.where(Classroom.name == class_name)
    return db.session.scalar(query) or 0


def _receipts(school: School, params: dict):
    return receipt_service.list_receipts(
        school, class_name=params.get("class"),
        date_from=date.fromisoformat(params["from"]) if params.get("from") else None,
        date_to=date.fromisoformat(params["to"]) if params.get("to") else None,
        status=params.get("status"))


def get_export(actor: User, school: School, export_id: int) -> PdfExport:
    require_read(actor, school)
    export = db.session.get(PdfExport, export_id)
    if export is None or export.school_id != school.id:
        raise not_found("tệp PDF", "PDF export")
    return export


def list_exports(actor: User, school: School, *, limit: int = 20) -> list[PdfExport]:
    require_read(actor, school)
    return list(db.session.scalars(select(PdfExport).where(PdfExport.school_id == school.id)
                                   .order_by(PdfExport.id.desc()).limit(limit)))


def file_path(export: PdfExport) -> Path | None:
    if export.status != "done" or not export.file_name:
        return None
    path = exports_dir() / export.file_name
    return path if path.is_file() else None


def download_name(export: PdfExport, school: School) -> str:
    p = export.params
    if export.kind == "notices":
        return f"thong-bao-{school.code}-{p['period']}-{p.get('class') or 'toan-truong'}.pdf"
    return f"bien-lai-{school.code}-{p.get('from') or ''}-{p.get('to') or ''}.pdf"


# --- The job ---------------------------------------------------------------------------------


def _progress(export_id: int, done: int) -> None:
    """Written on a connection of its own, so the rendering's session is not disturbed."""
    table = PdfExport.__table__
    with db.engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == export_id)
                           .values(done=done, heartbeat_at=clock.now_utc()))


def _counted(items: Iterable, export_id: int) -> Iterator:
    done, last = 0, time.monotonic()
    for item in items:
        yield item
        done += 1
        if done % PROGRESS_ITEMS == 0 or time.monotonic() - last > PROGRESS_SECONDS:
            _progress(export_id, done)
            last = time.monotonic()


def render(export_id: int) -> str:
    """Render one export (the body of the RQ job)."""
    export = db.session.scalar(select(PdfExport).where(PdfExport.id == export_id)
                               .with_for_update())
    if export is None or export.status != "queued":
        db.session.commit()
        return "not queued"
    now = clock.now_utc()
    export.status = "running"
    export.started_at = now
    export.heartbeat_at = now
    export.done = 0
    name = export.file_name or f"{export.kind}-{export.id}-{secrets.token_hex(12)}.pdf"
    export.file_name = name
    kind, params, school_id = export.kind, dict(export.params), export.school_id
    actor = db.session.get(User, export.created_by_id) if export.created_by_id else None
    db.session.commit()
    school = db.session.get(School, school_id)
    actor = actor or User(role="admin", email="worker@localhost", name="worker")
    final = exports_dir() / name
    partial = final.with_suffix(".part")
    try:
        with partial.open("wb") as out:
            if kind == "notices":
                from ..pdf.notices import render_notices

                stream = invoice_service.notices_for_class(
                    actor, school, period=params["period"], class_name=params.get("class"))
                count = render_notices(_counted(stream, export_id), out,
                                       layout=params.get("layout") or "a5x2",
                                       title=f"Thông báo thu tiền {params['period']}")
            else:
                from ..pdf.receipts import render_receipts

                docs = (receipt_service.document(r) for r in _receipts(school, params))
                count = render_receipts(_counted(docs, export_id), out)
        os.replace(partial, final)
    except Exception as exc:  # noqa: BLE001 — recorded for staff, then re-raised for RQ
        db.session.rollback()
        partial.unlink(missing_ok=True)
        _finish(export_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:300])
        log.exception("pdf export %s failed", export_id)
        raise
    _finish(export_id, status="done", done=count, size=final.stat().st_size)
    return f"{count} documents"


def _finish(export_id: int, *, status: str, done: int | None = None, size: int | None = None,
            error: str | None = None) -> None:
    export = db.session.get(PdfExport, export_id)
    export.status = status
    if done is not None:
        export.done = done
        export.total = max(export.total, done)
    export.size_bytes = size
    export.error = error
    export.finished_at = clock.now_utc()
    db.session.commit()


def recover_stale() -> int:
    """Exports whose worker died mid-render (no progress for a while) are queued again."""
    cutoff = clock.now_utc() - timedelta(seconds=int(current_app.config["EXPORT_STALE_SECONDS"]))
    table = PdfExport.__table__
    result = db.session.execute(
        update(table).where(table.c.status == "running", table.c.heartbeat_at < cutoff)
        .values(status="queued", enqueued_at=None))
    db.session.commit()
    return result.rowcount or 0
