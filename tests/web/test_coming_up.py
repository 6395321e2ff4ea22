"""The engagement page's "Coming up": planned meetings and training sessions, soonest first, by names and titles,
in the reader's language; a cancelled one leaves the list, a held one too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from okr_rollout.models import Meeting, TrainingSession
from tests.conftest import Clock
from tests.web._pages import post_form, text_of
from tests.web._seed import World
from tests.web.conftest import sign_in


def coming_up(html: str) -> str:
    return html.split('id="coming-up"', 1)[1].split("</section>", 1)[0]


def test_the_engagement_page_lists_what_is_coming_up(web: TestClient, world: World,
                                                     db: Callable[[], Session]) -> None:
    with db() as session:
        later = Meeting(engagement_id=world.formosa, kind="executive", status="planned",
                        held_at=datetime(2026, 1, 20, 2, 0, tzinfo=UTC), attendee_ids=[world.ceo_id])
        sooner = TrainingSession(engagement_id=world.formosa, status="planned", held_on=date(2026, 1, 12), hours=6,
                                 modules=["basic_concepts"], attendee_ids=[world.member_id])
        held = Meeting(engagement_id=world.formosa, kind="kickoff", held_at=datetime(2026, 1, 2, 2, 0, tzinfo=UTC),
                       attendee_ids=[world.ceo_id])
        dropped = Meeting(engagement_id=world.formosa, kind="culture", status="cancelled",
                          held_at=datetime(2026, 1, 15, 2, 0, tzinfo=UTC), attendee_ids=[world.ceo_id])
        session.add_all([later, sooner, held, dropped])
        session.flush()
        ids = {"later": later.id, "sooner": sooner.id, "held": held.id, "dropped": dropped.id}

    token = sign_in(web, "chen@example.com")
    page = web.get(f"/engagements/{world.formosa}")
    assert page.status_code == 200, page.text
    section = coming_up(page.text)
    assert "Coming up" in page.text
    assert section.index(f'data-record="training-{ids["sooner"]}"') < section.index(
        f'data-record="meeting-{ids["later"]}"')
    assert f'meeting-{ids["held"]}"' not in section and f'meeting-{ids["dropped"]}"' not in section
    said = text_of(section)
    assert "OKR training, 6 hours" in said and "Wang Internal" in said
    assert "Executive meeting" in said and "Lee Ceo" in said

    post_form(web, token, "/locale", {"locale": "zh-TW", "next": f"/engagements/{world.formosa}"})
    chinese = text_of(coming_up(web.get(f"/engagements/{world.formosa}").text))
    assert "即將舉行" in chinese and "OKR 培訓,6 小時" in chinese and "初步高管會議" in chinese


def test_the_records_page_marks_planned_and_cancelled_meetings(web: TestClient, world: World,
                                                               db: Callable[[], Session]) -> None:
    with db() as session:
        session.add_all([
            Meeting(engagement_id=world.formosa, kind="executive", status="planned",
                    held_at=datetime(2026, 1, 20, 2, 0, tzinfo=UTC), attendee_ids=[world.ceo_id]),
            Meeting(engagement_id=world.formosa, kind="culture", status="cancelled",
                    held_at=datetime(2026, 1, 15, 2, 0, tzinfo=UTC), attendee_ids=[world.ceo_id]),
            Meeting(engagement_id=world.formosa, kind="kickoff", held_at=datetime(2026, 1, 2, 2, 0, tzinfo=UTC),
                    attendee_ids=[world.ceo_id])])
    sign_in(web, "chen@example.com")
    page = web.get(f"/engagements/{world.formosa}/records")
    assert page.status_code == 200, page.text
    meetings = page.text.split('id="meetings"', 1)[1].split("</section>", 1)[0]
    rows = meetings.split("<tr")[2:]  # after the header row

    def row_of(kind: str) -> str:
        (row,) = [r for r in rows if kind in r]
        return row

    assert 'data-status="planned"' in row_of("Executive meeting") and "planned" in text_of(row_of("Executive"))
    assert 'data-status="cancelled"' in row_of("OKR culture meeting")
    assert "data-status" not in row_of("Kickoff meeting")


def test_a_planned_meeting_is_marked_held_or_cancelled_from_the_page(
    web: TestClient, world: World, clock: Clock, db: Callable[[], Session]
) -> None:
    with db() as session:
        soon = Meeting(engagement_id=world.formosa, kind="executive", status="planned",
                       held_at=clock.now + timedelta(hours=2), attendee_ids=[world.ceo_id],
                       outcomes=["ceo_support", "okrs_introduced", "expectations_set"])
        later = TrainingSession(engagement_id=world.formosa, status="planned", held_on=date(2026, 2, 2), hours=6,
                                modules=["basic_concepts"], attendee_ids=[world.member_id])
        session.add_all([soon, later])
        session.flush()
        soon_id, later_id = soon.id, later.id
    token = sign_in(web, "chen@example.com")
    here = f"/engagements/{world.formosa}"
    section = coming_up(web.get(here).text)
    assert 'value="held"' not in section  # nothing has happened yet: only cancelling is offered

    clock.advance(hours=3)
    section = coming_up(web.get(here).text)
    assert section.count('value="held"') == 1  # the meeting's time has come, not the training's
    status, location, _ = post_form(web, token, f"{here}/planned/meeting/{soon_id}", {"status": "held"})
    assert (status, location) == (303, f"{here}#coming-up")
    status, _, _ = post_form(web, token, f"{here}/planned/training/{later_id}", {"status": "cancelled"})
    assert status == 303
    page = web.get(here).text
    assert f"meeting-{soon_id}" not in coming_up(page) and f"training-{later_id}" not in coming_up(page)
    assert 'data-criterion="executive_outcomes"' in page
    with db() as session:
        assert (session.get(Meeting, soon_id).status, session.get(TrainingSession, later_id).status) == (
            "held", "cancelled")


def test_a_meeting_and_a_training_session_are_planned_from_their_record_forms(
    web: TestClient, world: World, clock: Clock, db: Callable[[], Session]
) -> None:
    token = sign_in(web, "chen@example.com")
    here = f"/engagements/{world.formosa}"
    form = web.get(f"{here}/records/meeting").text
    assert 'name="status"' in form and 'value="planned"' in form
    in_a_week = (clock.now + timedelta(days=7)).strftime("%Y-%m-%dT10:00")
    status, _, body = post_form(web, token, f"{here}/records/meeting", {
        "kind": "executive", "status": "planned", "held_at": in_a_week, "next": here,
        "outcomes": ["ceo_support", "okrs_introduced", "expectations_set"],
        "attendee_ids": [str(world.ceo_id), str(world.chen_person)]})
    assert status == 303, body
    status, _, body = post_form(web, token, f"{here}/records/training", {
        "status": "planned", "held_on": (clock.now + timedelta(days=3)).date().isoformat(), "hours": "6",
        "modules": ["basic_concepts"], "attendee_ids": [str(world.member_id)], "next": here})
    assert status == 303, body

    page = web.get(here).text
    said = text_of(coming_up(page))
    assert "Executive meeting" in said and "OKR training, 6 hours" in said
    assert 'class="fail" data-criterion="executive_outcomes"' in page  # a planned meeting does not count
    with db() as session:
        assert [m.status for m in session.query(Meeting).filter_by(engagement_id=world.formosa)] == ["planned"]
