"""A person's calendar feeds at secret URLs: issued and revoked by the person, an internal coach of their
organization or an admin, read with no bearer token, holding only what the person takes part in, in their
language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from okr_rollout.models import CalendarFeed, EngagementCoach, Event, Meeting, Quarter
from tests.api._helpers import assert_problem, create_engagement, documented_answer
from tests.api._records import add_person
from tests.calendar._seed import Org, by_uid, parse, seed
from tests.conftest import Clock, Tokens, auth

PUBLIC_URL = "http://127.0.0.1:8000"  # the default of settings.public_url


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    return app_client


def issue(client: TestClient, token: str, org: Org, person_id: int, path: str = "calendar-token") -> dict[str, Any]:
    response = client.post(f"/api/v1/organizations/{org.organization_id}/people/{person_id}/{path}",
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
    return {known[name] for name in names}


QUARTERS = ("end_Q1", "end_Q2", "deadline_Q1", "deadline_Q2")
SALES_SERIES = ("weekly-team_Q1", "weekly-team_Q2", "one-on-one_Q1", "one-on-one_Q2")


def test_each_person_gets_what_concerns_them_without_a_bearer_token(
    client: TestClient, tokens: Tokens, db: Callable[[], Any], clock: Clock
) -> None:
    org = seed(client, tokens, db)
    feeds = {name: read(client, issue(client, tokens.admin, org, getattr(org, name))["url"])
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
    ben_in_chinese = read(client, issue(client, tokens.admin, org, org.ben)["url"], "?lang=zh-TW")
    assert str(ben_in_chinese["events"][team]["SUMMARY"]) == "每週團隊會議 — Sales"
    # The same event carries the same UID and times in the engagement feed and in a person's feed.
    assert feeds["ana"]["events"][team].start == feeds["ben"]["events"][team].start


def test_a_person_holds_several_feeds_each_revoked_alone(
    client: TestClient, tokens: Tokens, db: Callable[[], Any]
) -> None:
    org = seed(client, tokens, db)
    first = issue(client, tokens.admin, org, org.ana)
    assert first["person_id"] == org.ana and first["rotated"] is False
    assert first["url"].startswith(f"{PUBLIC_URL}/api/v1/calendar/cal_") and first["url"].endswith(".ics")
    assert first["webcal_url"] == "webcal://" + first["url"].removeprefix("http://")
    read(client, first["url"])

    # A second feed (another device) leaves the first subscription working.
    second = issue(client, tokens.admin, org, org.ana, path="calendar-tokens")
    assert second["rotated"] is False and second["url"] != first["url"] and second["id"] != first["id"]
    read(client, first["url"])
    read(client, second["url"])
    person = f"/api/v1/organizations/{org.organization_id}/people/{org.ana}"
    listed = client.get(f"{person}/calendar-tokens", headers=auth(tokens.admin))
    assert listed.status_code == 200, listed.text
    assert [(f["id"], f["person_id"]) for f in listed.json()["items"]] == [(first["id"], org.ana),
                                                                            (second["id"], org.ana)]
    assert "url" not in listed.text and "cal_" not in listed.text

    # Revoking one stops that one only; a feed of someone else is not reachable through this person.
    ben = issue(client, tokens.admin, org, org.ben)
    assert_problem(client.delete(f"{person}/calendar-tokens/{ben['id']}", headers=auth(tokens.admin)), 404)
    response = client.delete(f"{person}/calendar-tokens/{first['id']}", headers=auth(tokens.admin))
    assert response.status_code == 204, response.text
    assert_problem(client.get(urlsplit(first["url"]).path), 404, slug="not-found")
    read(client, second["url"])
    assert_problem(client.delete(f"{person}/calendar-tokens/{first['id']}", headers=auth(tokens.admin)), 404)

    # The former DELETE …/calendar-token revokes every feed of the person, and no one else's.
    response = client.delete(f"{person}/calendar-token", headers=auth(tokens.admin))
    assert response.status_code == 204, response.text
    assert_problem(client.get(urlsplit(second["url"]).path), 404)
    read(client, ben["url"])

    # Only hashes are stored, and the history says a feed was issued without ever holding its secret.
    with db() as session:
        assert list(session.scalars(select(CalendarFeed.person_id))) == [org.ben]
        history = list(session.scalars(select(Event).where(Event.type.like("person.calendar_feed_%"))
                                       .order_by(Event.id)))
        assert [(e.type, e.payload) for e in history] == [
            ("person.calendar_feed_issued", {"person_id": org.ana, "feed_id": first["id"]}),
            ("person.calendar_feed_issued", {"person_id": org.ana, "feed_id": second["id"]}),
            ("person.calendar_feed_issued", {"person_id": org.ben, "feed_id": ben["id"]}),
            ("person.calendar_feed_revoked", {"person_id": org.ana, "feed_id": first["id"]}),
            ("person.calendar_feed_revoked", {"person_id": org.ana, "feed_id": second["id"]}),
        ]
        secrets = [urlsplit(f["url"]).path.rsplit("/", 1)[1].removesuffix(".ics") for f in (first, second, ben)]
        assert all(secret not in str(e.payload) for e in history for secret in secrets)


def test_a_token_opens_only_its_own_persons_feed(
    client: TestClient, tokens: Tokens, db: Callable[[], Any]
) -> None:
    org = seed(client, tokens, db)
    ana = issue(client, tokens.admin, org, org.ana)["url"]
    ben = issue(client, tokens.admin, org, org.ben)["url"]
    assert read(client, ana)["name"].startswith("OKR 導入:Ana")
    assert read(client, ben)["name"].startswith("OKR rollout: Ben")
    for path in ("/api/v1/calendar/cal_unknown.ics", "/api/v1/calendar/nothing.ics",
                 urlsplit(ana).path.replace("cal_", "cal_x")):
        assert_problem(client.get(path), 404, slug="not-found")


def test_only_the_person_an_internal_coach_of_theirs_or_an_admin_manage_feeds(
    client: TestClient, tokens: Tokens, db: Callable[[], Any]
) -> None:
    org = seed(client, tokens, db)
    other = seed(client, tokens, db)
    person = f"/api/v1/organizations/{org.organization_id}/people/{org.ana}"
    admins_feed = issue(client, tokens.admin, org, org.ana)
    assert_problem(client.post(f"{person}/calendar-token"), 401)
    # The coach of the engagement sees the organization, but a feed spans all the person takes part in: no.
    for caller in (tokens.coach, tokens.other_coach, tokens.integration):
        for path in ("calendar-token", "calendar-tokens"):
            assert_problem(client.post(f"{person}/{path}", headers=auth(caller)), 404)
        assert_problem(client.get(f"{person}/calendar-tokens", headers=auth(caller)), 404)
        assert_problem(client.delete(f"{person}/calendar-tokens/{admins_feed['id']}", headers=auth(caller)), 404)
        assert_problem(client.delete(f"{person}/calendar-token", headers=auth(caller)), 404)
    read(client, admins_feed["url"])
    # A person of another organization is not reachable through this organization's URL.
    foreign = f"/api/v1/organizations/{org.organization_id}/people/{other.ana}/calendar-token"
    assert_problem(client.post(foreign, headers=auth(tokens.admin)), 404)
    assert_problem(client.post(f"/api/v1/organizations/{org.organization_id}/people/31337/calendar-token",
                               headers=auth(tokens.admin)), 404)

    # The person themself: a coach-role login bound to Ben, who coaches the engagement, manages Ben's feeds only.
    # (The API assigns only the firm's coaches; Ben, a person of the client, is made one of its coaches directly.)
    with db() as session:
        session.add(EngagementCoach(engagement_id=org.engagement_id, person_id=org.ben))
        bens, _ = create_token(session, role=Role.coach, person_id=org.ben)
    read(client, issue(client, bens, org, org.ben)["url"])
    assert_problem(client.post(f"{person}/calendar-token", headers=auth(bens)), 404)


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


def test_a_feed_holds_only_the_engagements_the_person_takes_part_in(
    client: TestClient, tokens: Tokens, db: Callable[[], Any]
) -> None:
    """A second engagement of the organization, coached by someone else: its quarters and meetings reach the feed
    of the people who take part in it, and no one else's."""
    org = seed(client, tokens, db)
    second = create_engagement(client, tokens.admin, org.organization_id,
                               coach_ids=[tokens.other_coach_person_id])["id"]
    with db() as session:
        quarter = Quarter(engagement_id=second, label="Other-Q1", starts_on=date(2026, 1, 1),
                          ends_on=date(2026, 3, 31))
        meeting = Meeting(engagement_id=second, kind="executive", held_at=datetime(2026, 1, 2, 9, tzinfo=UTC),
                          attendee_ids=[org.ceo], outcomes=[])
        session.add_all([quarter, meeting])
        session.flush()
        quarter_id, meeting_id = quarter.id, meeting.id
    others = {f"quarter-end-{quarter_id}", f"meeting-{meeting_id}"}
    carl = set(read(client, issue(client, tokens.admin, org, org.carl)["url"])["events"])
    assert carl == uids(org, "drafting_open", *QUARTERS)  # Carl has no part in the second engagement
    ceo = set(read(client, issue(client, tokens.admin, org, org.ceo)["url"])["events"])
    assert others <= ceo and uids(org, "executive", *QUARTERS) <= ceo
    # Someone who takes part in nothing has an empty feed, not the organization's calendar.
    nobody = add_person(client, tokens.admin, org.organization_id, name="Nora New")
    assert read(client, issue(client, tokens.admin, org, nobody)["url"])["events"] == {}


def test_the_feed_routes_are_documented_with_problem_responses(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    engagement = paths["/api/v1/engagements/{engagement_id}/calendar.ics"]["get"]["responses"]
    assert "text/calendar" in engagement["200"]["content"]
    secret = paths["/api/v1/calendar/{token}.ics"]["get"]
    assert "security" not in secret and "401" not in secret["responses"]
    for operations in (paths["/api/v1/calendar/{token}.ics"],
                       paths["/api/v1/engagements/{engagement_id}/calendar.ics"],
                       paths["/api/v1/organizations/{organization_id}/people/{person_id}/calendar-token"],
                       paths["/api/v1/organizations/{organization_id}/people/{person_id}/calendar-tokens"],
                       paths["/api/v1/organizations/{organization_id}/people/{person_id}/calendar-tokens/{feed_id}"]):
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    assert "application/problem+json" in documented_answer(document, response)["content"], status
