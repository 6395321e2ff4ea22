"""The API's hot endpoints end to end over HTTP, each beside a bare FastAPI endpoint running the same statements on
the raw driver (``benchmarks/bare_app.py``).

Both servers are real uvicorn processes on loopback (one worker each), started side by side and waited for on
their ``/healthz`` URL. The load generator (``benchmarks/load.py``, Python's ``http.client`` in a process of its
own) sends a fixed list of requests one after the other on one keep-alive connection, so a figure is the time one
request costs end to end, not how well two cores are shared; a transition needs a fresh engagement per request,
which a duration-based generator such as wrk cannot bound. After a warm-up of each, the two servers are loaded
in turn, round after round; each figure is the total time over all rounds divided by the requests served.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, insert, select, text

from benchmarks.cases import NOW, Result
from benchmarks.seed import Seeder
from okr_rollout.auth.caller import Role
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.models import Engagement, EngagementCoach, Organization

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 5
TRANSITIONS_PER_ROUND = 60  # per side
TRANSITIONS_WARM_UP = 20  # per side
GETS_PER_ROUND = 300  # per side
GETS_WARM_UP = 100  # per side
TRIGGER = "schedule_executive_meeting"



@dataclass
class _Side:
    base: str  # http://127.0.0.1:port
    get_path: str  # with %d for the engagement id
    post_path: str  # with %d for the engagement id
    engagements: list[int]  # coach_engaged, for this side's transitions
    shown: int = 0  # the engagement both sides GET: one moved by a transition, with open tasks
    seconds: float = 0.0
    requests: int = 0
    latencies: list[float] = field(default_factory=list)  # of the last requests sent

    def take(self, count: int) -> list[int]:
        taken, self.engagements = self.engagements[:count], self.engagements[count:]
        return taken


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served_process(args: list[str], env: dict[str, str], port: int
                   ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A server process and its base URL, yielded once its /healthz answers (polled until it does, up to two
    minutes: a loaded machine starts a worker slowly); stopped after, killed if it does not stop."""
    process = subprocess.Popen(args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{args} exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{args} did not answer on {base}/healthz") from None
                time.sleep(0.05)  # between two probes of the health URL
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _served(args: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    """A server process's base URL, yielded once it answers (``served_process``)."""
    with served_process(args, env, port) as (base, _process):
        yield base


def _send(side: _Side, token: str, requests: list[tuple[str, str, str | None]], workdir: Path, timed: bool = True
          ) -> None:
    """``requests`` one after the other from the load generator's own process (``benchmarks/load.py``)."""
    host, port = side.base.removeprefix("http://").split(":")
    spec = workdir / "load.json"
    spec.write_text(json.dumps({"host": host, "port": int(port), "requests": requests,
                                "headers": {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}}))
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load.py"), str(spec)], capture_output=True,
                         text=True, check=True)
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    if summary["bad"]:
        raise RuntimeError(f"{summary['bad']} failed requests on {side.base}: {summary['first_bad']}")
    side.latencies = summary["latencies"]
    if timed:
        side.requests += summary["requests"]
        side.seconds += summary["seconds"]


def _transitions(side: _Side, token: str, count: int, workdir: Path, timed: bool = True) -> None:
    body = json.dumps({"trigger": TRIGGER})
    _send(side, token, [("POST", side.post_path % engagement_id, body) for engagement_id in side.take(count)],
          workdir, timed)


def _gets(side: _Side, token: str, count: int, workdir: Path, timed: bool = True) -> None:
    _send(side, token, [("GET", side.get_path % side.shown, None)] * count, workdir, timed)


def _new_coach_engaged(engine: Engine, count: int) -> list[int]:
    """``count`` new engagements in coach_engaged with a coach, each of its own organization, for transitions."""
    with engine.begin() as connection:
        template = connection.execute(select(Engagement).limit(1)).one()
        coach = connection.execute(select(EngagementCoach.person_id).limit(1)).scalar_one()
        first = connection.execute(select(func.max(Organization.id))).scalar_one() + 1
        first_engagement = connection.execute(select(func.max(Engagement.id))).scalar_one() + 1
        organization_ids = range(first, first + count)
        engagement_ids = list(range(first_engagement, first_engagement + count))
        connection.execute(insert(Organization), [
            {"id": organization_id, "name": f"HTTP client {organization_id}", "headcount": 40,
             "timezone": "Asia/Taipei", "crm_id": f"http-{organization_id}", "strategies": [], "challenges": [],
             "created_at": NOW, "updated_at": NOW, "version": 1} for organization_id in organization_ids])
        connection.execute(insert(Engagement), [
            {"id": engagement_id, "organization_id": organization_id, "playbook_id": template.playbook_id,
             "playbook_version": template.playbook_version, "playbook_sha256": template.playbook_sha256,
             "phase": "coach_engaged", "entered_phase_at": NOW, "created_at": NOW, "updated_at": NOW, "version": 1}
            for engagement_id, organization_id in zip(engagement_ids, organization_ids, strict=True)])
        connection.execute(insert(EngagementCoach), [{"engagement_id": engagement_id, "person_id": coach}
                                                     for engagement_id in engagement_ids])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    return engagement_ids


def endpoints_over_http(engine: Engine, url: str, workdir: Path) -> dict[str, Result]:
    """``transition_http`` and ``get_engagement_http``: milliseconds per request, the API vs. the bare endpoint."""
    from okr_rollout.auth.service import create_token

    with session_scope(make_session_factory(engine)) as session:
        token, _ = create_token(session, role=Role.admin, name="http-bench")
    per_side = TRANSITIONS_WARM_UP + ROUNDS * TRANSITIONS_PER_ROUND
    candidates = _new_coach_engaged(engine, 2 * per_side)
    port, bare_port = _free_port(), _free_port()
    ours_env = {"OKR_ROLLOUT_DATABASE_URL": url, "OKR_ROLLOUT_SCHEDULER_IN_WEB": "false"}
    bare_env = {"OKR_BENCH_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    with (_served([sys.executable, "-m", "okr_rollout.cli", "serve", "--port", str(port)], ours_env, port) as base,
          _served([sys.executable, "-m", "uvicorn", "benchmarks.bare_app:app", "--port", str(bare_port),
                   "--log-level", "warning"], bare_env, bare_port) as bare_base):
        ours = _Side(base, "/api/v1/engagements/%d", "/api/v1/engagements/%d/transitions", candidates[0::2])
        bare = _Side(bare_base, "/engagements/%d", "/engagements/%d/transitions", candidates[1::2])
        ours.shown = bare.shown = ours.engagements[0]
        results: dict[str, Result] = {}
        for side in (ours, bare):
            _transitions(side, token, TRANSITIONS_WARM_UP, workdir, timed=False)
        _check_same_body(ours, bare, token)
        for _ in range(ROUNDS):
            for side in (ours, bare):
                _transitions(side, token, TRANSITIONS_PER_ROUND, workdir)
        results["transition_http"] = _result(ours, bare)
        for side in (ours, bare):
            side.seconds = side.requests = 0
            _gets(side, token, GETS_WARM_UP, workdir, timed=False)
        for _ in range(ROUNDS):
            for side in (ours, bare):
                _gets(side, token, GETS_PER_ROUND, workdir)
        results["get_engagement_http"] = _result(ours, bare)
    return results


def _result(ours: _Side, bare: _Side) -> Result:
    return Result(ours.seconds / ours.requests * 1000, bare.seconds / bare.requests * 1000, "<= 2x",
                  "ms per request")


def _check_same_body(ours: _Side, bare: _Side, token: str) -> None:
    """Both sides answer the GET with the same engagement, coaches and open tasks: they do the same work."""
    headers = {"Authorization": f"Bearer {token}"}
    mine: dict[str, Any] = httpx.get(ours.base + ours.get_path % ours.shown, headers=headers).raise_for_status().json()
    theirs: dict[str, Any] = httpx.get(bare.base + bare.get_path % bare.shown, headers=headers
                                       ).raise_for_status().json()
    keys = ("id", "phase", "coach_ids", "version")
    if [mine[k] for k in keys] != [theirs[k] for k in keys] or (
            [t["id"] for t in mine["open_tasks"]] != [t["id"] for t in theirs["open_tasks"]]) or not mine["open_tasks"]:
        raise RuntimeError(f"the bare endpoint reads another engagement:\n{mine}\n{theirs}")


HEAVY_ROUNDS = 5
HEAVY_PER_ROUND = 40  # per side; 20 below 1,000 engagements (CI's smoke run: each is a seeded q1_cycle engagement)
HEAVY_WARM_UP = 10  # per side
HEAVY_TRIGGER = "end_q1"


def transition_heavy_gate(engine: Engine, url: str, workdir: Path, seeder: Seeder) -> Result:
    """``end_q1`` end to end over HTTP (q1_cycle -> quarter_review: Q1 ended, its check-ins, team meetings and 1:1s
    on time, read from a quarter of records) vs. ``bare_app``'s ``POST /engagements/{id}/heavy-transitions``, the
    same statements on the raw driver. Engagements seeded for it in q1_cycle with every criterion met, so that each
    request measures a move, not a refusal; milliseconds per request, in turns, after a warm-up of each."""
    from okr_rollout.auth.service import create_token

    with session_scope(make_session_factory(engine)) as session:
        token, _ = create_token(session, role=Role.admin, name="heavy-gate-bench")
    per_round = HEAVY_PER_ROUND if seeder.engagements >= 1_000 else HEAVY_PER_ROUND // 2
    started = time.perf_counter()
    candidates = seeder.add_engagements(2 * (HEAVY_WARM_UP + HEAVY_ROUNDS * per_round), "q1_cycle")
    print(f"seeded {len(candidates)} q1_cycle engagements for end_q1 in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    port, bare_port = _free_port(), _free_port()
    ours_env = {"OKR_ROLLOUT_DATABASE_URL": url, "OKR_ROLLOUT_SCHEDULER_IN_WEB": "false"}
    bare_env = {"OKR_BENCH_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    body = json.dumps({"trigger": HEAVY_TRIGGER})
    with (_served([sys.executable, "-m", "okr_rollout.cli", "serve", "--port", str(port)], ours_env, port) as base,
          _served([sys.executable, "-m", "uvicorn", "benchmarks.bare_app:app", "--port", str(bare_port),
                   "--log-level", "warning"], bare_env, bare_port) as bare_base):
        ours = _Side(base, "", "/api/v1/engagements/%d/transitions", candidates[0::2])
        bare = _Side(bare_base, "", "/engagements/%d/heavy-transitions", candidates[1::2])

        def fire(side: _Side, count: int, timed: bool = True) -> list[int]:
            moved = side.take(count)
            _send(side, token, [("POST", side.post_path % engagement_id, body) for engagement_id in moved], workdir,
                  timed)
            return moved

        warmed = [fire(side, HEAVY_WARM_UP, timed=False) for side in (ours, bare)]
        _check_same_writes(engine, *warmed)
        for _ in range(HEAVY_ROUNDS):
            for side in (ours, bare):
                fire(side, per_round)
    return Result(ours.seconds / ours.requests * 1000, bare.seconds / bare.requests * 1000, "<= 2x",
                  "ms per request")


def _check_same_writes(engine: Engine, ours: list[int], bare: list[int]) -> None:
    """Both sides moved their engagements and wrote the same rows: tasks, checklist items, task assignees, events,
    readiness marks (counted per engagement)."""
    counted = {
        "phase": "SELECT phase FROM engagements WHERE id = :id",
        "tasks": "SELECT count(*) FROM tasks WHERE engagement_id = :id AND phase = 'quarter_review'",
        "items": "SELECT count(*) FROM checklist_items c JOIN tasks t ON t.id = c.task_id "
                 "WHERE t.engagement_id = :id AND t.phase = 'quarter_review'",
        "assignees": "SELECT count(*) FROM task_assignees a JOIN tasks t ON t.id = a.task_id "
                     "WHERE t.engagement_id = :id AND t.phase = 'quarter_review'",
        "events": "SELECT count(*) FROM events WHERE engagement_id = :id AND type = 'engagement.transitioned'",
        "marked": "SELECT count(*) FROM readiness_snapshots WHERE engagement_id = :id AND stale",
    }
    with engine.connect() as connection:
        def written(engagement_id: int) -> dict[str, Any]:
            return {name: connection.execute(text(sql), {"id": engagement_id}).scalar()
                    for name, sql in counted.items()}

        mine, theirs = written(ours[0]), written(bare[0])
    if mine != theirs or mine["phase"] != "quarter_review":
        raise RuntimeError(f"the bare heavy transition writes other rows:\n{mine}\n{theirs}")
