"""Every parameter that a gate or a cadence of standard.yaml uses really steers it.

Each case loads a copy of standard.yaml whose parameter default is changed by
text substitution, and shows that the same facts get a different verdict (or
the same clock different reminders) than with the shipped default. A final
test checks that no parameter referenced by a gate or cadence is left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from okr_rollout.journey.cadences import due_reminders
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
from okr_rollout.journey.machine import CriterionOutcome, machine_for
from okr_rollout.playbooks import LoadedPlaybook, load_text

STANDARD_FILE = Path(__file__).parents[2] / "playbooks" / "standard.yaml"
MODULES = ("basic_concepts", "deep_principles", "case_studies", "practice_and_coaching")
NOW = datetime(2025, 7, 1, 10, tzinfo=UTC)
TODAY = NOW.date()
Q1 = QuarterFacts(1, "2025-Q1", date(2025, 4, 1), date(2025, 6, 30))  # 91 days: 13 weeks, 6 fortnights
Q2 = QuarterFacts(2, "2025-Q2", date(2025, 7, 21), date(2025, 10, 19))


@cache
def standard_text() -> str:
    return STANDARD_FILE.read_text(encoding="utf-8")


@cache
def standard() -> LoadedPlaybook:
    return load_text(standard_text(), str(STANDARD_FILE))


@cache
def with_default(name: str, value: str) -> LoadedPlaybook:
    """standard.yaml with the ``default:`` line of parameter ``name`` rewritten to ``value``."""
    block = re.compile(rf"^(  {name}:\n(?:    .*\n)*?    default: ).*$", re.MULTILINE)
    text, count = block.subn(lambda match: match.group(1) + value, standard_text())
    assert count == 1, f"parameter {name} not found in standard.yaml"
    playbook = load_text(text, f"standard.yaml with {name} = {value}")
    assert playbook.parameters[name] != standard().parameters[name]
    return playbook


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


# --- facts ------------------------------------------------------------------------------------


def facts(headcount: int = 40, **values: Any) -> EngagementFacts:
    """An engagement of a company above the small-company threshold; phase and clock set per case."""
    organization = OrganizationFacts(1, "Acme Tea Co.", headcount=headcount)
    return EngagementFacts(1, "coach_engaged", NOW, NOW, organization, **values)


def pilot(size: int, *, departments: int = 1) -> dict[str, Any]:
    """``departments`` pilot departments (10, 20, ...) with ``size`` people each (10 + 1, 10 + 2, ...)."""
    department_ids = [10 * (n + 1) for n in range(departments)]
    return {
        "departments": tuple(DepartmentFacts(d, f"Department {d}", is_pilot=True, lead_id=d + 1)
                             for d in department_ids),
        "people": tuple(PersonFacts(d + n, f"Person {d + n}", department_ids=frozenset({d}))
                        for d in department_ids for n in range(1, size + 1)),
    }


def pilot_ids(size: int) -> set[int]:
    return {10 + n for n in range(1, size + 1)}


def ceo_said(level: str, days_ago: int) -> dict[str, Any]:
    return {"ceo_support": (CeoSupportFacts(level, TODAY - timedelta(days=days_ago)),)}


def trained(hours_each: float, modules: Iterable[str], absent: Iterable[int] = ()) -> dict[str, Any]:
    """A 5-person pilot and one session per module; ``absent`` people miss the last session."""
    modules = list(modules)
    everyone, missing = pilot_ids(5), set(absent)
    sessions = tuple(
        TrainingSessionFacts(n, TODAY - timedelta(days=10 - n), hours_each, frozenset({module}),
                             frozenset(everyone - missing if n == len(modules) - 1 else everyone))
        for n, module in enumerate(modules)
    )
    return {**pilot(5), "training_sessions": sessions}


def drafted(group_size: int, days: int) -> dict[str, Any]:
    """The whole pilot in one drafting group that ran ``days`` days."""
    started = TODAY - timedelta(days=days)
    group = DraftingGroupFacts(1, frozenset(pilot_ids(group_size)), started, ended_on=TODAY)
    return {**pilot(group_size), "drafting_groups": (group,)}


def every(days: int, count: int, start: date = Q1.starts_on) -> list[date]:
    return [start + timedelta(days=days * n) for n in range(count)]


def checked_in(on: list[date]) -> dict[str, Any]:
    """One Q1 OKR with one key result, checked in on the given days."""
    okr = OkrFacts(1, Q1.id, "Objective", owner_id=11, department_id=10)
    return {
        **pilot(1),
        "quarters": (Q1,),
        "okrs": (okr,),
        "key_results": (KeyResultFacts(1, okr.id),),
        "check_ins": tuple(CheckInFacts(1, day, 1.0) for day in on),
    }


def met(kind: str, on: list[date]) -> dict[str, Any]:
    """A 2-person pilot department (11 leads 12) meeting on the given days, in Q1."""
    meetings = tuple(
        MeetingFacts(n, kind, at(day), frozenset({11, 12}), department_id=10) for n, day in enumerate(on)
    )
    return {**pilot(2), "quarters": (Q1,), "meetings": meetings}


def scored(*grades: tuple[float, str], quarters: tuple[QuarterFacts, ...] = (Q1,)) -> dict[str, Any]:
    """One OKR per (score, decision) in each quarter."""
    okrs = tuple(
        OkrFacts(10 * quarter.id + n, quarter.id, "Objective", owner_id=11, score=score, decision=decision)
        for quarter in quarters for n, (score, decision) in enumerate(grades)
    )
    return {"quarters": quarters, "okrs": okrs}


def prepared_next_quarter_on(day: date) -> dict[str, Any]:
    okrs = (OkrFacts(1, Q1.id, "Q1 objective", owner_id=11), OkrFacts(2, Q2.id, "Q2", owner_id=11, created_on=day))
    return {"quarters": (Q1, Q2), "okrs": okrs}


def outcome(playbook: LoadedPlaybook, engagement: EngagementFacts, trigger: str, criterion: str) -> CriterionOutcome:
    (transition,) = [t for t in playbook.spec.transitions if t.trigger == trigger]
    readiness = machine_for(playbook).evaluate(replace(engagement, phase=transition.source), trigger)
    (found,) = [c for c in readiness.criteria if c.id == criterion]
    return found


# --- gates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateCase:
    parameter: str
    changed_to: str  # YAML text of the new default
    trigger: str
    criterion: str
    facts: EngagementFacts
    passes_by_default: bool
    now: datetime = NOW

    def __str__(self) -> str:
        return f"{self.parameter}={self.changed_to}"


GATE_CASES = [
    GateCase("min_coaches", "2", "schedule_executive_meeting", "coach_assigned",
             facts(coach_ids=frozenset({900})), passes_by_default=True),
    GateCase("ceo_support_max_age_days", "30", "hold_kickoff", "ceo_backing",
             facts(**ceo_said("partial", days_ago=60)), passes_by_default=True),
    GateCase("kickoff_ceo_support_level", "full", "hold_kickoff", "ceo_backing",
             facts(**ceo_said("partial", days_ago=1)), passes_by_default=True),
    GateCase("expansion_ceo_support_level", "partial", "start_expansion", "ceo_full_support",
             facts(**ceo_said("partial", days_ago=1)), passes_by_default=False),
    # 40 people and no pilot chosen: only a company at or below the threshold may skip the choice.
    GateCase("small_company_headcount", "40", "start_pilot_training", "pilot_choice",
             facts(), passes_by_default=False),
    GateCase("pilot_departments_min", "2", "start_pilot_training", "pilot_choice",
             facts(**pilot(3, departments=1)), passes_by_default=True),
    GateCase("pilot_departments_max", "3", "start_pilot_training", "pilot_choice",
             facts(**pilot(3, departments=3)), passes_by_default=False),
    GateCase("training_hours", "12", "start_drafting", "training",
             facts(**trained(3, MODULES)), passes_by_default=False),
    GateCase("training_modules", "[basic_concepts, deep_principles, case_studies]", "start_drafting", "training",
             facts(**trained(6, MODULES[:3])), passes_by_default=False),
    GateCase("training_min_attendance_share", "0.6", "start_drafting", "training",
             facts(**trained(4.5, MODULES, absent={14, 15})), passes_by_default=False),
    GateCase("drafting_group_min_size", "2", "appoint_internal_coaches", "drafting_groups",
             facts(**drafted(group_size=2, days=16)), passes_by_default=False),
    GateCase("drafting_group_max_size", "6", "appoint_internal_coaches", "drafting_groups",
             facts(**drafted(group_size=6, days=16)), passes_by_default=False),
    GateCase("drafting_min_weeks", "1", "appoint_internal_coaches", "drafting_duration",
             facts(**drafted(group_size=4, days=10)), passes_by_default=False),
    GateCase("drafting_max_weeks", "4", "appoint_internal_coaches", "drafting_duration",
             facts(**drafted(group_size=4, days=25)), passes_by_default=False),
    GateCase("internal_coaches_min", "2", "start_q1", "internal_coaches_appointed",
             facts(appointments=(AppointmentFacts(12, "internal_coach"),)), passes_by_default=True),
    # Check-ins every other week: 7 of 13 weeks, but every one of 6 fortnights.
    GateCase("check_in_interval_days", "14", "end_q1", "q1_check_ins",
             facts(**checked_in(every(14, 7))), passes_by_default=False),
    GateCase("check_in_min_rate", "0.5", "end_q1", "q1_check_ins",
             facts(**checked_in(every(7, 7))), passes_by_default=False),
    GateCase("team_meeting_interval_days", "14", "end_q1", "q1_team_meetings",
             facts(**met("weekly_team", every(14, 7))), passes_by_default=False),
    GateCase("meeting_min_rate", "0.5", "end_q1", "q1_team_meetings",
             facts(**met("weekly_team", every(7, 7))), passes_by_default=False),
    # 1:1s every four weeks: 4 held, 6 expected fortnightly, 3 expected every 28 days.
    GateCase("one_on_one_interval_days", "28", "end_q1", "q1_one_on_ones",
             facts(**met("one_on_one", every(28, 4))), passes_by_default=False),
    GateCase("score_scale", "[0.0, 0.25, 0.5, 0.75, 1.0]", "prepare_next_quarter", "q1_scored",
             facts(**scored((0.5, "continue"))), passes_by_default=False),
    GateCase("okr_decisions", "[continue, abandon, complete, defer]", "prepare_next_quarter", "q1_decided",
             facts(**scored((0.3, "defer"))), passes_by_default=False),
    # Q1 ended 2025-06-30; Q2 prepared 18 days later.
    GateCase("next_quarter_max_days", "14", "start_q2", "q2_prepared_in_time",
             facts(**prepared_next_quarter_on(date(2025, 7, 18))), passes_by_default=True),
    GateCase("pilot_quarters", "3", "start_expansion", "pilot_success",
             facts(**scored((0.7, "complete"), quarters=(Q1, Q2))), passes_by_default=True,
             now=at(date(2025, 10, 20))),
    GateCase("pilot_min_average_score", "0.6", "start_expansion", "pilot_success",
             facts(**scored((0.3, "continue"), (0.7, "complete"), quarters=(Q1, Q2))), passes_by_default=True,
             now=at(date(2025, 10, 20))),
]


@pytest.mark.parametrize("case", GATE_CASES, ids=str)
def test_changing_a_gate_parameter_changes_the_verdict(case: GateCase) -> None:
    engagement = replace(case.facts, now=case.now)
    before = outcome(standard(), engagement, case.trigger, case.criterion)
    after = outcome(with_default(case.parameter, case.changed_to), engagement, case.trigger, case.criterion)
    assert before.passed is case.passes_by_default, before.reason.en
    assert after.passed is not case.passes_by_default, after.reason.en


def test_a_changed_threshold_shows_in_the_refusal_evidence() -> None:
    engagement = replace(facts(**trained(4, MODULES)), phase="pilot_training")
    refused = outcome(standard(), engagement, "start_drafting", "training")
    assert (refused.passed, refused.evidence["hours"], refused.evidence["required"]) == (False, 16, 18)
    allowed = outcome(with_default("training_hours", "16"), engagement, "start_drafting", "training")
    assert (allowed.passed, allowed.evidence["required"]) == (True, 16)


# --- cadences ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CadenceCase:
    parameter: str
    changed_to: str
    cadence: str
    phase: str
    entered: datetime
    now: datetime
    by_default: list[datetime]
    when_changed: list[datetime]
    values: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.parameter}={self.changed_to}"


def nine(*days: date, hour: int = 9) -> list[datetime]:
    return [at(day, hour) for day in days]


D = date
CEO_SUPPORT_ON_13_JAN = ceo_said("partial", days_ago=(TODAY - D(2025, 1, 13)).days)
MISSING_CHECK_INS: dict[str, Any] = {
    "quarters": (Q1,),
    "okrs": (OkrFacts(1, Q1.id, "Sell more tea", owner_id=1),),
    "key_results": (KeyResultFacts(1, 1, "cups sold"),),
}

CADENCE_CASES = [
    # Q1 from Tuesday 2025-04-01: Mondays are 7 and 14 April, Wednesdays 2 and 9 April.
    CadenceCase("reminder_weekday", "wednesday", "weekly_check_in", "q1_cycle", at(D(2025, 4, 1), 0),
                at(D(2025, 4, 14), 23), nine(D(2025, 4, 7), D(2025, 4, 14)), nine(D(2025, 4, 2), D(2025, 4, 9))),
    CadenceCase("reminder_hour", "14", "weekly_team_meeting", "q1_cycle", at(D(2025, 4, 1), 0),
                at(D(2025, 4, 14), 23), nine(D(2025, 4, 7), D(2025, 4, 14)),
                nine(D(2025, 4, 7), D(2025, 4, 14), hour=14)),
    CadenceCase("one_on_one_interval_days", "28", "one_on_one", "q1_cycle", at(D(2025, 4, 1), 0),
                at(D(2025, 4, 30), 23), nine(D(2025, 4, 15), D(2025, 4, 29)), nine(D(2025, 4, 29))),
    CadenceCase("scoring_reminder_days_before", "3", "quarter_scoring", "q1_cycle", at(D(2025, 4, 1), 0),
                at(D(2025, 6, 30), 23), nine(D(2025, 6, 23)), nine(D(2025, 6, 27)), {"quarters": (Q1,)}),
    # Q1 ends 2025-06-30: warning, due and overdue around the deadline.
    CadenceCase("next_quarter_max_days", "14", "next_quarter_deadline", "quarter_review", at(D(2025, 7, 1), 0),
                at(D(2025, 7, 31), 23), nine(D(2025, 7, 14), D(2025, 7, 21), D(2025, 7, 22)),
                nine(D(2025, 7, 7), D(2025, 7, 14), D(2025, 7, 15)), {"quarters": (Q1,)}),
    CadenceCase("next_quarter_warning_days", "3", "next_quarter_deadline", "next_quarter", at(D(2025, 7, 1), 0),
                at(D(2025, 7, 31), 23), nine(D(2025, 7, 14), D(2025, 7, 21), D(2025, 7, 22)),
                nine(D(2025, 7, 18), D(2025, 7, 21), D(2025, 7, 22)), {"quarters": (Q1,)}),
    # Drafting entered 2025-02-06: due after 21 days, on 27 February.
    CadenceCase("drafting_deadline_days", "14", "drafting_deadline", "pilot_drafting", at(D(2025, 2, 6)),
                at(D(2025, 3, 31)), nine(D(2025, 2, 20), D(2025, 2, 27), D(2025, 2, 28)),
                nine(D(2025, 2, 13), D(2025, 2, 20), D(2025, 2, 21))),
    CadenceCase("drafting_warning_days", "3", "drafting_deadline", "pilot_drafting", at(D(2025, 2, 6)),
                at(D(2025, 3, 31)), nine(D(2025, 2, 20), D(2025, 2, 27), D(2025, 2, 28)),
                nine(D(2025, 2, 24), D(2025, 2, 27), D(2025, 2, 28))),
    CadenceCase("culture_reminder_interval_days", "7", "culture_okr_master", "culture", at(D(2025, 11, 10)),
                at(D(2025, 12, 8), 23), nine(D(2025, 11, 24), D(2025, 12, 8)),
                nine(D(2025, 11, 17), D(2025, 11, 24), D(2025, 12, 1), D(2025, 12, 8))),
    # CEO support stated 2025-01-13 has faded once older than 90 days (14 April), or than 30 (13 February).
    CadenceCase("ceo_support_max_age_days", "30", "stale_ceo_support", "kickoff", at(D(2025, 1, 20)),
                at(D(2025, 3, 1)), [], nine(D(2025, 2, 13), D(2025, 2, 20), D(2025, 2, 27)),
                CEO_SUPPORT_ON_13_JAN),
    CadenceCase("ceo_support_alert_repeat_days", "14", "stale_ceo_support", "q1_cycle", at(D(2025, 4, 1)),
                at(D(2025, 4, 30)), nine(D(2025, 4, 14), D(2025, 4, 21), D(2025, 4, 28)),
                nine(D(2025, 4, 14), D(2025, 4, 28)), CEO_SUPPORT_ON_13_JAN),
    # Person 1 owns a Q1 key result and never checks in. The check-in falls due Monday 7 April: reminded again
    # on the 8th, the internal coach told on the 10th, the OKR Master on the 14th.
    CadenceCase("check_in_reminder_repeat_days", "2", "check_in_escalation", "q1_cycle", at(D(2025, 4, 1), 0),
                at(D(2025, 4, 14), 23), nine(D(2025, 4, 8), D(2025, 4, 10), D(2025, 4, 14)),
                nine(D(2025, 4, 9), D(2025, 4, 10), D(2025, 4, 14)), MISSING_CHECK_INS),
    CadenceCase("check_in_escalate_internal_coach_days", "5", "check_in_escalation", "q1_cycle",
                at(D(2025, 4, 1), 0), at(D(2025, 4, 14), 23), nine(D(2025, 4, 8), D(2025, 4, 10), D(2025, 4, 14)),
                nine(D(2025, 4, 8), D(2025, 4, 12), D(2025, 4, 14)), MISSING_CHECK_INS),
    CadenceCase("check_in_escalate_okr_master_days", "4", "check_in_escalation", "q1_cycle", at(D(2025, 4, 1), 0),
                at(D(2025, 4, 14), 23), nine(D(2025, 4, 8), D(2025, 4, 10), D(2025, 4, 14)),
                nine(D(2025, 4, 8), D(2025, 4, 10), D(2025, 4, 11)), MISSING_CHECK_INS),
]


def reminders(playbook: LoadedPlaybook, case: CadenceCase) -> list[datetime]:
    engagement = replace(facts(**case.values), phase=case.phase, entered_phase_at=case.entered, now=case.now)
    return [r.due_at for r in due_reminders(playbook, engagement, case.now) if r.cadence_id == case.cadence]


@pytest.mark.parametrize("case", CADENCE_CASES, ids=str)
def test_changing_a_cadence_parameter_changes_the_reminders(case: CadenceCase) -> None:
    assert reminders(standard(), case) == case.by_default
    assert reminders(with_default(case.parameter, case.changed_to), case) == case.when_changed


# --- task due dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameter", "changed_to", "phase", "task", "default_days", "changed_days"),
    [
        ("drafting_deadline_days", "14", "pilot_drafting", "draft_okrs", 21, 14),
        ("next_quarter_max_days", "14", "next_quarter", "prepare_next_quarter_okrs", 21, 14),
    ],
)
def test_changing_a_parameter_moves_a_task_due_date(
    parameter: str, changed_to: str, phase: str, task: str, default_days: int, changed_days: int
) -> None:
    def due(playbook: LoadedPlaybook) -> datetime:
        (found,) = [t for t in machine_for(playbook).tasks_on_entry(phase, NOW) if t.task_id == task]
        return found.due_at

    assert due(standard()) == NOW + timedelta(days=default_days)
    assert due(with_default(parameter, changed_to)) == NOW + timedelta(days=changed_days)


# --- coverage ---------------------------------------------------------------------------------


def referenced(params: Iterable[Any]) -> set[str]:
    return {value[1:] for value in params if isinstance(value, str) and value.startswith("$")}


def test_every_parameter_used_by_a_gate_or_cadence_is_tested_above() -> None:
    spec = standard().spec
    used = set().union(
        *(referenced(c.params.values()) for t in spec.transitions for c in t.gate),
        *(referenced(c.params.values()) for c in spec.cadences),
    )
    tested = {case.parameter for case in GATE_CASES} | {case.parameter for case in CADENCE_CASES}
    assert used - tested == set()
    assert tested <= set(spec.parameters)


def test_numbers_in_gates_and_cadences_are_parameters() -> None:
    """Only quarter ordinals (which name a quarter, not a quantity) may be written as numbers."""
    spec = standard().spec
    literals = [
        (owner, name, value)
        for owner, params in [*((c.id, c.params) for t in spec.transitions for c in t.gate),
                              *((c.id, c.params) for c in spec.cadences)]
        for name, value in params.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and name != "quarter"
    ]
    assert literals == []

