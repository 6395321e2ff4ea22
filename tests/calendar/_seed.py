"""A client organization for the calendar tests: people and departments over HTTP, records written directly
(the calendar reads records; how they are validated is the records API's business, tested there)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from okr_rollout.models import DraftingGroup, Meeting, Quarter, TrainingSession
from tests.api._helpers import create_engagement, create_organization
from tests.api._records import add_department, add_person
from tests.conftest import Tokens, auth

# Q1 spans the March switch to daylight-saving time in both Europe (29 March) and the US (8 March).
Q1_START, Q1_END = date(2026, 1, 1), date(2026, 3, 31)
Q2_START, Q2_END = date(2026, 4, 1), date(2026, 6, 30)


@dataclass
class Org:
    organization_id: int
    engagement_id: int
    sales: int
    ops: int
    lead: int
    ana: int
    ben: int
    carl: int
    ceo: int
    quarters: dict[str, int]
    meetings: dict[str, int]
    training: int
    drafting_closed: int
    drafting_open: int


def seed(client: TestClient, tokens: Tokens, db: Callable[[], Any], *, timezone: str = "Europe/Stockholm",
         headcount: int = 40, playbook: str = "standard") -> Org:
    org_id = create_organization(client, tokens.admin, timezone=timezone, headcount=headcount)["id"]
    sales = add_department(client, tokens.admin, org_id, name="Sales", is_pilot=True)
    ops = add_department(client, tokens.admin, org_id, name="Ops", is_pilot=False)
    lead = add_person(client, tokens.admin, org_id, name="Lena Lead", roles=["department_lead"],
                      department_ids=[sales])
    response = client.patch(f"/api/v1/organizations/{org_id}/departments/{sales}", json={"lead_id": lead},
                            headers=auth(tokens.admin))
    assert response.status_code == 200, response.text
    ana = add_person(client, tokens.admin, org_id, name="Ana", department_ids=[sales], locale="zh-TW")
    ben = add_person(client, tokens.admin, org_id, name="Ben", department_ids=[sales])
    carl = add_person(client, tokens.admin, org_id, name="Carl", department_ids=[ops])
    ceo = add_person(client, tokens.admin, org_id, name="Cecilia CEO", roles=["ceo"])
    engagement_id = create_engagement(client, tokens.admin, org_id, coach_ids=[tokens.coach_person_id],
                                      playbook=playbook)["id"]
    with db() as session:
        assert isinstance(session, Session)
        q1 = Quarter(engagement_id=engagement_id, label="2026-Q1", starts_on=Q1_START, ends_on=Q1_END)
        q2 = Quarter(engagement_id=engagement_id, label="2026-Q2", starts_on=Q2_START, ends_on=Q2_END)
        executive = Meeting(engagement_id=engagement_id, kind="executive",
                            held_at=datetime(2025, 11, 20, 13, 30, tzinfo=UTC), attendee_ids=[ceo, lead],
                            outcomes=["ceo_support"])
        team = Meeting(engagement_id=engagement_id, kind="weekly_team", department_id=sales,
                       held_at=datetime(2026, 1, 5, 8, 0, tzinfo=UTC), attendee_ids=[lead, ana, ben])
        training = TrainingSession(engagement_id=engagement_id, held_on=date(2025, 12, 1), hours=6.0,
                                   modules=["basic_concepts", "deep_principles"], attendee_ids=[lead, ana])
        closed = DraftingGroup(engagement_id=engagement_id, department_id=sales, member_ids=[lead, ana, ben],
                               started_on=date(2025, 12, 8), ended_on=date(2025, 12, 19))
        still_open = DraftingGroup(engagement_id=engagement_id, department_id=ops, member_ids=[carl],
                                   started_on=date(2026, 2, 2))
        session.add_all([q1, q2, executive, team, training, closed, still_open])
        session.flush()
        return Org(org_id, engagement_id, sales, ops, lead, ana, ben, carl, ceo,
                   {"Q1": q1.id, "Q2": q2.id}, {"executive": executive.id, "team": team.id}, training.id,
                   closed.id, still_open.id)


def parse(body: bytes) -> Calendar:
    calendar = Calendar.from_ical(body)
    assert isinstance(calendar, Calendar)
    return calendar


def uid_domain(calendar: Calendar) -> str:
    """The part after "@" that every UID of the feed shares: this installation's id, then okr-rollout."""
    domains = {str(event["UID"]).partition("@")[2] for event in calendar.events}
    assert len(domains) <= 1, domains
    return domains.pop() if domains else ""


def by_uid(calendar: Calendar) -> dict[str, Event]:
    """The events by the part of their UID before "@" (what names the record); the part after it is checked
    to be one installation's domain."""
    events: Iterator[Event] = iter(calendar.events)
    domain = uid_domain(calendar)
    assert not calendar.events or re.fullmatch(r"[0-9a-f]{32}\.okr-rollout", domain), domain
    found = {str(event["UID"]).partition("@")[0]: event for event in events}
    assert len(found) == len(calendar.events), "UIDs are unique"
    return found
