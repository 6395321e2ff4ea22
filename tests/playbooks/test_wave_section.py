"""The wave section of a playbook: the journey each expansion wave runs, checked as a playbook of its own."""

from __future__ import annotations

from datetime import UTC, datetime

from okr_rollout.journey.machine import machine_for
from okr_rollout.playbooks import load_text, validate_text
from okr_rollout.playbooks.diagram import mermaid
from tests.playbooks.test_validate import VALID

OPENED = datetime(2026, 1, 1, tzinfo=UTC)
WAVE = """\
wave:
  title: {en: Wave, zh-TW: 梯次}
  opens_in: [done]
  initial_phase: wave_training
  variants:
    short:
      title: {en: Short, zh-TW: 精簡}
      parameters: {training_hours: 9}
  phases:
    - id: wave_training
      title: {en: "Wave training ({training_hours} hours)", zh-TW: "梯次培訓({training_hours} 小時)"}
      tasks:
        - id: train_wave
          title: {en: Train the wave, zh-TW: 培訓梯次}
          role: internal_coach
          due_days: 7
    - id: wave_done
      title: {en: Wave done, zh-TW: 梯次完成}
      final: true
  transitions:
    - trigger: finish_wave
      source: wave_training
      dest: wave_done
      gate:
        - id: wave_trained
          kind: training_completed
          params:
            min_hours: $training_hours
            modules: [basic_concepts]
            min_attendance_share: 0.8
            small_company_headcount: $small_company_headcount
"""


def test_a_wave_journey_loads_as_a_playbook_of_its_own_per_variant() -> None:
    playbook = load_text(VALID + WAVE)
    plain, short = playbook.wave_journey(None), playbook.wave_journey("short")
    assert plain.spec.start_phase == short.spec.start_phase == "wave_training"
    assert (plain.parameters["training_hours"], short.parameters["training_hours"]) == (18, 9)
    assert short.gate("wave_training", "finish_wave")[0].params.min_hours == 9  # type: ignore[attr-defined]
    assert short.phase("wave_training").title.en == "Wave training (9 hours)"
    assert len({playbook.sha256, plain.sha256, short.sha256}) == 3  # three machines, never confused
    assert machine_for(short) is not machine_for(plain)
    assert [t.task_id for t in machine_for(plain).tasks_on_entry("wave_training", OPENED)] == ["train_wave"]


def _messages(text: str) -> list[tuple[str, str]]:
    return [(error.path, error.message) for error in validate_text(text)]


def test_the_wave_section_is_checked_like_a_journey() -> None:
    broken = (VALID + WAVE).replace("opens_in: [done]", "opens_in: [nowhere]") \
        .replace("dest: wave_done", "dest: wave_end") \
        .replace("parameters: {training_hours: 9}", "parameters: {training_hours: nine, hours: 3}") \
        .replace("min_attendance_share: 0.8\n            small", "min_attendance_share: 2\n            small")
    messages = _messages(broken)
    paths = {path for path, _ in messages}
    assert "wave.opens_in[0]" in paths
    assert "wave.transitions[0].dest" in paths
    assert "wave.variants.short.parameters.hours" in paths
    assert "wave.variants.short.parameters.training_hours" in paths
    assert "wave.transitions[0].gate[0].params.min_attendance_share" in paths
    assert any("wave_done" in message and "unreachable" in message for _, message in messages)


def test_a_wave_section_is_optional() -> None:
    assert load_text(VALID).waves == {}
    assert validate_text(VALID + WAVE) == []


def test_the_diagram_draws_the_wave_journey_inside_the_main_one() -> None:
    spec = load_text(VALID + WAVE).spec
    drawn = mermaid(spec, current="done", wave_phases=["wave_training"], locale="zh-TW")
    assert '    state "梯次" as expansion_wave {' in drawn
    assert "        wave__wave_training --> wave__wave_done: finish_wave [wave_trained]" in drawn
    assert "        [*] --> wave__wave_training" in drawn
    assert "    done --> expansion_wave: 開啟擴展梯次" in drawn
    assert drawn.endswith("    class done,wave__wave_training current\n")
    assert "expansion_wave" not in mermaid(load_text(VALID).spec)
