"""`okr-rollout demo`: each client's engagement carries the history its journey would have produced.

The history is evaluated as the gates see it: every transition an engagement has passed is re-evaluated at the
moment it entered the next phase (its facts as of then), and its readiness now names only the gaps the demo
seeds on purpose.

Loading the demo is most of each test's time (about 5 s on SQLite, 10 s on PostgreSQL), so the tests that only
read it share one load per backend (``loaded_demo``); the ones that load it themselves, or write to it, keep a
database of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import okr_rollout.cli.demo.portfolio as demo
from okr_rollout.catalog.service import Catalog
from okr_rollout.cli.demo.history import timeline
from okr_rollout.cli.demo.portfolio import CLIENTS, DemoClient, load_demo
from okr_rollout.db import make_engine, make_session_factory, session_scope
from okr_rollout.facts import load_facts
from okr_rollout.journey.machine import CriterionOutcome, TransitionReadiness, machine_for
from okr_rollout.models import (
    CeoSupportStatement,
    CheckIn,
    Engagement,
    Event,
    Meeting,
    Okr,
    Organization,
    Quarter,
    TrainingSession,
)
from okr_rollout.playbooks import LoadedPlaybook
from tests.conftest import BACKENDS, separate_database

NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
UnitOfWork = Callable[[], Session]

# The transition out of each client's phase, and the criteria that deliberately (or, mid-quarter, necessarily)
# do not pass yet at NOW.
EXPECTED_GAPS: dict[str, tuple[str, set[str]]] = {
    "Formosa Bikes": ("schedule_executive_meeting", set()),
    "Keelung Logistics": ("hold_kickoff", {"executive_outcomes"}),
    "Tainan Tea Co.": ("start_pilot_training", set()),
    "Hsinchu Semiconductors": ("start_pilot_training", {"foundations", "kickoff_outcomes"}),
    "Alishan Software": ("start_drafting", {"training"}),
    "Nordic Outdoor AB": ("appoint_internal_coaches", {"drafting_duration"}),
    "Lisbon Health": ("start_q1", {"q1_members_own_okrs", "okr_master_appointed"}),
    "Austin Robotics": ("end_q1", {"q1_ended", "q1_check_ins"}),
    "Osaka Foods": ("prepare_next_quarter", {"q1_decided"}),
    "Cape Town Finance": ("train_trainers", {"q2_ended", "q2_scored", "q2_decided"}),
    "Melbourne Design": ("start_expansion", {"ceo_full_support"}),
    "Tiny Studio": ("end_q1", {"q1_ended"}),
    "Two Founders Ltd": ("schedule_executive_meeting", set()),
}


def _load(db: UnitOfWork, catalog: Catalog) -> str:
    with db() as session:
        return load_demo(session, catalog, NOW)


@pytest.fixture(scope="module", params=BACKENDS)
def loaded_demo(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory,
                catalog: Catalog) -> Iterator[UnitOfWork]:
    """The demo loaded once per backend, for the tests that only read it."""
    with separate_database(request.param, sqlite_template, tmp_path_factory.mktemp("demo")) as url:
        engine = make_engine(url)
        factory = make_session_factory(engine)

        def db() -> Session:
            return session_scope(factory)  # type: ignore[return-value]

        _load(db, catalog)
        yield db
        engine.dispose()


def _engagements(session: Session, catalog: Catalog) -> dict[str, tuple[Engagement, LoadedPlaybook]]:
    rows = session.execute(select(Organization.name, Engagement).join(
        Engagement, Engagement.organization_id == Organization.id).order_by(Engagement.id)).all()
    return {name: (engagement, catalog.pinned(session, engagement.playbook_sha256)) for name, engagement in rows}


def _readiness(session: Session, engagement: Engagement, playbook: LoadedPlaybook, trigger: str
               ) -> TransitionReadiness:
    facts = load_facts(session.connection(), [engagement.id], NOW)[engagement.id]
    return machine_for(playbook).evaluate(facts, trigger)


def _failing(readiness: TransitionReadiness) -> dict[str, CriterionOutcome]:
    return {c.id: c for c in readiness.criteria if not c.passed}


def _past_gates_unmet(session: Session, engagement: Engagement, playbook: LoadedPlaybook) -> list[str]:
    """Every criterion of every transition the engagement has passed, as it stood when the engagement entered
    the transition's destination; the unmet ones, described."""
    entries = timeline(playbook, engagement.phase, engagement.entered_phase_at)
    phases = list(entries)
    machine = machine_for(playbook)
    unmet = []
    for phase in phases[: phases.index(engagement.phase)]:
        for transition in playbook.spec.transitions_from(phase):
            then = entries[transition.dest]
            facts = load_facts(session.connection(), [engagement.id], then)[engagement.id]
            readiness = machine.evaluate(replace(facts, phase=phase), transition.trigger)
            unmet += [f"{transition.trigger}/{c.id} at {then:%Y-%m-%d}: {c.reason.en}"
                      for c in readiness.criteria if not c.passed]
    return unmet


def _counts(session: Session) -> dict[str, int]:
    models = (Organization, Engagement, Meeting, CeoSupportStatement, TrainingSession, Quarter, Okr, CheckIn, Event)
    return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0 for m in models}


def test_the_demo_loads_once_and_gives_a_new_token_each_time(db: UnitOfWork, catalog: Catalog) -> None:
    first = _load(db, catalog)
    with db() as session:
        before = _counts(session)
    second = _load(db, catalog)
    with db() as session:
        after = _counts(session)
    assert first != second
    assert after == before
    assert before["organizations"] == before["engagements"] == len(CLIENTS)
    assert before["meetings"] and before["check_ins"] and before["okrs"]


def test_every_transition_passed_had_its_gate_met_when_the_engagement_moved_on(
        loaded_demo: UnitOfWork, catalog: Catalog) -> None:
    with loaded_demo() as session:
        engagements = _engagements(session, catalog)
        assert {name: e.phase for name, (e, _) in engagements.items()} == {c.name: c.phase for c in CLIENTS}
        for name, (engagement, playbook) in engagements.items():
            assert _past_gates_unmet(session, engagement, playbook) == [], name


def test_readiness_now_names_only_the_gaps_the_demo_seeds(loaded_demo: UnitOfWork, catalog: Catalog) -> None:
    with loaded_demo() as session:
        engagements = _engagements(session, catalog)
        assert set(engagements) == set(EXPECTED_GAPS)
        for name, (trigger, gaps) in EXPECTED_GAPS.items():
            engagement, playbook = engagements[name]
            readiness = _readiness(session, engagement, playbook, trigger)
            failing = _failing(readiness)
            assert set(failing) == gaps, (name, {c: f.reason.en for c, f in failing.items()})
            assert readiness.allowed is not any(f.severity == "blocking" for f in failing.values())
        # Each deliberate problem shows the evidence a coach acts on.
        keelung = _failing(_readiness(session, *engagements["Keelung Logistics"], "hold_kickoff"))
        assert keelung["executive_outcomes"].evidence["outcomes_missing"] == ["expectations_set"]
        hsinchu = _failing(_readiness(session, *engagements["Hsinchu Semiconductors"], "start_pilot_training"))
        assert hsinchu["kickoff_outcomes"].evidence["outcomes_missing"] == ["foundations_agreed"]
        alishan_engagement, alishan_playbook = engagements["Alishan Software"]
        alishan = _failing(_readiness(session, alishan_engagement, alishan_playbook, "start_drafting"))
        modules = alishan_playbook.parameters["training_modules"]
        assert isinstance(modules, list)
        assert alishan["training"].evidence["modules_missing"] == modules[-1:]  # the last day is still to come
        lisbon = _failing(_readiness(session, *engagements["Lisbon Health"], "start_q1"))
        assert len(lisbon["q1_members_own_okrs"].evidence["people_without_okr"]) == 1
        assert lisbon["okr_master_appointed"].severity == "advisory"
        austin = _failing(_readiness(session, *engagements["Austin Robotics"], "end_q1"))
        assert austin["q1_check_ins"].evidence["rate"] < austin["q1_check_ins"].evidence["required_rate"]
        osaka = _failing(_readiness(session, *engagements["Osaka Foods"], "prepare_next_quarter"))
        assert len(osaka["q1_decided"].evidence["undecided"]) == 1
        melbourne = _failing(_readiness(session, *engagements["Melbourne Design"], "start_expansion"))
        support = melbourne["ceo_full_support"].evidence
        assert support["level"] == support["required_level"]
        assert support["age_days"] > support["max_age_days"]
        assert "faded" in melbourne["ceo_full_support"].reason.en


def test_continued_okrs_are_carried_into_q2_and_the_rest_replaced(loaded_demo: UnitOfWork, catalog: Catalog) -> None:
    with loaded_demo() as session:
        engagements = _engagements(session, catalog)
        for name in ("Cape Town Finance", "Melbourne Design"):
            engagement, playbook = engagements[name]
            scale, carry = playbook.parameters["score_scale"], playbook.parameters["carry_over_decision"]
            decisions = playbook.parameters["okr_decisions"]
            assert isinstance(scale, list) and isinstance(decisions, list)
            q1, q2 = session.scalars(select(Quarter).where(Quarter.engagement_id == engagement.id)
                                     .order_by(Quarter.starts_on)).all()
            q1_okrs = session.scalars(select(Okr).where(Okr.quarter_id == q1.id)).all()
            q2_okrs = session.scalars(select(Okr).where(Okr.quarter_id == q2.id)).all()
            assert all(okr.score in scale and okr.decision in decisions for okr in q1_okrs), name
            continued = {okr.id for okr in q1_okrs if okr.decision == carry}
            assert continued and len(continued) < len(q1_okrs), name  # some continue, some do not
            assert {okr.carried_from_id for okr in q2_okrs if okr.carried_from_id} == continued, name
            # Every pilot member owns a Q2 OKR: the continued ones, and new ones for the others.
            assert {okr.owner_id for okr in q2_okrs} == {okr.owner_id for okr in q1_okrs}, name
            # Q2 was prepared before the playbook's deadline after Q1's end.
            limit = playbook.parameters["next_quarter_max_days"]
            assert isinstance(limit, int)
            assert all((okr.created_at.date() - q1.ends_on).days <= limit for okr in q2_okrs), name


def test_the_history_lies_in_the_past_and_is_in_each_engagements_events(
        loaded_demo: UnitOfWork, catalog: Catalog) -> None:
    naive_now = NOW.replace(tzinfo=None)
    with loaded_demo() as session:
        held = [m.held_at.replace(tzinfo=None) for m in session.scalars(select(Meeting))]
        assert held and max(held) <= naive_now
        assert max(s.stated_on for s in session.scalars(select(CeoSupportStatement))) <= NOW.date()
        assert max(c.week_of for c in session.scalars(select(CheckIn))) <= NOW.date()
        recorded = session.scalars(select(Event).where(Event.type.in_(
            ["meeting.recorded", "check_in.recorded", "okr.carried_over", "appointment.updated"]))).all()
        assert {e.type for e in recorded} == {"meeting.recorded", "check_in.recorded", "okr.carried_over",
                                              "appointment.updated"}
        assert all(e.engagement_id is not None and e.occurred_at.replace(tzinfo=None) <= naive_now
                   for e in recorded)
        # Nothing was recorded for the clients who have just engaged the coach.
        engagements = _engagements(session, catalog)
        for name in ("Formosa Bikes", "Two Founders Ltd"):
            engagement_id = engagements[name][0].id
            assert session.scalar(select(func.count()).select_from(Meeting)
                                  .where(Meeting.engagement_id == engagement_id)) == 0


def test_any_phase_of_either_playbook_gets_a_history_that_met_every_gate_before_it(
        db: UnitOfWork, catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """Moving a demo client to another phase keeps the demo consistent, for every phase of both playbooks."""
    clients = [
        DemoClient(f"{playbook_id} {phase.id}", headcount, "UTC", phase.id, 3, playbook=playbook_id,
                   foundations=True, pilots=pilots)
        for playbook_id, headcount, pilots in (("standard", 60, ("Sales", "Product")), ("small_company", 5, ()))
        for phase in catalog.current(playbook_id).spec.phases
    ]
    monkeypatch.setattr(demo, "CLIENTS", tuple(clients))
    _load(db, catalog)
    with db() as session:
        engagements = _engagements(session, catalog)
        assert len(engagements) == len(clients)
        for name, (engagement, playbook) in engagements.items():
            assert _past_gates_unmet(session, engagement, playbook) == [], name


def test_the_demo_gives_the_coaches_sign_ins_with_new_passwords_each_time(db: UnitOfWork, catalog: Catalog) -> None:
    from okr_rollout.users.service import check_password, sign_in_attempt

    _load(db, catalog)
    now = datetime.now(UTC)
    with db() as session:
        first = demo.demo_logins(session, now)
    with db() as session:
        second = demo.demo_logins(session, now)
    emails = [email for email, _ in first]
    assert emails == [email for email, _ in second]
    assert emails[0] == "admin@coaching.example" and len(emails) == 3
    with db() as session:
        for (email, old), (_, new) in zip(first, second, strict=True):
            assert old != new
            attempt = sign_in_attempt(session, email, "127.0.0.1", None)
            assert check_password(attempt, old).user is None
            signed_in = check_password(attempt, new).user
            assert signed_in is not None and signed_in.email == email


def test_the_demo_gives_an_internal_coach_a_sign_in_and_a_pilot_member_a_link(db: UnitOfWork,
                                                                              catalog: Catalog) -> None:
    from okr_rollout.clients import links
    from okr_rollout.settings import Settings
    from okr_rollout.users.service import check_password, sign_in_attempt

    _load(db, catalog)
    now = datetime.now(UTC)
    settings = Settings(public_url="https://okr.example")
    with db() as session:
        access = demo.demo_client_access(session, settings, now)
    assert access.internal_coach is not None and access.member_link is not None
    _, email, password = access.internal_coach
    member, organization, url = access.member_link
    assert organization == "Austin Robotics" and url.startswith("https://okr.example/link/")
    with db() as session:
        signed_in = check_password(sign_in_attempt(session, email, "127.0.0.1", None), password).user
        assert signed_in is not None and signed_in.role == "internal_coach"
        opened = links.look_up(session, url.rsplit("/", 1)[1], now)
        assert opened.refusal is None and opened.person is not None and opened.person.name == member
        # The journeys' transitions gave the client's roles their tasks: the member's first check-in is theirs.
        from okr_rollout.models import Task, TaskAssignee
        theirs = session.scalars(select(Task.task_key).join(TaskAssignee, TaskAssignee.task_id == Task.id)
                                 .where(TaskAssignee.person_id == opened.person.id)).all()
        assert "first_check_in" in theirs
