"""On the demo portfolio every health status appears at least once, and each row of the portfolio says why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.catalog.service import Catalog
from okr_rollout.cli.demo.portfolio import CLIENTS, load_demo
from okr_rollout.db import make_engine, make_session_factory, session_scope
from okr_rollout.engagements.readiness_watch import note_readiness_changes
from okr_rollout.journey.health import URGENCY
from okr_rollout.portfolio.service import PortfolioQuery, portfolio, portfolio_phase_health_counts
from tests.conftest import BACKENDS, separate_database

NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
ADMIN = Caller(token_id=0, name="admin", role=Role.admin)
UnitOfWork = Callable[[], Session]


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory,
         catalog: Catalog) -> Iterator[UnitOfWork]:
    with separate_database(request.param, sqlite_template, tmp_path_factory.mktemp("demo-health")) as url:
        engine = make_engine(url)
        factory = make_session_factory(engine)

        def db() -> Session:
            return session_scope(factory)  # type: ignore[return-value]

        with db() as session:
            load_demo(session, catalog, NOW)
        yield db
        engine.dispose()


def test_every_status_appears_and_each_row_says_why(demo: UnitOfWork, catalog: Catalog) -> None:
    for kept in (False, True):  # as computed for rows not yet evaluated, then as the watch keeps it
        if kept:
            with demo() as session:
                note_readiness_changes(session, catalog, NOW)  # one batch evaluates them all
        with demo() as session:
            rows = portfolio(session, ADMIN, catalog, NOW, timedelta(days=14), PortfolioQuery(sort="health")).rows
        statuses = {row.organization: row.health.status if row.health else None for row in rows}
        assert len(rows) == len(CLIENTS)
        assert set(statuses.values()) == set(URGENCY), "; ".join(
            f"{r.organization}: {[s.reason.en for s in r.health_reasons]}" for r in rows)
        for row in rows:
            assert row.health is not None and row.health_reasons, row.organization
            assert all(r.status == row.health.status and r.reason.en and r.reason.zh_tw for r in row.health_reasons)
        if kept:
            ranks = [URGENCY.index(row.health.status) for row in rows if row.health]
            assert ranks == sorted(ranks)
            with demo() as session:
                counts = portfolio_phase_health_counts(session, ADMIN, catalog)
            assert sum(c.count for c in counts) == len(CLIENTS)
            assert {c.status for c in counts} == set(URGENCY)
