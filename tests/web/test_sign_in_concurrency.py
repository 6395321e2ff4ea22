"""Sign-ins under concurrency: a flood of them never holds SQLite's write lock while argon2 runs (so other people's
writes go on), and simultaneous guesses at one account are checked no more often than its throttle allows."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from okr_rollout.app import create_app
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_engine
from okr_rollout.settings import Settings, get_settings
from okr_rollout.users import service as users_service
from tests.conftest import ROOT, Clock
from tests.web._seed import World
from tests.web.conftest import csrf_of, sign_in

COST_SETTINGS = ("OKR_ROLLOUT_PASSWORD_HASH_TIME_COST", "OKR_ROLLOUT_PASSWORD_HASH_MEMORY_KIB",
                 "OKR_ROLLOUT_PASSWORD_HASH_PARALLELISM", "OKR_ROLLOUT_PASSWORD_CHECK_NICE")
LOCK_WAIT_MS = Settings.model_fields["sqlite_busy_timeout_ms"].default  # a write's wait for the lock before a 503


def _clear_hasher_caches() -> None:
    if users_service._password_checks.cache_info().currsize:
        users_service._password_checks().shutdown(wait=True)
    users_service._password_checks.cache_clear()
    get_settings.cache_clear()
    users_service._password_hasher.cache_clear()
    users_service._dummy_hash.cache_clear()


@pytest.fixture
def production_cost_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """argon2id at the cost a deployment uses (the settings' defaults), not the tests' cheap one."""
    for name in COST_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    _clear_hasher_caches()
    yield
    monkeypatch.undo()
    _clear_hasher_caches()


@pytest.fixture
def wide_engine(database_url: str) -> Iterator[Engine]:
    """An engine with a connection for every concurrent client, so that none waits for the pool instead."""
    engine = make_engine(database_url, sqlite_busy_timeout_ms=LOCK_WAIT_MS, pool_size=40, max_overflow=0)
    yield engine
    engine.dispose()


def _client(engine: Engine, database_url: str, clock: Clock, catalog: Catalog, address: str,
            **settings: Any) -> TestClient:
    app = create_app(Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks", **settings),
                     engine=engine, clock=clock, catalog=catalog)
    return TestClient(app, raise_server_exceptions=True, follow_redirects=False, client=(address, 50000))


def _first_checklist_item(web: TestClient, world: World) -> str:
    html = web.get(f"/engagements/{world.formosa}").text
    start = html.index(f'action="/engagements/{world.formosa}/tasks/')
    return html[start + len('action="'):html.index('"', start + len('action="'))]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sign_in_flood_leaves_the_write_lock_free_for_a_coachs_writes(
        wide_engine: Engine, database_url: str, world: World, clock: Clock, catalog: Catalog,
        production_cost_hashing: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """16 clients posting unknown addresses while a signed-in coach ticks checklist items. Before, every POST
    began with BEGIN IMMEDIATE and argon2 (about a second under load) ran inside it: the coach's writes queued
    behind the flood and answered 503. Each time the password hasher runs, a probe takes SQLite's write lock on
    a connection of its own: it must get it (waiting no longer than a write of the app would)."""
    database = database_url.removeprefix("sqlite:///")
    verify = users_service.verify_password
    lock_free: list[bool] = []
    enough = threading.Event()

    def probed_verify(password_hash: str, password: str) -> bool:
        probe = sqlite3.connect(database, timeout=LOCK_WAIT_MS / 1000, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            lock_free.append(True)
        except sqlite3.OperationalError:
            lock_free.append(False)
        finally:
            probe.close()
        if len(lock_free) >= 16:
            enough.set()
        return verify(password_hash, password)

    settings = {"web_sign_in_client_failures": 100_000}
    coach = _client(wide_engine, database_url, clock, catalog, "198.51.100.7", **settings)
    token = sign_in(coach, "chen@example.com")
    item = _first_checklist_item(coach, world)
    monkeypatch.setattr(users_service, "verify_password", probed_verify)

    stop = threading.Event()
    flood_statuses: list[int] = []

    # Apps are built here, one at a time: building FastAPI's models is not safe in several threads at once.
    flooders = [_client(wide_engine, database_url, clock, catalog, f"203.0.113.{number}", **settings)
                for number in range(16)]
    forms = [csrf_of(client.get("/sign-in").text) for client in flooders]

    def flood(number: int) -> None:
        client, csrf = flooders[number], forms[number]
        attempt = 0
        while not stop.is_set():
            attempt += 1
            response = client.post("/sign-in", data={"email": f"nobody{number}.{attempt}@example.com",
                                                     "password": "guess", "csrf_token": csrf})
            flood_statuses.append(response.status_code)

    threads = [threading.Thread(target=flood, args=(number,)) for number in range(16)]
    for thread in threads:
        thread.start()
    try:
        assert enough.wait(timeout=300), "the flood never got going"
        written = [coach.post(item, data={"checked": str(n % 2), "csrf_token": token}).status_code
                   for n in range(1, 6)]
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert written == [303] * 5
    assert set(flood_statuses) == {401}
    assert len(lock_free) >= 16 and all(lock_free), f"{lock_free.count(False)} checks ran holding the lock"


def test_simultaneous_guesses_at_one_account_are_checked_no_more_often_than_allowed(
        wide_engine: Engine, database_url: str, world: World, clock: Clock, catalog: Catalog,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """30 wrong passwords for one account at once, 5 allowed. Before, each read the failures so far and then
    checked: on PostgreSQL 18 to 30 were checked. Each guess that reaches the hasher waits there until every
    other guess has been checked or refused, so that all of them overlap."""
    verify = users_service.verify_password
    guard = threading.Lock()
    counted = {"checked": 0, "refused": 0}
    everyone_in = threading.Event()

    def note(outcome: str) -> None:
        with guard:
            counted[outcome] += 1
            if counted["checked"] + counted["refused"] == 30:
                everyone_in.set()

    def gated_verify(password_hash: str, password: str) -> bool:
        note("checked")
        everyone_in.wait(timeout=5)
        return verify(password_hash, password)

    monkeypatch.setattr(users_service, "verify_password", gated_verify)
    clients = [_client(wide_engine, database_url, clock, catalog, f"203.0.113.{n}", web_sign_in_account_failures=5)
               for n in range(30)]
    tokens = [csrf_of(client.get("/sign-in").text) for client in clients]
    start = threading.Barrier(30)
    statuses: list[int] = []

    def guess(client: TestClient, token: str) -> None:
        start.wait()
        status = client.post("/sign-in", data={"email": "chen@example.com", "password": "guess",
                                               "csrf_token": token}).status_code
        statuses.append(status)
        if status == 429:
            note("refused")

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counted["checked"] == 5
    assert sorted(statuses) == [401] * 5 + [429] * 25



@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="CPU priorities are a POSIX notion")
def test_passwords_are_checked_one_at_a_time_on_threads_that_yield_the_cpu(
        monkeypatch: pytest.MonkeyPatch, production_cost_hashing: None) -> None:
    """argon2 is slow on purpose: a flood of sign-ins must not take the CPU from the requests beside it."""
    checking: list[int] = []
    most_at_once = 0
    priorities: set[int] = set()
    guard = threading.Lock()

    def verify(password_hash: str, password: str) -> bool:
        nonlocal most_at_once
        with guard:
            checking.append(1)
            most_at_once = max(most_at_once, len(checking))
            priorities.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        with guard:
            checking.pop()
        return False

    monkeypatch.setattr(users_service, "verify_password", verify)
    caller_priority = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    attempt = users_service.SignInAttempt(address="nobody@example.com", client="203.0.113.7", user=None, device=None)
    verdicts: list[users_service.Verdict] = []
    threads = [threading.Thread(target=lambda: verdicts.append(users_service.check_password(attempt, "guess")))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [verdict.user for verdict in verdicts] == [None] * 8
    assert most_at_once <= get_settings().password_check_workers
    # The check's thread runs at Linux's lowest priority (nice 19); the request's own thread keeps its priority.
    assert priorities == {19}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == caller_priority


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="CPU priorities are a POSIX notion")
def test_a_deployment_may_keep_the_password_checks_at_the_process_priority(
        monkeypatch: pytest.MonkeyPatch, production_cost_hashing: None) -> None:
    """``OKR_ROLLOUT_PASSWORD_CHECK_NICE=0``: a machine of its own need not starve its sign-ins behind other work."""
    monkeypatch.setenv("OKR_ROLLOUT_PASSWORD_CHECK_NICE", "0")
    _clear_hasher_caches()
    seen: list[int] = []

    def verify(password_hash: str, password: str) -> bool:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return False

    monkeypatch.setattr(users_service, "verify_password", verify)
    attempt = users_service.SignInAttempt(address="nobody@example.com", client="203.0.113.7", user=None, device=None)
    users_service.check_password(attempt, "guess")
    assert seen == [os.getpriority(os.PRIO_PROCESS, 0)]
