"""API: the roster template to fill in (``GET .../students/import-template.xlsx`` or ``.csv``)."""

from __future__ import annotations

from flask import Response

from ..importing.templates import template
from .api import _school, authenticated, bp


def _download(kind: str, fmt: str) -> Response:
    content, media_type, name = template(kind, fmt)
    return Response(content, mimetype=media_type,
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.get("/schools/<code>/students/import-template.xlsx")
@authenticated
def roster_template_xlsx(code: str):
    """The columns the roster import reads, with one example row."""
    _school(code)
    return _download("roster", "xlsx")


@bp.get("/schools/<code>/students/import-template.csv")
@authenticated
def roster_template_csv(code: str):
    _school(code)
    return _download("roster", "csv")
