"""A wave's health: the engagement's signals weighed on the facts scoped to the wave and on its own journey; the
CEO's support and the pulses stay the engagement's."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from okr_rollout.journey.facts import EngagementFacts, scoped_to_wave
from okr_rollout.journey.health import (
    ActivityFacts,
    GateProgress,
    HealthParams,
    PulseFacts,
    assess,
    wave_last_activity,
)
from okr_rollout.playbooks import load
from okr_rollout.texts import LocalizedText
from tests.journey.factories import NOW, TODAY, at, ceo, department, facts, group, meeting, person, session

STANDARD = load(Path(__file__).resolve().parents[2] / "playbooks" / "standard.yaml")
JOURNEY = STANDARD.wave_journey(None)
PARAMS = HealthParams.of(JOURNEY.parameters)
PHASE = JOURNEY.phase("wave_drafting").title
GATE = GateProgress(LocalizedText("Start the wave's first quarter", "開始本梯次的第一季"), False, 1, 4)
LOW_PULSE = (PulseFacts(LocalizedText("Kickoff", "啟動會議"), TODAY - timedelta(days=3), 5, 4, 8),)


def _engagement() -> EngagementFacts:
    """Pilot department 10 (people 1, 2); the wave takes department 20 (people 3, 4). The CEO's support is fading."""
    return facts(departments=[department(10), department(20, pilot=False)],
                 people=[person(1, 10), person(2, 10), person(3, 20), person(4, 20)],
                 ceo_support=[ceo("strong", TODAY - timedelta(days=85))],
                 meetings=[meeting(1, "weekly_team", NOW - timedelta(days=1), attendees=[1, 2], department_id=10)])


def _wave(days_in_phase: int, engagement: EngagementFacts | None = None) -> EngagementFacts:
    return scoped_to_wave(engagement or _engagement(), phase="wave_drafting",
                          entered_phase_at=NOW - timedelta(days=days_in_phase, hours=1),
                          department_ids=frozenset({20}), opened_on=TODAY - timedelta(days=40))


def _assess(wave: EngagementFacts, found: ActivityFacts, gate: GateProgress = GATE):  # type: ignore[no-untyped-def]
    return assess(wave, found, PARAMS, phase_title=PHASE, expected_days=JOURNEY.expected_days["wave_drafting"],
                  gate=gate)


RECENT = ActivityFacts(0, NOW - timedelta(days=2), LOW_PULSE)


@pytest.mark.parametrize(("days", "status"), [(20, "on_track"), (22, "at_risk"), (43, "stuck")])
def test_a_wave_is_timed_against_its_own_phase_and_pace(days: int, status: str) -> None:
    health = _assess(_wave(days), RECENT)
    pace = next(s for s in health.signals if s.id == "pace")
    assert (pace.status, health.status) == (status, status)
    assert pace.evidence == {"days_in_phase": days, "expected_days": 21, "stuck_after_days": 42}
    assert "Wave drafting" in pace.reason.en and "梯次制定 OKR" in pace.reason.zh_tw


def test_the_ceo_support_and_the_pulses_are_the_engagements_not_a_waves() -> None:
    wave = _assess(_wave(3), RECENT)
    assert [s.id for s in wave.signals] == ["pace", "gate", "overdue_tasks", "activity"]
    assert wave.status == "on_track"
    engagement = assess(_engagement(), RECENT, PARAMS, phase_title=PHASE, expected_days=None, gate=None)
    assert {"ceo_support", "pulse"} <= {s.id for s in engagement.signals}
    assert engagement.status == "at_risk"


def test_a_wave_whose_gate_is_met_is_ready_to_move() -> None:
    health = _assess(_wave(3), RECENT, replace(GATE, allowed=True, passed=4))
    assert health.status == "ready_to_move"
    assert [s.id for s in health.reasons] == ["gate"]
    assert "Start the wave's first quarter is open (4 of 4 criteria met)" in health.reasons[0].reason.en


def test_an_overdue_wave_task_puts_the_wave_at_risk() -> None:
    health = _assess(_wave(3), ActivityFacts(2, NOW - timedelta(days=2)))
    assert health.status == "at_risk"
    assert [(s.id, s.reason.en) for s in health.reasons] == [("overdue_tasks", "2 tasks are overdue.")]


def test_a_waves_last_activity_is_its_own() -> None:
    engagement = replace(_engagement(), training_sessions=(session(1, TODAY - timedelta(days=9), 3, ["x"], [3]),),
                         drafting_groups=(group(1, [1, 2], TODAY - timedelta(days=1), department_id=10),))
    wave = _wave(3, engagement)
    opened = NOW - timedelta(days=20)
    # The pilot's meeting and drafting group of yesterday are not the wave's; its training session is.
    assert wave_last_activity(wave, (opened, None)) == at(TODAY - timedelta(days=9), 0)
    assert wave_last_activity(wave, (opened, NOW - timedelta(days=4))) == NOW - timedelta(days=4)
    ahead = replace(wave, meetings=(meeting(2, "weekly_team", NOW + timedelta(days=2), attendees=[3]),))
    assert wave_last_activity(ahead, (opened,)) == at(TODAY - timedelta(days=9), 0)
    nothing = replace(wave, training_sessions=())
    assert wave_last_activity(nothing, (opened,)) == opened
    idle = _assess(_wave(3, nothing), ActivityFacts(0, wave_last_activity(nothing, (opened,))))
    assert (idle.status, [s.id for s in idle.reasons]) == ("at_risk", ["activity"])
