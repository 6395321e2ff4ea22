"""Every timed event ends (DTEND from the record or the playbook's planned length), and UIDs carry the
installation's id: stable from one request to the next, different in another installation."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar, Event
from sqlalchemy import Engine, select

from okr_rollout.app import create_app
from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from okr_rollout.calendar import feed
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_engine, make_session_factory, session_scope
from okr_rollout.models import Installation, Person
from okr_rollout.playbooks import PlaybookRegistry, load_text
from okr_rollout.settings import Settings
from tests.calendar._seed import Org, by_uid, parse, seed, uid_domain
from tests.conftest import BACKENDS, ROOT, Clock, Tokens, auth, separate_database
from tests.journey import factories


def minutes(name: str, playbook: str = "standard") -> timedelta:
    value = PlaybookRegistry.from_directory(ROOT / "playbooks").get(playbook).parameters[name]
    assert isinstance(value, int)
    return timedelta(minutes=value)


def engagement_feed(client: TestClient, token: str, org: Org) -> Calendar:
    response = client.get(f"/api/v1/engagements/{org.engagement_id}/calendar.ics", headers=auth(token))
    assert response.status_code == 200, response.text
    return parse(response.content)


def person_feed(client: TestClient, token: str, org: Org, person_id: int) -> Calendar:
    issued = client.post(f"/api/v1/organizations/{org.organization_id}/people/{person_id}/calendar-tokens",
                         headers=auth(token))
    assert issued.status_code == 200, issued.text
    response = client.get(urlsplit(issued.json()["url"]).path)
    assert response.status_code == 200, response.text
    return parse(response.content)


def assert_every_event_ends(calendar: Calendar) -> None:
    assert calendar.events
    for event in calendar.events:
        assert "DTSTART" in event
        assert "DTEND" in event or "DURATION" in event, event["UID"]
        assert event.end > event.start, event["UID"]


def length(event: Event) -> timedelta:
    end, start = event.end, event.start
    assert isinstance(end, datetime) and isinstance(start, datetime)
    return end - start


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    return app_client


@pytest.mark.parametrize("playbook", ["standard", "small_company"])
def test_every_event_of_every_feed_has_an_end(client: TestClient, tokens: Tokens, db: Callable[[], Any],
                                              playbook: str) -> None:
    headcount = 5 if playbook == "small_company" else 40
    org = seed(client, tokens, db, headcount=headcount, playbook=playbook)
    assert_every_event_ends(engagement_feed(client, tokens.coach, org))
    for person_id in (org.lead, org.ana, org.ceo):
        assert_every_event_ends(person_feed(client, tokens.admin, org, person_id))


def test_meetings_and_series_last_their_kinds_planned_length(client: TestClient, tokens: Tokens,
                                                              db: Callable[[], Any]) -> None:
    org = seed(client, tokens, db)
    events = by_uid(engagement_feed(client, tokens.coach, org))
    executive = events[f"meeting-{org.meetings['executive']}"]
    assert executive.start == datetime(2025, 11, 20, 13, 30, tzinfo=UTC)
    assert length(executive) == minutes("executive_meeting_minutes")
    assert executive["DTEND"].params["TZID"] == "Europe/Stockholm"  # in the same zone as its start
    assert length(events[f"meeting-{org.meetings['team']}"]) == minutes("team_meeting_minutes")
    scope = f"department-{org.sales}"
    for label, quarter_id in org.quarters.items():
        team = events[f"series-weekly-team-quarter-{quarter_id}-{scope}"]
        one_on_one = events[f"series-one-on-one-quarter-{quarter_id}-{scope}"]
        assert length(team) == minutes("team_meeting_minutes"), label
        assert length(one_on_one) == minutes("one_on_one_minutes"), label
    assert minutes("team_meeting_minutes") != minutes("one_on_one_minutes")  # each kind its own parameter


def installation_of(engine: Engine) -> str:
    with session_scope(make_session_factory(engine), write=False) as session:
        found = session.scalar(select(Installation.installation_id))
        assert found is not None
        return found


def test_uids_carry_the_installation_id_and_stay_the_same(client: TestClient, tokens: Tokens,
                                                          db: Callable[[], Any], engine: Engine) -> None:
    org = seed(client, tokens, db)
    first = engagement_feed(client, tokens.coach, org)
    installation = installation_of(engine)
    assert uid_domain(first) == f"{installation}.okr-rollout"
    again = engagement_feed(client, tokens.admin, org)
    assert [str(e["UID"]) for e in again.events] == [str(e["UID"]) for e in first.events]
    assert installation_of(engine) == installation  # made once, then kept
    # A person's feed shows the same events under the same UIDs.
    ana = person_feed(client, tokens.admin, org, org.ana)
    assert {str(e["UID"]) for e in ana.events} <= {str(e["UID"]) for e in first.events}


def tokens_in(engine: Engine) -> Tokens:
    with session_scope(make_session_factory(engine)) as session:
        coach = Person(name="Coach Chen", roles=["coach"], created_at=datetime.now(UTC))
        session.add(coach)
        session.flush()
        admin, _ = create_token(session, role=Role.admin, name="admin")
        coach_token, _ = create_token(session, role=Role.coach, person_id=coach.id)
        return Tokens(admin, "", "", coach_token, coach.id, "", 0)


@pytest.fixture(params=BACKENDS)
def other_installation(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path, clock: Clock,
                       catalog: Catalog) -> Iterator[tuple[TestClient, Engine]]:
    with separate_database(request.param, sqlite_template, tmp_path) as url:
        engine = make_engine(url)
        app = create_app(Settings(database_url=url, playbooks_dir=ROOT / "playbooks"), engine=engine,
                         clock=clock, catalog=catalog)
        with TestClient(app, raise_server_exceptions=True) as other:
            yield other, engine
        engine.dispose()


def test_two_installations_never_share_a_uid(client: TestClient, tokens: Tokens, db: Callable[[], Any],
                                             other_installation: tuple[TestClient, Engine]) -> None:
    other, other_engine = other_installation
    org = seed(client, tokens, db)
    other_tokens = tokens_in(other_engine)
    other_org = seed(other, other_tokens, lambda: session_scope(make_session_factory(other_engine)))
    here = engagement_feed(client, tokens.coach, org)
    there = engagement_feed(other, other_tokens.coach, other_org)
    assert uid_domain(here) != uid_domain(there)
    assert uid_domain(there) == f"{installation_of(other_engine)}.okr-rollout"
    assert {str(e["UID"]) for e in here.events}.isdisjoint(str(e["UID"]) for e in there.events)
    # The same records in both, named alike before "@": only the installation tells them apart.
    assert len(by_uid(here)) == len(by_uid(there))


def test_a_playbook_pinned_before_the_lengths_existed_takes_them_from_its_current_version() -> None:
    """Engagements pinned to a playbook text without the meeting-length parameters (every engagement started
    before they were added) still get each kind's own length: the current version's default."""
    current = PlaybookRegistry.from_directory(ROOT / "playbooks").get("standard")
    text = (ROOT / "playbooks" / "standard.yaml").read_text()
    older = re.sub(r"^  [a-z_]+_minutes:\n(?:    .*\n)+", "", text, flags=re.MULTILINE)
    assert older != text
    pinned = load_text(older)
    assert not any(name.endswith("_minutes") for name in pinned.parameters)
    q1 = factories.quarter(1, date(2026, 1, 1), date(2026, 3, 31), "2026-Q1")
    engagement = factories.facts(**factories.pilot_company(pilot_people=[1]), quarters=[q1], meetings=[
        factories.meeting(5, "one_on_one", factories.at(date(2026, 1, 7)), attendees=[1])])
    now = datetime(2026, 1, 5, tzinfo=UTC)
    entries = {entry.uid.partition("@")[0]: entry.event for entry in feed.engagement_entries(
        pinned, engagement, locale="en", now=now, installation="0" * 32, defaults=current.parameters)}
    assert length(entries["meeting-5"]) == minutes("one_on_one_minutes")
    assert length(entries["series-one-on-one-quarter-1-department-10"]) == minutes("one_on_one_minutes")
    assert length(entries["series-weekly-team-quarter-1-department-10"]) == minutes("team_meeting_minutes")
