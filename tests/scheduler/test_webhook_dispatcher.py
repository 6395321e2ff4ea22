"""The running scheduler delivers webhooks through one dispatcher thread: a receiver stuck on a request holds
neither the other subscriptions nor the scheduler, and nothing is skipped ("maximum number of running instances
reached" was logged every second while a pass waited for a slow receiver)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.events import service as events
from okr_rollout.scheduler import Scheduler
from okr_rollout.settings import Settings
from okr_rollout.webhooks import service
from okr_rollout.webhooks.schemas import SubscriptionCreate
from tests.conftest import ROOT
from tests.webhooks.conftest import ADMIN
from tests.webhooks.receiver import Received, Receiver

WAIT_LIMIT_SECONDS = 30  # a guard against a hung test, never a condition of success


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    stuck, healthy = Receiver(), Receiver()
    stuck.start()
    healthy.start()
    yield stuck, healthy
    stuck.stop()
    healthy.stop()


def test_a_stuck_receiver_holds_neither_the_others_nor_the_scheduler(
        database_url: str, engine: Engine, catalog: Catalog, receivers: tuple[Receiver, Receiver],
        caplog: pytest.LogCaptureFixture) -> None:
    stuck, healthy = receivers
    factory = make_session_factory(engine)
    now = datetime.now(UTC)  # the served scheduler runs on the system clock, as receivers check it
    for receiver in (stuck, healthy):
        with session_scope(factory) as session:
            receiver.secret = service.create(session, ADMIN, SubscriptionCreate(url=receiver.url(), event_types=[
                "*"]), now, allow_private=True).secret
    release = threading.Event()
    stuck.on_arrival = lambda _: release.wait(WAIT_LIMIT_SECONDS) and None
    delivered = threading.Semaphore(0)

    def healthy_arrival(_: Received) -> None:
        delivered.release()

    healthy.on_arrival = healthy_arrival
    settings = Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks", webhooks_allow_private=True,
                        webhook_poll_seconds=0.05, scheduler_lock_key=515_151)
    scheduler = Scheduler(settings, engine, catalog, lambda: datetime.now(UTC))
    caplog.set_level(logging.WARNING, logger="apscheduler")
    scheduler.start()
    try:
        for _ in range(3):  # each arrives while the stuck receiver still holds the first
            with session_scope(factory) as session:
                events.append(session, type="engagement.created", actor="coach:Chen", at=datetime.now(UTC))
            assert delivered.acquire(timeout=WAIT_LIMIT_SECONDS)
        assert len(stuck.received) == 1
        release.set()
    finally:
        release.set()
        scheduler.stop()
    assert [r.verify_error for r in healthy.received] == [None] * 3
    assert [r.getMessage() for r in caplog.records if "maximum number of running instances" in r.getMessage()] == []
