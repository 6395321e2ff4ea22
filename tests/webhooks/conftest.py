"""Fixtures of the webhook tests: a loopback receiver, delivery passes at an injected time, events, subscriptions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.events import service as events
from okr_rollout.models import Event, WebhookAttempt, WebhookSubscription
from okr_rollout.settings import Settings
from okr_rollout.webhooks import service
from okr_rollout.webhooks.delivery import deliver_pending
from okr_rollout.webhooks.schemas import SubscriptionCreate
from tests.conftest import ROOT, Clock
from tests.webhooks.receiver import Receiver

ADMIN = Caller(token_id=0, name="tester", role=Role.admin)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@dataclass
class Outbox:
    """The database side of a delivery test: events in, subscriptions, passes of delivery at ``clock.now``."""

    factory: sessionmaker[Session]
    settings: Settings
    clock: Clock

    def append(self, type: str = "engagement.created", **payload: Any) -> int:
        with session_scope(self.factory) as session:
            return events.append(session, type=type, actor="coach:Chen", at=self.clock.now, payload=payload).id

    def subscribe(self, receiver: Receiver, event_types: list[str] | None = None, *, path: str = "/hook") -> int:
        data = SubscriptionCreate(url=receiver.url(path), event_types=event_types or ["engagement.created"])
        with session_scope(self.factory) as session:
            subscription = service.create(session, ADMIN, data, self.clock.now, allow_private=True)
            receiver.secret = subscription.secret
            return subscription.id

    def deliver(self, **settings: Any) -> int:
        """One pass at ``clock.now``; the receiver's clock is the same, so signatures are checked for freshness
        against the simulated time, as a real receiver does against its own."""
        with time_machine.travel(self.clock.now, tick=False):
            return deliver_pending(self.factory, self.settings.model_copy(update=settings), self.clock.now)

    def subscription(self, subscription_id: int) -> WebhookSubscription:
        with session_scope(self.factory, write=False) as session:
            found = session.get(WebhookSubscription, subscription_id)
            assert found is not None
            return found

    def attempts(self, subscription_id: int) -> list[WebhookAttempt]:
        with session_scope(self.factory, write=False) as session:
            return list(session.scalars(select(WebhookAttempt).where(WebhookAttempt.subscription_id ==
                                                                     subscription_id).order_by(WebhookAttempt.id)))

    def events_of(self, type: str) -> list[Event]:
        with session_scope(self.factory, write=False) as session:
            return list(session.scalars(select(Event).where(Event.type == type).order_by(Event.id)))

    def until_due(self, subscription_id: int) -> datetime:
        """Move the clock to the subscription's next attempt; returns the time moved to."""
        due = self.subscription(subscription_id).next_attempt_at
        assert due is not None and due >= self.clock.now
        self.clock.now = due
        return due


@pytest.fixture
def outbox(engine: Engine, database_url: str, clock: Clock) -> Outbox:
    # No pacing: the simulated clock stands still while a pass runs (the pacer has a test of its own).
    settings = Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks", webhooks_allow_private=True,
                        webhook_rate_per_subscription=0)
    return Outbox(make_session_factory(engine), settings, clock)


@pytest.fixture
def api(app_client: TestClient) -> TestClient:
    """The test app, which serves the webhook routes."""
    return app_client


def allow_private(client: TestClient, allowed: bool = True) -> None:
    app = cast(FastAPI, client.app)
    app.state.settings = app.state.settings.model_copy(update={"webhooks_allow_private": allowed})
