"""GET /api/v1/me/notifications shows the caller's own inbox only, newest first, paginated, with an unread filter;
POST .../{id}/read marks one read."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.settings import Settings
from tests.conftest import Clock, Tokens, auth
from tests.notifications._seed import Seeded, catalog_of, local, notifications, playbook, run, seed

INBOX = "/api/v1/me/notifications"


def two_weeks_of_reminders(engine: Engine) -> tuple[Seeded, dict[str, str]]:
    """Bo never checks in, so Ivy (internal coach) is told on Thursdays 8 and 15 January; tokens for Ivy and Chen."""
    catalog = catalog_of(playbook())
    seeded = seed(engine, catalog)
    factory = make_session_factory(engine)
    for day in range(5, 17):
        run(factory, catalog, Settings(database_url="sqlite://"), local(date(2026, 1, day), 12))
    with session_scope(factory) as session:
        ivy, _ = create_token(session, role=Role.internal_coach, person_id=seeded.people["Ivy"])
        chen, _ = create_token(session, role=Role.coach, person_id=seeded.people["Chen"])
    return seeded, {"Ivy": ivy, "Chen": chen}


def test_the_inbox_shows_only_ones_own_notifications_newest_first(
    app_client: TestClient, engine: Engine, tokens: Tokens
) -> None:
    client = app_client
    seeded, token = two_weeks_of_reminders(engine)

    response = client.get(INBOX, headers=auth(token["Ivy"]))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["occurrence"] for item in items] == ["2026-01-12:internal_coach", "2026-01-05:internal_coach"]
    assert {item["cadence_id"] for item in items} == {"check_in_escalation"}
    assert [item["step"] for item in items] == ["internal_coach", "internal_coach"]
    assert all("Bo" in item["body"] and item["unread"] and item["locale"] == "en" for item in items)
    assert items[0]["due_at"] == "2026-01-15T01:00:00Z"  # Thursday 09:00 in Taipei, answered in UTC
    own = {n.id for n in notifications(engine, person_id=seeded.people["Ivy"])}
    assert {item["id"] for item in items} == own

    assert client.get(INBOX, headers=auth(token["Chen"])).json() == {"items": [], "next_cursor": None}
    assert client.get(INBOX, headers=auth(tokens.admin)).json() == {"items": [], "next_cursor": None}  # no person
    assert client.get(INBOX).status_code == 401


def test_pages_and_the_unread_filter(app_client: TestClient, engine: Engine, tokens: Tokens, clock: Clock) -> None:
    client = app_client
    _, token = two_weeks_of_reminders(engine)
    headers = auth(token["Ivy"])

    first = client.get(INBOX, params={"limit": 1}, headers=headers).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = client.get(INBOX, params={"limit": 1, "cursor": first["next_cursor"]}, headers=headers).json()
    assert second["next_cursor"] is None
    assert second["items"][0]["id"] < first["items"][0]["id"]

    newest = first["items"][0]["id"]
    read = client.post(f"{INBOX}/{newest}/read", headers=headers)
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] is not None and read.json()["unread"] is False
    clock.advance(hours=1)
    again = client.post(f"{INBOX}/{newest}/read", headers=headers).json()
    assert again["read_at"] == read.json()["read_at"]  # the first read time stays

    unread = client.get(INBOX, params={"unread": "true"}, headers=headers).json()["items"]
    assert [item["id"] for item in unread] == [second["items"][0]["id"]]


def test_nobody_reads_someone_elses_notification(app_client: TestClient, engine: Engine, tokens: Tokens) -> None:
    client = app_client
    seeded, token = two_weeks_of_reminders(engine)
    bos = notifications(engine, person_id=seeded.people["Bo"], channel="inbox")
    assert bos
    response = client.post(f"{INBOX}/{bos[0].id}/read", headers=auth(token["Ivy"]))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert notifications(engine, person_id=seeded.people["Bo"], channel="inbox")[0].read_at is None
    assert client.post(f"{INBOX}/999999/read", headers=auth(token["Ivy"])).status_code == 404
