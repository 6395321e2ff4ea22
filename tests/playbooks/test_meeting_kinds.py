"""`playbook validate` checks the meeting kinds a playbook declares: known kinds and leader roles, no outcome
twice, and no gate asking for a kind or an outcome the declarations do not have (such a gate could never pass,
since the records refuse what is not declared)."""

from __future__ import annotations

from pathlib import Path

from okr_rollout.playbooks import load, load_text, validate_text
from okr_rollout.records.rules import RecordRules

ROOT = Path(__file__).resolve().parents[2]
STANDARD = (ROOT / "playbooks" / "standard.yaml").read_text(encoding="utf-8")
EXECUTIVE = "  executive:\n    outcomes: [ceo_support, okrs_introduced, expectations_set]\n"


def _edited(old: str, new: str) -> str:
    assert STANDARD.count(old) >= 1, old
    return STANDARD.replace(old, new, 1)


def _errors(text: str) -> list[tuple[str, str, int]]:
    return [(e.path, e.message, e.line) for e in validate_text(text, "standard.yaml")]


def _line(text: str, needle: str, after: str = "") -> int:
    start = text.index(after) if after else 0
    return text[:text.index(needle, start)].count("\n") + 1


def test_the_shipped_playbooks_declare_every_meeting_kind() -> None:
    for name in ("standard.yaml", "small-company.yaml"):
        rules = RecordRules.of(load(ROOT / "playbooks" / name))
        assert rules.meeting_kinds == {"executive", "kickoff", "drafting_session", "weekly_team", "one_on_one",
                                       "quarter_review", "culture"}
        assert rules.meeting_outcomes["weekly_team"] == frozenset()
        assert rules.attendee_rules["one_on_one"].others == 1
        assert rules.attendee_rules["one_on_one"].led_by[0] == "coach"


def test_a_gate_asking_for_an_undeclared_outcome_is_an_error_on_its_line() -> None:
    text = _edited(EXECUTIVE, "  executive:\n    outcomes: [ceo_support, okrs_introduced]\n")
    (error,) = _errors(text)
    path, message, line = error
    assert path.endswith(".params.outcomes[2]") and path.startswith("transitions[")
    assert message == ("outcome 'expectations_set' is not an outcome meeting_kinds.executive declares "
                       "(its outcomes: ceo_support, okrs_introduced)")
    assert line == _line(text, "outcomes: [ceo_support, okrs_introduced, expectations_set]", "transitions:")


def test_a_gate_on_an_undeclared_kind_and_unknown_keys_are_errors() -> None:
    text = _edited("  weekly_team: {}\n", "  retro: {}\n")
    text = text.replace("      led_by: [coach, department_lead]\n", "      led_by: [coach, boss]\n", 1)
    text = text.replace("  quarter_review: {}\n", "  quarter_review:\n    outcomes: [scored, scored]\n", 1)
    messages = {path: message for path, message, _ in _errors(text)}
    assert "meeting_kinds.retro.[key]" in messages
    assert "'boss'" in messages["meeting_kinds.one_on_one.attendees.led_by[1]"]
    assert messages["meeting_kinds.quarter_review.outcomes[1]"] == "outcome 'scored' is listed twice"
    undeclared = [m for p, m in messages.items() if p.endswith(".params.meeting_kind")]
    assert undeclared
    assert all(m.startswith("meeting kind 'weekly_team' is not declared in meeting_kinds") for m in undeclared)


def test_a_playbook_declaring_no_kinds_keeps_the_outcomes_its_gates_ask_for() -> None:
    start = STANDARD.index("meeting_kinds:\n")
    end = STANDARD.index("\nphases:\n")
    text = STANDARD[:start] + STANDARD[end + 1:]
    assert _errors(text) == []
    rules = RecordRules.of(load_text(text))
    assert rules.meeting_kinds is None and rules.attendee_rules == {}
    assert rules.meeting_outcomes["executive"] == {"ceo_support", "okrs_introduced", "expectations_set"}
    assert "weekly_team" not in rules.meeting_outcomes


def test_a_pulse_follows_only_a_declared_meeting_kind_or_the_pilot_training() -> None:
    assert _errors(STANDARD) == []
    text = _edited("default: [kickoff, pilot_training, quarter_review]", "default: [kickoff, pilot_training, retreat]")
    assert _errors(text) == [("parameters.pulse_milestones.default[2]",
                              "milestone 'retreat' is neither a meeting kind declared in meeting_kinds nor "
                              "pilot_training (known: culture, drafting_session, executive, kickoff, one_on_one, "
                              "pilot_training, quarter_review, weekly_team)",
                              _line(text, "default: [kickoff, pilot_training, retreat]"))]
