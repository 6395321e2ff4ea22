"""Health, explained, for a whole portfolio: computed from what is recorded, and the portfolio sorted by it.

``portfolio_health``: the health of every engagement (``engagements.health.health_now``: the pins, overdue tasks
and last activity, the facts, each first gate, every signal) against the very statements it ran (captured from
the driver with their parameters) replayed on the raw driver connection, rows grouped per engagement, no facts,
no gates, no signals. Best of two each. Target <= 2x, as for the readiness.

``portfolio_health_page``: page 1 of the portfolio sorted by urgency (``portfolio(sort="health", limit=50)``, the
health kept by the watch beforehand) in process, against its captured statements replayed on the raw driver
connection. Best of 20 each, in turns.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import JSON, Engine, event, exists, insert, literal, select

from benchmarks.cases import BENCH, NOW, Result
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import UtcDateTime, make_session_factory, session_scope
from okr_rollout.engagements import readiness_watch
from okr_rollout.engagements.health import health_now
from okr_rollout.models import Engagement, ReadinessSnapshot
from okr_rollout.portfolio.service import PortfolioQuery, portfolio

_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SET ", "SAVEPOINT", "RELEASE")


def _captured(engine: Engine, work: Callable[[], Any]) -> list[tuple[str, Any]]:
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return [(s, p) for s, p in captured if not s.lstrip().upper().startswith(_CONTROL)]


def _replay(engine: Engine, statements: list[tuple[str, Any]], *, driver: bool = False) -> Callable[[], None]:
    """The statements run again as SQL text with their parameters, rows grouped per engagement: on a connection
    (``exec_driver_sql``: plain rows, no type conversion, as ``portfolio_readiness``'s baseline), or, ``driver``,
    on the driver's own cursor."""
    def raw() -> None:
        with engine.connect() as connection:
            if driver:
                cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            for statement, parameters in statements:
                rows = (cursor.execute(statement, parameters) and cursor.fetchall() if driver
                        else connection.exec_driver_sql(statement, parameters).all())
                grouped: dict[Any, list[Any]] = {}
                for row in rows:
                    grouped.setdefault(row[0], []).append(row)
            connection.rollback()
    return raw


def _best(runs: int, ours: Callable[[], Any], theirs: Callable[[], Any]) -> tuple[float, float]:
    """Best of ``runs`` each, taking turns."""
    best = [float("inf"), float("inf")]
    for _ in range(runs):
        for side, work in enumerate((ours, theirs)):
            started = time.perf_counter()
            work()
            best[side] = min(best[side], time.perf_counter() - started)
    return best[0], best[1]


def portfolio_health(engine: Engine, catalog: Catalog) -> Result:
    factory = make_session_factory(engine)

    def ours() -> None:
        with session_scope(factory, write=False) as session:
            health_now(session, catalog, None, NOW)

    ours()  # the playbook snapshots read once, as in a running process
    statements = _captured(engine, ours)
    value, baseline = _best(2, ours, _replay(engine, statements))
    _, driver = _best(1, lambda: None, _replay(engine, statements, driver=True))
    print(f"  portfolio_health against the driver's own cursor: {value:.3g} s vs {driver:.3g} s "
          f"({value / driver:.2f}x)", file=sys.stderr)
    return Result(value, baseline, "<= 2x", "s")


def _keep_health(engine: Engine, factory: Any, catalog: Catalog) -> None:
    """Every engagement's readiness and health kept, as a running scheduler keeps them (the next change looked for
    one day ahead, not seven, to keep the setup short)."""
    snapshots = ReadinessSnapshot.__table__
    with engine.begin() as connection:
        connection.execute(insert(snapshots).from_select(
            ["engagement_id", "phase", "digest", "summary", "updated_at", "failed_criteria", "gate_passed",
             "gate_total", "stale", "marks", "health_reasons"],
            select(Engagement.id, literal(""), literal(""), literal({}, JSON()), literal(NOW, UtcDateTime()),
                   literal([], JSON()), literal(0), literal(0), literal(True), literal(0), literal([], JSON()))
            .where(~exists().where(snapshots.c.engagement_id == Engagement.id))))
    with session_scope(factory) as session:
        marked = readiness_watch.due(session, NOW, 1_000_000)
        readiness_watch.store(session, readiness_watch.evaluate(session, catalog, NOW, marked, 1), NOW)


def portfolio_health_page(engine: Engine, catalog: Catalog) -> Result:
    factory = make_session_factory(engine)
    _keep_health(engine, factory, catalog)

    def ours() -> None:
        with session_scope(factory, write=False) as session:
            portfolio(session, BENCH, catalog, NOW, timedelta(days=14), PortfolioQuery(sort="health", limit=50))

    ours()
    statements = _captured(engine, ours)
    value, baseline = _best(20, ours, _replay(engine, statements))
    return Result(value * 1000, baseline * 1000, "<= 2x", "ms, page 1 by urgency")
