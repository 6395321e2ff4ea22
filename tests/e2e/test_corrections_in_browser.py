"""Correcting and voiding a meeting in a real browser: the edit form opens with the meeting's values, only the
change is saved, and the void asks for a reason and a confirmation before the meeting is shown struck."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Dialog, expect
from sqlalchemy import select

from okr_rollout.db import make_engine, make_session_factory, session_scope
from okr_rollout.models import Event, Meeting
from tests.e2e.conftest import Site, shot


def test_a_coach_corrects_and_voids_a_meeting(site: Site, browser: Browser) -> None:
    page = browser.new_page(locale="en-US")
    page.goto(site.url + "/sign-in")
    page.fill("#email", "chen@example.com")
    page.fill("#password", "correct horse battery")
    page.click("button.primary")
    records = f"{site.url}/engagements/{site.world.formosa}/records"
    page.goto(f"{records}/meeting")
    page.select_option("#f-kind", "executive")
    page.fill("#f-held_at", "2026-01-05T10:00")
    page.check('input[name="outcomes"][value="ceo_support"]')
    page.fill("#f-notes", "CEO on board")
    page.click("button.primary")
    expect(page.locator("#meetings tbody tr")).to_have_count(1)

    page.click("#meetings [data-correct^=meeting-]")
    expect(page.locator("#f-notes")).to_have_value("CEO on board")  # prefilled with what is recorded
    expect(page.locator("#f-held_at")).to_have_value("2026-01-05T10:00")
    expect(page.locator('input[name="outcomes"][value="ceo_support"]')).to_be_checked()
    page.check('input[name="outcomes"][value="expectations_set"]')
    page.click("button.primary")
    expect(page.locator("p.notice")).to_have_text("Corrected: Correct a meeting")
    expect(page.locator("#meetings tbody tr").first).to_contain_text("Expectations set")

    page.click("#meetings [data-void^=meeting-]")
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        if len(asked) == 1:
            dialog.dismiss()
        else:
            dialog.accept()

    page.on("dialog", answer)
    page.fill("#f-reason", "Held with another client")
    page.click("button.danger")  # the coach thinks again: nothing is voided
    expect(page.locator("h1")).to_have_text("Void a record")
    page.fill("#f-reason", "")
    page.click("button.danger")  # no reason: the page says so, nothing is voided
    expect(page.locator("#error-reason-1")).to_have_text("Say why the record is voided.")
    page.fill("#f-reason", "Held with another client")
    page.click("button.danger")
    expect(page.locator("p.notice")).to_have_text("Voided: Correct a meeting")
    assert asked == ["Void this record? It stays listed as voided and no gate counts it."] * 3
    row = page.locator("#meetings tbody tr").first
    expect(row).to_have_class(re.compile(r"\bvoided\b"))
    expect(row).to_contain_text("Voided: Held with another client")
    assert row.locator("td").first.evaluate("cell => getComputedStyle(cell).textDecorationLine") == "line-through"
    shot(page, "meeting-voided")
    page.close()

    engine = make_engine(site.database_url)
    try:
        with session_scope(make_session_factory(engine), write=False) as session:
            meeting = session.scalars(select(Meeting)).one()
            assert meeting.void_reason == "Held with another client"
            assert meeting.outcomes == ["ceo_support", "expectations_set"]
            corrected = session.scalars(select(Event).where(Event.type == "record.corrected")).one()
            assert corrected.payload["changed"] == ["outcomes"]  # only what the coach changed was sent
    finally:
        engine.dispose()
