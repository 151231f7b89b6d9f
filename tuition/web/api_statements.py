"""Bank statement upload on the API blueprint: ``POST /api/v1/schools/<code>/statements``."""

from __future__ import annotations

from flask import g, jsonify, request

from ..core.numbers import small_int
from ..extensions import db
from ..importing.statements import COLUMN_FIELDS, StatementInvalid
from ..services import statements
from ..services.errors import Invalid
from .api import _school, authenticated, bp
from .errors import error_response

#: Form fields naming the mapping; any left out is guessed from the file's headers.
MAPPING_FORM_FIELDS = (*COLUMN_FIELDS, "date_format")


@bp.app_errorhandler(StatementInvalid)
def statement_invalid(exc: StatementInvalid):
    count = len(exc.errors)
    if any(error.row is not None for error in exc.errors):
        message_vi = (f"Sao kê có {count} lỗi; chưa nhập dòng nào. "
                      "Sửa các dòng dưới đây rồi tải lại.")
        message_en = f"The statement has {count} errors; nothing was imported."
    else:
        message_vi = f"Không nhập được sao kê: {exc.errors[0].message_vi}"
        message_en = f"The statement cannot be imported: {exc.errors[0].message_en}"
        if count > 1:
            message_vi += f" (và {count - 1} lỗi khác)"
            message_en += f" (and {count - 1} more)"
    return error_response(
        422, message_vi, message_en,
        rows=[{"row": e.row, "column": e.column, "message": e.message_vi,
               "message_en": e.message_en} for e in exc.errors],
    )


def _account_id() -> int | None:
    value = (request.form.get("account_id") or "").strip()
    if not value:
        return None
    number = small_int(value)
    if number is None:
        raise Invalid("“account_id” phải là số.", "account_id must be an integer.",
                      field="account_id")
    return number


@bp.post("/schools/<code>/statements")
@authenticated
def upload_statement(code: str):
    """Import an exported bank statement (XLSX/CSV); all lines or none."""
    school = _school(code, manage=True)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid("Gửi tệp sao kê trong trường “file”.",
                      "Send the statement as multipart field 'file'.", field="file")
    mapping = {name: request.form[name] for name in MAPPING_FORM_FIELDS if name in request.form}
    counts = statements.import_statement(
        g.user, school, upload.read(), upload.filename,
        account_id=_account_id(), mapping=mapping,
    )
    db.session.commit()
    counts.pop("upload_id", None)  # the staff app's page of the upload; not part of the API
    return jsonify(counts), 201
