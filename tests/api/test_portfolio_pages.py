"""The portfolio page comes a page at a time, in the order the API gives, and sorts gates by the kept readiness."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from okr_rollout.app import create_app
from okr_rollout.catalog.service import Catalog
from okr_rollout.models import User
from okr_rollout.scheduler import Scheduler
from okr_rollout.settings import Settings
from tests.api._records import create
from tests.api.test_portfolio import ADMIN_EMAIL, ROW, api_rows, counting, every_row, seed
from tests.conftest import ROOT, Clock, Tokens
from tests.web._seed import password_hash
from tests.web.conftest import sign_in

NEXT = re.compile(r'<a rel="next" href="([^"]+)">')


@pytest.fixture
def client(engine: Engine, database_url: str, clock: Clock, tokens: Tokens, db: Callable[[], Session]
           ) -> Iterator[TestClient]:
    """The app with pages of two rows; an administrator signs in to the pages."""
    with db() as session:
        session.add(User(email=ADMIN_EMAIL, password_hash=password_hash(), role="admin", created_at=clock.now))
    settings = Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks", page_size_default=2)
    app = create_app(settings, engine=engine, clock=clock)
    with TestClient(app, raise_server_exceptions=True, follow_redirects=False) as test_client:
        yield test_client


def walk_pages(client: TestClient, url: str) -> list[list[int]]:
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        pages.append([int(found) for found in ROW.findall(response.text)])
        following = NEXT.search(response.text)
        url = html.unescape(following.group(1)) if following else ""
        assert len(pages) < 10
    return pages


def test_the_portfolio_page_goes_a_page_at_a_time_in_the_api_order(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock) -> None:
    seed(client, tokens, db, clock)
    sign_in(client, ADMIN_EMAIL)
    for query in ("", "?sort=days&order=desc", "?sort=phase", "?phase=kickoff"):
        pages = walk_pages(client, f"/portfolio{query}")
        assert all(len(rows) <= 2 for rows in pages)
        params = dict(part.split("=") for part in query.lstrip("?").split("&") if part)
        assert [row for rows in pages for row in rows] == [
            r["engagement_id"] for r in every_row(client, tokens.admin, 2, **params)], query
    assert len(walk_pages(client, "/portfolio")) == 3  # five engagements, two a page
    # A cursor this page did not give out starts again from the first page.
    refused = client.get("/portfolio?sort=days&cursor=bm90LWEtY3Vyc29y")
    assert refused.status_code == 303 and "cursor" not in refused.headers["location"]


def test_the_gate_sort_follows_the_kept_readiness(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock, engine: Engine,
        database_url: str, catalog: Catalog) -> None:
    world = seed(client, tokens, db, clock)
    scheduler = Scheduler(Settings(database_url=database_url), engine, catalog, clock)
    try:
        scheduler.readiness_tick()
    finally:
        scheduler.leadership.release()
    rows = every_row(client, tokens.admin, 2, sort="gate")
    shares = [r["next_step"]["passed"] / r["next_step"]["total"] if r["next_step"] and r["next_step"]["total"]
              else 1.0 for r in rows]
    assert shares == sorted(shares) and len(rows) == 5
    assert [r["engagement_id"] for r in api_rows(client, tokens.admin, sort="gate", order="desc")["items"]] == [
        r["engagement_id"] for r in every_row(client, tokens.admin, 2, sort="gate", order="desc")]
    # Kept readiness is read, not computed again: a page reads no engagement's facts.
    with counting(engine) as statements:
        kept = api_rows(client, tokens.admin, limit=50)["items"]
    assert not [s for s in statements if "ceo_support_statements" in s or "training_sessions" in s]

    # A row written to since the last tick shows its gate as it is now: that row alone is evaluated on reading,
    # until the scheduler's next tick keeps it again.
    create(client, tokens.coach, world.mine[1], "ceo-support",
           {"level": "full", "stated_on": clock.now.date().isoformat()})
    with counting(engine) as statements:
        api_rows(client, tokens.admin, limit=50)
    facts_read = [s for s in statements if "ceo_support_statements" in s]
    assert facts_read and all("IN" in s.upper() for s in facts_read)
    scheduler = Scheduler(Settings(database_url=database_url), engine, catalog, clock)
    try:
        assert scheduler.readiness_tick().evaluated == 1
    finally:
        scheduler.leadership.release()
    with counting(engine) as statements:
        again = api_rows(client, tokens.admin, limit=50)["items"]
    assert [r["next_step"] for r in again] == [r["next_step"] for r in kept]
    assert not [s for s in statements if "ceo_support_statements" in s]


def test_the_readiness_page_goes_a_page_at_a_time(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock) -> None:
    world = seed(client, tokens, db, clock)
    sign_in(client, ADMIN_EMAIL)
    section = re.compile(r'<section class="panel" data-engagement="(\d+)">')
    shown: list[int] = []
    for offset in (0, 2, 4):
        response = client.get(f"/readiness?from={offset}" if offset else "/readiness")
        assert response.status_code == 200, response.text
        found = [int(e) for e in section.findall(response.text)]
        assert len(found) == (2 if offset < 4 else 1)
        assert ('rel="next"' in response.text) == (offset < 4)
        shown += found
    assert sorted(shown) == sorted(world.mine + world.others)
