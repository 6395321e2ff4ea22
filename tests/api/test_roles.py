"""Who may see and do what: tokens, coaches limited to their engagements, integrations and their scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from okr_rollout.auth.service import hash_token, revoke_token
from okr_rollout.models import ApiToken
from tests.api._helpers import (
    Journey,
    assert_problem,
    collect_pages,
    create_organization,
    event_types,
    fire,
    get_json,
    start_journey,
)
from tests.conftest import Tokens, auth

ORGS = "/api/v1/organizations"
ENGAGEMENTS = "/api/v1/engagements"


def engagement_paths(journey: Journey) -> list[str]:
    base = f"{ENGAGEMENTS}/{journey.engagement_id}"
    return [base, f"{base}/readiness", f"{base}/tasks", f"{base}/events"]


# --- authentication ----------------------------------------------------------------------------


def test_no_token_is_401_with_a_bearer_challenge(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    requests = [("GET", ORGS, None), ("POST", ORGS, {"name": "A", "headcount": 1}),
                ("GET", "/api/v1/playbooks", None), ("POST", f"{ENGAGEMENTS}/{journey.engagement_id}/transitions",
                                                     {"trigger": "schedule_executive_meeting"}),
                *[("GET", path, None) for path in engagement_paths(journey)]]
    for method, path, body in requests:
        response = app_client.request(method, path, json=body)
        assert_problem(response, 401, slug="unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer"), path
    assert len(collect_pages(app_client, tokens.admin, ORGS)) == 1
    assert get_json(app_client, tokens.admin, f"{ENGAGEMENTS}/{journey.engagement_id}")["phase"] == "coach_engaged"


def test_unknown_or_malformed_tokens_are_401(app_client: TestClient) -> None:
    for headers in ({"Authorization": "Bearer okr_not-a-real-token"}, {"Authorization": "Basic dXNlcjpwYXNz"},
                    {"Authorization": "Bearer"}):
        response = app_client.get(ORGS, headers=headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_revoked_token_is_401(app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    assert app_client.get(ORGS, headers=auth(tokens.integration)).status_code == 200
    with db() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(tokens.integration)))
        assert token is not None
        revoke_token(session, token.id, datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    response = app_client.get(ORGS, headers=auth(tokens.integration))
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert_problem(app_client.post(ORGS, json={"name": "A", "headcount": 1}, headers=auth(tokens.integration)), 401)
    assert collect_pages(app_client, tokens.admin, ORGS) == []


# --- coaches see their engagements only --------------------------------------------------------


def test_coach_lists_only_their_engagements(app_client: TestClient, tokens: Tokens) -> None:
    mine = start_journey(app_client, tokens)
    theirs = start_journey(app_client, tokens, coach_ids=[tokens.other_coach_person_id])
    unassigned = start_journey(app_client, tokens, coach_ids=[])
    listed = [e["id"] for e in collect_pages(app_client, tokens.coach, ENGAGEMENTS)]
    assert listed == [mine.engagement_id]
    assert [e["id"] for e in collect_pages(app_client, tokens.other_coach, ENGAGEMENTS)] == [theirs.engagement_id]
    # Filters never widen what a coach sees.
    assert collect_pages(app_client, tokens.coach, f"{ENGAGEMENTS}?coach_id={tokens.other_coach_person_id}") == []
    assert collect_pages(app_client, tokens.coach,
                         f"{ENGAGEMENTS}?organization_id={unassigned.organization_id}") == []
    everything = [e["id"] for e in collect_pages(app_client, tokens.admin, ENGAGEMENTS)]
    assert everything == [mine.engagement_id, theirs.engagement_id, unassigned.engagement_id]


def test_another_coachs_engagement_is_404_never_403_never_data(app_client: TestClient, tokens: Tokens) -> None:
    theirs = start_journey(app_client, tokens, coach_ids=[tokens.other_coach_person_id])
    for path in engagement_paths(theirs):
        response = app_client.get(path, headers=auth(tokens.coach))
        problem = assert_problem(response, 404)
        assert set(problem) <= {"type", "title", "status", "detail", "instance"}, problem
        assert get_json(app_client, tokens.other_coach, path)  # the assigned coach does see it
    assert_problem(fire(app_client, tokens.coach, theirs.engagement_id, "schedule_executive_meeting"), 404)
    assert get_json(app_client, tokens.admin, f"{ENGAGEMENTS}/{theirs.engagement_id}")["phase"] == "coach_engaged"
    assert event_types(app_client, tokens.admin, theirs.engagement_id) == ["engagement.created"]


def test_another_coachs_tasks_cannot_be_changed(app_client: TestClient, tokens: Tokens) -> None:
    theirs = start_journey(app_client, tokens, coach_ids=[tokens.other_coach_person_id])
    tasks = collect_pages(app_client, tokens.admin, f"{ENGAGEMENTS}/{theirs.engagement_id}/tasks")
    task = tasks[0]
    assert_problem(app_client.patch(f"/api/v1/tasks/{task['id']}", json={"done": True}, headers=auth(tokens.coach)),
                   404)
    assert_problem(app_client.patch(f"/api/v1/tasks/{task['id']}/checklist/{task['checklist'][0]['id']}",
                                    json={"checked": True}, headers=auth(tokens.coach)), 404)
    assert collect_pages(app_client, tokens.admin, f"{ENGAGEMENTS}/{theirs.engagement_id}/tasks") == tasks
    assert event_types(app_client, tokens.admin, theirs.engagement_id) == ["engagement.created"]


def test_coach_sees_only_organizations_they_coach(app_client: TestClient, tokens: Tokens) -> None:
    mine = start_journey(app_client, tokens)
    theirs = start_journey(app_client, tokens, coach_ids=[tokens.other_coach_person_id])
    assert [o["id"] for o in collect_pages(app_client, tokens.coach, ORGS)] == [mine.organization_id]
    assert get_json(app_client, tokens.coach, f"{ORGS}/{mine.organization_id}")["id"] == mine.organization_id
    for path in (f"{ORGS}/{theirs.organization_id}", f"{ORGS}/{theirs.organization_id}/people",
                 f"{ORGS}/{theirs.organization_id}/departments"):
        assert_problem(app_client.get(path, headers=auth(tokens.coach)), 404)
    assert_problem(app_client.patch(f"{ORGS}/{theirs.organization_id}", json={"name": "Hijacked"},
                                    headers=auth(tokens.coach)), 404)
    assert_problem(app_client.post(f"{ORGS}/{theirs.organization_id}/people", json={"name": "Spy"},
                                   headers=auth(tokens.coach)), 404)
    assert get_json(app_client, tokens.admin, f"{ORGS}/{theirs.organization_id}")["name"] != "Hijacked"
    assert collect_pages(app_client, tokens.admin, f"{ORGS}/{theirs.organization_id}/people") == []


def test_coach_cannot_create_organizations_or_engagements(app_client: TestClient, tokens: Tokens) -> None:
    assert_problem(app_client.post(ORGS, json={"name": "Mine", "headcount": 3}, headers=auth(tokens.coach)), 404)
    mine = start_journey(app_client, tokens)
    response = app_client.post(ENGAGEMENTS, json={"organization_id": mine.organization_id,
                                                  "coach_ids": [tokens.coach_person_id]}, headers=auth(tokens.coach))
    assert_problem(response, 404)
    assert [o["id"] for o in collect_pages(app_client, tokens.admin, ORGS)] == [mine.organization_id]
    assert [e["id"] for e in collect_pages(app_client, tokens.admin, ENGAGEMENTS)] == [mine.engagement_id]


def test_coach_records_people_and_departments_of_their_organization(app_client: TestClient, tokens: Tokens) -> None:
    mine = start_journey(app_client, tokens)
    department = app_client.post(f"{ORGS}/{mine.organization_id}/departments", json={"name": "Sales"},
                                 headers=auth(tokens.coach))
    assert department.status_code == 201, department.text
    person = app_client.post(f"{ORGS}/{mine.organization_id}/people",
                             json={"name": "Ceo", "roles": ["ceo"], "department_ids": [department.json()["id"]]},
                             headers=auth(tokens.coach))
    assert person.status_code == 201, person.text
    assert [p["id"] for p in collect_pages(app_client, tokens.coach, f"{ORGS}/{mine.organization_id}/people")] == [
        person.json()["id"]]


# --- integrations ------------------------------------------------------------------------------


def test_integration_without_the_transitions_scope_reads_but_cannot_move(
    app_client: TestClient, tokens: Tokens
) -> None:
    journey = start_journey(app_client, tokens)
    for path in engagement_paths(journey):
        assert app_client.get(path, headers=auth(tokens.integration)).status_code == 200, path
    response = fire(app_client, tokens.integration, journey.engagement_id, "schedule_executive_meeting")
    # It sees the engagement, so it is told what it lacks: the scope, by name (404 stays for what it cannot see).
    problem = assert_problem(response, 403, slug="forbidden")
    assert problem["missing_scope"] == "transitions"
    assert "transitions" in problem["detail"]
    chinese = fire(app_client, tokens.integration, journey.engagement_id, "schedule_executive_meeting",
                   **{"Accept-Language": "zh-TW"})
    assert "缺少 transitions 範圍" in assert_problem(chinese, 403)["detail"]
    assert_problem(fire(app_client, tokens.integration, 31337, "schedule_executive_meeting"), 404)
    assert get_json(app_client, tokens.admin, f"{ENGAGEMENTS}/{journey.engagement_id}")["phase"] == "coach_engaged"
    assert event_types(app_client, tokens.admin, journey.engagement_id) == ["engagement.created"]


def test_integration_with_the_transitions_scope_moves(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    response = fire(app_client, tokens.integration_transitions, journey.engagement_id, "schedule_executive_meeting")
    assert response.status_code == 200, response.text
    assert response.json()["engagement"]["phase"] == "executive_meeting"
    events = collect_pages(app_client, tokens.admin, f"{ENGAGEMENTS}/{journey.engagement_id}/events")
    assert events[-1]["type"] == "engagement.transitioned"
    assert events[-1]["actor"] == "integration:crm-t"


def test_integration_sees_every_organization_and_engagement(app_client: TestClient, tokens: Tokens) -> None:
    first = start_journey(app_client, tokens)
    second = start_journey(app_client, tokens, coach_ids=[tokens.other_coach_person_id])
    other = create_organization(app_client, tokens.admin)
    assert [o["id"] for o in collect_pages(app_client, tokens.integration, ORGS)] == [
        first.organization_id, second.organization_id, other["id"]]
    assert [e["id"] for e in collect_pages(app_client, tokens.integration, ENGAGEMENTS)] == [
        first.engagement_id, second.engagement_id]
