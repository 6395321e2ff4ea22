"""`okr-rollout serve` on SQLite runs the scheduler in the web process: a webhook reaches the CRM within
seconds of the commit, signed, with nothing else started."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from okr_rollout.db import make_session_factory, session_scope
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.start()
    yield running
    running.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    """Poll the real server's effects until ``condition`` holds or the deadline passes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_serve_delivers_a_webhook_within_seconds_of_the_commit(
        database_url: str, engine: Engine, receiver: Receiver, tmp_path: Path) -> None:
    with session_scope(make_session_factory(engine)) as session:
        token, _ = create_token(session, role=Role.admin, name="crm")
    port = _free_port()
    env = {**os.environ, "OKR_ROLLOUT_DATABASE_URL": database_url, "OKR_ROLLOUT_WEBHOOKS_ALLOW_PRIVATE": "true",
           "OKR_ROLLOUT_DELIVERY_INTERVAL_SECONDS": "0.5", "OKR_ROLLOUT_SCHEDULER_LOCK_KEY": str(port)}
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "okr_rollout.cli", "serve", "--port", str(port)], env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/api/v1"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            except httpx.HTTPError:
                return False

        assert _within(30, up), (tmp_path / "serve.log").read_text()
        subscription = httpx.post(f"{base}/webhook-subscriptions", headers=headers,
                                  json={"url": receiver.url(), "event_types": ["engagement.created"]})
        assert subscription.status_code == 201, subscription.text
        receiver.secret = subscription.json()["secret"]
        organization = httpx.post(f"{base}/organizations", headers=headers, json={"name": "Acme", "headcount": 40})
        created = httpx.post(f"{base}/engagements", headers=headers,
                             json={"organization_id": organization.json()["id"]})
        assert created.status_code == 201, created.text
        committed_at = time.monotonic()

        assert _within(10, lambda: len(receiver.delivered) == 1), (tmp_path / "serve.log").read_text()
        assert time.monotonic() - committed_at < 10
        [delivery] = receiver.delivered
        assert delivery.verified is not None, delivery.verify_error
        assert delivery.verified["type"] == "engagement.created"
        assert delivery.verified["data"]["engagement_id"] == created.json()["id"]
    finally:
        server.terminate()
        server.wait(15)
