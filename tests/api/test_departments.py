"""Departments change after creation: the kickoff chooses the pilots among departments recorded earlier."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api._helpers import assert_problem, create_organization, get_json, start_journey
from tests.conftest import Tokens, auth


def _department(client: TestClient, token: str, organization_id: int, name: str) -> dict[str, object]:
    response = client.post(f"/api/v1/organizations/{organization_id}/departments", json={"name": name},
                           headers=auth(token))
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_department_chosen_as_pilot_at_the_kickoff_counts_for_the_pilot_gate(
        app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    sales = _department(app_client, tokens.coach, journey.organization_id, "Sales")
    assert sales["is_pilot"] is False

    response = app_client.patch(f"/api/v1/organizations/{journey.organization_id}/departments/{sales['id']}",
                                json={"is_pilot": True}, headers=auth(tokens.coach, **{"If-Match": '"v1"'}))

    assert response.status_code == 200, response.text
    assert response.json()["is_pilot"] is True
    assert response.headers["ETag"] == '"v2"'
    listed = get_json(app_client, tokens.coach, f"/api/v1/organizations/{journey.organization_id}/departments")
    assert [d["is_pilot"] for d in listed["items"]] == [True]


def test_department_changes_are_validated_and_guarded(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    sales = _department(app_client, tokens.coach, journey.organization_id, "Sales")
    _department(app_client, tokens.coach, journey.organization_id, "Support")
    path = f"/api/v1/organizations/{journey.organization_id}/departments/{sales['id']}"
    stranger = create_organization(app_client, tokens.admin)
    outsider = app_client.post(f"/api/v1/organizations/{stranger['id']}/people", json={"name": "Outsider"},
                               headers=auth(tokens.admin)).json()

    foreign = assert_problem(app_client.patch(path, json={"lead_id": outsider["id"]}, headers=auth(tokens.coach)),
                             422)
    assert foreign["errors"][0]["field"] == "body.lead_id"
    assert_problem(app_client.patch(path, json={"name": "Support"}, headers=auth(tokens.coach)), 409)
    assert_problem(app_client.patch(path, json={"is_pilot": None}, headers=auth(tokens.coach)), 422)
    assert_problem(app_client.patch(path, json={"is_pilot": True}, headers=auth(tokens.coach, **{"If-Match": '"v9"'})),
                   412)
    assert_problem(app_client.patch(path, json={"is_pilot": True}, headers=auth(tokens.other_coach)), 404)
    other = f"/api/v1/organizations/{stranger['id']}/departments/{sales['id']}"
    assert_problem(app_client.patch(other, json={"is_pilot": True}, headers=auth(tokens.admin)), 404)

    unchanged = get_json(app_client, tokens.coach, f"/api/v1/organizations/{journey.organization_id}/departments")
    assert [(d["name"], d["is_pilot"], d["lead_id"], d["version"]) for d in unchanged["items"]] == [
        ("Sales", False, None, 1), ("Support", False, None, 1)]
