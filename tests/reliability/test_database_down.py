"""The database locked, gone, or failing in the middle of a write: 503 problem+json with Retry-After, nothing
half-written, and the service back on its own once the database is (no restart, nothing reset by the test).

"Gone" is real on both backends: on SQLite the directory holding the database file is moved away (a volume that
is unmounted), on PostgreSQL a loopback proxy in front of the server drops every connection and refuses new ones.
A failure in the middle of a unit of work is the same cut at that moment on PostgreSQL, and an injected I/O error
on SQLite.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from okr_rollout.app import create_app
from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from okr_rollout.db import make_engine, make_session_factory, session_scope
from okr_rollout.models import Engagement, IdempotencyRecord, Organization, Person
from okr_rollout.settings import Settings
from tests.conftest import BACKENDS, ROOT, Clock, auth, playbooks_catalog
from tests.reliability._history import assert_consistent, snapshot
from tests.reliability._proxy import Proxy

ORGS = "/api/v1/organizations"
PROBLEM_JSON = "application/problem+json"
BUSY_TIMEOUT_MS = 100


@dataclass
class Outage:
    """The database the app uses, a way for the test to take it away and bring it back, and the test's own
    connection to it (used only while it is there)."""

    url: str
    direct: Engine
    proxy: Proxy | None = None
    volume: Path | None = None
    apps: list[Engine] = field(default_factory=list)

    def cut(self) -> None:
        if self.proxy is not None:
            self.proxy.cut()
        else:
            assert self.volume is not None
            self.volume.rename(self.volume.with_name("away"))
            # A volume that goes away takes its open files with it; a renamed directory leaves them working.
            # So the apps' pooled connections are closed too, as they would fail: new ones cannot open the file.
            for engine in self.apps:
                engine.pool.dispose()

    def restore(self) -> None:
        if self.proxy is not None:
            self.proxy.restore()
        else:
            assert self.volume is not None
            self.volume.with_name("away").rename(self.volume)

    def client(self, clock: Clock) -> TestClient:
        engine = make_engine(self.url, sqlite_busy_timeout_ms=BUSY_TIMEOUT_MS)
        self.apps.append(engine)
        settings = Settings(database_url=self.url, playbooks_dir=ROOT / "playbooks",
                            sqlite_busy_timeout_ms=BUSY_TIMEOUT_MS)
        return TestClient(create_app(settings, engine=engine, clock=clock, catalog=playbooks_catalog()))

    def fail_at(self, statement: str) -> None:
        """The next time the app's unit of work reaches ``statement`` (its start, or its main part after a
        ``WITH ...`` prefix: PostgreSQL's first event of a transaction takes the outbox lock in a CTE), the database
        fails."""
        [engine] = self.apps
        armed = [True]

        def reaches(sql: str) -> bool:
            text = " ".join(sql.upper().split())
            return text.startswith(statement) or (text.startswith("WITH ") and f") {statement}" in text)

        def before(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
            if armed[0] and reaches(sql):
                armed[0] = False
                self._fail()

        def on_commit(_conn: Any) -> None:
            if armed[0] and statement == "COMMIT":
                armed[0] = False
                self._fail()

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "commit", on_commit)

    def _fail(self) -> None:
        if self.proxy is not None:
            self.proxy.cut()  # the statement then goes to a dead connection
            return
        raise OperationalError("(injected)", {}, sqlite3.OperationalError("disk I/O error"))


@pytest.fixture
def outage(database_url: str, tmp_path: Path) -> Iterator[Outage]:
    if database_url.startswith("sqlite"):
        volume = tmp_path / "volume"
        volume.mkdir()
        shutil.copy(str(make_url(database_url).database), volume / "okr.db")
        url = f"sqlite:///{volume / 'okr.db'}"
        running = Outage(url, make_engine(url), volume=volume)
    else:
        real = make_url(database_url)
        proxy = Proxy(real.host or "127.0.0.1", real.port or 5432).start()
        url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        running = Outage(url, make_engine(database_url), proxy=proxy)
    try:
        yield running
    finally:
        if running.proxy is not None:
            running.proxy.cut()
        for engine in [*running.apps, running.direct]:
            engine.dispose()


def admin_token(engine: Engine) -> str:
    with session_scope(make_session_factory(engine)) as session:
        token, _ = create_token(session, role=Role.admin, name="admin")
        return token


def coach(engine: Engine, now: datetime) -> int:
    with session_scope(make_session_factory(engine)) as session:
        person = Person(name="Coach", roles=["coach"], created_at=now)
        session.add(person)
        session.flush()
        return person.id


def assert_unavailable(response: Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert int(response.headers["retry-after"]) > 0
    problem = response.json()
    assert (problem["status"], problem["type"]) == (503, "/problems/unavailable")


def organization_names(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.scalars(select(Organization.name)))


def test_database_gone_is_503_and_the_service_recovers_by_itself(outage: Outage, clock: Clock) -> None:
    token = admin_token(outage.direct)
    with outage.client(clock) as client:
        before = client.post(ORGS, json={"name": "Before", "headcount": 9}, headers=auth(token))
        assert before.status_code == 201, before.text
        org = before.json()
        outage.cut()
        try:
            assert_unavailable(client.post(ORGS, json={"name": "During", "headcount": 9}, headers=auth(token)))
            assert_unavailable(client.post(ORGS, json={"name": "Keyed", "headcount": 9},
                                           headers=auth(token, **{"Idempotency-Key": "during-the-outage"})))
            assert_unavailable(client.patch(f"{ORGS}/{org['id']}", json={"name": "Renamed"}, headers=auth(token)))
            assert_unavailable(client.get(f"{ORGS}/{org['id']}", headers=auth(token)))
            assert_unavailable(client.get(ORGS, headers=auth(token)))
        finally:
            outage.restore()

        # The same app, untouched: the next requests find the database again.
        assert client.get(f"{ORGS}/{org['id']}", headers=auth(token)).json()["name"] == "Before"
        retried = client.post(ORGS, json={"name": "Keyed", "headcount": 9},
                              headers=auth(token, **{"Idempotency-Key": "during-the-outage"}))
        assert retried.status_code == 201, retried.text  # the key was not left claimed by the failed attempt
        assert "idempotent-replayed" not in retried.headers
        assert client.post(ORGS, json={"name": "After", "headcount": 9}, headers=auth(token)).status_code == 201
    assert organization_names(outage.direct) == ["After", "Before", "Keyed"]
    assert_consistent(snapshot(outage.direct))


@pytest.mark.parametrize("moment", ["INSERT INTO EVENTS", "COMMIT"])
def test_a_write_failing_midway_is_503_and_leaves_nothing(outage: Outage, clock: Clock, moment: str) -> None:
    """Between the row and its event, or at the commit itself: the client is not told it worked, and nothing is
    there. (Before the unit of work committed ahead of the response, a failed commit still answered 201.)"""
    token = admin_token(outage.direct)
    with outage.client(clock) as client:
        outage.fail_at(moment)
        try:
            assert_unavailable(client.post(ORGS, json={"name": "Halfway", "headcount": 9}, headers=auth(token)))
        finally:
            if outage.proxy is not None:
                outage.restore()
        assert client.post(ORGS, json={"name": "Whole", "headcount": 9}, headers=auth(token)).status_code == 201
    assert organization_names(outage.direct) == ["Whole"]
    assert_consistent(snapshot(outage.direct))


def test_an_answer_goes_out_only_once_its_write_and_its_idempotency_record_are_committed(
        database_url: str, engine: Engine, clock: Clock) -> None:
    """Looked at from outside the app at the moment the status line leaves: the organization is committed, and
    the Idempotency-Key is recorded as done, so a retry sent the instant the answer arrives is a replay."""
    token = admin_token(engine)
    seen: list[tuple[list[str], list[str]]] = []
    app = create_app(Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks"), engine=engine,
                     clock=clock, catalog=playbooks_catalog())

    async def outside(scope: Any, receive: Any, send: Any) -> None:
        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start" and scope["path"] == ORGS:
                with engine.connect() as connection:  # another connection: sees only what is committed
                    states = list(connection.scalars(select(IdempotencyRecord.state)))
                seen.append((organization_names(engine), states))
            await send(message)

        await app(scope, receive, watch)

    with TestClient(outside) as client:
        created = client.post(ORGS, json={"name": "Acme", "headcount": 9},
                              headers=auth(token, **{"Idempotency-Key": "first"}))
        assert created.status_code == 201, created.text
        replayed = client.post(ORGS, json={"name": "Acme", "headcount": 9},
                               headers=auth(token, **{"Idempotency-Key": "first"}))
        assert replayed.headers["idempotent-replayed"] == "true"
        assert client.post(ORGS, json={"name": "Beta", "headcount": 9}, headers=auth(token)).status_code == 201
    assert seen == [(["Acme"], ["done"]), (["Acme"], ["done"]), (["Acme", "Beta"], ["done"])]


def test_sqlite_write_lock_held_beyond_the_busy_timeout_is_503_then_recovers(
        sqlite_template: Path, tmp_path: Path, clock: Clock) -> None:
    """Another process holds SQLite's write lock longer than the busy timeout: writers get 503 at once (nothing
    half-done: they never started), readers keep reading, and writes work again as soon as the lock is gone."""
    path = tmp_path / "locked.db"
    shutil.copy(sqlite_template, path)
    outage = Outage(f"sqlite:///{path}", make_engine(f"sqlite:///{path}"))
    token = admin_token(outage.direct)
    try:
        with outage.client(clock) as client:
            org = client.post(ORGS, json={"name": "Before", "headcount": 9}, headers=auth(token)).json()
            engagement = client.post("/api/v1/engagements", headers=auth(token), json={
                "organization_id": org["id"], "coach_ids": [coach(outage.direct, clock())]}).json()
            holder = sqlite3.connect(path, isolation_level=None)
            try:
                holder.execute("BEGIN EXCLUSIVE")
                assert_unavailable(client.post(ORGS, json={"name": "During", "headcount": 9}, headers=auth(token)))
                assert_unavailable(client.post(ORGS, json={"name": "Keyed", "headcount": 9},
                                               headers=auth(token, **{"Idempotency-Key": "locked"})))
                assert_unavailable(client.post(f"/api/v1/engagements/{engagement['id']}/transitions",
                                               json={"trigger": "schedule_executive_meeting"}, headers=auth(token)))
                assert client.get(f"{ORGS}/{org['id']}", headers=auth(token)).status_code == 200
            finally:
                holder.rollback()
                holder.close()
            keyed = client.post(ORGS, json={"name": "Keyed", "headcount": 9},
                                headers=auth(token, **{"Idempotency-Key": "locked"}))
            assert keyed.status_code == 201, keyed.text
            moved = client.post(f"/api/v1/engagements/{engagement['id']}/transitions",
                                json={"trigger": "schedule_executive_meeting"}, headers=auth(token))
            assert moved.status_code == 200, moved.text
            spec = client.get("/openapi.json").json()
            assert "503" in spec["paths"][ORGS]["post"]["responses"]
        assert organization_names(outage.direct) == ["Before", "Keyed"]
        assert_consistent(snapshot(outage.direct))
    finally:
        for engine in [*outage.apps, outage.direct]:
            engine.dispose()


def history(engine: Engine) -> tuple[list[tuple[int, str]], dict[int, str], int]:
    """Events, engagement phases and the number of tasks: equal before and after means nothing was written."""
    state = snapshot(engine)
    return [(e.id, e.type) for e in state.events], state.engagements, len(state.tasks)


@pytest.mark.parametrize("database_url", [b for b in BACKENDS if b == "postgresql"], indirect=True)
@pytest.mark.parametrize(("lock_timeout_ms", "statement_timeout_ms", "sqlstate"), [
    pytest.param(200, 0, "55P03", id="lock_timeout"),  # LockNotAvailable
    pytest.param(0, 1_000, "57014", id="statement_timeout"),  # QueryCanceled
])
def test_postgres_row_lock_held_beyond_the_timeout_is_503_then_recovers(
        database_url: str, clock: Clock, lock_timeout_ms: int, statement_timeout_ms: int, sqlstate: str) -> None:
    """Another connection holds an engagement's row lock (SELECT ... FOR UPDATE in an open transaction) longer
    than the configured lock timeout, or statement timeout: a transition gives up instead of waiting forever,
    503 problem+json with Retry-After, nothing written, the Idempotency-Key left free; reads go on; once the lock
    is released the same app moves the engagement (the PostgreSQL twin of the SQLite busy-timeout test)."""
    direct = make_engine(database_url)
    token = admin_token(direct)
    settings = Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks",
                        postgres_lock_timeout_ms=lock_timeout_ms, postgres_statement_timeout_ms=statement_timeout_ms)
    app = create_app(settings, clock=clock)  # its engine made from the settings, timeouts and all
    failures: list[str | None] = []
    event.listen(app.state.engine, "handle_error",
                 lambda context: failures.append(getattr(context.original_exception, "sqlstate", None)))
    try:
        with app.state.engine.connect() as connection:
            assert (connection.exec_driver_sql("SHOW lock_timeout").scalar(),
                    connection.exec_driver_sql("SHOW statement_timeout").scalar()) == (
                f"{lock_timeout_ms}ms" if lock_timeout_ms else "0",
                f"{statement_timeout_ms // 1000}s" if statement_timeout_ms else "0")
        with TestClient(app) as client:
            org = client.post(ORGS, json={"name": "Acme", "headcount": 9}, headers=auth(token)).json()
            engagement = client.post("/api/v1/engagements", headers=auth(token), json={
                "organization_id": org["id"], "coach_ids": [coach(direct, clock())]}).json()
            moves = f"/api/v1/engagements/{engagement['id']}/transitions"
            move = {"trigger": "schedule_executive_meeting"}
            before = history(direct)
            with direct.connect() as holder:
                # Should the app wait forever after all, the server ends the holder after a minute: the test
                # then fails on the transition's answer instead of hanging.
                holder.exec_driver_sql("SET LOCAL idle_in_transaction_session_timeout = '60s'")
                holder.execute(select(Engagement.id).where(Engagement.id == engagement["id"]).with_for_update())
                try:
                    assert_unavailable(client.post(moves, json=move, headers=auth(token)))
                    assert_unavailable(client.post(moves, json=move, headers=auth(token, **{"Idempotency-Key": "m"})))
                    read = client.get(f"/api/v1/engagements/{engagement['id']}", headers=auth(token))
                    assert (read.status_code, read.json()["phase"]) == (200, engagement["phase"]), read.text
                finally:
                    holder.rollback()
            assert failures == [sqlstate, sqlstate]
            assert history(direct) == before
            with direct.connect() as connection:
                assert list(connection.scalars(select(IdempotencyRecord.state))) == []  # the key is free

            moved = client.post(moves, json=move, headers=auth(token, **{"Idempotency-Key": "m"}))
            assert moved.status_code == 200, moved.text
            assert "idempotent-replayed" not in moved.headers
            assert client.post(moves, json=move, headers=auth(token, **{"Idempotency-Key": "m"})).content == \
                moved.content
        assert len(snapshot(direct).transitions(engagement["id"])) == 1
        assert_consistent(snapshot(direct))
    finally:
        app.state.engine.dispose()
        direct.dispose()
