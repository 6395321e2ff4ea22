"""Meetings and training sessions entered ahead as planned: a future date is allowed, nothing counts for a gate
until the record is marked held, a cancelled one never counts; the calendar feeds show planned ones and mark
cancelled ones (the engagement page's "Coming up" is tested in tests/web)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from icalendar import Calendar

from tests.api._helpers import assert_problem, collect_pages, event_types, fire
from tests.api._records import Client, client_organization, create, criterion, post, refused
from tests.conftest import Clock, Tokens, auth

EXECUTIVE_OUTCOMES = ["ceo_support", "okrs_introduced", "expectations_set"]


def planned_executive(org: Client, held_at: str = "2026-01-12T08:00:00Z") -> dict[str, Any]:
    return {"kind": "executive", "held_at": held_at, "attendee_ids": [org.ceo_id, org.pilot_ids[0]],
            "outcomes": EXECUTIVE_OUTCOMES, "status": "planned"}


def set_status(client: TestClient, token: str, org: Client, collection: str, record_id: int, status: str,
               **headers: str) -> Any:
    return client.put(f"{org.base}/{collection}/{record_id}/status", json={"status": status},
                      headers=auth(token, **headers))


def feed(client: TestClient, token: str, path: str) -> dict[str, Any]:
    response = client.get(path, headers=auth(token))
    assert response.status_code == 200, response.text
    calendar = Calendar.from_ical(response.content)
    return {str(event["UID"]).partition("@")[0]: event for event in calendar.events}


def test_a_planned_meeting_counts_for_its_gate_only_once_held(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    org = client_organization(app_client, tokens)
    assert fire(app_client, tokens.coach, org.engagement_id, "schedule_executive_meeting").status_code == 200
    before = event_types(app_client, tokens.admin, org.engagement_id)

    # Held next week: refused as a record of what happened, accepted as planned.
    refused(post(app_client, tokens.coach, org.engagement_id, "meetings", {**planned_executive(org), "status": "held"}),
            ("body.held_at", "future_date"))
    meeting = create(app_client, tokens.coach, org.engagement_id, "meetings", planned_executive(org))
    assert meeting["status"] == "planned"
    assert event_types(app_client, tokens.admin, org.engagement_id) == [*before, "meeting.planned"]
    gate = criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "executive_outcomes")
    assert gate["passed"] is False and gate["evidence"]["meeting_ids"] == []

    # Not held before its time, in either language.
    early = assert_problem(set_status(app_client, tokens.coach, org, "meetings", meeting["id"], "held"), 422)
    assert [(e["field"], e["type"]) for e in early["errors"]] == [("body.status", "future_date")]
    chinese = set_status(app_client, tokens.coach, org, "meetings", meeting["id"], "held",
                         **{"Accept-Language": "zh-TW"}).json()
    assert "尚未到來" in chinese["errors"][0]["message"]

    clock.advance(days=7, hours=1)
    held = set_status(app_client, tokens.coach, org, "meetings", meeting["id"], "held")
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "held"
    gate = criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "executive_outcomes")
    assert gate["passed"] is True and gate["evidence"]["meeting_ids"] == [meeting["id"]], gate
    assert event_types(app_client, tokens.admin, org.engagement_id)[-1] == "meeting.held"

    # Once held it stays held.
    again = assert_problem(set_status(app_client, tokens.coach, org, "meetings", meeting["id"], "cancelled"), 409)
    assert "already held" in again["detail"]


def test_a_cancelled_training_session_never_counts(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    org = client_organization(app_client, tokens)
    body = {"held_on": "2026-01-20", "hours": 18, "modules": ["basic_concepts", "deep_principles", "case_studies",
                                                              "practice_and_coaching"],
            "attendee_ids": org.pilot_ids, "status": "planned"}
    refused(post(app_client, tokens.coach, org.engagement_id, "training-sessions", {**body, "status": "held"}),
            ("body.held_on", "future_date"))
    training = create(app_client, tokens.coach, org.engagement_id, "training-sessions", body)
    assert training["status"] == "planned"
    cancelled = set_status(app_client, tokens.coach, org, "training-sessions", training["id"], "cancelled")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert event_types(app_client, tokens.admin, org.engagement_id)[-2:] == [
        "training_session.planned", "training_session.cancelled"]
    clock.advance(days=30)
    problem = assert_problem(set_status(app_client, tokens.coach, org, "training-sessions", training["id"], "held"),
                             409)
    assert problem["status"] == 409


def test_planned_records_are_in_the_feeds_and_cancelled_ones_marked(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    org = client_organization(app_client, tokens)
    planned = create(app_client, tokens.coach, org.engagement_id, "meetings", planned_executive(org))
    dropped = create(app_client, tokens.coach, org.engagement_id, "meetings",
                     {**planned_executive(org, "2026-01-13T08:00:00Z"), "outcomes": []})
    assert set_status(app_client, tokens.coach, org, "meetings", dropped["id"], "cancelled").status_code == 200

    held = create(app_client, tokens.coach, org.engagement_id, "meetings",
                  {**planned_executive(org, "2026-01-02T08:00:00Z"), "status": "held", "outcomes": []})
    listed = {s: [m["id"] for m in collect_pages(app_client, tokens.coach, f"{org.base}/meetings?status={s}")]
              for s in ("planned", "held", "cancelled")}
    assert listed == {"planned": [planned["id"]], "held": [held["id"]], "cancelled": [dropped["id"]]}

    events = feed(app_client, tokens.coach, f"{org.base}/calendar.ics")
    coming = events[f"meeting-{planned['id']}"]
    assert coming.start.isoformat().startswith("2026-01-12")
    assert str(coming["STATUS"]) == "CONFIRMED"
    assert "Planned; not yet held." in str(coming["DESCRIPTION"])
    gone = events[f"meeting-{dropped['id']}"]
    assert str(gone["STATUS"]) == "CANCELLED"
    assert str(gone["SUMMARY"]).startswith("Cancelled: ")

    # The attendee's own feed has the planned meeting too.
    issued = app_client.post(f"/api/v1/organizations/{org.organization_id}/people/{org.pilot_ids[0]}/calendar-token",
                             headers=auth(tokens.admin))
    assert issued.status_code == 200, issued.text
    response = app_client.get(urlsplit(issued.json()["url"]).path)
    assert response.status_code == 200, response.text
    mine = {str(e["UID"]).partition("@")[0]: e for e in Calendar.from_ical(response.content).events}
    assert str(mine[f"meeting-{planned['id']}"]["STATUS"]) == "CONFIRMED"
