"""Small helpers shared by the API tests: create things over HTTP, check problem documents."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import count
from typing import Any
from urllib.parse import parse_qsl

from fastapi.testclient import TestClient
from httpx2 import Response

from tests.conftest import Tokens, auth

PROBLEM_JSON = "application/problem+json"
# RFC 3339 in UTC: a "Z" suffix (pydantic's rendering of UTC), optional fractional seconds.
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

_names = count(1)


@dataclass(frozen=True)
class Journey:
    """An organization with one engagement on the standard playbook."""

    organization_id: int
    engagement_id: int
    body: dict[str, Any]


def create_organization(client: TestClient, token: str, **fields: Any) -> dict[str, Any]:
    payload = {"name": f"Org {next(_names)}", "headcount": 40, **fields}
    response = client.post("/api/v1/organizations", json=payload, headers=auth(token))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def create_engagement(client: TestClient, token: str, organization_id: int, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/engagements", json={"organization_id": organization_id, **fields},
                           headers=auth(token))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def start_journey(client: TestClient, tokens: Tokens, *, coach_ids: list[int] | None = None,
                  **org_fields: Any) -> Journey:
    """An organization and its engagement, created by the admin; coached by ``tokens.coach`` by default."""
    organization = create_organization(client, tokens.admin, **org_fields)
    coaches = [tokens.coach_person_id] if coach_ids is None else coach_ids
    engagement = create_engagement(client, tokens.admin, organization["id"], coach_ids=coaches)
    return Journey(organization["id"], engagement["id"], engagement)


def fire(client: TestClient, token: str, engagement_id: int, trigger: str, **headers: str) -> Response:
    return client.post(f"/api/v1/engagements/{engagement_id}/transitions", json={"trigger": trigger},
                       headers=auth(token, **headers))


def get_json(client: TestClient, token: str, path: str) -> Any:
    response = client.get(path, headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def event_types(client: TestClient, token: str, engagement_id: int) -> list[str]:
    return [e["type"] for e in collect_pages(client, token, f"/api/v1/engagements/{engagement_id}/events")]


def collect_pages(client: TestClient, token: str, path: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Follow next_cursor to the end; returns every item, in order."""
    path, _, query = path.partition("?")
    fixed: list[tuple[str, str | int | float | bool | None]] = list(parse_qsl(query))
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        params = [*fixed, ("limit", str(limit))] + ([("cursor", cursor)] if cursor is not None else [])
        response = client.get(path, params=params, headers=auth(token))
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination never ended")


def assert_problem(response: Response, status: int, *, slug: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem document with the given status; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if slug is not None:
        assert body["type"] == f"/problems/{slug}"
    return body


def error_fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem.get("errors") or []]


def times_in(value: Any, key: str = "") -> list[tuple[str, str]]:
    """Every (key, value) pair of a JSON document whose key names a time (``*_at``)."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k.endswith("_at") and v is not None:
                found.append((k, v))
            found.extend(times_in(v, k))
    elif isinstance(value, list):
        for item in value:
            found.extend(times_in(item, key))
    return found


def documented_answer(document: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """An answer of an operation in the OpenAPI document, a shared one (``$ref`` to components) followed."""
    while "$ref" in answer:
        section, name = answer["$ref"].split("/")[-2:]
        answer = document["components"][section][name]
    return answer
