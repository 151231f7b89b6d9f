"""API: the education authority's overview, its exports, a school's drill-down, and placing a
school in a ward (admin).

Authorities (and admins) only; every other role gets 403. Aggregates only.
"""

from __future__ import annotations

import io

from flask import Response, g, jsonify, request, send_file

from ..extensions import db
from ..services import authority, authority_exports, schools
from ..services.errors import Invalid
from .api import _school_json, authenticated, bp, json_body
from .api_reports import today_arg

_FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}



def percent(name: str) -> float | None:
    """A threshold given in percent (``80`` or ``80.5``), as a fraction."""
    value = request.args.get(name, "").strip().rstrip("%")
    if not value:
        return None
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        number = -1.0
    if not 0 <= number <= 100:
        raise Invalid(f"“{name}” phải là phần trăm từ 0 đến 100.",
                      f"{name} must be a percentage from 0 to 100.", field=name)
    return number / 100


def overview_options() -> dict:
    """The overview's parameters from the query string (shared with the web pages)."""
    return {
        "period": request.args.get("period") or None,
        "province": request.args.get("province") or None,
        "ward": request.args.get("ward") or None,
        "level": request.args.get("level") or None,
        "sort": request.args.get("sort") or None,
        "descending": request.args.get("desc", "").lower() in ("1", "true", "yes"),
        "min_rate": percent("min_rate"),
        "min_cashless": percent("min_cashless"),
    }


def export_name(report: dict, fmt: str) -> str:
    unit = report["scope"]["ward_code"] or report["scope"]["province_code"]
    return f"tong-hop-thu-phi-{unit}-{report['period']}-{report['today']}.{fmt}"


def export_response(report: dict, fmt: str):
    name = export_name(report, fmt)
    if fmt == "pdf":
        out = io.BytesIO()
        authority_exports.overview_pdf(report, out)
        out.seek(0)
        return send_file(out, mimetype=_FORMATS["pdf"], download_name=name, as_attachment=True)
    return Response(authority_exports.overview_xlsx(report), mimetype=_FORMATS["xlsx"],
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.get("/authority/overview")
@authenticated
def authority_overview():
    fmt = request.args.get("format", "json")
    if fmt not in ("json", *_FORMATS):
        raise Invalid("“format” phải là json, xlsx hoặc pdf.",
                      "format must be json, xlsx or pdf.", field="format")
    report = authority.overview(g.user, today=today_arg(), **overview_options())
    if fmt == "json":
        return jsonify(report)
    return export_response(report, fmt)


@bp.get("/authority/schools/<code>/dashboard")
@authenticated
def authority_school(code: str):
    return jsonify(authority.school_dashboard(g.user, code, period=request.args.get("period"),
                                              today=today_arg()))


@bp.put("/schools/<code>/place")
@authenticated
def place_school(code: str):
    """Admin: put a school in a commune/ward, ``{"ward_code": 4}`` (official code)."""
    school = schools.get_school(code)
    schools.set_place(g.user, school, json_body().get("ward_code"))
    db.session.commit()
    return jsonify(_school_json(school))


def openapi_paths(op, as_json, school_param) -> dict:
    """This module's routes in the OpenAPI document (``op``, ``as_json`` and ``school_param``
    are the document's own helpers)."""
    text = {"type": "string"}
    filters = [{"name": name, "in": "query", "schema": schema, "description": description}
               for name, schema, description in (
                   ("period", text, "2026-09, 2026-2027-HK1 or 2026-2027 (default: the "
                                    "school year of today)"),
                   ("province", {"type": "integer"}, "Admins: official province code"),
                   ("ward", {"type": "integer"}, "Only this ward (official code)"),
                   ("level", {"enum": ["mam_non", "tieu_hoc", "thcs"]}, "Only this level"),
                   ("sort", {"enum": list(authority.SORTS)}, "Order of the schools"),
                   ("desc", {"type": "boolean"}, "Descending order"),
                   ("min_rate", {"type": "number"}, "Highlight collection rates below (%)"),
                   ("min_cashless", {"type": "number"}, "Highlight cashless shares below (%)"),
                   ("today", {"type": "string", "format": "date"}, "Age arrears at this day"),
                   ("format", {"enum": ["json", "xlsx", "pdf"]}, "JSON or a filed export"))]
    return {
        "/authority/overview": {"get": op(
            "Education authority: every school of the reader's province or ward in aggregate "
            "(students billed, expected, collected, rate, arrears by age, cashless share, bank "
            "feed), totals per ward and level, the school year's trend; XLSX or PDF to file",
            {"200": {"description": "The overview", "content": {
                "application/json": {"schema": {"type": "object"}},
                _FORMATS["xlsx"]: {}, _FORMATS["pdf"]: {}}}},
            params=filters)},
        "/authority/schools/{code}/dashboard": {"get": op(
            "Education authority: a school's dashboard by grade, class and fee item, without "
            "names",
            {"200": as_json({"type": "object"})},
            params=[{"name": "code", "in": "path", "required": True, "schema": text,
                     "description": "School code"}, filters[0], filters[-2]])},
        "/schools/{school}/place": {"put": op(
            "Admin: put a school in a commune/ward (official code)",
            {"200": as_json({"type": "object"})}, params=[school_param],
            body={"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["ward_code"],
                "properties": {"ward_code": {"type": "integer"}}}}}})},
    }
