"""Readiness is kept, not recomputed: a write marks its engagement in its own transaction, and a tick evaluates
the marked engagements and those whose next change by the clock has come, and no other."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog
from okr_rollout.events import service as events
from okr_rollout.models import ReadinessSnapshot
from okr_rollout.scheduler import Scheduler
from okr_rollout.settings import Settings
from tests.api._helpers import get_json, start_journey
from tests.api._records import add_person, create, place_in_phase
from tests.conftest import Clock, Tokens


@pytest.fixture
def scheduler(engine: Engine, database_url: str, catalog: Catalog, clock: Clock) -> Iterator[Scheduler]:
    running = Scheduler(Settings(database_url=database_url, readiness_batch_size=2), engine, catalog, clock)
    yield running
    running.leadership.release()


def snapshot(db: Callable[[], Session], engagement_id: int) -> ReadinessSnapshot:
    with db() as session:
        found = session.get(ReadinessSnapshot, engagement_id)
        assert found is not None
        session.expunge(found)
        return found


def changes(client: TestClient, tokens: Tokens, engagement_id: int) -> list[dict[str, Any]]:
    items = get_json(client, tokens.admin, f"/api/v1/engagements/{engagement_id}/events?limit=200")["items"]
    return [e for e in items if e["type"] == "readiness.changed"]


def test_a_write_marks_its_engagement_and_the_tick_evaluates_only_the_marked(
        app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session],
        scheduler: Scheduler) -> None:
    journeys = [start_journey(app_client, tokens) for _ in range(3)]
    for journey in journeys:
        place_in_phase(db, journey.engagement_id, "executive_meeting", clock.now)
    first = scheduler.readiness_tick()
    assert (first.evaluated, first.batches, first.changes) == (3, 2, 0)  # batches of two; the baseline
    assert scheduler.readiness_tick().evaluated == 0  # nothing changed, nothing read again
    marked, untouched = journeys[1].engagement_id, journeys[0].engagement_id

    # The mark is part of the write's transaction: a write that rolls back leaves none.
    with pytest.raises(RuntimeError), db() as session:
        events.append(session, type="ceo_support.recorded", actor="test", at=clock.now,
                      organization_id=journeys[1].organization_id, engagement_id=marked)
        raise RuntimeError("the write fails")
    assert snapshot(db, marked).stale is False

    create(app_client, tokens.coach, marked, "ceo-support",
           {"level": "full", "stated_on": clock.now.date().isoformat()})
    assert snapshot(db, marked).stale is True
    assert snapshot(db, untouched).stale is False

    statements: list[str] = []
    engine = app_client.app.state.engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    run = scheduler.readiness_tick()
    assert (run.evaluated, run.stored, run.changes) == (1, 1, 1)
    # No statement reads the readiness of every engagement: the tick reads the marked rows by index.
    assert not any("FROM readiness_snapshots" in s and "WHERE" not in s for s in statements)

    [change] = changes(app_client, tokens, marked)
    assert change["payload"]["before"]["hold_kickoff"]["failed"] == ["ceo_backing", "executive_outcomes"]
    assert change["payload"]["after"]["hold_kickoff"]["failed"] == ["executive_outcomes"]
    assert changes(app_client, tokens, untouched) == []
    kept = snapshot(db, marked)
    assert (kept.stale, kept.gate_met, kept.failed_criteria) == (False, False, ["executive_outcomes"])
    assert scheduler.readiness_tick().evaluated == 0
    assert len(changes(app_client, tokens, marked)) == 1  # once per change


def test_a_change_of_the_organization_marks_each_of_its_engagements(
        app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session],
        scheduler: Scheduler) -> None:
    journey, other = start_journey(app_client, tokens), start_journey(app_client, tokens)
    scheduler.readiness_tick()
    add_person(app_client, tokens.admin, journey.organization_id, name="Amy Wu")
    assert snapshot(db, journey.engagement_id).stale is True
    assert snapshot(db, other.engagement_id).stale is False
    assert scheduler.readiness_tick().evaluated == 1


def test_a_change_the_clock_brings_is_found_through_the_next_change_time(
        app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session],
        scheduler: Scheduler) -> None:
    journey = start_journey(app_client, tokens, timezone="Asia/Taipei")
    place_in_phase(db, journey.engagement_id, "executive_meeting", clock.now)
    zone = ZoneInfo("Asia/Taipei")
    today = clock.now.astimezone(zone).date()
    # The CEO's backing was stated 88 days ago: it fades once older than the playbook's 90 days, with no write.
    stated_on = today - timedelta(days=88)
    create(app_client, tokens.coach, journey.engagement_id, "ceo-support",
           {"level": "full", "stated_on": stated_on.isoformat()})
    scheduler.readiness_tick()
    kept = snapshot(db, journey.engagement_id)
    fades = datetime.combine(stated_on + timedelta(days=91), time(), tzinfo=zone)
    assert "ceo_backing" not in kept.failed_criteria
    assert kept.next_change_at == fades

    clock.now = fades - timedelta(minutes=1)
    assert scheduler.readiness_tick().evaluated == 0
    clock.now = fades
    run = scheduler.readiness_tick()
    assert (run.evaluated, run.changes) == (1, 1)
    assert "ceo_backing" in snapshot(db, journey.engagement_id).failed_criteria
    [change] = changes(app_client, tokens, journey.engagement_id)
    assert "ceo_backing" not in change["payload"]["before"]["hold_kickoff"]["failed"]
    assert "ceo_backing" in change["payload"]["after"]["hold_kickoff"]["failed"]
    assert scheduler.readiness_tick().evaluated == 0
