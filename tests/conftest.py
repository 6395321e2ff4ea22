"""Shared fixtures: a migrated database per test (SQLite always; PostgreSQL when configured), an app, tokens."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from okr_rollout.app import create_app
from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import Base, make_engine, make_session_factory, session_scope
from okr_rollout.models import Person
from okr_rollout.playbooks import PlaybookRegistry
from okr_rollout.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("OKR_ROLLOUT_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])

# argon2 at production cost spends ~0.1 s of CPU on every hash; the tests check what is hashed and verified,
# not how hard it is to guess. Set before any settings are read, so that it holds in this process and in the
# `okr-rollout` processes the tests start (they inherit the environment); a test may still set its own.
os.environ.setdefault("OKR_ROLLOUT_PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("OKR_ROLLOUT_PASSWORD_HASH_MEMORY_KIB", "8")
os.environ.setdefault("OKR_ROLLOUT_PASSWORD_HASH_PARALLELISM", "1")
# Password checks at the lowest CPU priority (a deployment's default) stall every sign-in of a test while the other
# test workers keep the cores busy; the tests of that priority set it back themselves.
os.environ.setdefault("OKR_ROLLOUT_PASSWORD_CHECK_NICE", "0")


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@cache
def playbooks_catalog() -> Catalog:
    """The playbooks of ``playbooks/``, parsed once per test process: parsing them is about half a second of
    CPU, most of what building an app costs. Shared safely: a catalog only ever adds snapshots keyed by the hash
    of their text. Tests that edit playbook files build their own."""
    return Catalog(PlaybookRegistry.from_directory(ROOT / "playbooks"))


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return playbooks_catalog()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    command.upgrade(alembic_config(f"sqlite:///{path}"), "head")
    return path


def _admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    if not POSTGRES_URL:
        yield None
        return
    name = f"okr_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_admin_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    command.upgrade(alembic_config(url), "head")
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def separate_database(backend: str, sqlite_template: Path, directory: Path) -> Iterator[str]:
    """A migrated database of its own, beside the per-test one: for a fixture that several tests only read."""
    if backend == "sqlite":
        path = directory / f"separate-{uuid.uuid4().hex[:10]}.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    assert POSTGRES_URL is not None
    name = f"okr_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_admin_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        command.upgrade(alembic_config(url), "head")
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, sqlite_template: Path, postgres_url: str | None, tmp_path: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    assert postgres_url is not None
    yield postgres_url
    empty_postgres_database(postgres_url)


def empty_postgres_database(url: str) -> None:
    """Every row deleted and every sequence back at its start, as TRUNCATE ... RESTART IDENTITY would leave them.
    DELETE rather than TRUNCATE: TRUNCATE gives each of the ~50 tables and their indexes new files, about 0.3 s
    after every PostgreSQL test, while deleting the few rows a test writes takes milliseconds. Children first
    (the models' dependency order), then any table the models do not know."""
    known = [table.name for table in reversed(Base.metadata.sorted_tables)]
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        present = {row[0] for row in connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"))}
        for table in [name for name in known if name in present] + sorted(present - set(known)):
            connection.execute(text(f'DELETE FROM "{table}"'))
        connection.execute(text("SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, "
                                "false) FROM pg_sequences WHERE schemaname = 'public'"))
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


@pytest.fixture
def app_client(engine: Engine, database_url: str, clock: Clock, catalog: Catalog) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks")
    app = create_app(settings, engine=engine, clock=clock, catalog=catalog)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


@pytest.fixture
def db(engine: Engine) -> Callable[[], Session]:
    """Open a unit of work on the test database: ``with db() as session: ...`` commits at the end."""
    factory = make_session_factory(engine)
    return lambda: session_scope(factory)  # type: ignore[return-value]


@dataclass
class Tokens:
    admin: str
    integration: str
    integration_transitions: str
    coach: str
    coach_person_id: int
    other_coach: str
    other_coach_person_id: int


@pytest.fixture
def tokens(engine: Engine) -> Tokens:
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        coach = Person(name="Coach Chen", roles=["coach"], created_at=datetime.now(UTC))
        other = Person(name="Coach Lin", roles=["coach"], created_at=datetime.now(UTC))
        session.add_all([coach, other])
        session.flush()
        admin, _ = create_token(session, role=Role.admin, name="admin")
        integration, _ = create_token(session, role=Role.integration, name="crm")
        integration_t, _ = create_token(session, role=Role.integration, name="crm-t", scopes=["transitions"])
        coach_token, _ = create_token(session, role=Role.coach, person_id=coach.id)
        other_token, _ = create_token(session, role=Role.coach, person_id=other.id)
        return Tokens(admin, integration, integration_t, coach_token, coach.id, other_token, other.id)


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}
