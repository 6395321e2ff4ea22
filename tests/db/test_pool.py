"""The service's engine keeps as many connections as its settings say: a web worker under load reuses its
connections instead of opening (on PostgreSQL: a server process) and closing one per request."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from sqlalchemy import Connection, event, text

from okr_rollout.db import make_engine_for
from okr_rollout.settings import Settings


def _use_at_once(settings: Settings, connections: int) -> tuple[int, int]:
    """Connections kept open by the pool, and opened in all, after ``connections`` were used at once, twice."""
    engine = make_engine_for(settings)
    opened = 0

    def count_opening(*_: object) -> None:
        nonlocal opened
        opened += 1

    event.listen(engine, "connect", count_opening)
    try:
        for _ in range(2):
            with ExitStack() as stack:
                used: list[Connection] = [stack.enter_context(engine.connect()) for _ in range(connections)]
                for connection in used:
                    connection.execute(text("SELECT 1"))
        return engine.pool.checkedin(), opened  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_a_burst_within_the_pool_size_reuses_its_connections(database_url: str) -> None:
    kept, opened = _use_at_once(Settings(database_url=database_url), connections=12)
    assert (kept, opened) == (12, 12)  # SQLAlchemy's default pool (5) would have kept 5 and opened 19


def test_connections_beyond_the_pool_size_are_closed_once_returned(database_url: str) -> None:
    settings = Settings(database_url=database_url, database_pool_size=3, database_max_overflow=5)
    kept, opened = _use_at_once(settings, connections=6)
    assert (kept, opened) == (3, 9)


def test_a_pool_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="database_pool_size"):
        Settings(database_pool_size=0)
