"""One scheduler tick: reminders and readiness read an engagement's facts once between them, and a tick evaluates at
most ``readiness_max_per_tick`` engagements, the longest waiting first, leaving the rest to the next ticks."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.engagements import readiness_watch
from okr_rollout.events import service as events
from okr_rollout.models import ReadinessSnapshot, Reminder
from okr_rollout.notifications import service as reminders
from okr_rollout.scheduler import Scheduler
from okr_rollout.settings import Settings
from tests.api._helpers import start_journey
from tests.api._records import create
from tests.conftest import Clock, Tokens
from tests.notifications._seed import catalog_of, local, playbook, seed


@pytest.fixture
def facts_read(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """The engagement ids whose facts are read, one entry per engagement per read (None: every engagement)."""
    read: list[int | None] = []

    def spying(load: Callable[..., Any]) -> Callable[..., Any]:
        def spy(connection: Any, engagement_ids: Sequence[int] | None, now: datetime, *rest: Any) -> Any:
            read.extend([None] if engagement_ids is None else engagement_ids)
            return load(connection, engagement_ids, now, *rest)
        return spy

    monkeypatch.setattr(reminders, "load_facts", spying(reminders.load_facts))
    monkeypatch.setattr(readiness_watch, "load_facts", spying(readiness_watch.load_facts))
    return read


@pytest.fixture
def scheduler(engine: Engine, database_url: str, catalog: Catalog, clock: Clock) -> Iterator[Scheduler]:
    running = Scheduler(Settings(database_url=database_url, readiness_batch_size=2), engine, catalog, clock)
    yield running
    running.leadership.release()


def test_an_engagement_due_a_reminder_and_marked_stale_has_its_facts_read_once_per_tick(
        app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session], scheduler: Scheduler,
        facts_read: list[int | None]) -> None:
    written, untouched = start_journey(app_client, tokens), start_journey(app_client, tokens)
    scheduler.reminders_tick()  # the first tick: every engagement's readiness and next reminder
    create(app_client, tokens.coach, written.engagement_id, "ceo-support",
           {"level": "full", "stated_on": clock.now.date().isoformat()})
    with db() as session:
        row = session.get(ReadinessSnapshot, written.engagement_id)
        assert row is not None and row.stale and row.next_reminder_at is None  # due for both
    clock.advance(minutes=1)
    facts_read.clear()

    run = scheduler.reminders_tick()
    assert run is not None and (run.evaluated, run.stored) == (1, 1)
    assert facts_read == [written.engagement_id]  # once, by the reminders, handed on to the readiness watch
    with db() as session:
        row = session.get(ReadinessSnapshot, written.engagement_id)
        assert row is not None and not row.stale and row.next_reminder_at is not None
        assert row.evaluated_at == clock.now
        other = session.get(ReadinessSnapshot, untouched.engagement_id)
        assert other is not None and other.evaluated_at == clock.now - timedelta(minutes=1)


def test_facts_handed_on_by_the_reminders_are_not_stored_once_a_write_marked_the_engagement_again(
        app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session], scheduler: Scheduler,
        monkeypatch: pytest.MonkeyPatch) -> None:
    journey = start_journey(app_client, tokens)
    scheduler.reminders_tick()
    create(app_client, tokens.coach, journey.engagement_id, "ceo-support",
           {"level": "full", "stated_on": clock.now.date().isoformat()})
    clock.advance(minutes=1)
    evaluate = readiness_watch.evaluate

    def after_a_write(*args: Any, **kwargs: Any) -> list[readiness_watch.Evaluation]:
        with db() as session:  # commits after the reminders read the facts, before the watch stores them
            events.append(session, type="ceo_support.recorded", actor="test", at=clock.now,
                          organization_id=journey.organization_id, engagement_id=journey.engagement_id)
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(readiness_watch, "evaluate", after_a_write)
    run = scheduler.reminders_tick()
    assert run is not None and (run.evaluated, run.stored) == (1, 0)  # read before the write: not stored
    monkeypatch.setattr(readiness_watch, "evaluate", evaluate)
    with db() as session:
        row = session.get(ReadinessSnapshot, journey.engagement_id)
        assert row is not None and row.stale
    run = scheduler.reminders_tick()
    assert run is not None and (run.evaluated, run.stored) == (1, 1)


def test_a_tick_evaluates_at_most_its_cap_the_longest_waiting_first(engine: Engine, database_url: str) -> None:
    cap = 2
    catalog = catalog_of(playbook())
    engagements = [seed(engine, catalog).engagement_id for _ in range(3 * cap)]
    now = local(date(2026, 1, 12), 12)  # Monday noon in Taipei: the weekly reminders of 09:00 are due
    factory = make_session_factory(engine)
    with session_scope(factory) as session:  # a write to each: all stale, as after an upgrade
        for engagement_id in engagements:
            events.append(session, type="ceo_support.recorded", actor="test", at=now - timedelta(hours=1),
                          engagement_id=engagement_id)
    clock = Clock(now)
    scheduler = Scheduler(Settings(database_url=database_url, readiness_max_per_tick=cap, readiness_batch_size=1),
                          engine, catalog, clock)

    def evaluated_at() -> dict[int, datetime | None]:
        with session_scope(factory, write=False) as session:
            return {s.engagement_id: s.evaluated_at for s in session.scalars(select(ReadinessSnapshot))}

    def reminded() -> set[int]:
        with session_scope(factory, write=False) as session:
            return set(session.scalars(select(Reminder.engagement_id)))

    try:
        first = scheduler.reminders_tick()
        assert first is not None and (first.evaluated, first.batches) == (cap, cap)
        assert reminded() == set(engagements)  # every engagement's reminders went out on the first tick
        done = {e for e, at in evaluated_at().items() if at == now}
        assert done == set(engagements[:cap])  # all waited as long: the lowest ids first

        # One evaluated already is written to again: the ones still waiting since before go first.
        clock.advance(minutes=1)
        with session_scope(factory) as session:
            events.append(session, type="ceo_support.recorded", actor="test", at=clock.now,
                          engagement_id=engagements[0])
        ticks = []
        for _ in range(3):
            run = scheduler.reminders_tick()
            assert run is not None and run.evaluated <= cap
            ticks.append({e for e, at in evaluated_at().items() if at == clock.now})
            clock.advance(minutes=1)
        assert ticks == [set(engagements[cap:2 * cap]), set(engagements[2 * cap:]), {engagements[0]}]
        assert scheduler.readiness_tick().evaluated == 0
    finally:
        scheduler.leadership.release()
