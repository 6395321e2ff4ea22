"""Real scheduler processes: another takes over within a minute after the active one is killed with kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text

KEY = 424_243


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


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    """Poll another process's state until ``condition`` holds: these tests watch real processes, not a clock."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def _scheduler_process(database_url: str, key: int, tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OKR_ROLLOUT_DATABASE_URL": database_url, "OKR_ROLLOUT_SCHEDULER_LOCK_KEY": str(key),
           "OKR_ROLLOUT_DELIVERY_INTERVAL_SECONDS": "0.5", "OKR_ROLLOUT_SCHEDULER_INTERVAL_SECONDS": "5"}
    with (tmp_path / f"{name}.log").open("wb") as log:
        return subprocess.Popen([sys.executable, "-m", "okr_rollout.cli", "scheduler"], env=env, stdout=log,
                                stderr=subprocess.STDOUT)


def test_another_scheduler_takes_over_within_a_minute_after_kill_9(
        database_url: str, engine: Engine, tmp_path: Path) -> None:
    key = KEY
    first = _scheduler_process(database_url, key, tmp_path, "first")
    second: subprocess.Popen[bytes] | None = None
    try:
        assert _wait_for(lambda: _lock_holders(engine, key) == [first.pid], 30), (tmp_path / "first.log").read_text()
        second = _scheduler_process(database_url, key, tmp_path, "second")
        # The second one runs and keeps asking, but the first stays the only active one.
        assert not _wait_for(lambda: second.pid in _lock_holders(engine, key), 3)
        assert _lock_holders(engine, key) == [first.pid]

        first.send_signal(signal.SIGKILL)
        first.wait(10)

        taken_over = _wait_for(lambda: _lock_holders(engine, key) == [second.pid], 60)
        assert taken_over, (tmp_path / "second.log").read_text()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)
