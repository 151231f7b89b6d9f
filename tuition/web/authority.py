"""The education authority's pages under /quan-ly: the overview of its schools, its exports,
and a school's drill-down. Aggregates only; authorities and admins only.

An authority has its own layout (not a school's menu): it manages no school.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

from ..core import clock, places
from ..core.money import format_vnd
from ..core.periods import parse_period
from ..models.school import LEVELS
from ..services import authority
from .api_authority import export_response, overview_options

bp = Blueprint("authority", __name__, url_prefix="/quan-ly")

LEVEL_LABELS = {"mam_non": _l("Mầm non"), "tieu_hoc": _l("Tiểu học"), "thcs": _l("THCS")}
AGING_LABELS = {"not_due": _l("Chưa đến hạn"), "1_30": _l("Quá hạn 1–30 ngày"),
                "31_60": _l("Quá hạn 31–60 ngày"), "over_60": _l("Quá hạn trên 60 ngày")}
AGING_SHORT = {"not_due": _l("Chưa đến hạn"), "1_30": _l("1–30 ngày"),
               "31_60": _l("31–60 ngày"), "over_60": _l("Trên 60 ngày")}
SORT_LABELS = {
    "ward": _l("Xã/phường"), "name": _l("Tên trường"), "level": _l("Cấp học"),
    "students": _l("Số học sinh"), "expected": _l("Phải thu"), "collected": _l("Đã thu"),
    "outstanding": _l("Còn phải thu"), "rate": _l("Tỷ lệ thu"), "overdue": _l("Quá hạn"),
    "received": _l("Tiền đã nhận"), "cashless": _l("Tỷ lệ không dùng tiền mặt"),
    "feed": _l("Dữ liệu ngân hàng"),
}


@bp.before_request
def require_reader():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    g.user = current_user._get_current_object()
    if not authority.may_view(g.user):
        raise authority.refused()
    return None


def _query(**changes) -> str:
    """The current query string with some parameters changed (None removes one)."""
    args = {key: value for key, value in request.args.items() if value}
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return urlencode(args)


@bp.app_template_global()
def authority_query(**changes) -> str:
    return _query(**changes)


@bp.app_template_filter("level_names")
def level_names(keys) -> str:
    """School levels in the reader's language: "Tiểu học + THCS"."""
    return " + ".join(str(LEVEL_LABELS[key]) for key in LEVELS if key in set(keys))


@bp.app_template_filter("vn_datetime")
def vn_datetime(value) -> str:
    """A stored moment (or its ISO text) as dd/mm/yyyy HH:MM in Vietnam."""
    from datetime import datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return clock.format_datetime(value) if value else ""


@bp.get("/", endpoint="overview")
def overview_page():
    report = authority.overview(g.user, today=clock.today_vn(), **overview_options())
    year = parse_period(report["school_year"])
    first = int(year.key[:4])
    scope = report["scope"]
    wards = [] if scope["ward_code"] else [
        places.ward(code) for code in sorted({s.ward_code for s in authority.schools_in(
            authority.Scope(scope["province_code"]))})]
    return render_template(
        "authority/overview.html", report=report, totals=report["totals"],
        periods=authority.period_choices(year),
        years=[f"{first - 1}-{first}", year.key, f"{first + 1}-{first + 2}"],
        wards=sorted(wards, key=lambda w: places.plain(w.name)),
        levels=LEVELS, level_labels=LEVEL_LABELS, aging_labels=AGING_LABELS,
        aging_short=AGING_SHORT,
        sort_labels=SORT_LABELS,
        provinces=authority.provinces_with_schools() if g.user.role == "admin" else [],
        chart=trend_svg(report["trend"]),
        min_rate=report["filters"]["min_rate"] * 100,
        min_cashless=report["filters"]["min_cashless"] * 100)


@bp.get("/tong-hop.<any(xlsx, pdf):fmt>", endpoint="export")
def export(fmt: str):
    report = authority.overview(g.user, today=clock.today_vn(), **overview_options())
    return export_response(report, fmt)


@bp.get("/truong/<code>", endpoint="school")
def school_page(code: str):
    data = authority.school_dashboard(g.user, code, period=request.args.get("period"),
                                      today=clock.today_vn())
    year = parse_period(data["school_year"])
    days = data["collections_by_day"]
    return render_template(
        "authority/school.html", data=data, periods=authority.period_choices(year),
        days=days, peak=max((d["collected_vnd"] for d in days), default=0),
        aging_labels=AGING_LABELS)


def trend_svg(months: list[dict]) -> Markup:
    """The school year month by month: bars of what was billed and what was collected on it,
    and lines of the collection rate and of the cashless share (0-100%, right-hand scale)."""
    width, height, left, right, top, bottom = 820, 260, 70, 50, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice(max((max(m["expected_vnd"], m["collected_vnd"]) for m in months), default=0))
    step = plot_w / max(len(months), 1)
    bar = step * 0.34
    title = _("Biểu đồ theo tháng của năm học")
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" id="trend-chart" '
             f'aria-label="{escape(title)}">']
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                     'stroke="#e3e8ee"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
                     f'{escape(_short_money(peak * fraction))}</text>')
        parts.append(f'<text x="{width - right + 6}" y="{y + 4:.1f}" font-size="10">'
                     f'{int(fraction * 100)}%</text>')
    rate_points, cashless_points = [], []
    for index, month in enumerate(months):
        x = left + index * step + step / 2
        for offset, key, colour, label in ((-bar, "expected_vnd", "#b6c8dd", _l("Phải thu")),
                                           (0, "collected_vnd", "#1f3a5f", _l("Đã thu"))):
            h = month[key] / peak * plot_h
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}" class="bar-{key[:-4]}">'
                f'<title>{escape(month["label"])} · {escape(label)}: '
                f'{format_vnd(month[key])} đ</title></rect>')
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" font-size="11" '
                     f'text-anchor="middle">{escape(month["label"])}</text>')
        for value, points in ((month["collection_rate"], rate_points),
                              (month["cashless_share"], cashless_points)):
            if value is not None:
                points.append((x, top + plot_h * (1 - min(value, 1))))
    for points, colour, label in ((rate_points, "#0a6b2d", _l("Tỷ lệ thu")),
                                  (cashless_points, "#c2410c", _l("Tỷ lệ không dùng tiền mặt"))):
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"><title>{escape(label)}</title></polyline>')
            parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'
                         for x, y in points)
    legend = ((("#b6c8dd", _l("Phải thu")), ("#1f3a5f", _l("Đã thu")),
               ("#0a6b2d", _l("Tỷ lệ thu")), ("#c2410c", _l("Tỷ lệ không dùng tiền mặt")))
              )
    x = left
    for colour, label in legend:
        parts.append(f'<rect x="{x}" y="{height - 14}" width="10" height="10" '
                     f'fill="{colour}"/><text x="{x + 14}" y="{height - 5}" '
                     f'font-size="11">{escape(label)}</text>')
        x += 30 + 7 * len(str(label))
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice(amount: int) -> int:
    """The top of the money axis: the amount rounded up to 1, 2, 4, 6 or 8 times a power of
    ten, so that its quarters are round numbers."""
    if amount <= 0:
        return 1_000_000
    power = 10 ** (len(str(int(amount))) - 1)
    for step in (1, 2, 4, 6, 8, 10):
        if amount <= step * power:
            return int(step * power)
    return 10 * power


def _short_money(amount: float) -> str:
    """An axis label: 1,25 tỷ, 350 tr, 12 nghìn (dong)."""
    def number(value: float) -> str:
        return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")

    if amount >= 1e9:
        return _("%(n)s tỷ", n=number(amount / 1e9))
    if amount >= 1e6:
        return _("%(n)s tr", n=number(amount / 1e6))
    if amount >= 1e3:
        return _("%(n)s nghìn", n=number(amount / 1e3))
    return f"{amount:.0f}"
