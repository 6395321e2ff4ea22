"""`okr-rollout serve` on SQLite runs the scheduler in the web process: a webhook reaches the CRM within
seconds of the commit, signed, with nothing else started."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from okr_rollout.db import make_session_factory, session_scope
from tests.e2e._server import Server, free_port, wait_until
from tests.webhooks.receiver import Receiver

DELIVERED_WITHIN_SECONDS = 10


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.start()
    yield running
    running.stop()


def test_serve_delivers_a_webhook_within_seconds_of_the_commit(
        database_url: str, engine: Engine, receiver: Receiver, tmp_path: Path) -> None:
    with session_scope(make_session_factory(engine)) as session:
        token, _ = create_token(session, role=Role.admin, name="crm")
    server = Server(database_url, tmp_path / "serve.log", scheduler_in_web="true", webhooks_allow_private="true",
                    webhook_poll_seconds="0.5", scheduler_lock_key=str(free_port()))
    try:
        server.start()  # returns once /healthz answers
        base = f"{server.url}/api/v1"
        headers = {"Authorization": f"Bearer {token}"}
        subscription = httpx.post(f"{base}/webhook-subscriptions", headers=headers,
                                  json={"url": receiver.url(), "event_types": ["engagement.created"]})
        assert subscription.status_code == 201, subscription.text
        receiver.secret = subscription.json()["secret"]
        organization = httpx.post(f"{base}/organizations", headers=headers, json={"name": "Acme", "headcount": 40})
        created = httpx.post(f"{base}/engagements", headers=headers,
                             json={"organization_id": organization.json()["id"]})
        assert created.status_code == 201, created.text
        committed_at = time.monotonic()

        # What the test asserts: delivery within seconds of the commit (the webhook dispatcher looks every half second).
        assert wait_until(lambda: len(receiver.delivered) == 1, DELIVERED_WITHIN_SECONDS), server.log_tail()
        assert time.monotonic() - committed_at < DELIVERED_WITHIN_SECONDS
        [delivery] = receiver.delivered
        assert delivery.verified is not None, delivery.verify_error
        assert delivery.verified["type"] == "engagement.created"
        assert delivery.verified["data"]["engagement_id"] == created.json()["id"]
    finally:
        server.stop()
