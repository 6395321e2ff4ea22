"""Helpers of the coaching-record API tests: a client organization with people, records over HTTP, gates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session

from okr_rollout.journey.machine import enter_phase
from okr_rollout.models import Engagement
from tests.api._helpers import assert_problem, collect_pages, create_engagement, create_organization, get_json
from tests.conftest import Tokens, auth

ENGAGEMENTS = "/api/v1/engagements"
MODULES = ["basic_concepts", "deep_principles", "case_studies", "practice_and_coaching"]


@dataclass(frozen=True)
class Client:
    """An organization with a pilot department, a non-pilot department, a CEO, and one engagement."""

    organization_id: int
    engagement_id: int
    ceo_id: int
    pilot_department_id: int
    pilot_ids: list[int]
    other_department_id: int
    other_ids: list[int] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"{ENGAGEMENTS}/{self.engagement_id}"


def add_person(client: TestClient, token: str, organization_id: int, **fields: Any) -> int:
    response = client.post(f"/api/v1/organizations/{organization_id}/people",
                           json={"name": "Someone", **fields}, headers=auth(token))
    assert response.status_code == 201, response.text
    person_id: int = response.json()["id"]
    return person_id


def add_department(client: TestClient, token: str, organization_id: int, **fields: Any) -> int:
    response = client.post(f"/api/v1/organizations/{organization_id}/departments",
                           json={"name": "Department", **fields}, headers=auth(token))
    assert response.status_code == 201, response.text
    department_id: int = response.json()["id"]
    return department_id


def client_organization(client: TestClient, tokens: Tokens, *, pilot_members: int = 5, other_members: int = 2,
                        playbook: str = "standard", headcount: int = 40) -> Client:
    """An organization coached by ``tokens.coach``: ``pilot_members`` people in one pilot department."""
    organization = create_organization(client, tokens.admin, headcount=headcount)
    org_id = organization["id"]
    pilot = add_department(client, tokens.admin, org_id, name="Sales", is_pilot=True)
    other = add_department(client, tokens.admin, org_id, name="Finance", is_pilot=False)
    ceo = add_person(client, tokens.admin, org_id, name="CEO", roles=["ceo", "executive"])
    pilot_ids = [add_person(client, tokens.admin, org_id, name=f"Pilot {i}", department_ids=[pilot])
                 for i in range(pilot_members)]
    other_ids = [add_person(client, tokens.admin, org_id, name=f"Other {i}", department_ids=[other])
                 for i in range(other_members)]
    engagement = create_engagement(client, tokens.admin, org_id, coach_ids=[tokens.coach_person_id],
                                   playbook=playbook)
    return Client(org_id, engagement["id"], ceo, pilot, pilot_ids, other, other_ids)


def foreign_person(client: TestClient, tokens: Tokens) -> int:
    """A person of another organization."""
    organization = create_organization(client, tokens.admin)
    return add_person(client, tokens.admin, organization["id"], name="Stranger")


def place_in_phase(db: Callable[[], Session], engagement_id: int, phase: str, at: datetime) -> None:
    """Put an engagement in a phase the way the journey service does (through ``enter_phase``)."""
    with db() as session:
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None
        enter_phase(engagement, phase, at)


def post(client: TestClient, token: str, engagement_id: int, collection: str, body: dict[str, Any]) -> Response:
    return client.post(f"{ENGAGEMENTS}/{engagement_id}/{collection}", json=body, headers=auth(token))


def create(client: TestClient, token: str, engagement_id: int, collection: str, body: dict[str, Any]
           ) -> dict[str, Any]:
    response = post(client, token, engagement_id, collection, body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def patch(client: TestClient, token: str, path: str, body: dict[str, Any], **headers: str) -> Response:
    return client.patch(path, json=body, headers=auth(token, **headers))


def listed(client: TestClient, token: str, engagement_id: int, collection: str) -> list[dict[str, Any]]:
    return collect_pages(client, token, f"{ENGAGEMENTS}/{engagement_id}/{collection}")


def events(client: TestClient, token: str, engagement_id: int) -> list[dict[str, Any]]:
    return collect_pages(client, token, f"{ENGAGEMENTS}/{engagement_id}/events")


def refused(response: Response, *expected: tuple[str, str]) -> dict[str, Any]:
    """A 422 problem whose errors name exactly these (field, rule) pairs."""
    problem = assert_problem(response, 422, slug="validation-error")
    assert [(e["field"], e["type"]) for e in problem["errors"]] == list(expected), problem
    for error in problem["errors"]:
        assert error["message"]
    return problem


def criterion(client: TestClient, token: str, engagement_id: int, trigger: str, criterion_id: str
              ) -> dict[str, Any]:
    """One criterion of one transition out of the current phase, from GET readiness."""
    report = get_json(client, token, f"{ENGAGEMENTS}/{engagement_id}/readiness")
    transitions = [t for t in report["transitions"] if t["trigger"] == trigger]
    assert len(transitions) == 1, f"{trigger} does not leave phase {report['phase']}"
    found = [c for c in transitions[0]["criteria"] if c["id"] == criterion_id]
    assert len(found) == 1, f"{trigger} has no criterion {criterion_id}"
    result: dict[str, Any] = found[0]
    return result
