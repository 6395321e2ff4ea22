"""A wave's gates: the engagement's facts scoped to the wave, and the trained_internally kind."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from okr_rollout.journey import gates
from okr_rollout.journey.facts import scoped_to_wave
from okr_rollout.playbooks import kinds
from tests.journey.factories import (
    NOW,
    TODAY,
    assert_result,
    check_in,
    department,
    facts,
    group,
    key_result,
    meeting,
    okr,
    person,
    quarter,
    session,
)

MODULES = ["basic_concepts", "deep_principles"]
OPENED = date(2025, 2, 1)


def _company() -> dict[str, object]:
    """Pilot department 10 (people 1, 2); departments 20 (people 3, 4) and 30 (people 5) join in a wave."""
    return {
        "departments": [department(10, pilot=True), department(20, pilot=False), department(30, pilot=False)],
        "people": [person(1, 10), person(2, 10), person(3, 20), person(4, 20), person(5, 30)],
        "training_sessions": [session(1, date(2025, 1, 10), 18, MODULES, [1, 2]),
                              session(2, date(2025, 3, 1), 6, MODULES, [3, 4])],
        "drafting_groups": [group(1, [1, 2], date(2025, 1, 12), department_id=10),
                            group(2, [3, 4, 5], date(2025, 3, 2), department_id=None)],
        "quarters": [quarter(1, date(2025, 1, 6), date(2025, 4, 6), "Q1"),
                     quarter(2, date(2025, 4, 7), date(2025, 7, 6), "Q2")],
        "okrs": [okr(1, 1, owner_id=1, department_id=10), okr(2, 2, owner_id=3, department_id=20),
                 okr(3, 2, owner_id=5)],
        "key_results": [key_result(1, 1), key_result(2, 2), key_result(3, 3)],
        "check_ins": [check_in(1, date(2025, 1, 10)), check_in(2, date(2025, 4, 11))],
        "meetings": [meeting(1, "weekly_team", NOW, attendees=[1, 2], department_id=10),
                     meeting(2, "weekly_team", NOW, attendees=[3, 4], department_id=20)],
        "coach_ids": [99],
    }


def test_a_wave_sees_its_departments_as_the_pilot_and_only_their_records() -> None:
    wave = scoped_to_wave(facts(**_company()), phase="wave_training", entered_phase_at=NOW,  # type: ignore[arg-type]
                          department_ids=frozenset({20, 30}), opened_on=OPENED)
    assert (wave.phase, wave.entered_phase_at) == ("wave_training", NOW)
    assert [d.id for d in wave.pilot_departments()] == [20, 30]
    assert [p.id for p in wave.pilot_people(6)] == [3, 4, 5]
    assert [s.id for s in wave.training_sessions] == [2]
    assert [g.id for g in wave.drafting_groups] == [2]  # no department: counted by its members
    assert [q.label for q in wave.quarters] == ["Q2"]  # the wave's first quarter starts after it opened
    assert wave.quarter(1) is not None and wave.quarter(1).label == "Q2"  # type: ignore[union-attr]
    assert [o.id for o in wave.okrs] == [2, 3]
    assert [kr.id for kr in wave.key_results] == [2, 3]
    assert [c.key_result_id for c in wave.check_ins] == [2]
    assert [m.id for m in wave.meetings] == [2]


def test_the_pilot_gate_kinds_judge_the_wave() -> None:
    wave = scoped_to_wave(facts(**_company()), phase="wave_training", entered_phase_at=NOW,  # type: ignore[arg-type]
                          department_ids=frozenset({20, 30}), opened_on=OPENED)
    training = kinds.TrainingCompleted(min_hours=6, modules=MODULES, min_attendance_share=0.6,
                                       small_company_headcount=6)
    assert_result(gates.check("training_completed", wave, training), passed=True,
                  en="Training complete: 6 hours, all 2 modules, 2 of 3 wave members attended every module.",
                  evidence={"pilot_people": 3, "fully_trained": 2})
    planned = kinds.QuarterPlanned(quarter=1, small_company_headcount=6)
    assert_result(gates.check("quarter_planned", wave, planned), passed=False,
                  en="No OKR for Q2 yet in the wave department",
                  evidence={"departments_without_okrs": [30]})


def _trained(*sessions: tuple[int | None, str]) -> object:
    return facts(coach_ids=[99], people=[person(3, 20, roles=()), replace(person(7, 20), name="Ho Mei-ling")],
                 training_sessions=[replace(session(i, TODAY, 3, MODULES, [3]), trainer_id=trainer, status=status)
                                    for i, (trainer, status) in enumerate(sessions, 1)])


REQUIRED = kinds.TrainedInternally(required=True)


def test_trained_internally_passes_when_the_organizations_people_gave_every_session() -> None:
    result = gates.check("trained_internally", _trained((7, "held"), (7, "held"), (99, "cancelled")),  # type: ignore[arg-type]
                         REQUIRED)
    assert_result(result, passed=True, en="Every session was given by the organization's own people: Ho Mei-ling.",
                  evidence={"sessions": 2, "internal_trainer_ids": [7], "by_external_coach": []})


def test_trained_internally_fails_on_a_session_of_the_external_coach_or_without_a_trainer() -> None:
    result = gates.check("trained_internally", _trained((7, "held"), (99, "held"), (None, "held")),  # type: ignore[arg-type]
                         REQUIRED)
    assert_result(result, passed=False, en="the external coach gave 1 of 3 session(s); 1 session(s) name no trainer",
                  evidence={"by_external_coach": [2], "without_trainer": [3]})
    assert_result(gates.check("trained_internally", _trained(), REQUIRED),  # type: ignore[arg-type]
                  passed=False, en="No training session has been held yet.")


def test_trained_internally_passes_when_the_playbook_does_not_ask_for_it() -> None:
    result = gates.check("trained_internally", _trained((99, "held")),  # type: ignore[arg-type]
                         kinds.TrainedInternally(required=False))
    assert_result(result, passed=True, en="lets the external coach give the training", evidence={"required": False})
