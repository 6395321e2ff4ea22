"""A person's calendar at a secret URL: issued and rotated by callers who see the organization, read with
no bearer token, holding only what concerns that person, in their language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from okr_rollout.models import Event, Person
from tests.api._helpers import assert_problem
from tests.calendar._seed import Org, by_uid, parse, seed
from tests.conftest import Clock, Tokens, auth

PUBLIC_URL = "http://127.0.0.1:8000"  # the default of settings.public_url


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    return app_client


def issue(client: TestClient, token: str, org: Org, person_id: int) -> dict[str, Any]:
    response = client.post(f"/api/v1/organizations/{org.organization_id}/people/{person_id}/calendar-token",
                           headers=auth(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def read(client: TestClient, url: str, query: str = "") -> dict[str, Any]:
    """The feed, fetched as a calendar client does: no Authorization header."""
    response = client.get(urlsplit(url).path + query)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = parse(response.content)
    return {"name": str(calendar["X-WR-CALNAME"]), "events": by_uid(calendar)}


def uids(org: Org, *names: str) -> set[str]:
    known = {
        "executive": f"meeting-{org.meetings['executive']}", "team": f"meeting-{org.meetings['team']}",
        "training": f"training-{org.training}", "drafting_closed": f"drafting-{org.drafting_closed}",
        "drafting_open": f"drafting-{org.drafting_open}",
    }
    for label, quarter_id in org.quarters.items():
        known[f"end_{label}"] = f"quarter-end-{quarter_id}"
        known[f"deadline_{label}"] = f"next-quarter-deadline-{quarter_id}"
        for kind in ("weekly-team", "one-on-one"):
            known[f"{kind}_{label}"] = f"series-{kind}-quarter-{quarter_id}-department-{org.sales}"
    return {f"{known[name]}@okr-rollout" for name in names}


QUARTERS = ("end_Q1", "end_Q2", "deadline_Q1", "deadline_Q2")
SALES_SERIES = ("weekly-team_Q1", "weekly-team_Q2", "one-on-one_Q1", "one-on-one_Q2")


def test_each_person_gets_what_concerns_them_without_a_bearer_token(
    client: TestClient, tokens: Tokens, db: Callable[[], Any], clock: Clock
) -> None:
    org = seed(client, tokens, db)
    feeds = {name: read(client, issue(client, tokens.coach, org, getattr(org, name))["url"])
             for name in ("lead", "ana", "ben", "carl", "ceo")}
    assert set(feeds["lead"]["events"]) == uids(org, "executive", "team", "training", "drafting_closed",
                                                  *QUARTERS, *SALES_SERIES)
    assert set(feeds["ana"]["events"]) == uids(org, "team", "training", "drafting_closed", *QUARTERS, *SALES_SERIES)
    assert set(feeds["ben"]["events"]) == uids(org, "team", "drafting_closed", *QUARTERS, *SALES_SERIES)
    # Carl is in a department outside the pilot: his drafting group and the quarters, no pilot meetings.
    assert set(feeds["carl"]["events"]) == uids(org, "drafting_open", *QUARTERS)
    assert set(feeds["ceo"]["events"]) == uids(org, "executive", *QUARTERS)
    assert all(event["DTSTAMP"].dt == clock.now for feed in feeds.values() for event in feed["events"].values())

    # Ana's locale is zh-TW: her feed is in Traditional Chinese; Ben's in English. ?lang= overrides.
    assert feeds["ana"]["name"].startswith("OKR 導入:Ana")
    team = next(iter(uids(org, "weekly-team_Q1")))
    assert str(feeds["ana"]["events"][team]["SUMMARY"]) == "每週團隊會議 — Sales"
    assert str(feeds["ben"]["events"][team]["SUMMARY"]) == "Weekly team meeting — Sales"
    ben_in_chinese = read(client, issue(client, tokens.coach, org, org.ben)["url"], "?lang=zh-TW")
    assert str(ben_in_chinese["events"][team]["SUMMARY"]) == "每週團隊會議 — Sales"
    # The same event carries the same UID and times in the engagement feed and in a person's feed.
    assert feeds["ana"]["events"][team].start == feeds["ben"]["events"][team].start


def test_rotating_or_revoking_the_token_invalidates_the_old_url(
    client: TestClient, tokens: Tokens, db: Callable[[], Any]
) -> None:
    org = seed(client, tokens, db)
    first = issue(client, tokens.coach, org, org.ana)
    assert first["person_id"] == org.ana and first["rotated"] is False
    assert first["url"].startswith(f"{PUBLIC_URL}/api/v1/calendar/cal_") and first["url"].endswith(".ics")
    assert first["webcal_url"] == "webcal://" + first["url"].removeprefix("http://")
    read(client, first["url"])

    second = issue(client, tokens.admin, org, org.ana)
    assert second["rotated"] is True and second["url"] != first["url"]
    assert_problem(client.get(urlsplit(first["url"]).path), 404, slug="not-found")
    read(client, second["url"])

    response = client.delete(f"/api/v1/organizations/{org.organization_id}/people/{org.ana}/calendar-token",
                             headers=auth(tokens.coach))
    assert response.status_code == 204, response.text
    assert_problem(client.get(urlsplit(second["url"]).path), 404)

    # Only the hash is stored, and the history says a feed was issued without ever holding its secret.
    with db() as session:
        assert session.scalar(select(Person.calendar_token).where(Person.id == org.ana)) is None
        history = list(session.scalars(select(Event).where(Event.type.like("person.calendar_feed_%"))
                                       .order_by(Event.id)))
        assert [(e.type, e.payload) for e in history] == [
            ("person.calendar_feed_issued", {"person_id": org.ana, "rotated": False}),
            ("person.calendar_feed_issued", {"person_id": org.ana, "rotated": True}),
            ("person.calendar_feed_revoked", {"person_id": org.ana}),
        ]
        secret = urlsplit(second["url"]).path.rsplit("/", 1)[1].removesuffix(".ics")
        assert all(secret not in str(e.payload) for e in history)


def test_a_token_opens_only_its_own_persons_feed(
    client: TestClient, tokens: Tokens, db: Callable[[], Any]
) -> None:
    org = seed(client, tokens, db)
    ana = issue(client, tokens.coach, org, org.ana)["url"]
    ben = issue(client, tokens.coach, org, org.ben)["url"]
    assert read(client, ana)["name"].startswith("OKR 導入:Ana")
    assert read(client, ben)["name"].startswith("OKR rollout: Ben")
    for path in ("/api/v1/calendar/cal_unknown.ics", "/api/v1/calendar/nothing.ics",
                 urlsplit(ana).path.replace("cal_", "cal_x")):
        assert_problem(client.get(path), 404, slug="not-found")


def test_only_callers_who_see_the_organization_issue_feeds(
    client: TestClient, tokens: Tokens, db: Callable[[], Any]
) -> None:
    org = seed(client, tokens, db)
    other = seed(client, tokens, db)
    path = f"/api/v1/organizations/{org.organization_id}/people/{org.ana}/calendar-token"
    assert_problem(client.post(path), 401)
    assert_problem(client.post(path, headers=auth(tokens.other_coach)), 404)
    assert_problem(client.delete(path, headers=auth(tokens.other_coach)), 404)
    # A person of another organization is not reachable through this organization's URL.
    foreign = f"/api/v1/organizations/{org.organization_id}/people/{other.ana}/calendar-token"
    assert_problem(client.post(foreign, headers=auth(tokens.admin)), 404)
    assert_problem(client.post(f"/api/v1/organizations/{org.organization_id}/people/31337/calendar-token",
                               headers=auth(tokens.admin)), 404)
    assert client.post(path, headers=auth(tokens.integration)).status_code == 200


def test_an_internal_coach_issues_feeds_for_their_own_organization_only(
    client: TestClient, tokens: Tokens, db: Callable[[], Any]
) -> None:
    org = seed(client, tokens, db)
    other = seed(client, tokens, db)
    with db() as session:
        internal, _ = create_token(session, role=Role.internal_coach, person_id=org.lead)
    read(client, issue(client, internal, org, org.ben)["url"])
    path = f"/api/v1/organizations/{other.organization_id}/people/{other.ben}/calendar-token"
    assert_problem(client.post(path, headers=auth(internal)), 404)


def test_the_feed_routes_are_documented_with_problem_responses(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    engagement = paths["/api/v1/engagements/{engagement_id}/calendar.ics"]["get"]["responses"]
    assert "text/calendar" in engagement["200"]["content"]
    secret = paths["/api/v1/calendar/{token}.ics"]["get"]
    assert "security" not in secret and "401" not in secret["responses"]
    for operations in (paths["/api/v1/calendar/{token}.ics"],
                       paths["/api/v1/engagements/{engagement_id}/calendar.ics"],
                       paths["/api/v1/organizations/{organization_id}/people/{person_id}/calendar-token"]):
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    assert "application/problem+json" in response["content"], status
