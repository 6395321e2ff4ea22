"""One scheduler tick in a process of its own: ``Scheduler(...).reminders_tick()`` (the reminders due, then the
readiness of the engagements marked or due to change), the clock stopped at the given time.

    OKR_ROLLOUT_DATABASE_URL=URL python benchmarks/tick_once.py 2026-06-01T09:05:00+00:00

Prints ``started`` once it holds the scheduler's lock and begins the tick (the benchmark waits for that line,
so the process's own start-up is not counted as the tick), then one JSON line: {"seconds": the tick's wall time}.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime


def main() -> None:
    from okr_rollout.catalog.service import Catalog
    from okr_rollout.db import make_engine_for
    from okr_rollout.scheduler import Scheduler
    from okr_rollout.settings import get_settings

    at = datetime.fromisoformat(sys.argv[1])
    settings = get_settings()
    engine = make_engine_for(settings)
    scheduler = Scheduler(settings, engine, Catalog.from_settings(settings), lambda: at)
    if not scheduler.leadership.hold():
        raise SystemExit("another scheduler is active on this database: no tick was run")
    print("started", flush=True)
    started = time.perf_counter()
    scheduler.reminders_tick()
    print(json.dumps({"seconds": time.perf_counter() - started}), flush=True)
    scheduler.leadership.release()
    engine.dispose()


if __name__ == "__main__":
    main()
