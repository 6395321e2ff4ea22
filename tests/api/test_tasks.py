"""Tasks and their checklists: what a coach ticks off during a phase."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api._helpers import (
    RFC3339_UTC,
    assert_problem,
    collect_pages,
    create_organization,
    error_fields,
    event_types,
    get_json,
    start_journey,
)
from tests.conftest import Clock, Tokens, auth

ENGAGEMENTS = "/api/v1/engagements"


def first_task(client: TestClient, tokens: Tokens, engagement_id: int) -> dict[str, Any]:
    task: dict[str, Any] = collect_pages(client, tokens.coach, f"{ENGAGEMENTS}/{engagement_id}/tasks")[0]
    assert task["key"] == "confirm_engagement"
    return task


def stored_task(client: TestClient, tokens: Tokens, engagement_id: int, task_id: int) -> dict[str, Any]:
    tasks = collect_pages(client, tokens.admin, f"{ENGAGEMENTS}/{engagement_id}/tasks")
    return next(t for t in tasks if t["id"] == task_id)


def add_person(client: TestClient, tokens: Tokens, organization_id: int, name: str) -> int:
    response = client.post(f"/api/v1/organizations/{organization_id}/people", json={"name": name},
                           headers=auth(tokens.admin))
    assert response.status_code == 201, response.text
    person_id: int = response.json()["id"]
    return person_id


def test_tasks_list_pages_through_every_task(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    tasks = collect_pages(app_client, tokens.coach, f"{ENGAGEMENTS}/{journey.engagement_id}/tasks", limit=1)
    assert [t["key"] for t in tasks] == ["confirm_engagement", "collect_background"]
    for task in tasks:
        assert task["engagement_id"] == journey.engagement_id
        assert task["done"] is False
        assert task["title"]["en"] and task["title"]["zh-TW"]
        assert task["version"] == 1


def test_marking_a_task_done_closes_it(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    journey = start_journey(app_client, tokens)
    task = first_task(app_client, tokens, journey.engagement_id)
    clock.advance(days=1)
    response = app_client.patch(f"/api/v1/tasks/{task['id']}", json={"done": True},
                                headers=auth(tokens.coach, **{"If-Match": '"v1"'}))
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"v2"'
    body = response.json()
    assert body["done"] is True
    assert body["done_at"] == "2026-01-06T09:00:00Z"
    assert body["version"] == 2
    assert stored_task(app_client, tokens, journey.engagement_id, task["id"]) == body
    engagement = get_json(app_client, tokens.coach, f"{ENGAGEMENTS}/{journey.engagement_id}")
    assert [t["key"] for t in engagement["open_tasks"]] == ["collect_background"]
    assert event_types(app_client, tokens.admin, journey.engagement_id)[-1] == "task.updated"

    reopened = app_client.patch(f"/api/v1/tasks/{task['id']}", json={"done": False}, headers=auth(tokens.coach))
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["done"] is False
    assert reopened.json()["done_at"] is None


def test_assigning_a_task(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    task = first_task(app_client, tokens, journey.engagement_id)
    sponsor = add_person(app_client, tokens, journey.organization_id, "Sponsor")
    response = app_client.patch(f"/api/v1/tasks/{task['id']}", json={"assignee_id": sponsor},
                                headers=auth(tokens.coach))
    assert response.status_code == 200, response.text
    assert response.json()["assignee_id"] == sponsor
    # An external coach (no organization) may be assigned too; null unassigns.
    coach = app_client.patch(f"/api/v1/tasks/{task['id']}", json={"assignee_id": tokens.coach_person_id},
                             headers=auth(tokens.coach))
    assert coach.json()["assignee_id"] == tokens.coach_person_id
    cleared = app_client.patch(f"/api/v1/tasks/{task['id']}", json={"assignee_id": None}, headers=auth(tokens.coach))
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["assignee_id"] is None
    assert stored_task(app_client, tokens, journey.engagement_id, task["id"])["assignee_id"] is None


def test_assignee_of_another_organization_or_unknown_is_422(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    task = first_task(app_client, tokens, journey.engagement_id)
    other = create_organization(app_client, tokens.admin)
    stranger = add_person(app_client, tokens, other["id"], "Stranger")
    for assignee in (stranger, 987654):
        problem = assert_problem(app_client.patch(f"/api/v1/tasks/{task['id']}", json={"assignee_id": assignee},
                                                  headers=auth(tokens.coach)), 422)
        assert error_fields(problem) == ["body.assignee_id"]
    assert stored_task(app_client, tokens, journey.engagement_id, task["id"]) == task


def test_moving_a_due_date(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    task = first_task(app_client, tokens, journey.engagement_id)
    response = app_client.patch(f"/api/v1/tasks/{task['id']}", json={"due_at": "2026-02-01T09:00:00Z"},
                                headers=auth(tokens.coach))
    assert response.status_code == 200, response.text
    assert response.json()["due_at"] == "2026-02-01T09:00:00Z"
    assert stored_task(app_client, tokens, journey.engagement_id, task["id"])["due_at"] == "2026-02-01T09:00:00Z"


def test_a_due_date_given_with_an_offset_is_answered_in_utc(app_client: TestClient, tokens: Tokens) -> None:
    """The PATCH response must show the same (UTC) time a later GET shows."""
    journey = start_journey(app_client, tokens)
    task = first_task(app_client, tokens, journey.engagement_id)
    response = app_client.patch(f"/api/v1/tasks/{task['id']}", json={"due_at": "2026-02-01T17:00:00+08:00"},
                                headers=auth(tokens.coach))
    assert response.status_code == 200, response.text
    assert stored_task(app_client, tokens, journey.engagement_id, task["id"])["due_at"] == "2026-02-01T09:00:00Z"
    assert RFC3339_UTC.match(response.json()["due_at"]), response.json()["due_at"]
    assert response.json()["due_at"] == "2026-02-01T09:00:00Z"


def test_task_update_refusals(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    task = first_task(app_client, tokens, journey.engagement_id)
    path = f"/api/v1/tasks/{task['id']}"
    for payload, field in [({"due_at": "2026-02-01T09:00:00"}, "body.due_at"),
                           ({"due_at": "next tuesday"}, "body.due_at"),
                           ({"due_at": None}, "body.due_at"),
                           ({"done": None}, "body.done"),
                           ({"done": "perhaps"}, "body.done"),
                           ({"title": "mine now"}, "body.title")]:
        problem = assert_problem(app_client.patch(path, json=payload, headers=auth(tokens.coach)), 422)
        assert error_fields(problem) == [field], payload
    assert_problem(app_client.patch(path, json={"done": True}, headers=auth(tokens.coach, **{"If-Match": '"v9"'})),
                   412)
    assert_problem(app_client.patch("/api/v1/tasks/987654", json={"done": True}, headers=auth(tokens.coach)), 404)
    assert stored_task(app_client, tokens, journey.engagement_id, task["id"]) == task
    assert event_types(app_client, tokens.admin, journey.engagement_id) == ["engagement.created"]


def test_checking_a_checklist_item(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    journey = start_journey(app_client, tokens)
    task = first_task(app_client, tokens, journey.engagement_id)
    item = task["checklist"][1]
    clock.advance(hours=5)
    response = app_client.patch(f"/api/v1/tasks/{task['id']}/checklist/{item['id']}", json={"checked": True},
                                headers=auth(tokens.coach))
    assert response.status_code == 200, response.text
    body = response.json()
    checked = {i["key"]: (i["checked"], i["checked_at"]) for i in body["checklist"]}
    assert checked == {"agree_scope": (False, None), "record_organization": (True, "2026-01-05T14:00:00Z"),
                       "assign_coach": (False, None)}
    assert stored_task(app_client, tokens, journey.engagement_id, task["id"])["checklist"] == body["checklist"]
    events = collect_pages(app_client, tokens.admin, f"{ENGAGEMENTS}/{journey.engagement_id}/events")
    assert events[-1]["type"] == "checklist.checked"
    assert events[-1]["payload"] == {"task_id": task["id"], "item_id": item["id"]}

    unchecked = app_client.patch(f"/api/v1/tasks/{task['id']}/checklist/{item['id']}", json={"checked": False},
                                 headers=auth(tokens.coach))
    assert unchecked.status_code == 200, unchecked.text
    assert unchecked.json()["checklist"][1]["checked"] is False
    assert unchecked.json()["checklist"][1]["checked_at"] is None
    assert event_types(app_client, tokens.admin, journey.engagement_id)[-1] == "checklist.unchecked"


def test_checklist_refusals(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    tasks = collect_pages(app_client, tokens.admin, f"{ENGAGEMENTS}/{journey.engagement_id}/tasks")
    first, second = tasks
    item_of_second = second["checklist"][0]["id"]
    # An item of another task is not an item of this one.
    assert_problem(app_client.patch(f"/api/v1/tasks/{first['id']}/checklist/{item_of_second}",
                                    json={"checked": True}, headers=auth(tokens.coach)), 404)
    item = first["checklist"][0]["id"]
    path = f"/api/v1/tasks/{first['id']}/checklist/{item}"
    problem = assert_problem(app_client.patch(path, json={}, headers=auth(tokens.coach)), 422)
    assert error_fields(problem) == ["body.checked"]
    problem = assert_problem(app_client.patch(path, json={"checked": "maybe"}, headers=auth(tokens.coach)), 422)
    assert error_fields(problem) == ["body.checked"]
    assert_problem(app_client.patch(path, json={"checked": True}, headers=auth(tokens.coach, **{"If-Match": '"v5"'})),
                   412)
    assert collect_pages(app_client, tokens.admin, f"{ENGAGEMENTS}/{journey.engagement_id}/tasks") == tasks
    assert event_types(app_client, tokens.admin, journey.engagement_id) == ["engagement.created"]


def test_checking_an_item_changes_the_task_version(app_client: TestClient, tokens: Tokens) -> None:
    """The task's representation (ETag, version) includes its checklist: a client holding the ETag read before
    an item was checked holds a stale one, and its conditional write must be refused."""
    journey = start_journey(app_client, tokens)
    task = first_task(app_client, tokens, journey.engagement_id)
    item = task["checklist"][0]["id"]
    response = app_client.patch(f"/api/v1/tasks/{task['id']}/checklist/{item}", json={"checked": True},
                                headers=auth(tokens.coach, **{"If-Match": '"v1"'}))
    assert response.status_code == 200, response.text
    assert response.json()["version"] > task["version"]
    assert response.headers["etag"] != '"v1"'
    stale = app_client.patch(f"/api/v1/tasks/{task['id']}/checklist/{item}", json={"checked": False},
                             headers=auth(tokens.coach, **{"If-Match": '"v1"'}))
    assert_problem(stale, 412)
    assert stored_task(app_client, tokens, journey.engagement_id, task["id"])["checklist"][0]["checked"] is True
