"""The benchmarks: each measures okr-rollout and a baseline doing the same work by the shortest route."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import threading
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
from okr_rollout.engagements.service import fire_transition
from okr_rollout.journey import facts_loader
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
    queries = [facts_loader._ENGAGEMENTS, facts_loader._COACHES, facts_loader._PEOPLE, facts_loader._MEMBERSHIPS,
               facts_loader._DEPARTMENTS, facts_loader._MEETINGS, facts_loader._CEO_SUPPORT, facts_loader._TRAINING,
               facts_loader._DRAFTING, facts_loader._QUARTERS, facts_loader._OKRS, facts_loader._KEY_RESULTS,
               facts_loader._CHECK_INS, facts_loader._APPOINTMENTS]

    def readiness() -> None:
        with engine.connect() as connection:
            pins = dict(connection.execute(select(Engagement.id, Engagement.playbook_sha256)).all())
            facts = facts_loader.load_facts(connection, None, NOW)
            with make_session_factory(engine)() as session:
                for engagement_id, engagement_facts in facts.items():
                    machine_for(catalog.pinned(session, pins[engagement_id])).readiness(engagement_facts)

    def raw() -> None:
        # The same rows, grouped per engagement (or organization) as any reader would, and nothing else.
        with engine.connect() as connection:
            for sql in queries:
                grouped: dict[Any, list[Any]] = {}
                for row in connection.execute(text(sql)):
                    grouped.setdefault(row[1], []).append(row)

    return Result(_best_of(3, readiness), _best_of(3, raw), "<= 2x", "s")


def transition(engagement_engine: Engine, catalog: Catalog) -> Result:
    """One transition (gate, phase change, tasks, event) vs. a raw UPDATE + INSERT in one transaction."""
    factory = make_session_factory(engagement_engine)
    with engagement_engine.connect() as connection:
        candidates = list(connection.execute(
            select(Engagement.id).where(Engagement.phase == "coach_engaged").order_by(Engagement.id).limit(200)
        ).scalars())
    half = len(candidates) // 2
    ours, theirs = candidates[:half], candidates[half:]

    def fire_all() -> None:
        for engagement_id in ours:
            with session_scope(factory) as session:
                fire_transition(session, BENCH, catalog, engagement_id, "schedule_executive_meeting", NOW)

    def raw_all() -> None:
        for engagement_id in theirs:
            with engagement_engine.begin() as connection:
                connection.execute(text("UPDATE engagements SET phase = 'executive_meeting', version = version + 1 "
                                        "WHERE id = :id"), {"id": engagement_id})
                connection.execute(text("INSERT INTO events (type, actor, engagement_id, payload, occurred_at) "
                                        "VALUES ('bench', 'bench', :id, '{}', :at)"), {"id": engagement_id, "at": NOW})

    ours_seconds = _timed(fire_all) / max(1, len(ours))
    theirs_seconds = _timed(raw_all) / max(1, len(theirs))
    return Result(ours_seconds * 1000, theirs_seconds * 1000, "<= 3x", "ms per transition")


def transition_floor(engine: Engine) -> Result:
    """PostgreSQL, for the reader of ``transition``: the transition's own statements (row lock, the facts
    pipeline, phase update, task and checklist inserts, event with the outbox lock) sent raw through psycopg,
    no SQLAlchemy and no Python objects, vs. the raw UPDATE + INSERT also through psycopg. What the statements
    cost the server, whatever the code around them."""
    import json

    import psycopg

    with engine.connect() as connection:
        candidates = list(connection.execute(
            # From the other end of the portfolio than ``transition``: rows not yet read by that run.
            select(Engagement.id).order_by(Engagement.id.desc()).limit(200)).scalars())
    half = len(candidates) // 2
    ours, theirs = candidates[:half], candidates[half:]
    facts_sql = [sql + facts_loader._where(column, scope, "= ANY(%(ids)s)")
                 for sql, column, scope, _ in facts_loader._STATEMENTS]
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as raw:

        def statements(engagement_id: int) -> None:
            with raw.transaction():
                raw.execute("SELECT id, version FROM engagements WHERE id = %s FOR UPDATE", (engagement_id,))
                with raw.pipeline():
                    cursors = [raw.cursor() for _ in facts_sql]
                    for cursor, sql in zip(cursors, facts_sql, strict=True):
                        cursor.execute(sql, {"ids": [engagement_id]})
                for cursor in cursors:
                    cursor.fetchall()
                raw.execute("UPDATE engagements SET phase = 'executive_meeting', entered_phase_at = %s, "
                            "updated_at = %s, version = version + 1 WHERE id = %s", (NOW, NOW, engagement_id))
                task_id = raw.execute(
                    "INSERT INTO tasks (engagement_id, phase, task_key, round, title_en, title_zh_tw, role, due_at,"
                    " done, created_at, version) VALUES (%s, 'executive_meeting', 'bench', (SELECT COALESCE("
                    "MAX(round), 0) + 1 FROM tasks WHERE engagement_id = %s AND phase = 'executive_meeting' AND "
                    "task_key = 'bench'), 'bench', 'bench', 'coach', %s, false, %s, 1) RETURNING id",
                    (engagement_id, engagement_id, NOW, NOW)).fetchall()[0][0]
                with raw.cursor() as cursor:
                    cursor.executemany("INSERT INTO checklist_items (task_id, item_key, position, title_en, "
                                       "title_zh_tw, checked) VALUES (%s, %s, %s, 'bench', 'bench', false)",
                                       [(task_id, f"item{n}", n) for n in range(3)])
                raw.execute("WITH outbox_order AS MATERIALIZED (SELECT pg_advisory_xact_lock(7202612)) INSERT "
                            "INTO events (type, actor, engagement_id, payload, occurred_at) SELECT 'bench', "
                            "'bench', %s, %s, %s FROM outbox_order RETURNING id",
                            (engagement_id, json.dumps({"task_ids": [task_id]}), NOW)).fetchall()

        def update_and_insert(engagement_id: int) -> None:
            with raw.transaction():
                raw.execute("UPDATE engagements SET phase = 'executive_meeting', version = version + 1 "
                            "WHERE id = %s", (engagement_id,))
                raw.execute("INSERT INTO events (type, actor, engagement_id, payload, occurred_at) "
                            "VALUES ('bench', 'bench', %s, '{}', %s)", (engagement_id, NOW))

        ours_seconds = _timed(lambda: [statements(e) for e in ours]) / max(1, len(ours))
        theirs_seconds = _timed(lambda: [update_and_insert(e) for e in theirs]) / max(1, len(theirs))
    return Result(ours_seconds * 1000, theirs_seconds * 1000, "report", "ms per transition")


def transition_floor_sqlite(engine: Engine) -> Result:
    """SQLite, for the reader of ``transition``: the same statements as ``transition_floor`` on the driver's own
    connection (BEGIN IMMEDIATE, the row, the fourteen facts reads, the phase update, task and checklist
    inserts, the event, COMMIT) vs. the raw UPDATE + INSERT on it."""
    with engine.connect() as connection:
        candidates = list(connection.execute(
            select(Engagement.id).order_by(Engagement.id.desc()).limit(200)).scalars())
    half = len(candidates) // 2
    ours, theirs = candidates[:half], candidates[half:]
    facts_sql = [sql + facts_loader._where(column, scope, "IN (?)")
                 for sql, column, scope, _ in facts_loader._STATEMENTS]
    pooled = engine.raw_connection()
    raw: Any = pooled.driver_connection
    now = NOW.isoformat()

    def statements(engagement_id: int) -> None:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("SELECT id, version FROM engagements WHERE id = ?", (engagement_id,)).fetchall()
        for sql in facts_sql:
            raw.execute(sql, (engagement_id,)).fetchall()
        raw.execute("UPDATE engagements SET phase = 'executive_meeting', entered_phase_at = ?, updated_at = ?, "
                    "version = version + 1 WHERE id = ?", (now, now, engagement_id))
        task_id = raw.execute(
            "INSERT INTO tasks (engagement_id, phase, task_key, round, title_en, title_zh_tw, role, due_at, done, "
            "created_at, version) VALUES (?, 'executive_meeting', 'bench', (SELECT COALESCE(MAX(round), 0) + 1 "
            "FROM tasks WHERE engagement_id = ? AND phase = 'executive_meeting' AND task_key = 'bench'), 'bench', "
            "'bench', 'coach', ?, 0, ?, 1) RETURNING id", (engagement_id, engagement_id, now, now)).fetchall()[0][0]
        raw.executemany("INSERT INTO checklist_items (task_id, item_key, position, title_en, title_zh_tw, checked) "
                        "VALUES (?, ?, ?, 'bench', 'bench', 0)", [(task_id, f"item{n}", n) for n in range(3)])
        raw.execute("INSERT INTO events (type, actor, engagement_id, payload, occurred_at) VALUES ('bench', "
                    "'bench', ?, ?, ?) RETURNING id", (engagement_id, f'{{"task_ids": [{task_id}]}}', now)).fetchall()
        raw.execute("COMMIT")

    def update_and_insert(engagement_id: int) -> None:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("UPDATE engagements SET phase = 'executive_meeting', version = version + 1 WHERE id = ?",
                    (engagement_id,))
        raw.execute("INSERT INTO events (type, actor, engagement_id, payload, occurred_at) "
                    "VALUES ('bench', 'bench', ?, '{}', ?)", (engagement_id, now))
        raw.execute("COMMIT")

    try:
        ours_seconds = _timed(lambda: [statements(e) for e in ours]) / max(1, len(ours))
        theirs_seconds = _timed(lambda: [update_and_insert(e) for e in theirs]) / max(1, len(theirs))
    finally:
        pooled.close()
    return Result(ours_seconds * 1000, theirs_seconds * 1000, "report", "ms per transition")


def _timed(work: Any) -> float:
    started = time.perf_counter()
    work()
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
            facts_loader.load_facts(connection, None, NOW)

    baseline = _best_of(3, select_rows)
    return Result(_timed(tick), baseline, "report", "s")


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def memory_transitions(catalog: Catalog) -> Result:
    """RSS after 10,000 transitions vs. after 100: one cached machine, models attached and detached."""
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
    process = subprocess.Popen(args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server on port {port} did not start")


def _load(url: str, headers: dict[str, str], seconds: float = 5.0, clients: int = 16) -> float:
    """Requests per second from ``clients`` keep-alive connections for ``seconds``."""
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def client(slot: int) -> None:
        with httpx.Client(headers=headers, timeout=10) as http:
            while time.monotonic() < stop:
                http.get(url).raise_for_status()
                counts[slot] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def get_engagement_throughput(engine: Engine, url: str, workdir: Path, workers: int = 2) -> Result:
    """GET /api/v1/engagements/{id} under concurrent load vs. a bare FastAPI endpoint returning the same JSON."""
    from okr_rollout.auth.service import create_token

    with session_scope(make_session_factory(engine)) as session:
        token, _ = create_token(session, role=Role.admin, name="bench")
        engagement_id = session.scalar(select(Engagement.id).order_by(Engagement.id).limit(1))
    headers = {"Authorization": f"Bearer {token}"}
    env = {"OKR_ROLLOUT_DATABASE_URL": url, "OKR_ROLLOUT_SCHEDULER_IN_WEB": "false"}
    port = _free_port()
    server = _serve([sys.executable, "-m", "okr_rollout.cli", "serve", "--port", str(port), "--workers",
                     str(workers)], env, port)
    try:
        path = f"http://127.0.0.1:{port}/api/v1/engagements/{engagement_id}"
        body = httpx.get(path, headers=headers).text
        ours = _load(path, headers)
    finally:
        server.terminate()
        server.wait(10)
    (workdir / "body.json").write_text(body)
    bare_port = _free_port()
    bare = _serve([sys.executable, "-m", "uvicorn", "benchmarks.bare_app:app", "--port", str(bare_port),
                   "--workers", str(workers), "--log-level", "warning"],
                  {"OKR_BENCH_BODY": str(workdir / "body.json"),
                   "PYTHONPATH": str(Path(__file__).resolve().parents[1])}, bare_port)
    try:
        theirs = _load(f"http://127.0.0.1:{bare_port}/engagement", headers)
    finally:
        bare.terminate()
        bare.wait(10)
    return Result(ours, theirs, ">= 50%", "requests/s")
