"""One tenant's import and a sign-in flood must not stall another tenant's writes.

p99 of a small write (POST a CEO support statement to an engagement) while another organization imports a large
people file (a background job) and 16 clients post /sign-in with unknown addresses, beside the same write alone;
over HTTP against a real `okr-rollout serve`, started and waited for by its health URL. Target: <= 3x and no 503.

    python benchmarks/contention.py [--rows 100000] [--database-url URL] [--engagements 200]

Standalone, it also prints the write during the import alone beside the write alone. The flood is
``benchmarks/sign_in_flood.py``: the server trusts 127.0.0.1 as a proxy (``OKR_ROLLOUT_WEB_TRUSTED_PROXIES``) and
each attempt claims a new client address in X-Forwarded-For, so no throttle turns it into cheap 429s and every
attempt checks a password, with argon2 at the production cost (the served process is given the settings'
defaults, whatever the environment says). The write alone is taken before and after the rest, in turns, and
the baseline is the p99 of both turns together (the machine is shared: its load moves during a run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.cases import Result, _free_port, _serve
from benchmarks.sign_in_flood import SignInFlood
from okr_rollout.auth.caller import Role
from okr_rollout.db import Base, make_session_factory, session_scope
from okr_rollout.models import Engagement
from okr_rollout.settings import Settings

FLOOD_CLIENTS = 16
ALONE_WRITES = 150
MIN_WRITES = 100
MORE_SECONDS = 30.0  # once the import ended, writes go on until MIN_WRITES or this long (a flood may stall them)


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


@dataclass
class Measured:
    writes: Writes
    import_seconds: float | None = None
    import_status: str | None = None
    flood: dict[int, int] = field(default_factory=dict)  # the flood's answers by status
    flood_errors: dict[str, int] = field(default_factory=dict)


def measure(base_url: str, token: str, engagement_id: int, *, rows: int, flood: bool, imports: bool) -> Measured:
    """Small writes, one after another, while the import runs (or, without one, ALONE_WRITES of them)."""
    headers = {"Authorization": f"Bearer {token}"}
    measured = Measured(Writes())
    writes = measured.writes
    sign_ins = SignInFlood(base_url, clients=FLOOD_CLIENTS, forwarded_for=True)
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
        organization_id = http.post("/api/v1/organizations", json={"name": "Importing tenant",
                                                                   "headcount": 40}).json()["id"]
        if flood:
            sign_ins.start()
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
                if job is not None and measured.import_seconds is None:
                    measured.import_seconds = time.perf_counter() - started
                ended = ended or time.perf_counter()
                if len(writes.seconds) >= wanted or time.perf_counter() - ended > MORE_SECONDS:
                    break
            if job is not None:
                measured.import_status = str(job()["status"])
                print(f"  import of {rows:,} rows: {measured.import_status} in {measured.import_seconds:.1f} s",
                      file=sys.stderr)
        finally:
            if flood:
                sign_ins.stop()
    if flood:
        measured.flood, measured.flood_errors = dict(sorted(sign_ins.statuses.items())), dict(sign_ins.errors)
        print(f"  sign-in flood: {sign_ins.attempts} answers, by status {measured.flood}"
              + (f", transport errors {measured.flood_errors}" if measured.flood_errors else ""), file=sys.stderr)
    return measured


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


def server_environment(url: str) -> dict[str, str]:
    """The served process: the benchmark's database, no scheduler, 127.0.0.1 trusted as a proxy (the flood claims
    a new client address per attempt), and argon2 at the production cost even if the environment (a test run's)
    names a cheaper one."""
    production = Settings.model_fields
    return {"OKR_ROLLOUT_DATABASE_URL": url, "OKR_ROLLOUT_SCHEDULER_IN_WEB": "false",
            "OKR_ROLLOUT_WEB_TRUSTED_PROXIES": "127.0.0.1",
            **{f"OKR_ROLLOUT_{name.upper()}": str(production[name].default)
               for name in ("password_hash_time_cost", "password_hash_memory_kib", "password_hash_parallelism")}}


def write_during_import_and_flood(engine: Engine, url: str, rows: int, *, variants: bool = False,
                                  flood: bool = True) -> Result:
    """p99 of the write beside import + flood vs. alone (and, with ``variants``, the import alone and the flood
    alone). The write alone is taken first and last; the baseline is both turns together."""
    token, engagement_id = _setup(engine)
    port = _free_port()
    server = _serve([sys.executable, "-m", "okr_rollout.cli", "serve", "--port", str(port), "--workers", "1"],
                    server_environment(url), port)
    base = f"http://127.0.0.1:{port}"
    try:
        alone = measure(base, token, engagement_id, rows=rows, flood=False, imports=False).writes
        print(f"  write alone (first turn): {alone.summary()}", file=sys.stderr)
        if variants:
            for name, with_flood, imports in (("during the import", False, True),
                                              ("during the flood", True, False)):
                writes = measure(base, token, engagement_id, rows=rows, flood=with_flood, imports=imports).writes
                print(f"  write {name}: {writes.summary()}; ratio {writes.p99_ms / alone.p99_ms:.2f} "
                      "(to the first turn alone)", file=sys.stderr)
        both = measure(base, token, engagement_id, rows=rows, flood=flood, imports=True).writes
        last = measure(base, token, engagement_id, rows=rows, flood=False, imports=False).writes
        print(f"  write alone (last turn): {last.summary()}", file=sys.stderr)
        alone.seconds += last.seconds
        for status, count in last.statuses.items():
            alone.statuses[status] = alone.statuses.get(status, 0) + count
        during = "the import and the flood" if flood else "the import"
        print(f"  write alone (both turns): {alone.summary()}", file=sys.stderr)
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
