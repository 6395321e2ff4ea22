"""Playbook directories with standard v1 (the main directory) and v2 (the extra directory), and an app on them.

The files are copies in a temporary directory, so a test may edit or delete v1 and "restart" the app.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from okr_rollout.app import create_app
from okr_rollout.settings import Settings
from tests.conftest import Clock

FIXTURES = Path(__file__).resolve().parent / "playbooks" / "standard"
MIGRATIONS_PATH = "/api/v1/engagements/{engagement_id}/migrations"


@dataclass(frozen=True)
class Dirs:
    main: Path
    extra: Path

    @property
    def v1(self) -> Path:
        return self.main / "standard.yaml"

    @property
    def v2(self) -> Path:
        return self.extra / "standard" / "v2.yaml"


@pytest.fixture
def dirs(tmp_path: Path) -> Dirs:
    main, extra = tmp_path / "playbooks", tmp_path / "extra"
    (extra / "standard").mkdir(parents=True)
    main.mkdir()
    shutil.copy(FIXTURES / "v1.yaml", main / "standard.yaml")
    shutil.copy(FIXTURES / "v2.yaml", extra / "standard" / "v2.yaml")
    return Dirs(main, extra)


def settings_for(database_url: str, dirs: Dirs) -> Settings:
    return Settings(database_url=database_url, playbooks_dir=dirs.main, playbooks_extra_dir=dirs.extra)


def start_app(settings: Settings, engine: Engine, clock: Clock) -> FastAPI:
    """The app as `okr-rollout serve` starts it: both playbook directories, the pin check, the migrations API."""
    return create_app(settings, engine=engine, clock=clock)


@pytest.fixture
def restart(engine: Engine, database_url: str, clock: Clock, dirs: Dirs) -> Iterator[Callable[[], TestClient]]:
    """Start (or start again, after the files changed) the app on the test database; returns its client."""
    clients: list[TestClient] = []

    def start() -> TestClient:
        client = TestClient(start_app(settings_for(database_url, dirs), engine, clock), raise_server_exceptions=True)
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(restart: Callable[[], TestClient]) -> TestClient:
    return restart()
