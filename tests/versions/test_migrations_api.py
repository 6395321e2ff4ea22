"""POST /api/v1/engagements/{id}/migrations: engagements in several phases moved from standard v1 to v2.

v2 renames executive_meeting to executive_alignment, adds a task to coach_engaged, folds a pilot_drafting
task into another and needs two coaches instead of one to leave coach_engaged. For each engagement the dry
run's plan is the plan applied, and what the plan says is what the database then holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from okr_rollout.models import EngagementCoach, Event, Task
from tests.api._helpers import assert_problem, error_fields, fire, get_json
from tests.conftest import Clock, Tokens, auth
from tests.versions._seed import engagement_in, finish_task, tasks_by_key


def migrate(client: TestClient, token: str, engagement_id: int, *, dry_run: bool | None,
            phase_map: dict[str, str] | None = None, to_version: int = 2, if_match: str | None = None) -> Any:
    body: dict[str, Any] = {"to_version": to_version}
    if dry_run is not None:
        body["dry_run"] = dry_run
    if phase_map is not None:
        body["phase_map"] = phase_map
    headers = auth(token) if if_match is None else auth(token, **{"If-Match": if_match})
    return client.post(f"/api/v1/engagements/{engagement_id}/migrations", json=body, headers=headers)


def dry_run_then_apply(client: TestClient, token: str, engagement_id: int,
                       phase_map: dict[str, str] | None = None) -> dict[str, Any]:
    """Preview twice (nothing changes in between), apply, and check the applied plan is the previewed one."""
    before = get_json(client, token, f"/api/v1/engagements/{engagement_id}")
    previews = [migrate(client, token, engagement_id, dry_run=True, phase_map=phase_map) for _ in range(2)]
    assert all(p.status_code == 200 for p in previews), previews[0].text
    assert previews[0].json() == previews[1].json()
    preview = previews[0].json()
    assert (preview["dry_run"], preview["applied"], preview["event_id"]) == (True, False, None)
    assert preview["engagement_version"] == before["version"]
    assert get_json(client, token, f"/api/v1/engagements/{engagement_id}")["version"] == before["version"]

    applied = migrate(client, token, engagement_id, dry_run=None, phase_map=phase_map)  # no dry_run: apply
    assert applied.status_code == 200, applied.text
    result: dict[str, Any] = applied.json()
    assert (result["dry_run"], result["applied"]) == (False, True)
    assert result["plan"] == preview["plan"]
    assert applied.headers["ETag"] == f'"v{result["engagement_version"]}"'
    return result


def check_written(client: TestClient, token: str, db: Callable[[], Session], clock: Clock,
                  result: dict[str, Any], entered_phase_at: str) -> None:
    """The database holds what the plan said: phase, pin, tasks, readiness, and the event with the plan."""
    plan, engagement_id = result["plan"], result["plan"]["engagement_id"]
    engagement = get_json(client, token, f"/api/v1/engagements/{engagement_id}")
    assert engagement["phase"] == plan["to_phase"]
    assert engagement["playbook"] == {"id": "standard", "version": 2, "sha256": plan["to_sha256"]}
    assert engagement["entered_phase_at"] == entered_phase_at  # a renamed phase is the same stage: time counts
    assert engagement["version"] == result["engagement_version"]
    assert get_json(client, token, f"/api/v1/engagements/{engagement_id}/readiness") == plan["readiness"]

    tasks = tasks_by_key(db, engagement_id)
    for carried in plan["tasks_carried"]:
        task = tasks[(plan["to_phase"], carried["key"])]
        assert task.id == carried["task_id"] and task.obsolete_at is None
        assert (task.title_en, task.title_zh_tw) == (carried["title"]["en"], carried["title"]["zh-TW"])
        live = {i.item_key for i in task.checklist if i.obsolete_at is None}
        assert set(carried["checklist_added"]) <= live
        assert not set(carried["checklist_obsolete"]) & live
    for obsolete in plan["tasks_obsolete"]:
        task = tasks[(obsolete["phase"], obsolete["key"])]
        assert task.id == obsolete["task_id"] and task.obsolete_at == clock.now and not task.done
    created = [tasks[(plan["to_phase"], added["key"])] for added in plan["tasks_to_add"]]
    assert [t.id for t in created] == result["created_task_ids"]
    for task, added in zip(created, plan["tasks_to_add"], strict=True):
        assert task.due_at.isoformat().replace("+00:00", "Z") == added["due_at"]
        assert [i.item_key for i in task.checklist] == added["checklist"]
    open_keys = {t["key"] for t in engagement["open_tasks"]} - {o["key"] for o in plan["tasks_obsolete"]}
    assert open_keys == ({c["key"] for c in plan["tasks_carried"] if not c["done"]}
                         | {a["key"] for a in plan["tasks_to_add"]})

    with db() as session:
        event = session.scalars(select(Event).where(Event.engagement_id == engagement_id)
                                .order_by(Event.id.desc())).first()
        assert event is not None and event.type == "playbook.migrated" and event.id == result["event_id"]
        assert event.payload == {"plan": plan, "created_task_ids": result["created_task_ids"]}


def test_engagements_in_several_phases_migrate_as_their_dry_run_said(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock) -> None:
    entered = clock.now
    starting = engagement_in(client, tokens, db, "coach_engaged", entered)
    executive = engagement_in(client, tokens, db, "executive_meeting", entered)
    drafting = engagement_in(client, tokens, db, "pilot_drafting", entered)
    kickoff = engagement_in(client, tokens, db, "kickoff", entered)
    finish_task(client, tokens.coach, tasks_by_key(db, drafting)[("pilot_drafting", "form_drafting_groups")].id)
    clock.advance(days=3)
    entered_at = {e: get_json(client, tokens.coach, f"/api/v1/engagements/{e}")["entered_phase_at"]
                  for e in (starting, executive, drafting, kickoff)}

    # Under v1 one coach lets the engagement leave coach_engaged; v2 needs two.
    result = dry_run_then_apply(client, tokens.coach, starting)
    plan = result["plan"]
    assert (plan["from_phase"], plan["to_phase"], plan["phase_mapped"]) == ("coach_engaged", "coach_engaged", False)
    assert [t["key"] for t in plan["tasks_to_add"]] == ["plan_coaching_calendar"]
    assert plan["tasks_to_add"][0]["due_at"] == "2026-01-18T09:00:00Z"  # 10 days from the migration
    carried = {c["key"]: c for c in plan["tasks_carried"]}
    assert carried["confirm_engagement"]["checklist_added"] == ["share_playbook"]
    assert plan["tasks_obsolete"] == []
    [gate] = plan["gates"]
    assert (gate["trigger"], gate["before"], gate["after"], gate["verdict"]) == (
        "schedule_executive_meeting", True, False, "now_fails")
    assert gate["criteria"] == [{"id": "coach_assigned", "before": True, "after": False}]
    assert "would now be refused" in gate["text"]["en"] and "新版本將不通過" in gate["text"]["zh-TW"]
    assert plan["readiness"]["transitions"][0]["allowed"] is False
    check_written(client, tokens.coach, db, clock, result, entered_at[starting])

    # Asked in Traditional Chinese, the plan's reasons are in Chinese (both stay in "reasons").
    chinese = client.post(f"/api/v1/engagements/{kickoff}/migrations", json={"to_version": 2, "dry_run": True},
                          headers=auth(tokens.coach, **{"Accept-Language": "zh-TW"}))
    assert chinese.status_code == 200, chinese.text
    criteria = [c for t in chinese.json()["plan"]["readiness"]["transitions"] for c in t["criteria"]]
    assert criteria and all(c["reason"] == c["reasons"]["zh-TW"] != c["reasons"]["en"] for c in criteria)

    # The phase v2 renamed: refused without a phase map, naming the phase and suggesting where it goes.
    refused = assert_problem(migrate(client, tokens.coach, executive, dry_run=True), 409, slug="conflict")
    assert refused["phase"] == "executive_meeting" and "executive_meeting" in refused["detail"]
    assert refused["suggested_phase_map"] == {"executive_meeting": "executive_alignment"}
    assert "executive_alignment" in refused["phases"] and "executive_meeting" in refused["reasons"]["zh-TW"]
    result = dry_run_then_apply(client, tokens.coach, executive, {"executive_meeting": "executive_alignment"})
    plan = result["plan"]
    assert (plan["from_phase"], plan["to_phase"], plan["phase_mapped"]) == (
        "executive_meeting", "executive_alignment", True)
    assert {(c["key"], c["from_phase"], c["to_phase"]) for c in plan["tasks_carried"]} == {
        ("prepare_executive_meeting", "executive_meeting", "executive_alignment"),
        ("hold_executive_meeting", "executive_meeting", "executive_alignment")}
    assert plan["tasks_to_add"] == [] and plan["tasks_obsolete"] == []
    assert [(g["trigger"], g["verdict"]) for g in plan["gates"]] == [("hold_kickoff", "still_fails")]
    check_written(client, tokens.coach, db, clock, result, entered_at[executive])

    # A task v2 folded into another: closed as obsolete, kept; finished work stays as it was.
    result = dry_run_then_apply(client, tokens.admin, drafting)
    plan = result["plan"]
    assert [t["key"] for t in plan["tasks_obsolete"]] == ["introduce_okr_software"]
    carried = {c["key"]: c for c in plan["tasks_carried"]}
    assert carried["draft_okrs"]["checklist_added"] == ["enter_okrs_in_software"]
    assert carried["form_drafting_groups"]["done"] is True and carried["form_drafting_groups"]["checklist_added"] == []
    check_written(client, tokens.admin, db, clock, result, entered_at[drafting])

    result = dry_run_then_apply(client, tokens.coach, kickoff)
    plan = result["plan"]
    assert (plan["tasks_to_add"], plan["tasks_obsolete"]) == ([], [])
    assert "stays in kickoff" in plan["summary"]["en"] and "維持在階段 kickoff" in plan["summary"]["zh-TW"]
    check_written(client, tokens.coach, db, clock, result, entered_at[kickoff])

    # Moved engagements run v2: its tightened gate now decides, and its phase names are used.
    assert_problem(fire(client, tokens.coach, starting, "schedule_executive_meeting"), 409, slug="gate-refused")
    with db() as session:
        session.add(EngagementCoach(engagement_id=starting, person_id=tokens.other_coach_person_id))
    moved = fire(client, tokens.coach, starting, "schedule_executive_meeting")
    assert moved.status_code == 200, moved.text
    assert moved.json()["engagement"]["phase"] == "executive_alignment"

    again = assert_problem(migrate(client, tokens.coach, kickoff, dry_run=True), 409)
    assert "already runs" in again["detail"]


def test_refusals_write_nothing_and_only_those_who_move_engagements_apply(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock) -> None:
    engagement_id = engagement_in(client, tokens, db, "executive_meeting", clock.now)
    before = get_json(client, tokens.admin, f"/api/v1/engagements/{engagement_id}")
    mapping = {"executive_meeting": "executive_alignment"}

    unknown = assert_problem(migrate(client, tokens.coach, engagement_id, dry_run=False, to_version=9), 422)
    assert error_fields(unknown) == ["body.to_version"]
    bad_map = migrate(client, tokens.coach, engagement_id, dry_run=False,
                      phase_map={"nope": "kickoff", "executive_meeting": "nowhere"})
    assert sorted(error_fields(assert_problem(bad_map, 422))) == ["body.phase_map.executive_meeting",
                                                                  "body.phase_map.nope"]
    assert_problem(migrate(client, tokens.coach, engagement_id, dry_run=False), 409)

    # Another coach does not see the engagement; an integration without the transitions grant may preview only.
    assert_problem(migrate(client, tokens.other_coach, engagement_id, dry_run=True, phase_map=mapping), 404)
    assert_problem(migrate(client, tokens.other_coach, engagement_id, dry_run=False, phase_map=mapping), 404)
    preview = migrate(client, tokens.integration, engagement_id, dry_run=True, phase_map=mapping)
    assert preview.status_code == 200, preview.text
    assert_problem(migrate(client, tokens.integration, engagement_id, dry_run=False, phase_map=mapping), 404)
    stale = migrate(client, tokens.coach, engagement_id, dry_run=False, phase_map=mapping, if_match='"v99"')
    assert_problem(stale, 412)

    after = get_json(client, tokens.admin, f"/api/v1/engagements/{engagement_id}")
    assert after == before
    with db() as session:
        types = list(session.scalars(select(Event.type).where(Event.engagement_id == engagement_id)))
        assert "playbook.migrated" not in types
        assert session.scalar(select(Task.id).where(Task.engagement_id == engagement_id,
                                                    Task.obsolete_at.is_not(None))) is None

    applied = migrate(client, tokens.coach, engagement_id, dry_run=False, phase_map=mapping,
                      if_match=f'"v{before["version"]}"')
    assert applied.status_code == 200, applied.text
    assert get_json(client, tokens.coach, f"/api/v1/engagements/{engagement_id}")["phase"] == "executive_alignment"
