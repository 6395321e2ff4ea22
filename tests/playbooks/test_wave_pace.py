"""A wave phase's expected pace: declared as for the main journey, resolved per variant, checked by validate."""

from __future__ import annotations

from pathlib import Path

from okr_rollout.playbooks import load_text, validate_text
from tests.playbooks.test_validate import VALID
from tests.playbooks.test_wave_section import WAVE

PACED = WAVE.replace("    - id: wave_training\n", "    - id: wave_training\n      expected_days: $training_hours\n")
STANDARD = Path(__file__).resolve().parents[2] / "playbooks" / "standard.yaml"


def test_a_wave_phase_expects_a_pace_from_the_parameters_of_its_variant() -> None:
    assert validate_text(VALID + PACED) == []
    playbook = load_text(VALID + PACED)
    assert playbook.wave_journey(None).expected_days == {"wave_training": 18}
    assert playbook.wave_journey("short").expected_days == {"wave_training": 9}


def test_validate_checks_the_pace_of_wave_phases() -> None:
    unknown = VALID + WAVE.replace("    - id: wave_training\n",
                                   "    - id: wave_training\n      expected_days: $nowhere\n")
    assert any(e.path == "wave.phases[0].expected_days" and "nowhere" in e.message for e in validate_text(unknown))
    final = VALID + PACED.replace("      final: true\n", "      final: true\n      expected_days: 5\n")
    assert [(e.path, e.message) for e in validate_text(final)] == [
        ("wave.phases[1].expected_days", "a final phase has no expected pace (it never ends)")]
    zero = VALID + WAVE.replace("    - id: wave_training\n", "    - id: wave_training\n      expected_days: 0\n")
    assert any(e.path == "wave.phases[0].expected_days" for e in validate_text(zero))


def test_the_standard_wave_journey_expects_the_pilot_pace() -> None:
    playbook = load_text(STANDARD.read_text(encoding="utf-8"))
    parameters = playbook.parameters
    pilot = {"wave_training": parameters["training_days"], "wave_drafting": parameters["drafting_deadline_days"],
             "wave_quarter": parameters["quarter_days"], "wave_review": parameters["quarter_review_expected_days"]}
    for variant in (None, "internal_trainer"):
        assert playbook.wave_journey(variant).expected_days == pilot
