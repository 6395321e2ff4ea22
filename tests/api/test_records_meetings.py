"""Meetings over HTTP: validation (422 naming field and rule, nothing written), events, the hold_kickoff gate."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api._helpers import RFC3339_UTC, event_types, fire
from tests.api._records import (
    Client,
    client_organization,
    create,
    criterion,
    events,
    foreign_person,
    listed,
    post,
    refused,
)
from tests.conftest import Clock, Tokens, auth

EXECUTIVE_OUTCOMES = ["ceo_support", "okrs_introduced", "expectations_set"]


def executive(org: Client, **fields: Any) -> dict[str, Any]:
    return {"kind": "executive", "held_at": "2026-01-05T08:00:00Z", "attendee_ids": [org.ceo_id],
            "outcomes": EXECUTIVE_OUTCOMES, "notes": "CEO on board", **fields}


def assert_nothing_written(client: TestClient, tokens: Tokens, org: Client, events_before: list[str]) -> None:
    assert listed(client, tokens.coach, org.engagement_id, "meetings") == []
    assert event_types(client, tokens.admin, org.engagement_id) == events_before


def test_meeting_is_recorded_in_utc_and_appends_one_event(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)

    response = post(app_client, tokens.coach, org.engagement_id, "meetings",
                    executive(org, held_at="2026-01-05T16:30:00+08:00",
                              attendee_ids=[org.ceo_id, tokens.coach_person_id],
                              outcomes=["okrs_introduced", "ceo_support"]))

    assert response.status_code == 201, response.text
    meeting = response.json()
    assert meeting["held_at"] == "2026-01-05T08:30:00Z"
    assert RFC3339_UTC.match(meeting["created_at"])
    assert meeting["kind"] == "executive"
    assert meeting["attendee_ids"] == [org.ceo_id, tokens.coach_person_id]  # the engagement's coach may attend
    assert sorted(meeting["outcomes"]) == ["ceo_support", "okrs_introduced"]
    assert meeting["engagement_id"] == org.engagement_id
    assert listed(app_client, tokens.coach, org.engagement_id, "meetings") == [meeting]
    assert event_types(app_client, tokens.admin, org.engagement_id) == [*before, "meeting.recorded"]
    event = events(app_client, tokens.admin, org.engagement_id)[-1]
    assert event["payload"]["meeting_id"] == meeting["id"]
    assert event["payload"]["kind"] == "executive"
    assert event["actor"].startswith("coach:")


def test_meeting_with_a_naive_held_at_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    response = post(app_client, tokens.coach, org.engagement_id, "meetings", executive(org, held_at="2026-01-05T08:00"))
    refused(response, ("body.held_at", "timezone_aware"))
    assert_nothing_written(app_client, tokens, org, before)


def test_meeting_in_the_future_is_refused_until_it_is_held(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    body = executive(org, held_at="2026-01-05T11:00:00+01:00")  # 10:00 UTC, an hour from now

    refused(post(app_client, tokens.coach, org.engagement_id, "meetings", body), ("body.held_at", "future_date"))
    assert_nothing_written(app_client, tokens, org, before)

    clock.advance(hours=1)
    assert post(app_client, tokens.coach, org.engagement_id, "meetings", body).status_code == 201


def test_executive_meeting_outcome_the_playbook_does_not_know_is_refused(
    app_client: TestClient, tokens: Tokens
) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    response = post(app_client, tokens.coach, org.engagement_id, "meetings",
                    executive(org, outcomes=["ceo_support", "budget_approved", "expectations_set", "party"]))
    refused(response, ("body.outcomes[1]", "unknown_outcome"), ("body.outcomes[3]", "unknown_outcome"))
    assert_nothing_written(app_client, tokens, org, before)


def test_meeting_outcomes_must_be_keys(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    response = post(app_client, tokens.coach, org.engagement_id, "meetings", executive(org, outcomes=["CEO support"]))
    refused(response, ("body.outcomes[0]", "string_pattern_mismatch"))
    assert listed(app_client, tokens.coach, org.engagement_id, "meetings") == []


def test_every_meeting_kind_checks_its_own_outcomes(app_client: TestClient, tokens: Tokens) -> None:
    """A weekly team meeting declares no outcomes in the playbook: "CEO support obtained" is the executive
    meeting's, and is refused here, in both languages."""
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    body = {"kind": "weekly_team", "held_at": "2026-01-05T08:00:00Z", "department_id": org.pilot_department_id,
            "attendee_ids": org.pilot_ids, "outcomes": ["ceo_support"]}
    problem = refused(post(app_client, tokens.coach, org.engagement_id, "meetings", body),
                      ("body.outcomes[0]", "unknown_outcome"))
    assert problem["errors"][0]["message"] == "the weekly team meeting records no outcomes"
    chinese = app_client.post(f"{org.base}/meetings", json=body,
                              headers=auth(tokens.coach, **{"Accept-Language": "zh-TW"})).json()
    assert chinese["errors"][0]["message"] == "每週團隊會議不記錄成果"
    assert_nothing_written(app_client, tokens, org, before)

    meeting = create(app_client, tokens.coach, org.engagement_id, "meetings", {**body, "outcomes": []})
    assert (meeting["outcomes"], meeting["department_id"]) == ([], org.pilot_department_id)


def test_unknown_meeting_kind_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    response = post(app_client, tokens.coach, org.engagement_id, "meetings", executive(org, kind="offsite"))
    refused(response, ("body.kind", "literal_error"))


def test_attendee_of_another_organization_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    stranger = foreign_person(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    response = post(app_client, tokens.coach, org.engagement_id, "meetings",
                    executive(org, attendee_ids=[org.ceo_id, stranger, tokens.other_coach_person_id]))
    refused(response, ("body.attendee_ids[1]", "foreign_organization"),
            ("body.attendee_ids[2]", "foreign_organization"))
    assert_nothing_written(app_client, tokens, org, before)


def test_duplicate_attendee_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    response = post(app_client, tokens.coach, org.engagement_id, "meetings",
                    executive(org, attendee_ids=[org.ceo_id, org.pilot_ids[0], org.ceo_id]))
    refused(response, ("body.attendee_ids[2]", "duplicate"))
    assert_nothing_written(app_client, tokens, org, before)


def test_department_of_another_organization_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    elsewhere = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    response = post(app_client, tokens.coach, org.engagement_id, "meetings",
                    executive(org, kind="weekly_team", outcomes=[], department_id=elsewhere.pilot_department_id))
    refused(response, ("body.department_id", "foreign_organization"))
    assert_nothing_written(app_client, tokens, org, before)


def test_unknown_body_field_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    response = post(app_client, tokens.coach, org.engagement_id, "meetings", executive(org, location="HQ"))
    refused(response, ("body.location", "extra_forbidden"))


def test_executive_meetings_open_the_executive_outcomes_criterion(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    org = client_organization(app_client, tokens)
    assert fire(app_client, tokens.coach, org.engagement_id, "schedule_executive_meeting").status_code == 200

    before = criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "executive_outcomes")
    assert before["passed"] is False
    assert before["evidence"] == {"meeting_kind": "executive", "meeting_ids": [], "outcomes_recorded": [],
                                  "outcomes_missing": EXECUTIVE_OUTCOMES}

    first = create(app_client, tokens.coach, org.engagement_id, "meetings",
                   executive(org, outcomes=["ceo_support", "okrs_introduced"]))
    # A kickoff meeting does not count for the executive meeting.
    create(app_client, tokens.coach, org.engagement_id, "meetings",
           {"kind": "kickoff", "held_at": "2026-01-05T08:30:00Z", "outcomes": ["foundations_agreed"]})
    partial = criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "executive_outcomes")
    assert partial["passed"] is False
    assert partial["evidence"]["meeting_ids"] == [first["id"]]
    assert partial["evidence"]["outcomes_recorded"] == ["ceo_support", "okrs_introduced"]
    assert partial["evidence"]["outcomes_missing"] == ["expectations_set"]

    clock.advance(days=1)
    second = create(app_client, tokens.coach, org.engagement_id, "meetings",
                    executive(org, held_at="2026-01-06T08:00:00Z", outcomes=["expectations_set"]))
    done = criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "executive_outcomes")
    assert done["passed"] is True
    assert done["evidence"]["meeting_ids"] == [first["id"], second["id"]]
    assert done["evidence"]["outcomes_missing"] == []
