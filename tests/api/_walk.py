"""A coach walking one engagement through its playbook over HTTP, as the journey tests do.

``Walk`` holds the engagement, the playbook it is pinned to (read over the API) and the test clock. Every
record goes through the JSON API with the coach's token; ids are taken from the response bodies. Time
only moves forward through ``go_to`` (records of the future are refused, so the walk waits for the day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.api._helpers import collect_pages, create_engagement, create_organization, fire, get_json
from tests.conftest import Clock, Tokens, auth

TAIPEI = ZoneInfo("Asia/Taipei")
CJK = re.compile(r"[\u4e00-\u9fff]")
# A snake_case key (weekly_team, vision_5y), a quoted key ('partial', 「partial」) or a list of ids ([10, 12]).
KEY_OR_ID_LIST = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b|'[a-z_0-9]+'|「[a-z_0-9]+」|\[")
MODULES = ("basic_concepts", "deep_principles", "case_studies", "practice_and_coaching")
WEEKS_PER_QUARTER = 13


@dataclass
class Walk:
    client: TestClient
    tokens: Tokens
    clock: Clock
    organization_id: int
    engagement_id: int
    playbook: dict[str, Any]
    fired: list[str] = field(default_factory=list)

    @classmethod
    def begin(cls, client: TestClient, tokens: Tokens, clock: Clock, *, playbook: str = "standard",
              **organization: Any) -> Walk:
        """The admin records the client and opens the engagement with the coach; the coach reads the playbook."""
        org = create_organization(client, tokens.admin, timezone="Asia/Taipei", **organization)
        engagement = create_engagement(client, tokens.admin, org["id"], playbook=playbook,
                                       coach_ids=[tokens.coach_person_id])
        pin = engagement["playbook"]
        spec = get_json(client, tokens.coach, f"/api/v1/playbooks/{pin['id']}/versions/{pin['version']}")
        walk = cls(client, tokens, clock, org["id"], engagement["id"], spec)
        assert engagement["phase"] == spec["phases"][0]["id"]
        assert sorted(t["key"] for t in engagement["open_tasks"]) == walk.task_keys(engagement["phase"])
        return walk

    # --- time ---------------------------------------------------------------------------------------------------

    @property
    def today(self) -> date:
        return self.clock.now.date()

    def go_to(self, day: date, hour: int = 9) -> None:
        """Wait until ``day`` at ``hour`` UTC (never backwards)."""
        target = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        assert target >= self.clock.now, f"the walk cannot go back to {target}"
        self.clock.advance(seconds=(target - self.clock.now).total_seconds())

    # --- HTTP ---------------------------------------------------------------------------------------------------

    def send(self, method: str, path: str, body: dict[str, Any] | None = None, status: int = 200) -> Any:
        url = path if path.startswith("/api/") else f"/api/v1/engagements/{self.engagement_id}{path}"
        response = self.client.request(method, url, json=body, headers=auth(self.tokens.coach))
        assert response.status_code == status, f"{method} {url}: {response.text}"
        return response.json()

    def record(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = self.send("POST", path, body, 201)
        return created

    def refused(self, path: str, body: dict[str, Any], field: str, rule: str) -> None:
        """A record the API refuses with a 422 naming ``field`` and ``rule``."""
        problem = self.send("POST", path, body, 422)
        assert (field, rule) in [(e["field"], e["type"]) for e in problem["errors"]], problem

    def update_organization(self, **fields: Any) -> dict[str, Any]:
        updated: dict[str, Any] = self.send("PATCH", f"/api/v1/organizations/{self.organization_id}", fields)
        assert {k: updated[k] for k in fields} == fields
        return updated

    def person(self, name: str, *roles: str, departments: tuple[int, ...] = ()) -> int:
        body = {"name": name, "roles": list(roles or ("member",)), "department_ids": list(departments)}
        person = self.record(f"/api/v1/organizations/{self.organization_id}/people", body)
        assert person["department_ids"] == sorted(departments)
        return int(person["id"])

    def department(self, name: str, *, pilot: bool, lead_id: int | None = None) -> int:
        body = {"name": name, "is_pilot": pilot, "lead_id": lead_id}
        department = self.record(f"/api/v1/organizations/{self.organization_id}/departments", body)
        assert department["is_pilot"] is pilot
        return int(department["id"])

    # --- records ------------------------------------------------------------------------------------------------

    def meeting(self, kind: str, day: date, attendees: list[int], *, outcomes: tuple[str, ...] = (),
                department_id: int | None = None, hour: int = 10, notes: str = "") -> dict[str, Any]:
        """A meeting held on ``day`` at ``hour`` in the client's time zone (Asia/Taipei)."""
        held_at = datetime(day.year, day.month, day.day, hour, tzinfo=TAIPEI)
        meeting = self.record("/meetings", {"kind": kind, "held_at": held_at.isoformat(), "attendee_ids": attendees,
                                            "outcomes": list(outcomes), "department_id": department_id,
                                            "notes": notes})
        assert meeting["outcomes"] == sorted(outcomes)
        return meeting

    def ceo_support(self, level: str, note: str) -> dict[str, Any]:
        statement = self.record("/ceo-support", {"level": level, "stated_on": self.today.isoformat(), "note": note})
        assert statement["faded"] is False
        return statement

    def training(self, hours: float, modules: tuple[str, ...], attendees: list[int]) -> dict[str, Any]:
        return self.record("/training-sessions", {"held_on": self.today.isoformat(), "hours": hours,
                                                  "modules": list(modules), "attendee_ids": attendees})

    def drafting_group(self, members: list[int], department_id: int | None = None) -> dict[str, Any]:
        group = self.record("/drafting-groups", {"member_ids": members, "department_id": department_id,
                                                 "started_on": self.today.isoformat()})
        assert group["warnings"] == []
        return group

    def end_drafting(self, group: dict[str, Any]) -> None:
        ended = self.send("PATCH", f"/drafting-groups/{group['id']}", {"ended_on": self.today.isoformat()})
        assert ended["ended_on"] == self.today.isoformat()

    def appoint(self, person_id: int, role: str) -> dict[str, Any]:
        appointment = self.record("/appointments", {"person_id": person_id, "role": role})
        assert (appointment["trained"], appointment["ready"]) == (False, False)
        return appointment

    def update_appointment(self, appointment: dict[str, Any], **changes: Any) -> dict[str, Any]:
        updated: dict[str, Any] = self.send("PATCH", f"/appointments/{appointment['id']}", changes)
        assert {k: updated[k] for k in changes} == changes
        return updated

    def quarter(self, label: str, starts_on: date) -> dict[str, Any]:
        ends_on = starts_on + timedelta(weeks=WEEKS_PER_QUARTER, days=-1)
        return self.record("/quarters", {"label": label, "starts_on": starts_on.isoformat(),
                                         "ends_on": ends_on.isoformat()})

    def okr(self, quarter: dict[str, Any], objective: str, owner_id: int, department_id: int | None,
            metric: str) -> dict[str, Any]:
        okr = self.record(f"/quarters/{quarter['id']}/okrs", {
            "objective": objective, "owner_id": owner_id, "department_id": department_id,
            "key_results": [{"metric": metric, "start": 0, "target": 100, "unit": "%"}]})
        assert (okr["quarter_id"], okr["owner_id"], len(okr["key_results"])) == (quarter["id"], owner_id, 1)
        return okr

    def okrs_of(self, quarter: dict[str, Any]) -> list[dict[str, Any]]:
        return collect_pages(self.client, self.tokens.coach,
                             f"/api/v1/engagements/{self.engagement_id}/okrs?quarter_id={quarter['id']}")

    def score(self, okr: dict[str, Any], score: float) -> None:
        assert self.send("PUT", f"/okrs/{okr['id']}/score", {"score": score})["score"] == score

    def decide(self, okr: dict[str, Any], decision: str) -> dict[str, Any] | None:
        """Leadership's decision; returns the OKR's continuation in the next quarter, if one was made."""
        decided = self.send("PUT", f"/okrs/{okr['id']}/decision", {"decision": decision})
        assert decided["okr"]["decision"] == decision
        carried: dict[str, Any] | None = decided["carried_to"]
        return carried

    def record_week(self, cycle: Cycle, week: int) -> None:
        """Week ``week`` of the quarter: a check-in on every key result (Friday), the team meetings (Tuesday)
        and, every second week, the 1:1s (Wednesday)."""
        monday = cycle.monday(week)
        assert self.today > monday + timedelta(days=4), "record a week once it has happened"
        for okr in cycle.okrs:
            for kr in okr["key_results"]:
                self.record(f"/quarters/{cycle.quarter['id']}/check-ins", {
                    "key_result_id": kr["id"], "week_of": (monday + timedelta(days=4)).isoformat(),
                    "value": cycle.value(kr, week), "confidence": 7, "author_id": okr["owner_id"],
                    "note": f"week {week + 1}"})
        for department_id, attendees in cycle.team_meetings.items():
            self.meeting("weekly_team", monday + timedelta(days=1), attendees, department_id=department_id)
        if week % 2 == 0:
            for pair in cycle.one_on_ones:
                self.meeting("one_on_one", monday + timedelta(days=2), list(pair))

    def run_quarter(self, cycle: Cycle, trigger: str) -> None:
        """Thirteen weeks, each recorded on the Monday after it. After the first week the report says the
        quarter runs on and that its check-ins and team meetings are behind; the 1:1s are not due yet."""
        ordinal = cycle.ordinal
        for week in range(WEEKS_PER_QUARTER):
            self.go_to(cycle.monday(week + 1))
            if week == 0:
                gate = self.gate(trigger)
                failing = {c["id"]: c["reason"] for c in gate["criteria"] if not c["passed"]}
                assert f"q{ordinal}_ended" in failing and not gate["allowed"]
                key_results = sum(len(okr["key_results"]) for okr in cycle.okrs)
                assert f"0 of {key_results} (0%); 80% needed." in failing[f"q{ordinal}_check_ins"]
                assert "The weekly team meeting every 7 days is behind" in failing[f"q{ordinal}_team_meetings"]
                assert f"q{ordinal}_one_on_ones" not in failing
            self.record_week(cycle, week)
        gate = self.gate(trigger)
        evidence = {c["id"]: c["evidence"] for c in gate["criteria"]}
        check_ins = evidence[f"q{ordinal}_check_ins"]
        assert (check_ins["periods_elapsed"], check_ins["rate"]) == (WEEKS_PER_QUARTER, 1.0)
        one_on_ones = evidence[f"q{ordinal}_one_on_ones"]
        assert (one_on_ones["expected_each"], one_on_ones["behind"]) == (6, [])

    # --- the journey --------------------------------------------------------------------------------------------

    def phase(self) -> str:
        return str(get_json(self.client, self.tokens.coach, f"/api/v1/engagements/{self.engagement_id}")["phase"])

    def task_keys(self, phase: str) -> list[str]:
        spec = next(p for p in self.playbook["phases"] if p["id"] == phase)
        return sorted(t["id"] for t in spec.get("tasks") or [])

    def transition(self, trigger: str) -> dict[str, Any]:
        spec: dict[str, Any] = next(t for t in self.playbook["transitions"] if t["trigger"] == trigger)
        return spec

    def gate(self, trigger: str) -> dict[str, Any]:
        """The readiness of ``trigger`` as GET /readiness reports it now."""
        report = self.send("GET", "/readiness")
        spec = self.transition(trigger)
        assert report["phase"] == spec["source"]
        gate: dict[str, Any] = next(t for t in report["transitions"] if t["trigger"] == trigger)
        assert gate["destination"] == spec["dest"]
        assert [c["id"] for c in gate["criteria"]] == [c["id"] for c in spec["gate"]]
        return gate

    def blocked(self, trigger: str, **failing: str) -> dict[str, Any]:
        """``trigger`` is not allowed; exactly the criteria named fail, each with a reason containing the text."""
        gate = self.gate(trigger)
        assert gate["allowed"] is False
        not_passed = {c["id"]: c for c in gate["criteria"] if not c["passed"]}
        assert sorted(not_passed) == sorted(failing), [(c["id"], c["reason"]) for c in not_passed.values()]
        for criterion_id, text in failing.items():
            criterion = not_passed[criterion_id]
            assert text in criterion["reason"], (criterion_id, criterion["reason"])
            assert criterion["reasons"]["en"] == criterion["reason"] and criterion["reasons"]["zh-TW"]
        assert gate["passed"] == len(gate["criteria"]) - len(failing)
        self.readable_in_chinese(trigger, gate)
        return gate

    def readable_in_chinese(self, trigger: str, gate: dict[str, Any]) -> None:
        """The same report asked for in Traditional Chinese: every reason in it, by titles and names, the same
        verdicts and evidence; in either language no playbook key, id list or quoted key."""
        url = f"/api/v1/engagements/{self.engagement_id}/readiness"
        response = self.client.get(url, headers=auth(self.tokens.coach, **{"Accept-Language": "zh-TW"}))
        assert response.status_code == 200, response.text
        chinese = next(t for t in response.json()["transitions"] if t["trigger"] == trigger)
        for english, translated in zip(gate["criteria"], chinese["criteria"], strict=True):
            assert (translated["id"], translated["passed"], translated["evidence"]) == (
                english["id"], english["passed"], english["evidence"])
            assert translated["reason"] == english["reasons"]["zh-TW"] != english["reason"]
            assert CJK.search(translated["reason"]), translated["reason"]
            for said in (english["reason"], translated["reason"]):
                assert not KEY_OR_ID_LIST.search(said), (english["id"], said)

    def allowed(self, trigger: str, *advisory_failing: str) -> dict[str, Any]:
        """``trigger`` is allowed; only the named advisory criteria (if any) still fail."""
        gate = self.gate(trigger)
        not_passed = {c["id"]: c for c in gate["criteria"] if not c["passed"]}
        assert sorted(not_passed) == sorted(advisory_failing), [(c["id"], c["reason"]) for c in not_passed.values()]
        assert all(c["severity"] == "advisory" for c in not_passed.values())
        assert gate["allowed"] is True
        return gate

    def advance(self, trigger: str) -> dict[str, Any]:
        """The coach fires ``trigger``: the engagement enters the destination phase with that phase's tasks."""
        spec = self.transition(trigger)
        response = fire(self.client, self.tokens.coach, self.engagement_id, trigger)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert (body["from_phase"], body["engagement"]["phase"]) == (spec["source"], spec["dest"])
        assert body["readiness"]["allowed"] is True
        assert sorted(t["key"] for t in body["engagement"]["open_tasks"]) == self.task_keys(spec["dest"])
        tasks = collect_pages(self.client, self.tokens.coach, f"/api/v1/engagements/{self.engagement_id}/tasks")
        assert sorted(t["key"] for t in tasks if t["phase"] == spec["dest"]) == self.task_keys(spec["dest"])
        assert self.phase() == spec["dest"]
        self.fired.append(trigger)
        return body

    def events(self) -> list[dict[str, Any]]:
        return collect_pages(self.client, self.tokens.coach, f"/api/v1/engagements/{self.engagement_id}/events",
                             limit=500)


@dataclass
class Cycle:
    """What a quarter's weekly rhythm records: check-ins on each OKR's key results, team meetings (by
    department id; None for the whole company) and 1:1 pairs."""

    ordinal: int  # 1 for Q1: the gates name a quarter by its place in the engagement
    quarter: dict[str, Any]
    okrs: list[dict[str, Any]]
    team_meetings: dict[int | None, list[int]]
    one_on_ones: list[tuple[int, int]]

    def monday(self, week: int) -> date:
        return date.fromisoformat(self.quarter["starts_on"]) + timedelta(weeks=week)

    @staticmethod
    def value(kr: dict[str, Any], week: int) -> float:
        """Steady progress: five points a week from the key result's start."""
        return float(kr["start"]) + 5.0 * (week + 1)
