"""An engagement's health: each signal, what status it calls for and why, and how they combine."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from okr_rollout.journey.health import (
    URGENCY,
    ActivityFacts,
    GateProgress,
    Health,
    HealthParams,
    HealthSignal,
    PulseFacts,
    assess,
)
from okr_rollout.playbooks import load, validate_text
from okr_rollout.texts import LocalizedText
from tests.journey.factories import (
    NOW,
    TODAY,
    at,
    ceo,
    check_in,
    department,
    facts,
    key_result,
    meeting,
    okr,
    person,
    pilot_company,
    quarter,
)

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
PARAMS = HealthParams.of(load(PLAYBOOKS / "standard.yaml").parameters)
PHASE = LocalizedText("Pilot drafting", "試點制定")
RECENT = ActivityFacts(overdue_tasks=0, last_activity=NOW - timedelta(days=1))


def _assess(engagement_facts=None, found=RECENT, *, expected=None, gate=None) -> Health:  # type: ignore[no-untyped-def]
    return assess(engagement_facts or facts(), found, PARAMS, phase_title=PHASE, expected_days=expected, gate=gate)


def _signal(health: Health, signal_id: str) -> HealthSignal:
    found = [s for s in health.signals if s.id == signal_id]
    assert len(found) == 1, [s.id for s in health.signals]
    signal = found[0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in signal.reason.zh_tw), signal.reason
    return signal


def _in_phase(days: int):  # type: ignore[no-untyped-def]
    return replace(facts(), entered_phase_at=NOW - timedelta(days=days, hours=1))


def test_the_shipped_thresholds_are_the_playbook_parameters() -> None:
    assert (PARAMS.pace_stuck_factor, PARAMS.window_days, PARAMS.idle_days, PARAMS.idle_stuck_days,
            PARAMS.ceo_support_warning_days, PARAMS.check_in_min_rate) == (2.0, 14, 14, 30, 14, 0.8)
    expected = load(PLAYBOOKS / "standard.yaml").expected_days
    assert expected["pilot_training"] == 3 and expected["pilot_drafting"] == 21
    assert expected["q1_cycle"] == 92 and expected["next_quarter"] == 21 and "expansion" not in expected


@pytest.mark.parametrize(("days", "status"), [(20, "on_track"), (22, "at_risk"), (43, "stuck")])
def test_time_in_phase_against_its_expected_pace(days: int, status: str) -> None:
    signal = _signal(_assess(_in_phase(days), expected=21), "pace")
    assert signal.status == status
    assert signal.evidence["days_in_phase"] == days and signal.evidence["expected_days"] == 21
    assert f"{days}" in signal.reason.en and "Pilot drafting" in signal.reason.en


def test_a_phase_without_a_pace_is_not_timed() -> None:
    assert all(s.id != "pace" for s in _assess(_in_phase(400)).signals)


def test_the_next_gate_met_makes_it_ready_to_move() -> None:
    gate = GateProgress(LocalizedText("Start Q1", "開始第一季"), True, 4, 4)
    health = _assess(gate=gate)
    assert health.status == "ready_to_move"
    assert _signal(health, "gate").reason.en.startswith("Ready to move on: Start Q1")
    waiting = _assess(gate=replace(gate, allowed=False, passed=2))
    assert waiting.status == "on_track" and "2 of 4 criteria met" in _signal(waiting, "gate").reason.en


@pytest.mark.parametrize(("age", "status", "text"), [
    (60, "on_track", "holds for 30 more days"),
    (80, "at_risk", "fades in 10 days"),
    (95, "at_risk", "has faded"),
])
def test_ceo_support_fading_within_the_warning_days(age: int, status: str, text: str) -> None:
    signal = _signal(_assess(facts(ceo_support=[ceo("full", TODAY - timedelta(days=age))])), "ceo_support")
    assert signal.status == status and text in signal.reason.en
    assert signal.evidence["age_days"] == age and signal.evidence["max_age_days"] == 90


def _cycle(**collections):  # type: ignore[no-untyped-def]
    return facts(quarters=[quarter(1, TODAY - timedelta(days=40), TODAY + timedelta(days=50), "Q1")],
                 okrs=[okr(1, 1)], key_results=[key_result(11, 1), key_result(12, 1)], **collections)


def test_check_in_rate_over_the_last_two_weeks_below_the_gates_threshold() -> None:
    start = TODAY - timedelta(days=13)
    low = _signal(_assess(_cycle(check_ins=[check_in(11, start), check_in(12, start)])), "check_ins")
    assert low.status == "at_risk" and "2 of 4 (50%); 80% needed" in low.reason.en
    full = [check_in(kr, start + timedelta(days=d)) for kr in (11, 12) for d in (0, 7)]
    assert _signal(_assess(_cycle(check_ins=full)), "check_ins").status == "on_track"


def test_no_cycle_signals_outside_a_quarter() -> None:
    assert {s.id for s in _assess(facts()).signals} == {"overdue_tasks", "activity"}


def test_team_meetings_and_one_on_ones_behind() -> None:
    company = pilot_company(pilot_people=[1, 2])
    del company["headcount"]
    held = [meeting(1, "weekly_team", at(TODAY - timedelta(days=3)), department_id=10),
            meeting(2, "one_on_one", at(TODAY - timedelta(days=2)), attendees=[1])]
    health = _assess(_cycle(meetings=held, **company))
    team, ones = _signal(health, "team_meetings"), _signal(health, "one_on_ones")
    assert team.status == "at_risk" and "Department 10" in team.reason.en and team.evidence["expected_each"] == 2
    assert ones.status == "at_risk" and "Person 2" in ones.reason.en and "Person 1" not in ones.reason.en
    enough = [*held, meeting(3, "weekly_team", at(TODAY - timedelta(days=10)), department_id=10),
              meeting(4, "one_on_one", at(TODAY - timedelta(days=5)), attendees=[2])]
    health = _assess(_cycle(meetings=enough, people=[person(1, 10), person(2, 10)], departments=[department(10)]))
    assert _signal(health, "team_meetings").status == _signal(health, "one_on_ones").status == "on_track"


def test_overdue_tasks() -> None:
    signal = _signal(_assess(found=replace(RECENT, overdue_tasks=3)), "overdue_tasks")
    assert signal.status == "at_risk" and signal.reason.en == "3 tasks are overdue." and signal.evidence == {
        "overdue_tasks": 3}
    assert _signal(_assess(), "overdue_tasks").status == "on_track"


@pytest.mark.parametrize(("days", "status"), [(3, "on_track"), (14, "at_risk"), (30, "stuck")])
def test_no_activity(days: int, status: str) -> None:
    signal = _signal(_assess(found=ActivityFacts(0, NOW - timedelta(days=days))), "activity")
    assert signal.status == status and signal.evidence["days_since"] == days
    assert _signal(_assess(found=ActivityFacts(0, None)), "activity").status == "stuck"


TRAINING = LocalizedText("Pilot training", "試點培訓")
KICKOFF = LocalizedText("Kickoff", "啟動會議")


def test_a_low_pulse_average_on_the_latest_rated_milestone_is_a_risk() -> None:
    low = PulseFacts(TRAINING, TODAY - timedelta(days=5), asked=5, answered=4, rating_sum=9)  # 2.25 -> 2.2
    signal = _signal(_assess(found=replace(RECENT, pulses=(low,))), "pulse")
    assert PARAMS.pulse_low_average == 3.0
    assert signal.status == "at_risk"
    held = (TODAY - timedelta(days=5)).isoformat()
    assert signal.reason.en == f"The pilot training of {held} was rated 2.2 / 5 by 4 of 5 attendees (below 3)."
    assert signal.reason.zh_tw == f"{held} 的試點培訓獲 5 位出席者中的 4 位評為 2.2 / 5(低於 3)。"
    assert signal.evidence == {"held_on": held, "average": 2.2, "answered": 4, "asked": 5, "low_average": 3.0}
    health = _assess(found=replace(RECENT, pulses=(low,)))
    assert health.status == "at_risk" and [s.id for s in health.reasons] == ["pulse"]

    # A later milestone rated at or above the threshold replaces it; one nobody has rated yet does not.
    good = PulseFacts(KICKOFF, TODAY - timedelta(days=1), asked=3, answered=2, rating_sum=8)
    unrated = PulseFacts(KICKOFF, TODAY, asked=3, answered=0, rating_sum=0)
    signal = _signal(_assess(found=replace(RECENT, pulses=(low, good))), "pulse")
    assert signal.status == "on_track" and signal.reason.en.startswith("The kickoff of ")
    assert _signal(_assess(found=replace(RECENT, pulses=(low, unrated))), "pulse").status == "at_risk"
    exactly = PulseFacts(KICKOFF, TODAY, asked=2, answered=2, rating_sum=6)
    assert _signal(_assess(found=replace(RECENT, pulses=(exactly,))), "pulse").status == "on_track"

    # No answer yet (or no pulse): no signal. The threshold is the playbook's parameter.
    assert all(s.id != "pulse" for s in _assess(found=replace(RECENT, pulses=(unrated,))).signals)
    assert all(s.id != "pulse" for s in _assess().signals)
    strict = replace(PARAMS, pulse_low_average=4.5)
    assert assess(facts(), replace(RECENT, pulses=(good,)), strict, phase_title=PHASE, expected_days=None,
                  gate=None).status == "at_risk"
    assert HealthParams.of({"pulse_low_average": 4}).pulse_low_average == 4.0
    culture = PulseFacts(LocalizedText("OKR culture meeting", "OKR 文化會議"), TODAY, asked=1, answered=1, rating_sum=1)
    assert _signal(_assess(found=replace(RECENT, pulses=(culture,))), "pulse").reason.en.startswith(
        "The OKR culture meeting of ")


def test_the_most_urgent_signal_decides_and_gives_the_reasons() -> None:
    gate = GateProgress(LocalizedText("Start Q1", "開始第一季"), True, 4, 4)
    health = _assess(_in_phase(30), replace(RECENT, overdue_tasks=1), expected=21, gate=gate)
    assert health.status == "at_risk"
    assert [s.id for s in health.reasons] == ["pace", "overdue_tasks"]
    assert _assess(_in_phase(50), expected=21, gate=gate).status == "stuck"
    assert URGENCY == ("stuck", "at_risk", "ready_to_move", "on_track")
    assert Health.from_dict(health.as_dict()) == health


def test_validate_checks_the_pace_and_health_parameters() -> None:
    text = (PLAYBOOKS / "standard.yaml").read_text(encoding="utf-8")
    broken = text.replace("expected_days: $training_days", "expected_days: $no_such_parameter", 1)
    assert any("unknown parameter '$no_such_parameter'" in e.message for e in validate_text(broken))
    wrong = text.replace("expected_days: $training_days", "expected_days: $training_min_attendance_share", 1)
    assert any("not a whole number of days" in e.message for e in validate_text(wrong))
    final = text.replace("  - id: expansion\n", "  - id: expansion\n    expected_days: 5\n", 1)
    assert any("final phase has no expected pace" in e.message for e in validate_text(final))
    idle = text.replace("    default: 30\n    minimum: 1\n    description:\n      en: \"Nothing recorded",
                        "    default: 10\n    minimum: 1\n    description:\n      en: \"Nothing recorded", 1)
    assert any("must be more than health_idle_days" in e.message for e in validate_text(idle))
    assert validate_text(text) == []
