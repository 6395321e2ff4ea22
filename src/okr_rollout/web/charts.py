"""How the pages draw their charts as SVG on the server (no script, no CDN): layout only, the data comes from the
services (``cycles.charts``, ``portfolio.service.portfolio_phase_health_counts``). The templates in
``_charts.html`` turn a layout into markup (escaped by Jinja), with a title, a description and a table of the
same numbers beside it.

Coordinates are in the SVG's own units: the picture scales to the width it is given (a phone's too)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from okr_rollout.cycles.charts import DepartmentRates, KeyResultProgress, QuarterCharts

WIDTH = 400  # narrow enough that a phone's 360 px keep the text legible
LABEL = 18.0  # a row's label stands above it, so long names and Chinese ones take the whole width


@dataclass(frozen=True)
class Tick:
    at: float  # the coordinate on its axis
    value: float | date


@dataclass(frozen=True)
class ProgressDot:
    cx: float
    cy: float
    r: float
    week_of: date
    value: float
    expected: float
    confidence: float | None
    level: str  # how sure: low | medium | high | unknown (the dot's look)


@dataclass(frozen=True)
class ProgressChart:
    """A key result's check-ins as dots joined by a line, and the straight line from start to target."""

    progress: KeyResultProgress
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    expected: tuple[float, float, float, float]  # x1, y1, x2, y2
    path: str  # the check-ins joined, "" for fewer than two
    dots: list[ProgressDot]
    y_ticks: list[Tick]
    x_ticks: list[Tick]


def confidence_level(confidence: float | None, top: float | None) -> tuple[str, float]:
    """(low | medium | high | unknown, the share of the scale) of a check-in's confidence."""
    if confidence is None or not top:
        return "unknown", 0.5
    share = min(max(confidence / top, 0.0), 1.0)
    return ("low" if share < 0.4 else "medium" if share < 0.7 else "high"), share


def progress_chart(progress: KeyResultProgress, confidence_max: float | None, width: int = WIDTH,
                   height: int = 210) -> ProgressChart:
    left, right, top, bottom = 52.0, width - 12.0, 12.0, height - 28.0
    values = [progress.start, progress.target, *(p.value for p in progress.points)]
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.08
    low, high = low - pad, high + pad
    span = max((progress.ends_on - progress.starts_on).days, 1)

    def x(day: date) -> float:
        return round(left + (right - left) * min(max((day - progress.starts_on).days / span, 0.0), 1.0), 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - top) * (value - low) / (high - low), 1)

    dots = []
    for point in progress.points:
        level, share = confidence_level(point.confidence, confidence_max)
        dots.append(ProgressDot(x(point.week_of), y(point.value), round(3.5 + 3.5 * share, 1), point.week_of,
                                point.value, point.expected, point.confidence, level))
    path = "M " + " L ".join(f"{d.cx} {d.cy}" for d in dots) if len(dots) > 1 else ""
    edge = sorted({progress.start, progress.target})
    y_ticks = [Tick(y(v), v) for v in edge]
    middle = progress.starts_on + (progress.ends_on - progress.starts_on) / 2
    x_ticks = [Tick(x(d), d) for d in (progress.starts_on, middle, progress.ends_on)]
    return ProgressChart(progress, width, height, left, right, top, bottom,
                         (x(progress.starts_on), y(progress.start), x(progress.ends_on), y(progress.target)),
                         path, dots, y_ticks, x_ticks)


@dataclass(frozen=True)
class RateCell:
    x: float
    y: float
    width: float
    height: float
    department: str | None
    period: int
    starts_on: date
    done: int
    possible: int
    rate: float
    opacity: float  # the cell's shade: the higher the rate, the darker


@dataclass(frozen=True)
class RateRow:
    department: str | None
    y: float  # the baseline of its name, above its cells


@dataclass(frozen=True)
class RateChart:
    """Check-in rate per department (rows) per period of the quarter (columns), as shaded cells."""

    width: int
    height: int
    label_width: float
    cell_height: float
    rows: list[RateRow]
    columns: list[Tick]  # the middle of each column, with its period's number
    cells: list[RateCell]
    rates: list[DepartmentRates]


def rate_chart(rates: Sequence[DepartmentRates], width: int = WIDTH) -> RateChart:
    label_width, cell_height, header = 0.0, 24.0, 18.0
    periods = max((len(r.periods) for r in rates), default=0)
    cell_width = (width - label_width) / max(periods, 1)
    cells, rows = [], []
    for row, department in enumerate(rates):
        top = header + row * (cell_height + LABEL + 6) + LABEL
        rows.append(RateRow(department.department, top - 5))
        for column, period in enumerate(department.periods):
            cells.append(RateCell(round(label_width + column * cell_width, 1), top, round(cell_width - 2, 1),
                                  cell_height, department.department, period.period, period.starts_on, period.done,
                                  period.possible, period.rate, round(0.08 + 0.92 * period.rate, 2)))
    columns = [Tick(round(label_width + (i + 0.5) * cell_width, 1), i + 1) for i in range(periods)]
    height = int(header + len(rates) * (cell_height + LABEL + 6))
    return RateChart(width, height, label_width, cell_height, rows, columns, cells, list(rates))


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    key: str
    series: int  # the key's place among the keys (those given first): its colour, the same whatever is drawn
    title: str
    count: int


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    total: int
    segments: list[Segment]


@dataclass(frozen=True)
class Series:
    key: str
    title: str
    series: int


@dataclass(frozen=True)
class StackedBars:
    """One horizontal bar per label, stacked by key: the counts of ``stacked_bars``' input."""

    width: int
    height: int
    label_width: float
    bar_height: float
    bars: list[Bar]
    series: list[Series]  # the legend, in the order of the stack
    keys: list[str]

    @property
    def points(self) -> int:
        return sum(len(bar.segments) for bar in self.bars)


def stacked_bars(counts: Sequence[tuple[str, str, str, int]], keys: Sequence[str] = (), width: int = WIDTH
                 ) -> StackedBars:
    """``counts``: (a bar's label, a key, the key's title, a count), bars in the order they first come, keys in the
    order of ``keys`` then as they first come; a count of 0 draws nothing."""
    order = list(keys)
    titles: dict[str, str] = {}
    labels: list[str] = []
    by_bar: dict[str, dict[str, int]] = {}
    for label, key, title, count in counts:
        if key not in order:
            order.append(key)
        titles.setdefault(key, title)
        if label not in by_bar:
            labels.append(label)
            by_bar[label] = {}
        by_bar[label][key] = by_bar[label].get(key, 0) + count
    used = [key for key in order if key in titles]
    label_width, bar_height, gap = 0.0, 22.0, 8.0
    longest = max((sum(v.values()) for v in by_bar.values()), default=0)
    scale = (width - label_width - 36) / max(longest, 1)
    bars = []
    for row, label in enumerate(labels):
        x = label_width
        segments = []
        for key in used:
            count = by_bar[label].get(key, 0)
            if count <= 0:
                continue
            segments.append(Segment(round(x, 1), round(count * scale, 1), key, order.index(key), titles[key], count))
            x += count * scale
        bars.append(Bar(label, row * (LABEL + bar_height + gap) + LABEL, sum(by_bar[label].values()), segments))
    height = int(len(labels) * (LABEL + bar_height + gap))
    return StackedBars(width, height, label_width, bar_height, bars,
                       [Series(key, titles[key], order.index(key)) for key in used], used)


@dataclass(frozen=True)
class QuarterLayouts:
    """The charts of a quarter, laid out: each key result's progress, the check-in rates, the scores."""

    charts: QuarterCharts
    progress: list[ProgressChart]
    rates: RateChart | None  # None: no whole period elapsed, or no check-in period in the playbook
    scores: StackedBars | None  # None: nothing scored yet, or no score scale in the playbook


def scale_point(point: float) -> str:
    """A point of the score scale as the guide writes it: 0.0, 0.3, 0.7, 1.0 (0.25 stays 0.25)."""
    return f"{point:.1f}" if round(point, 1) == point else f"{point:g}"


def quarter_layouts(charts: QuarterCharts, no_department: str) -> QuarterLayouts:
    """``no_department``: what the reader calls the OKRs of no department."""
    rates = rate_chart(charts.rates) if any(r.periods for r in charts.rates) else None
    scores = None
    if charts.scale and charts.scores:
        keys = [scale_point(point) for point in charts.scale]
        scores = stacked_bars([(d.department or no_department, scale_point(point), scale_point(point), count)
                               for d in charts.scores for point, count in d.counts], keys)
    return QuarterLayouts(charts, [progress_chart(p, charts.confidence_max) for p in charts.progress], rates, scores)
