"""Who may record: the engagement's coaches, the CRM, the organization's internal coaches; 404 for anyone else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from tests.api._helpers import assert_problem, event_types
from tests.api._records import Client, client_organization, create, events, listed, patch, post
from tests.conftest import Tokens, auth

BODIES: dict[str, Callable[[Client], dict[str, Any]]] = {
    "meetings": lambda org: {"kind": "executive", "held_at": "2026-01-05T08:00:00Z", "attendee_ids": [org.ceo_id],
                             "outcomes": ["ceo_support"]},
    "ceo-support": lambda org: {"level": "full", "stated_on": "2026-01-05"},
    "training-sessions": lambda org: {"held_on": "2026-01-05", "hours": 6, "modules": ["basic_concepts"],
                                      "attendee_ids": org.pilot_ids},
    "drafting-groups": lambda org: {"member_ids": org.pilot_ids[:3], "started_on": "2026-01-05"},
    "appointments": lambda org: {"person_id": org.pilot_ids[0], "role": "okr_master"},
}
EVENT_OF = {"meetings": "meeting.recorded", "ceo-support": "ceo_support.stated",
            "training-sessions": "training_session.recorded", "drafting-groups": "drafting_group.recorded",
            "appointments": "appointment.made"}
COLLECTIONS = list(BODIES)


def internal_coach_token(db: Callable[[], Session], person_id: int) -> str:
    with db() as session:
        raw, _ = create_token(session, role=Role.internal_coach, person_id=person_id)
        return raw


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_a_coach_not_on_the_engagement_gets_404_and_writes_nothing(
    app_client: TestClient, tokens: Tokens, collection: str
) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)

    assert_problem(post(app_client, tokens.other_coach, org.engagement_id, collection, BODIES[collection](org)), 404,
                   slug="not-found")
    assert_problem(app_client.get(f"{org.base}/{collection}", headers=auth(tokens.other_coach)), 404)

    assert listed(app_client, tokens.coach, org.engagement_id, collection) == []
    assert event_types(app_client, tokens.admin, org.engagement_id) == before


@pytest.mark.parametrize("collection", ["drafting-groups", "appointments"])
def test_a_coach_not_on_the_engagement_cannot_patch(app_client: TestClient, tokens: Tokens, collection: str) -> None:
    org = client_organization(app_client, tokens)
    record = create(app_client, tokens.coach, org.engagement_id, collection, BODIES[collection](org))
    change = {"ended_on": "2026-01-05"} if collection == "drafting-groups" else {"ready": True}
    assert_problem(patch(app_client, tokens.other_coach, f"{org.base}/{collection}/{record['id']}", change), 404)
    assert listed(app_client, tokens.coach, org.engagement_id, collection) == [record]


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_the_integration_token_records(app_client: TestClient, tokens: Tokens, collection: str) -> None:
    org = client_organization(app_client, tokens)
    response = post(app_client, tokens.integration, org.engagement_id, collection, BODIES[collection](org))
    assert response.status_code == 201, response.text
    event = events(app_client, tokens.admin, org.engagement_id)[-1]
    assert (event["type"], event["actor"]) == (EVENT_OF[collection], "integration:crm")
    assert [r["id"] for r in listed(app_client, tokens.integration, org.engagement_id, collection)] == [
        response.json()["id"]]


def test_an_internal_coach_records_in_their_own_organization_only(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session]
) -> None:
    org = client_organization(app_client, tokens)
    elsewhere = client_organization(app_client, tokens)
    token = internal_coach_token(db, org.pilot_ids[0])

    response = post(app_client, token, org.engagement_id, "meetings",
                    {"kind": "weekly_team", "held_at": "2026-01-05T08:00:00Z", "attendee_ids": org.pilot_ids})
    assert response.status_code == 201, response.text
    assert_problem(post(app_client, token, elsewhere.engagement_id, "meetings",
                        {"kind": "weekly_team", "held_at": "2026-01-05T08:00:00Z"}), 404)
    assert listed(app_client, tokens.admin, elsewhere.engagement_id, "meetings") == []


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_the_location_of_a_new_record_can_be_read(app_client: TestClient, tokens: Tokens, collection: str) -> None:
    org = client_organization(app_client, tokens)
    response = post(app_client, tokens.coach, org.engagement_id, collection, BODIES[collection](org))
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location == f"{org.base}/{collection}/{response.json()['id']}"
    fetched = app_client.get(location, headers=auth(tokens.coach))
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["id"] == response.json()["id"]


def test_records_of_one_engagement_are_not_listed_on_another(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    other = client_organization(app_client, tokens)
    for collection in COLLECTIONS:
        create(app_client, tokens.coach, org.engagement_id, collection, BODIES[collection](org))
        assert listed(app_client, tokens.coach, other.engagement_id, collection) == []


def test_records_list_in_pages(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    ids = [create(app_client, tokens.coach, org.engagement_id, "meetings",
                  {"kind": "weekly_team", "held_at": f"2026-01-0{day}T08:00:00Z",
                   "attendee_ids": [org.pilot_ids[0]]})["id"]
           for day in (1, 2, 3, 4, 5)]
    page = app_client.get(f"{org.base}/meetings", params={"limit": 2}, headers=auth(tokens.coach)).json()
    assert [m["id"] for m in page["items"]] == ids[:2]
    assert page["next_cursor"] is not None
    assert [m["id"] for m in listed(app_client, tokens.coach, org.engagement_id, "meetings")] == ids


def test_a_crm_retry_with_the_same_idempotency_key_records_once(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    headers = auth(tokens.integration, **{"Idempotency-Key": "crm-meeting-42"})
    first = app_client.post(f"{org.base}/meetings", json=BODIES["meetings"](org), headers=headers)
    retry = app_client.post(f"{org.base}/meetings", json=BODIES["meetings"](org), headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert [m["id"] for m in listed(app_client, tokens.admin, org.engagement_id, "meetings")] == [first.json()["id"]]
    assert event_types(app_client, tokens.admin, org.engagement_id) == [*before, "meeting.recorded"]
