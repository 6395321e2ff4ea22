"""More pages in a real browser: an internal coach's readiness page, a form's inline messages, the language
chosen by the browser, and a document's printable layout."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Site, shot


def _sign_in(site: Site, browser: Browser, email: str, locale: str = "en-US") -> Page:
    page = browser.new_page(locale=locale)
    page.goto(site.url + "/sign-in")
    page.fill("#email", email)
    page.fill("#password", "correct horse battery")
    page.click("button.primary")
    return page


def test_an_internal_coach_reads_the_readiness_to_expand(site: Site, browser: Browser) -> None:
    page = _sign_in(site, browser, "wang@example.com")
    expect(page).to_have_url(re.compile(r"/readiness$"))
    expect(page.locator("[data-criterion]")).to_have_count(4)
    expect(page.locator("ul.left")).to_contain_text("Open task: Prepare the executive meeting")
    shot(page, "readiness")
    page.close()


def test_a_form_shows_the_services_refusal_beside_the_field(site: Site, browser: Browser) -> None:
    page = _sign_in(site, browser, "chen@example.com")
    page.goto(f"{site.url}/engagements/{site.world.formosa}/records/training")
    page.fill("#f-held_on", "2027-01-01")
    page.fill("#f-hours", "6")
    page.check('input[name="modules"][value="basic_concepts"]')
    page.click("button.primary")
    expect(page.locator('[data-field="held_on"] .field-error')).to_have_text(
        "This date is in the future: record what has happened.")
    expect(page.locator('input[name="modules"][value="basic_concepts"]')).to_be_checked()  # what was typed stays
    shot(page, "form-with-errors")
    page.close()


def test_the_browsers_language_is_used_before_sign_in(site: Site, browser: Browser) -> None:
    page = browser.new_page(locale="zh-TW")
    page.goto(site.url + "/")
    expect(page.locator("h1")).to_have_text("登入")
    shot(page, "sign-in-zh-TW")
    page.close()
