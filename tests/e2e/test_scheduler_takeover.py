"""Real scheduler processes: another takes over within a minute after the active one is killed with kill -9."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, text

from tests.e2e._server import Scheduler, wait_until

KEY = 424_243
# What the test asserts: a scheduler holds the lock within a minute of starting, or of the active one's death.
TAKEOVER_SECONDS = 60


def _lock_holders(engine: Engine, key: int) -> list[int]:
    """OS pids of the okr-rollout scheduler processes holding the lock: the advisory lock ``key`` on PostgreSQL,
    the lock file beside the database on SQLite (whose last line is the pid of the process that took it)."""
    if engine.dialect.name == "sqlite":
        lock_file = Path(str(engine.url.database) + ".scheduler.lock")
        lines = lock_file.read_text().split() if lock_file.exists() else []
        return [int(lines[-1])] if lines and _alive(int(lines[-1])) else []
    with engine.connect() as connection:
        names = connection.execute(text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.objid = :key AND l.granted"), {"key": key}).scalars().all()
    return [int(name.rsplit(" ", 1)[1]) for name in names if name.startswith("okr-rollout scheduler ")]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child stays a zombie until reaped; it holds no lock any more.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def _scheduler(database_url: str, key: int, tmp_path: Path, name: str) -> Scheduler:
    return Scheduler(database_url, tmp_path / f"{name}.log", scheduler_lock_key=str(key),
                     delivery_interval_seconds="0.5", scheduler_interval_seconds="5").start()


def test_another_scheduler_takes_over_within_a_minute_after_kill_9(
        database_url: str, engine: Engine, tmp_path: Path) -> None:
    key = KEY
    first = _scheduler(database_url, key, tmp_path, "first")
    second: Scheduler | None = None
    try:
        first.wait_running()
        assert wait_until(lambda: _lock_holders(engine, key) == [first.pid], TAKEOVER_SECONDS), first.log_tail()
        second = _scheduler(database_url, key, tmp_path, "second")
        second.wait_running()
        # The second one runs and keeps asking (every half second), but the first stays the only active one.
        contender = second
        assert not wait_until(lambda: contender.pid in _lock_holders(engine, key), 3)
        assert _lock_holders(engine, key) == [first.pid]

        first.kill_9()

        taken_over = wait_until(lambda: _lock_holders(engine, key) == [contender.pid], TAKEOVER_SECONDS)
        assert taken_over, second.log_tail()
    finally:
        for process in (first, second):
            if process is not None:
                process.stop()
