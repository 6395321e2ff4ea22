"""Two writers at once, on SQLite and on PostgreSQL: exactly one wins, the other gets a clean 409.

Two kinds of test:
- a race through HTTP: two threads released together by a barrier fire the same request;
- a deterministic interleaving: a first unit of work (service layer, main thread) holds its
  uncommitted change while a second writer (an HTTP request, served on another thread) reaches
  the statement where it would wait or collide; only then does the first commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.engagements import service as engagements
from okr_rollout.engagements.schemas import EngagementCreate
from okr_rollout.organizations import service as organizations
from okr_rollout.organizations.schemas import OrganizationCreate
from tests.api._helpers import assert_problem, collect_pages, create_organization, event_types, fire, start_journey
from tests.conftest import Clock, Tokens, auth

ADMIN = Caller(token_id=0, name="tester", role=Role.admin)
WAIT = 60  # seconds: an upper bound for a thread that should finish at once, never a pause


# --- racing through HTTP -----------------------------------------------------------------------


def race(*requests: Callable[[], Response]) -> list[Response]:
    """Run the requests on their own threads, released together; their responses, in order."""
    barrier = threading.Barrier(len(requests))
    results: list[Response | BaseException | None] = [None] * len(requests)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=WAIT)
            results[index] = requests[index]()
        except BaseException as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT)
        assert not thread.is_alive(), "a racing request never finished"
    failures = [r for r in results if not isinstance(r, Response)]
    assert failures == [], failures
    return [r for r in results if isinstance(r, Response)]


def test_two_simultaneous_transitions_one_wins(app_client: TestClient, tokens: Tokens) -> None:
    for _ in range(3):
        journey = start_journey(app_client, tokens)

        def move(token: str, engagement_id: int = journey.engagement_id) -> Callable[[], Response]:
            return lambda: fire(app_client, token, engagement_id, "schedule_executive_meeting")

        responses = race(move(tokens.coach), move(tokens.admin))

        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert_problem(loser, 409)
        assert event_types(app_client, tokens.admin, journey.engagement_id) == ["engagement.created",
                                                                               "engagement.transitioned"]
        tasks = collect_pages(app_client, tokens.admin, f"/api/v1/engagements/{journey.engagement_id}/tasks")
        assert [t["key"] for t in tasks if t["phase"] == "executive_meeting"] == ["prepare_executive_meeting",
                                                                                  "hold_executive_meeting"]


def test_two_simultaneous_idempotent_creates_create_one(app_client: TestClient, tokens: Tokens) -> None:
    payload = {"name": "Acme", "headcount": 40}
    headers = auth(tokens.integration, **{"Idempotency-Key": "same-create"})

    def create() -> Response:
        return app_client.post("/api/v1/organizations", json=payload, headers=headers)

    responses = race(create, create)
    statuses = sorted(r.status_code for r in responses)
    # Either the second waited and replayed the first, or it was told the first is still running.
    assert statuses in ([201, 201], [201, 409]), [r.text for r in responses]
    assert len(collect_pages(app_client, tokens.admin, "/api/v1/organizations")) == 1


# --- deterministic interleavings ---------------------------------------------------------------


@contextmanager
def signal_when(engine: Engine, reached: Callable[[str], bool]) -> Iterator[threading.Event]:
    """An event set when a thread other than this one is about to run a statement ``reached`` accepts, or, on
    PostgreSQL, when a session of this database waits for a lock: a transition locks its row on the driver's own
    cursor, which SQLAlchemy's events do not see."""
    main = threading.get_ident()
    hit = threading.Event()
    done = threading.Event()

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.get_ident() != main and reached(statement):
            hit.set()

    def watch_lock_waits() -> None:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            while not (done.is_set() or hit.is_set()):
                if connection.execute(text(
                        "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE NOT l.granted AND a.datname = current_database())")).scalar():
                    hit.set()
                done.wait(0.005)  # polls the server's lock table; the condition, not the time, ends the wait

    watcher = threading.Thread(target=watch_lock_waits) if engine.dialect.name == "postgresql" else None
    event.listen(engine, "before_cursor_execute", before)
    if watcher is not None:
        watcher.start()
    try:
        yield hit
    finally:
        done.set()
        if watcher is not None:
            watcher.join(timeout=WAIT)
        event.remove(engine, "before_cursor_execute", before)


def blocking_point(table_statement: str) -> Callable[[str], bool]:
    """Where a second writer waits for the first: SQLite's BEGIN IMMEDIATE, or the given statement."""
    return lambda sql: sql.startswith("BEGIN IMMEDIATE") or table_statement in sql


def while_holding(
    engine: Engine, first: Callable[[Session], object], second: Callable[[], Response], at: Callable[[str], bool]
) -> Response:
    """Run ``first`` in an open unit of work; start ``second`` on a thread; commit ``first`` once ``second``
    reaches ``at``; return ``second``'s response."""
    factory = make_session_factory(engine)
    outcome: list[Response | BaseException] = []

    def run() -> None:
        try:
            outcome.append(second())
        except BaseException as error:
            outcome.append(error)

    with signal_when(engine, at) as reached:
        with session_scope(factory) as session:
            first(session)
            thread = threading.Thread(target=run)
            thread.start()
            assert reached.wait(timeout=WAIT), "the second writer never reached its blocking statement"
        thread.join(timeout=WAIT)
    assert not thread.is_alive(), "the second writer never finished"
    [result] = outcome
    assert isinstance(result, Response), repr(result)
    return result


def test_transition_waits_for_a_concurrent_transition_then_is_refused(
    app_client: TestClient, tokens: Tokens, engine: Engine, clock: Clock
) -> None:
    journey = start_journey(app_client, tokens)
    catalog: Catalog = app_client.app.state.catalog  # type: ignore[attr-defined]
    now: datetime = clock()

    def first(session: Session) -> None:
        engagements.fire_transition(session, ADMIN, catalog, journey.engagement_id, "schedule_executive_meeting", now)

    response = while_holding(
        engine, first,
        lambda: fire(app_client, tokens.coach, journey.engagement_id, "schedule_executive_meeting"),
        blocking_point("FOR UPDATE"),
    )

    problem = assert_problem(response, 409)
    assert problem["phase"] == "executive_meeting"
    assert event_types(app_client, tokens.admin, journey.engagement_id) == ["engagement.created",
                                                                           "engagement.transitioned"]


def test_concurrent_duplicate_crm_id_is_409_not_a_server_error(
    app_client: TestClient, tokens: Tokens, engine: Engine, clock: Clock
) -> None:
    """A CRM pushing the same customer twice at once must get 409 for the second push."""
    now: datetime = clock()

    def first(session: Session) -> None:
        organizations.create_organization(session, ADMIN, OrganizationCreate(name="First", headcount=9,
                                                                             crm_id="crm-42"), now)

    response = while_holding(
        engine, first,
        lambda: app_client.post("/api/v1/organizations", json={"name": "Second", "headcount": 9, "crm_id": "crm-42"},
                                headers=auth(tokens.integration)),
        blocking_point("INSERT INTO organizations"),
    )

    assert_problem(response, 409)
    assert [o["name"] for o in collect_pages(app_client, tokens.admin, "/api/v1/organizations")] == ["First"]


def test_first_engagements_of_a_playbook_created_at_once_both_succeed(
    app_client: TestClient, tokens: Tokens, engine: Engine, clock: Clock
) -> None:
    """Both pin the same playbook text (a snapshot row keyed by its sha256) at the same time."""
    one = create_organization(app_client, tokens.admin)
    two = create_organization(app_client, tokens.admin)
    catalog: Catalog = app_client.app.state.catalog  # type: ignore[attr-defined]
    now: datetime = clock()

    def first(session: Session) -> None:
        engagements.create_engagement(session, ADMIN, catalog, EngagementCreate(organization_id=one["id"]), now)

    response = while_holding(
        engine, first,
        lambda: app_client.post("/api/v1/engagements", json={"organization_id": two["id"]},
                                headers=auth(tokens.admin)),
        blocking_point("INSERT INTO playbook_snapshots"),
    )

    assert response.status_code == 201, response.text
    engagements_listed = collect_pages(app_client, tokens.admin, "/api/v1/engagements")
    assert sorted(e["organization_id"] for e in engagements_listed) == [one["id"], two["id"]]
    assert len({e["playbook"]["sha256"] for e in engagements_listed}) == 1
