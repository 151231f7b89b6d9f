"""Staff pages for admins: money that reached no school, and notifications refused because
they contradict what is stored."""

from __future__ import annotations

from flask import g, render_template

from ...services import payments, refusals
from . import bp
from .payments import local_time


@bp.get("/quan-tri/giao-dich-chua-xac-dinh", endpoint="admin_unrouted")
def unrouted_page():
    return render_template(
        "staff/admin/unrouted.html", unrouted=payments.unrouted(g.user),
        refused=refusals.recent(g.user), local_time=local_time)
