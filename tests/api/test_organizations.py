"""Organizations, people and departments: what a CRM pushes and reads back."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from tests.api._helpers import (
    assert_problem,
    collect_pages,
    create_organization,
    error_fields,
    get_json,
    start_journey,
)
from tests.conftest import Clock, Tokens, auth

ORGS = "/api/v1/organizations"


# --- organizations ---------------------------------------------------------------------------


def test_create_organization_returns_it_with_location_and_etag(app_client: TestClient, tokens: Tokens) -> None:
    response = app_client.post(ORGS, json={"name": "Acme", "headcount": 40, "timezone": "Asia/Taipei",
                                           "crm_id": "crm-1", "strategies": ["grow"]}, headers=auth(tokens.admin))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Acme"
    assert body["headcount"] == 40
    assert body["timezone"] == "Asia/Taipei"
    assert body["crm_id"] == "crm-1"
    assert body["strategies"] == ["grow"]
    assert body["version"] == 1
    assert response.headers["location"] == f"{ORGS}/{body['id']}"
    assert response.headers["etag"] == '"v1"'
    assert get_json(app_client, tokens.admin, f"{ORGS}/{body['id']}") == body


def test_integration_creates_organizations(app_client: TestClient, tokens: Tokens) -> None:
    body = create_organization(app_client, tokens.integration, crm_id="from-crm")
    assert get_json(app_client, tokens.integration, f"{ORGS}/{body['id']}")["crm_id"] == "from-crm"


def test_lookup_by_crm_id_finds_only_that_organization(app_client: TestClient, tokens: Tokens) -> None:
    create_organization(app_client, tokens.admin, crm_id="A-1")
    wanted = create_organization(app_client, tokens.admin, crm_id="B-2")
    create_organization(app_client, tokens.admin)
    page = get_json(app_client, tokens.integration, f"{ORGS}?crm_id=B-2")
    assert [o["id"] for o in page["items"]] == [wanted["id"]]
    assert page["next_cursor"] is None
    assert get_json(app_client, tokens.integration, f"{ORGS}?crm_id=nobody")["items"] == []


def test_duplicate_crm_id_is_409_and_creates_nothing(app_client: TestClient, tokens: Tokens) -> None:
    create_organization(app_client, tokens.admin, crm_id="dup")
    response = app_client.post(ORGS, json={"name": "Again", "headcount": 3, "crm_id": "dup"},
                               headers=auth(tokens.admin))
    assert_problem(response, 409)
    assert len(collect_pages(app_client, tokens.admin, ORGS)) == 1


def test_a_taken_crm_id_is_409_without_saying_whose_it_is(app_client: TestClient, tokens: Tokens) -> None:
    """The CRM id may be another tenant's: the refusal names neither that organization, its name, nor the id."""
    other = create_organization(app_client, tokens.admin, name="Other Tenant Ltd", crm_id="SECRET-CRM-7")
    mine = create_organization(app_client, tokens.integration, name="Mine", crm_id="mine-1")
    refusals = [
        app_client.post(ORGS, json={"name": "Again", "headcount": 3, "crm_id": "SECRET-CRM-7"},
                        headers=auth(tokens.integration)),
        app_client.patch(f"{ORGS}/{mine['id']}", json={"crm_id": "SECRET-CRM-7"}, headers=auth(tokens.integration)),
    ]
    for response in refusals:
        problem = assert_problem(response, 409, slug="conflict")
        assert problem["detail"] == "This crm_id is already in use."
        assert problem["errors"] == [{"field": "body.crm_id", "message": "is already in use", "type": "unique"}]
        assert set(problem) == {"type", "title", "status", "detail", "instance", "errors"}
        assert "SECRET-CRM-7" not in json.dumps(problem) and "Other Tenant" not in json.dumps(problem)
        assert problem["instance"] in (ORGS, f"{ORGS}/{mine['id']}") and mine["id"] != other["id"]
    assert get_json(app_client, tokens.admin, f"{ORGS}/{mine['id']}")["crm_id"] == "mine-1"


def test_only_administrators_and_integrations_change_a_crm_id(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session]
) -> None:
    """The id the CRM looks an organization up by: a coach or an internal coach may not re-point it (422 naming
    the field), though they may send it back unchanged along with other fields."""
    journey = start_journey(app_client, tokens, crm_id="crm-original")
    path = f"{ORGS}/{journey.organization_id}"
    person = app_client.post(f"{path}/people", json={"name": "Ida", "roles": ["internal_coach"]},
                             headers=auth(tokens.admin)).json()
    with db() as session:
        internal_coach, _ = create_token(session, role=Role.internal_coach, person_id=person["id"])
    for token in (tokens.coach, internal_coach):
        for crm_id in ("crm-hijacked", None):
            problem = assert_problem(app_client.patch(path, json={"crm_id": crm_id}, headers=auth(token)), 422)
            assert problem["errors"] == [{"field": "body.crm_id", "message": "may be changed only by an "
                                          "administrator or an integration", "type": "admin_only"}]
        unchanged = app_client.patch(path, json={"crm_id": "crm-original", "mission": "m"}, headers=auth(token))
        assert unchanged.status_code == 200, unchanged.text
    assert get_json(app_client, tokens.admin, path)["crm_id"] == "crm-original"
    for token, crm_id in ((tokens.integration, "crm-moved"), (tokens.admin, "crm-moved-again")):
        moved = app_client.patch(path, json={"crm_id": crm_id}, headers=auth(token))
        assert (moved.status_code, moved.json()["crm_id"]) == (200, crm_id), moved.text


def test_unknown_organization_is_404(app_client: TestClient, tokens: Tokens) -> None:
    assert_problem(app_client.get(f"{ORGS}/999999", headers=auth(tokens.admin)), 404, slug="not-found")
    assert_problem(app_client.patch(f"{ORGS}/999999", json={"name": "x"}, headers=auth(tokens.admin)), 404)


def test_create_organization_validation(app_client: TestClient, tokens: Tokens) -> None:
    cases = [
        ({"headcount": 3}, "body.name"),
        ({"name": "X", "headcount": 0}, "body.headcount"),
        ({"name": "X", "headcount": 3, "timezone": "Mars/Olympus"}, "body.timezone"),
        ({"name": "", "headcount": 3}, "body.name"),
    ]
    for payload, field in cases:
        problem = assert_problem(app_client.post(ORGS, json=payload, headers=auth(tokens.admin)), 422)
        assert field in error_fields(problem), (payload, problem)
    assert collect_pages(app_client, tokens.admin, ORGS) == []


def test_patch_organization_changes_only_given_fields(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    org = create_organization(app_client, tokens.admin, crm_id="keep", mission="old")
    clock.advance(days=2)
    response = app_client.patch(f"{ORGS}/{org['id']}", json={"mission": "Make OKRs stick", "headcount": 55},
                                headers=auth(tokens.admin, **{"If-Match": '"v1"'}))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mission"] == "Make OKRs stick"
    assert body["headcount"] == 55
    assert body["crm_id"] == "keep"
    assert body["name"] == org["name"]
    assert body["version"] == 2
    assert response.headers["etag"] == '"v2"'
    assert body["updated_at"] == "2026-01-07T09:00:00Z"
    assert body["created_at"] == org["created_at"]
    assert get_json(app_client, tokens.admin, f"{ORGS}/{org['id']}") == body


def test_patch_organization_refusals(app_client: TestClient, tokens: Tokens) -> None:
    create_organization(app_client, tokens.admin, crm_id="taken")
    org = create_organization(app_client, tokens.admin, crm_id="mine")
    path = f"{ORGS}/{org['id']}"
    assert_problem(app_client.patch(path, json={"crm_id": "taken"}, headers=auth(tokens.admin)), 409)
    problem = assert_problem(app_client.patch(path, json={"name": None}, headers=auth(tokens.admin)), 422)
    assert error_fields(problem) == ["body.name"]
    problem = assert_problem(app_client.patch(path, json={"color": "red"}, headers=auth(tokens.admin)), 422)
    assert error_fields(problem) == ["body.color"]
    assert get_json(app_client, tokens.admin, path) == org


def test_patch_without_changes_keeps_the_version(app_client: TestClient, tokens: Tokens) -> None:
    org = create_organization(app_client, tokens.admin, mission="same")
    response = app_client.patch(f"{ORGS}/{org['id']}", json={"mission": "same"}, headers=auth(tokens.admin))
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1


# --- people and departments -----------------------------------------------------------------


def test_departments_and_people(app_client: TestClient, tokens: Tokens) -> None:
    org = create_organization(app_client, tokens.admin)
    base = f"{ORGS}/{org['id']}"
    lead = app_client.post(f"{base}/people", json={"name": "Lee", "roles": ["department_lead"],
                                                   "email": "lee@example.com"}, headers=auth(tokens.admin))
    assert lead.status_code == 201, lead.text
    assert lead.json()["organization_id"] == org["id"]
    assert lead.json()["roles"] == ["department_lead"]
    assert lead.headers["etag"] == '"v1"'

    sales = app_client.post(f"{base}/departments", json={"name": "Sales", "is_pilot": True,
                                                         "lead_id": lead.json()["id"]}, headers=auth(tokens.admin))
    assert sales.status_code == 201, sales.text
    assert sales.json() | {"id": 0} == {"id": 0, "organization_id": org["id"], "name": "Sales", "is_pilot": True,
                                        "lead_id": lead.json()["id"], "version": 1}

    member = app_client.post(f"{base}/people", json={"name": "Mia", "department_ids": [sales.json()["id"]]},
                             headers=auth(tokens.admin))
    assert member.status_code == 201, member.text
    assert member.json()["department_ids"] == [sales.json()["id"]]
    assert member.json()["roles"] == ["member"]
    assert member.json()["locale"] == "en"

    people = collect_pages(app_client, tokens.admin, f"{base}/people")
    assert [(p["name"], p["department_ids"]) for p in people] == [("Lee", []), ("Mia", [sales.json()["id"]])]
    departments = collect_pages(app_client, tokens.admin, f"{base}/departments")
    assert [d["id"] for d in departments] == [sales.json()["id"]]


def test_person_in_a_department_of_another_organization_is_422(app_client: TestClient, tokens: Tokens) -> None:
    ours = create_organization(app_client, tokens.admin)
    theirs = create_organization(app_client, tokens.admin)
    foreign = app_client.post(f"{ORGS}/{theirs['id']}/departments", json={"name": "R&D"},
                              headers=auth(tokens.admin)).json()
    response = app_client.post(f"{ORGS}/{ours['id']}/people",
                               json={"name": "Ann", "department_ids": [foreign["id"]]}, headers=auth(tokens.admin))
    problem = assert_problem(response, 422)
    assert error_fields(problem) == ["body.department_ids[0]"]
    assert collect_pages(app_client, tokens.admin, f"{ORGS}/{ours['id']}/people") == []


def test_department_lead_of_another_organization_is_422(app_client: TestClient, tokens: Tokens) -> None:
    ours = create_organization(app_client, tokens.admin)
    theirs = create_organization(app_client, tokens.admin)
    stranger = app_client.post(f"{ORGS}/{theirs['id']}/people", json={"name": "Sam"},
                               headers=auth(tokens.admin)).json()
    response = app_client.post(f"{ORGS}/{ours['id']}/departments", json={"name": "Ops", "lead_id": stranger["id"]},
                               headers=auth(tokens.admin))
    problem = assert_problem(response, 422)
    assert error_fields(problem) == ["body.lead_id"]
    assert collect_pages(app_client, tokens.admin, f"{ORGS}/{ours['id']}/departments") == []


def test_duplicate_department_name_is_409(app_client: TestClient, tokens: Tokens) -> None:
    org = create_organization(app_client, tokens.admin)
    path = f"{ORGS}/{org['id']}/departments"
    assert app_client.post(path, json={"name": "Ops"}, headers=auth(tokens.admin)).status_code == 201
    assert_problem(app_client.post(path, json={"name": "Ops"}, headers=auth(tokens.admin)), 409)
    assert len(collect_pages(app_client, tokens.admin, path)) == 1


def test_person_validation_names_the_field(app_client: TestClient, tokens: Tokens) -> None:
    org = create_organization(app_client, tokens.admin)
    path = f"{ORGS}/{org['id']}/people"
    for payload, field in [({"name": "A", "roles": ["emperor"]}, "body.roles[0]"),
                           ({"name": "A", "email": "not-an-email"}, "body.email"),
                           ({"name": "A", "locale": "fr"}, "body.locale")]:
        problem = assert_problem(app_client.post(path, json=payload, headers=auth(tokens.admin)), 422)
        assert error_fields(problem) == [field], payload
    assert collect_pages(app_client, tokens.admin, path) == []


def test_people_and_departments_of_unknown_organization_are_404(app_client: TestClient, tokens: Tokens) -> None:
    for sub in ("people", "departments"):
        assert_problem(app_client.get(f"{ORGS}/424242/{sub}", headers=auth(tokens.admin)), 404)
        assert_problem(app_client.post(f"{ORGS}/424242/{sub}", json={"name": "X"}, headers=auth(tokens.admin)), 404)
