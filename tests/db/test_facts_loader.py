"""Facts load in a fixed number of queries, for one engagement or for many, with every record the gates read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from okr_rollout.facts import QUERIES_PER_LOAD, load_facts
from okr_rollout.journey.facts import (
    AppointmentFacts,
    CeoSupportFacts,
    CheckInFacts,
    EngagementFacts,
    KeyResultFacts,
    MeetingFacts,
    OkrFacts,
    QuarterFacts,
)
from okr_rollout.models import (
    Appointment,
    CeoSupportStatement,
    CheckIn,
    Department,
    DraftingGroup,
    Engagement,
    EngagementCoach,
    KeyResult,
    Meeting,
    Okr,
    Organization,
    Person,
    PersonDepartment,
    PlaybookSnapshot,
    Quarter,
    TrainingSession,
)

NOW = datetime(2026, 5, 1, tzinfo=UTC)
ENGAGEMENTS = 30
MODULES = ["basic_concepts", "deep_principles", "case_studies", "practice_and_coaching"]


def _seed_records(session: Session, engagement_id: int, n: int, person_id: int, lead_id: int,
                  department_id: int) -> None:
    """Every kind of record, with values that differ per engagement (``n``)."""
    session.add_all([
        Meeting(engagement_id=engagement_id, kind="executive", held_at=datetime(2025, 11, 3, 10, n % 60, tzinfo=UTC),
                attendee_ids=[lead_id], outcomes=["ceo_support", "okrs_introduced"], created_at=NOW),
        Meeting(engagement_id=engagement_id, kind="weekly_team", held_at=datetime(2026, 1, 12, 9, tzinfo=UTC),
                department_id=department_id, attendee_ids=[lead_id, person_id], created_at=NOW),
        CeoSupportStatement(engagement_id=engagement_id, level="full", stated_on=date(2025, 11, 3),
                            note=f"CEO {n} backs it", created_at=NOW),
        TrainingSession(engagement_id=engagement_id, held_on=date(2025, 12, 1), hours=6 + n % 3, modules=MODULES[:2],
                        attendee_ids=[lead_id, person_id], created_at=NOW),
        DraftingGroup(engagement_id=engagement_id, department_id=department_id, member_ids=[lead_id, person_id],
                      started_on=date(2025, 12, 8), ended_on=date(2025, 12, 22) if n % 2 else None, created_at=NOW),
        Appointment(engagement_id=engagement_id, person_id=person_id, role="internal_coach", trained=n % 2 == 1,
                    trained_on=date(2026, 3, 2) if n % 2 else None, created_at=NOW, updated_at=NOW),
        Appointment(engagement_id=engagement_id, person_id=lead_id, role="okr_master", ready=True, created_at=NOW,
                    updated_at=NOW),
    ])
    q1 = Quarter(engagement_id=engagement_id, label="Q1", starts_on=date(2026, 1, 5), ends_on=date(2026, 3, 29),
                 created_at=NOW)
    q2 = Quarter(engagement_id=engagement_id, label="Q2", starts_on=date(2026, 3, 30), ends_on=date(2026, 6, 21),
                 created_at=NOW)
    session.add_all([q1, q2])
    session.flush()
    okr = Okr(engagement_id=engagement_id, quarter_id=q1.id, objective=f"Objective {n}", owner_id=person_id,
              department_id=department_id, score=0.7, decision="continue",
              created_at=datetime(2025, 12, 20, 10, tzinfo=UTC))
    session.add(okr)
    session.flush()
    carried = Okr(engagement_id=engagement_id, quarter_id=q2.id, objective=f"Objective {n}", owner_id=person_id,
                  department_id=department_id, carried_from_id=okr.id, created_at=datetime(2026, 4, 2, tzinfo=UTC))
    session.add(carried)
    session.flush()
    kr = KeyResult(engagement_id=engagement_id, okr_id=okr.id, metric=f"Leads {n}", start_value=0, target_value=50,
                   current_value=30 + n, created_at=NOW)
    session.add(kr)
    session.flush()
    session.add_all([
        CheckIn(engagement_id=engagement_id, key_result_id=kr.id, week_of=date(2026, 1, 5), value=10.5,
                confidence=7, created_at=NOW),
        CheckIn(engagement_id=engagement_id, key_result_id=kr.id, week_of=date(2026, 1, 12), value=30 + n,
                created_at=NOW),
    ])


def _seed(session: Session, engagements: int, *, records: bool = True) -> list[int]:
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
        lead = Person(organization_id=organization.id, name=f"Lead {n}", roles=["department_lead"], created_at=NOW)
        session.add_all([department, person, lead])
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
        if records:
            _seed_records(session, engagement.id, n, person.id, lead.id, department.id)
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


def _assert_records(facts: EngagementFacts, n: int) -> None:
    """The records seeded for engagement number ``n``, as the gates see them."""
    lead = next(p for p in facts.people if p.name == f"Lead {n}")
    person = next(p for p in facts.people if p.name == f"Person {n}")
    (department,) = facts.departments

    executive, weekly = sorted(facts.meetings, key=lambda m: m.held_at)
    assert executive == MeetingFacts(executive.id, "executive", datetime(2025, 11, 3, 10, n % 60, tzinfo=UTC),
                                     frozenset({lead.id}), frozenset({"ceo_support", "okrs_introduced"}), None)
    assert executive.held_at.tzinfo is not None
    assert (weekly.kind, weekly.department_id, weekly.attendee_ids, weekly.outcomes) == (
        "weekly_team", department.id, frozenset({lead.id, person.id}), frozenset())
    (support,) = facts.ceo_support
    assert isinstance(support, CeoSupportFacts)
    assert (support.level, support.stated_on, support.note) == ("full", date(2025, 11, 3), f"CEO {n} backs it")

    (training,) = facts.training_sessions
    assert (training.held_on, training.hours, training.modules, training.attendee_ids) == (
        date(2025, 12, 1), 6 + n % 3, frozenset(MODULES[:2]), frozenset({lead.id, person.id}))
    (group,) = facts.drafting_groups
    assert (group.member_ids, group.started_on, group.ended_on, group.department_id) == (
        frozenset({lead.id, person.id}), date(2025, 12, 8), date(2025, 12, 22) if n % 2 else None, department.id)

    q1, q2 = sorted(facts.quarters, key=lambda q: q.starts_on)
    assert q1 == QuarterFacts(q1.id, "Q1", date(2026, 1, 5), date(2026, 3, 29))
    assert facts.quarter(2) == q2 and q2.ends_on == date(2026, 6, 21)
    (okr,) = facts.okrs_of(q1)
    assert okr == OkrFacts(okr.id, q1.id, f"Objective {n}", person.id, department.id, 0.7, "continue",
                           date(2025, 12, 20), None)
    (carried,) = facts.okrs_of(q2)
    assert (carried.carried_from_id, carried.score, carried.decision, carried.created_on) == (
        okr.id, None, None, date(2026, 4, 2))
    (kr,) = facts.key_results
    assert kr == KeyResultFacts(kr.id, okr.id, f"Leads {n}")
    assert sorted(facts.check_ins, key=lambda c: c.week_of) == [
        CheckInFacts(kr.id, date(2026, 1, 5), 10.5, 7.0), CheckInFacts(kr.id, date(2026, 1, 12), 30 + n, None)]

    coach, master = sorted(facts.appointments, key=lambda a: a.role)
    assert coach == AppointmentFacts(person.id, "internal_coach", n % 2 == 1,
                                     date(2026, 3, 2) if n % 2 else None, False)
    assert isinstance(coach.trained, bool) and isinstance(master.ready, bool)
    assert master == AppointmentFacts(lead.id, "okr_master", False, None, True)


def test_one_or_many_engagements_load_in_the_same_number_of_queries(engine: Engine, db: Any) -> None:
    with db() as session:
        ids = _seed(session, ENGAGEMENTS)
    with db() as session:
        connection = session.connection()
        one = _count_queries(engine, lambda: load_facts(connection, ids[:1], NOW))
        many = _count_queries(engine, lambda: load_facts(connection, ids[3:17], NOW))
        everything = _count_queries(engine, lambda: load_facts(connection, None, NOW))
        assert one == many == everything == QUERIES_PER_LOAD
        # A session is taken as well as its connection, with the same statements.
        assert _count_queries(engine, lambda: load_facts(session, ids[:1], NOW)) == QUERIES_PER_LOAD
        single = load_facts(connection, ids[:1], NOW)
        some = load_facts(connection, ids[3:17], NOW)
        facts = load_facts(connection, None, NOW)
    assert set(single) == {ids[0]}
    assert set(some) == set(ids[3:17])
    assert set(facts) == set(ids)
    # Whatever the selection, an engagement's facts are the same.
    assert single[ids[0]] == facts[ids[0]]
    assert some[ids[7]] == facts[ids[7]]

    sample = facts[ids[7]]
    assert sample.organization.name == "Org 7"
    assert sample.organization.strategies == ("Focus",)
    assert sample.phase == "kickoff" and sample.entered_phase_at == NOW
    assert len(sample.coach_ids) == 1
    assert [d.is_pilot for d in sample.departments] == [True]
    person = next(p for p in sample.people if p.name == "Person 7")
    assert person.department_ids == frozenset({sample.departments[0].id})
    assert sample.pilot_people(6) == (person,)

    for n, engagement_id in enumerate(ids):
        _assert_records(facts[engagement_id], n)
    # Records never leak into another engagement's facts.
    all_okr_ids = [okr.id for f in facts.values() for okr in f.okrs]
    assert len(all_okr_ids) == len(set(all_okr_ids)) == 2 * ENGAGEMENTS
    all_check_ins = [c.key_result_id for f in facts.values() for c in f.check_ins]
    assert len(all_check_ins) == 2 * ENGAGEMENTS


def test_an_engagement_without_records_has_empty_facts(engine: Engine, db: Any) -> None:
    with db() as session:
        (bare,) = _seed(session, 1, records=False)
        (full,) = _seed(session, 1)
    with db() as session:
        facts = load_facts(session.connection(), [bare, full], NOW)
    empty = facts[bare]
    assert (empty.meetings, empty.ceo_support, empty.training_sessions, empty.drafting_groups, empty.quarters,
            empty.okrs, empty.key_results, empty.check_ins, empty.appointments) == ((),) * 9
    _assert_records(facts[full], 0)
