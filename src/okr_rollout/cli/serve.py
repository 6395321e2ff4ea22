"""``okr-rollout serve`` and ``okr-rollout scheduler``: the long-running processes."""

from __future__ import annotations

import copy
import logging
import os
import re
from typing import Annotated, Any

import typer

from okr_rollout.cli._database import safe_url
from okr_rollout.settings import get_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Web worker processes.")] = 1,
    worker_start_timeout: Annotated[int, typer.Option(
        min=1, help="Seconds a web worker may take to start and answer before it is restarted (with --workers "
                    "above 1).")] = 60,
) -> None:
    """Serve the API (docs at /docs) with uvicorn; the scheduler runs inside unless
    OKR_ROLLOUT_SCHEDULER_IN_WEB=false (then run `okr-rollout scheduler`)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run("okr_rollout.app:create_served_app", factory=True, host=host or settings.host,
                port=port or settings.port, workers=workers, log_config=log_config(),
                # uvicorn restarts a worker that has not answered its health check within 5 s by default; loading
                # the application takes longer than that on a busy machine, and the server then never answers.
                timeout_worker_healthcheck=worker_start_timeout)


class RedactFeedSecrets(logging.Filter):
    """Blanks the secret of a person's calendar feed (``/api/v1/calendar/<secret>.ics``: the URL is the
    credential) in every path a log record carries, e.g. uvicorn's access log, which logs each fetch. The record's
    arguments keep their shape: uvicorn's access formatter reads them one by one."""

    REDACTED = "[redacted]"

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        from okr_rollout.calendar.service import FEED_PATH  # here: ``--help`` does not load the application

        # The whole path segment, whatever follows the secret: a mistyped feed URL carries it too.
        self._secret = re.compile(f"({re.escape(FEED_PATH.partition('{token}')[0])})[^/?#\\s\"']+")

    def redact(self, value: object) -> object:
        if isinstance(value, str) and "/calendar/" in value:
            return self._secret.sub(rf"\g<1>{self.REDACTED}", value)
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self.redact(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {name: self.redact(arg) for name, arg in record.args.items()}
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with feed secrets redacted on every handler. Given to uvicorn as configuration (not
    added to a logger here) so that each worker process applies it too."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["feed_secrets"] = {"()": f"{__name__}.{RedactFeedSecrets.__qualname__}"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("feed_secrets")
    return config


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
