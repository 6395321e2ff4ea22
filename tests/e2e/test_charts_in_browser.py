"""The charts in Chromium, on a laptop (1366 px) and a phone (390 px), in English and Traditional Chinese: each is
drawn (an SVG of some size, inside the screen's width), and its data points are the records."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from okr_rollout.db import make_engine
from tests.e2e.conftest import SCREENSHOTS, Site, shot
from tests.web._quarter import CHECK_INS, WEEKS_ELAPSED, SeededQuarter, seed_quarter

WIDTHS = [1366, 390]
LANGUAGES = {"en": ("Check-in rate per department", "Clients by phase", "Score distribution per department"),
             "zh-TW": ("各部門的進度更新率", "各階段的客戶", "各部門的評分分布")}


def _sign_in(site: Site, browser: Browser, width: int, locale: str) -> Page:
    page = browser.new_page(locale=locale, viewport={"width": width, "height": 900})
    page.goto(site.url + "/sign-in")
    page.fill("#email", "chen@example.com")
    page.fill("#password", "correct horse battery")
    page.click("button.primary")
    page.wait_for_url("**/portfolio*")
    if locale == "zh-TW":  # the person's language is English until they choose (the browser's is only a default)
        page.click('form.lang button[value="zh-TW"]')
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hant-TW")
    return page


def _drawn(chart: Locator, width: int) -> None:
    """The chart's SVG is on the page with a size, within the screen, and its points have a size too."""
    svg = chart.locator("svg[role=img]")
    expect(svg).to_be_visible()
    box = svg.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 20 and box["x"] + box["width"] <= width
    assert chart.locator("svg > title").text_content() and chart.locator("svg > desc").text_content()
    for point in chart.locator("[data-point]").all():
        found = point.bounding_box()
        if point.get_attribute("data-value") not in ("0", "0.0"):  # an empty cell of the rates is drawn faintly
            assert found is not None and found["width"] > 0 and found["height"] > 0


def _shot_of(part: Locator, name: str) -> None:
    """Keep a screenshot of one part of the page (git-ignored, as ``shot``)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    part.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _values(chart: Locator, attribute: str = "data-value") -> list[str]:
    return [p.get_attribute(attribute) or "" for p in chart.locator("[data-point]").all()]


@pytest.mark.parametrize("locale", list(LANGUAGES))
@pytest.mark.parametrize("width", WIDTHS)
def test_the_charts_are_drawn_with_the_records(site: Site, browser: Browser, width: int, locale: str) -> None:
    engine = make_engine(site.database_url)
    seeded: SeededQuarter = seed_quarter(engine, site.world)
    engine.dispose()
    rates_title, phases_title, scores_title = LANGUAGES[locale]
    page = _sign_in(site, browser, width, locale)
    tag = f"{width}-{locale}"

    # The portfolio: the coach's one engagement, in one phase.
    phases = page.locator('figure[data-chart="clients-by-phase"]')
    expect(phases).to_have_count(1)
    expect(page.locator("#clients-by-phase h2")).to_have_text(phases_title)
    _drawn(phases, width)
    assert _values(phases) == ["1"]
    _shot_of(page.locator("#clients-by-phase"), f"chart-portfolio-{tag}")

    # The engagement page: each key result against its line, and the check-in rates.
    page.goto(f"{site.url}/engagements/{site.world.formosa}")
    progress = page.locator('figure[data-chart="progress"]')
    expect(progress).to_have_count(len(CHECK_INS))
    for metric, check_ins in CHECK_INS.items():
        chart = page.locator(f'figure[data-chart="progress"][data-key-result="{seeded.key_results[metric]}"]')
        expect(chart.locator("[data-point]")).to_have_count(len(check_ins))
        _drawn(chart, width)
        assert [float(v) for v in _values(chart)] == [value for _, value, _ in check_ins]
        assert _values(chart, "data-week") == [day.isoformat() for day, _, _ in check_ins]
        expect(chart.locator("line.expected")).to_have_count(1)
    rates = page.locator('#quarter-charts figure[data-chart="check-in-rate"]')
    expect(page.locator("#quarter-charts h3").first).to_have_text(rates_title)
    expect(rates.locator("[data-point]")).to_have_count(3 * WEEKS_ELAPSED)
    _drawn(rates, width)
    assert [float(v) for v in _values(rates)][:WEEKS_ELAPSED] == [1.0, 0.5, 0.5, 0.0, 0.5]  # Sales, week by week
    _shot_of(page.locator("#quarter-charts"), f"chart-engagement-{tag}")

    # The quarter review: the score distribution on the playbook's scale.
    page.goto(f"{site.url}/engagements/{site.world.formosa}/documents/quarter_review")
    scores = page.locator('figure[data-chart="score-distribution"]')
    expect(scores).to_have_count(1)
    expect(page.locator("section.charts h2").first).to_have_text(scores_title)
    _drawn(scores, width)
    assert list(zip(_values(scores, "data-key"), _values(scores), strict=True)) == [
        ("0.3", "1"), ("0.7", "1"), ("1.0", "1")]
    scores.locator("summary").click()  # the table of the same numbers
    expect(scores.locator("table tbody tr")).to_have_count(2)
    page.emulate_media(media="print")
    _drawn(scores, width)  # printed too
    _shot_of(page.locator("section.charts"), f"chart-quarter-review-{tag}")
    shot(page, f"chart-quarter-review-page-{tag}")
    if width == WIDTHS[0]:  # printed to PDF as a browser prints it (kept beside the screenshots)
        assert len(page.pdf(path=str(SCREENSHOTS / f"quarter-review-{locale}.pdf"), format="A4")) > 10_000
    page.close()
