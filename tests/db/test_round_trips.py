"""What a request costs the PostgreSQL server in round trips, counted on the wire (libpq's protocol trace).

A reader runs each statement in its own transaction (no BEGIN, no COMMIT) and a busy pooled connection is not
pinged, so reading an engagement is four statements and nothing else: the token, the engagement, its coaches and
its open tasks. A connection idle for long is pinged, and replaced without an error when the server has dropped
it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from okr_rollout import db as db_module
from tests.api._helpers import create_engagement, create_organization
from tests.conftest import BACKENDS, Tokens, auth

pytestmark = pytest.mark.postgres
ON_POSTGRESQL = pytest.mark.parametrize("database_url", [b for b in BACKENDS if b == "postgresql"], indirect=True)


@dataclass
class Cost:
    round_trips: int = 0
    statements: int = 0


@contextmanager
def _traced(engine: Engine) -> Iterator[Cost]:
    """Trace the pool's one connection; the cost is filled in when the block ends (libpq writes its trace
    through a buffer that is flushed when tracing stops)."""
    pooled = engine.raw_connection()
    driver: Any = pooled.driver_connection
    pooled.close()
    cost = Cost()
    with tempfile.TemporaryFile("w+b") as trace:
        driver.pgconn.trace(trace.fileno())
        driver.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield cost
        finally:
            driver.pgconn.untrace()
        trace.seek(0)
        messages = [line.split("\t") for line in trace.read().decode(errors="replace").splitlines()]
    # A statement is a simple Query or an extended Bind sent by the client; a round trip ends with the server's
    # ReadyForQuery (statements sent in one pipeline share one).
    cost.statements = sum(1 for message in messages if message[0] == "F" and message[2] in ("Query", "Bind"))
    cost.round_trips = sum(1 for message in messages if message[0] == "B" and message[2] == "ReadyForQuery")


@ON_POSTGRESQL
def test_reading_an_engagement_is_four_statements_without_transaction_or_ping(
        app_client: TestClient, tokens: Tokens, engine: Engine) -> None:
    organization = create_organization(app_client, tokens.admin)
    engagement = create_engagement(app_client, tokens.admin, organization["id"])
    path = f"/api/v1/engagements/{engagement['id']}"
    assert app_client.get(path, headers=auth(tokens.admin)).status_code == 200
    engine.pool.dispose()  # one pooled connection from here on: the one traced
    assert app_client.get(path, headers=auth(tokens.admin)).status_code == 200

    with _traced(engine) as cost:
        response = app_client.get(path, headers=auth(tokens.admin))
    assert response.status_code == 200 and response.json()["open_tasks"]
    assert cost.statements == 4  # the token, the engagement, its coaches, its open tasks with their checklists
    assert cost.round_trips == 4  # one each: no BEGIN, no COMMIT, no ping


@ON_POSTGRESQL
def test_a_connection_dropped_while_idle_is_replaced_without_an_error(
        app_client: TestClient, tokens: Tokens, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    assert app_client.get("/api/v1/organizations", headers=auth(tokens.admin)).status_code == 200
    engine.pool.dispose()
    assert app_client.get("/api/v1/organizations", headers=auth(tokens.admin)).status_code == 200
    pooled = engine.raw_connection()
    backend = pooled.driver_connection.info.backend_pid  # type: ignore[union-attr]
    pooled.close()
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as other:  # ends the pooled one from the server's side
        assert other.execute("SELECT pg_terminate_backend(%s)", (backend,)).fetchone() == (True,)

    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout now counts as idle
    response = app_client.get("/api/v1/organizations", headers=auth(tokens.admin))
    assert response.status_code == 200, response.text
