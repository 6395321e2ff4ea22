"""``okr-rollout serve`` and ``okr-rollout scheduler`` as real processes, on a clock the test controls.

    python -m tests.e2e._clocked --clock FILE serve [--host H] [--port P]
    python -m tests.e2e._clocked --clock FILE --ticks FILE scheduler

Each builds what the command line builds (``okr_rollout.cli``: settings from OKR_ROLLOUT_*, the engine, the
playbook catalog, the start-up pin check, ``create_app`` / ``Scheduler``), with one difference: the clock reads
the ISO timestamp in FILE, which the test replaces atomically (write beside it, then rename) to move time.
Production code has no such option; only this launcher does.

``serve`` serves ``create_app`` with uvicorn, as ``create_served_app`` builds it.

``scheduler`` does not start APScheduler's interval jobs (they would tick on the wall clock, any number of times
per simulated step). It runs the very jobs those intervals run, ``reminders_tick`` then ``delivery_tick``, once
each time the clock file shows a new time, and then appends ``<time> active|standby|failed`` to the ticks file:
``active`` when this process holds the leadership after the tick. The test reads that file to know that every
scheduler has ticked at a time before it moves the clock on. Stop it with SIGTERM (it releases the leadership, as
``okr-rollout scheduler`` does) or kill it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from datetime import datetime
from pathlib import Path

POLL = 0.005  # seconds between two looks at the clock file: the test is waiting for the tick


class FileClock:
    """The time written in a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text().strip())


def serve(clock: FileClock, host: str | None, port: int | None) -> None:
    import uvicorn

    from okr_rollout.app import create_app
    from okr_rollout.settings import get_settings

    settings = get_settings()
    app = create_app(settings, clock=clock, run_scheduler=settings.scheduler_in_web)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port)


def scheduler(clock: FileClock, ticks: Path) -> None:
    from okr_rollout.catalog.service import Catalog, check_pins
    from okr_rollout.db import make_engine_for
    from okr_rollout.scheduler import Scheduler
    from okr_rollout.settings import get_settings

    settings = get_settings()
    engine = make_engine_for(settings)
    catalog = Catalog.from_settings(settings)
    check_pins(engine, catalog)
    running = Scheduler(settings, engine, catalog, clock)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    ticked: datetime | None = None
    try:
        while not stop.is_set():
            now = clock()
            if now == ticked:
                stop.wait(POLL)
                continue
            try:
                running.reminders_tick()
                running.delivery_tick()
                state = "active" if running.leadership.held else "standby"
            except Exception:
                logging.getLogger(__name__).exception("scheduler tick at %s failed", now.isoformat())
                state = "failed"
            with ticks.open("a") as record:
                record.write(f"{now.isoformat()} {state}\n")
            ticked = now
    finally:
        running.stop()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e._clocked")
    parser.add_argument("--clock", type=Path, required=True, help="the file holding the ISO time")
    parser.add_argument("--ticks", type=Path, help="scheduler: where each tick is recorded")
    commands = parser.add_subparsers(dest="command", required=True)
    served = commands.add_parser("serve")
    served.add_argument("--host")
    served.add_argument("--port", type=int)
    commands.add_parser("scheduler")
    arguments = parser.parse_args()
    clock = FileClock(arguments.clock)
    if arguments.command == "serve":
        serve(clock, arguments.host, arguments.port)
    else:
        if arguments.ticks is None:
            parser.error("scheduler needs --ticks")
        scheduler(clock, arguments.ticks)


if __name__ == "__main__":
    main()
