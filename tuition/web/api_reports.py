"""API: the staff's reports — a period's dashboard and the arrears list (JSON, CSV, XLSX, PDF).

Principals and accountants of the school and admins may read them (``_school`` checks).
"""

from __future__ import annotations

import io
from datetime import date

from flask import Response, g, jsonify, request, send_file

from ..core import clock
from ..services import reports
from ..services.errors import Invalid
from .api import _school, authenticated, bp

_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def today_arg() -> date:
    """``?today=YYYY-MM-DD`` (to see the report as of a day), else today in Vietnam."""
    value = request.args.get("today")
    if not value:
        return clock.today_vn()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("“today” phải là ngày dạng YYYY-MM-DD.",
                      "today must be a date YYYY-MM-DD.", field="today") from exc


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes")


@bp.get("/schools/<code>/reports/dashboard")
@authenticated
def report_dashboard(code: str):
    school = _school(code)
    return jsonify(reports.dashboard(g.user, school, period=request.args.get("period"),
                                     today=today_arg()))


@bp.get("/schools/<code>/reports/arrears")
@authenticated
def report_arrears(code: str):
    school = _school(code)
    fmt = request.args.get("format", "json")
    if fmt not in ("json", *_FORMATS):
        raise Invalid("“format” phải là json, csv, xlsx hoặc pdf.",
                      "format must be json, csv, xlsx or pdf.", field="format")
    options = {
        "period": request.args.get("period"),
        "group_by": request.args.get("group_by") or None,
        "today": today_arg(),
        "overdue_only": _flag("overdue_only"),
    }
    if fmt == "json":
        return jsonify(reports.arrears(g.user, school, **options))
    name = f"cong-no-{school.code}-{options['period'] or 'tat-ca'}.{fmt}"
    if fmt == "pdf":
        out = io.BytesIO()
        reports.arrears_pdf(g.user, school, out=out, **options)
        out.seek(0)
        return send_file(out, mimetype=_FORMATS["pdf"], download_name=name)
    export = reports.arrears_csv if fmt == "csv" else reports.arrears_xlsx
    return Response(export(g.user, school, **options), mimetype=_FORMATS[fmt],
                    headers={"Content-Disposition": f"attachment; filename={name}"})
