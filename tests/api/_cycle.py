"""Helpers for the quarterly-cycle API tests: a client organization with departments and people, and its
quarters, OKRs, key results, check-ins, scores and decisions, all recorded over HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from tests.api._helpers import Journey, assert_problem, collect_pages, get_json, start_journey
from tests.conftest import Clock, Tokens, auth

ENGAGEMENTS = "/api/v1/engagements"
ORGS = "/api/v1/organizations"

# Twelve whole weeks each (84 days), Monday to Sunday; the test clock starts on Q1's first day.
Q1_START, Q1_END = date(2026, 1, 5), date(2026, 3, 29)
Q2_START, Q2_END = date(2026, 3, 30), date(2026, 6, 21)
Q3_START, Q3_END = date(2026, 6, 22), date(2026, 9, 13)


# The department of the OKRs a test gives neither owner nor department.
OWNERLESS = "Operations"


def week(start: date, n: int) -> date:
    """The first day of week ``n`` (1-based) of a quarter starting on ``start``."""
    return start + timedelta(weeks=n - 1)


def kr(metric: str, start: float, target: float, unit: str = "", current: float | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"metric": metric, "start": start, "target": target, "unit": unit}
    if current is not None:
        body["current"] = current
    return body


@dataclass
class Cycle:
    """One engagement, seen through the cycle endpoints with one token."""

    client: TestClient
    token: str
    journey: Journey
    admin: str
    departments: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"{ENGAGEMENTS}/{self.journey.engagement_id}"

    # --- organization --------------------------------------------------------------------------------------------

    def department(self, name: str, *, is_pilot: bool = True) -> int:
        response = self.client.post(f"{ORGS}/{self.journey.organization_id}/departments",
                                    json={"name": name, "is_pilot": is_pilot}, headers=auth(self.admin))
        assert response.status_code == 201, response.text
        self.departments[name] = response.json()["id"]
        return self.departments[name]

    def person(self, name: str, *departments: str) -> int:
        response = self.client.post(f"{ORGS}/{self.journey.organization_id}/people",
                                    json={"name": name, "department_ids": [self.departments[d] for d in departments]},
                                    headers=auth(self.admin))
        assert response.status_code == 201, response.text
        self.people[name] = response.json()["id"]
        return self.people[name]

    # --- raw requests --------------------------------------------------------------------------------------------

    def post(self, path: str, body: dict[str, Any]) -> Response:
        return self.client.post(f"{self.base}{path}", json=body, headers=auth(self.token))

    def put(self, path: str, body: dict[str, Any]) -> Response:
        return self.client.put(f"{self.base}{path}", json=body, headers=auth(self.token))

    def get(self, path: str) -> Any:
        return get_json(self.client, self.token, f"{self.base}{path}")

    def post_quarter(self, label: str, starts_on: date, ends_on: date) -> Response:
        return self.post("/quarters", {"label": label, "starts_on": starts_on.isoformat(),
                                       "ends_on": ends_on.isoformat()})

    def post_okr(self, quarter_id: int, objective: str, *, owner: str | None = None, department: str | None = None,
                 key_results: list[dict[str, Any]] | None = None, **fields: Any) -> Response:
        body: dict[str, Any] = {"objective": objective, "key_results": key_results or [], **fields}
        if owner is not None:
            body["owner_id"] = self.people[owner]
        if department is not None:
            body["department_id"] = self.departments[department]
        if not {"owner_id", "department_id"} & body.keys():
            # An OKR needs an owner or a department: one that no pilot gate reads, when the test names neither.
            if OWNERLESS not in self.departments:
                self.department(OWNERLESS, is_pilot=False)
            body["department_id"] = self.departments[OWNERLESS]
        return self.post(f"/quarters/{quarter_id}/okrs", body)

    def post_check_in(self, quarter_id: int, key_result_id: int, week_of: date, value: float,
                      **fields: Any) -> Response:
        return self.post(f"/quarters/{quarter_id}/check-ins", {"key_result_id": key_result_id,
                                                               "week_of": week_of.isoformat(), "value": value,
                                                               **fields})

    def put_score(self, okr_id: int, score: float) -> Response:
        return self.put(f"/okrs/{okr_id}/score", {"score": score})

    def put_decision(self, okr_id: int, decision: str) -> Response:
        return self.put(f"/okrs/{okr_id}/decision", {"decision": decision})

    # --- successful writes ---------------------------------------------------------------------------------------

    def quarter(self, label: str, starts_on: date, ends_on: date) -> dict[str, Any]:
        return _created(self.post_quarter(label, starts_on, ends_on))

    def okr(self, quarter_id: int, objective: str, **fields: Any) -> dict[str, Any]:
        return _created(self.post_okr(quarter_id, objective, **fields))

    def check_in(self, quarter_id: int, key_result_id: int, week_of: date, value: float,
                 **fields: Any) -> dict[str, Any]:
        return _created(self.post_check_in(quarter_id, key_result_id, week_of, value, **fields))

    def score(self, okr_id: int, score: float) -> dict[str, Any]:
        return _ok(self.put_score(okr_id, score))

    def decide(self, okr_id: int, decision: str) -> dict[str, Any]:
        return _ok(self.put_decision(okr_id, decision))

    # --- reads ---------------------------------------------------------------------------------------------------

    def okrs(self, quarter_id: int | None = None) -> list[dict[str, Any]]:
        query = f"?quarter_id={quarter_id}" if quarter_id is not None else ""
        return collect_pages(self.client, self.token, f"{self.base}/okrs{query}")

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        found = collect_pages(self.client, self.token, f"{self.base}/events")
        return [e for e in found if type is None or e["type"] == type]

    def transition(self, trigger: str) -> dict[str, Any]:
        """The readiness of ``trigger`` out of the current phase, criteria keyed by id."""
        report = self.get("/readiness")
        (found,) = [t for t in report["transitions"] if t["trigger"] == trigger]
        found["by_id"] = {c["id"]: c for c in found["criteria"]}
        return dict(found)


def _created(response: Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _ok(response: Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def new_cycle(client: TestClient, tokens: Tokens, **org_fields: Any) -> Cycle:
    """An organization (40 people unless told) with an engagement coached by ``tokens.coach``."""
    return Cycle(client, tokens.coach, start_journey(client, tokens, **org_fields), tokens.admin)


def assert_invalid(response: Response, field: str, rule: str) -> dict[str, Any]:
    """A 422 problem naming ``field`` and the ``rule`` it broke."""
    problem = assert_problem(response, 422, slug="validation-error")
    assert [(e["field"], e["type"]) for e in problem["errors"]] == [(field, rule)], problem
    return problem


def move_to(clock: Clock, day: date) -> None:
    """Advance the test clock to ``day`` (same time of day)."""
    assert day >= clock.now.date(), f"the clock is already past {day}"
    clock.advance(days=(day - clock.now.date()).days)
