"""Appointments over HTTP: validation, 409 on a duplicate, PATCH with If-Match, events, start_q1 and start_culture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api._helpers import assert_problem, event_types
from tests.api._records import (
    Client,
    client_organization,
    create,
    criterion,
    events,
    foreign_person,
    listed,
    patch,
    place_in_phase,
    post,
    refused,
)
from tests.conftest import Clock, Tokens


def coach(person_id: int, **fields: Any) -> dict[str, Any]:
    return {"person_id": person_id, "role": "internal_coach", **fields}


def master(person_id: int, **fields: Any) -> dict[str, Any]:
    return {"person_id": person_id, "role": "okr_master", **fields}


def assert_nothing_written(client: TestClient, tokens: Tokens, org: Client, events_before: list[str]) -> None:
    assert listed(client, tokens.coach, org.engagement_id, "appointments") == []
    assert event_types(client, tokens.admin, org.engagement_id) == events_before


def test_appointment_is_made_with_one_event(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    org = client_organization(app_client, tokens)
    clock.advance(days=2)
    before = event_types(app_client, tokens.admin, org.engagement_id)

    response = post(app_client, tokens.coach, org.engagement_id, "appointments",
                    coach(org.pilot_ids[0], trained=True, trained_on="2026-01-06"))

    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"v1"'
    made = response.json()
    assert (made["person_id"], made["role"]) == (org.pilot_ids[0], "internal_coach")
    assert (made["trained"], made["trained_on"], made["ready"]) == (True, "2026-01-06", False)
    assert made["created_at"] == made["updated_at"] == "2026-01-07T09:00:00Z"
    assert listed(app_client, tokens.coach, org.engagement_id, "appointments") == [made]
    assert event_types(app_client, tokens.admin, org.engagement_id) == [*before, "appointment.made"]
    assert events(app_client, tokens.admin, org.engagement_id)[-1]["payload"] == {
        "appointment_id": made["id"], "person_id": org.pilot_ids[0], "role": "internal_coach", "trained": True,
        "ready": False, "trained_on": "2026-01-06"}


def test_ready_is_refused_on_an_internal_coach(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    refused(post(app_client, tokens.coach, org.engagement_id, "appointments", coach(org.pilot_ids[0], ready=True)),
            ("body.ready", "role_field"))
    assert_nothing_written(app_client, tokens, org, before)


def test_trained_on_without_trained_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    refused(post(app_client, tokens.coach, org.engagement_id, "appointments",
                 coach(org.pilot_ids[0], trained_on="2026-01-05")),
            ("body.trained_on", "trained_on_without_trained"))
    assert_nothing_written(app_client, tokens, org, before)


def test_trained_on_in_the_future_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    refused(post(app_client, tokens.coach, org.engagement_id, "appointments",
                 coach(org.pilot_ids[0], trained=True, trained_on="2026-01-06")),
            ("body.trained_on", "future_date"))
    assert_nothing_written(app_client, tokens, org, before)


def test_person_of_another_organization_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    before = event_types(app_client, tokens.admin, org.engagement_id)
    for person_id in (foreign_person(app_client, tokens), tokens.coach_person_id, 999_999):
        refused(post(app_client, tokens.coach, org.engagement_id, "appointments", master(person_id)),
                ("body.person_id", "foreign_organization"))
    assert_nothing_written(app_client, tokens, org, before)


def test_unknown_role_is_refused(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    refused(post(app_client, tokens.coach, org.engagement_id, "appointments",
                 {"person_id": org.pilot_ids[0], "role": "ceo"}), ("body.role", "literal_error"))
    assert listed(app_client, tokens.coach, org.engagement_id, "appointments") == []


def test_the_same_person_in_the_same_role_twice_is_409(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    first = create(app_client, tokens.coach, org.engagement_id, "appointments", coach(org.pilot_ids[0]))
    before = event_types(app_client, tokens.admin, org.engagement_id)

    problem = assert_problem(post(app_client, tokens.coach, org.engagement_id, "appointments",
                                  coach(org.pilot_ids[0], trained=True)), 409, slug="conflict")

    assert problem["appointment_id"] == first["id"]
    assert listed(app_client, tokens.coach, org.engagement_id, "appointments") == [first]
    assert event_types(app_client, tokens.admin, org.engagement_id) == before
    # The same person may hold the other role.
    create(app_client, tokens.coach, org.engagement_id, "appointments", master(org.pilot_ids[0]))


def test_patch_trains_the_coach_with_if_match_and_a_stale_etag_is_412(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    org = client_organization(app_client, tokens)
    made = create(app_client, tokens.coach, org.engagement_id, "appointments", coach(org.pilot_ids[0]))
    path = f"{org.base}/appointments/{made['id']}"
    clock.advance(days=30)
    before = event_types(app_client, tokens.admin, org.engagement_id)

    response = patch(app_client, tokens.coach, path, {"trained": True, "trained_on": "2026-02-03"},
                     **{"If-Match": '"v1"'})

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"v2"'
    trained = response.json()
    assert (trained["trained"], trained["trained_on"], trained["version"]) == (True, "2026-02-03", 2)
    assert trained["updated_at"] == "2026-02-04T09:00:00Z"
    assert trained["created_at"] == made["created_at"]
    assert event_types(app_client, tokens.admin, org.engagement_id) == [
        *before, "appointment.updated", "record.corrected"]
    assert events(app_client, tokens.admin, org.engagement_id)[-1]["payload"]["changed"] == ["trained", "trained_on"]

    stale = patch(app_client, tokens.coach, path, {"trained": False}, **{"If-Match": '"v1"'})
    assert_problem(stale, 412, slug="precondition-failed")
    assert listed(app_client, tokens.coach, org.engagement_id, "appointments") == [trained]
    assert event_types(app_client, tokens.admin, org.engagement_id) == [
        *before, "appointment.updated", "record.corrected"]


def test_patch_ready_on_the_okr_master_and_refusals_on_patch(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    org = client_organization(app_client, tokens)
    internal = create(app_client, tokens.coach, org.engagement_id, "appointments", coach(org.pilot_ids[0]))
    okr_master = create(app_client, tokens.coach, org.engagement_id, "appointments", master(org.pilot_ids[1]))
    before = event_types(app_client, tokens.admin, org.engagement_id)

    internal_path = f"{org.base}/appointments/{internal['id']}"
    refused(patch(app_client, tokens.coach, internal_path, {"ready": True}), ("body.ready", "role_field"))
    refused(patch(app_client, tokens.coach, internal_path, {"trained_on": "2026-01-05"}),
            ("body.trained_on", "trained_on_without_trained"))
    refused(patch(app_client, tokens.coach, internal_path, {"trained": True, "trained_on": "2026-01-06"}),
            ("body.trained_on", "future_date"))
    refused(patch(app_client, tokens.coach, internal_path, {"trained": None}), ("body.trained", "null"))
    assert event_types(app_client, tokens.admin, org.engagement_id) == before

    response = patch(app_client, tokens.coach, f"{org.base}/appointments/{okr_master['id']}", {"ready": True},
                     **{"If-Match": '"v1"'})
    assert response.status_code == 200, response.text
    assert response.json()["ready"] is True
    assert event_types(app_client, tokens.admin, org.engagement_id) == [
        *before, "appointment.updated", "record.corrected"]
    assert listed(app_client, tokens.coach, org.engagement_id, "appointments")[0] == internal


def test_untraining_clears_the_training_date(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    made = create(app_client, tokens.coach, org.engagement_id, "appointments",
                  coach(org.pilot_ids[0], trained=True, trained_on="2026-01-05"))
    response = patch(app_client, tokens.coach, f"{org.base}/appointments/{made['id']}", {"trained": False})
    assert response.status_code == 200, response.text
    assert (response.json()["trained"], response.json()["trained_on"]) == (False, None)


def test_internal_coach_appointed_opens_start_q1_criterion(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock
) -> None:
    org = client_organization(app_client, tokens)
    place_in_phase(db, org.engagement_id, "coaches_appointed", clock.now)
    nothing = criterion(app_client, tokens.coach, org.engagement_id, "start_q1", "internal_coaches_appointed")
    assert nothing["passed"] is False
    assert nothing["evidence"] == {"appointed": [], "trained": [], "untrained": [], "required": 1,
                                   "must_be_trained": False}

    # An OKR Master is not an internal coach.
    create(app_client, tokens.coach, org.engagement_id, "appointments", master(org.pilot_ids[1]))
    assert criterion(app_client, tokens.coach, org.engagement_id, "start_q1",
                     "internal_coaches_appointed")["passed"] is False

    create(app_client, tokens.coach, org.engagement_id, "appointments", coach(org.pilot_ids[0]))
    appointed = criterion(app_client, tokens.coach, org.engagement_id, "start_q1", "internal_coaches_appointed")
    assert appointed["passed"] is True
    assert appointed["evidence"]["appointed"] == [org.pilot_ids[0]]
    assert appointed["evidence"]["untrained"] == [org.pilot_ids[0]]


def test_training_the_coach_and_readying_the_master_open_start_culture(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock
) -> None:
    org = client_organization(app_client, tokens)
    place_in_phase(db, org.engagement_id, "train_the_trainers", clock.now)
    internal = create(app_client, tokens.coach, org.engagement_id, "appointments", coach(org.pilot_ids[0]))
    okr_master = create(app_client, tokens.coach, org.engagement_id, "appointments", master(org.pilot_ids[1]))

    untrained = criterion(app_client, tokens.coach, org.engagement_id, "start_culture", "internal_coaches_trained")
    assert untrained["passed"] is False
    assert untrained["evidence"]["untrained"] == [org.pilot_ids[0]]
    not_ready = criterion(app_client, tokens.coach, org.engagement_id, "start_culture", "okr_master_ready")
    assert not_ready["passed"] is False
    assert not_ready["evidence"] == {"appointed": [org.pilot_ids[1]], "ready": []}

    clock.advance(days=7)
    assert patch(app_client, tokens.coach, f"{org.base}/appointments/{internal['id']}",
                 {"trained": True, "trained_on": "2026-01-12"}, **{"If-Match": '"v1"'}).status_code == 200
    assert patch(app_client, tokens.coach, f"{org.base}/appointments/{okr_master['id']}",
                 {"ready": True}, **{"If-Match": '"v1"'}).status_code == 200

    trained = criterion(app_client, tokens.coach, org.engagement_id, "start_culture", "internal_coaches_trained")
    assert trained["passed"] is True
    assert trained["evidence"]["trained"] == [org.pilot_ids[0]]
    assert trained["evidence"]["must_be_trained"] is True
    ready = criterion(app_client, tokens.coach, org.engagement_id, "start_culture", "okr_master_ready")
    assert ready["passed"] is True
    assert ready["evidence"] == {"appointed": [org.pilot_ids[1]], "ready": [org.pilot_ids[1]]}
