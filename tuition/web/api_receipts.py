"""API: receipts (list, PDF one or in bulk, void and replace) and parents' links."""

from __future__ import annotations

import io
from datetime import date

from flask import Response, g, jsonify, request, send_file

from ..extensions import db
from ..services import cash, parents, receipts, students
from ..services.errors import Invalid, not_found
from ..spreadsheets import csv_bytes
from .api import _school, authenticated, bp, json_body, reason_of


def _day(name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(f"“{name}” phải là ngày dạng YYYY-MM-DD.",
                      f"{name} must be a date YYYY-MM-DD.", field=name) from exc


def _filtered(code: str):
    school = _school(code)
    status = request.args.get("status")
    if status not in (None, "", "valid", "void"):
        raise Invalid("Trạng thái phải là valid hoặc void.", "status must be valid or void.")
    return school, receipts.list_receipts(
        school, class_name=request.args.get("class"), date_from=_day("from"),
        date_to=_day("to"), status=status or None)


@bp.get("/schools/<code>/receipts")
@authenticated
def list_receipts(code: str):
    _school_, found = _filtered(code)
    return jsonify({"items": [receipts.receipt_json(r) for r in found], "count": len(found)})


def _pdf_response(docs, name: str):
    from ..pdf.receipts import LAYOUTS, render_receipts

    layout = request.args.get("layout", "a5")
    if layout not in LAYOUTS:
        raise Invalid("Khổ giấy phải là a5 hoặc 80mm.", "layout must be a5 or 80mm.",
                      field="layout")
    out = io.BytesIO()
    count = render_receipts(docs, out, layout=layout)
    if count == 0:
        raise Invalid("Không có biên lai nào để in.", "No receipts to print.")
    out.seek(0)
    return send_file(out, mimetype="application/pdf", download_name=name)


@bp.get("/schools/<code>/receipts.pdf")
@authenticated
def receipts_pdf(code: str):
    school, found = _filtered(code)
    return _pdf_response((receipts.document(r) for r in found),
                         f"bien-lai-{school.code}.pdf")


@bp.get("/receipts/<int:receipt_id>.pdf")
@authenticated
def receipt_pdf(receipt_id: int):
    receipt = receipts.get_receipt(g.user, receipt_id)
    return _pdf_response([receipts.document(receipt)],
                         f"bien-lai-{receipt.series}-{receipt.number:07d}.pdf")


@bp.get("/receipts/<int:receipt_id>")
@authenticated
def get_receipt(receipt_id: int):
    return jsonify(receipts.receipt_json(receipts.get_receipt(g.user, receipt_id)))


@bp.post("/receipts/<int:receipt_id>/void")
@authenticated
def void_receipt(receipt_id: int):
    """Void with a reason; with ``"replace": true`` a replacement gets a new number."""
    receipt = receipts.get_receipt(g.user, receipt_id)
    data = json_body()
    if not isinstance(data.get("replace", False), bool):
        raise Invalid("“replace” phải là true hoặc false.", "replace must be a boolean.",
                      field="replace")
    if not data.get("replace") and cash.is_cash_receipt(receipt):
        # Cash: the money leaves the cash book with the receipt (see services/cash.py).
        entry = cash.void_receipt(g.user, receipt, reason=str(data.get("reason", "")))
        db.session.commit()
        return jsonify({"voided": receipts.receipt_json(receipt),
                        "cash_book_entry": {"id": entry.id, "day": entry.day.isoformat(),
                                            "amount_vnd": entry.amount_vnd}})
    if data.get("replace"):
        replacement = receipts.void_and_replace(
            g.user, receipt, reason=reason_of(data),
            payer_name=data.get("payer_name"))
        db.session.commit()
        return jsonify({"voided": receipts.receipt_json(receipt),
                        "replacement": receipts.receipt_json(replacement)}), 201
    receipts.void(g.user, receipt, reason=reason_of(data))
    db.session.commit()
    return jsonify({"voided": receipts.receipt_json(receipt)})


@bp.get("/schools/<code>/parent-links")
@authenticated
def parent_links(code: str):
    """Each studying student's private link, as JSON or CSV (``?format=csv``) for SMS/Zalo."""
    school = _school(code)
    fmt = request.args.get("format") or "json"
    if fmt not in ("json", "csv"):
        raise Invalid("“format” phải là json hoặc csv.", "format must be json or csv.",
                      field="format")
    rows = parents.link_rows(g.user, school)
    db.session.commit()  # tokens created for students imported before links existed
    if fmt == "csv":
        body = csv_bytes(
            ["Mã học sinh", "Họ và tên", "Lớp", "Phụ huynh", "Số điện thoại", "Đường dẫn"],
            ([row["student_code"], row["student_name"], row["class"], row["guardian_name"],
              row["guardian_phone"], row["link"]] for row in rows),
        )
        return Response(body, mimetype="text/csv", headers={
            "Content-Disposition": f"attachment; filename=duong-dan-{school.code}.csv"})
    return jsonify({"items": rows, "count": len(rows)})


@bp.post("/schools/<code>/students/<student_code>/parent-link")
@authenticated
def reissue_parent_link(code: str, student_code: str):
    """Revoke the student's current link and issue a new one."""
    school = _school(code, manage=True)
    student = students.get_student(school, student_code)
    if student is None:
        raise not_found(f"học sinh “{student_code}”", f"Student {student_code!r}")
    url = parents.reissue(g.user, school, student)
    db.session.commit()
    return jsonify({"student_code": student.code, "link": url}), 201
