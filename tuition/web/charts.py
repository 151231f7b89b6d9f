"""The dashboard's "money collected per day" chart, laid out in Python for an inline SVG.

Every day between the first and the last collection gets a slot, so gaps show as gaps and
one day is one bar of a normal width (not a block across the page); past four months the
bars are months. The value axis has round steps (1, 2, 2.5 or 5 times a power of ten) with
short labels ("1,5 tr"), and bars carry their value when there are few enough to read.
Pure layout: no Flask, so it is tested directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

#: More days than this are shown per month.
MAX_DAILY = 120
#: Bars at most this wide (px), so that one day does not fill the chart.
MAX_BAR = 44
#: Values are written on the bars when there are at most this many.
MAX_VALUE_LABELS = 16
#: At most this many labels under the bars.
MAX_X_LABELS = 12


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    amount_vnd: int
    #: The value written on the bar ("" when there are too many bars to read them).
    value_label: str


@dataclass
class Tick:
    position: float
    label: str


@dataclass
class Chart:
    width: int
    height: int
    #: The plotting area: left, top, right, bottom (px).
    left: float
    top: float
    right: float
    bottom: float
    per_month: bool
    bars: list[Bar] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    total_vnd: int = 0
    peak: Bar | None = None


def nice_step(peak: int, ticks: int = 4) -> int:
    """A round step (1, 2, 2.5 or 5 x 10^k dong) that covers ``peak`` in about ``ticks``."""
    if peak <= 0:
        return 1
    raw = peak / ticks
    power = 1
    while power * 10 <= raw:
        power *= 10
    for factor in (1, 2, 2.5, 5, 10):
        step = int(factor * power)
        if step >= raw:
            return max(step, 1)
    return 10 * power  # pragma: no cover - the loop always returns


def short_amount(amount: int, language: str = "vi") -> str:
    """Short money for axis and bar labels: "1,5 tr", "500 nghìn", "2 tỷ" ("1.5M" in English)."""
    units = (((1_000_000_000, "tỷ"), (1_000_000, "tr"), (1_000, "nghìn")) if language == "vi"
             else ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")))
    for size, unit in units:
        if abs(amount) >= size:
            value = f"{amount / size:.1f}".rstrip("0").rstrip(".")
            if language == "vi":
                return f"{value.replace('.', ',')} {unit}"
            return f"{value}{unit}"
    return str(amount)


def _slots(days: list[dict]) -> tuple[list[tuple[str, int]], bool]:
    """(label, amount) for each day (or month) from the first collection to the last."""
    amounts = {date.fromisoformat(d["date"]): d["collected_vnd"] for d in days}
    first, last = min(amounts), max(amounts)
    if (last - first).days < MAX_DAILY:
        slots, day = [], first
        while day <= last:
            slots.append((f"{day.day:02d}/{day.month:02d}", amounts.get(day, 0)))
            day += timedelta(days=1)
        return slots, False
    months: dict[tuple[int, int], int] = {}
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months[(year, month)] = 0
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    for day, amount in amounts.items():
        months[(day.year, day.month)] += amount
    return [(f"{m:02d}/{y}", amount) for (y, m), amount in months.items()], True


def by_day_chart(days: list[dict], *, language: str = "vi", width: int = 760,
                 height: int = 230) -> Chart | None:
    """Lay out ``days`` (``{"date": "YYYY-MM-DD", "collected_vnd": int}``, as the dashboard
    service gives them) as bars with axes; None when nothing was collected."""
    if not days:
        return None
    slots, per_month = _slots(days)
    chart = Chart(width=width, height=height, left=62, top=22, right=width - 10,
                  bottom=height - 26, per_month=per_month)
    peak_amount = max(amount for _, amount in slots)
    step = nice_step(max(peak_amount, 1))
    top_value = step * max(1, -(-max(peak_amount, 1) // step))
    plot_h = chart.bottom - chart.top

    def y_of(amount: int) -> float:
        return chart.bottom - plot_h * max(amount, 0) / top_value

    value = 0
    while value <= top_value:
        chart.y_ticks.append(Tick(round(y_of(value), 1), short_amount(value, language)))
        value += step

    slot_w = (chart.right - chart.left) / len(slots)
    bar_w = max(min(slot_w * 0.72, MAX_BAR), 1.0)
    show_values = len(slots) <= MAX_VALUE_LABELS
    every = 1
    for candidate in (1, 2, 3, 5, 7, 14, 15, 30, 31):
        every = candidate
        if -(-len(slots) // candidate) <= MAX_X_LABELS:
            break
    for index, (label, amount) in enumerate(slots):
        centre = chart.left + slot_w * (index + 0.5)
        top = y_of(amount)
        bar = Bar(x=round(centre - bar_w / 2, 1), y=round(top, 1), width=round(bar_w, 1),
                  height=round(chart.bottom - top, 1), label=label, amount_vnd=amount,
                  value_label=short_amount(amount, language) if show_values and amount else "")
        chart.bars.append(bar)
        if index % every == 0 or index == len(slots) - 1 and every == 1:
            chart.x_ticks.append(Tick(round(centre, 1), label))
        if chart.peak is None or amount > chart.peak.amount_vnd:
            chart.peak = bar
    chart.total_vnd = sum(amount for _, amount in slots)
    return chart
