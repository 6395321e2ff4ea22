"""`okr-rollout playbook ...` as a user runs it: real process, exit codes, compiler-style lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.playbooks.test_validate import VALID

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "okr_rollout.cli", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_validate_the_shipped_playbooks_exits_zero() -> None:
    files = sorted(str(p) for p in (ROOT / "playbooks").glob("*.yaml"))
    assert files
    result = run("playbook", "validate", *files)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": ok") == len(files)


def test_validate_prints_one_line_per_error_and_exits_one(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        VALID.replace("dest: done\n", "dest: nowhere\n").replace("kind: weekly", "kind: hourly"), encoding="utf-8"
    )
    result = run("playbook", "validate", str(broken))
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith(str(broken))]
    assert any(" transitions[1].dest: unknown phase 'nowhere'" in line for line in lines)
    assert any("cadences[0].kind: unknown cadence kind 'hourly'" in line for line in lines)
    for line in lines:
        file, line_number, column, rest = line.split(":", 3)
        assert file == str(broken) and line_number.isdigit() and column.isdigit() and rest.startswith(" ")


def test_validate_refuses_a_criterion_without_a_title(tmp_path: Path) -> None:
    untitled = tmp_path / "untitled.yaml"
    untitled.write_text(VALID.replace("        title: {en: Trained, zh-TW: 已完成培訓}\n", ""), encoding="utf-8")
    result = run("playbook", "validate", str(untitled))
    assert result.returncode == 1
    assert "transitions[1].gate[0]: criterion 'trained' has no title" in result.stderr


def test_missing_file_and_directory_are_clear_errors_not_tracebacks(tmp_path: Path) -> None:
    result = run("playbook", "validate", str(tmp_path / "absent.yaml"), str(tmp_path))
    assert result.returncode == 1
    assert "no such file" in result.stderr
    assert "is a directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_diagram_is_a_mermaid_state_diagram_with_triggers_and_gates(tmp_path: Path) -> None:
    file = tmp_path / "tiny.yaml"
    file.write_text(VALID, encoding="utf-8")
    result = run("playbook", "diagram", str(file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stateDiagram-v2\n")
    assert "    [*] --> start" in result.stdout
    assert "    training --> done: finish [trained]" in result.stdout
    assert "    done --> [*]" in result.stdout


def test_schema_is_json_schema_naming_every_gate_kind() -> None:
    result = run("playbook", "schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    kinds = schema["$defs"]["Criterion"]["properties"]["kind"]["enum"]
    assert "training_completed" in kinds and "pilot_completed" in kinds
    assert {"id", "version", "phases"} <= set(schema["required"])


def test_help_describes_the_commands() -> None:
    result = run("playbook", "--help")
    assert result.returncode == 0
    assert "validate" in result.stdout and "diagram" in result.stdout and "schema" in result.stdout


def test_validate_checks_a_cadences_urgent_flag(tmp_path: Path) -> None:
    urgent = tmp_path / "urgent.yaml"
    urgent.write_text(VALID.replace("kind: weekly", "kind: weekly\n    urgent: true"), encoding="utf-8")
    assert run("playbook", "validate", str(urgent)).returncode == 0
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(VALID.replace("kind: weekly", "kind: weekly\n    urgent: \"yes\""), encoding="utf-8")
    result = run("playbook", "validate", str(wrong))
    assert result.returncode == 1
    assert any("cadences[0].urgent" in line for line in result.stderr.splitlines()), result.stderr
