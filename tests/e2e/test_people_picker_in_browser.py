"""The people picker in Chromium: a 3,000-person client, people found by typing part of a name, picked with the
mouse and the keyboard, and saved as the meeting's attendees."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import Browser, expect
from sqlalchemy import select

from okr_rollout.db import make_engine, make_session_factory, session_scope
from okr_rollout.models import Meeting, Person
from tests.e2e.conftest import Site, shot


def test_attendees_are_found_by_typing_and_saved(site: Site, browser: Browser) -> None:
    engine = make_engine(site.database_url)
    with session_scope(make_session_factory(engine)) as session:
        session.add_all(Person(organization_id=site.world.formosa_org, name=f"Employee {n:04d}", roles=["member"],
                               created_at=datetime(2026, 1, 1, tzinfo=UTC)) for n in range(3000))
    page = browser.new_page(locale="en-US")
    page.goto(site.url + "/sign-in")
    page.fill("#email", "chen@example.com")
    page.fill("#password", "correct horse battery")
    page.click("button.primary")
    page.goto(f"{site.url}/engagements/{site.world.formosa}/records/meeting")
    expect(page.locator('input[type=checkbox][name="attendee_ids"]')).to_have_count(0)

    names = page.locator("#f-attendee_ids-names")
    suggestions = page.locator("#f-attendee_ids-suggestions")
    names.press_sequentially("employee 12")
    expect(suggestions.locator("[role=option]")).to_have_count(10)
    expect(suggestions.locator(".note")).to_have_text("More people match: type more of the name.")
    names.press_sequentially("34")
    expect(suggestions.locator("[role=option]")).to_have_text(["Employee 1234"])
    suggestions.locator("[role=option]").first.click()
    expect(names).to_have_value("")
    expect(suggestions).to_be_hidden()

    names.press_sequentially("chen")  # the coach attends a meeting too
    expect(suggestions.locator("[role=option]")).to_have_text(["Chen Mei-ling"])
    names.press("ArrowDown")
    names.press("Enter")  # picks, does not submit
    chosen = page.locator('.chosen input[name="attendee_ids"]:checked')
    expect(chosen).to_have_count(2)
    shot(page, "people-picker")

    page.select_option("#f-kind", "executive")
    page.fill("#f-held_at", "2026-01-05T10:00")
    page.click("button.primary")
    expect(page).to_have_url(f"{site.url}/engagements/{site.world.formosa}/records?saved=meeting")
    with session_scope(make_session_factory(engine)) as session:
        meeting = session.scalars(select(Meeting)).one()
        employee = session.scalar(select(Person.id).where(Person.name == "Employee 1234"))
        assert sorted(meeting.attendee_ids) == sorted([employee, site.world.chen_person])
    engine.dispose()
    page.close()
