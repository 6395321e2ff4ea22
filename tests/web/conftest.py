"""The pages on the test database: an app with the pages installed, a seeded world, a signed-in client."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from okr_rollout.app import create_app
from okr_rollout.catalog.service import Catalog
from okr_rollout.settings import Settings
from tests.conftest import ROOT, Clock
from tests.web._seed import PASSWORD, World, seed

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(engine: Engine, clock: Clock) -> World:
    return seed(engine, clock.now)


@pytest.fixture
def web(engine: Engine, database_url: str, clock: Clock, catalog: Catalog) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks")
    app = create_app(settings, engine=engine, clock=clock, catalog=catalog)
    with TestClient(app, raise_server_exceptions=True, follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in; returns the CSRF token of the session's pages."""
    token = csrf_of(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text
    return csrf_of(client.get(response.headers["location"], follow_redirects=True).text)
