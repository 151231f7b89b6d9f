"""Staff pages: the principal's dashboard and the arrears list with its exports."""

from __future__ import annotations

import io
from datetime import date

from flask import Response, g, render_template, request, send_file
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...core import clock
from ...extensions import db
from ...models import Invoice
from ...services import bank_accounts, reconciliation, reports
from ..charts import by_day_chart
from ..formatting import language, period_label
from . import bp, load_school

GROUPS = {"": _l("Từng học sinh"), "class": _l("Theo lớp"), "grade": _l("Theo khối"),
          "fee_item": _l("Theo khoản thu")}
CHANNEL_LABELS = {"transfer": _l("Chuyển khoản có mã thanh toán"),
                  "virtual_account": _l("Tài khoản định danh"),
                  "statement": _l("Sao kê ngân hàng"), "cash": _l("Tiền mặt")}
AGING_LABELS = {"not_due": _l("Chưa đến hạn"), "1_30": _l("Quá hạn 1–30 ngày"),
                "31_60": _l("Quá hạn 31–60 ngày"), "over_60": _l("Quá hạn trên 60 ngày")}


def _today() -> date:
    return clock.today_vn()


def _periods(school) -> list[tuple[str, str]]:
    """The periods this school has invoices for, newest first, with their labels."""
    keys = db.session.scalars(
        select(Invoice.period).where(Invoice.school_id == school.id).distinct()
    ).all()
    return [(key, period_label(key)) for key in sorted(keys, reverse=True)]


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
    chart = by_day_chart(data["collections_by_day"], language=language())
    return render_template("staff/reports/dashboard.html", data=data, periods=periods,
                           period=period, chart=chart, aging_labels=AGING_LABELS,
                           bank_changes=bank_accounts.changes(g.user, school, since_days=30),
                           unconfirmed=reconciliation.unconfirmed(g.user, school),
                           channel_labels=CHANNEL_LABELS)


@bp.post("/<school_code>/doi-soat", endpoint="reconcile")
def reconcile_now(school_code: str):
    """Ask the bank's list now (SePay's transaction API) and come back to the dashboard."""
    from flask import flash, redirect, url_for
    from flask_babel import gettext as _

    from ...services.errors import ServiceError
    from ..api_reconciliation import run_for_school

    school = load_school(school_code, manage=True)
    try:
        results = run_for_school(school, 48)
    except ServiceError as exc:
        flash(exc.message_vi if str(get_locale()) == "vi" else exc.message_en, "error")
    else:
        flagged = sum(len(r.get("unconfirmed", [])) for r in results)
        failed = [r["account_number"] for r in results if not r["ok"]]
        flash(_("Đã đối soát %(n)d tài khoản: %(flagged)d giao dịch ngân hàng chưa xác nhận.",
                n=len(results), flagged=flagged), "info")
        if failed:
            flash(_("Không hỏi được ngân hàng cho tài khoản: %(accounts)s.",
                    accounts=", ".join(failed)), "error")
    return redirect(url_for("staff.dashboard", school_code=school.code))


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
