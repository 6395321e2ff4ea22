"""The client in the loop, on a phone (390 px wide) in Chromium: a pilot member opens their link, checks in and
ticks a task; the CEO confirms support (in Traditional Chinese, their language); a department lead records a
1:1; the coach sees each in the engagement's history and readiness at once. A used, revoked or expired link is
refused with a page that says so in both languages."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from okr_rollout.db import make_engine, make_session_factory, session_scope
from okr_rollout.models import Person
from tests.e2e.conftest import Site, shot
from tests.web._client_seed import seed_clients

PHONE = {"width": 390, "height": 844}


def _fits_the_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _issue(coach: Page, site: Site, name: str) -> str:
    coach.goto(f"{site.url}/engagements/{site.world.formosa}/links")
    coach.click(f'button[data-person="{name}"]')
    link = coach.locator("#issued-link").get_attribute("href")
    assert link and link.startswith("http://127.0.0.1:8000/link/")  # the setting public_url, left as it is here
    return site.url + link.removeprefix("http://127.0.0.1:8000")


def _open(browser: Browser, link: str, locale: str = "en-US") -> Page:
    page = browser.new_page(viewport=PHONE, locale=locale)
    page.goto(link)
    page.click("form.form button.primary")
    page.wait_for_url("**/me")
    return page


def test_the_clients_people_work_on_their_phones_and_the_coach_sees_it(site: Site, browser: Browser) -> None:
    engine = make_engine(site.database_url)
    try:
        clients = seed_clients(engine, site.world, site.clock.now)
        with session_scope(make_session_factory(engine)) as session:
            session.execute(update(Person).where(Person.id == site.world.ceo_id).values(locale="zh-TW"))
    finally:
        engine.dispose()
    coach = browser.new_page(locale="en-US")
    coach.goto(site.url + "/sign-in")
    coach.fill("#email", "chen@example.com")
    coach.fill("#password", "correct horse battery")
    coach.click("button.primary")

    member_link = _issue(coach, site, "Kao Member")
    member = _open(browser, member_link)
    expect(member.locator("h1")).to_have_text("Hello, Kao Member")
    _fits_the_phone(member)
    check_in = member.locator(f"#kr-{clients.key_result_id} form.check-in")
    check_in.locator('input[name="value"]').fill("12")
    check_in.locator('input[name="confidence"]').fill("7")
    check_in.locator('textarea[name="note"]').fill("Two dealers signed")
    check_in.locator("button").click()
    expect(member.locator("p.notice")).to_have_text("Your check-in is saved. Thank you!")
    expect(member.locator(f"#kr-{clients.key_result_id} .check-in-history")).to_contain_text("Two dealers signed")
    task = member.locator(f"#task-{clients.member_task_id}")
    task.locator(".check").click()
    expect(member.locator(f"#task-{clients.member_task_id} .check")).to_have_attribute("aria-checked", "true")
    member.locator(f"#task-{clients.member_task_id} button.primary").click()
    expect(member.locator("p.notice")).to_have_text("The task is updated.")
    expect(member.locator(f"#task-{clients.member_task_id}")).to_have_count(0)
    shot(member, "client-member-phone")

    ceo = _open(browser, _issue(coach, site, "Lee Ceo"))
    expect(ceo.locator("#support h2")).to_have_text("我對導入的支持")  # the CEO reads Traditional Chinese
    _fits_the_phone(ceo)
    ceo.check('#support input[value="full"]')
    ceo.click("#support button.primary")
    expect(ceo.locator("p.notice")).to_have_text("已記錄您的支持聲明。")
    shot(ceo, "client-ceo-phone-zh-tw")

    lead = _open(browser, _issue(coach, site, "Hsu Lead"))
    _fits_the_phone(lead)
    one_on_one = lead.locator('#meetings form[data-kind="one_on_one"]')
    one_on_one.locator("select").select_option(label="Kao Member")
    one_on_one.locator("button").click()
    expect(lead.locator("p.notice")).to_have_text("The meeting is recorded.")

    coach.goto(f"{site.url}/engagements/{site.world.formosa}")
    history = coach.locator("#history")
    for actor in ("client:Kao Member", "client:Lee Ceo", "client:Hsu Lead"):
        expect(history).to_contain_text(actor)
    expect(coach.locator('#readiness li[data-criterion="ceo_backing"]').first).to_have_class("pass")

    # Refused links: used, revoked, expired; each page says it in both languages.
    used = browser.new_page(viewport=PHONE, locale="en-US")
    used.goto(member_link)
    expect(used.locator("h1")).to_have_text("This sign-in link was already used")
    expect(used.locator(".other-language h2")).to_have_text("此登入連結已使用過")
    _fits_the_phone(used)
    shot(used, "client-link-used")

    revoked_link = _issue(coach, site, "Lead Again")
    coach.locator(".timeline li").first.locator("button").click()
    expect(coach.locator(".timeline li").first).to_contain_text("revoked")
    revoked = browser.new_page(viewport=PHONE, locale="zh-TW")
    revoked.goto(revoked_link)
    expect(revoked.locator("h1")).to_have_text("此登入連結已被撤銷")
    expect(revoked.locator(".other-language h2")).to_have_text("This sign-in link was withdrawn")

    expiring_link = _issue(coach, site, "Lead Again")
    site.clock.advance(days=8)
    expired = browser.new_page(viewport=PHONE, locale="en-US")
    expired.goto(expiring_link)
    expect(expired.locator("h1")).to_have_text("This sign-in link has expired")
    expect(expired.locator(".other-language h2")).to_have_text("此登入連結已過期")
