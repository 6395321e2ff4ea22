"""create_app(settings) -> the FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import Engine

from okr_rollout.api import openapi, problems
from okr_rollout.api.middleware import BodyLimitAndIdempotency
from okr_rollout.auth.router import router as tokens_router
from okr_rollout.calendar.router import router as calendar_router
from okr_rollout.catalog.router import router as playbooks_router
from okr_rollout.catalog.service import Catalog, check_pins
from okr_rollout.coaches.router import router as coaches_router
from okr_rollout.cycles.corrections_router import router as cycle_corrections_router
from okr_rollout.cycles.router import router as cycles_router
from okr_rollout.db import make_engine_for, make_session_factory
from okr_rollout.engagements.router import router as engagements_router
from okr_rollout.imports.jobs import ImportRunner
from okr_rollout.imports.router import router as imports_router
from okr_rollout.notifications.router import router as notifications_router
from okr_rollout.organizations.router import router as organizations_router
from okr_rollout.portfolio.router import router as portfolio_router
from okr_rollout.records.corrections_router import router as record_corrections_router
from okr_rollout.records.router import router as records_router
from okr_rollout.settings import Settings, get_settings
from okr_rollout.versions.router import router as versions_router
from okr_rollout.waves.router import router as waves_router
from okr_rollout.web.routes import install_web
from okr_rollout.webhooks.router import router as webhooks_router


def system_clock() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = system_clock,
    run_scheduler: bool = False,
    catalog: Catalog | None = None,
) -> FastAPI:
    """The application. ``run_scheduler`` also runs reminders and deliveries in this process (``serve``).

    ``catalog`` is the playbooks of ``settings`` already parsed (tests share one); by default they are read from
    the settings' directories."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.import_runner.resume_interrupted()  # imports cut short by a crash go on from where they stopped
        scheduler = None
        if run_scheduler:
            from okr_rollout.scheduler import Scheduler

            scheduler = Scheduler(settings, app.state.engine, app.state.catalog, clock)
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            app.state.import_runner.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="okr-rollout",
        version="1",
        docs_url=None,  # served by api.openapi from packaged files, not from a CDN
        redoc_url=None,
        generate_unique_id_function=openapi.operation_id,
        description="OKR rollout coaching: playbooks, readiness gates, tasks and history. "
        "Errors are RFC 9457 problem details; lists are cursor-paginated; writes accept "
        "Idempotency-Key and If-Match.",
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine_for(settings)
    app.state.session_factory = make_session_factory(app.state.engine)
    app.state.clock = clock
    app.state.catalog = catalog or Catalog.from_settings(settings)
    app.state.import_runner = ImportRunner(app.state.session_factory, settings, clock)
    # An edited playbook version that engagements are pinned to stops the start, naming the file and the fix.
    check_pins(app.state.engine, app.state.catalog)
    problems.install(app)
    openapi.install(app)
    app.include_router(organizations_router)
    app.include_router(engagements_router)
    app.include_router(waves_router)
    app.include_router(coaches_router)
    app.include_router(playbooks_router)
    app.include_router(records_router)
    app.include_router(record_corrections_router)
    app.include_router(cycles_router)
    app.include_router(cycle_corrections_router)
    app.include_router(imports_router)
    app.include_router(calendar_router)
    app.include_router(webhooks_router)
    app.include_router(tokens_router)
    app.include_router(notifications_router)
    app.include_router(versions_router)
    app.include_router(portfolio_router)
    install_web(app)
    app.add_middleware(
        BodyLimitAndIdempotency,
        session_factory=lambda: app.state.session_factory,
        clock=lambda: app.state.clock,
        max_body_bytes=settings.max_body_bytes,
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
    )

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def create_served_app() -> FastAPI:
    """What ``okr-rollout serve`` runs: the API, plus the scheduler unless it runs in its own process."""
    settings = get_settings()
    return create_app(settings, run_scheduler=settings.scheduler_in_web)
