"""GET /api/v1/portfolio: the rows of the portfolio page as JSON, for whoever may see them, a page at a time,
filtered and sorted as on the page, in a fixed number of statements whatever the number of engagements."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from okr_rollout.app import create_app
from okr_rollout.models import User
from okr_rollout.settings import Settings
from tests.api._helpers import assert_problem, error_fields
from tests.conftest import ROOT, Clock, Tokens, auth
from tests.versions._seed import engagement_in, finish_task, tasks_by_key
from tests.web._seed import password_hash
from tests.web.conftest import sign_in

COACH_EMAIL = "coach@example.com"
ADMIN_EMAIL = "admin@example.com"
ROW = re.compile(r'<tr class="[^"]*" data-engagement="(\d+)">')
SORTS = ("health", "organization", "phase", "days", "gate", "overdue", "due", "activity")


@pytest.fixture
def client(engine: Engine, database_url: str, clock: Clock, tokens: Tokens, db: Callable[[], Session]
           ) -> Iterator[TestClient]:
    """The app with its pages; the API's coach and an administrator also sign in to the pages."""
    with db() as session:
        session.add_all([
            User(email=COACH_EMAIL, password_hash=password_hash(), role="coach", person_id=tokens.coach_person_id,
                 created_at=clock.now),
            User(email=ADMIN_EMAIL, password_hash=password_hash(), role="admin", created_at=clock.now)])
    app = create_app(Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks"), engine=engine,
                     clock=clock)
    with TestClient(app, raise_server_exceptions=True, follow_redirects=False) as test_client:
        yield test_client


@dataclass(frozen=True)
class Portfolio:
    mine: list[int]  # coached by the API's coach
    others: list[int]  # coached by the other coach


def seed(client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock) -> Portfolio:
    """Five engagements in three phases, entered on different days; two of them coached by the other coach."""
    mine, others = [], []
    for phase, days_ago, coach in (("kickoff", 0, tokens.coach_person_id),
                                   ("coach_engaged", 3, tokens.coach_person_id),
                                   ("pilot_drafting", 1, tokens.coach_person_id),
                                   ("kickoff", 2, tokens.other_coach_person_id),
                                   ("coach_engaged", 5, tokens.other_coach_person_id)):
        clock.advance(days=-days_ago)
        engagement_id = engagement_in(client, tokens, db, phase, clock.now, coach_ids=[coach], version=3)
        clock.advance(days=days_ago)
        (mine if coach == tokens.coach_person_id else others).append(engagement_id)
    return Portfolio(mine, others)


def api_rows(client: TestClient, token: str, **query: Any) -> dict[str, Any]:
    response = client.get("/api/v1/portfolio", params=query, headers=auth(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def page_rows(client: TestClient, **query: Any) -> list[int]:
    response = client.get("/portfolio", params=query)
    assert response.status_code == 200, response.text
    return [int(engagement_id) for engagement_id in ROW.findall(response.text)]


def every_row(client: TestClient, token: str, limit: int, **query: Any) -> list[dict[str, Any]]:
    """Walk every page, checking each tells the same total."""
    rows: list[dict[str, Any]] = []
    cursor = None
    totals = set()
    for _ in range(50):
        body = api_rows(client, token, limit=limit, **query, **({"cursor": cursor} if cursor else {}))
        assert len(body["items"]) <= limit
        rows += body["items"]
        totals.add(body["total"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert totals == {len(rows)}
    return rows


@pytest.mark.parametrize(("email", "token_of"), [(ADMIN_EMAIL, lambda t: t.admin), (COACH_EMAIL, lambda t: t.coach)])
def test_the_api_shows_the_rows_of_the_page_to_each_caller(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock, email: str,
        token_of: Callable[[Tokens], str]) -> None:
    world = seed(client, tokens, db, clock)
    token = token_of(tokens)
    sign_in(client, email)
    expected = sorted(world.mine + world.others) if email == ADMIN_EMAIL else sorted(world.mine)
    for query in [{}, *({"sort": sort, "order": order} for sort in SORTS for order in ("asc", "desc")),
                  {"phase": "kickoff"}, {"phase": "coach_engaged", "sort": "days", "order": "desc"},
                  {"attention": "true"}]:
        shown = page_rows(client, **query)
        assert [row["engagement_id"] for row in every_row(client, token, 2, **query)] == shown, query
        assert [row["engagement_id"] for row in api_rows(client, token, **query)["items"]] == shown, query
    assert sorted(page_rows(client)) == expected  # the coach sees their own engagements only


def test_a_row_says_what_the_page_says(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock) -> None:
    world = seed(client, tokens, db, clock)
    drafting = world.mine[2]
    clock.advance(days=16)  # introduce_okr_software (due 14 days after the phase began) is overdue
    finish_task(client, tokens.coach, tasks_by_key(db, drafting)[("pilot_drafting", "form_drafting_groups")].id)
    rows = {row["engagement_id"]: row for row in api_rows(client, tokens.coach)["items"]}
    row = rows[drafting]
    assert (row["phase"], row["phase_title"]["en"], row["days_in_phase"]) == (
        "pilot_drafting", "Pilot drafting meetings", 17)
    open_tasks = client.get(f"/api/v1/engagements/{drafting}", headers=auth(tokens.coach)).json()["open_tasks"]
    due = [datetime.fromisoformat(t["due_at"]) for t in open_tasks]
    assert row["overdue_tasks"] == sum(1 for at in due if at < clock.now) > 0
    assert datetime.fromisoformat(row["next_due_at"]) == min(due)
    assert row["attention"] == ["overdue"]  # the task just done is recent activity
    step = row["next_step"]
    assert step["trigger"] and step["destination"] and step["total"] >= step["passed"] >= 0

    sign_in(client, COACH_EMAIL)
    page = client.get("/portfolio").text
    line = page[page.index(f'data-engagement="{drafting}"'):]
    line = line[:line.index("</tr>")]
    assert f'{step["passed"]} / {step["total"]}' in line and "Pilot drafting meetings" in line


def test_pages_of_the_portfolio_follow_the_cursor(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock) -> None:
    world = seed(client, tokens, db, clock)
    everything = api_rows(client, tokens.admin, limit=500)
    assert everything["total"] == 5 and everything["next_cursor"] is None
    first = api_rows(client, tokens.admin, limit=2, sort="days", order="desc")
    assert len(first["items"]) == 2 and first["total"] == 5 and first["next_cursor"]
    walked = every_row(client, tokens.admin, 2, sort="days", order="desc")
    assert [r["days_in_phase"] for r in walked] == [5, 3, 2, 1, 0]
    assert sorted(r["engagement_id"] for r in walked) == sorted(world.mine + world.others)

    # A cursor belongs to its sort and order; one that was never given out is refused.
    other_sort = client.get("/api/v1/portfolio", params={"cursor": first["next_cursor"], "sort": "days"},
                            headers=auth(tokens.admin))
    assert "sort=days&order=desc" in assert_problem(other_sort, 400)["detail"]
    assert_problem(client.get("/api/v1/portfolio?cursor=bm90LWEtY3Vyc29y", headers=auth(tokens.admin)), 400)


def test_filters_and_sorts(client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock) -> None:
    world = seed(client, tokens, db, clock)
    kickoff = api_rows(client, tokens.admin, phase="kickoff")
    assert kickoff["total"] == 2 and {r["phase"] for r in kickoff["items"]} == {"kickoff"}
    assert api_rows(client, tokens.coach, phase="kickoff")["total"] == 1
    assert api_rows(client, tokens.admin, phase="nowhere") == {"items": [], "next_cursor": None, "total": 0}
    assert api_rows(client, tokens.admin, attention="true")["total"] == 0
    clock.advance(days=30)  # every first task is overdue and nothing happened for a month
    flagged = api_rows(client, tokens.admin, attention="true")
    assert flagged["total"] == 5 and all(set(r["attention"]) == {"overdue", "idle"} for r in flagged["items"])

    by_phase = [r["phase"] for r in api_rows(client, tokens.admin, sort="phase")["items"]]
    assert by_phase == ["coach_engaged", "coach_engaged", "kickoff", "kickoff", "pilot_drafting"]
    names = [r["organization"].lower() for r in api_rows(client, tokens.admin, order="desc")["items"]]
    assert names == sorted(names, reverse=True)
    assert len({r["engagement_id"] for r in api_rows(client, tokens.coach, sort="due")["items"]}) == len(world.mine)


def test_bad_parameters_are_problems_naming_the_parameter(client: TestClient, tokens: Tokens) -> None:
    for query, field in (("sort=size", "query.sort"), ("order=up", "query.order"), ("limit=0", "query.limit"),
                         ("attention=maybe", "query.attention")):
        problem = assert_problem(client.get(f"/api/v1/portfolio?{query}", headers=auth(tokens.admin)), 422)
        assert error_fields(problem) == [field], query
    assert_problem(client.get("/api/v1/portfolio"), 401)


def test_the_portfolio_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/portfolio"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) >= {"limit", "cursor", "phase", "attention", "sort", "order"}
    assert parameters["sort"]["schema"]["enum"] == list(SORTS)
    assert {"200", "401", "422"} <= set(operation["responses"])


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """Every statement SQLAlchemy sends; on SQLite also those run on the driver's own cursor (the facts)."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append(statement)

    def trace(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        dbapi_connection.set_trace_callback(lambda sql: statements.append(f"sqlite3: {sql}"))

    def untrace(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.set_trace_callback(None)

    sqlite = engine.dialect.name == "sqlite"
    event.listen(engine, "before_cursor_execute", count)
    if sqlite:
        event.listen(engine, "checkout", trace)
        event.listen(engine, "checkin", untrace)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
        if sqlite:
            event.remove(engine, "checkout", trace)
            event.remove(engine, "checkin", untrace)


def test_a_fixed_number_of_statements_whatever_the_number_of_engagements(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock, engine: Engine) -> None:
    counts = []
    for _ in range(2):  # five engagements, then ten
        seed(client, tokens, db, clock)
        for query in ({}, {"sort": "gate"}, {"limit": 2}):
            with counting(engine) as statements:
                api_rows(client, tokens.admin, **query)
            counts.append((tuple(sorted(query)), len(statements)))
    assert counts[:3] == counts[3:]
