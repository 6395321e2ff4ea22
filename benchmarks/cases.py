"""The benchmarks: each measures okr-rollout and a baseline doing the same work by the shortest route."""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, select, text

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.facts import queries as facts_queries
from okr_rollout.journey.facts import EngagementFacts, OrganizationFacts
from okr_rollout.journey.machine import machine_for
from okr_rollout.models import Engagement

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
BENCH = Caller(token_id=0, name="benchmark", role=Role.admin)


@dataclass(frozen=True)
class Result:
    value: float
    baseline: float
    target: str
    unit: str

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {"value": round(self.value, 6), "baseline": round(self.baseline, 6), "ratio": round(self.ratio, 3),
                "target": self.target, "unit": self.unit}


def _best_of(runs: int, work: Any) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def portfolio_readiness(engine: Engine, catalog: Catalog) -> Result:
    """The readiness report of every engagement (facts loaded, every gate evaluated) vs. reading the same rows
    with the same SQL and grouping them per engagement, with no facts and no gates."""
    # The loader's own statements, compiled to SQL once and read as plain text, with no type conversion.
    queries = [str(statement.compile(engine)) for statement in facts_queries.statements(False).values()]

    def readiness() -> None:
        with engine.connect() as connection:
            pins = dict(connection.execute(select(Engagement.id, Engagement.playbook_sha256)).all())
            facts = facts_queries.load_facts(connection, None, NOW)
            with make_session_factory(engine)() as session:
                for engagement_id, engagement_facts in facts.items():
                    machine_for(catalog.pinned(session, pins[engagement_id])).readiness(engagement_facts)

    def raw() -> None:
        # The same rows, grouped per engagement (or organization) as any reader would, and nothing else.
        with engine.connect() as connection:
            for sql in queries:
                grouped: dict[Any, list[Any]] = {}
                for row in connection.execute(text(sql)):
                    grouped.setdefault(row[0], []).append(row)

    return Result(_best_of(3, readiness), _best_of(3, raw), "<= 2x", "s")


TRANSITIONS = 200  # per side
WARM_UP = 10  # per side, untimed: first use compiles statements and loads the playbook, on either side
CHUNK = 10  # the two sides take turns, a chunk each, so that neither inherits the other's checkpoints


def _coach_engaged(engine: Engine, count: int) -> list[int]:
    with engine.connect() as connection:
        return list(connection.execute(
            select(Engagement.id).where(Engagement.phase == "coach_engaged").order_by(Engagement.id).limit(count)
        ).scalars())


def transition(engagement_engine: Engine, catalog: Catalog) -> Result:
    """One transition as the API's handler makes it (token, lock, the gate's facts, gate, phase change, tasks and
    checklists, event, read-back, JSON, commit) vs. the same statements on the raw driver's connection
    (``bare_app.transition``), in process, on alternate engagements of the same phase, after a warm-up of both,
    taking turns."""
    from benchmarks import bare_app
    from okr_rollout.api.deps import serialized
    from okr_rollout.auth.service import authenticate, create_token
    from okr_rollout.engagements import router, service
    from okr_rollout.engagements.schemas import TransitionReadinessOut, TransitionRequest, TransitionResult

    factory = make_session_factory(engagement_engine)
    with session_scope(factory) as session:
        token, _ = create_token(session, role=Role.admin, name="in-process")
    candidates = _coach_engaged(engagement_engine, 2 * (WARM_UP + TRANSITIONS))
    ours, theirs = candidates[0::2], candidates[1::2]
    request = TransitionRequest(trigger="schedule_executive_meeting")

    def fire(engagement_ids: list[int]) -> None:
        for engagement_id in engagement_ids:
            with session_scope(factory) as session:
                caller = authenticate(session, token)
                assert caller is not None
                # What the handler does once the token is read: the move, then its answer as JSON.
                moved = service.fire_transition(session, caller, catalog, engagement_id, request.trigger, NOW)
                serialized(TransitionResult(
                    engagement=router.engagement_out(moved.details), from_phase=moved.source,
                    trigger=request.trigger,
                    readiness=TransitionReadinessOut.model_validate(service.readiness_json(moved.readiness))),
                    version=moved.details.engagement.version)

    bare_app.POSTGRESQL = engagement_engine.dialect.name == "postgresql"
    pooled = engagement_engine.raw_connection()
    driver: Any = pooled.driver_connection
    if bare_app.POSTGRESQL:
        driver.autocommit = True

    def raw(engagement_ids: list[int]) -> None:
        for engagement_id in engagement_ids:
            answer = bare_app.transition(driver, f"Bearer {token}", engagement_id, NOW)
            assert not isinstance(answer, int), answer
            json.dumps(answer)

    try:
        return _taking_turns(fire, raw, ours, theirs, "<= 3x")
    finally:
        if bare_app.POSTGRESQL:
            driver.autocommit = False
        pooled.close()


def _taking_turns(work: Any, baseline: Any, ours: list[int], theirs: list[int], target: str) -> Result:
    """Milliseconds per item of ``work`` and of ``baseline``: both warmed up, then timed chunk by chunk in turn."""
    warm_up = min(WARM_UP, min(len(ours), len(theirs)) // 5)  # a small portfolio (CI's smoke run) has few items
    work(ours[:warm_up])
    baseline(theirs[:warm_up])
    ours, theirs = ours[warm_up:], theirs[warm_up:]
    ours_seconds = theirs_seconds = 0.0
    for start in range(0, min(len(ours), len(theirs)), CHUNK):
        ours_seconds += _timed(work, ours[start:start + CHUNK])
        theirs_seconds += _timed(baseline, theirs[start:start + CHUNK])
    count = max(1, min(len(ours), len(theirs)))
    return Result(ours_seconds / count * 1000, theirs_seconds / count * 1000, target, "ms per transition")


def _timed(work: Any, *args: Any) -> float:
    started = time.perf_counter()
    work(*args)
    return time.perf_counter() - started


def scheduler_tick(engine: Engine, catalog: Catalog, url: str) -> Result:
    """One scheduler tick over the portfolio (what is due, keyed insert of reminders) vs. the SELECT of the
    same rows."""
    from okr_rollout.notifications.service import run_reminders
    from okr_rollout.settings import Settings

    settings = Settings(database_url=url)
    factory = make_session_factory(engine)

    def tick() -> None:
        with session_scope(factory) as session:
            run_reminders(session, catalog, settings, NOW + timedelta(days=7))

    def select_rows() -> None:
        with engine.connect() as connection:
            facts_queries.load_facts(connection, None, NOW)

    baseline = _best_of(3, select_rows)
    return Result(_timed(tick), baseline, "report", "s")


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def memory_transitions(catalog: Catalog) -> Result:
    """RSS after 10,000 transitions vs. after 100: one cached machine, fired on a subject, no model attached."""
    machine = machine_for(catalog.current("standard"))
    facts = EngagementFacts(engagement_id=1, phase="coach_engaged", entered_phase_at=NOW - timedelta(days=3),
                            now=NOW, organization=OrganizationFacts(1, "Bench", 40), coach_ids=frozenset({1}))
    for _ in range(100):
        machine.fire(facts, "schedule_executive_meeting")
    gc.collect()
    after_100 = _rss_kib()
    for _ in range(10_000):
        machine.fire(facts, "schedule_executive_meeting")
    gc.collect()
    return Result(float(_rss_kib()), float(after_100), "~1.0x", "KiB RSS")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    # A session of its own: a server with several workers is a process group, stopped whole if it does not start.
    process = subprocess.Popen(args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 120  # two workers starting on a shared, loaded machine
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    raise RuntimeError(f"server on port {port} did not start")


THROUGHPUT_ROUNDS = 5  # each side measured this many times, in turn; the median of each is reported
THROUGHPUT_SECONDS = 3.0
THROUGHPUT_CONNECTIONS, THROUGHPUT_THREADS = 16, 2  # wrk's keep-alive connections and its threads


def _load(url: str, headers: dict[str, str], workdir: Path, seconds: float = THROUGHPUT_SECONDS,
          warm_up: bool = False) -> float:
    """Requests per second from wrk's keep-alive connections for ``seconds``."""
    from benchmarks import wrk

    return wrk.run(url, headers, workdir, seconds=seconds, connections=THROUGHPUT_CONNECTIONS,
                   threads=THROUGHPUT_THREADS, warm_up=warm_up).per_second


def get_engagement_throughput(engine: Engine, url: str, workdir: Path, workers: int = 2) -> Result:
    """GET /api/v1/engagements/{id} under concurrent load (wrk: 16 keep-alive connections, 2 threads) vs. a bare
    FastAPI endpoint running the same statements on the raw driver (``bare_app``: token, visibility, engagement,
    coaches, open tasks) and returning the same JSON.

    Both servers run side by side; after a warm-up of each, they are loaded in turn, round after round, so that
    neither side alone meets a busy moment of the machine or an uneven spread of connections over workers."""
    from okr_rollout.auth.service import create_token

    with session_scope(make_session_factory(engine)) as session:
        token, _ = create_token(session, role=Role.admin, name="bench")
        engagement_id = session.scalar(select(Engagement.id).order_by(Engagement.id).limit(1))
    headers = {"Authorization": f"Bearer {token}"}
    env = {"OKR_ROLLOUT_DATABASE_URL": url, "OKR_ROLLOUT_SCHEDULER_IN_WEB": "false"}
    port, bare_port = _free_port(), _free_port()
    # Workers may take longer than uvicorn's 5 s health check to start on a loaded machine: both servers get 120 s.
    patience = ["--timeout-worker-healthcheck", "120"]
    servers = [_serve([sys.executable, "-m", "okr_rollout.cli", "serve", "--port", str(port), "--workers",
                       str(workers), "--worker-start-timeout", "120"], env, port)]
    try:
        path = f"http://127.0.0.1:{port}/api/v1/engagements/{engagement_id}"
        servers.append(_serve([sys.executable, "-m", "uvicorn", "benchmarks.bare_app:app", "--port", str(bare_port),
                               "--workers", str(workers), "--log-level", "warning", *patience],
                              {"OKR_BENCH_DATABASE_URL": url,
                               "PYTHONPATH": str(Path(__file__).resolve().parents[1])}, bare_port))
        bare_path = f"http://127.0.0.1:{bare_port}/engagements/{engagement_id}"
        _load(path, headers, workdir, seconds=2.0, warm_up=True)
        _load(bare_path, headers, workdir, seconds=2.0, warm_up=True)
        ours, theirs = [], []
        for _ in range(THROUGHPUT_ROUNDS):
            ours.append(_load(path, headers, workdir))
            theirs.append(_load(bare_path, headers, workdir))
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
    return Result(statistics.median(ours), statistics.median(theirs), ">= 50%", "requests/s")
