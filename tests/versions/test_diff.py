"""Comparing two versions of a playbook, in words: the pure diff, GET …/diff and `okr-rollout playbook diff`."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from fastapi.testclient import TestClient

from okr_rollout.playbooks import load
from okr_rollout.versions.diff import diff_playbooks
from tests.api._helpers import assert_problem
from tests.conftest import ROOT, Tokens, auth
from tests.versions.conftest import FIXTURES, Dirs

V1, V2 = FIXTURES / "v1.yaml", FIXTURES / "v2.yaml"

EXPECTED = {
    ("parameter", "changed", "parameters.min_coaches"),
    ("checklist_item", "added", "phases.coach_engaged.tasks.confirm_engagement.checklist.share_playbook"),
    ("task", "added", "phases.coach_engaged.tasks.plan_coaching_calendar"),
    ("phase", "added", "phases.executive_alignment"),
    ("phase", "removed", "phases.executive_meeting"),
    ("checklist_item", "added", "phases.pilot_drafting.tasks.draft_okrs.checklist.enter_okrs_in_software"),
    ("task", "removed", "phases.pilot_drafting.tasks.introduce_okr_software"),
    ("transition", "changed", "transitions.coach_engaged.schedule_executive_meeting"),
    ("gate_criterion", "changed", "transitions.coach_engaged.schedule_executive_meeting.gate.coach_assigned"),
    ("transition", "changed", "transitions.executive_alignment.hold_kickoff"),
    ("cadence", "changed", "cadences.one_on_one"),
    ("cadence", "changed", "cadences.stale_ceo_support"),
}


def test_the_diff_names_every_change_in_both_languages() -> None:
    diff = diff_playbooks(load(V1), load(V2))
    assert {(c.area, c.action, c.path) for c in diff.changes} == EXPECTED
    assert diff.suggested_phase_map == {"executive_meeting": "executive_alignment"}
    words = {c.path: c.words for c in diff.changes}
    gate = words["transitions.coach_engaged.schedule_executive_meeting.gate.coach_assigned"]
    assert "min_coaches 1 → 2 (through parameter $min_coaches)" in gate.en
    assert "min_coaches 1 → 2(經由參數 $min_coaches)" in gate.zh_tw
    assert words["parameters.min_coaches"].en == "Parameter min_coaches changed: default 1 → 2."
    assert words["parameters.min_coaches"].zh_tw == "變更參數 min_coaches:預設值 1 → 2。"
    assert "probably executive_meeting renamed" in words["phases.executive_alignment"].en
    assert "高管共識會議" in words["phases.executive_alignment"].zh_tw
    assert words["cadences.stale_ceo_support"].en.endswith("phases: +executive_alignment, -executive_meeting.")
    for change in diff.changes:
        assert change.words.en and change.words.zh_tw and change.words.en != change.words.zh_tw
    assert diff.counts()["task"] == {"added": 1, "removed": 1, "changed": 0}

    assert diff_playbooks(load(V1), load(V1)).changes == ()
    backwards = diff_playbooks(load(V2), load(V1))
    calendar = "phases.coach_engaged.tasks.plan_coaching_calendar"
    assert {(c.area, c.action) for c in backwards.changes if c.path == calendar} == {("task", "removed")}
    assert backwards.suggested_phase_map == {"executive_alignment": "executive_meeting"}


def test_get_diff_answers_in_words_and_404s_unknown_versions(client: TestClient, tokens: Tokens) -> None:
    response = client.get("/api/v1/playbooks/standard/diff", params={"from": 1, "to": 2}, headers=auth(tokens.coach))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert (body["playbook_id"], body["from_version"], body["to_version"]) == ("standard", 1, 2)
    assert {(c["area"], c["action"], c["path"]) for c in body["changes"]} == EXPECTED
    assert all(set(c["text"]) == {"en", "zh-TW"} for c in body["changes"])
    assert body["counts"]["phase"] == {"added": 1, "removed": 1, "changed": 0}
    assert_problem(client.get("/api/v1/playbooks/standard/diff", params={"from": 1, "to": 5},
                              headers=auth(tokens.coach)), 404)
    assert_problem(client.get("/api/v1/playbooks/nope/diff", params={"from": 1, "to": 2},
                              headers=auth(tokens.coach)), 404)
    assert_problem(client.get("/api/v1/playbooks/standard/diff", params={"to": 2}, headers=auth(tokens.coach)), 422)
    assert_problem(client.get("/api/v1/playbooks/standard/diff", params={"from": 1, "to": 2}), 401)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    return subprocess.run([sys.executable, "-m", "okr_rollout.cli", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=ROOT, env=environment, check=False)


def test_playbook_diff_command_compares_files_or_versions_of_the_directories(dirs: Dirs) -> None:
    files = run("playbook", "diff", str(V1), str(V2))
    assert files.returncode == 0, files.stderr
    lines = files.stdout.splitlines()
    assert lines[0].startswith("standard: 1 → 2 (")
    assert "- Parameter min_coaches changed: default 1 → 2." in lines
    assert lines[-1] == "Suggested phase map: --phase-map executive_meeting=executive_alignment"
    assert len([line for line in lines if line.startswith("- ")]) == len(EXPECTED)

    env = {"OKR_ROLLOUT_PLAYBOOKS_DIR": str(dirs.main), "OKR_ROLLOUT_PLAYBOOKS_EXTRA_DIR": str(dirs.extra)}
    chinese = run("playbook", "diff", "standard@1", "standard@2", "--locale", "zh-TW", env=env)
    assert chinese.returncode == 0, chinese.stderr
    assert "- 變更參數 min_coaches:預設值 1 → 2。" in chinese.stdout.splitlines()
    assert "建議的階段對應:--phase-map executive_meeting=executive_alignment" in chinese.stdout

    same = run("playbook", "diff", str(V1), str(V1))
    assert same.returncode == 0 and "No differences." in same.stdout
    unknown = run("playbook", "diff", "standard@1", "standard@9", env=env)
    assert unknown.returncode == 1 and "no playbook standard version 9" in unknown.stderr
