"""Facts load in a fixed number of queries, for one engagement or for many."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from okr_rollout.journey.facts_loader import QUERIES_PER_LOAD, load_facts
from okr_rollout.models import (
    Department,
    Engagement,
    EngagementCoach,
    Organization,
    Person,
    PersonDepartment,
    PlaybookSnapshot,
)

NOW = datetime(2026, 2, 1, tzinfo=UTC)


def _seed(session: Session, engagements: int) -> list[int]:
    coach = Person(name="Coach", roles=["coach"], created_at=NOW)
    session.add(coach)
    session.flush()
    ids = []
    for n in range(engagements):
        organization = Organization(name=f"Org {n}", headcount=30 + n, timezone="Asia/Taipei", created_at=NOW,
                                    updated_at=NOW, strategies=["Focus"], challenges=[], mission=f"Mission {n}")
        session.add(organization)
        session.flush()
        department = Department(organization_id=organization.id, name="Sales", is_pilot=True, created_at=NOW)
        person = Person(organization_id=organization.id, name=f"Person {n}", roles=["member"], created_at=NOW)
        session.add_all([department, person])
        session.flush()
        session.add(PersonDepartment(person_id=person.id, department_id=department.id))
        if session.get(PlaybookSnapshot, "0" * 64) is None:
            session.add(PlaybookSnapshot(sha256="0" * 64, playbook_id="standard", version=1, content=""))
            session.flush()
        engagement = Engagement(organization_id=organization.id, playbook_id="standard", playbook_version=1,
                                playbook_sha256="0" * 64, phase="kickoff", entered_phase_at=NOW, created_at=NOW,
                                updated_at=NOW)
        session.add(engagement)
        session.flush()
        session.add(EngagementCoach(engagement_id=engagement.id, person_id=coach.id))
        ids.append(engagement.id)
    session.flush()
    return ids


def _count_queries(engine: Engine, work: Callable[[], Any]) -> int:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])


def test_one_or_many_engagements_load_in_the_same_number_of_queries(engine: Engine, db: Any) -> None:
    with db() as session:
        ids = _seed(session, 30)
    with db() as session:
        connection = session.connection()
        one = _count_queries(engine, lambda: load_facts(connection, ids[:1], NOW))
        many = _count_queries(engine, lambda: load_facts(connection, ids, NOW))
        everything = _count_queries(engine, lambda: load_facts(connection, None, NOW))
        assert one == many == everything == QUERIES_PER_LOAD
        facts = load_facts(connection, ids, NOW)
    assert set(facts) == set(ids)
    sample = facts[ids[7]]
    assert sample.organization.name == "Org 7"
    assert sample.organization.strategies == ("Focus",)
    assert sample.phase == "kickoff" and sample.entered_phase_at == NOW
    assert len(sample.coach_ids) == 1
    assert [d.is_pilot for d in sample.departments] == [True]
    (person,) = sample.people
    assert person.department_ids == frozenset({sample.departments[0].id})
    assert sample.pilot_people(6) == (person,)
