"""Large CSV imports as background jobs: 202 and a job to poll, batches that leave the write lock free for other
organizations, all or nothing, resumed after a crash, seen only by who sees the organization."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from okr_rollout.app import create_app
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_engine, make_session_factory
from okr_rollout.imports.jobs import CHUNK_ROWS, ImportRunner
from okr_rollout.models import Person
from okr_rollout.settings import Settings
from tests.api._helpers import assert_problem
from tests.api._imports import (
    OKR_HEADER,
    PEOPLE_HEADER,
    count_events,
    csv_file,
    departments_of,
    new_org,
    okrs_of,
    org_with_quarter,
    post_import,
)
from tests.conftest import ROOT, Clock, Tokens, auth

BACKGROUND_ROWS = 100  # more rows than this: a background job
BATCH_ROWS = 500
LARGE = 6_000  # rows of the large file: 12 batches (batches are bounded by rows here, not by time)
LOCK_WAIT_MS = 2_000  # a write that finds the lock held gives up after this (503) instead of 15 s


@pytest.fixture
def short_wait_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, sqlite_busy_timeout_ms=LOCK_WAIT_MS, postgres_lock_timeout_ms=LOCK_WAIT_MS)
    yield engine
    engine.dispose()


@pytest.fixture
def client(short_wait_engine: Engine, database_url: str, clock: Clock, catalog: Catalog) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks",
                        import_background_rows=BACKGROUND_ROWS, import_batch_rows=BATCH_ROWS, import_batch_seconds=60,
                        sqlite_busy_timeout_ms=LOCK_WAIT_MS, postgres_lock_timeout_ms=LOCK_WAIT_MS)
    app = create_app(settings, engine=short_wait_engine, clock=clock, catalog=catalog)
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client
        runner(test_client).join(60)


def runner(client: TestClient) -> ImportRunner:
    found: ImportRunner = client.app.state.import_runner  # type: ignore[attr-defined]
    return found


def people_file(rows: int, *, last: list[str] | None = None) -> bytes:
    people = [[f"Person {n}", f"p{n}@example.com", f"Team {n % 4}", ""] for n in range(rows)]
    if last is not None:
        people[-1] = last
    return csv_file(PEOPLE_HEADER, *people)


def accepted(response: Response) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    assert response.headers["Location"] == f"/api/v1/imports/{job['id']}"
    return job


def job_of(client: TestClient, token: str, job_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/imports/{job_id}", headers=auth(token))
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def people_count(db: Callable[[], Session], organization_id: int) -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(Person).where(
            Person.organization_id == organization_id)) or 0


def test_a_large_file_is_a_job_whose_batches_leave_other_organizations_free_to_write(
        client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    importing, other = new_org(client, tokens), new_org(client, tokens)
    first_batch_written, go_on = threading.Event(), threading.Event()
    batches: list[int] = []

    def after_batch(job_id: int) -> None:  # in the job's thread, once a batch has committed
        batches.append(job_id)
        if len(batches) == 1:
            first_batch_written.set()
            assert go_on.wait(30)

    runner(client).after_batch = after_batch
    job = accepted(post_import(client, tokens.coach, importing.organization_id, "people", people_file(LARGE)))
    assert (job["status"], job["rows_total"], job["rows_done"], job["result"]) == ("queued", LARGE, 0, None)
    assert first_batch_written.wait(30)

    # The job stands between two batches: it holds no lock, and shows how far it got.
    running = job_of(client, tokens.coach, job["id"])
    assert (running["status"], running["rows_done"], running["rows_total"]) == ("running", BATCH_ROWS, LARGE)
    write = client.post(f"/api/v1/organizations/{other.organization_id}/departments", headers=auth(tokens.admin),
                        json={"name": "Written while another organization imports"})
    assert write.status_code == 201, write.text
    assert people_count(db, importing.organization_id) == BATCH_ROWS
    go_on.set()
    runner(client).join(60)

    done = job_of(client, tokens.coach, job["id"])
    assert (done["status"], done["rows_done"], done["errors"], done["detail"]) == ("succeeded", LARGE, [], None)
    result = done["result"]
    assert (result["rows"], result["created"], result["updated"], result["unchanged"]) == (LARGE, LARGE, 0, 0)
    assert result["departments_created"] == ["Team 0", "Team 1", "Team 2", "Team 3"]
    assert len(batches) == LARGE // BATCH_ROWS  # one transaction per batch, the lock free between them
    assert people_count(db, importing.organization_id) == LARGE
    assert count_events(db, "import.people", importing.organization_id) == 1


def test_a_bad_row_at_the_end_of_a_large_file_writes_nothing(
        client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = new_org(client, tokens)
    departments = departments_of(client, tokens.admin, org.organization_id)
    content = people_file(LARGE, last=["Last Person", "last@example.com", "Team 9", "boss"])

    job = accepted(post_import(client, tokens.coach, org.organization_id, "people", content))
    runner(client).join(60)

    failed = job_of(client, tokens.coach, job["id"])
    assert (failed["status"], failed["rows_done"], failed["result"]) == ("failed", 0, None)
    assert [(e["row"], e["column"], e["type"]) for e in failed["errors"]] == [(LARGE + 1, "role", "unknown_role")]
    assert f"row {LARGE + 1}, column role" in failed["detail"]
    assert people_count(db, org.organization_id) == 0
    assert departments_of(client, tokens.admin, org.organization_id) == departments  # not even "Team 9"
    assert count_events(db, "import.people", org.organization_id) == 0


def test_importing_the_same_large_file_again_changes_nothing(
        client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = new_org(client, tokens)
    content = people_file(BATCH_ROWS + 100)
    first = accepted(post_import(client, tokens.coach, org.organization_id, "people", content))
    runner(client).join(60)

    again = accepted(post_import(client, tokens.coach, org.organization_id, "people", content))
    runner(client).join(60)

    result = job_of(client, tokens.coach, again["id"])["result"]
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 0, BATCH_ROWS + 100)
    assert result["ids"] == job_of(client, tokens.coach, first["id"])["result"]["ids"]
    assert people_count(db, org.organization_id) == BATCH_ROWS + 100
    assert count_events(db, "import.people", org.organization_id) == 1


def test_a_job_is_seen_only_by_who_sees_its_organization(client: TestClient, tokens: Tokens) -> None:
    org = new_org(client, tokens)
    job = accepted(post_import(client, tokens.coach, org.organization_id, "people", people_file(BACKGROUND_ROWS + 1)))
    runner(client).join(60)

    assert job_of(client, tokens.admin, job["id"])["status"] == "succeeded"
    assert job_of(client, tokens.coach, job["id"])["status"] == "succeeded"
    assert_problem(client.get(f"/api/v1/imports/{job['id']}", headers=auth(tokens.other_coach)), 404)
    assert_problem(client.get(f"/api/v1/imports/{job['id'] + 1000}", headers=auth(tokens.admin)), 404)


def test_a_large_okr_file_is_written_in_batches_of_whole_okrs(
        client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = org_with_quarter(client, tokens)
    rows = [["2026-Q1", "Sales", "alice@example.com", f"Objective {n // 3}", f"Result {n % 3}", "0", "10", "", ""]
            for n in range(3 * 400)]  # 400 OKRs of three key results each
    batches: list[int] = []
    runner(client).after_batch = batches.append

    job = accepted(post_import(client, tokens.coach, org.organization_id, "okrs", csv_file(OKR_HEADER, *rows)))
    runner(client).join(60)

    result = job_of(client, tokens.coach, job["id"])["result"]
    assert (result["rows"], result["created"], result["unchanged"]) == (1200, 400, 0)
    assert len(batches) == 3  # 166 OKRs (498 rows) per batch of at most 500 rows
    okrs = okrs_of(client, tokens.coach, org.engagement_id)
    assert [o["id"] for o in okrs] == result["ids"]
    assert all(len(o["key_results"]) == 3 for o in okrs)


class Killed(BaseException):
    """The process dying under the job (as ``kill -9`` would): nothing of the job's own handling runs."""


def test_a_job_interrupted_by_a_crash_resumes_where_it_stopped_at_the_next_start(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock,
        short_wait_engine: Engine) -> None:
    org = new_org(client, tokens)
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    factory = make_session_factory(short_wait_engine)
    content = people_file(3 * BATCH_ROWS)

    def die_after_two_batches(job_id: int) -> None:
        nonlocal written
        written += 1
        if written == 2:
            raise Killed

    written = 0
    dying = ImportRunner(factory, settings, clock, after_batch=die_after_two_batches)
    created = dying.create(organization_id=org.organization_id, engagement_id=None, kind="people",
                           content=content, rows_total=3 * BATCH_ROWS, actor="coach:test")
    with pytest.raises(Killed):
        dying.run(created.id)
    cut = job_of(client, tokens.coach, created.id)
    assert (cut["status"], cut["rows_done"]) == ("running", 2 * BATCH_ROWS)

    next_process = ImportRunner(factory, settings, clock)
    assert next_process.resume_interrupted() == []  # its heartbeat is fresh: maybe alive, left alone
    clock.advance(seconds=settings.import_stale_seconds + 1)
    assert next_process.resume_interrupted() == [created.id]
    assert ImportRunner(factory, settings, clock).resume_interrupted() == []  # one process takes it
    next_process.join(60)

    done = job_of(client, tokens.coach, created.id)
    assert (done["status"], done["rows_done"]) == ("succeeded", 3 * BATCH_ROWS)
    assert (done["result"]["created"], done["result"]["unchanged"]) == (3 * BATCH_ROWS, 0)
    assert people_count(db, org.organization_id) == 3 * BATCH_ROWS  # none twice
    assert len(set(done["result"]["ids"])) == 3 * BATCH_ROWS
    assert count_events(db, "import.people", org.organization_id) == 1


def test_a_batch_ends_once_it_has_written_for_the_time_allowed_whatever_its_rows(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock,
        short_wait_engine: Engine) -> None:
    """Another write waits for the batch that holds the lock: a slow database makes batches of fewer rows, not
    longer waits. Each INSERT here 'takes' a millisecond, more than the half a millisecond a batch may write."""
    org = new_org(client, tokens)
    stored: Settings = client.app.state.settings  # type: ignore[attr-defined]
    settings = stored.model_copy(update={"import_batch_seconds": 0.0005})
    ticks = itertools.count()
    batches: list[int] = []
    runner = ImportRunner(make_session_factory(short_wait_engine), settings, clock, after_batch=batches.append,
                          timer=lambda: next(ticks) / 1000)
    created = runner.create(organization_id=org.organization_id, engagement_id=None, kind="people",
                            content=people_file(3 * BATCH_ROWS), rows_total=3 * BATCH_ROWS, actor="coach:test")
    runner.run(created.id)

    done = job_of(client, tokens.coach, created.id)
    assert (done["status"], done["rows_done"]) == ("succeeded", 3 * BATCH_ROWS)
    assert len(batches) == 3 * BATCH_ROWS // CHUNK_ROWS  # one INSERT each, not BATCH_ROWS rows each
    assert people_count(db, org.organization_id) == 3 * BATCH_ROWS
    assert count_events(db, "import.people", org.organization_id) == 1  # the last batch records the import
