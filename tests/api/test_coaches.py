"""The firm's coaches over HTTP: created, assigned, handed over and taken off; what a coach's token sees follows
the assignments, and every change is in the engagement's history."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from tests.api._helpers import assert_problem, collect_pages, create_engagement, create_organization, get_json
from tests.conftest import Tokens, auth


def new_coach(client: TestClient, token: str, name: str) -> int:
    response = client.post("/api/v1/coaches", json={"name": name, "email": f"{name.split()[0].lower()}@firm.example"},
                           headers=auth(token))
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/api/v1/coaches/{response.json()['id']}"
    assert client.get(response.headers["Location"], headers=auth(token)).json() == response.json()
    coach_id: int = response.json()["id"]
    return coach_id


def coach_token(db: Callable[[], Session], person_id: int) -> str:
    with db() as session:
        raw, _ = create_token(session, role=Role.coach, person_id=person_id)
        return raw


def history(client: TestClient, token: str, engagement_id: int) -> list[dict[str, object]]:
    return collect_pages(client, token, f"/api/v1/engagements/{engagement_id}/events")


def test_an_engagement_created_without_a_coach_gets_one_and_its_gate_then_passes(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    organization = create_organization(app_client, tokens.admin)["id"]
    engagement = create_engagement(app_client, tokens.admin, organization)["id"]
    readiness = get_json(app_client, tokens.admin, f"/api/v1/engagements/{engagement}/readiness")
    assert [t["allowed"] for t in readiness["transitions"]] == [False]  # no coach: the first gate is shut

    coach = new_coach(app_client, tokens.integration, "Huang Ya-ting")
    response = app_client.post(f"/api/v1/engagements/{engagement}/coaches", json={"coach_id": coach},
                               headers=auth(tokens.integration))
    assert response.status_code == 200, response.text
    assert [c["name"] for c in response.json()["coaches"]] == ["Huang Ya-ting"]
    assert get_json(app_client, tokens.admin, f"/api/v1/engagements/{engagement}")["coach_ids"] == [coach]
    readiness = get_json(app_client, tokens.admin, f"/api/v1/engagements/{engagement}/readiness")
    assert [t["allowed"] for t in readiness["transitions"]] == [True]
    assigned = [e for e in history(app_client, tokens.admin, engagement) if e["type"] == "engagement.coach_assigned"]
    assert [e["payload"] for e in assigned] == [{"coach": {"id": coach, "name": "Huang Ya-ting"}}]
    assert assigned[0]["actor"] == "integration:crm"


def test_a_hand_over_moves_the_engagement_from_the_old_coachs_token_to_the_new_ones(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    organization = create_organization(app_client, tokens.admin)["id"]
    engagement = create_engagement(app_client, tokens.admin, organization, coach_ids=[tokens.coach_person_id])["id"]
    newcomer = new_coach(app_client, tokens.admin, "Tsai Wen")
    newcomer_token = coach_token(db, newcomer)
    path = f"/api/v1/engagements/{engagement}"
    assert app_client.get(path, headers=auth(tokens.coach)).status_code == 200
    assert_problem(app_client.get(path, headers=auth(newcomer_token)), 404)
    before = app_client.get(path, headers=auth(tokens.admin)).headers["ETag"]

    handed = app_client.post(f"{path}/coaches", json={"coach_id": newcomer, "hand_over_from": tokens.coach_person_id},
                             headers=auth(tokens.admin, **{"If-Match": before}))
    assert handed.status_code == 200, handed.text
    assert [c["id"] for c in handed.json()["coaches"]] == [newcomer]
    assert handed.headers["ETag"] != before  # the coaches are part of the engagement: its version moved on

    assert_problem(app_client.get(path, headers=auth(tokens.coach)), 404)
    assert_problem(app_client.get(f"{path}/readiness", headers=auth(tokens.coach)), 404)
    assert engagement not in {e["id"] for e in collect_pages(app_client, tokens.coach, "/api/v1/engagements")}
    assert app_client.get(path, headers=auth(newcomer_token)).status_code == 200
    assert engagement in {e["id"] for e in collect_pages(app_client, newcomer_token, "/api/v1/engagements")}
    (event,) = [e for e in history(app_client, tokens.admin, engagement) if e["type"] == "engagement.handed_over"]
    assert event["payload"] == {"from": {"id": tokens.coach_person_id, "name": "Coach Chen"},
                                "to": {"id": newcomer, "name": "Tsai Wen"}}
    # A stale ETag is refused and changes nothing.
    stale = app_client.post(f"{path}/coaches", json={"coach_id": tokens.other_coach_person_id},
                            headers=auth(tokens.admin, **{"If-Match": before}))
    assert_problem(stale, 412)
    assert get_json(app_client, tokens.admin, path)["coach_ids"] == [newcomer]


def test_unassigning_a_coach_hides_the_engagement_from_them_and_is_recorded(
        app_client: TestClient, tokens: Tokens) -> None:
    organization = create_organization(app_client, tokens.admin)["id"]
    engagement = create_engagement(app_client, tokens.admin, organization,
                                   coach_ids=[tokens.coach_person_id, tokens.other_coach_person_id])["id"]
    path = f"/api/v1/engagements/{engagement}"
    response = app_client.delete(f"{path}/coaches/{tokens.other_coach_person_id}", headers=auth(tokens.admin))
    assert response.status_code == 200, response.text
    assert [c["id"] for c in response.json()["coaches"]] == [tokens.coach_person_id]
    assert_problem(app_client.get(path, headers=auth(tokens.other_coach)), 404)
    assert app_client.get(path, headers=auth(tokens.coach)).status_code == 200
    assert "engagement.coach_unassigned" in [e["type"] for e in history(app_client, tokens.admin, engagement)]
    again = app_client.delete(f"{path}/coaches/{tokens.other_coach_person_id}", headers=auth(tokens.admin))
    assert_problem(again, 404)


def test_only_administrators_and_integrations_change_coaches_and_bad_input_names_its_field(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    organization = create_organization(app_client, tokens.admin)["id"]
    engagement = create_engagement(app_client, tokens.admin, organization, coach_ids=[tokens.coach_person_id])["id"]
    path = f"/api/v1/engagements/{engagement}/coaches"
    # The coach sees the engagement but may not change who coaches it; another coach does not even see it.
    for token in (tokens.coach, tokens.other_coach):
        assert_problem(app_client.post(path, json={"coach_id": tokens.other_coach_person_id}, headers=auth(token)), 404)
        assert_problem(app_client.delete(f"{path}/{tokens.coach_person_id}", headers=auth(token)), 404)
    assert_problem(app_client.post("/api/v1/coaches", json={"name": "Self-made"}, headers=auth(tokens.coach)), 404)
    assert get_json(app_client, tokens.admin, f"/api/v1/engagements/{engagement}")["coach_ids"] == [
        tokens.coach_person_id]

    client_person = app_client.post(f"/api/v1/organizations/{organization}/people", json={"name": "Client CEO"},
                                    headers=auth(tokens.admin)).json()["id"]
    problem = assert_problem(app_client.post(path, json={"coach_id": client_person}, headers=auth(tokens.admin)), 422)
    assert problem["errors"][0]["field"] == "body.coach_id"
    problem = assert_problem(app_client.post(path, json={"coach_id": tokens.other_coach_person_id,
                                                         "hand_over_from": tokens.other_coach_person_id},
                                             headers=auth(tokens.admin)), 422)
    assert problem["errors"][0]["field"] == "body.hand_over_from"
    problem = assert_problem(app_client.post(path, json={"coach_id": tokens.coach_person_id},
                                             headers=auth(tokens.admin)), 409)
    assert "already coaches" in problem["detail"]
    refused = app_client.post("/api/v1/engagements", json={"organization_id": organization,
                                                            "coach_ids": [client_person]}, headers=auth(tokens.admin))
    assert assert_problem(refused, 422)["errors"][0]["field"] == "body.coach_ids[0]"


def test_the_directory_lists_the_firms_coaches_page_by_page(app_client: TestClient, tokens: Tokens) -> None:
    made = [new_coach(app_client, tokens.admin, f"Coach Number {n}") for n in range(5)]
    listed = collect_pages(app_client, tokens.coach, "/api/v1/coaches", limit=2)
    assert [c["id"] for c in listed] == [tokens.coach_person_id, tokens.other_coach_person_id, *made]
    organization = create_organization(app_client, tokens.admin)["id"]
    app_client.post(f"/api/v1/organizations/{organization}/people", json={"name": "Not a coach"},
                    headers=auth(tokens.admin))
    assert len(collect_pages(app_client, tokens.admin, "/api/v1/coaches")) == 7
    client_person = app_client.get(f"/api/v1/organizations/{organization}/people", headers=auth(tokens.admin)
                                   ).json()["items"][0]["id"]
    assert_problem(app_client.get(f"/api/v1/coaches/{client_person}", headers=auth(tokens.admin)), 404)
