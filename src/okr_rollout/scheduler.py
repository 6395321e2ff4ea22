"""APScheduler wiring: reminders, readiness changes, e-mail delivery, pruning old sign-in throttles; and the
webhook dispatcher, a thread of its own beside them. Jobs open their own units of work and call services; what
was sent lives in our tables, never in APScheduler's job store.

Only one scheduler is active per database. On PostgreSQL any number may run: the active one holds a
session-level advisory lock on a dedicated connection outside the pool (a pooled connection would keep the
lock after being returned); the others try again every few seconds, so one takes over soon after the active
one dies (its connection closes and the server releases the lock). On SQLite the lock is a file lock beside
the database file.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.settings import Settings

if TYPE_CHECKING:
    from okr_rollout.engagements.readiness_watch import Due, WatchRun
    from okr_rollout.journey.facts import EngagementFacts
    from okr_rollout.webhooks.delivery import Deliveries

logger = logging.getLogger(__name__)

# Throttle counters live an hour and a quarter; pruning them every quarter of an hour keeps the table small.
THROTTLE_PRUNING_SECONDS = 15 * 60


class Leadership:
    """Whether this process is the active scheduler; ``hold()`` tries to become it and checks it still is."""

    def __init__(self, database_url: str, lock_key: int) -> None:
        self._url = make_url(database_url)
        self._key = lock_key
        self._connection: psycopg.Connection[Any] | None = None
        self._file: IO[str] | None = None
        self._lock = threading.Lock()

    def hold(self) -> bool:
        with self._lock:
            if self._url.get_backend_name() == "postgresql":
                return self._hold_postgres()
            return self._hold_file()

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None

    def _hold_postgres(self) -> bool:
        if self._connection is not None:
            try:
                self._connection.execute("SELECT 1")
                return True
            except psycopg.Error:
                logger.warning("scheduler lost its database connection: no longer the active scheduler")
                self._close_connection()
        conninfo = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            connection = psycopg.connect(conninfo, autocommit=True,
                                         application_name=f"okr-rollout scheduler {os.getpid()}")
        except psycopg.Error as error:
            logger.warning("scheduler cannot reach the database: %s", error)
            return False
        try:
            row = connection.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
        except psycopg.Error as error:
            logger.warning("scheduler cannot take the leadership lock: %s", error)
            connection.close()
            return False
        if row is not None and row[0]:
            self._connection = connection
            logger.info("this process is now the active scheduler")
            return True
        connection.close()
        return False

    def _hold_file(self) -> bool:
        if self._file is not None:
            return True
        database = self._url.database
        if not database or database == ":memory:":
            return True  # one process owns an in-memory database
        handle = open(Path(database).with_name(Path(database).name + ".scheduler.lock"), "a")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def _close_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):
                self._connection.close()
            self._connection = None

    def release(self) -> None:
        with self._lock:
            if self._connection is not None:
                # Unlocked before closing: a closed session's locks go only once its backend has exited, which
                # the client does not wait for, so another scheduler asking at once could still be refused.
                with contextlib.suppress(psycopg.Error):
                    self._connection.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
            self._close_connection()
            if self._file is not None:
                fcntl.flock(self._file, fcntl.LOCK_UN)
                self._file.close()
                self._file = None


class Scheduler:
    def __init__(self, settings: Settings, engine: Engine, catalog: Catalog, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.catalog = catalog
        self.clock = clock
        self.factory = make_session_factory(engine)
        self.leadership = Leadership(settings.database_url, settings.scheduler_lock_key)
        self._background: BackgroundScheduler | None = None
        self._deliveries: Deliveries | None = None
        self._dispatcher: threading.Thread | None = None
        self._leader_checked_at = float("-inf")
        self._leader = False

    def deliveries(self) -> Deliveries:
        """This worker's webhook delivery: one HTTP client and one bounded pool of threads for its life."""
        if self._deliveries is None:
            from okr_rollout.webhooks.delivery import Deliveries

            self._deliveries = Deliveries(self.factory, self.settings, self.clock)
        return self._deliveries

    # --- one tick of each job: callable directly (tests, the CLI) -------------------------------------------

    def reminders_tick(self) -> WatchRun | None:
        """Reminders, then readiness: the engagements due for both (a write marks both) have their facts read once,
        by the reminders, and handed on to the readiness watch. Returns what the watch did (None: not the active
        scheduler)."""
        if not self.leadership.hold():
            return None
        from okr_rollout.engagements import readiness_watch as watch
        from okr_rollout.notifications.service import run_reminders

        now = self.clock()
        # The readiness queue is read before the reminders read facts: facts read after the marks they are
        # stored against (a write in between changes the marks, and the store skips that evaluation).
        with session_scope(self.factory, write=False) as session:
            waiting = watch.queue(session, now, self.settings.readiness_max_per_tick)
        with session_scope(self.factory) as session:
            reminders = run_reminders(session, self.catalog, self.settings, now,
                                      keep_facts_of=[d.engagement_id for d in waiting])
        room = self.settings.readiness_max_per_tick - len(waiting)
        if reminders.new_readiness_rows and room > 0:
            # Engagements made without a readiness row (seeded, not written through events) got one just now:
            # evaluated in this tick too, their facts read again.
            queued = {d.engagement_id for d in waiting}
            with session_scope(self.factory, write=False) as session:
                later = watch.queue(session, now, self.settings.readiness_max_per_tick)
            waiting += [d for d in later if d.engagement_id not in queued][:room]
        return self._evaluate(now, waiting, reminders.kept_facts)

    def readiness_tick(self, now: datetime | None = None, limit: int | None = None) -> WatchRun:
        """Evaluate again the engagements marked stale or due to change with the clock, at most ``limit`` of them
        (the ``readiness_max_per_tick`` setting), longest waiting first: the rest in the next ticks."""
        from okr_rollout.engagements import readiness_watch as watch

        now = now or self.clock()
        with session_scope(self.factory, write=False) as session:
            waiting = watch.queue(session, now, self.settings.readiness_max_per_tick if limit is None else limit)
        return self._evaluate(now, waiting, {})

    def _evaluate(self, now: datetime, waiting: Sequence[Due], preloaded: dict[int, EngagementFacts]) -> WatchRun:
        """A batch at a time: each batch is read and evaluated outside the write lock, then stored in one short
        write transaction. One marked again meanwhile is skipped by the store and waits for the next tick."""
        from okr_rollout.engagements import readiness_watch as watch

        total = watch.WatchRun()
        size = self.settings.readiness_batch_size
        for start in range(0, len(waiting), size):
            batch = waiting[start:start + size]
            # Taken out as used: the facts of a batch stored are freed before the next batch is read.
            facts = {d.engagement_id: preloaded.pop(d.engagement_id) for d in batch if d.engagement_id in preloaded}
            with session_scope(self.factory, write=False) as session:
                evaluations = watch.evaluate(session, self.catalog, now, batch,
                                             self.settings.readiness_lookahead_days, facts)
            with session_scope(self.factory) as session:
                stored = watch.store(session, evaluations, now)
            total.batches += 1
            total.evaluated += len(evaluations)
            total.stored += stored.stored
            total.changes += stored.changes
            total.health_changes += stored.health_changes
        return total

    def delivery_tick(self) -> None:
        """One pass of webhook delivery (waited for), then the e-mail due."""
        if not self.leadership.hold():
            return
        self.deliveries().deliver_pending()
        self.email_tick()

    def email_tick(self) -> None:
        if not self.leadership.hold():
            return
        from okr_rollout.notifications.delivery import send_pending_email

        send_pending_email(self.factory, self.settings, self.clock())

    def throttle_pruning_tick(self) -> None:
        """Forget sign-in throttle counters no window reaches any more (unknown addresses' too)."""
        if not self.leadership.hold():
            return
        from okr_rollout.users.service import prune_sign_in_throttles

        with session_scope(self.factory) as session:
            prune_sign_in_throttles(session, self.clock())

    # --- running in the background --------------------------------------------------------------------------

    def start(self) -> None:
        background = BackgroundScheduler(timezone="UTC")
        background.add_job(self._guarded(self.reminders_tick), "interval",
                           seconds=self.settings.scheduler_interval_seconds, id="reminders", max_instances=1,
                           coalesce=True, next_run_time=self.clock())
        background.add_job(self._guarded(self.email_tick), "interval",
                           seconds=self.settings.delivery_interval_seconds, id="email", max_instances=1,
                           coalesce=True, next_run_time=self.clock())
        background.add_job(self._guarded(self.throttle_pruning_tick), "interval", seconds=THROTTLE_PRUNING_SECONDS,
                           id="sign-in-throttles", max_instances=1, coalesce=True, next_run_time=self.clock())
        background.start()
        self._background = background
        # Webhooks are not an interval job: a pass would wait for its slowest receiver, and the next runs would
        # be skipped meanwhile. One dispatcher thread per worker starts a task per due subscription and goes
        # on; each task keeps its subscription going until it is caught up.
        deliveries = self.deliveries()
        self._dispatcher = threading.Thread(
            target=deliveries.run, args=(self.settings.webhook_poll_seconds, self._may_deliver_webhooks),
            name="webhook-dispatcher", daemon=True)
        self._dispatcher.start()

    def stop(self) -> None:
        if self._background is not None:
            self._background.shutdown(wait=True)
            self._background = None
        if self._deliveries is not None:
            self._deliveries.close()
            self._deliveries = None
        if self._dispatcher is not None:
            self._dispatcher.join()
            self._dispatcher = None
        self.leadership.release()

    def _may_deliver_webhooks(self) -> bool:
        """Whether this process is the active scheduler, asked at the e-mail job's pace rather than at every
        poll of the dispatcher: for a standby on PostgreSQL, asking means opening a connection."""
        now = time.monotonic()
        if now - self._leader_checked_at >= self.settings.delivery_interval_seconds:
            self._leader = self.leadership.hold()
            self._leader_checked_at = now
        return self._leader

    @staticmethod
    def _guarded(job: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                job()
            except Exception:  # one failed tick must not stop the next one
                logger.exception("scheduler job %s failed", job.__name__)

        return run
