"""People change after they are recorded: a lead joins the department they lead, someone moves departments,
an e-mail is learnt later (by hand or by an import)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api._helpers import assert_problem, create_organization, get_json, start_journey
from tests.api._imports import PEOPLE_HEADER, csv_file, imported, post_import
from tests.conftest import Tokens, auth


def _post(client: TestClient, token: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=payload, headers=auth(token))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_lead_recorded_before_the_department_joins_it_and_counts_as_a_pilot_member(
        app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    orgs = f"/api/v1/organizations/{journey.organization_id}"
    lead = _post(app_client, tokens.coach, f"{orgs}/people", {"name": "Lead Wang", "roles": ["department_lead"]})
    sales = _post(app_client, tokens.coach, f"{orgs}/departments",
                  {"name": "Sales", "is_pilot": True, "lead_id": lead["id"]})
    support = _post(app_client, tokens.coach, f"{orgs}/departments", {"name": "Support"})

    response = app_client.patch(f"{orgs}/people/{lead['id']}", json={"department_ids": [sales["id"], support["id"]]},
                                headers=auth(tokens.coach, **{"If-Match": '"v1"'}))
    assert response.status_code == 200, response.text
    assert response.json()["department_ids"] == sorted([sales["id"], support["id"]])
    assert response.headers["ETag"] == '"v2"'

    moved = app_client.patch(f"{orgs}/people/{lead['id']}", json={"department_ids": [sales["id"]]},
                             headers=auth(tokens.coach))
    assert moved.json()["department_ids"] == [sales["id"]]
    people = get_json(app_client, tokens.coach, f"{orgs}/people")["items"]
    assert [(p["name"], p["department_ids"]) for p in people] == [("Lead Wang", [sales["id"]])]


def test_person_changes_are_validated_and_guarded(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    orgs = f"/api/v1/organizations/{journey.organization_id}"
    person = _post(app_client, tokens.coach, f"{orgs}/people", {"name": "Amy"})
    stranger = create_organization(app_client, tokens.admin)
    foreign = _post(app_client, tokens.admin, f"/api/v1/organizations/{stranger['id']}/departments", {"name": "X"})
    path = f"{orgs}/people/{person['id']}"

    problem = assert_problem(app_client.patch(path, json={"department_ids": [foreign["id"]]},
                                              headers=auth(tokens.coach)), 422)
    assert problem["errors"][0]["field"] == "body.department_ids[0]"
    assert_problem(app_client.patch(path, json={"roles": ["emperor"]}, headers=auth(tokens.coach)), 422)
    assert_problem(app_client.patch(path, json={"name": None}, headers=auth(tokens.coach)), 422)
    assert_problem(app_client.patch(path, json={"name": "B"}, headers=auth(tokens.coach, **{"If-Match": '"v7"'})),
                   412)
    assert_problem(app_client.patch(path, json={"name": "B"}, headers=auth(tokens.other_coach)), 404)
    assert_problem(app_client.patch(f"/api/v1/organizations/{stranger['id']}/people/{person['id']}",
                                    json={"name": "B"}, headers=auth(tokens.admin)), 404)

    unchanged = get_json(app_client, tokens.coach, f"{orgs}/people")["items"][0]
    assert (unchanged["name"], unchanged["roles"], unchanged["department_ids"], unchanged["version"]) == (
        "Amy", ["member"], [], 1)


def test_an_import_with_e_mails_completes_people_recorded_by_name_instead_of_duplicating_them(
        app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    orgs = f"/api/v1/organizations/{journey.organization_id}"
    amy = _post(app_client, tokens.coach, f"{orgs}/people", {"name": "陳雅婷"})

    result = imported(post_import(app_client, tokens.coach, journey.organization_id, "people",
                                  csv_file(PEOPLE_HEADER, ["陳雅婷", "amy@client.example", "", ""])))

    assert (result["created"], result["updated"], result["ids"]) == (0, 1, [amy["id"]])
    people = get_json(app_client, tokens.coach, f"{orgs}/people")["items"]
    assert [(p["id"], p["email"]) for p in people] == [(amy["id"], "amy@client.example")]
    again = imported(post_import(app_client, tokens.coach, journey.organization_id, "people",
                                 csv_file(PEOPLE_HEADER, ["陳雅婷", "amy@client.example", "", ""])))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
