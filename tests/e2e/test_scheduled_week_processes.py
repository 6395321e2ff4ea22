"""The scheduled week with real processes: two web workers and two schedulers on PostgreSQL for a simulated week.

The week, its oracle and the comparison are those of the in-process test (``tests/reliability/_week.py``): the
engagement of ``tests.notifications._seed`` in q1_cycle, a clock moving three hours at a time for seven days from
its entry into q1_cycle, a check-in recorded over HTTP on Tuesday and Friday at 18:00, and the same week run by
one web worker and one scheduler on SQLite as the oracle. Here the cluster is four processes on one PostgreSQL
database, each with its own engine:
- two web workers: uvicorn serving ``create_app`` on its own port; the check-ins go through one, then the other;
- two schedulers: ``Scheduler`` as ``okr-rollout scheduler`` builds it; the leadership is PostgreSQL's advisory
  lock on a connection of its own.
All four read the time from a file the test replaces atomically (``tests/e2e/_clocked.py``, a launcher that builds
what the command line builds with that clock; production has no such option). At each step the test writes the
time, then polls (with a deadline) until both schedulers have recorded their tick at that time (reminders, then
deliveries) and checks that exactly one of them was active: the clock never moves while a tick runs, and no tick
at a time is skipped. Before Wednesday noon's tick the active scheduler is killed with SIGKILL (no shutdown, no
release: PostgreSQL frees its lock when the connection drops, which the test waits for); the other one must take
over at that very tick and send what is left of the week (Thursday's escalation to the internal coach). Each web
worker records one of the check-ins, stamped with the test's time.

The processes end with exactly the oracle's reminders (key, status), notifications and history, each once: no
reminder sent twice by the two schedulers, none lost across the kill.

Steps: all 56 of the week's three-hour steps, as in the in-process test. Every reminder of the week falls due at
09:00 (Monday: weekly check-in and team meeting; Tuesday: the missed check-in's repeat; Thursday: the internal
coach), which three-hour steps from midnight hit exactly; the same steps as the oracle keep the two weeks
comparable. A step costs tens of milliseconds (two ticks and the polling); the processes start while the oracle
runs. The whole test takes 12 to 30 seconds on two cores shared with other suites, most of it starting processes
and running the oracle: fewer steps would save little and could step over a reminder's due time.

PostgreSQL only: the test runs when OKR_ROLLOUT_TEST_DATABASE_URL is set (CI sets it), as the PostgreSQL half of
every database test does; without it its parameter list is empty, like ``BACKENDS`` without "postgresql".
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import Engine, text

from tests.conftest import BACKENDS, ROOT, auth
from tests.e2e import _server
from tests.notifications._seed import ENTERED
from tests.reliability._week import (
    DEATH,
    LOCK_KEY,
    assert_same_as_oracle,
    check_in_request,
    collected,
    oracle,
    seeded_week,
    steps,
)

pytestmark = pytest.mark.postgres

# Guards against a hung process, never conditions of success: the first tick waits for the scheduler processes
# to start, which on a busy machine takes as long as a server's start.
TICK_DEADLINE = _server.START_DEADLINE
TICK_POLL = 0.01  # seconds between two looks at the schedulers' tick files: a tick takes a few tens of ms
RELEASE_DEADLINE = 120.0  # seconds: the most PostgreSQL may take to notice a killed client's connection is gone


class ClockedScheduler(_server.Scheduler):
    """``okr-rollout scheduler`` on the file clock, recording each tick in ``ticks``."""

    module = "tests.e2e._clocked"

    def __init__(self, database_url: str, log: Path, clock: Path, ticks: Path, **settings: str) -> None:
        super().__init__(database_url, log, **settings)
        self.clock = clock
        self.ticks = ticks

    def run(self, *args: str) -> None:
        super().run("--clock", str(self.clock), "--ticks", str(self.ticks), *args)

    def ticked(self) -> dict[datetime, str]:
        """Each time this scheduler has ticked at: active, standby or failed (complete lines only)."""
        content = self.ticks.read_text() if self.ticks.exists() else ""
        lines = content.split("\n")[:-1]  # the last piece is empty, or a line still being written
        return {datetime.fromisoformat(time): state for time, state in (line.split() for line in lines)}

    def answers(self, at: datetime) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"scheduler {self.pid} exited with {self.process.returncode}:\n{self.log_tail()}")
        return at in self.ticked()


class ClockedServer(_server.Server):
    """``okr-rollout serve`` (web only) on the file clock."""

    module = "tests.e2e._clocked"

    def __init__(self, database_url: str, log: Path, clock: Path, **settings: str) -> None:
        super().__init__(database_url, log, **settings)
        self.clock = clock

    def run(self, *args: str) -> None:
        super().run("--clock", str(self.clock), *args)


def set_clock(clock: Path, now: datetime) -> None:
    """Move every process's time to ``now`` at once: a reader sees the old file or the new one, never half."""
    draft = clock.with_name(clock.name + ".next")
    draft.write_text(now.isoformat())
    os.replace(draft, clock)


def tick_at(schedulers: list[ClockedScheduler], now: datetime) -> dict[int, str]:
    """Wait until every scheduler has ticked at ``now``; pid -> what it was then."""
    deadline = time.monotonic() + TICK_DEADLINE
    while not all(s.answers(now) for s in schedulers):
        assert time.monotonic() < deadline, f"no tick at {now} within {TICK_DEADLINE} s:\n" + "\n".join(
            s.log_tail() for s in schedulers)
        time.sleep(TICK_POLL)
    return {s.pid: s.ticked()[now] for s in schedulers}


def lock_holders(engine: Engine) -> list[int]:
    """OS pids of the scheduler processes holding the leadership lock of this database."""
    with engine.connect() as connection:
        names = connection.execute(text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid = :high AND l.objid = :low"),
            {"high": LOCK_KEY >> 32, "low": LOCK_KEY & 0xFFFF_FFFF}).scalars().all()
    return sorted(int(name.rsplit(" ", 1)[1]) for name in names if name.startswith("okr-rollout scheduler "))


@pytest.mark.parametrize("database_url", [b for b in BACKENDS if b == "postgresql"], indirect=True)
def test_two_web_processes_and_two_scheduler_processes_send_each_reminder_of_the_week_once(
        database_url: str, engine: Engine, sqlite_template: Path, tmp_path: Path) -> None:
    seeded, token = seeded_week(engine)  # before the processes start: they check the pinned playbook
    clock = tmp_path / "clock"
    set_clock(clock, ENTERED)
    settings = {"scheduler_lock_key": str(LOCK_KEY), "playbooks_dir": str(ROOT / "playbooks")}
    schedulers = [ClockedScheduler(database_url, tmp_path / f"scheduler-{n}.log", clock, tmp_path / f"ticks-{n}",
                                   **settings) for n in (1, 2)]
    workers = [ClockedServer(database_url, tmp_path / f"web-{n}.log", clock, **settings) for n in (1, 2)]
    processes: list[_server.Process] = [*schedulers, *workers]
    try:
        for scheduler in schedulers:
            scheduler.start()  # each ticks at once at the time of the clock file
        with ThreadPoolExecutor(len(workers)) as starting:  # the processes start while the oracle runs
            started = [starting.submit(worker.start) for worker in workers]  # done when it answers /healthz
            expected = oracle(sqlite_template, tmp_path)
            for future in started:
                future.result()
        with ExitStack() as stack:
            clients = [stack.enter_context(httpx2.Client(base_url=w.url, headers=auth(token), timeout=60))
                       for w in workers]
            quarters = clients[1].get(f"/api/v1/engagements/{seeded.engagement_id}/quarters")
            assert quarters.status_code == 200, quarters.text
            quarter_id = quarters.json()[0]["id"]

            live, killed = list(schedulers), None
            leaders: list[int] = []  # the active scheduler's pid at each step
            check_ins = 0
            for step, now in enumerate(steps()):
                if killed is None and now >= DEATH:
                    (killed,) = [s for s in live if s.pid == leaders[-1]]
                    assert lock_holders(engine) == [killed.pid]
                    killed.kill_9()
                    live.remove(killed)
                    assert _server.wait_until(lambda: lock_holders(engine) == [], RELEASE_DEADLINE), \
                        "PostgreSQL kept the killed scheduler's lock"
                set_clock(clock, now)
                states = tick_at(live, now)
                assert "failed" not in states.values(), "\n".join(s.log_tail() for s in live)
                active = [pid for pid, state in states.items() if state == "active"]
                assert len(active) == 1, f"{now}: not exactly one active scheduler: {states}"
                leaders.append(active[0])
                request = check_in_request(seeded, quarter_id, now, step)
                if request is not None:  # one web worker, then the other
                    recorded = clients[check_ins % len(clients)].post(request[0], json=request[1])
                    assert recorded.status_code == 201, recorded.text
                    assert datetime.fromisoformat(recorded.json()["created_at"]) == now  # on the test's clock
                    check_ins += 1

        assert check_ins == len(workers)  # each web worker recorded one of the week's check-ins
        # One scheduler was active until the kill, the other from Wednesday noon on, holding the lock.
        assert killed is not None
        (survivor,) = live
        assert leaders == [killed.pid if at < DEATH else survivor.pid for at in steps()], leaders
        assert lock_holders(engine) == [survivor.pid]
    finally:
        for process in processes:
            process.stop()

    assert_same_as_oracle(expected, collected(engine, seeded))
