"""``okr-rollout serve`` and ``okr-rollout scheduler``: the long-running processes."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from okr_rollout.cli._database import safe_url
from okr_rollout.settings import get_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Web worker processes.")] = 1,
) -> None:
    """Serve the API (docs at /docs) with uvicorn; the scheduler runs inside unless
    OKR_ROLLOUT_SCHEDULER_IN_WEB=false (then run `okr-rollout scheduler`)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run("okr_rollout.app:create_served_app", factory=True, host=host or settings.host,
                port=port or settings.port, workers=workers)


def scheduler() -> None:
    """Run reminders, readiness changes, webhook and e-mail delivery without the web API (one is active at a
    time; start as many as you like on PostgreSQL). Stop with Ctrl-C or SIGTERM."""
    import signal
    import threading

    from okr_rollout.app import system_clock
    from okr_rollout.catalog.service import Catalog, check_pins
    from okr_rollout.db import make_engine_for
    from okr_rollout.scheduler import Scheduler

    settings = get_settings()
    engine = make_engine_for(settings)
    catalog = Catalog.from_settings(settings)
    check_pins(engine, catalog)
    running = Scheduler(settings, engine, catalog, system_clock)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    running.start()
    typer.echo(f"scheduler running against {safe_url(settings.database_url)} (pid {os.getpid()})")
    try:
        while not stop.wait(1.0):  # wake regularly so signals are handled promptly
            pass
    finally:
        running.stop()
        engine.dispose()
    typer.echo("scheduler stopped")
