"""A coach's day in a real browser: sign in, the portfolio, tick a checklist item, a refused transition and its
report, record what was missing, pass the gate, read the page in Chinese, print a document."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import SCREENSHOTS, Site, shot


def test_a_coach_moves_an_engagement_through_its_gate(site: Site, browser: Browser) -> None:
    page = browser.new_page(locale="en-US")
    page.goto(site.url + "/")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    page.fill("#email", "chen@example.com")
    page.fill("#password", "correct horse battery")
    page.click("button.primary")

    # The portfolio lists only the engagements this coach coaches.
    expect(page).to_have_url(re.compile(r"/portfolio"))
    expect(page.locator("table.portfolio")).to_contain_text("Formosa Bikes")
    expect(page.locator("table.portfolio")).not_to_contain_text("Keelung Logistics")
    shot(page, "portfolio")

    page.click("text=Formosa Bikes")
    expect(page.locator("h1")).to_have_text("Formosa Bikes")
    expect(page.locator("svg.journey .current")).to_have_attribute("data-phase", "executive_meeting")

    # Tick a checklist item; it stays ticked after a reload.
    item = page.locator('button.check[data-item="invite_leaders"]')
    expect(item).to_have_attribute("aria-checked", "false")
    item.click()
    # The tick is a form post answered by a redirect; reload only once that page has loaded.
    expect(page.locator('button.check[data-item="invite_leaders"]')).to_have_attribute("aria-checked", "true")
    page.reload()
    expect(page.locator('button.check[data-item="invite_leaders"]')).to_have_attribute("aria-checked", "true")
    shot(page, "engagement")

    # The gate refuses: the report says why, and nothing moved.
    page.click('button[name="trigger"][value="hold_kickoff"]')
    refusal = page.locator("#refusal")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("No executive meeting has been held yet.")
    expect(page.locator("svg.journey .current")).to_have_attribute("data-phase", "executive_meeting")
    shot(page, "refused-transition")

    # Record the executive meeting (kind and missing outcomes preset by the link) and the CEO's support.
    refusal.locator("a", has_text="Record it").first.click()
    expect(page.locator("#f-kind")).to_have_value("executive")
    page.fill("#f-held_at", "2026-01-05T09:00")
    page.click("button.primary")
    expect(page.locator('[data-criterion="executive_outcomes"]')).to_have_class(re.compile(r"\bpass\b"))
    page.locator('[data-criterion="ceo_backing"] a.record-it').click()
    page.select_option("#f-level", "full")
    page.click("button.primary")
    expect(page.locator('[data-criterion="ceo_backing"]')).to_have_class(re.compile(r"\bpass\b"))

    page.click('button[name="trigger"][value="hold_kickoff"]')
    expect(page.locator(".notice")).to_contain_text("Kickoff meeting")
    expect(page.locator("svg.journey .current")).to_have_attribute("data-phase", "kickoff")
    shot(page, "transition-passed")

    # Switch to Traditional Chinese: the same page, in Chinese, and it stays so.
    page.click('form.lang button[value="zh-TW"]')
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant-TW")
    expect(page.locator("#readiness h2")).to_have_text("準備度")
    expect(page.locator("#tasks h2")).to_have_text("本階段的任務")
    page.reload()
    expect(page.locator("#readiness h2")).to_have_text("準備度")
    shot(page, "engagement-zh-TW")

    # A document, printed: the print stylesheet hides the page's chrome; the PDF is made.
    page.goto(f"{site.url}/engagements/{site.world.formosa}/documents/kickoff_worksheet")
    expect(page.locator("article.document h1")).to_contain_text("啟動會議工作表")
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("article.document")).to_be_visible()
    shot(page, "document-print")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    (SCREENSHOTS / "kickoff-worksheet.pdf").write_bytes(pdf)
    page.close()
