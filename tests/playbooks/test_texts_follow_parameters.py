"""Texts that state a parameter follow it: titles, tasks, checklists, cadence messages; the validator refuses a
text that writes out a parameter's default instead of naming it, and cadences follow the interval parameters."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from okr_rollout.journey.cadences import due_reminders
from okr_rollout.playbooks import LoadedPlaybook, load_text, validate, validate_text
from okr_rollout.playbooks.interpolation import interpolate, render_value
from tests.journey.factories import facts

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = sorted((ROOT / "playbooks").glob("*.yaml"))


def with_defaults(name: str, **defaults: object) -> LoadedPlaybook:
    text = (ROOT / "playbooks" / name).read_text(encoding="utf-8")
    for parameter, value in defaults.items():
        text, count = re.subn(rf"(\n  {parameter}:\n(?:    .*\n)*?    default: )[^\n]+", rf"\g<1>{value}", text)
        assert count == 1, parameter
    return load_text(text, name)


def every_text(playbook: LoadedPlaybook) -> list[str]:
    spec = playbook.spec
    texts = [spec.title.en, spec.description.en]
    for phase in spec.phases:
        texts += [phase.title.en, phase.description.en if phase.description else ""]
        for task in phase.tasks:
            texts += [task.title.en, task.title.zh_tw, *(i.title.en for i in task.checklist)]
    for transition in spec.transitions:
        texts += [c.title.en for c in transition.gate if c.title]
        texts += [c.title.zh_tw for c in transition.gate if c.title]
    texts += [c.message.en for c in playbook.cadences] + [c.message.zh_tw for c in playbook.cadences]
    return texts


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.name)
def test_the_shipped_playbooks_name_their_parameters_in_every_text(path: Path) -> None:
    assert validate(path) == []
    assert not any("{" in text or "}" in text for text in every_text(load_text(path.read_text("utf-8"))))


def test_with_twelve_training_hours_no_text_says_eighteen() -> None:
    playbook = with_defaults("standard.yaml", training_hours=12, pilot_departments_max=3)
    (schedule,) = [t for t in playbook.tasks["pilot_training"] if t.spec.id == "schedule_training"]
    assert schedule.spec.title.en == "Schedule the course (about 12 hours, e.g. 3 days of at most 6 hours)"
    assert "約 12 小時" in schedule.spec.title.zh_tw
    phase = playbook.phase("pilot_training")
    assert phase.description is not None and "about 12 hours" in phase.description.en
    texts = every_text(playbook)
    assert not [t for t in texts if "18 hours" in t or "3 days x 6" in t or "18 小時" in t]
    titles = [c.title.en for gate in playbook.gates.values() for c in gate if c.title]
    assert "1 to 3 pilot departments chosen" in titles
    assert not [t for t in texts if "One to two" in t or "一至兩" in t]


def test_a_text_that_states_a_default_is_refused_with_its_place_and_the_parameter_to_name() -> None:
    text = (ROOT / "playbooks" / "standard.yaml").read_text(encoding="utf-8")
    stated = text.replace("about {training_hours} hours, e.g.", "about 18 hours, e.g.", 1)
    errors = validate_text(stated, "standard.yaml")
    assert len(errors) == 1
    (error,) = errors
    assert error.path == "phases[3].tasks[0].title.en"
    assert "states 18, the default of $training_hours: write {training_hours}" in error.message
    assert stated.splitlines()[error.line - 1].strip().startswith("en: Schedule the course")


def test_a_text_naming_an_unknown_parameter_or_with_stray_braces_is_refused() -> None:
    text = (ROOT / "playbooks" / "standard.yaml").read_text(encoding="utf-8")
    unknown = text.replace("{training_hours} hours, e.g.", "{training_hourz} hours, e.g.", 1)
    (error,) = validate_text(unknown, "standard.yaml")
    assert "unknown parameter {training_hourz}" in error.message
    stray = text.replace("{training_hours} hours, e.g.", "{training_hours:>4} hours, e.g.", 1)
    (error,) = validate_text(stray, "standard.yaml")
    assert "is not a parameter reference" in error.message


def test_numbers_that_are_no_parameter_are_left_alone_and_values_render_as_people_read_them() -> None:
    assert render_value(18.0) == "18" and render_value(0.8) == "0.8"
    assert render_value([0.0, 0.3, 0.7, 1.0]) == "0.0 / 0.3 / 0.7 / 1.0"
    assert interpolate("{{literal}} {n} hours", {"n": 12}) == "{literal} 12 hours"
    text = (ROOT / "playbooks" / "standard.yaml").read_text(encoding="utf-8")
    fine = text.replace("en: Kickoff meeting\n", "en: Kickoff meeting for Q1 and 1:1s\n", 1)
    assert validate_text(fine, "standard.yaml") == []


def test_a_pinned_snapshot_from_before_the_rule_still_loads() -> None:
    text = (ROOT / "playbooks" / "standard.yaml").read_text(encoding="utf-8")
    old = text.replace("about {training_hours} hours, e.g.", "about 18 hours, e.g.", 1)
    playbook = load_text(old, "snapshot", text_rules=False)
    assert playbook.spec.phase("pilot_training").tasks[0].title.en.startswith("Schedule the course (about 18 hours")


def test_weekly_reminders_follow_the_check_in_and_team_meeting_intervals() -> None:
    entered = datetime(2025, 4, 1, tzinfo=UTC)
    now = datetime(2025, 5, 1, tzinfo=UTC)
    engagement = replace(facts(phase="q1_cycle", now=now), entered_phase_at=entered)

    def days(playbook: LoadedPlaybook, cadence: str) -> list[date]:
        return [r.due_at.date() for r in due_reminders(playbook, engagement, now) if r.cadence_id == cadence]

    weekly = with_defaults("standard.yaml")
    assert days(weekly, "weekly_check_in") == [date(2025, 4, d) for d in (7, 14, 21, 28)]
    fortnightly = with_defaults("standard.yaml", check_in_interval_days=14, team_meeting_interval_days=14)
    # Every other Monday, on the same days as the check-in periods of check_in_escalation begin.
    assert days(fortnightly, "weekly_check_in") == [date(2025, 4, 7), date(2025, 4, 21)]
    assert days(fortnightly, "weekly_team_meeting") == [date(2025, 4, 7), date(2025, 4, 21)]
    (message,) = {c.message.en for c in fortnightly.cadences if c.id == "weekly_check_in"}
    assert "every 14 days" in message and "week" not in message
