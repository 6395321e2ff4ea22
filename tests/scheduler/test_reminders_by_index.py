"""Reminders by index: each engagement keeps when its next reminder may fall due, and a run reads only the
engagements whose time has come or that were written to since."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.models import ReadinessSnapshot
from okr_rollout.notifications import service
from okr_rollout.settings import Settings
from tests.api._helpers import start_journey
from tests.api._records import create
from tests.conftest import Clock, Tokens


def test_a_run_reads_only_the_engagements_due_or_written_to(
        app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session], engine: Engine,
        catalog: Catalog, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    journeys = [start_journey(app_client, tokens) for _ in range(3)]
    read: list[Sequence[int] | None] = []
    load = service.load_facts

    def spy(connection: Any, engagement_ids: Sequence[int] | None, now: datetime, *rest: Any) -> Any:
        read.append(None if engagement_ids is None else sorted(engagement_ids))
        return load(connection, engagement_ids, now, *rest)

    monkeypatch.setattr(service, "load_facts", spy)
    settings = Settings(database_url=database_url)
    factory = make_session_factory(engine)

    def run() -> service.ReminderRun:
        with session_scope(factory) as session:
            return service.run_reminders(session, catalog, settings, clock.now)

    def next_times() -> dict[int, datetime]:
        with db() as session:
            return {s.engagement_id: s.next_reminder_at for s in session.scalars(select(ReadinessSnapshot))
                    if s.next_reminder_at is not None}

    run()
    assert read == [None]  # a first run has no times to go by: it looks at every engagement
    planned = next_times()
    assert set(planned) == {j.engagement_id for j in journeys} and all(t > clock.now for t in planned.values())

    clock.advance(minutes=1)
    run()
    assert read == [None]  # nothing due, nothing written to: no engagement read

    written = journeys[1].engagement_id
    create(app_client, tokens.coach, written, "ceo-support",
           {"level": "full", "stated_on": clock.now.date().isoformat()})
    clock.advance(minutes=1)
    run()
    assert read[-1] == [written]  # its facts changed: its next reminder is found again
    assert next_times()[written] > clock.now

    read.clear()
    first = min(next_times().values())
    due = sorted(e for e, at in next_times().items() if at <= first)
    clock.now = first
    run()
    assert read == [due]  # only the engagements whose time has come
    assert all(at > first for at in next_times().values())  # and each one read was moved on
