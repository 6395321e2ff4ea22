"""A whole engagement walked through each shipped playbook, gate by gate.

At every gate the walk first fires the trigger too early and checks that the
refusal names exactly the criteria that are missing (with the evidence that
says why), then records the facts a coach would record, checks that the
readiness report allows the move, fires it and checks the new phase and the
tasks it creates. Time only moves by changing ``facts.now``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from okr_rollout.journey.facts import (
    AppointmentFacts,
    CeoSupportFacts,
    CheckInFacts,
    DepartmentFacts,
    DraftingGroupFacts,
    EngagementFacts,
    KeyResultFacts,
    MeetingFacts,
    OkrFacts,
    OrganizationFacts,
    PersonFacts,
    QuarterFacts,
    TrainingSessionFacts,
)
from okr_rollout.journey.machine import CriterionOutcome, JourneyMachine, Moved, Refused, machine_for
from okr_rollout.playbooks import LoadedPlaybook, load

PLAYBOOKS = Path(__file__).parents[2] / "playbooks"
COACH = 900
CEO = 1
MODULES = ("basic_concepts", "deep_principles", "case_studies", "practice_and_coaching")


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


# --- the walker -------------------------------------------------------------------------------


@dataclass
class Walk:
    """One engagement: the facts recorded so far and the machine of its playbook."""

    playbook: LoadedPlaybook
    machine: JourneyMachine
    facts: EngagementFacts

    @classmethod
    def start(cls, file: str, organization: OrganizationFacts, now: datetime, **facts: Any) -> Walk:
        playbook = load(PLAYBOOKS / file)
        start = EngagementFacts(
            engagement_id=1,
            phase=playbook.spec.start_phase,
            entered_phase_at=now,
            now=now,
            organization=organization,
            **facts,
        )
        return cls(playbook, machine_for(playbook), start)

    def on(self, day: date, hour: int = 10) -> None:
        self.facts = replace(self.facts, now=at(day, hour))

    def add(self, **more: Iterable[Any]) -> None:
        """Append to the fact tuples (meetings=..., okrs=...)."""
        appended: dict[str, Any] = {name: (*getattr(self.facts, name), *items) for name, items in more.items()}
        self.facts = replace(self.facts, **appended)

    def set(self, **values: Any) -> None:
        self.facts = replace(self.facts, **values)

    def organization(self, **fields: Any) -> None:
        self.set(organization=replace(self.facts.organization, **fields))

    def grade(self, okr_ids: Iterable[int], score: float, decision: str = "continue") -> None:
        chosen = set(okr_ids)
        self.set(okrs=tuple(
            replace(okr, score=score, decision=decision) if okr.id in chosen else okr for okr in self.facts.okrs
        ))

    def refused(self, trigger: str) -> dict[str, CriterionOutcome]:
        """Fire too early: the refusal's blocking criteria by id."""
        result = self.machine.fire(self.facts, trigger)
        assert isinstance(result, Refused), f"{trigger} should be refused in {self.facts.phase}"
        assert result.source == self.facts.phase
        return {criterion.id: criterion for criterion in result.readiness.criteria if criterion.blocks}

    def criterion(self, trigger: str, criterion_id: str) -> CriterionOutcome:
        (outcome,) = [c for c in self.machine.evaluate(self.facts, trigger).criteria if c.id == criterion_id]
        return outcome

    def move(self, trigger: str, dest: str) -> Moved:
        (ready,) = [t for t in self.machine.readiness(self.facts).transitions if t.trigger == trigger]
        assert ready.allowed, [(c.id, c.reason.en) for c in ready.criteria if c.blocks]
        result = self.machine.fire(self.facts, trigger)
        assert isinstance(result, Moved)
        assert (result.source, result.dest) == (self.facts.phase, dest)
        assert [(t.phase, t.task_id, t.due_at) for t in result.tasks] == expected_tasks(
            self.playbook, dest, self.facts.now
        )
        assert result.tasks, f"phase {dest} should create tasks"
        self.set(phase=dest, entered_phase_at=self.facts.now)
        return result


def expected_tasks(playbook: LoadedPlaybook, phase: str, entered_at: datetime) -> list[tuple[str, str, datetime]]:
    """The phase's tasks as written in the YAML, each due ``due_days`` after entering the phase."""

    def days(due: int | str) -> int:
        value = playbook.parameters[due[1:]] if isinstance(due, str) else due
        assert isinstance(value, int)
        return value

    return [
        (phase, task.id, entered_at + timedelta(days=days(task.due_days)))
        for task in playbook.phase(phase).tasks
    ]


# --- fact builders ------------------------------------------------------------------------------

_ids = itertools.count(1000)


def person(pid: int, *departments: int, roles: Iterable[str] = ()) -> PersonFacts:
    return PersonFacts(pid, f"Person {pid}", frozenset(roles), frozenset(departments))


def meeting(kind: str, day: date, attendees: Iterable[int] = (), outcomes: Iterable[str] = (),
            department: int | None = None) -> MeetingFacts:
    return MeetingFacts(next(_ids), kind, at(day), frozenset(attendees), frozenset(outcomes), department)


def session(day: date, hours: float, modules: Iterable[str], attendees: Iterable[int]) -> TrainingSessionFacts:
    return TrainingSessionFacts(next(_ids), day, hours, frozenset(modules), frozenset(attendees))


def okrs_with_key_results(
    quarter: QuarterFacts, owners: Mapping[int, int | None], first_id: int, created_on: date
) -> tuple[tuple[OkrFacts, ...], tuple[KeyResultFacts, ...]]:
    """One OKR per owner (owner id -> department id), each with one key result (id = OKR id * 10)."""
    okrs = tuple(
        OkrFacts(first_id + n, quarter.id, f"Objective of {owner}", owner_id=owner, department_id=department,
                 created_on=created_on)
        for n, (owner, department) in enumerate(owners.items())
    )
    return okrs, tuple(KeyResultFacts(okr.id * 10, okr.id, "metric") for okr in okrs)


def weeks_of(quarter: QuarterFacts) -> int:
    return ((quarter.ends_on - quarter.starts_on).days + 1) // 7


def weekly_check_ins(quarter: QuarterFacts, key_results: Iterable[KeyResultFacts]) -> tuple[CheckInFacts, ...]:
    return tuple(
        CheckInFacts(kr.id, quarter.starts_on + timedelta(weeks=week), value=float(week))
        for kr in key_results
        for week in range(weeks_of(quarter))
    )


def team_meetings(quarter: QuarterFacts, teams: dict[int | None, set[int]]) -> tuple[MeetingFacts, ...]:
    """A weekly team meeting of every team (department id -> members) through the quarter."""
    return tuple(
        meeting("weekly_team", quarter.starts_on + timedelta(weeks=week), members, department=department)
        for department, members in teams.items()
        for week in range(weeks_of(quarter))
    )


def one_on_ones(quarter: QuarterFacts, lead_of: dict[int, int]) -> tuple[MeetingFacts, ...]:
    """A 1:1 of every person (person -> who they meet) every two weeks through the quarter."""
    fortnights = ((quarter.ends_on - quarter.starts_on).days + 1) // 14
    return tuple(
        meeting("one_on_one", quarter.starts_on + timedelta(weeks=2 * n), {member, lead})
        for member, lead in lead_of.items()
        for n in range(fortnights)
    )


# --- the standard playbook ------------------------------------------------------------------

SALES, MARKETING, OPS = 10, 20, 30
SALES_PEOPLE = {11, 12, 13, 14}  # 11 leads sales
MARKETING_PEOPLE = {21, 22, 23}  # 21 leads marketing
PILOT_PEOPLE = SALES_PEOPLE | MARKETING_PEOPLE
INTERNAL_COACH, OKR_MASTER = 12, 21
LEAD_OF = {12: 11, 13: 11, 14: 11, 11: CEO, 22: 21, 23: 21, 21: CEO}
DEPARTMENT_OF = {p: SALES for p in SALES_PEOPLE} | {p: MARKETING for p in MARKETING_PEOPLE}
Q1 = QuarterFacts(1, "2025-Q1", date(2025, 4, 1), date(2025, 6, 30))
Q2 = QuarterFacts(2, "2025-Q2", date(2025, 7, 21), date(2025, 10, 19))


def departments(*pilots: int) -> tuple[DepartmentFacts, ...]:
    return tuple(
        DepartmentFacts(did, name, is_pilot=did in pilots, lead_id=lead)
        for did, name, lead in ((SALES, "Sales", 11), (MARKETING, "Marketing", 21), (OPS, "Operations", 31))
    )


def standard_walk() -> Walk:
    people = (
        person(CEO, roles={"ceo"}),
        *(person(p, SALES) for p in sorted(SALES_PEOPLE)),
        *(person(p, MARKETING) for p in sorted(MARKETING_PEOPLE)),
        person(31, OPS), person(32, OPS),
    )
    organization = OrganizationFacts(1, "Acme Tea Co.", headcount=40, mission="Good tea for every office")
    return Walk.start(
        "standard.yaml", organization, at(date(2025, 1, 6)), people=people, departments=departments()
    )


def test_standard_playbook_walks_from_coach_engaged_to_expansion() -> None:
    walk = standard_walk()
    assert walk.facts.phase == "coach_engaged"

    # 1 -> 2: an OKR coach must be assigned.
    blocking = walk.refused("schedule_executive_meeting")
    assert set(blocking) == {"coach_assigned"}
    assert blocking["coach_assigned"].evidence["coaches"] == 0
    walk.set(coach_ids=frozenset({COACH}))
    walk.move("schedule_executive_meeting", "executive_meeting")

    # 2 -> 3: the executive meeting's three outcomes and the CEO's support.
    walk.on(date(2025, 1, 13))
    walk.add(meetings=[meeting("executive", date(2025, 1, 13), {CEO, 11, 21}, {"ceo_support", "okrs_introduced"})])
    blocking = walk.refused("hold_kickoff")
    assert set(blocking) == {"executive_outcomes", "ceo_backing"}
    assert blocking["executive_outcomes"].evidence["outcomes_missing"] == ["expectations_set"]
    assert blocking["ceo_backing"].evidence["required_level"] == "partial"
    walk.add(
        meetings=[meeting("executive", date(2025, 1, 13), {CEO}, {"expectations_set"})],
        ceo_support=[CeoSupportFacts("partial", date(2025, 1, 13))],
    )
    walk.move("hold_kickoff", "kickoff")

    # 3 -> 4: mission, vision, strategies; one or two pilots; the kickoff held.
    walk.on(date(2025, 1, 20))
    walk.set(departments=departments(SALES, MARKETING, OPS))
    blocking = walk.refused("start_pilot_training")
    assert set(blocking) == {"foundations", "pilot_choice", "kickoff_outcomes"}
    assert blocking["foundations"].evidence["missing"] == ["vision_1y", "vision_5y", "vision_10y", "strategies"]
    assert blocking["pilot_choice"].evidence["pilot_department_ids"] == [SALES, MARKETING, OPS]
    walk.organization(
        vision_1y="In 50 offices", vision_5y="In 500 offices", vision_10y="The office tea brand",
        strategies=("Direct sales to facility managers",),
    )
    walk.set(departments=departments(SALES, MARKETING))
    walk.add(meetings=[
        meeting("kickoff", date(2025, 1, 20), {CEO, 11, 21}, {"foundations_agreed", "pilot_leads_committed"})
    ])
    walk.move("start_pilot_training", "pilot_training")

    # 4 -> 5: 18 hours, the four modules, 80% of the pilot at every module.
    walk.add(training_sessions=[
        session(date(2025, 2, 3), 6, MODULES[:2], PILOT_PEOPLE),
        session(date(2025, 2, 4), 6, MODULES[2:3], PILOT_PEOPLE),
    ])
    walk.on(date(2025, 2, 4), hour=18)
    blocking = walk.refused("start_drafting")
    assert set(blocking) == {"training"}
    assert blocking["training"].evidence["hours"] == 12
    assert blocking["training"].evidence["modules_missing"] == ["practice_and_coaching"]
    walk.add(training_sessions=[session(date(2025, 2, 5), 6, MODULES[3:], PILOT_PEOPLE - {23})])
    walk.on(date(2025, 2, 6))
    assert walk.criterion("start_drafting", "training").evidence["fully_trained"] == 6  # 6 of 7 >= 80%
    moved = walk.move("start_drafting", "pilot_drafting")
    (draft,) = [t for t in moved.tasks if t.task_id == "draft_okrs"]
    assert draft.due_at == at(date(2025, 2, 27))  # the guide's 3 weeks
    assert draft.role == "department_lead"

    # 5 -> 6: groups of 3-5 that took 2-3 weeks, OKR software, Q1 planned for every pilot.
    walk.add(drafting_groups=[
        DraftingGroupFacts(1, frozenset(SALES_PEOPLE), date(2025, 2, 10), department_id=SALES),
        DraftingGroupFacts(2, frozenset(MARKETING_PEOPLE), date(2025, 2, 10), department_id=MARKETING),
    ])
    walk.on(date(2025, 2, 17))
    blocking = walk.refused("appoint_internal_coaches")
    assert set(blocking) == {"drafting_duration", "okr_software", "q1_planned"}
    assert blocking["drafting_duration"].evidence["open_groups"] == [1, 2]
    assert blocking["q1_planned"].evidence["quarter"] == 1  # no Q1 recorded yet
    walk.set(drafting_groups=tuple(replace(g, ended_on=date(2025, 2, 28)) for g in walk.facts.drafting_groups))
    walk.organization(okr_software="okr-rollout")
    q1_lead_okrs, q1_lead_krs = okrs_with_key_results(Q1, {11: SALES, 21: MARKETING}, 100, date(2025, 2, 28))
    walk.add(quarters=[Q1], okrs=q1_lead_okrs, key_results=q1_lead_krs)
    walk.on(date(2025, 3, 3))
    walk.move("appoint_internal_coaches", "coaches_appointed")

    # 6 -> 7: internal coaches appointed; every pilot member owns a Q1 OKR; OKR Master optional.
    walk.on(date(2025, 3, 10))
    blocking = walk.refused("start_q1")
    assert set(blocking) == {"internal_coaches_appointed", "q1_members_own_okrs"}
    assert blocking["q1_members_own_okrs"].evidence["people_without_okr"] == [12, 13, 14, 22, 23]
    members = {p: DEPARTMENT_OF[p] for p in sorted(PILOT_PEOPLE - {11, 21})}
    q1_member_okrs, q1_member_krs = okrs_with_key_results(Q1, members, 110, date(2025, 3, 10))
    walk.add(
        appointments=[AppointmentFacts(INTERNAL_COACH, "internal_coach")],
        okrs=q1_member_okrs, key_results=q1_member_krs,
    )
    master = walk.criterion("start_q1", "okr_master_appointed")
    assert (master.passed, master.severity) == (False, "advisory")  # no OKR Master: a warning only
    walk.move("start_q1", "q1_cycle")

    # 7 -> 8: Q1 over, weekly check-ins, weekly team meetings, 1:1s every two weeks.
    walk.on(date(2025, 5, 15))
    blocking = walk.refused("end_q1")
    assert set(blocking) == {"q1_ended", "q1_check_ins", "q1_team_meetings", "q1_one_on_ones"}
    assert blocking["q1_check_ins"].evidence["rate"] == 0.0
    assert blocking["q1_check_ins"].evidence["periods_elapsed"] == 6
    assert blocking["q1_team_meetings"].evidence["behind"] == [str(SALES), str(MARKETING)]
    assert blocking["q1_ended"].evidence["ends_on"] == "2025-06-30"
    walk.add(
        check_ins=weekly_check_ins(Q1, walk.facts.key_results),
        meetings=(*team_meetings(Q1, {SALES: SALES_PEOPLE, MARKETING: MARKETING_PEOPLE}),
                  *one_on_ones(Q1, LEAD_OF)),
    )
    walk.on(date(2025, 7, 1))
    walk.move("end_q1", "quarter_review")

    # 8 -> 9: every Q1 OKR scored on Google's scale, and decided.
    q1_ids = [okr.id for okr in walk.facts.okrs]
    walk.on(date(2025, 7, 4))
    blocking = walk.refused("prepare_next_quarter")
    assert set(blocking) == {"q1_scored", "q1_decided"}
    assert blocking["q1_scored"].evidence["unscored"] == sorted(q1_ids)
    walk.grade(q1_ids, 0.7)
    walk.grade([q1_ids[0]], 0.5, "complete")  # 0.5 is not on the scale
    blocking = walk.refused("prepare_next_quarter")
    assert set(blocking) == {"q1_scored"}
    assert blocking["q1_scored"].evidence["off_scale"] == [q1_ids[0]]
    walk.grade([q1_ids[0]], 1.0, "complete")
    walk.on(date(2025, 7, 8))
    walk.move("prepare_next_quarter", "next_quarter")

    # 9 -> 10: Q2 planned for every pilot and member, within 3 weeks of Q1's end (advisory).
    walk.on(date(2025, 7, 10))
    blocking = walk.refused("start_q2")
    assert set(blocking) == {"q2_planned", "q2_members_own_okrs"}
    assert blocking["q2_planned"].evidence == {"quarter": 2}  # Q2 has no dates yet
    deadline = walk.criterion("start_q2", "q2_prepared_in_time")
    assert (deadline.passed, deadline.blocks) == (False, False)
    assert deadline.evidence["days_left"] == 11  # 2025-06-30 + 21 days = 2025-07-21
    q2_okrs, q2_krs = okrs_with_key_results(Q2, DEPARTMENT_OF, 200, date(2025, 7, 15))
    walk.add(quarters=[Q2], okrs=q2_okrs, key_results=q2_krs)
    walk.on(date(2025, 7, 18))
    assert walk.criterion("start_q2", "q2_prepared_in_time").passed
    walk.move("start_q2", "q2_cycle")

    # 10 -> 11: the Q2 cycle complete, scored and decided.
    walk.on(date(2025, 9, 1))
    blocking = walk.refused("train_trainers")
    assert set(blocking) == {
        "q2_ended", "q2_check_ins", "q2_team_meetings", "q2_one_on_ones", "q2_scored", "q2_decided",
    }
    assert blocking["q2_one_on_ones"].evidence["behind"] == sorted(str(p) for p in PILOT_PEOPLE)
    walk.add(
        check_ins=weekly_check_ins(Q2, q2_krs),
        meetings=(*team_meetings(Q2, {SALES: SALES_PEOPLE, MARKETING: MARKETING_PEOPLE}),
                  *one_on_ones(Q2, LEAD_OF)),
    )
    walk.on(date(2025, 10, 20))
    walk.grade([okr.id for okr in q2_okrs], 0.3, "continue")
    walk.move("train_trainers", "train_the_trainers")

    # 11 -> 12: internal coaches trained, OKR Master ready.
    walk.on(date(2025, 11, 3))
    blocking = walk.refused("start_culture")
    assert set(blocking) == {"internal_coaches_trained", "okr_master_ready"}
    assert blocking["internal_coaches_trained"].evidence["untrained"] == [INTERNAL_COACH]
    assert blocking["okr_master_ready"].evidence["appointed"] == []
    walk.set(appointments=(
        AppointmentFacts(INTERNAL_COACH, "internal_coach", trained=True, trained_on=date(2025, 11, 7)),
        AppointmentFacts(OKR_MASTER, "okr_master", ready=True),
    ))
    walk.on(date(2025, 11, 10))
    walk.move("start_culture", "culture")

    # 12 -> 13: the four conditions; the CEO's partial support from January no longer counts.
    walk.on(date(2025, 12, 1))
    blocking = walk.refused("start_expansion")
    assert set(blocking) == {"ceo_full_support"}
    assert blocking["ceo_full_support"].evidence["level"] == "partial"
    pilot = walk.criterion("start_expansion", "pilot_success")
    assert pilot.passed
    assert pilot.evidence["average_score"] == pytest.approx(0.521)  # (1.0 + 6 x 0.7 + 7 x 0.3) / 14
    walk.add(ceo_support=[CeoSupportFacts("full", date(2025, 12, 1))])
    walk.move("start_expansion", "expansion")

    assert walk.playbook.phase("expansion").final
    assert walk.machine.triggers_from("expansion") == []


def test_standard_journey_is_the_thirteen_phases_in_order() -> None:
    playbook = load(PLAYBOOKS / "standard.yaml")
    phases = [phase.id for phase in playbook.spec.phases]
    assert phases == [
        "coach_engaged", "executive_meeting", "kickoff", "pilot_training", "pilot_drafting",
        "coaches_appointed", "q1_cycle", "quarter_review", "next_quarter", "q2_cycle",
        "train_the_trainers", "culture", "expansion",
    ]
    assert [(t.source, t.dest) for t in playbook.spec.transitions] == list(itertools.pairwise(phases))


# --- the small-company playbook -------------------------------------------------------------

TEAM = {1, 2, 3, 4, 5}  # the CEO (1) and four people
SMALL_MASTER = 2
SMALL_Q1 = QuarterFacts(1, "2025-Q1", date(2025, 4, 1), date(2025, 6, 30))
SMALL_Q2 = QuarterFacts(2, "2025-Q2", date(2025, 7, 14), date(2025, 10, 12))


def small_walk(headcount: int = 5) -> Walk:
    people = (person(CEO, roles={"ceo"}), *(person(p) for p in sorted(TEAM - {CEO})))
    organization = OrganizationFacts(2, "Five Leaves", headcount=headcount)
    return Walk.start("small-company.yaml", organization, at(date(2025, 1, 6)), people=people)


def test_small_company_playbook_walks_the_whole_company_to_culture() -> None:
    walk = small_walk()

    blocking = walk.refused("schedule_executive_meeting")
    assert set(blocking) == {"coach_assigned"}
    walk.set(coach_ids=frozenset({COACH}))
    walk.move("schedule_executive_meeting", "executive_meeting")

    walk.on(date(2025, 1, 13))
    blocking = walk.refused("hold_kickoff")
    assert set(blocking) == {"executive_outcomes", "ceo_backing"}
    assert blocking["executive_outcomes"].evidence["meeting_ids"] == []
    walk.add(
        meetings=[meeting("executive", date(2025, 1, 13), {CEO},
                          {"ceo_support", "okrs_introduced", "expectations_set"})],
        ceo_support=[CeoSupportFacts("full", date(2025, 1, 13))],
    )
    walk.move("hold_kickoff", "kickoff")

    # No pilot is chosen: the gate asks for the foundations and a small headcount instead.
    walk.on(date(2025, 1, 20))
    blocking = walk.refused("start_training")
    assert set(blocking) == {"foundations", "kickoff_outcomes"}
    assert blocking["foundations"].evidence["missing"] == [
        "mission", "vision_1y", "vision_5y", "vision_10y", "strategies",
    ]
    assert walk.criterion("start_training", "small_enough").evidence == {"headcount": 5, "max_headcount": 6}
    walk.organization(mission="Plants for flats", vision_1y="1,000 customers", vision_5y="Three cities",
                      vision_10y="Every city", strategies=("Subscriptions",))
    walk.add(meetings=[meeting("kickoff", date(2025, 1, 20), TEAM, {"foundations_agreed"})])
    walk.move("start_training", "company_training")

    # Everyone is trained: with 5 people the whole company is the "pilot".
    walk.add(training_sessions=[session(date(2025, 1, 27), 12, MODULES[:3], TEAM)])
    walk.on(date(2025, 1, 28))
    blocking = walk.refused("start_drafting")
    assert set(blocking) == {"training"}
    assert blocking["training"].evidence["pilot_people"] == 5
    assert blocking["training"].evidence["modules_missing"] == ["practice_and_coaching"]
    walk.add(training_sessions=[session(date(2025, 1, 28), 6, MODULES[3:], TEAM)])
    walk.move("start_drafting", "okr_drafting")

    walk.add(drafting_groups=[DraftingGroupFacts(1, frozenset(TEAM), date(2025, 2, 3))])
    walk.on(date(2025, 2, 10))
    blocking = walk.refused("appoint_okr_master")
    assert set(blocking) == {"drafting_duration", "okr_software", "q1_planned"}
    assert blocking["drafting_duration"].evidence["days_so_far"] == 7
    walk.set(drafting_groups=(replace(walk.facts.drafting_groups[0], ended_on=date(2025, 2, 21)),))
    company_okrs, company_krs = okrs_with_key_results(SMALL_Q1, {CEO: None}, 100, date(2025, 2, 21))
    walk.add(quarters=[SMALL_Q1], okrs=company_okrs, key_results=company_krs)
    walk.on(date(2025, 2, 24))
    walk.move("appoint_okr_master", "coaches_appointed")

    # An OKR Master is required here; an internal coach is only advised.
    walk.on(date(2025, 3, 3))
    blocking = walk.refused("start_q1")
    assert set(blocking) == {"okr_master_appointed", "q1_members_own_okrs"}
    assert blocking["q1_members_own_okrs"].evidence["people_without_okr"] == [2, 3, 4, 5]
    personal, personal_krs = okrs_with_key_results(SMALL_Q1, dict.fromkeys(TEAM - {CEO}), 110, date(2025, 3, 3))
    walk.add(appointments=[AppointmentFacts(SMALL_MASTER, "okr_master")], okrs=personal,
             key_results=personal_krs)
    coach = walk.criterion("start_q1", "internal_coach_appointed")
    assert (coach.passed, coach.blocks) == (False, False)
    walk.move("start_q1", "q1_cycle")

    walk.on(date(2025, 6, 1))
    blocking = walk.refused("end_q1")
    assert set(blocking) == {"q1_ended", "q1_check_ins", "q1_team_meetings", "q1_one_on_ones"}
    assert blocking["q1_team_meetings"].evidence["held"] == {"company": 0}
    company_one_on_ones = {p: CEO for p in TEAM - {CEO}} | {CEO: SMALL_MASTER}
    walk.add(
        check_ins=weekly_check_ins(SMALL_Q1, walk.facts.key_results),
        meetings=(*team_meetings(SMALL_Q1, {None: TEAM}), *one_on_ones(SMALL_Q1, company_one_on_ones)),
    )
    walk.on(date(2025, 7, 1))
    walk.move("end_q1", "quarter_review")

    q1_ids = [okr.id for okr in walk.facts.okrs]
    blocking = walk.refused("prepare_next_quarter")
    assert set(blocking) == {"q1_scored", "q1_decided"}
    assert blocking["q1_decided"].evidence["undecided"] == sorted(q1_ids)
    walk.grade(q1_ids, 0.7)
    walk.on(date(2025, 7, 7))
    walk.move("prepare_next_quarter", "next_quarter")

    blocking = walk.refused("start_q2")
    assert set(blocking) == {"q2_planned", "q2_members_own_okrs"}
    q2_okrs, q2_krs = okrs_with_key_results(SMALL_Q2, dict.fromkeys(TEAM), 200, date(2025, 7, 11))
    walk.add(quarters=[SMALL_Q2], okrs=q2_okrs, key_results=q2_krs)
    walk.on(date(2025, 7, 11))
    walk.move("start_q2", "q2_cycle")

    # Q2 closes the engagement: the OKR Master must be ready to carry OKRs on.
    walk.on(date(2025, 10, 13))
    blocking = walk.refused("start_culture")
    assert set(blocking) == {
        "q2_check_ins", "q2_team_meetings", "q2_one_on_ones", "q2_scored", "q2_decided", "okr_master_ready",
    }
    assert blocking["okr_master_ready"].evidence == {"appointed": [SMALL_MASTER], "ready": []}
    walk.add(
        check_ins=weekly_check_ins(SMALL_Q2, q2_krs),
        meetings=(*team_meetings(SMALL_Q2, {None: TEAM}), *one_on_ones(SMALL_Q2, company_one_on_ones)),
    )
    walk.grade([okr.id for okr in q2_okrs], 1.0, "complete")
    walk.set(appointments=(AppointmentFacts(SMALL_MASTER, "okr_master", ready=True),))
    walk.on(date(2025, 10, 20))
    walk.move("start_culture", "culture")

    assert walk.playbook.phase("culture").final
    assert walk.machine.triggers_from("culture") == []


def test_small_company_playbook_refuses_a_company_above_the_threshold() -> None:
    walk = small_walk(headcount=7)
    walk.set(phase="kickoff")
    walk.organization(mission="m", vision_1y="v1", vision_5y="v5", vision_10y="v10", strategies=("s",))
    walk.add(meetings=[meeting("kickoff", date(2025, 1, 6), TEAM, {"foundations_agreed"})])
    blocking = walk.refused("start_training")
    assert set(blocking) == {"small_enough"}
    assert blocking["small_enough"].evidence == {"headcount": 7, "max_headcount": 6}


def test_small_company_journey_has_no_pilot_and_no_expansion() -> None:
    playbook = load(PLAYBOOKS / "small-company.yaml")
    phases = [phase.id for phase in playbook.spec.phases]
    assert phases == [
        "coach_engaged", "executive_meeting", "kickoff", "company_training", "okr_drafting",
        "coaches_appointed", "q1_cycle", "quarter_review", "next_quarter", "q2_cycle", "culture",
    ]
    assert [(t.source, t.dest) for t in playbook.spec.transitions] == list(itertools.pairwise(phases))
    kinds = {criterion.kind for gate in playbook.gates.values() for criterion in gate}
    assert "pilot_departments" not in kinds
    assert "pilot_completed" not in kinds
