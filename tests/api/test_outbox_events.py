"""Events the CRM hears about by webhook: a quarter fully scored, and a readiness that changed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from okr_rollout.engagements.readiness_watch import note_readiness_changes
from tests.api._cycle import Q1_END, Q1_START, move_to, new_cycle
from tests.api._helpers import get_json, start_journey
from tests.api._records import create, place_in_phase
from tests.conftest import Clock, Tokens


def test_the_last_score_of_a_quarter_records_quarter_scored_once(
        app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    cycle.department("Sales")
    cycle.person("Amy", "Sales")
    q1 = cycle.quarter("2026-Q1", Q1_START, Q1_END)
    first = cycle.okr(q1["id"], "Grow", owner="Amy", department="Sales")
    second = cycle.okr(q1["id"], "Keep", owner="Amy", department="Sales")
    move_to(clock, Q1_END)

    cycle.score(first["id"], 0.7)
    assert cycle.events("quarter.scored") == []
    cycle.score(second["id"], 1.0)
    cycle.score(second["id"], 0.3)  # a correction after the quarter was scored is not a second "scored"

    scored = cycle.events("quarter.scored")
    assert len(scored) == 1
    assert scored[0]["payload"] == {"quarter_id": q1["id"], "label": "2026-Q1", "okrs": 2, "average_score": 0.85}


def test_readiness_changes_are_recorded_when_a_criterion_flips_not_when_evidence_moves(
        app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session]) -> None:
    journey = start_journey(app_client, tokens)
    place_in_phase(db, journey.engagement_id, "executive_meeting", clock.now)
    catalog = app_client.app.state.catalog  # type: ignore[attr-defined]

    def tick() -> int:
        with db() as session:
            return note_readiness_changes(session, catalog, clock.now)

    def changes() -> list[dict[str, Any]]:
        items = get_json(app_client, tokens.admin, f"/api/v1/engagements/{journey.engagement_id}/events")["items"]
        return [e for e in items if e["type"] == "readiness.changed"]

    assert tick() == 0  # the first look is the baseline
    clock.advance(days=3)
    assert tick() == 0  # days passing change evidence, not verdicts
    create(app_client, tokens.coach, journey.engagement_id, "ceo-support",
           {"level": "full", "stated_on": clock.now.date().isoformat()})

    assert tick() == 1
    assert tick() == 0
    [change] = changes()
    payload = change["payload"]
    assert payload["phase"] == "executive_meeting"
    assert payload["before"]["hold_kickoff"]["failed"] == ["ceo_backing", "executive_outcomes"]
    assert payload["after"]["hold_kickoff"]["failed"] == ["executive_outcomes"]


def test_two_readiness_watches_running_at_once_record_a_change_once(
        app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session]) -> None:
    """Leadership keeps a second scheduler idle, but a lost lock connection can let two ticks overlap."""
    journey = start_journey(app_client, tokens)
    place_in_phase(db, journey.engagement_id, "executive_meeting", clock.now)
    catalog = app_client.app.state.catalog  # type: ignore[attr-defined]

    def together() -> list[int]:
        start = threading.Barrier(2)
        counts: list[int] = []

        def watch() -> None:
            start.wait()
            with db() as session:
                counts.append(note_readiness_changes(session, catalog, clock.now))

        with ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(watch) for _ in range(2)]:
                future.result()  # no unique violation on the snapshots, no deadlock
        return sorted(counts)

    assert together() == [0, 0]  # both first looks: one records the baseline, the other finds it
    create(app_client, tokens.coach, journey.engagement_id, "ceo-support",
           {"level": "full", "stated_on": clock.now.date().isoformat()})
    assert together() == [0, 1]
    items = get_json(app_client, tokens.admin, f"/api/v1/engagements/{journey.engagement_id}/events")["items"]
    assert len([e for e in items if e["type"] == "readiness.changed"]) == 1
