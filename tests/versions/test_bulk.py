"""`okr-rollout engagements migrate` over a thousand engagements, and the batch's all-or-nothing per engagement."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog
from okr_rollout.events import service as events
from okr_rollout.models import Engagement, Event, Task
from okr_rollout.versions.bulk import migrate_all
from tests.conftest import ROOT, Clock, Tokens
from tests.versions._seed import seed_bulk
from tests.versions.conftest import Dirs, settings_for

PHASES = ["coach_engaged", "kickoff", "pilot_training", "pilot_drafting", "q1_cycle"]
THOUSAND = 1000


def batch_size(database_url: str) -> int:
    """A thousand engagements on SQLite, the batch the command is sized for; a hundred on PostgreSQL, where the
    same statements per engagement run and what differs from SQLite (the locks, the dialect) does not depend on
    how many there are, so ten times as many would only repeat the same work for about a minute."""
    return THOUSAND if database_url.startswith("sqlite") else THOUSAND // 10


def run(database_url: str, dirs: Dirs, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OKR_ROLLOUT_DATABASE_URL": database_url, "OKR_ROLLOUT_PLAYBOOKS_DIR": str(dirs.main),
           "OKR_ROLLOUT_PLAYBOOKS_EXTRA_DIR": str(dirs.extra), "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "okr_rollout.cli", "engagements", "migrate", *args],
                          capture_output=True, text=True, encoding="utf-8", cwd=ROOT, env=env, check=False)


def summary_rows(stdout: str) -> list[list[str]]:
    """The body rows of the summary table (phase pairs and the total), without its title and header."""
    rows = [[cell.strip() for cell in line.strip().strip("│┃").split("│")] for line in stdout.splitlines()
            if line.lstrip().startswith("│")]
    return [row for row in rows if row and (row[0] in PHASES or row[0] in ("executive_meeting", "total"))]


def pins(db: Callable[[], Session]) -> Counter[tuple[int, str]]:
    with db() as session:
        return Counter((version, phase) for version, phase in session.execute(
            select(Engagement.playbook_version, Engagement.phase)))


def test_a_thousand_engagements_migrate_and_one_that_cannot_is_reported(
        engine: Engine, database_url: str, dirs: Dirs, tokens: Tokens, clock: Clock,
        db: Callable[[], Session]) -> None:
    """A thousand engagements on SQLite; a hundred on PostgreSQL (see ``batch_size``)."""
    catalog = Catalog.from_settings(settings_for(database_url, dirs))
    size = batch_size(database_url)
    per_phase = str(size // len(PHASES))  # the first phases get one more of the size - 1 movable engagements
    phases = [PHASES[i % len(PHASES)] for i in range(size - 1)]
    phases.insert(size // 2, "executive_meeting")  # v2 renamed this phase; the command is given no phase map
    ids = seed_bulk(engine, catalog, phases, clock.now, coach_id=tokens.coach_person_id)
    bad = ids[size // 2]
    seeded = pins(db)

    dry = run(database_url, dirs, "--playbook", "standard", "--from", "1", "--to", "2", "--dry-run")
    assert dry.returncode == 1, dry.stderr
    assert "Dry run (nothing written)" in dry.stdout and f"{size}/{size}" in dry.stdout
    assert pins(db) == seeded
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.type == "playbook.migrated")) == 0

    applied = run(database_url, dirs, "--playbook", "standard", "--from", "1", "--to", "2")
    assert applied.returncode == 1, applied.stderr
    assert summary_rows(applied.stdout) == summary_rows(dry.stdout)
    rows = {row[0]: row for row in summary_rows(applied.stdout)}
    assert rows["coach_engaged"][:3] == ["coach_engaged", "coach_engaged", per_phase]
    # a task added, a gate closed
    assert rows["coach_engaged"][3] == per_phase and rows["coach_engaged"][6] == per_phase
    assert rows["pilot_drafting"][4] == per_phase  # introduce_okr_software, obsolete
    assert rows["total"][:3] == ["total", "1 failed", str(size - 1)]
    failure = next(line for line in applied.stdout.splitlines() if line.lstrip().startswith(f"│ {bad} "))
    assert "phase executive_meeting does not exist in version 2" in failure
    assert "--phase-map executive_meeting=executive_alignment" in failure

    after = pins(db)
    assert after == Counter({(2, phase): count for phase, count in Counter(phases).items()
                             if phase != "executive_meeting"} | {(1, "executive_meeting"): 1})
    with db() as session:
        migrated = session.scalar(select(func.count()).select_from(Event).where(Event.type == "playbook.migrated"))
        assert migrated == size - 1
        assert session.scalar(select(Event.id).where(Event.engagement_id == bad,
                                                     Event.type == "playbook.migrated")) is None
        obsolete = session.scalar(select(func.count()).select_from(Task).where(Task.obsolete_at.is_not(None)))
        assert obsolete == int(per_phase)

    # The one left behind, moved once told where its phase went (in Chinese this time).
    last = run(database_url, dirs, "--playbook", "standard", "--from", "1", "--to", "2",
               "--phase-map", "executive_meeting=executive_alignment", "--locale", "zh-TW")
    assert last.returncode == 0, last.stdout + last.stderr
    assert "遷移結果" in last.stdout and "1/1" in last.stdout
    assert pins(db)[(2, "executive_alignment")] == 1

    wrong = run(database_url, dirs, "--playbook", "standard", "--from", "2", "--to", "3")
    assert wrong.returncode == 2 and "no playbook standard version 3" in wrong.stderr
    typo = run(database_url, dirs, "--playbook", "standard", "--from", "1", "--to", "2", "--phase-map", "x=kickoff")
    assert typo.returncode == 2 and "x is not a phase of standard version 1" in typo.stderr


def test_each_engagement_moves_entirely_or_not_at_all(
        engine: Engine, database_url: str, dirs: Dirs, tokens: Tokens, clock: Clock, db: Callable[[], Session],
        monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = Catalog.from_settings(settings_for(database_url, dirs))
    ids = seed_bulk(engine, catalog, ["coach_engaged", "executive_meeting", "pilot_drafting"] * 3, clock.now,
                    coach_id=tokens.coach_person_id)
    mapping = {"executive_meeting": "executive_alignment"}
    broken = ids[4]  # in executive_meeting: its phase, tasks and pin are written before the history entry fails

    def snapshot(engagement_id: int) -> tuple[Any, ...]:
        with db() as session:
            engagement = session.get(Engagement, engagement_id)
            assert engagement is not None
            tasks = [tuple(row) for row in session.execute(
                select(Task.id, Task.phase, Task.round, Task.obsolete_at, Task.version)
                .where(Task.engagement_id == engagement_id).order_by(Task.id))]
            return (engagement.phase, engagement.playbook_version, engagement.playbook_sha256, engagement.version,
                    tasks)

    dry = migrate_all(engine, catalog, "standard", 1, 2, mapping, dry_run=True, actor="test", now=clock.now)
    assert not dry.failed and len(dry.outcomes) == 9
    before = snapshot(broken)
    append = events.append

    def failing_append(session: Session, **fields: Any) -> Any:
        if fields.get("engagement_id") == broken:
            raise RuntimeError("the disk is full")
        return append(session, **fields)

    monkeypatch.setattr(events, "append", failing_append)
    seen: list[int] = []
    applied = migrate_all(engine, catalog, "standard", 1, 2, mapping, dry_run=False, actor="test", now=clock.now,
                          on_each=lambda outcome: seen.append(outcome.engagement_id))
    assert seen == ids
    [failure] = applied.failed
    assert failure.engagement_id == broken and failure.error is not None
    assert failure.error.en == "RuntimeError: the disk is full"
    assert snapshot(broken) == before  # rolled back whole: no phase, no relabelled task, no pin
    assert [o for o in applied.outcomes if o.engagement_id != broken] == [
        o for o in dry.outcomes if o.engagement_id != broken]
    assert Counter(o.to_phase for o in applied.moved) == Counter(
        {"coach_engaged": 3, "executive_alignment": 2, "pilot_drafting": 3})
