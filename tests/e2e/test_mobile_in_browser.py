"""The portfolio and the engagement page on a phone (390 px) and a laptop (1366 px), in English and Traditional
Chinese: the page never scrolls sideways, the portfolio's rows become cards on the phone (a table on the laptop),
every other table scrolls inside its own box, and no Chinese column header wraps one character per line."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Site, shot

PHONE, LAPTOP = 390, 1366

# Text lines of each visible header cell and of each card label, with the characters each holds.
HEADER_LINES = """() => [...document.querySelectorAll('main th')].filter(th => th.offsetParent !== null).map(th => {
  const range = document.createRange(); range.selectNodeContents(th);
  const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
  return {text: th.innerText.trim(), lines: tops.size};
})"""
CARD_LABELS = """() => [...document.querySelectorAll('table.portfolio tbody tr:first-child td')].map(td => {
  const before = getComputedStyle(td, '::before');
  return {label: before.content, wrap: before.whiteSpace, display: getComputedStyle(td).display};
})"""
WIDER = """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >
  document.documentElement.clientWidth + 1).map(e => e.tagName + '.' + e.className).slice(0, 12)"""


def signed_in(site: Site, browser: Browser, width: int, locale: str) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 844 if width == PHONE else 900})
    page.goto(site.url + "/sign-in")
    page.fill("#email", "chen@example.com")
    page.fill("#password", "correct horse battery")
    page.click("button.primary")
    page.wait_for_url("**/portfolio")
    if locale == "zh-TW":
        page.click('.lang button[value="zh-TW"]')
        expect(page.locator("h1")).to_have_text("專案總覽")
    return page


def no_sideways_scroll(page: Page, width: int) -> None:
    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= width, (scroll_width, page.evaluate(WIDER))


def headers_keep_their_words(page: Page) -> None:
    for header in page.evaluate(HEADER_LINES):
        characters = len(header["text"].replace(" ", ""))
        if characters >= 2:
            assert header["lines"] <= max(1, characters // 2), header  # never one character a line


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_the_portfolio_fits_the_screen(site: Site, browser: Browser, width: int, locale: str) -> None:
    page = signed_in(site, browser, width, locale)
    rows = page.locator("table.portfolio tbody tr")
    expect(rows).to_have_count(1)
    no_sideways_scroll(page, width)
    headers_keep_their_words(page)
    cells = page.evaluate(CARD_LABELS)
    if width == PHONE:  # a card: each value under its column's name, kept on one line
        assert page.locator("table.portfolio thead").is_hidden()
        assert all(cell["display"] != "table-cell" for cell in cells), cells
        labels = [cell["label"].strip('"') for cell in cells]
        expected = ["組織", "健康狀態"] if locale == "zh-TW" else ["Organization", "Health"]
        assert labels[:2] == expected and all(labels), labels
        assert all(cell["wrap"] == "nowrap" for cell in cells)
        box = rows.first.bounding_box()
        assert box is not None and box["width"] <= width
    else:  # the desktop table as it was
        assert page.locator("table.portfolio thead").is_visible()
        assert all(cell["display"] == "table-cell" for cell in cells), cells
        expect(page.locator("table.portfolio thead th")).to_have_count(9)
        assert all(header["lines"] == 1 for header in page.evaluate(HEADER_LINES))
    expect(page.locator("table.portfolio a").first).to_be_visible()
    shot(page, f"portfolio-{width}-{locale}")
    page.close()


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_the_engagement_page_fits_the_screen(site: Site, browser: Browser, width: int, locale: str) -> None:
    page = signed_in(site, browser, width, locale)
    page.goto(f"{site.url}/engagements/{site.world.formosa}")
    expect(page.locator("#readiness")).to_be_visible()
    for details in page.locator("main details").all():  # the evidence too, opened
        details.evaluate("d => d.open = true")
    no_sideways_scroll(page, width)
    headers_keep_their_words(page)
    # Every table fits its box, or scrolls inside it.
    for table in page.locator("main table").all():
        overflow = table.evaluate("t => [t.scrollWidth, t.clientWidth, getComputedStyle(t).overflowX]")
        assert overflow[0] <= overflow[1] + 1 or overflow[2] in ("auto", "scroll"), overflow
    main = page.locator("main").bounding_box()
    assert main is not None and main["width"] <= width
    if width == LAPTOP:  # two columns side by side, as before
        first, second = (page.locator(".columns > *").nth(i).bounding_box() for i in (0, 1))
        assert first is not None and second is not None and second["x"] > first["x"] + first["width"] - 1
    shot(page, f"engagement-{width}-{locale}")
    page.close()
