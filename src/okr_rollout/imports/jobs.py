"""Large CSV imports as background jobs: checked first, then written in batches, one short transaction each.

Nothing slow runs while the write lock is held. The file is read and every row checked in a reader's session
(``service.plan_people`` / ``okrs.plan_okrs``); each batch is then a few executemany INSERTs of ``CHUNK_ROWS`` rows,
with ids fetched per INSERT, in a transaction of its own that ends after ``OKR_ROLLOUT_IMPORT_BATCH_ROWS`` rows or
``OKR_ROLLOUT_IMPORT_BATCH_SECONDS`` of writing, whichever comes first. Between two batches SQLite's database-wide
write lock is free (for as long as the batch held it), so another organization's write waits for one short batch
at most, never for the file; the one event recording the import is appended by the last batch only (on
PostgreSQL it takes the outbox's ordering lock, which every write that appends an event waits for).

All or nothing is kept by a recorded, resumable job rather than by a staging table. A bad row anywhere refuses
the file before anything is written (the job ends ``failed`` with every bad row named). Once the file is checked,
each batch commits together with the job's cursor and running counts (``import_jobs``), so the job never writes
a row twice and, when its process dies (a crash, ``kill -9``, a deploy), the next process to start resumes it
from that cursor (``ImportRunner.resume_interrupted``; a job counts as dead once its heartbeat is older than
``OKR_ROLLOUT_IMPORT_STALE_SECONDS``): the end state is the whole file. Staging was the other way; it was not
taken because its swap, one transaction moving every row of the file into place, holds SQLite's lock for as
long as those inserts take, which is the very stall imports must not cause. The price of the job: while it runs,
readers see the rows of the batches already written (its status says how far it got), and a database error
that persists through three fresh attempts ends it ``failed`` with the rows so far kept; sending the same file
again finishes it, since rows already imported are left as they are.

The runner is an edge, as the scheduler is: it opens its own sessions and commits; the services it calls flush.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from okr_rollout.auth.visibility import visible_organization
from okr_rollout.db import session_scope
from okr_rollout.errors import ProblemError, Unprocessable, localized
from okr_rollout.imports import queries
from okr_rollout.imports.okrs import engagement_for_okrs, plan_okrs
from okr_rollout.imports.service import (
    ImportKind,
    ImportPlan,
    ImportResult,
    plan_people,
    read_file,
    run_end,
    write_all,
)
from okr_rollout.models import Engagement, ImportJob
from okr_rollout.texts import LocalizedText

if TYPE_CHECKING:
    from okr_rollout.auth.caller import Caller
    from okr_rollout.settings import Settings

logger = logging.getLogger(__name__)

ENDED = ("succeeded", "failed")
ATTEMPTS = 3  # a batch refused by the database is retried on a fresh plan this many times in all
CHUNK_ROWS = 100  # rows per INSERT within a batch: the batch's clock is read between two of them


class ImportRunner:
    """Runs import jobs in worker threads of this process. ``after_batch(job_id)`` is called once each batch has
    committed (tests hold a job between two batches with it); ``timer`` (seconds, monotonic) times each batch."""

    def __init__(self, session_factory: sessionmaker[Session], settings: Settings, clock: Callable[[], datetime],
                 *, after_batch: Callable[[int], None] | None = None,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.clock = clock
        self.timer = timer
        self.after_batch = after_batch
        self._threads: list[threading.Thread] = []
        self._guard = threading.Lock()
        self._stopping = threading.Event()

    def import_file(self, caller: Caller, organization_id: int, kind: ImportKind, engagement_id: int | None,
                    content: bytes, now: datetime, *, background: bool = True) -> ImportResult | ImportJob:
        """Import a file the caller sends into an organization they see (404 otherwise). A small one at once, in
        one transaction opened once every row is checked: its result. A large one (more rows than
        ``import_background_rows``): a job, submitted to a worker thread (``background``; else for the caller to
        ``run``). A file that is not strict CSV is
        refused (422) either way."""
        with session_scope(self.session_factory, write=False) as session:
            organization = visible_organization(session, caller, organization_id)
            engagement = None
            if kind == "okrs":
                engagement = engagement_for_okrs(session, caller, organization.id, engagement_id)
            table = read_file(kind, content)
            plan: ImportPlan | None = None
            if len(table.rows) <= self.settings.import_background_rows:
                plan = plan_people(session, organization.id, table) if engagement is None else plan_okrs(
                    session, engagement, table)
        if plan is not None:
            with session_scope(self.session_factory) as session:
                return write_all(session, plan, caller.actor, now)
        job = self.create(organization_id=organization.id, engagement_id=engagement.id if engagement else None,
                          kind=kind, content=content, rows_total=len(table.rows), actor=caller.actor)
        if background:
            self.submit(job.id)
        return job

    # --- starting and waiting ----------------------------------------------------------------------------------

    def create(self, *, organization_id: int, engagement_id: int | None, kind: ImportKind, content: bytes,
               rows_total: int, actor: str) -> ImportJob:
        """Record a job for a file (not started: ``submit`` it, or ``run`` it here)."""
        now = self.clock()
        with session_scope(self.session_factory) as session:
            job = ImportJob(organization_id=organization_id, engagement_id=engagement_id, kind=kind, status="queued",
                            actor=actor, content=content, rows_total=rows_total, rows_done=0, cursor=0, created=0,
                            updated=0, unchanged=0, departments_created=[], ids=[], errors=[], created_at=now,
                            heartbeat_at=now)
            session.add(job)
            session.flush()
            session.expunge(job)
        return job

    def submit(self, job_id: int) -> None:
        """Run the job in a worker thread of this process."""
        thread = threading.Thread(target=self.run, args=(job_id,), name=f"import-job-{job_id}", daemon=True)
        with self._guard:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Let each running job finish its batch and stop there (the process is shutting down); a job stopped so
        keeps its cursor and is resumed by the next process that starts."""
        self._stopping.set()
        self.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the jobs this runner started (tests; shutdown needs not: a job cut short resumes)."""
        with self._guard:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def resume_interrupted(self) -> list[int]:
        """Take over the jobs whose process died and run them on from their cursor; their ids. At most one
        process takes each (the claim is one conditional UPDATE)."""
        now = self.clock()
        stale_before = now - timedelta(seconds=self.settings.import_stale_seconds)
        with session_scope(self.session_factory, write=False) as session:
            candidates = list(session.scalars(queries.interrupted_jobs(stale_before)))
        claimed: list[int] = []
        for job_id in candidates:
            with session_scope(self.session_factory) as session:
                if session.connection().execute(queries.claim_interrupted(job_id, stale_before, now)).rowcount:
                    claimed.append(job_id)
        for job_id in claimed:
            logger.warning("resuming import job %s, interrupted", job_id)
            self.submit(job_id)
        return claimed

    def result_of(self, job_id: int) -> ImportResult:
        """What a job that ran imported; its refusal (422 naming the rows) or failure raised."""
        with session_scope(self.session_factory, write=False) as session:
            job = session.scalars(queries.job(job_id)).one()
        if job.status == "succeeded":
            return ImportResult(kind=job.kind, rows=job.rows_total, created=job.created, updated=job.updated,
                                unchanged=job.unchanged, departments_created=job.departments_created, ids=job.ids)
        if job.errors:
            raise Unprocessable(job.detail or "the file was not imported", errors=job.errors)
        raise ProblemError(job.detail or LocalizedText(f"The import is {job.status}.", f"匯入作業狀態:{job.status}。"))

    # --- running -----------------------------------------------------------------------------------------------

    def run(self, job_id: int, progress: Callable[[int, int], None] | None = None) -> None:
        """Run (or resume) the job to its end. ``progress(rows_done, rows_total)`` after each batch."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                self._run(job_id, progress)
                return
            except DBAPIError as error:  # the batch rolled back; the plan is read again from what is stored
                logger.warning("import job %s: attempt %s failed: %s", job_id, attempt, error)
                failure: Exception = error
            except Exception as error:
                logger.exception("import job %s failed", job_id)
                failure = error
                break
        self._fail(job_id, failure)

    def _run(self, job_id: int, progress: Callable[[int, int], None] | None) -> None:
        now = self.clock()
        with session_scope(self.session_factory) as session:
            job = session.scalar(queries.job(job_id))
            if job is None or job.status in ENDED:
                return
            job.status, job.started_at, job.heartbeat_at = "running", job.started_at or now, now
            session.flush()
            session.expunge(job)
        result = ImportResult(kind=job.kind, rows=job.rows_total, created=job.created, updated=job.updated,
                              unchanged=job.unchanged, departments_created=list(job.departments_created))
        try:
            plan = self._plan(job)
        except ProblemError as refusal:  # a bad row: nothing was written
            self._record(job_id, {"status": "failed", "errors": localized(refusal.errors or [], "en"),
                                  "detail": refusal.detail,
                                  "finished_at": self.clock(), "content": None})
            return
        unit_rows = plan.unit_rows()
        rows_done = sum(unit_rows[:job.cursor])
        # The ids of what an interrupted run wrote are found again (they are not stored per batch: rewriting a
        # list of up to 100,000 ids in every batch would cost more than the batch).
        result.ids = plan.written_ids(job.cursor)
        stop = job.cursor
        while stop < len(unit_rows):
            start, now = stop, self.clock()
            with session_scope(self.session_factory) as session:
                began = self.timer()  # the write lock is held from here (SQLite's BEGIN IMMEDIATE ran)
                stop = self._write_batch(plan, session, start, now, result, began)
                rows_done += sum(unit_rows[start:stop])
                values: dict[str, object] = {
                    "cursor": stop, "rows_done": rows_done, "rows_total": plan.rows_total, "created": result.created,
                    "updated": result.updated, "unchanged": result.unchanged,
                    "departments_created": result.departments_created, "heartbeat_at": now}
                if stop == len(unit_rows):
                    plan.finish(session, result, job.actor, now)
                    values |= {"status": "succeeded", "finished_at": now, "content": None, "ids": result.ids}
                session.execute(queries.record_progress(job_id, values))
            # Give way as long as the batch held the lock: a writer waiting in SQLite's busy handler polls at
            # growing intervals, and would rarely find the lock free if the next batch took it at once. A process
            # shutting down stops here; the job keeps its cursor and resumes in the next one.
            if stop < len(unit_rows) and self._stopping.wait(max(0.0, self.timer() - began)):
                return
            if progress is not None:
                progress(rows_done, plan.rows_total)
            if self.after_batch is not None:
                self.after_batch(job_id)

    def _write_batch(self, plan: ImportPlan, session: Session, start: int, now: datetime, result: ImportResult,
                     began: float) -> int:
        """Write units from ``start`` in chunks of about ``CHUNK_ROWS`` rows until the batch covers
        ``import_batch_rows`` rows or has written for ``import_batch_seconds``, whichever comes first (at least one
        unit); where it stopped. Another writer waits for the batch that holds the lock: bounding it by time keeps
        that wait short however slow the database is at the moment."""
        unit_rows = plan.unit_rows()
        stop, rows = start, 0
        while stop < len(unit_rows):
            room = min(CHUNK_ROWS, self.settings.import_batch_rows - rows)
            chunk_stop = run_end(unit_rows, stop, room, at_least_one=stop == start)
            if chunk_stop == stop:
                break
            plan.write(session, stop, chunk_stop, now, result)
            rows += sum(unit_rows[stop:chunk_stop])
            stop = chunk_stop
            if self.timer() - began >= self.settings.import_batch_seconds:
                break
        return stop

    def _plan(self, job: ImportJob) -> ImportPlan:
        """The file checked against what the organization has now (a reader: no lock held)."""
        table = read_file(cast(ImportKind, job.kind), job.content or b"")
        with session_scope(self.session_factory, write=False) as session:
            if job.kind == "people":
                return plan_people(session, job.organization_id, table)
            engagement = session.get(Engagement, job.engagement_id)
            if engagement is None:
                raise ProblemError(LocalizedText("The engagement of this import no longer exists.",
                                                 "此匯入作業的輔導專案已不存在。"))
            return plan_okrs(session, engagement, table)

    def _fail(self, job_id: int, error: Exception) -> None:
        detail = (f"the import stopped: {error}. The rows written so far stay; send the same file again to finish "
                  "(rows already imported are left as they are).")
        try:
            self._record(job_id, {"status": "failed", "detail": detail, "finished_at": self.clock(),
                                  "content": None})
        except DBAPIError:
            logger.exception("could not record the failure of import job %s; it resumes once stale", job_id)

    def _record(self, job_id: int, values: dict[str, object]) -> None:
        with session_scope(self.session_factory) as session:
            session.execute(queries.record_progress(job_id, values))
