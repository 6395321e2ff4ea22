"""Load EngagementFacts for one or ten thousand engagements in a fixed number of queries.

Plain SQL over the connection (no ORM objects, no per-engagement query): the
portfolio readiness view reads every engagement's facts at once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from okr_rollout.journey.facts import DepartmentFacts, EngagementFacts, OrganizationFacts, PersonFacts

_ENGAGEMENTS = """
SELECT e.id, e.phase, e.entered_phase_at, e.organization_id,
       o.name, o.headcount, o.timezone, o.mission, o.vision_1y, o.vision_5y, o.vision_10y,
       o.strategies, o.challenges, o.okr_software
FROM engagements e JOIN organizations o ON o.id = e.organization_id
"""
_COACHES = "SELECT engagement_id, person_id FROM engagement_coaches"
_PEOPLE = "SELECT p.id, p.organization_id, p.name, p.roles FROM people p"
_MEMBERSHIPS = (
    "SELECT pd.person_id, pd.department_id FROM person_departments pd JOIN people p ON p.id = pd.person_id"
)
_DEPARTMENTS = "SELECT d.id, d.organization_id, d.name, d.is_pilot, d.lead_id FROM departments d"

QUERIES_PER_LOAD = 5


def load_facts(
    connection: Connection, engagement_ids: Sequence[int] | None, now: datetime
) -> dict[int, EngagementFacts]:
    """Facts of the given engagements (all of them when ``engagement_ids`` is None), keyed by id."""
    by_id = _select(connection, _ENGAGEMENTS, "e.id", engagement_ids)
    organization_ids = sorted({row.organization_id for row in by_id})
    coach_rows = _select(connection, _COACHES, "engagement_id", engagement_ids)
    people_rows = _select(connection, _PEOPLE, "p.organization_id", organization_ids)
    membership_rows = _select(connection, _MEMBERSHIPS, "p.organization_id", organization_ids)
    department_rows = _select(connection, _DEPARTMENTS, "d.organization_id", organization_ids)

    coaches: dict[int, set[int]] = defaultdict(set)
    for row in coach_rows:
        coaches[row.engagement_id].add(row.person_id)
    memberships: dict[int, set[int]] = defaultdict(set)
    for row in membership_rows:
        memberships[row.person_id].add(row.department_id)
    people: dict[int, list[PersonFacts]] = defaultdict(list)
    for row in people_rows:
        people[row.organization_id].append(
            PersonFacts(row.id, row.name, frozenset(_json(row.roles)), frozenset(memberships[row.id]))
        )
    departments: dict[int, list[DepartmentFacts]] = defaultdict(list)
    for row in department_rows:
        departments[row.organization_id].append(DepartmentFacts(row.id, row.name, bool(row.is_pilot), row.lead_id))

    facts: dict[int, EngagementFacts] = {}
    for row in by_id:
        organization = OrganizationFacts(
            id=row.organization_id,
            name=row.name,
            headcount=row.headcount,
            timezone=row.timezone,
            mission=row.mission,
            vision_1y=row.vision_1y,
            vision_5y=row.vision_5y,
            vision_10y=row.vision_10y,
            strategies=tuple(_json(row.strategies)),
            challenges=tuple(_json(row.challenges)),
            okr_software=row.okr_software,
        )
        facts[row.id] = EngagementFacts(
            engagement_id=row.id,
            phase=row.phase,
            entered_phase_at=_utc(row.entered_phase_at),
            now=now,
            organization=organization,
            coach_ids=frozenset(coaches[row.id]),
            people=tuple(people[row.organization_id]),
            departments=tuple(departments[row.organization_id]),
        )
    return facts


def _select(connection: Connection, sql: str, column: str, ids: Iterable[int] | None) -> Sequence[Any]:
    if ids is None:
        return connection.execute(text(sql)).all()
    statement = text(f"{sql} WHERE {column} IN :ids").bindparams(bindparam("ids", expanding=True))
    return connection.execute(statement, {"ids": list(ids)}).all()


def _json(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, list) else []
    return list(value)


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
