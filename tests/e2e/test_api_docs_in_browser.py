"""/docs (Swagger UI) and /redoc (ReDoc) in a browser that may reach no other host than the application: their
scripts and styles come from the application itself, and the pages show the API's operations."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.conftest import Site, shot

TRANSITIONS = "/api/v1/engagements/{engagement_id}/transitions"
# A guard, not a measure: both pages parse a document of about 150 KB, slow on a busy machine.
RENDERED = 60_000


def _offline_page(site: Site, browser: Browser) -> tuple[Page, list[str]]:
    """A page whose requests to any other host are refused (and listed)."""
    page = browser.new_page()
    elsewhere: list[str] = []

    def only_the_site(route: Route) -> None:
        if route.request.url.startswith(site.url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_site)
    return page, elsewhere


def test_swagger_ui_shows_the_operations_without_a_cdn(site: Site, browser: Browser) -> None:
    page, elsewhere = _offline_page(site, browser)
    page.goto(site.url + "/docs")
    transitions = page.locator(".opblock.opblock-post", has=page.locator(f'[data-path="{TRANSITIONS}"]'))
    expect(transitions).to_have_count(1, timeout=RENDERED)
    assert page.locator(".opblock").count() >= 70  # every operation of the API
    transitions.locator(".opblock-summary-control").click()
    refused = transitions.locator(".response", has_text="Refused by the gate")  # the 409, its gate report
    expect(refused).to_contain_text("\"readiness\"", timeout=RENDERED)
    shot(page, "api-docs-swagger")
    assert elsewhere == []
    page.close()


def test_redoc_shows_the_operations_without_a_cdn(site: Site, browser: Browser) -> None:
    page, elsewhere = _offline_page(site, browser)
    page.goto(site.url + "/redoc")
    expect(page.get_by_role("heading", name="Fire Transition")).to_be_visible(timeout=RENDERED)
    expect(page.get_by_role("heading", name="Create Organization")).to_be_visible()
    shot(page, "api-docs-redoc")
    assert elsewhere == []
    page.close()
