"""Pinned versions: several versions side by side, an edited pinned version refused at start-up, and an
engagement that keeps running on its version after that version's file is deleted."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog, PinnedPlaybookChanged, check_pins
from okr_rollout.playbooks import PlaybookInvalid, PlaybookRegistry
from tests.api._helpers import assert_problem, fire, get_json
from tests.conftest import ROOT, Clock, Tokens
from tests.versions._seed import engagement_in
from tests.versions.conftest import FIXTURES, Dirs, settings_for


def test_versions_live_side_by_side_across_both_directories(client: TestClient, tokens: Tokens) -> None:
    listed = get_json(client, tokens.coach, "/api/v1/playbooks")["items"]
    assert [(p["id"], p["versions"], p["latest_version"]) for p in listed] == [("standard", [1, 2], 2)]
    v1 = get_json(client, tokens.coach, "/api/v1/playbooks/standard/versions/1")
    v2 = get_json(client, tokens.coach, "/api/v1/playbooks/standard/versions/2")
    assert "executive_meeting" in [p["id"] for p in v1["phases"]]
    assert "executive_alignment" in [p["id"] for p in v2["phases"]]


def test_one_version_in_two_files_is_refused_naming_both(dirs: Dirs) -> None:
    shutil.copy(FIXTURES / "v1.yaml", dirs.extra / "standard" / "v1-copy.yaml")
    with pytest.raises(PlaybookInvalid) as refused:
        PlaybookRegistry.from_directories([dirs.main, dirs.extra])
    message = str(refused.value)
    assert "standard version 1 is also defined in" in message
    assert str(dirs.v1) in message and "v1-copy.yaml" in message
    with pytest.raises(PlaybookInvalid, match="no such playbook directory"):
        PlaybookRegistry.from_directories([dirs.main, dirs.main / "missing"])
    assert PlaybookRegistry.from_directories([ROOT / "playbooks", None]).ids() == ["small_company", "standard"]


def test_an_edited_pinned_version_is_refused_at_start_up(
        client: TestClient, restart: Callable[[], TestClient], tokens: Tokens, db: Callable[[], Session],
        clock: Clock, dirs: Dirs, engine: Engine, database_url: str) -> None:
    pinned = [engagement_in(client, tokens, db, "coach_engaged", clock.now) for _ in range(2)]
    on_v2 = engagement_in(client, tokens, db, "coach_engaged", clock.now, version=2)
    original = dirs.v1.read_text(encoding="utf-8")
    dirs.v1.write_text(original.replace("zh-TW: 找一位 OKR 教練", "zh-TW: 找到一位 OKR 教練", 1), encoding="utf-8")

    with pytest.raises(PinnedPlaybookChanged) as refused:
        restart()
    message = str(refused.value)
    assert message.startswith(f"{dirs.v1}: playbook standard version 1 has changed")
    assert f"Engagements pinned to standard@1: {pinned[0]}, {pinned[1]}." in message
    assert str(on_v2) not in message.split("Engagements pinned to")[1].split(".")[0]
    assert "bump its version (version: 2)" in message and "釘選此版本的專案" in message
    [change] = refused.value.changes
    assert (change.playbook_id, change.version, change.engagement_ids) == ("standard", 1, tuple(pinned))

    # The fix the message names: the edit becomes a new version, the pinned text comes back.
    (dirs.extra / "standard" / "v3.yaml").write_text(
        dirs.v1.read_text(encoding="utf-8").replace("\nversion: 1\n", "\nversion: 3\n", 1), encoding="utf-8")
    dirs.v1.write_text(original, encoding="utf-8")
    restarted = restart()
    assert get_json(restarted, tokens.coach, "/api/v1/playbooks")["items"][0]["versions"] == [1, 2, 3]
    check_pins(engine, Catalog.from_settings(settings_for(database_url, dirs)))


def test_engagements_pinned_to_a_deleted_version_keep_working(
        client: TestClient, restart: Callable[[], TestClient], tokens: Tokens, db: Callable[[], Session],
        clock: Clock, dirs: Dirs) -> None:
    # One coach: enough to leave coach_engaged under v1, not under v2, so each answer shows the version used.
    first = engagement_in(client, tokens, db, "coach_engaged", clock.now)
    second = engagement_in(client, tokens, db, "coach_engaged", clock.now)
    third = engagement_in(client, tokens, db, "executive_meeting", clock.now)
    dirs.v1.unlink()

    client = restart()
    assert get_json(client, tokens.coach, "/api/v1/playbooks")["items"][0]["versions"] == [2]
    readiness = get_json(client, tokens.coach, f"/api/v1/engagements/{first}/readiness")
    assert [(t["trigger"], t["allowed"]) for t in readiness["transitions"]] == [("schedule_executive_meeting", True)]
    moved = fire(client, tokens.coach, first, "schedule_executive_meeting")
    assert moved.status_code == 200, moved.text
    assert moved.json()["engagement"]["phase"] == "executive_meeting"  # v1's phase: v2 calls it otherwise
    assert moved.json()["engagement"]["playbook"]["version"] == 1
    assert {t["key"] for t in moved.json()["engagement"]["open_tasks"]} == {"prepare_executive_meeting",
                                                                           "hold_executive_meeting"}

    # The pinned text still answers for its version: read, compared, and migrated from.
    v1 = get_json(client, tokens.coach, "/api/v1/playbooks/standard/versions/1")
    assert v1["version"] == 1 and "executive_meeting" in [p["id"] for p in v1["phases"]]
    diff = get_json(client, tokens.coach, "/api/v1/playbooks/standard/diff?from=1&to=2")
    assert diff["suggested_phase_map"] == {"executive_meeting": "executive_alignment"}
    assert_problem(client.get("/api/v1/playbooks/standard/versions/7", headers={
        "Authorization": f"Bearer {tokens.coach}"}), 404)
    migrated = client.post(f"/api/v1/engagements/{second}/migrations", json={"to_version": 2},
                           headers={"Authorization": f"Bearer {tokens.coach}"})
    assert migrated.status_code == 200, migrated.text
    assert [t["key"] for t in migrated.json()["plan"]["tasks_to_add"]] == ["plan_coaching_calendar"]

    # A second restart (the snapshot read from the database afresh) changes nothing for the others.
    client = restart()
    assert get_json(client, tokens.coach, f"/api/v1/engagements/{third}")["playbook"]["version"] == 1
    assert fire(client, tokens.coach, third, "hold_kickoff").status_code == 409  # v1's gate, evaluated


def test_the_settings_name_the_extra_directory(dirs: Dirs, database_url: str) -> None:
    catalog = Catalog.from_settings(settings_for(database_url, dirs))
    assert [(p.id, p.version, Path(p.source).name) for p in catalog.registry.all()] == [
        ("standard", 1, "standard.yaml"), ("standard", 2, "v2.yaml")]
