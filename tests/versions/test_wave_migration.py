"""A wave moves with its engagement to another version of the playbook: its phase mapped like the engagement's
(``wave_phase_map``), its tasks carried, closed as obsolete or added; refused (409) while the new version cannot
take it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from okr_rollout.models import Appointment, Department, Engagement, Person, PersonDepartment, Task, Wave
from okr_rollout.playbooks import load_text
from okr_rollout.versions.diff import diff_playbooks
from tests.conftest import Tokens, auth
from tests.versions._seed import engagement_in
from tests.versions.conftest import FIXTURES, Dirs

WAVE = """
wave:
  title: {{en: Wave, zh-TW: 梯次}}
  opens_in: [expansion]
  phases:
    - id: {first}
      title: {{en: First steps, zh-TW: 第一步}}
      tasks:
        - id: kick_off_wave
          title: {{en: Kick the wave off, zh-TW: 啟動梯次}}
          due_days: 7
{extra_task}
    - id: wave_done
      title: {{en: Wave done, zh-TW: 梯次完成}}
      final: true
  transitions:
    - trigger: finish_wave
      source: {first}
      dest: wave_done
"""
DROPPED = """        - id: dropped_task
          title: {en: A task the new version drops, zh-TW: 新版刪除的任務}
          due_days: 7"""
ADDED = """        - id: added_task
          title: {en: A task the new version adds, zh-TW: 新版新增的任務}
          due_days: 7"""


def _migrate(client: TestClient, token: str, engagement_id: int, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/engagements/{engagement_id}/migrations", json={"to_version": 2, **body},
                       headers=auth(token))


def test_a_wave_moves_with_its_engagement(restart: Callable[[], TestClient], dirs: Dirs, tokens: Tokens,
                                          db: Callable[[], Session]) -> None:
    with dirs.v1.open("a", encoding="utf-8") as handle:
        handle.write(WAVE.format(first="wave_start", extra_task=DROPPED))
    with dirs.v2.open("a", encoding="utf-8") as handle:
        handle.write(WAVE.format(first="wave_course", extra_task=ADDED))
    client = restart()
    at = datetime(2026, 3, 1, tzinfo=UTC)
    engagement_id = engagement_in(client, tokens, db, "expansion", at)
    with db() as session:
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None
        department = Department(organization_id=engagement.organization_id, name="Marketing", is_pilot=False)
        coach = Person(organization_id=engagement.organization_id, name="Ho Mei-ling", roles=["internal_coach"])
        session.add_all([department, coach])
        session.flush()
        session.add_all([PersonDepartment(person_id=coach.id, department_id=department.id),
                         Appointment(engagement_id=engagement_id, person_id=coach.id, role="internal_coach")])
        session.commit()
        department_id, coach_id = department.id, coach.id
    opened = client.post(f"/api/v1/engagements/{engagement_id}/waves", headers=auth(tokens.coach),
                         json={"name": "Wave 1", "department_ids": [department_id], "owner_ids": [coach_id]})
    assert opened.status_code == 201, opened.text
    wave_id = opened.json()["id"]
    assert {t["key"] for t in opened.json()["open_tasks"]} == {"kick_off_wave", "dropped_task"}

    refused = _migrate(client, tokens.coach, engagement_id, {"dry_run": True})
    assert refused.status_code == 409, refused.text
    assert "The wave Wave 1 is in the phase First steps" in refused.json()["detail"]
    assert refused.json()["phases"] == ["wave_course", "wave_done"]

    preview = _migrate(client, tokens.coach, engagement_id, {"dry_run": True,
                                                             "wave_phase_map": {"wave_start": "wave_course"}})
    assert preview.status_code == 200, preview.text
    [move] = preview.json()["plan"]["waves"]
    with db() as session:
        tasks = {t.task_key: t.id for t in session.scalars(select(Task).where(Task.wave_id == wave_id))}
    assert move == {"wave_id": wave_id, "name": "Wave 1", "from_phase": "wave_start", "to_phase": "wave_course",
                    "phase_mapped": True, "tasks_to_add": ["added_task"], "tasks_carried": [tasks["kick_off_wave"]],
                    "tasks_obsolete": [tasks["dropped_task"]]}

    applied = _migrate(client, tokens.coach, engagement_id, {"wave_phase_map": {"wave_start": "wave_course"}})
    assert applied.status_code == 200, applied.text
    assert applied.json()["plan"]["waves"] == [move]
    wave = client.get(f"/api/v1/engagements/{engagement_id}/waves/{wave_id}", headers=auth(tokens.coach)).json()
    assert (wave["phase"], wave["phase_title"]["en"]) == ("wave_course", "First steps")
    assert {t["key"]: t["phase"] for t in wave["open_tasks"]} == {"kick_off_wave": "wave_course",
                                                                 "added_task": "wave_course"}
    with db() as session:
        assert session.get(Wave, wave_id).entered_phase_at == opened_at(opened.json())  # type: ignore[union-attr]
        dropped = session.get(Task, tasks["dropped_task"])
        assert dropped is not None and dropped.obsolete_at is not None


def opened_at(wave: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(wave["entered_phase_at"].replace("Z", "+00:00"))


def test_the_diff_names_the_wave_journeys_changes() -> None:
    v1 = (FIXTURES / "v1.yaml").read_text(encoding="utf-8")
    v2 = (FIXTURES / "v2.yaml").read_text(encoding="utf-8")
    old = load_text(v1 + WAVE.format(first="wave_start", extra_task=DROPPED))
    new = load_text(v2 + WAVE.format(first="wave_course", extra_task=ADDED))
    said = [c.words.en for c in diff_playbooks(old, new).changes if c.path.startswith("wave")]
    assert any("The wave journey: " in words and "wave_course" in words for words in said), said
    assert all("擴展梯次流程" in c.words.zh_tw for c in diff_playbooks(old, new).changes if c.path.startswith("wave"))
    assert [c.path for c in diff_playbooks(load_text(v1), new).changes if c.path.startswith("wave")] == ["wave"]
