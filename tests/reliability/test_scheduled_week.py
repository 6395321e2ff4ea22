"""Two web workers and two schedulers over one simulated week: no reminder twice, none lost.

The cluster: two applications, each with its own engine (connection pool), serving the coach's records; two
schedulers, each with its own engine and its own leadership lock connection, both ticking at every step of a
clock that moves three hours at a time through the first week of Q1 (``tests.notifications._seed``: an engagement
in q1_cycle). Both ticks of a step run at once; on Wednesday noon the active scheduler dies (its lock
connection closes) and the other one must take over.

The oracle is the same week run by a single web worker and a single scheduler on a fresh SQLite database: the
cluster must end with exactly its reminders (key, status), its notifications and its history, each once. The week,
the oracle and the comparison live in ``tests/reliability/_week.py``, shared with the same week run by real
processes (``tests/e2e/test_scheduled_week_processes.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from okr_rollout.db import make_engine
from tests.reliability._week import assert_same_as_oracle, oracle, week


def test_two_workers_and_two_schedulers_send_each_reminder_of_the_week_once(
        database_url: str, sqlite_template: Path, tmp_path: Path) -> None:
    made: list[Engine] = []

    def factory(url: str) -> Callable[[], Engine]:
        def make() -> Engine:
            made.append(make_engine(url))
            return made[-1]
        return make

    expected = oracle(sqlite_template, tmp_path)
    try:
        cluster = week(database_url, factory(database_url), workers=2, schedulers=2)
    finally:
        for engine in made:
            engine.dispose()

    assert_same_as_oracle(expected, cluster)
