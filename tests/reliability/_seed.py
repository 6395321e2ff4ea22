"""One engagement with a record of every kind, created over HTTP (a TestClient or a client of a real server).

The fault and fuzz tests need real rows behind every path parameter of the API, so that generated requests reach
the code behind the 404 of an unknown id, and so that a request by someone who may not see the engagement can be
checked to return nothing of it. Every text carries ``marker``: a response that contains it leaked seeded data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from httpx2 import Client

from tests.conftest import auth

API = "/api/v1"
EXECUTIVE_OUTCOMES = ["ceo_support", "expectations_set", "okrs_introduced"]
TAIPEI = ZoneInfo("Asia/Taipei")


@dataclass
class Seeded:
    organization_id: int
    engagement_id: int
    marker: str
    ids: dict[str, int] = field(default_factory=dict)  # path parameter name -> a seeded id
    record_ids: dict[str, int] = field(default_factory=dict)  # record collection -> the id of one of its records
    calendar_token: str = ""

    def path_parameters(self, path: str, names: list[str]) -> dict[str, Any]:
        """Seeded values for the path parameters ``names`` of ``path``; unknown names are left out."""
        values: dict[str, Any] = {}
        for name in names:
            if name == "record_id":
                collection = next((c for c in self.record_ids if f"/{c}/" in path), None)
                if collection is not None:
                    values[name] = self.record_ids[collection]
            elif name == "token":
                values[name] = self.calendar_token
            elif name in self.ids:
                values[name] = self.ids[name]
        return values


def _created(client: Client, token: str, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = client.post(path, json=body, headers=auth(token))
    assert response.status_code == status, f"POST {path}: {response.text}"
    created: dict[str, Any] = response.json()
    return created


def organization_with_people(client: Client, token: str, marker: str) -> tuple[int, dict[str, int]]:
    """An organization with a pilot and another department, a CEO and three pilot members."""
    org = _created(client, token, f"{API}/organizations", {
        "name": f"{marker} Org", "headcount": 40, "timezone": "Asia/Taipei", "mission": f"{marker} mission",
        "strategies": [f"{marker} strategy"], "crm_id": f"{marker}-crm"})
    base = f"{API}/organizations/{org['id']}"
    pilot = _created(client, token, f"{base}/departments", {"name": f"{marker} Sales", "is_pilot": True})
    _created(client, token, f"{base}/departments", {"name": f"{marker} Finance", "is_pilot": False})
    ceo = _created(client, token, f"{base}/people", {"name": f"{marker} CEO", "roles": ["ceo", "executive"],
                                                      "email": "ceo@example.com"})
    members = [_created(client, token, f"{base}/people", {"name": f"{marker} Pilot {i}",
                                                           "department_ids": [pilot["id"]]})["id"]
               for i in range(3)]
    return org["id"], {"department_id": pilot["id"], "person_id": ceo["id"], "ceo_id": ceo["id"],
                       "member_id": members[0], "other_member_id": members[1]}


def engagement_ready_for_kickoff(client: Client, token: str, organization_id: int, coach_id: int, today: date,
                                 ceo_id: int) -> int:
    """An engagement whose first two gates pass: a coach is assigned, the executive meeting and the CEO's support
    are recorded (yesterday, as records of the future are refused)."""
    engagement = _created(client, token, f"{API}/engagements", {"organization_id": organization_id,
                                                                  "coach_ids": [coach_id]})
    base = f"{API}/engagements/{engagement['id']}"
    held_at = datetime.combine(today - timedelta(days=1), time(10), tzinfo=TAIPEI)
    _created(client, token, f"{base}/meetings", {"kind": "executive", "held_at": held_at.isoformat(),
                                                 "attendee_ids": [ceo_id], "outcomes": EXECUTIVE_OUTCOMES})
    _created(client, token, f"{base}/ceo-support", {"level": "full", "stated_on": (today - timedelta(days=1))
                                                    .isoformat()})
    engagement_id: int = engagement["id"]
    return engagement_id


def seed_engagement(client: Client, token: str, coach_id: int, today: date, marker: str) -> Seeded:
    """Everything a path parameter of the API can name, in one engagement coached by ``coach_id``."""
    organization_id, people = organization_with_people(client, token, marker)
    ceo, member = people["ceo_id"], people["member_id"]
    engagement_id = engagement_ready_for_kickoff(client, token, organization_id, coach_id, today, ceo)
    seeded = Seeded(organization_id, engagement_id, marker,
                    ids={"organization_id": organization_id, "engagement_id": engagement_id,
                         "person_id": people["person_id"], "department_id": people["department_id"]})
    base = f"{API}/engagements/{engagement_id}"
    yesterday = (today - timedelta(days=1)).isoformat()
    meetings = client.get(f"{base}/meetings", headers=auth(token)).json()["items"]
    seeded.record_ids["meetings"] = meetings[0]["id"]
    seeded.record_ids["ceo-support"] = client.get(f"{base}/ceo-support", headers=auth(token)).json()["items"][0]["id"]
    seeded.record_ids["training-sessions"] = _created(client, token, f"{base}/training-sessions", {
        "held_on": yesterday, "hours": 6, "modules": ["basic_concepts"], "attendee_ids": [member],
        "notes": f"{marker} training"})["id"]
    seeded.ids["group_id"] = _created(client, token, f"{base}/drafting-groups", {
        "member_ids": [member, people["other_member_id"], ceo], "started_on": yesterday})["id"]
    seeded.ids["appointment_id"] = _created(client, token, f"{base}/appointments", {
        "person_id": member, "role": "internal_coach"})["id"]
    quarter = _created(client, token, f"{base}/quarters", {
        "label": "Q1", "starts_on": (today - timedelta(days=14)).isoformat(),
        "ends_on": (today + timedelta(days=69)).isoformat()})
    seeded.ids["quarter_id"] = quarter["id"]
    okr = _created(client, token, f"{base}/quarters/{quarter['id']}/okrs", {
        "objective": f"{marker} objective", "owner_id": member,
        "key_results": [{"metric": f"{marker} metric", "start": 0, "target": 100, "unit": "%"}]})
    seeded.ids["okr_id"] = okr["id"]
    seeded.ids["key_result_id"] = okr["key_results"][0]["id"]
    seeded.ids["check_in_id"] = _created(client, token, f"{base}/quarters/{quarter['id']}/check-ins", {
        "key_result_id": okr["key_results"][0]["id"], "week_of": (today - timedelta(days=7)).isoformat(),
        "value": 10, "confidence": 5, "note": f"{marker} note"})["id"]
    task = client.get(f"{base}/tasks", headers=auth(token)).json()["items"][0]
    seeded.ids["task_id"] = task["id"]
    if task["checklist"]:
        seeded.ids["item_id"] = task["checklist"][0]["id"]
    feed = client.post(f"{API}/organizations/{organization_id}/people/{ceo}/calendar-token", headers=auth(token))
    if feed.status_code == 200:  # the calendar feed is optional to the tests that use the seed
        url = str(feed.json().get("url", ""))
        seeded.calendar_token = url.rsplit("/", 1)[-1].removesuffix(".ics")
    return seeded
