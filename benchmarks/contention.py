"""One tenant's import and a sign-in flood must not stall another tenant's writes.

p99 of a small write (POST a CEO support statement to an engagement) while another organization imports a large
people file (a background job) and 16 clients post /sign-in with unknown addresses, beside the same write alone;
over HTTP against a real `okr-rollout serve`, started and waited for by its health URL. Target: <= 3x and no 503.

    python benchmarks/contention.py [--rows 100000] [--database-url URL] [--engagements 200]

Standalone, it also prints the write during the import alone beside the write alone. The flood is a minimal one
of its own (GET /sign-in for the CSRF token and cookie, then POST /sign-in with an unknown address, in a loop).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.cases import Result, _free_port, _serve
from okr_rollout.auth.caller import Role
from okr_rollout.db import Base, make_session_factory, session_scope
from okr_rollout.models import Engagement

FLOOD_CLIENTS = 16
ALONE_WRITES = 150
MIN_WRITES = 100
MORE_SECONDS = 30.0  # once the import ended, writes go on until MIN_WRITES or this long (a flood may stall them)
CSRF_FIELD = 'name="csrf_token" value="'


@dataclass
class Writes:
    seconds: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def record(self, status: int, seconds: float) -> None:
        self.seconds.append(seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000

    def summary(self) -> str:
        return (f"{len(self.seconds)} writes, p50 {statistics.median(self.seconds) * 1000:.1f} ms, "
                f"p99 {self.p99_ms:.1f} ms, statuses {dict(sorted(self.statuses.items()))}")


def people_file(rows: int) -> bytes:
    """Names only: 100,000 rows stay under the 1 MiB body limit."""
    return ("name\r\n" + "".join(f"P{n}\r\n" for n in range(rows))).encode()


def sign_in_flood(base_url: str, clients: int, stop: threading.Event) -> list[int]:
    """``clients`` threads posting /sign-in with unknown addresses until ``stop``; their answers' statuses."""
    statuses: list[int] = []

    def client(slot: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60, follow_redirects=False) as http:
            n = 0
            while not stop.is_set():
                page = http.get("/sign-in").text
                start = page.find(CSRF_FIELD)
                token = page[start + len(CSRF_FIELD):page.find('"', start + len(CSRF_FIELD))] if start >= 0 else ""
                n += 1
                response = http.post("/sign-in", data={"email": f"nobody-{slot}-{n}@flood.example",
                                                       "password": "wrong password", "csrf_token": token})
                statuses.append(response.status_code)

    threads = [threading.Thread(target=client, args=(slot,), daemon=True) for slot in range(clients)]
    for thread in threads:
        thread.start()
    return statuses


def _write(http: httpx.Client, engagement_id: int, writes: Writes) -> None:
    started = time.perf_counter()
    response = http.post(f"/api/v1/engagements/{engagement_id}/ceo-support",
                         json={"level": "full", "stated_on": "2026-06-01", "note": "contention benchmark"})
    writes.record(response.status_code, time.perf_counter() - started)


def _start_import(http: httpx.Client, organization_id: int, content: bytes) -> Callable[[], dict[str, object]]:
    response = http.post(f"/api/v1/organizations/{organization_id}/imports", params={"kind": "people"},
                         content=content, headers={"Content-Type": "text/csv"})
    if response.status_code != 202:
        raise RuntimeError(f"the import was not accepted as a job: {response.status_code} {response.text[:300]}")
    location = response.headers["Location"]
    return lambda: http.get(location).json()


def measure(base_url: str, token: str, engagement_id: int, *, rows: int, flood: bool, imports: bool) -> Writes:
    """Small writes, one after another, while the import runs (or, without one, ALONE_WRITES of them)."""
    headers = {"Authorization": f"Bearer {token}"}
    writes = Writes()
    stop = threading.Event()
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
        organization_id = http.post("/api/v1/organizations", json={"name": "Importing tenant",
                                                                   "headcount": 40}).json()["id"]
        flood_statuses = sign_in_flood(base_url, FLOOD_CLIENTS, stop) if flood else []
        try:
            job: Callable[[], dict[str, object]] | None = None
            started = time.perf_counter()
            if imports:
                job = _start_import(http, organization_id, people_file(rows))
            wanted = MIN_WRITES if imports or flood else ALONE_WRITES
            ended = None  # when the import ended (or the start, without one)
            while True:
                _write(http, engagement_id, writes)
                time.sleep(0.02)  # writes spread over the import, as a person's would be
                if job is not None and job()["status"] in ("queued", "running"):
                    continue
                ended = ended or time.perf_counter()
                if len(writes.seconds) >= wanted or time.perf_counter() - ended > MORE_SECONDS:
                    break
            if job is not None:
                state = job()
                print(f"  import of {rows:,} rows: {state['status']} in {time.perf_counter() - started:.1f} s",
                      file=sys.stderr)
        finally:
            stop.set()
    if flood:
        print(f"  sign-in flood: {len(flood_statuses)} posts, statuses "
              f"{ {s: flood_statuses.count(s) for s in sorted(set(flood_statuses))} }", file=sys.stderr)
    return writes


def _setup(engine: Engine) -> tuple[str, int]:
    from okr_rollout.auth.service import create_token

    if engine.dialect.name == "postgresql":
        # The seeder writes ids itself: move each table's sequence past them, for the rows the API will add.
        with engine.begin() as connection:
            for table in Base.metadata.sorted_tables:
                if "id" in table.c and table.c.id.primary_key:
                    connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                            f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"))
    with session_scope(make_session_factory(engine)) as session:
        token, _ = create_token(session, role=Role.admin, name="contention-bench")
        engagement_id = session.scalar(select(Engagement.id).order_by(Engagement.id).limit(1))
    assert engagement_id is not None, "seed the database first"
    return token, engagement_id


def write_during_import_and_flood(engine: Engine, url: str, rows: int, *, variants: bool = False,
                                  flood: bool = True) -> Result:
    """p99 of the write beside import + flood vs. alone (and, with ``variants``, import alone, flood alone)."""
    token, engagement_id = _setup(engine)
    port = _free_port()
    env = {"OKR_ROLLOUT_DATABASE_URL": url, "OKR_ROLLOUT_SCHEDULER_IN_WEB": "false"}
    server = _serve([sys.executable, "-m", "okr_rollout.cli", "serve", "--port", str(port), "--workers", "1"],
                    env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        alone = measure(base, token, engagement_id, rows=rows, flood=False, imports=False)
        print(f"  write alone: {alone.summary()}", file=sys.stderr)
        if variants:
            for name, flood, imports in (("during the import", False, True),):
                writes = measure(base, token, engagement_id, rows=rows, flood=flood, imports=imports)
                print(f"  write {name}: {writes.summary()}; ratio {writes.p99_ms / alone.p99_ms:.2f}",
                      file=sys.stderr)
        both = measure(base, token, engagement_id, rows=rows, flood=flood, imports=True)
        during = "the import and the flood" if flood else "the import"
        print(f"  write during {during}: {both.summary()}; ratio {both.p99_ms / alone.p99_ms:.2f}; "
              f"503s: {both.statuses.get(503, 0)}", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(30)
    return Result(both.p99_ms, alone.p99_ms, "<= 3x, no 503", "ms p99")


def main() -> None:
    from benchmarks.run import _migrate
    from benchmarks.seed import Seeder
    from okr_rollout.db import make_engine

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--engagements", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="an empty database (migrated and seeded here)")
    parser.add_argument("--no-flood", action="store_true", help="the import alone beside the write alone")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='okr-contention-')) / 'bench.db'}"
    _migrate(url)
    engine = make_engine(url)
    Seeder(engine, args.engagements).run(progress=False)
    result = write_during_import_and_flood(engine, url, args.rows, variants=not args.no_flood,
                                           flood=not args.no_flood)
    engine.dispose()
    print(f"write_during_import_and_flood: {result.value:.1f} ms p99 vs {result.baseline:.1f} ms alone, "
          f"ratio {result.ratio:.2f} (target {result.target})")


if __name__ == "__main__":
    main()
