"""Work in proportion to what changed: the scheduler's steady tick and the portfolio's first page.

``scheduler_tick_steady``: one scheduler tick (reminders by index, then the readiness of the engagements marked
or due to change) after 1 % of the engagements were written to, against reading just those engagements' facts
(the loader's statements for their ids), in turns, 5 rounds, medians.

``scheduler_tick_scaling``: the same tick after a fixed 10 engagements were written to, on this portfolio
against on a 1,000-engagement portfolio seeded beside it (a second SQLite file, or a second PostgreSQL
database), in turns, 5 rounds, medians. Target <= 2: a tick follows what changed, not the portfolio's size.

``portfolio_page``: p95 of ``GET /api/v1/portfolio`` (page 1, 50 rows) over HTTP against a real
``okr-rollout serve``, against a bare endpoint (``bare_app``'s ``GET /portfolio``) running the very statements
the API ran for that page, captured from the driver, on the raw driver connection; wrk sends the requests one
after the other on one keep-alive connection, 5 rounds of 3 s in turn, the median of each side's p95.
"""

from __future__ import annotations

import pickle
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, insert, select
from sqlalchemy.engine import make_url

from benchmarks import wrk
from benchmarks.cases import BENCH, NOW, Result
from benchmarks.endpoints import _free_port, _served
from benchmarks.seed import Seeder
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_engine, make_session_factory, session_scope
from okr_rollout.events import service as events
from okr_rollout.facts import load_facts
from okr_rollout.models import Engagement, ReadinessSnapshot
from okr_rollout.scheduler import Scheduler
from okr_rollout.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 5
SMALL = 1_000
FIXED_CHANGES = 10
PAGE_SECONDS = 3  # each round of each side: wrk, one connection, requests one after the other


class _Ticking:
    """A portfolio with its readiness kept: the first (full) tick done, then ticks a minute apart."""

    def __init__(self, engine: Engine, catalog: Catalog, url: str) -> None:
        self.engine = engine
        self.catalog = catalog
        self.settings = Settings(database_url=url)
        self.factory = make_session_factory(engine)
        self.scheduler = Scheduler(self.settings, engine, catalog, lambda: self.now)
        self.now = NOW
        with engine.connect() as connection:
            self.ids = list(connection.execute(select(Engagement.id).order_by(Engagement.id)).scalars())
        self._next = 0
        self._rows_as_after_an_upgrade()
        started = time.perf_counter()
        # The first ticks look at every engagement once: their next reminders, and their readiness, at most
        # readiness_max_per_tick a tick; ticked until none is left, a minute apart.
        self.first_ticks = 1
        self.first_evaluated = self.tick()
        while (evaluated := self.tick_at(self.now + timedelta(minutes=1))) > 0:
            self.first_ticks += 1
            self.first_evaluated += evaluated
        self.first_tick_seconds = time.perf_counter() - started

    def _rows_as_after_an_upgrade(self) -> None:
        """A readiness row for each engagement the seed made without one, stale, as the migration that keeps
        readiness makes them for an existing portfolio (a write through the services makes its own)."""
        with self.engine.begin() as connection:
            have = set(connection.execute(select(ReadinessSnapshot.engagement_id)).scalars())
            rows = [{"engagement_id": engagement_id, "phase": "", "digest": "", "summary": {}, "updated_at": NOW,
                     "failed_criteria": [], "gate_passed": 0, "gate_total": 0, "stale": True, "marks": 0}
                    for engagement_id in self.ids if engagement_id not in have]
            if rows:
                connection.execute(insert(ReadinessSnapshot), rows)

    def tick(self) -> int:
        """One tick as the scheduler runs it (reminders, then readiness, each engagement's facts read once);
        returns how many engagements' readiness it evaluated."""
        run = self.scheduler.reminders_tick()
        return 0 if run is None else run.evaluated

    def tick_at(self, now: datetime) -> int:
        self.now = now
        return self.tick()

    def write_to(self, count: int) -> list[int]:
        """``count`` engagements written to (each write marks its engagement), a minute after the last tick."""
        self.now += timedelta(minutes=1)
        chosen = [self.ids[(self._next + k * 97) % len(self.ids)] for k in range(count)]
        self._next += 1
        with session_scope(self.factory) as session:
            for engagement_id in chosen:
                events.append(session, type="ceo_support.recorded", actor="benchmark", at=self.now,
                              engagement_id=engagement_id, payload={})
        return chosen

    def timed_tick(self) -> float:
        started = time.perf_counter()
        self.tick()
        return time.perf_counter() - started

    def read_rows(self, engagement_ids: list[int]) -> float:
        started = time.perf_counter()
        with self.engine.connect() as connection:
            load_facts(connection, engagement_ids, self.now)
        return time.perf_counter() - started


_ticking: dict[str, _Ticking] = {}


def ticking(engine: Engine, catalog: Catalog, url: str) -> _Ticking:
    if url not in _ticking:
        _ticking[url] = _Ticking(engine, catalog, url)
        first = _ticking[url]
        print(f"first ticks over {len(first.ids):,} engagements: {first.first_evaluated:,} evaluated in "
              f"{first.first_ticks} ticks, {first.first_tick_seconds:.1f} s "
              f"({first.first_tick_seconds / max(first.first_evaluated, 1) * 1000:.1f} ms per engagement)",
              file=sys.stderr)
    return _ticking[url]


def scheduler_tick_steady(engine: Engine, catalog: Catalog, url: str) -> Result:
    portfolio = ticking(engine, catalog, url)
    count = max(1, len(portfolio.ids) // 100)
    ticks, reads = [], []
    for _ in range(ROUNDS):
        changed = portfolio.write_to(count)
        reads.append(portfolio.read_rows(changed))
        ticks.append(portfolio.timed_tick())
    return Result(statistics.median(ticks) * 1000, statistics.median(reads) * 1000, "report", "ms per tick")


def _migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


@contextmanager
def _small_portfolio(url: str, workdir: Path) -> Iterator[str]:
    """A 1,000-engagement portfolio beside the measured one, dropped afterwards on PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        yield f"sqlite:///{workdir / 'small.db'}"
        return
    name = f"{parsed.database}_small"
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        for engine in list(_engines.values()):
            engine.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()


_engines: dict[str, Engine] = {}


def scheduler_tick_scaling(engine: Engine, catalog: Catalog, url: str, workdir: Path) -> Result:
    large = ticking(engine, catalog, url)
    with _small_portfolio(url, workdir) as small_url:
        _migrate(small_url)
        small_engine = _engines[small_url] = make_engine(small_url)
        Seeder(small_engine, SMALL).run(progress=False)
        small = _Ticking(small_engine, catalog, small_url)
        large_ticks, small_ticks = [], []
        for _ in range(ROUNDS):
            large.write_to(FIXED_CHANGES)
            large_ticks.append(large.timed_tick())
            small.write_to(FIXED_CHANGES)
            small_ticks.append(small.timed_tick())
        small.scheduler.leadership.release()  # its leadership lock's connection, before the database is dropped
        small_engine.dispose()
    return Result(statistics.median(large_ticks) * 1000, statistics.median(small_ticks) * 1000, "<= 2",
                  f"ms per tick ({len(large.ids):,} vs {SMALL:,} engagements)")


def _capture_page_statements(engine: Engine, catalog: Catalog, path: Path) -> None:
    """The statements (and parameters, as the driver got them) the API runs for page 1 of the portfolio."""
    from okr_rollout.portfolio.service import PortfolioQuery, portfolio

    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with session_scope(make_session_factory(engine), write=False) as session:
            portfolio(session, BENCH, catalog, NOW, timedelta(days=14), PortfolioQuery(limit=50))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    path.write_bytes(pickle.dumps([(s, p) for s, p in captured if not s.lstrip().upper().startswith(
        ("BEGIN", "COMMIT", "ROLLBACK", "SET "))]))


def portfolio_page(engine: Engine, catalog: Catalog, url: str, workdir: Path) -> Result:
    from okr_rollout.auth.service import create_token

    ticking(engine, catalog, url)  # the readiness kept, as a running scheduler keeps it
    with session_scope(make_session_factory(engine)) as session:
        token, _ = create_token(session, role=BENCH.role, name="portfolio-bench")
    statements = workdir / "portfolio-statements.pickle"
    _capture_page_statements(engine, catalog, statements)
    port, bare_port = _free_port(), _free_port()
    ours_env = {"OKR_ROLLOUT_DATABASE_URL": url, "OKR_ROLLOUT_SCHEDULER_IN_WEB": "false"}
    bare_env = {"OKR_BENCH_DATABASE_URL": url, "PYTHONPATH": str(ROOT), "OKR_BENCH_PORTFOLIO": str(statements)}
    p95s: dict[str, list[float]] = {"ours": [], "bare": []}
    headers = {"Authorization": f"Bearer {token}"}
    with (_served([sys.executable, "-m", "okr_rollout.cli", "serve", "--port", str(port)], ours_env, port) as base,
          _served([sys.executable, "-m", "uvicorn", "benchmarks.bare_app:app", "--port", str(bare_port),
                   "--log-level", "warning"], bare_env, bare_port) as bare_base):
        urls = {"ours": f"{base}/api/v1/portfolio?limit=50", "bare": f"{bare_base}/portfolio"}
        for page_url in urls.values():  # warm-up
            wrk.run(page_url, headers, workdir, seconds=2, connections=1, threads=1, warm_up=True)
        for _ in range(ROUNDS):
            for name, page_url in urls.items():
                p95s[name].append(wrk.run(page_url, headers, workdir, seconds=PAGE_SECONDS, connections=1,
                                          threads=1).p95)
    return Result(statistics.median(p95s["ours"]) * 1000, statistics.median(p95s["bare"]) * 1000, "report",
                  "ms, p95 of page 1 (median of 5 rounds)")

