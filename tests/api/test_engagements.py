"""Engagements: creation pinned to a playbook, listing with filters, the engagement view, readiness."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from tests.api._helpers import (
    assert_problem,
    collect_pages,
    create_engagement,
    create_organization,
    error_fields,
    event_types,
    fire,
    get_json,
    start_journey,
)
from tests.api._records import client_organization
from tests.conftest import ROOT, Clock, Tokens, auth

ENGAGEMENTS = "/api/v1/engagements"
BEYOND_64_BITS = 2 ** 70


def _sha256_of(playbook_file: str) -> str:
    return hashlib.sha256((ROOT / "playbooks" / playbook_file).read_text(encoding="utf-8").encode()).hexdigest()


def test_create_engagement_pins_the_playbook(app_client: TestClient, tokens: Tokens) -> None:
    org = create_organization(app_client, tokens.admin)
    response = app_client.post(ENGAGEMENTS, json={"organization_id": org["id"], "coach_ids": [tokens.coach_person_id]},
                               headers=auth(tokens.integration))
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body["id"], int)
    assert body["organization_id"] == org["id"]
    assert body["phase"] == "coach_engaged"
    assert body["playbook"] == {"id": "standard", "version": 3,
                                "sha256": _sha256_of("standard.yaml")}
    assert body["version"] == 1
    assert body["coach_ids"] == [tokens.coach_person_id]
    assert body["entered_phase_at"] == "2026-01-05T09:00:00Z"
    assert response.headers["location"] == f"{ENGAGEMENTS}/{body['id']}"
    assert response.headers["etag"] == '"v1"'
    assert {t["key"] for t in body["open_tasks"]} == {"confirm_engagement", "collect_background"}


def test_create_engagement_with_an_explicit_playbook_version(app_client: TestClient, tokens: Tokens) -> None:
    org = create_organization(app_client, tokens.admin, headcount=5)
    body = create_engagement(app_client, tokens.admin, org["id"], playbook="small_company", playbook_version=3)
    assert body["playbook"]["id"] == "small_company"
    assert body["playbook"]["version"] == 3


def test_unknown_playbook_is_422_naming_the_playbook(app_client: TestClient, tokens: Tokens) -> None:
    org = create_organization(app_client, tokens.admin)
    response = app_client.post(ENGAGEMENTS, json={"organization_id": org["id"], "playbook": "nope"},
                               headers=auth(tokens.admin))
    assert error_fields(assert_problem(response, 422)) == ["body.playbook"]
    assert collect_pages(app_client, tokens.admin, ENGAGEMENTS) == []


def test_unknown_playbook_version_is_422_naming_the_version(app_client: TestClient, tokens: Tokens) -> None:
    org = create_organization(app_client, tokens.admin)
    response = app_client.post(ENGAGEMENTS, json={"organization_id": org["id"], "playbook": "standard",
                                                  "playbook_version": 99}, headers=auth(tokens.admin))
    assert error_fields(assert_problem(response, 422)) == ["body.playbook_version"]
    assert collect_pages(app_client, tokens.admin, ENGAGEMENTS) == []


def test_unknown_playbook_with_a_version_still_names_the_playbook(app_client: TestClient, tokens: Tokens) -> None:
    """The playbook id is what is wrong; pointing the client at playbook_version misleads it."""
    org = create_organization(app_client, tokens.admin)
    response = app_client.post(ENGAGEMENTS, json={"organization_id": org["id"], "playbook": "nope",
                                                  "playbook_version": 1}, headers=auth(tokens.admin))
    assert error_fields(assert_problem(response, 422)) == ["body.playbook"]


def test_create_engagement_refusals(app_client: TestClient, tokens: Tokens) -> None:
    org = create_organization(app_client, tokens.admin)
    problem = assert_problem(app_client.post(ENGAGEMENTS, json={"organization_id": org["id"], "coach_ids": [987654]},
                                             headers=auth(tokens.admin)), 422)
    assert error_fields(problem) == ["body.coach_ids[0]"]
    problem = assert_problem(app_client.post(ENGAGEMENTS, json={"organization_id": org["id"], "playbook": "Bad Id"},
                                             headers=auth(tokens.admin)), 422)
    assert error_fields(problem) == ["body.playbook"]
    problem = assert_problem(app_client.post(ENGAGEMENTS, json={"coach_ids": []}, headers=auth(tokens.admin)), 422)
    assert error_fields(problem) == ["body.organization_id"]
    assert_problem(app_client.post(ENGAGEMENTS, json={"organization_id": 424242}, headers=auth(tokens.admin)), 404)
    assert collect_pages(app_client, tokens.admin, ENGAGEMENTS) == []


def test_list_engagements_filters(app_client: TestClient, tokens: Tokens) -> None:
    first = start_journey(app_client, tokens)
    second = start_journey(app_client, tokens, coach_ids=[tokens.other_coach_person_id])
    third = create_engagement(app_client, tokens.admin, first.organization_id,
                              coach_ids=[tokens.coach_person_id, tokens.other_coach_person_id])
    assert fire(app_client, tokens.admin, first.engagement_id, "schedule_executive_meeting").status_code == 200

    def ids(query: str) -> list[int]:
        return [e["id"] for e in collect_pages(app_client, tokens.admin, f"{ENGAGEMENTS}?{query}")]

    assert ids("") == [first.engagement_id, second.engagement_id, third["id"]]
    assert ids("phase=executive_meeting") == [first.engagement_id]
    assert ids("phase=coach_engaged") == [second.engagement_id, third["id"]]
    assert ids("phase=no_such_phase") == []
    assert ids(f"coach_id={tokens.other_coach_person_id}") == [second.engagement_id, third["id"]]
    assert ids(f"organization_id={first.organization_id}") == [first.engagement_id, third["id"]]
    assert ids(f"organization_id={first.organization_id}&coach_id={tokens.other_coach_person_id}") == [third["id"]]
    listed = collect_pages(app_client, tokens.admin, ENGAGEMENTS)[0]
    assert listed["playbook"] == first.body["playbook"]
    assert listed["open_tasks"] is None


def test_get_engagement_shows_open_tasks_of_the_current_phase(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    journey = start_journey(app_client, tokens)
    path = f"{ENGAGEMENTS}/{journey.engagement_id}"
    response = app_client.get(path, headers=auth(tokens.coach))
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"v1"'
    body = response.json()
    assert body["entered_phase_at"] == "2026-01-05T09:00:00Z"
    assert [(t["key"], t["phase"], t["due_at"]) for t in body["open_tasks"]] == [
        ("confirm_engagement", "coach_engaged", "2026-01-12T09:00:00Z"),
        ("collect_background", "coach_engaged", "2026-01-19T09:00:00Z"),
    ]
    assert [i["key"] for i in body["open_tasks"][0]["checklist"]] == ["agree_scope", "record_organization",
                                                                      "assign_coach"]
    clock.advance(days=3)
    assert fire(app_client, tokens.coach, journey.engagement_id, "schedule_executive_meeting").status_code == 200
    response = app_client.get(path, headers=auth(tokens.coach))
    body = response.json()
    assert response.headers["etag"] == '"v2"'
    assert body["phase"] == "executive_meeting"
    assert body["entered_phase_at"] == "2026-01-08T09:00:00Z"
    assert [(t["key"], t["phase"], t["due_at"]) for t in body["open_tasks"]] == [
        ("prepare_executive_meeting", "executive_meeting", "2026-01-15T09:00:00Z"),
        ("hold_executive_meeting", "executive_meeting", "2026-01-22T09:00:00Z"),
    ]


def test_unknown_engagement_is_404_everywhere(app_client: TestClient, tokens: Tokens) -> None:
    for sub in ("", "/readiness", "/tasks", "/events"):
        assert_problem(app_client.get(f"{ENGAGEMENTS}/424242{sub}", headers=auth(tokens.admin)), 404)
    assert_problem(fire(app_client, tokens.admin, 424242, "schedule_executive_meeting"), 404)


def test_readiness_lists_every_transition_out_of_the_phase(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    report = get_json(app_client, tokens.coach, f"{ENGAGEMENTS}/{journey.engagement_id}/readiness")
    assert report["engagement_id"] == journey.engagement_id
    assert report["phase"] == "coach_engaged"
    assert [(t["trigger"], t["destination"], t["allowed"], t["passed"], t["total"]) for t in report["transitions"]] \
        == [("schedule_executive_meeting", "executive_meeting", True, 1, 1)]
    [criterion] = report["transitions"][0]["criteria"]
    assert criterion["id"] == "coach_assigned"
    assert criterion["kind"] == "coach_assigned"
    assert criterion["passed"] is True
    assert criterion["reason"]
    assert criterion["evidence"]["coach_ids"] == [tokens.coach_person_id]


def test_readiness_explains_a_blocked_gate(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens, coach_ids=[])
    report = get_json(app_client, tokens.admin, f"{ENGAGEMENTS}/{journey.engagement_id}/readiness")
    [transition] = report["transitions"]
    assert transition["allowed"] is False
    assert transition["passed"] == 0
    [criterion] = transition["criteria"]
    assert criterion["passed"] is False
    assert criterion["evidence"]["coaches"] == 0
    assert "0" in criterion["reason"]
    # Reading readiness writes nothing.
    assert event_types(app_client, tokens.admin, journey.engagement_id) == ["engagement.created"]


def test_readiness_after_moving_lists_the_next_phase_transitions(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    assert fire(app_client, tokens.coach, journey.engagement_id, "schedule_executive_meeting").status_code == 200
    report = get_json(app_client, tokens.coach, f"{ENGAGEMENTS}/{journey.engagement_id}/readiness")
    assert report["phase"] == "executive_meeting"
    [transition] = report["transitions"]
    assert transition["trigger"] == "hold_kickoff"
    assert transition["allowed"] is False
    assert [c["id"] for c in transition["criteria"]] == ["executive_outcomes", "ceo_backing"]
    for criterion in transition["criteria"]:
        assert set(criterion) >= {"id", "kind", "passed", "reason", "evidence"}
        assert criterion["passed"] is False


def test_history_records_creation_and_transitions(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    journey = start_journey(app_client, tokens)
    clock.advance(days=1)
    assert fire(app_client, tokens.coach, journey.engagement_id, "schedule_executive_meeting").status_code == 200
    events = collect_pages(app_client, tokens.coach, f"{ENGAGEMENTS}/{journey.engagement_id}/events")
    assert [e["type"] for e in events] == ["engagement.created", "engagement.transitioned"]
    created, moved = events
    assert created["engagement_id"] == journey.engagement_id
    assert created["organization_id"] == journey.organization_id
    assert created["actor"] == "admin:admin"
    assert created["payload"]["phase"] == "coach_engaged"
    assert created["occurred_at"] == "2026-01-05T09:00:00Z"
    assert moved["payload"]["trigger"] == "schedule_executive_meeting"
    assert (moved["payload"]["from"], moved["payload"]["to"]) == ("coach_engaged", "executive_meeting")
    assert moved["actor"].startswith("coach:")
    assert moved["occurred_at"] == "2026-01-06T09:00:00Z"


def test_playbook_catalog(app_client: TestClient, tokens: Tokens) -> None:
    listing = get_json(app_client, tokens.coach, "/api/v1/playbooks")
    assert {(p["id"], p["latest_version"]) for p in listing["items"]} >= {("standard", 3), ("small_company", 3)}
    standard = next(p for p in listing["items"] if p["id"] == "standard")
    assert standard["versions"] == [3]
    version = get_json(app_client, tokens.coach, "/api/v1/playbooks/standard/versions/3")
    assert version["id"] == "standard"
    assert version["version"] == 3
    assert version["phases"][0]["id"] == "coach_engaged"
    assert version["mermaid"].startswith("stateDiagram-v2")
    assert "coach_engaged" in version["mermaid"]
    assert any(t["trigger"] == "schedule_executive_meeting" for t in version["transitions"])
    assert_problem(app_client.get("/api/v1/playbooks/standard/versions/99", headers=auth(tokens.coach)), 404)
    assert_problem(app_client.get("/api/v1/playbooks/nope/versions/1", headers=auth(tokens.coach)), 404)
    assert_problem(app_client.get("/api/v1/playbooks"), 401)


def test_each_kind_of_caller_sees_only_the_engagements_it_may(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session]
) -> None:
    ours = client_organization(app_client, tokens)
    theirs = client_organization(app_client, tokens)
    with db() as session:
        member_of_ours, _ = create_token(session, role=Role.internal_coach, person_id=ours.pilot_ids[0])
    path = f"{ENGAGEMENTS}/{ours.engagement_id}"

    for token in (tokens.admin, tokens.integration, tokens.coach, member_of_ours):
        response = app_client.get(path, headers=auth(token))
        assert response.status_code == 200, response.text
        assert response.json()["coach_ids"] == [tokens.coach_person_id]
    assert app_client.get(f"{ENGAGEMENTS}/{theirs.engagement_id}", headers=auth(member_of_ours)).status_code == 404
    assert_problem(app_client.get(path, headers=auth(tokens.other_coach)), 404)


def test_the_engagement_view_lists_each_open_task_once_with_its_checklist_in_order(
    app_client: TestClient, tokens: Tokens
) -> None:
    journey = start_journey(app_client, tokens)
    path = f"{ENGAGEMENTS}/{journey.engagement_id}"
    task = get_json(app_client, tokens.admin, path)["open_tasks"][0]
    done = app_client.patch(f"/api/v1/tasks/{task['id']}", json={"done": True},
                            headers={**auth(tokens.coach), "If-Match": f'"v{task["version"]}"'})
    assert done.status_code == 200, done.text

    body = get_json(app_client, tokens.admin, path)
    assert task["id"] not in [t["id"] for t in body["open_tasks"]]
    listed = {t["id"]: t for t in collect_pages(app_client, tokens.admin, f"{path}/tasks")}
    for open_task in body["open_tasks"]:
        assert not listed[open_task["id"]]["done"]
        assert open_task["checklist"] == listed[open_task["id"]]["checklist"]
    assert len({t["id"] for t in body["open_tasks"]}) == len(body["open_tasks"])
    assert any(len(t["checklist"]) > 1 for t in body["open_tasks"])  # so that their order is shown


@pytest.mark.parametrize("route", ["", "/readiness", "/tasks", "/events"])
def test_an_engagement_id_beyond_64_bits_is_a_client_error_on_every_route(
        app_client: TestClient, tokens: Tokens, route: str) -> None:
    response = app_client.get(f"{ENGAGEMENTS}/{BEYOND_64_BITS}{route}", headers=auth(tokens.admin))
    assert response.status_code in (404, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
