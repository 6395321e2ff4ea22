"""The scheduler's ticks beside a served worker: writes while a tick runs, and the worker's memory over an hour.

``write_during_tick``: p99 of ``POST /api/v1/engagements/{id}/transitions`` over HTTP against a real
``okr-rollout serve`` (one worker, scheduler off) while a heavy scheduler tick runs in a process of its own
(``benchmarks/tick_once.py``: ``Scheduler(...).reminders_tick()``), against the same transitions with no tick,
taken in turns: alone, during, alone, during, alone (alone, during, alone at CI size). The heavy tick is the
portfolio's worst: every engagement marked stale and its next reminder time unknown (what a write to every
engagement since the last tick would leave), so that the tick reads the reminders and evaluates the readiness
of the whole portfolio, as the first tick after an upgrade does. One client, a transition every few tens of
milliseconds, spread over the tick. Target <= 3x, no 503.

``worker_rss_hour``: the RSS of a served worker with the scheduler on (``benchmarks/ticking_worker.py``) after 60
reminder ticks, one per simulated minute, with writes between them (three transitions and two CEO support
statements over HTTP per minute, each marking its engagement), against its RSS after start and a warm-up
request. Read from ``/proc/<pid>/status`` (VmRSS; the peak, VmHWM, is printed too). Target <= 1.5.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, update

from benchmarks.cases import Result
from benchmarks.contention import _setup
from benchmarks.endpoints import TRIGGER, _free_port, _new_coach_engaged, served_process
from benchmarks.scale import ticking
from okr_rollout.catalog.service import Catalog
from okr_rollout.models import ReadinessSnapshot

ROOT = Path(__file__).resolve().parents[1]
TURNS = 2  # rounds of (alone, during); a last turn alone closes them (one round at CI size)
ALONE_WRITES = 100
DURING_MAX_WRITES = 250  # per tick; the gap between writes is chosen for about 150 over the expected tick
MIN_GAP_SECONDS = 0.02  # as a person's writes would be: one client, never back to back
HOUR_TICKS = 60
WRITES_PER_MINUTE = (3, 2)  # transitions, CEO support statements
HOUR_DEADLINE_SECONDS = 1800


@dataclass
class Writes:
    seconds: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, other: Writes) -> None:
        self.seconds += other.seconds
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000 if ordered else 0.0

    def summary(self) -> str:
        return (f"{len(self.seconds)} transitions, p50 {statistics.median(self.seconds) * 1000:.1f} ms, "
                f"p99 {self.p99_ms:.1f} ms, statuses {dict(sorted(self.statuses.items()))}")


def _transition(http: httpx.Client, engagement_id: int, writes: Writes) -> None:
    started = time.perf_counter()
    response = http.post(f"/api/v1/engagements/{engagement_id}/transitions", json={"trigger": TRIGGER})
    writes.seconds.append(time.perf_counter() - started)
    writes.statuses[response.status_code] = writes.statuses.get(response.status_code, 0) + 1
    if response.status_code != 503 and not 200 <= response.status_code < 300:
        raise RuntimeError(f"transition of {engagement_id}: {response.status_code} {response.text[:300]}")


def _alone(http: httpx.Client, engagements: list[int]) -> Writes:
    writes = Writes()
    for engagement_id in engagements[:ALONE_WRITES]:
        _transition(http, engagement_id, writes)
        time.sleep(MIN_GAP_SECONDS)
    del engagements[:ALONE_WRITES]
    return writes


def _mark_everything(engine: Engine) -> None:
    """Every engagement stale, its next reminder unknown: the next tick reads and evaluates all of them."""
    with engine.begin() as connection:
        connection.execute(update(ReadinessSnapshot).values(stale=True, marks=ReadinessSnapshot.marks + 1,
                                                            next_reminder_at=None))


def _during_tick(http: httpx.Client, engagements: list[int], tick_env: dict[str, str], at: str, gap: float
                 ) -> tuple[Writes, float]:
    """Transitions from the moment the tick begins until it ends (its process waited for, not slept on)."""
    tick = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "tick_once.py"), at],
                            env={**os.environ, **tick_env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert tick.stdout is not None
    if tick.stdout.readline().strip() != "started":
        tick.wait()
        raise RuntimeError(f"the tick did not start: {tick.stderr.read() if tick.stderr else ''}")
    writes = Writes()
    taken = 0
    while tick.poll() is None and taken < min(DURING_MAX_WRITES, len(engagements)):
        _transition(http, engagements[taken], writes)
        taken += 1
        time.sleep(gap)
    del engagements[:taken]
    out, err = tick.communicate()
    if tick.returncode != 0:
        raise RuntimeError(f"the tick failed: {err}")
    return writes, float(json.loads(out.strip().splitlines()[-1])["seconds"])


def write_during_tick(engine: Engine, catalog: Catalog, url: str, turns: int = TURNS) -> Result:
    portfolio = ticking(engine, catalog, url)  # readiness kept and a last reminder run known, as in service
    # The in-process scheduler of the earlier figures lets go of the scheduler lock, as a stopped scheduler does:
    # the tick here runs in a process of its own.
    portfolio.scheduler.leadership.release()
    token, _ = _setup(engine)
    # The gap between two writes, for about 150 over a tick as long as the portfolio's first one was.
    gap = max(MIN_GAP_SECONDS, portfolio.first_tick_seconds / 150)
    engagements = _new_coach_engaged(engine, turns * DURING_MAX_WRITES + (turns + 1) * ALONE_WRITES + 5)
    port = _free_port()
    server_env = {"OKR_ROLLOUT_DATABASE_URL": url, "OKR_ROLLOUT_SCHEDULER_IN_WEB": "false"}
    alone, during = Writes(), Writes()
    tick_seconds: list[float] = []
    with (served_process([sys.executable, "-m", "okr_rollout.cli", "serve", "--port", str(port), "--workers", "1"],
                  server_env, port) as (base, _),
          httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as http):
        for engagement_id in engagements[:5]:  # warm-up: the first requests load the playbook, compile statements
            _transition(http, engagement_id, Writes())
        del engagements[:5]
        for _ in range(turns):
            alone.add(_alone(http, engagements))
            _mark_everything(engine)
            portfolio.now += timedelta(minutes=1)
            writes, seconds = _during_tick(http, engagements, {"OKR_ROLLOUT_DATABASE_URL": url},
                                           portfolio.now.isoformat(), gap)
            tick_seconds.append(seconds)
            print(f"  heavy tick over {len(portfolio.ids):,} engagements: {seconds:.1f} s; during it: "
                  f"{writes.summary()}", file=sys.stderr)
            during.add(writes)
        alone.add(_alone(http, engagements))
    print(f"  transition alone: {alone.summary()}", file=sys.stderr)
    print(f"  transition during a tick: {during.summary()}; ratio {during.p99_ms / alone.p99_ms:.2f}; "
          f"503s: {during.statuses.get(503, 0)}", file=sys.stderr)
    return Result(during.p99_ms, alone.p99_ms, "<= 3x, no 503",
                  f"ms p99 (503s: {during.statuses.get(503, 0)} during, {alone.statuses.get(503, 0)} alone; "
                  f"ticks {', '.join(f'{s:.1f}' for s in tick_seconds)} s)")


def _rss_kib(pid: int, field_name: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field_name} for process {pid}")


def worker_rss_hour(engine: Engine, catalog: Catalog, url: str) -> Result:
    portfolio = ticking(engine, catalog, url)  # readiness kept: the worker's ticks are the steady ones
    # The in-process scheduler of the earlier figures lets go of the scheduler lock, as a stopped scheduler does:
    # the served worker's scheduler takes it.
    portfolio.scheduler.leadership.release()
    token, _ = _setup(engine)
    transitions, supports = WRITES_PER_MINUTE
    fresh = _new_coach_engaged(engine, transitions * (HOUR_TICKS + 5) + 1)
    start = portfolio.now + timedelta(minutes=1)
    port = _free_port()
    env = {"OKR_ROLLOUT_DATABASE_URL": url, "OKR_ROLLOUT_SCHEDULER_INTERVAL_SECONDS": "1", "PYTHONPATH": str(ROOT)}
    support = {"level": "full", "stated_on": "2026-06-01", "note": "a minute of the hour"}
    writes = Writes()
    with (served_process([sys.executable, str(ROOT / "benchmarks" / "ticking_worker.py"), str(port), start.isoformat()],
                  env, port) as (base, worker),
          httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as http):

        def ticks() -> dict[str, Any]:
            answer: dict[str, Any] = http.get("/bench/ticks").raise_for_status().json()
            return answer

        def a_minute_of_writes(minute: int) -> None:
            for _ in range(transitions):
                _transition(http, fresh.pop(), writes)
            for k in range(supports):
                engagement_id = portfolio.ids[(minute * 37 + k * 101) % len(portfolio.ids)]
                http.post(f"/api/v1/engagements/{engagement_id}/ceo-support", json=support).raise_for_status()

        # Warm-up: a read, a transition and a statement; the RSS after them is the worker's after start.
        http.get(f"/api/v1/engagements/{portfolio.ids[0]}").raise_for_status()
        a_minute_of_writes(0)
        after_start = _rss_kib(worker.pid)
        first = ticks()["ticks"]
        print(f"  worker {worker.pid} after start and a warm-up: {after_start / 1024:.1f} MiB RSS "
              f"({first} ticks ended)", file=sys.stderr)
        deadline = time.monotonic() + HOUR_DEADLINE_SECONDS
        started = time.monotonic()
        seen, samples = first, [after_start]
        while seen < first + HOUR_TICKS:
            a_minute_of_writes(seen + 1)
            while (now_seen := ticks())["ticks"] == seen:  # the next tick, polled (its length is the tick's)
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {seen - first} ticks in {HOUR_DEADLINE_SECONDS} s")
                time.sleep(0.05)
            seen = now_seen["ticks"]
            samples.append(_rss_kib(worker.pid))
        after_hour, peak = _rss_kib(worker.pid), _rss_kib(worker.pid, "VmHWM")
        told = ticks()
        failed, tick_seconds = told["failed"], told["seconds"][first:]
    elapsed = time.monotonic() - started
    portfolio.now = start + timedelta(minutes=seen + 1)  # later ticks in this run go on after the simulated hour
    if failed:
        raise RuntimeError(f"{failed} of the worker's ticks failed")
    print(f"  after {seen - first} ticks in {elapsed:.0f} s ({writes.summary()}): {after_hour / 1024:.1f} MiB RSS, "
          f"samples {min(samples) / 1024:.1f}-{max(samples) / 1024:.1f} MiB, peak (VmHWM) {peak / 1024:.1f} MiB; "
          f"a tick took {statistics.median(tick_seconds) * 1000:.0f} ms (median), {max(tick_seconds):.2f} s at most",
          file=sys.stderr)
    return Result(after_hour / 1024, after_start / 1024, "<= 1.5",
                  f"MiB RSS after {seen - first} ticks (peak {peak / 1024:.0f} MiB)")
