"""Error handlers: JSON (with Vietnamese and English messages) for the API, pages elsewhere."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from ..extensions import db
from ..importing.adjustments import AdjustmentsInvalid
from ..importing.roster import RosterInvalid
from ..importing.tabular import ImportFileError, RowsInvalid
from ..services.errors import ServiceError

_HTTP_VI = {
    400: "Yêu cầu không hợp lệ.",
    401: "Cần đăng nhập hoặc mã truy cập (token) hợp lệ.",
    403: "Bạn không có quyền làm việc này.",
    404: "Không tìm thấy.",
    405: "Phương thức không được hỗ trợ.",
    413: "Tệp quá lớn.",
    429: "Quá nhiều yêu cầu, vui lòng thử lại sau.",
    500: "Lỗi hệ thống. Vui lòng thử lại sau.",
}


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks/")) or request.is_json


def error_response(status: int, message_vi: str, message_en: str, **extra):
    db.session.rollback()
    if wants_json():
        body = {"error": {"status": status, "message": message_vi, "message_en": message_en}}
        body["error"].update(extra)
        return jsonify(body), status
    if request.path.startswith("/app/") and current_user.is_authenticated:
        # Inside the staff app a refusal keeps the app around it: menu, school, a way back.
        english = str(get_locale()) == "en"
        return render_template("staff/error.html", status=status,
                               message=message_en if english else message_vi), status
    return render_template("error.html", status=status, message=message_vi), status


def _row_errors(errors) -> list[dict]:
    return [
        {"row": e.row, "column": e.column, "message": e.message, "message_en": e.message_en}
        for e in errors
    ]


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        return error_response(exc.status, exc.message_vi, exc.message_en, **exc.details)

    @app.errorhandler(RosterInvalid)
    @app.errorhandler(AdjustmentsInvalid)
    @app.errorhandler(RowsInvalid)
    def rows_invalid(exc):
        return error_response(
            422,
            f"Tệp có {len(exc.errors)} lỗi; chưa nhập dòng nào. Sửa các dòng dưới đây rồi tải lại.",
            f"The file has {len(exc.errors)} errors; nothing was imported.",
            rows=_row_errors(exc.errors),
        )

    @app.errorhandler(ImportFileError)
    def bad_file(exc: ImportFileError):
        # 400 for a file that is not what it should be; 413 / 422 for one too large or too
        # slow to read (the guarded reader's refusals).
        return error_response(exc.status, exc.message_vi, exc.message_en)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        return error_response(status, _HTTP_VI.get(status, exc.name), exc.description or exc.name)

    @app.errorhandler(DataError)
    def unstorable(exc: DataError):
        # The database refused a value (too long for its column, out of its range): the input
        # was bad, so the answer is a 4xx. Each such field should be checked before it gets
        # here, with a message naming it; the log says which one was missed.
        app.logger.warning("input refused by the database: %s", exc.orig)
        return error_response(
            422, "Dữ liệu không hợp lệ: có giá trị quá dài hoặc quá lớn.",
            "Invalid input: a value is too long or too large.",
        )

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return error_response(500, _HTTP_VI[500], "Internal error.")
