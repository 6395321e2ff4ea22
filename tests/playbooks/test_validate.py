"""A broken playbook is reported completely: every error, with file, line, column and path."""

from __future__ import annotations

from pathlib import Path

import pytest

from okr_rollout.playbooks import PlaybookInvalid, load, load_text, validate, validate_text

VALID = """\
id: tiny
version: 1
title: {en: Tiny, zh-TW: 小型}
description: {en: A tiny journey, zh-TW: 小型旅程}
parameters:
  training_hours:
    type: number
    default: 18
    description: {en: Hours of training, zh-TW: 培訓時數}
  small_company_headcount:
    type: integer
    default: 6
    description: {en: Small company, zh-TW: 小公司}
phases:
  - id: start
    title: {en: Start, zh-TW: 開始}
    tasks:
      - id: call
        title: {en: Call the CEO, zh-TW: 致電 CEO}
        due_days: 7
        checklist:
          - id: dial
            title: {en: Dial, zh-TW: 撥號}
  - id: training
    title: {en: Training, zh-TW: 培訓}
  - id: done
    title: {en: Done, zh-TW: 完成}
    final: true
transitions:
  - trigger: train
    source: start
    dest: training
    gate: []
  - trigger: finish
    source: training
    dest: done
    gate:
      - id: trained
        kind: training_completed
        title: {en: Trained, zh-TW: 已完成培訓}
        params:
          min_hours: $training_hours
          modules: [basic_concepts]
          min_attendance_share: 0.8
          small_company_headcount: $small_company_headcount
cadences:
  - id: weekly_nudge
    kind: weekly
    phases: [training]
    audience: coach
    message: {en: Keep going, zh-TW: 繼續加油}
    params: {weekday: monday, hour: 9}
"""


def _line_of(text: str, needle: str) -> int:
    """The line of the last occurrence (a duplicate is reported where it repeats)."""
    lines = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert lines, f"{needle!r} not in text"
    return lines[-1]


def _broken(old: str, new: str, count: int = 1) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, count)


def test_the_reference_playbook_is_valid() -> None:
    assert validate_text(VALID, "tiny.yaml") == []
    playbook = load_text(VALID, "tiny.yaml")
    assert playbook.gate("training", "finish")[0].params.min_hours == 18  # type: ignore[attr-defined]


# Each case: (what is broken, the edited text, expected path, the text on the expected line, message part)
CASES = [
    (
        "yaml syntax",
        _broken("version: 1\n", "version: [1\n"),
        "<yaml>",
        None,
        "YAML syntax error",
    ),
    (
        "unknown key",
        _broken("    final: true\n", "    final: true\n    colour: blue\n"),
        "phases[2].colour",
        "colour: blue",
        "unknown key 'colour'",
    ),
    (
        "wrong type",
        _broken("due_days: 7", "due_days: [7]"),
        "phases[0].tasks[0].due_days",
        "due_days: [7]",
        "valid",
    ),
    (
        "duplicate phase id",
        _broken("  - id: training\n    title", "  - id: start\n    title"),
        "phases[1].id",
        "  - id: start\n",
        "duplicate phase id 'start'",
    ),
    (
        "duplicate task id",
        _broken(
            "        checklist:\n",
            "        checklist: []\n      - id: call\n        title: {en: Again, zh-TW: 再次}\n"
            "        due_days: 1\n        extra_checklist:\n",
        ).replace("        extra_checklist:\n          - id: dial\n            title: {en: Dial, zh-TW: 撥號}\n", ""),
        "phases[0].tasks[1].id",
        "      - id: call\n",
        "duplicate task id 'call'",
    ),
    (
        "duplicate criterion id",
        _broken(
            "          small_company_headcount: $small_company_headcount\n",
            "          small_company_headcount: $small_company_headcount\n"
            "      - id: trained\n        kind: okr_software_introduced\n"
            "        title: {en: Software, zh-TW: 軟體}\n",
        ),
        "transitions[1].gate[1].id",
        "      - id: trained\n",
        "duplicate criterion id 'trained'",
    ),
    (
        "duplicate trigger from the same source",
        _broken("  - trigger: finish\n    source: training", "  - trigger: train\n    source: start"),
        "transitions[1].trigger",
        "  - trigger: train\n",
        "duplicate trigger 'train' from phase 'start'",
    ),
    (
        "transition to an unknown phase",
        _broken("    dest: done\n", "    dest: nowhere\n"),
        "transitions[1].dest",
        "dest: nowhere",
        "unknown phase 'nowhere'",
    ),
    (
        "unknown gate kind",
        _broken("kind: training_completed", "kind: mind_reading"),
        "transitions[1].gate[0].kind",
        "kind: mind_reading",
        "unknown gate kind 'mind_reading'",
    ),
    (
        "params that do not fit the kind",
        _broken("          min_attendance_share: 0.8\n", "          min_attendance_share: 0.8\n          colour: 3\n"),
        "transitions[1].gate[0].params.colour",
        "colour: 3",
        "takes no param 'colour'",
    ),
    (
        "param of the wrong type for the kind",
        _broken("min_attendance_share: 0.8", "min_attendance_share: lots"),
        "transitions[1].gate[0].params.min_attendance_share",
        "min_attendance_share: lots",
        "valid number",
    ),
    (
        "reference to an unknown parameter",
        _broken("min_hours: $training_hours", "min_hours: $training_time"),
        "transitions[1].gate[0].params.min_hours",
        "min_hours: $training_time",
        "unknown parameter '$training_time'",
    ),
    (
        "unreachable phase",
        _broken("    dest: training\n", "    dest: done\n"),
        "phases[1].id",
        "  - id: training\n",
        "unreachable from the initial phase 'start'",
    ),
    (
        "phase with no path to a final phase",
        _broken("    dest: done\n", "    dest: training\n"),
        "phases[1].id",
        "  - id: training\n",
        "no path to a final phase",
    ),
    (
        "cadence naming an unknown phase",
        _broken("phases: [training]", "phases: [training, q9]"),
        "cadences[0].phases[1]",
        "phases: [training, q9]",
        "unknown phase 'q9'",
    ),
    (
        "missing zh-TW title",
        _broken("title: {en: Training, zh-TW: 培訓}", "title: {en: Training}"),
        "phases[1].title.zh-TW",
        "title: {en: Training}",
        "missing required key 'zh-TW'",
    ),
    (
        "missing en title",
        _broken("title: {en: Tiny, zh-TW: 小型}", "title: {zh-TW: 小型}"),
        "title.en",
        "title: {zh-TW: 小型}",
        "missing required key 'en'",
    ),
    (
        "parameter default of the wrong type",
        _broken("    default: 18\n", "    default: eighteen\n"),
        "parameters.training_hours.default",
        "default: eighteen",
        "is not a number",
    ),
    (
        "parameter reference whose default does not fit",
        _broken("    type: integer\n    default: 6\n", "    type: string\n    default: six\n"),
        "transitions[1].gate[0].params.small_company_headcount",
        "small_company_headcount: $small_company_headcount",
        "parameter $small_company_headcount = 'six' does not fit",
    ),
    (
        "criterion without a title",
        _broken("        title: {en: Trained, zh-TW: 已完成培訓}\n", ""),
        "transitions[1].gate[0]",
        "      - id: trained\n",
        "criterion 'trained' has no title",
    ),
    (
        "unknown cadence kind",
        _broken("kind: weekly", "kind: hourly"),
        "cadences[0].kind",
        "kind: hourly",
        "unknown cadence kind 'hourly'",
    ),
]


@pytest.mark.parametrize(("case", "text", "path", "line_text", "message"), CASES, ids=[c[0] for c in CASES])
def test_each_broken_playbook_is_reported_where_it_is_broken(
    case: str, text: str, path: str, line_text: str | None, message: str
) -> None:
    errors = validate_text(text, "broken.yaml")
    matching = [e for e in errors if e.path == path and message in e.message]
    assert matching, f"{case}: expected {path}: {message} in {[str(e) for e in errors]}"
    error = matching[0]
    assert error.file == "broken.yaml"
    if line_text is not None:
        assert error.line == _line_of(text, line_text.strip())
    assert error.column >= 1
    assert str(error).startswith(f"broken.yaml:{error.line}:{error.column}: {path}: ")


def test_every_error_is_reported_not_only_the_first() -> None:
    text = (
        VALID.replace("kind: training_completed", "kind: mind_reading")
        .replace("    dest: done\n", "    dest: nowhere\n")
        .replace("title: {en: Training, zh-TW: 培訓}", "title: {en: Training}")
        .replace("phases: [training]", "phases: [q9]")
    )
    errors = validate_text(text, "many.yaml")
    paths = {e.path for e in errors}
    assert {
        "transitions[1].gate[0].kind",
        "transitions[1].dest",
        "phases[1].title.zh-TW",
        "cadences[0].phases[0]",
    } <= paths


def test_errors_are_positioned_on_the_offending_line() -> None:
    text = _broken("kind: training_completed", "kind: mind_reading")
    (error,) = validate_text(text, "x.yaml")
    line = _line_of(text, "kind: mind_reading")
    assert (error.line, error.column) == (line, text.splitlines()[line - 1].index("mind_reading") + 1)


def test_a_missing_file_and_a_directory_are_clear_errors(tmp_path: Path) -> None:
    (missing,) = validate(tmp_path / "nope.yaml")
    assert "no such file" in missing.message
    (directory,) = validate(tmp_path)
    assert "is a directory" in directory.message


def test_load_raises_with_every_error(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(_broken("dest: done\n", "dest: nowhere\n"), encoding="utf-8")
    with pytest.raises(PlaybookInvalid) as raised:
        load(file)
    assert any(e.path == "transitions[1].dest" and e.file == str(file) for e in raised.value.errors)


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    (error,) = validate_text("- just\n- a list\n", "list.yaml")
    assert error.path == "<root>"
    assert "mapping" in error.message


def test_loading_pins_the_content_hash() -> None:
    first = load_text(VALID, "a.yaml")
    same = load_text(VALID, "b.yaml")
    edited = load_text(VALID.replace("Keep going", "Keep going!"), "a.yaml")
    assert first.sha256 == same.sha256
    assert first.sha256 != edited.sha256
    assert len(first.sha256) == 64


def test_a_criterion_needs_a_title_in_both_languages_but_a_pinned_text_without_one_still_loads() -> None:
    untitled = _broken("        title: {en: Trained, zh-TW: 已完成培訓}\n", "")
    (error,) = validate_text(untitled, "untitled.yaml")
    assert "criterion 'trained' has no title" in error.message and "zh-TW" in error.message
    only_english = validate_text(_broken("title: {en: Trained, zh-TW: 已完成培訓}", "title: {en: Trained}"), "en.yaml")
    assert [e.path for e in only_english] == ["transitions[1].gate[0].title.zh-TW"]
    with pytest.raises(PlaybookInvalid):
        load_text(untitled, "untitled.yaml")
    # An engagement pinned to such a text before the rule keeps running on it.
    assert load_text(untitled, "snapshot", text_rules=False).gate("training", "finish")[0].id == "trained"
