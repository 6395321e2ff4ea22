"""The charts: their data equal the records (check-ins, check-in rates per department and period, scores on the
playbook's scale, engagements per phase), and the pages draw them as SVG with one element per data point, a title,
a description and a table, in English and Traditional Chinese."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog
from okr_rollout.cycles.charts import expected_value, nearest_on_scale, quarter_charts
from okr_rollout.engagements.readiness_watch import note_readiness_changes
from okr_rollout.models import Quarter, Task
from okr_rollout.records.context import context
from okr_rollout.web.charts import quarter_layouts, scale_point, stacked_bars
from tests.conftest import Clock
from tests.web._pages import post_form
from tests.web._quarter import CHECK_INS, ENDS_ON, STARTS_ON, WEEKS_ELAPSED, SeededQuarter, seed_quarter
from tests.web._seed import ADMIN, World
from tests.web.conftest import sign_in


@pytest.fixture
def seeded(engine: Engine, world: World) -> SeededQuarter:
    return seed_quarter(engine, world)


class Charts(HTMLParser):
    """Each ``<figure data-chart>`` of a page: its attributes, its data points' attributes, whether it has an SVG
    with role="img", a title and a description, and a table."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict[str, object]] = []
        self._open: dict[str, object] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "figure" and "data-chart" in found:
            self._open = {"attrs": found, "points": [], "tags": set()}
            self.figures.append(self._open)
        elif self._open is not None:
            tags = self._open["tags"]
            assert isinstance(tags, set)
            tags.add(f"svg:{found.get('role')}" if tag == "svg" else tag)
            if "data-point" in found:
                points = self._open["points"]
                assert isinstance(points, list)
                points.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._open = None


def charts_of(html: str, name: str) -> list[dict[str, object]]:
    parser = Charts()
    parser.feed(html)
    found = [f for f in parser.figures if f["attrs"]["data-chart"] == name]  # type: ignore[index]
    for figure in found:
        assert {"svg:img", "title", "desc", "table", "details"} <= figure["tags"]  # type: ignore[operator]
        assert int(figure["attrs"]["data-points"]) == len(figure["points"])  # type: ignore[index, arg-type]
    return found


# --- the data, from the services --------------------------------------------------------------------------------


def test_the_quarters_chart_data_equal_the_records(seeded: SeededQuarter, world: World, catalog: Catalog,
                                                   clock: Clock, db: Callable[[], Session]) -> None:
    with db() as session:
        quarter = session.get(Quarter, seeded.quarter_id)
        assert quarter is not None
        charts = quarter_charts(context(session, ADMIN, catalog, world.formosa, clock.now), quarter)
    assert (charts.starts_on, charts.ends_on, charts.interval_days) == (STARTS_ON, ENDS_ON, 7)
    # Each key result: its check-ins (not the voided one), each with the straight line's value on its day.
    assert {p.metric: [(d.week_of, d.value, d.confidence) for d in p.points] for p in charts.progress} == CHECK_INS
    orders = next(p for p in charts.progress if p.metric == "Orders a week")
    assert [d.expected for d in orders.points] == [
        pytest.approx(100 * (day - STARTS_ON).days / (ENDS_ON - STARTS_ON).days) for day, _, _ in CHECK_INS[
            "Orders a week"]]
    returns = next(p for p in charts.progress if p.metric == "Returns per 100")
    assert returns.expected_on(ENDS_ON) == 1.0 and returns.expected_on(STARTS_ON) == 4.0  # a line going down
    # Rates: per department (by name, none last), per whole week elapsed: key results with a check-in in it.
    assert [(r.department, [(p.period, p.done, p.possible) for p in r.periods]) for r in charts.rates] == [
        ("Sales", [(1, 2, 2), (2, 1, 2), (3, 1, 2), (4, 0, 2), (5, 1, 2)]),
        ("研發部", [(1, 1, 1), (2, 0, 1), (3, 0, 1), (4, 1, 1), (5, 0, 1)]),
        (None, [(i, 0, 1) for i in range(1, WEEKS_ELAPSED + 1)]),
    ]
    assert [p.starts_on for p in charts.rates[0].periods][:2] == [date(2025, 12, 1), date(2025, 12, 8)]
    # Scores on the playbook's scale, not a scale of the code's; a department with none scored is left out.
    assert charts.scale == (0.0, 0.3, 0.7, 1.0)
    assert [(s.department, s.counts) for s in charts.scores] == [
        ("Sales", [(0.0, 0), (0.3, 1), (0.7, 1), (1.0, 0)]), ("研發部", [(0.0, 0), (0.3, 0), (0.7, 0), (1.0, 1)])]


def test_the_scale_and_the_periods_are_the_playbooks(seeded: SeededQuarter, world: World, catalog: Catalog,
                                                     clock: Clock, db: Callable[[], Session]) -> None:
    with db() as session:
        quarter = session.get(Quarter, seeded.quarter_id)
        assert quarter is not None
        ctx = context(session, ADMIN, catalog, world.formosa, clock.now)
        other = replace(ctx, rules=replace(ctx.rules, score_scale=(0.0, 0.5, 1.0), check_in_interval_days=14))
        charts = quarter_charts(other, quarter)
    assert charts.scale == (0.0, 0.5, 1.0)
    assert [(s.department, s.counts) for s in charts.scores] == [
        ("Sales", [(0.0, 0), (0.5, 2), (1.0, 0)]), ("研發部", [(0.0, 0), (0.5, 0), (1.0, 1)])]
    assert [(p.period, p.done) for p in charts.rates[0].periods] == [(1, 2), (2, 1)]  # two whole fortnights


def test_chart_arithmetic() -> None:
    assert expected_value(0, 10, date(2026, 1, 1), date(2026, 1, 11), date(2026, 1, 6)) == 5
    assert expected_value(0, 10, date(2026, 1, 1), date(2026, 1, 11), date(2027, 1, 1)) == 10
    assert nearest_on_scale((0.0, 0.3, 0.7, 1.0), 0.7000001) == 0.7 and nearest_on_scale((0.0, 1.0), 0.5) == 0.0
    assert [scale_point(p) for p in (0.0, 0.3, 1.0, 0.25)] == ["0.0", "0.3", "1.0", "0.25"]
    bars = stacked_bars([("Pilot", "attention", "Needs attention", 2), ("Pilot", "fine", "Fine", 3),
                         ("Drafting", "fine", "Fine", 5), ("Drafting", "attention", "Needs attention", 0)],
                        keys=["attention", "fine"])
    assert [(b.label, b.total, [(s.key, s.count) for s in b.segments]) for b in bars.bars] == [
        ("Pilot", 5, [("attention", 2), ("fine", 3)]), ("Drafting", 5, [("fine", 5)])]
    assert bars.points == 3 and [s.key for s in bars.series] == ["attention", "fine"]
    only_fine = stacked_bars([("Pilot", "fine", "Fine", 1)], keys=["attention", "fine"])
    assert [(s.key, s.series) for s in only_fine.series] == [("fine", 1)]  # its colour, drawn alone too
    assert bars.bars[0].segments[1].x + bars.bars[0].segments[1].width == pytest.approx(
        bars.bars[1].segments[0].x + bars.bars[1].segments[0].width, abs=0.2)  # same total, same length


def test_layouts_draw_each_record_once(seeded: SeededQuarter, world: World, catalog: Catalog, clock: Clock,
                                       db: Callable[[], Session]) -> None:
    with db() as session:
        quarter = session.get(Quarter, seeded.quarter_id)
        assert quarter is not None
        charts = quarter_charts(context(session, ADMIN, catalog, world.formosa, clock.now), quarter)
    layouts = quarter_layouts(charts, "No department")
    assert [len(c.dots) for c in layouts.progress] == [len(v) for v in CHECK_INS.values()]
    orders = layouts.progress[0]
    assert [d.level for d in orders.dots] == ["high", "medium", "low", "unknown"]  # 8, 6, 3 of 10; none
    assert [d.cx for d in orders.dots] == sorted(d.cx for d in orders.dots)
    assert orders.dots[-1].cy < orders.dots[0].cy  # higher values stand higher
    assert layouts.rates is not None and len(layouts.rates.cells) == 3 * WEEKS_ELAPSED
    assert layouts.scores is not None and layouts.scores.points == 3
    assert [b.label for b in layouts.scores.bars] == ["Sales", "研發部"]


# --- the pages ----------------------------------------------------------------------------------------------------


def test_the_engagement_page_draws_the_quarters_charts(web: TestClient, world: World, seeded: SeededQuarter) -> None:
    sign_in(web, "chen@example.com")
    html = web.get(f"/engagements/{world.formosa}").text
    progress = charts_of(html, "progress")
    assert {f["attrs"]["data-key-result"]: len(f["points"]) for f in progress} == {  # type: ignore[index, arg-type]
        str(seeded.key_results[m]): len(v) for m, v in CHECK_INS.items()}
    orders = next(f for f in progress
                  if f["attrs"]["data-key-result"] == str(seeded.key_results["Orders a week"]))  # type: ignore[index]
    assert [(p["data-week"], float(p["data-value"]), p.get("data-confidence"))  # type: ignore[index, arg-type]
            for p in orders["points"]] == [  # type: ignore[attr-defined]
        (d.isoformat(), v, None if c is None else str(float(c))) for d, v, c in CHECK_INS["Orders a week"]]
    (rates,) = charts_of(html, "check-in-rate")
    assert len(rates["points"]) == 3 * WEEKS_ELAPSED  # type: ignore[arg-type]
    sales = [float(p["data-value"]) for p in rates["points"] if p["data-department"] == "Sales"]  # type: ignore
    assert sales == [1.0, 0.5, 0.5, 0.0, 0.5]
    assert "Prototypes &lt;tested&gt;" in html and "Prototypes <tested>" not in html  # escaped
    assert "Check-in rate per department" in html and "No department" in html


def test_the_charts_speak_chinese(web: TestClient, world: World, seeded: SeededQuarter) -> None:
    token = sign_in(web, "chen@example.com")
    post_form(web, token, "/locale", {"locale": "zh-TW", "next": "/portfolio"})
    zh: dict[str, str] = {}
    html = web.get(f"/engagements/{world.formosa}", headers=zh).text
    assert len(charts_of(html, "progress")) == len(CHECK_INS)
    assert "各部門的進度更新率" in html and "無部門" in html and "數據" in html
    review = web.get(f"/engagements/{world.formosa}/documents/quarter_review", headers=zh).text
    assert len(charts_of(review, "score-distribution")[0]["points"]) == 3  # type: ignore[arg-type]
    assert "各部門的評分分布" in review
    portfolio = web.get("/portfolio", headers=zh).text
    assert charts_of(portfolio, "clients-by-phase") and "各階段的客戶" in portfolio


def test_the_quarter_review_draws_the_score_distribution(web: TestClient, world: World,
                                                         seeded: SeededQuarter) -> None:
    sign_in(web, "chen@example.com")
    html = web.get(f"/engagements/{world.formosa}/documents/quarter_review").text
    (scores,) = charts_of(html, "score-distribution")
    assert [(p["data-key"], p["data-value"]) for p in scores["points"]] == [  # type: ignore[attr-defined, index]
        ("0.3", "1"), ("0.7", "1"), ("1.0", "1")]
    assert "0.0 / 0.3 / 0.7 / 1.0" in html  # the playbook's scale, in the description
    (rates,) = charts_of(html, "check-in-rate")
    assert len(rates["points"]) == 3 * WEEKS_ELAPSED  # type: ignore[arg-type]


def test_the_portfolio_counts_clients_by_phase_and_health(web: TestClient, world: World, clock: Clock,
                                                          db: Callable[[], Session], catalog: Catalog) -> None:
    sign_in(web, "admin@example.com")
    (unseen,) = charts_of(web.get("/portfolio").text, "clients-by-phase")
    assert {p["data-key"] for p in unseen["points"]} == {"unevaluated"}  # type: ignore[index]
    with db() as session:  # Keelung's tasks are overdue: at risk, once its health is kept
        for task in session.scalars(select(Task).where(Task.engagement_id == world.keelung)):
            task.due_at = clock.now - timedelta(days=1)
        session.commit()
    with db() as session:
        note_readiness_changes(session, catalog, clock.now)
        session.commit()
    html = web.get("/portfolio").text
    (chart,) = charts_of(html, "clients-by-phase")
    points = chart["points"]
    assert isinstance(points, list)
    statuses = re.findall(r'data-health="([a-z_]*)"', html)  # the rows' own health, as the table shows it
    assert sorted(p["data-key"] for p in points for _ in range(int(p["data-value"]))) == sorted(statuses)
    assert "at_risk" in statuses
    assert "At risk: 1" in html  # the point's own title says what it counts
    web.cookies.clear()
    sign_in(web, "chen@example.com")
    (mine,) = charts_of(web.get("/portfolio").text, "clients-by-phase")
    assert [p["data-value"] for p in mine["points"]] == ["1"]  # type: ignore[attr-defined]


def test_no_quarter_no_quarter_charts(web: TestClient, world: World) -> None:
    sign_in(web, "chen@example.com")
    html = web.get(f"/engagements/{world.formosa}").text
    assert 'id="quarter-charts"' not in html and not charts_of(html, "progress")
