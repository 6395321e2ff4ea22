"""Training sessions over HTTP: validation, events, and the start_drafting gate (hours, modules, attendance)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api._helpers import event_types, fire
from tests.api._records import (
    MODULES,
    Client,
    client_organization,
    create,
    criterion,
    events,
    foreign_person,
    listed,
    place_in_phase,
    post,
    refused,
)
from tests.conftest import Clock, Tokens


def session(**fields: Any) -> dict[str, Any]:
    return {"held_on": "2026-01-05", "hours": 6, "modules": ["basic_concepts"], **fields}


def in_training(client: TestClient, tokens: Tokens, db: Callable[[], Session], now: datetime) -> Client:
    org = client_organization(client, tokens, pilot_members=5)
    place_in_phase(db, org.engagement_id, "pilot_training", now)
    return org


def assert_nothing_written(client: TestClient, tokens: Tokens, org: Client, events_before: list[str]) -> None:
    assert listed(client, tokens.coach, org.engagement_id, "training-sessions") == []
    assert event_types(client, tokens.admin, org.engagement_id) == events_before


def test_training_session_is_recorded_with_one_event(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)

    response = post(app_client, tokens.coach, org.engagement_id, "training-sessions",
                    session(hours=6.5, modules=["deep_principles", "basic_concepts"], attendee_ids=org.pilot_ids,
                            notes="Day one"))

    assert response.status_code == 201, response.text
    training = response.json()
    assert training["hours"] == 6.5
    assert sorted(training["modules"]) == ["basic_concepts", "deep_principles"]
    assert training["attendee_ids"] == org.pilot_ids
    assert training["held_on"] == "2026-01-05"
    assert listed(app_client, tokens.coach, org.engagement_id, "training-sessions") == [training]
    assert event_types(app_client, tokens.admin, org.engagement_id) == [*before, "training_session.recorded"]
    payload = events(app_client, tokens.admin, org.engagement_id)[-1]["payload"]
    assert payload["training_session_id"] == training["id"]
    assert payload["hours"] == 6.5
    assert payload["attendees"] == len(org.pilot_ids)


def test_module_the_playbook_does_not_know_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    response = post(app_client, tokens.coach, org.engagement_id, "training-sessions",
                    session(modules=["basic_concepts", "team_building", "case_studies"]))
    refused(response, ("body.modules[1]", "unknown_module"))
    assert_nothing_written(app_client, tokens, org, before)


def test_training_held_in_the_future_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    response = post(app_client, tokens.coach, org.engagement_id, "training-sessions", session(held_on="2026-01-06"))
    refused(response, ("body.held_on", "future_date"))
    assert_nothing_written(app_client, tokens, org, before)


def test_attendee_of_another_organization_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    stranger = foreign_person(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    response = post(app_client, tokens.coach, org.engagement_id, "training-sessions",
                    session(attendee_ids=[stranger, *org.pilot_ids]))
    refused(response, ("body.attendee_ids[0]", "foreign_organization"))
    assert_nothing_written(app_client, tokens, org, before)


def test_duplicate_attendee_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    response = post(app_client, tokens.coach, org.engagement_id, "training-sessions",
                    session(attendee_ids=[org.pilot_ids[0], org.pilot_ids[0]]))
    refused(response, ("body.attendee_ids[1]", "duplicate"))
    assert_nothing_written(app_client, tokens, org, before)


def test_hours_and_modules_are_bounded(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    refused(post(app_client, tokens.coach, org.engagement_id, "training-sessions", session(hours=0)),
            ("body.hours", "greater_than"))
    refused(post(app_client, tokens.coach, org.engagement_id, "training-sessions", session(hours=25)),
            ("body.hours", "less_than_equal"))
    refused(post(app_client, tokens.coach, org.engagement_id, "training-sessions", session(modules=[])),
            ("body.modules", "too_short"))
    assert listed(app_client, tokens.coach, org.engagement_id, "training-sessions") == []


def test_fifteen_hours_keep_start_drafting_closed_three_more_open_it(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock
) -> None:
    org = in_training(app_client, tokens, db, clock.now)
    nothing = criterion(app_client, tokens.coach, org.engagement_id, "start_drafting", "training")
    assert nothing["passed"] is False
    assert nothing["evidence"]["hours"] == 0
    assert nothing["evidence"]["modules_missing"] == MODULES
    assert nothing["evidence"]["pilot_people"] == 5  # the pilot department's members, not the whole company

    # Days one to three: 15 hours, every module, every pilot member.
    first = create(app_client, tokens.coach, org.engagement_id, "training-sessions",
                   session(hours=6, modules=MODULES[:2], attendee_ids=org.pilot_ids))
    clock.advance(days=1)
    second = create(app_client, tokens.coach, org.engagement_id, "training-sessions",
                    session(held_on="2026-01-06", hours=9, modules=MODULES[2:], attendee_ids=org.pilot_ids))
    short = criterion(app_client, tokens.coach, org.engagement_id, "start_drafting", "training")
    assert short["passed"] is False
    assert short["evidence"]["hours"] == 15
    assert short["evidence"]["required"] == 18
    assert short["evidence"]["modules_missing"] == []
    assert short["evidence"]["fully_trained"] == 5
    assert short["evidence"]["session_ids"] == [first["id"], second["id"]]

    clock.advance(days=1)
    third = create(app_client, tokens.coach, org.engagement_id, "training-sessions",
                   session(held_on="2026-01-07", hours=3, modules=["practice_and_coaching"],
                           attendee_ids=org.pilot_ids))
    complete = criterion(app_client, tokens.coach, org.engagement_id, "start_drafting", "training")
    assert complete["passed"] is True
    assert complete["evidence"] == {
        "hours": 18, "required": 18, "modules_missing": [], "pilot_people": 5, "fully_trained": 5,
        "attendance_share": 1.0, "required_attendance_share": 0.8,
        "session_ids": [first["id"], second["id"], third["id"]],
    }
    moved = fire(app_client, tokens.coach, org.engagement_id, "start_drafting")
    assert moved.status_code == 200, moved.text
    assert moved.json()["engagement"]["phase"] == "pilot_drafting"


def test_eighteen_hours_without_every_module_keep_it_closed(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock
) -> None:
    org = in_training(app_client, tokens, db, clock.now)
    create(app_client, tokens.coach, org.engagement_id, "training-sessions",
           session(hours=18, modules=MODULES[:3], attendee_ids=org.pilot_ids))
    # A module taught to nobody is not covered.
    create(app_client, tokens.coach, org.engagement_id, "training-sessions",
           session(hours=1, modules=["practice_and_coaching"], attendee_ids=[]))
    result = criterion(app_client, tokens.coach, org.engagement_id, "start_drafting", "training")
    assert result["passed"] is False
    assert result["evidence"]["hours"] == 19
    assert result["evidence"]["modules_missing"] == ["practice_and_coaching"]
    assert result["evidence"]["fully_trained"] == 0


def test_attendance_needs_eighty_percent_of_pilot_members_at_every_module(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock
) -> None:
    org = in_training(app_client, tokens, db, clock.now)
    # Non-pilot people attending do not count towards the pilot's attendance.
    create(app_client, tokens.coach, org.engagement_id, "training-sessions",
           session(hours=15, modules=MODULES[:3], attendee_ids=[*org.pilot_ids, *org.other_ids]))
    create(app_client, tokens.coach, org.engagement_id, "training-sessions",
           session(hours=3, modules=["practice_and_coaching"], attendee_ids=[*org.pilot_ids[:3], *org.other_ids]))
    three_of_five = criterion(app_client, tokens.coach, org.engagement_id, "start_drafting", "training")
    assert three_of_five["passed"] is False
    assert three_of_five["evidence"]["fully_trained"] == 3
    assert three_of_five["evidence"]["attendance_share"] == 0.6

    # A make-up session for one more pilot member: 4 of 5 is 80%.
    create(app_client, tokens.coach, org.engagement_id, "training-sessions",
           session(hours=1, modules=["practice_and_coaching"], attendee_ids=[org.pilot_ids[3]]))
    four_of_five = criterion(app_client, tokens.coach, org.engagement_id, "start_drafting", "training")
    assert four_of_five["passed"] is True
    assert (four_of_five["evidence"]["fully_trained"], four_of_five["evidence"]["attendance_share"]) == (4, 0.8)
