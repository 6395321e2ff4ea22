"""Idempotency-Key and feed secrets with real ``okr-rollout serve`` processes.

- A worker is killed with SIGKILL while a keyed POST is in the middle of its transaction (``_paused``: the process
  stops for good as it inserts the organization, and says so in its output). The client's retry with the same
  key, sent to another worker once the database has let go of the dead one's connection, creates the
  organization at once (not 409 "still running"), exactly once; the retry after that is a replay.
- The access log of a served process never shows a calendar feed's secret, though every fetch of the feed is
  logged.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import Engine, text

from tests.conftest import BACKENDS, Tokens, auth
from tests.e2e import _paused
from tests.e2e._server import START_DEADLINE, Server, wait_until

ORGS = "/api/v1/organizations"
RELEASE_DEADLINE = 120.0  # seconds: the most PostgreSQL may take to notice a killed client's connection is gone


class PausedServer(Server):
    """``okr-rollout serve`` that stops for good inside the request creating the organization ``PAUSE_AT``."""

    module = "tests.e2e._paused"


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[tuple[PausedServer, Server]]:
    doomed = PausedServer(database_url, tmp_path / "doomed.log")
    other = Server(database_url, tmp_path / "other.log")
    try:
        yield doomed.start(), other.start()
    finally:
        doomed.stop()
        other.stop()


def transactions_left_open(engine: Engine) -> int:
    """PostgreSQL: sessions of this database in an open transaction (other than the asking one)."""
    with engine.connect() as connection:
        return int(connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state LIKE 'idle in transaction%'")).scalar_one())


def test_a_key_whose_worker_was_killed_mid_request_is_free_at_once(
        workers: tuple[PausedServer, Server], tokens: Tokens, engine: Engine) -> None:
    doomed, other = workers
    payload = {"name": _paused.PAUSE_AT, "headcount": 12, "crm_id": "crm-killed"}
    headers = auth(tokens.integration, **{"Idempotency-Key": "create-while-killed"})
    lost: list[BaseException] = []

    def first_try() -> None:
        try:
            with httpx2.Client(base_url=doomed.url, timeout=START_DEADLINE) as client:
                client.post(ORGS, json=payload, headers=headers)
        except httpx2.HTTPError as error:  # the worker died under it: the client never learns what happened
            lost.append(error)

    attempt = threading.Thread(target=first_try)
    attempt.start()
    try:
        assert wait_until(lambda: doomed.logged(_paused.PAUSED), START_DEADLINE), doomed.log_tail()
        doomed.kill_9()
    finally:
        attempt.join(START_DEADLINE)
    assert lost, "the first try got an answer: it was not cut short"
    if engine.dialect.name == "postgresql":
        assert wait_until(lambda: transactions_left_open(engine) == 0, RELEASE_DEADLINE), \
            "PostgreSQL kept the killed worker's transaction open"

    with httpx2.Client(base_url=other.url, timeout=START_DEADLINE) as client:
        retried = client.post(ORGS, json=payload, headers=headers)
        assert retried.status_code == 201, retried.text
        assert "idempotent-replayed" not in retried.headers
        again = client.post(ORGS, json=payload, headers=headers)
        assert (again.status_code, again.content) == (201, retried.content)
        assert again.headers["idempotent-replayed"] == "true"
        found = client.get(ORGS, params={"crm_id": "crm-killed"}, headers=auth(tokens.admin)).json()["items"]
    assert [o["id"] for o in found] == [retried.json()["id"]]


@pytest.mark.parametrize("database_url", [b for b in BACKENDS if b == "sqlite"], indirect=True)
def test_the_access_log_never_shows_a_feed_secret(database_url: str, tokens: Tokens, tmp_path: Path) -> None:
    served = Server(database_url, tmp_path / "serve.log").start()
    try:
        with httpx2.Client(base_url=served.url, timeout=START_DEADLINE, headers=auth(tokens.admin)) as client:
            organization = client.post(ORGS, json={"name": "Feeds", "headcount": 5}).json()
            person = client.post(f"{ORGS}/{organization['id']}/people", json={"name": "Ada"}).json()
            issued = client.post(f"{ORGS}/{organization['id']}/people/{person['id']}/calendar-token")
            assert issued.status_code == 200, issued.text
            feed_path = "/api/v1/calendar/" + issued.json()["url"].rsplit("/api/v1/calendar/", 1)[1]
            secret = feed_path.removeprefix("/api/v1/calendar/").removesuffix(".ics")
            assert client.get(feed_path).status_code == 200
            assert client.get(feed_path + "?lang=zh-TW").status_code == 200
            assert client.get(f"/api/v1/calendar/{secret}").status_code == 404  # mistyped: the secret all the same
            # Logged once the answer is on its way: the last line to wait for.
            assert wait_until(lambda: served.logged('HTTP/1.1" 404'), START_DEADLINE), served.log_tail()
    finally:
        served.stop()
    log = served.log.read_text()
    assert secret not in log
    assert log.count('"GET /api/v1/calendar/[redacted] HTTP/1.1" 200') == 1
    assert log.count('"GET /api/v1/calendar/[redacted]?lang=zh-TW HTTP/1.1" 200') == 1
    assert log.count('"GET /api/v1/calendar/[redacted] HTTP/1.1" 404') == 1
    assert "calendar-token HTTP/1.1\" 200" in log  # the rest of the log is as it was
