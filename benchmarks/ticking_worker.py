"""A served worker with the scheduler on, its clock one simulated minute per reminder tick.

    OKR_ROLLOUT_DATABASE_URL=URL OKR_ROLLOUT_SCHEDULER_INTERVAL_SECONDS=1 \
        python benchmarks/ticking_worker.py PORT 2026-06-01T09:05:00+00:00

The application is the one ``okr-rollout serve`` runs (``create_app(settings, run_scheduler=True)``: the API and
its scheduler, APScheduler's interval jobs and the webhook dispatcher), under uvicorn in this process (one worker,
so this process's RSS is the worker's). Two things differ, so that an hour of ticks takes a minute: the reminder
job's interval is the smallest the setting allows (1 s, from the environment), and the clock the application and
its scheduler read starts at the given time and moves one minute forward each time a reminder tick ends (plus
the real seconds since, up to 59), so that each tick sees the next minute of an hour, whatever its own length.
APScheduler itself keeps real time: its jobs' first run is now, as with the system clock (not the simulated
start, which lies in the past).
``GET /bench/ticks`` tells how many reminder ticks have ended, how many failed, and how long each took.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class SimulatedClock:
    def __init__(self, start: datetime) -> None:
        self.start = start
        self.ticks = 0
        self.failed = 0
        self.seconds: list[float] = []  # each tick's wall time
        self.ended_at = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            since = min(time.monotonic() - self.ended_at, 59.0)
            return self.start + timedelta(minutes=self.ticks, seconds=since)

    def tick_ended(self, failed: bool, seconds: float) -> None:
        with self._lock:
            self.ticks += 1
            self.seconds.append(seconds)
            self.failed += failed
            self.ended_at = time.monotonic()


def main() -> None:
    import uvicorn
    from apscheduler.schedulers.background import BackgroundScheduler

    from okr_rollout.app import create_app
    from okr_rollout.scheduler import Scheduler
    from okr_rollout.settings import get_settings

    port, start = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
    clock = SimulatedClock(start)
    reminders_tick = Scheduler.reminders_tick

    def counted_tick(self: Scheduler) -> None:
        """The scheduler's own tick, counted; one that did not hold the scheduler's lock did nothing and counts
        as none."""
        failed, started = True, time.perf_counter()
        try:
            reminders_tick(self)
            failed = False
        finally:
            if self.leadership.held:
                clock.tick_ended(failed, time.perf_counter() - started)

    Scheduler.reminders_tick = counted_tick  # type: ignore[method-assign]
    add_job = BackgroundScheduler.add_job

    def add_job_at_once(self: BackgroundScheduler, *args: Any, **kwargs: Any) -> Any:
        """APScheduler times its jobs by the real clock: a first run time in the simulated past would have it
        count every missed second since (months of them) before running anything. Each job starts now, as it
        does with the system clock."""
        if "next_run_time" in kwargs:
            kwargs["next_run_time"] = datetime.now(UTC)
        return add_job(self, *args, **kwargs)

    BackgroundScheduler.add_job = add_job_at_once
    app = create_app(get_settings(), run_scheduler=True, clock=clock)

    @app.get("/bench/ticks", include_in_schema=False)
    def ticks() -> dict[str, int | list[float]]:
        return {"ticks": clock.ticks, "failed": clock.failed, "seconds": clock.seconds}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
