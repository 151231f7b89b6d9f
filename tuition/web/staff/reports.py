"""Staff pages: the principal's dashboard and the arrears list with its exports."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Response, g, render_template, request, send_file
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...core.periods import PeriodError, parse_period
from ...extensions import db
from ...models import Invoice
from ...services import reports
from . import bp, load_school

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
GROUPS = {"": _l("Từng học sinh"), "class": _l("Theo lớp"), "grade": _l("Theo khối"),
          "fee_item": _l("Theo khoản thu")}
CHANNEL_LABELS = {"transfer": _l("Chuyển khoản có mã thanh toán"),
                  "virtual_account": _l("Tài khoản định danh"),
                  "statement": _l("Sao kê ngân hàng"), "cash": _l("Tiền mặt")}
AGING_LABELS = {"not_due": _l("Chưa đến hạn"), "1_30": _l("Quá hạn 1–30 ngày"),
                "31_60": _l("Quá hạn 31–60 ngày"), "over_60": _l("Quá hạn trên 60 ngày")}


def _today() -> date:
    return datetime.now(VIETNAM).date()


def _periods(school) -> list[tuple[str, str]]:
    """The periods this school has invoices for, newest first, with their labels."""
    keys = db.session.scalars(
        select(Invoice.period).where(Invoice.school_id == school.id).distinct()
    ).all()
    labelled = []
    for key in sorted(keys, reverse=True):
        try:
            labelled.append((key, parse_period(key).label))
        except PeriodError:
            labelled.append((key, key))
    return labelled


def _chosen_period(periods: list[tuple[str, str]]) -> str | None:
    """``?period=`` (``all`` for every period); by default the newest period."""
    wanted = request.args.get("period")
    if wanted == "all":
        return None
    if wanted:
        return wanted
    return periods[0][0] if periods else None


@bp.get("/<school_code>/tong-quan", endpoint="dashboard")
def dashboard_page(school_code: str):
    school = load_school(school_code)
    periods = _periods(school)
    period = _chosen_period(periods)
    data = reports.dashboard(g.user, school, period=period, today=_today())
    days = data["collections_by_day"]
    peak = max((d["collected_vnd"] for d in days), default=0)
    return render_template("staff/reports/dashboard.html", data=data, periods=periods,
                           period=period, days=days, peak=peak, aging_labels=AGING_LABELS,
                           channel_labels=CHANNEL_LABELS)


@bp.get("/<school_code>/cong-no", endpoint="arrears")
def arrears_page(school_code: str):
    school = load_school(school_code)
    periods = _periods(school)
    period = _chosen_period(periods)
    group_by = request.args.get("group_by") or None
    overdue_only = request.args.get("overdue_only") == "1"
    report = reports.arrears(g.user, school, period=period, group_by=group_by,
                             today=_today(), overdue_only=overdue_only)
    return render_template("staff/reports/arrears.html", report=report, periods=periods,
                           period=period, group_by=group_by or "", groups=GROUPS,
                           overdue_only=overdue_only)


@bp.get("/<school_code>/cong-no.<any(csv, xlsx, pdf):fmt>", endpoint="arrears_export")
def arrears_export(school_code: str, fmt: str):
    school = load_school(school_code)
    period = _chosen_period(_periods(school))
    options = {"period": period, "group_by": request.args.get("group_by") or None,
               "today": _today(), "overdue_only": request.args.get("overdue_only") == "1"}
    name = f"cong-no-{school.code}-{period or 'tat-ca'}.{fmt}"
    if fmt == "pdf":
        out = io.BytesIO()
        reports.arrears_pdf(g.user, school, out=out, **options)
        out.seek(0)
        return send_file(out, mimetype="application/pdf", download_name=name)
    if fmt == "csv":
        body, mimetype = reports.arrears_csv(g.user, school, **options), "text/csv"
    else:
        body = reports.arrears_xlsx(g.user, school, **options)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename={name}"})
