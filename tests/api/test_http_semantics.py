"""HTTP as a generated client expects it (RFC 9110 and the API's own contract), on SQLite and PostgreSQL: which
methods a path allows, ids no row can have, null where the document says null, lost If-Match races, cursors of
one list sent to another, Idempotency-Key on every write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from okr_rollout.models import Event
from okr_rollout.organizations import service as organizations
from okr_rollout.organizations.schemas import OrganizationUpdate
from tests.api._helpers import (
    assert_problem,
    collect_pages,
    create_organization,
    error_fields,
    event_types,
    get_json,
    start_journey,
)
from tests.api.test_concurrency import ADMIN, blocking_point, race, while_holding
from tests.conftest import Clock, Tokens, auth

ORGS = "/api/v1/organizations"
ENGAGEMENTS = "/api/v1/engagements"
# The first number past a 32-bit INTEGER id, the first past a 64-bit one, and one far beyond both.
OUT_OF_RANGE = ("2147483648", "9223372036854775808", "123456789012345678901234567890")


# --- 405 -------------------------------------------------------------------------------------------


def test_a_method_the_path_does_not_answer_is_405_with_allow_naming_every_method(
    app_client: TestClient, tokens: Tokens
) -> None:
    org = create_organization(app_client, tokens.admin)
    cases = [
        ("PUT", ORGS, "GET, POST"),
        ("DELETE", ORGS, "GET, POST"),
        ("DELETE", f"{ORGS}/{org['id']}", "GET, PATCH"),
        ("GET", f"{ENGAGEMENTS}/1/transitions", "POST"),
        ("PUT", "/api/v1/webhook-subscriptions/1", "DELETE, GET"),
        ("PUT", "/", "GET"),  # a page
        ("POST", "/static/app.js", "GET, HEAD"),  # a file the pages load
    ]
    for method, path, allowed in cases:
        response = app_client.request(method, path, headers=auth(tokens.admin))
        problem = assert_problem(response, 405, slug="method-not-allowed")
        assert ", ".join(sorted(response.headers["allow"].split(", "))) == allowed, (method, path)
        assert method in problem["detail"]


def test_a_key_already_used_on_the_path_does_not_hide_the_405(app_client: TestClient, tokens: Tokens) -> None:
    headers = {**auth(tokens.admin), "Idempotency-Key": "one-key-for-everything"}
    created = app_client.post(ORGS, json={"name": "Keyed", "headcount": 10}, headers=headers)
    assert created.status_code == 201, created.text
    response = app_client.put(ORGS, json={"name": "Keyed"}, headers=headers)
    assert_problem(response, 405, slug="method-not-allowed")
    assert response.headers["allow"] == "GET, POST"


# --- ids no row can have -----------------------------------------------------------------------


def test_ids_beyond_what_a_row_can_have_are_404_like_any_unknown_id(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    for number in OUT_OF_RANGE:
        reads = [f"{ORGS}/{number}", f"{ENGAGEMENTS}/{number}", f"{ENGAGEMENTS}/{number}/tasks",
                 f"{ENGAGEMENTS}/{journey.engagement_id}/meetings/{number}", f"/api/v1/webhook-subscriptions/{number}"]
        for path in reads:
            problem = assert_problem(app_client.get(path, headers=auth(tokens.admin)), 404, slug="not-found")
            assert problem["instance"] == path
        writes = [("PATCH", f"{ORGS}/{number}", {"name": "Renamed"}),
                  ("PATCH", f"{ORGS}/{journey.organization_id}/people/{number}", {"name": "Renamed"}),
                  ("PATCH", f"/api/v1/tasks/{number}", {"done": True}),
                  ("POST", f"{ENGAGEMENTS}/{number}/transitions", {"trigger": "schedule_executive_meeting"}),
                  ("DELETE", f"/api/v1/webhook-subscriptions/{number}", None)]
        for method, path, body in writes:
            assert_problem(app_client.request(method, path, json=body, headers=auth(tokens.admin)), 404)
        # A filter naming such an id is refused naming the parameter, alike on both databases.
        for path, field in ((f"{ENGAGEMENTS}?organization_id={number}", "query.organization_id"),
                            (f"{ENGAGEMENTS}?coach_id={number}", "query.coach_id"),
                            (f"{ENGAGEMENTS}/{journey.engagement_id}/okrs?quarter_id={number}", "query.quarter_id")):
            problem = assert_problem(app_client.get(path, headers=auth(tokens.admin)), 422)
            assert error_fields(problem) == [field]
    # Without a valid token the answer stays 401, as for any id.
    assert_problem(app_client.get(f"{ORGS}/{OUT_OF_RANGE[0]}"), 401)
    assert get_json(app_client, tokens.admin, f"{ENGAGEMENTS}/{journey.engagement_id}")["phase"] == "coach_engaged"


# --- null where the document says null, and only there ------------------------------------------


def _request_schema(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return _resolved(document, schema)


def _resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        target: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def _allows_null(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = _resolved(document, schema)
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_allows_null(document, branch) for branch in schema.get("anyOf", []) + schema.get("oneOf", []))


UPDATES = [
    ("/api/v1/organizations/{organization_id}", "OrganizationUpdate"),
    ("/api/v1/organizations/{organization_id}/people/{person_id}", "PersonUpdate"),
    ("/api/v1/organizations/{organization_id}/departments/{department_id}", "DepartmentUpdate"),
    ("/api/v1/tasks/{task_id}", "TaskUpdate"),
]
REFUSING_NULL = {
    "OrganizationUpdate": {"name", "headcount", "timezone", "strategies", "challenges"},
    "PersonUpdate": {"name", "roles", "department_ids", "locale"},
    "DepartmentUpdate": {"name", "is_pilot"},
    "TaskUpdate": {"done", "due_at"},
    "DraftingGroupUpdate": {"member_ids", "started_on"},
    "AppointmentUpdate": {"trained", "ready"},
}


def test_update_schemas_declare_null_only_where_the_server_accepts_it(app_client: TestClient) -> None:
    document = app_client.get("/openapi.json").json()
    operations = {"DraftingGroupUpdate": "/api/v1/engagements/{engagement_id}/drafting-groups/{group_id}",
                  "AppointmentUpdate": "/api/v1/engagements/{engagement_id}/appointments/{appointment_id}",
                  **{name: path for path, name in UPDATES}}
    for name, path in operations.items():
        properties = _request_schema(document, path, "patch")["properties"]
        refusing = {field for field, schema in properties.items() if not _allows_null(document, schema)}
        assert refusing == REFUSING_NULL[name], name
        for field in refusing:
            assert "default" not in _resolved(document, properties[field]), (name, field)


def test_the_server_refuses_null_exactly_where_the_document_does(app_client: TestClient, tokens: Tokens) -> None:
    """Every field of every update, sent as null: 422 naming it where the document refuses null, else accepted."""
    journey = start_journey(app_client, tokens)
    org_id = journey.organization_id
    person = app_client.post(f"{ORGS}/{org_id}/people", json={"name": "Wang"}, headers=auth(tokens.admin)).json()
    department = app_client.post(f"{ORGS}/{org_id}/departments", json={"name": "Sales"},
                                 headers=auth(tokens.admin)).json()
    task = collect_pages(app_client, tokens.admin, f"{ENGAGEMENTS}/{journey.engagement_id}/tasks")[0]
    concrete = {"organization_id": org_id, "person_id": person["id"], "department_id": department["id"],
                "task_id": task["id"]}
    document = app_client.get("/openapi.json").json()
    for path, name in UPDATES:
        target = path.format(**concrete)
        for field, schema in _request_schema(document, path, "patch")["properties"].items():
            response = app_client.patch(target, json={field: None}, headers=auth(tokens.admin))
            if _allows_null(document, schema):
                assert response.status_code == 200, (name, field, response.text)
            else:
                problem = assert_problem(response, 422)
                assert error_fields(problem) == [f"body.{field}"], (name, field)


# --- a lost If-Match race ------------------------------------------------------------------------


def test_racing_patches_with_the_one_valid_if_match_one_wins_the_others_get_412(
    app_client: TestClient, tokens: Tokens
) -> None:
    for _ in range(3):
        org = create_organization(app_client, tokens.admin)
        path = f"{ORGS}/{org['id']}"

        def rename(name: str, path: str = path) -> Callable[[], Response]:
            return lambda: app_client.patch(path, json={"name": name},
                                            headers=auth(tokens.admin, **{"If-Match": '"v1"'}))

        responses = race(*(rename(f"Name {i}") for i in range(4)))

        assert sorted(r.status_code for r in responses) == [200, 412, 412, 412], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200)
        for loser in (r for r in responses if r.status_code != 200):
            assert_problem(loser, 412, slug="precondition-failed")
        assert get_json(app_client, tokens.admin, path)["name"] == winner.json()["name"]
        assert get_json(app_client, tokens.admin, path)["version"] == 2


def test_a_patch_that_read_the_version_before_another_committed_is_412(
    app_client: TestClient, tokens: Tokens, engine: Engine, clock: Clock
) -> None:
    """The request reads version 1 (PostgreSQL: the other change is not committed yet), then waits at its UPDATE
    for the other to commit: its precondition failed, so 412, not 409. (SQLite: it waits at its start and reads
    version 2.)"""
    org = create_organization(app_client, tokens.admin)
    now: datetime = clock()

    def first(session: Session) -> None:
        organization = organizations.visible_organization(session, ADMIN, org["id"])
        organizations.update_organization(session, ADMIN, organization, OrganizationUpdate(name="First"), now)

    response = while_holding(
        engine, first,
        lambda: app_client.patch(f"{ORGS}/{org['id']}", json={"name": "Second"},
                                 headers=auth(tokens.admin, **{"If-Match": '"v1"'})),
        blocking_point("UPDATE organizations"),
    )

    assert_problem(response, 412, slug="precondition-failed")
    assert get_json(app_client, tokens.admin, f"{ORGS}/{org['id']}")["name"] == "First"


# --- cursors belong to their list -------------------------------------------------------------------


def _first_cursor(client: TestClient, token: str, path: str) -> str:
    page = client.get(path, params={"limit": 1}, headers=auth(token)).json()
    cursor: str = page["next_cursor"]
    assert cursor, page
    return cursor


def test_a_cursor_of_one_list_is_refused_on_another(app_client: TestClient, tokens: Tokens) -> None:
    one = start_journey(app_client, tokens)
    two = start_journey(app_client, tokens)
    organizations_cursor = _first_cursor(app_client, tokens.admin, ORGS)
    tasks_of_one = _first_cursor(app_client, tokens.admin, f"{ENGAGEMENTS}/{one.engagement_id}/tasks")
    portfolio_cursor = _first_cursor(app_client, tokens.admin, "/api/v1/portfolio")
    refused = [
        (f"{ENGAGEMENTS}", organizations_cursor),
        (f"{ORGS}/{one.organization_id}/people", organizations_cursor),
        (f"{ENGAGEMENTS}/{two.engagement_id}/tasks", tasks_of_one),
        (ORGS, tasks_of_one),
        ("/api/v1/portfolio", organizations_cursor),
        (ORGS, portfolio_cursor),
    ]
    for path, cursor in refused:
        response = app_client.get(path, params={"cursor": cursor}, headers=auth(tokens.admin))
        problem = assert_problem(response, 422, slug="validation-error")
        assert error_fields(problem) == ["query.cursor"], path
    chinese = app_client.get(ENGAGEMENTS, params={"cursor": organizations_cursor},
                             headers=auth(tokens.admin, **{"Accept-Language": "zh-TW"}))
    assert "另一個清單" in assert_problem(chinese, 422)["errors"][0]["message"]
    # On its own list it goes on where it stopped.
    rest = app_client.get(ORGS, params={"cursor": organizations_cursor}, headers=auth(tokens.admin)).json()
    assert [o["id"] for o in rest["items"]] == [two.organization_id]


# --- Idempotency-Key on every write -----------------------------------------------------------------


def test_a_patch_retried_with_its_idempotency_key_is_replayed_and_changes_once(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session]
) -> None:
    org = create_organization(app_client, tokens.admin)
    path = f"{ORGS}/{org['id']}"
    headers = auth(tokens.integration, **{"Idempotency-Key": "rename-1", "If-Match": '"v1"'})
    first = app_client.patch(path, json={"name": "Renamed", "headcount": 41}, headers=headers)
    assert first.status_code == 200, first.text
    # The retry carries the same If-Match, now stale: it is the same request, so it gets the first answer.
    second = app_client.patch(path, json={"name": "Renamed", "headcount": 41}, headers=headers)
    assert second.status_code == 200, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"] == '"v2"'
    assert get_json(app_client, tokens.admin, path)["version"] == 2
    other = app_client.patch(path, json={"name": "Other"}, headers=headers)
    assert_problem(other, 422)
    with db() as session:
        changes = session.scalars(select(Event.type).where(Event.organization_id == org["id"],
                                                           Event.type == "organization.updated")).all()
    assert changes == ["organization.updated"]


def test_a_delete_retried_with_its_idempotency_key_is_replayed(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens, coach_ids=[tokens.coach_person_id, tokens.other_coach_person_id])
    path = f"{ENGAGEMENTS}/{journey.engagement_id}/coaches/{tokens.other_coach_person_id}"
    headers = auth(tokens.admin, **{"Idempotency-Key": "unassign-lin"})
    first = app_client.delete(path, headers=headers)
    assert first.status_code == 200, first.text
    second = app_client.delete(path, headers=headers)
    assert second.status_code == 200, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    # Without the key, the same request is a new one: the coach is no longer there.
    assert app_client.delete(path, headers=auth(tokens.admin)).status_code == 404
    assert event_types(app_client, tokens.admin, journey.engagement_id).count("engagement.coach_unassigned") == 1


def test_an_idempotency_key_too_long_is_refused_on_every_write(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    long_key = auth(tokens.admin, **{"Idempotency-Key": "k" * 256})
    path = f"{ORGS}/{journey.organization_id}"
    assert_problem(app_client.patch(path, json={"name": "X"}, headers=long_key), 422)
    coach = f"{ENGAGEMENTS}/{journey.engagement_id}/coaches/{tokens.coach_person_id}"
    assert_problem(app_client.delete(coach, headers=long_key), 422)
    assert get_json(app_client, tokens.admin, path)["name"] != "X"
    assert get_json(app_client, tokens.admin, f"{ENGAGEMENTS}/{journey.engagement_id}")["coach_ids"] == [
        tokens.coach_person_id]
