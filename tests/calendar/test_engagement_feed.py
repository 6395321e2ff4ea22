"""GET /api/v1/engagements/{id}/calendar.ics: records, deadlines and recurring meetings as iCalendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from fastapi.testclient import TestClient
from icalendar import Calendar, Event

from okr_rollout.playbooks import LoadedPlaybook, PlaybookRegistry
from okr_rollout.playbooks.kinds import WEEKDAYS
from tests.api._helpers import assert_problem
from tests.calendar._seed import Q1_END, Q1_START, Q2_END, Q2_START, Org, by_uid, parse, seed
from tests.conftest import ROOT, Clock, Tokens, auth


def playbook(name: str = "standard") -> LoadedPlaybook:
    return PlaybookRegistry.from_directory(ROOT / "playbooks").get(name)


def parameter(name: str, playbook_id: str = "standard") -> int:
    value = playbook(playbook_id).parameters[name]
    assert isinstance(value, int)
    return value


def feed(client: TestClient, token: str, org: Org, **headers: str) -> Calendar:
    response = client.get(f"/api/v1/engagements/{org.engagement_id}/calendar.ics", headers=auth(token, **headers))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return parse(response.content)


def series_uid(kind: str, quarter_id: int, scope: str) -> str:
    return f"series-{kind}-quarter-{quarter_id}-{scope}"


def occurrences(event: Event) -> list[datetime]:
    """The RRULE expanded from DTSTART the way a client does (dateutil, as recurring_ical_events does)."""
    start = event.start
    assert isinstance(start, datetime)
    rule = event["RRULE"].to_ical().decode()
    return list(rrulestr(rule, dtstart=start))


def first_weekday_on_or_after(day: date, weekday: str) -> date:
    return day + timedelta(days=(WEEKDAYS.index(weekday) - day.weekday()) % 7)


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    return app_client


def test_the_feed_holds_every_record_and_deadline_of_the_engagement(
    client: TestClient, tokens: Tokens, db: Callable[[], Any], clock: Clock
) -> None:
    org = seed(client, tokens, db)
    calendar = feed(client, tokens.coach, org)
    events = by_uid(calendar)
    q1, q2 = org.quarters["Q1"], org.quarters["Q2"]
    sales = f"department-{org.sales}"
    assert set(events) == {
        f"meeting-{org.meetings['executive']}", f"meeting-{org.meetings['team']}",
        f"training-{org.training}",
        f"drafting-{org.drafting_closed}", f"drafting-{org.drafting_open}",
        f"quarter-end-{q1}", f"quarter-end-{q2}",
        f"next-quarter-deadline-{q1}", f"next-quarter-deadline-{q2}",
        # Only the pilot department (Sales) meets on the playbook's cadence, in Q1 and Q2.
        series_uid("weekly-team", q1, sales), series_uid("weekly-team", q2, sales),
        series_uid("one-on-one", q1, sales), series_uid("one-on-one", q2, sales),
    }
    assert all(event["DTSTAMP"].dt == clock.now for event in events.values())
    assert [str(tz["TZID"]) for tz in calendar.timezones] == ["Europe/Stockholm"]
    assert str(calendar["X-WR-CALNAME"]).startswith("OKR rollout: Org ")

    executive = events[f"meeting-{org.meetings['executive']}"]
    assert executive["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert executive.start == datetime(2025, 11, 20, 13, 30, tzinfo=UTC)
    assert executive.start.hour == 14  # 14:30 in Stockholm (CET, UTC+1)
    assert str(executive["SUMMARY"]) == "Executive meeting"
    assert "Attendees: Lena Lead, Cecilia CEO" in str(executive["DESCRIPTION"])
    team = events[f"meeting-{org.meetings['team']}"]
    assert str(team["SUMMARY"]) == "Team meeting — Sales"

    training = events[f"training-{org.training}"]
    assert (training.start, training.end) == (date(2025, 12, 1), date(2025, 12, 2))
    assert str(training["SUMMARY"]) == "OKR training (6 h)"
    assert "Hours: 6" in str(training["DESCRIPTION"])
    assert "Modules: basic_concepts, deep_principles" in str(training["DESCRIPTION"])

    closed = events[f"drafting-{org.drafting_closed}"]
    assert (closed.start, closed.end) == (date(2025, 12, 8), date(2025, 12, 20))  # DTEND is exclusive
    still_open = events[f"drafting-{org.drafting_open}"]
    weeks = parameter("drafting_max_weeks")
    assert (still_open.start, still_open.end) == (date(2026, 2, 2), date(2026, 2, 2) + timedelta(weeks=weeks))
    assert f"at most {weeks} weeks" in str(still_open["DESCRIPTION"])

    days = parameter("next_quarter_max_days")
    for quarter_id, ends_on in ((q1, Q1_END), (q2, Q2_END)):
        end = events[f"quarter-end-{quarter_id}"]
        assert (end.start, end.end) == (ends_on, ends_on + timedelta(days=1))
        assert "1.0 / 0.7 / 0.3 / 0.0" in str(end["DESCRIPTION"])
        deadline = events[f"next-quarter-deadline-{quarter_id}"]
        assert deadline.start == ends_on + timedelta(days=days)
        assert f"{days} days" in str(deadline["SUMMARY"])


@pytest.mark.parametrize("timezone", ["Europe/Stockholm", "America/Chicago"])
def test_recurring_meetings_stay_at_the_local_hour_across_the_dst_change(
    client: TestClient, tokens: Tokens, db: Callable[[], Any], timezone: str
) -> None:
    org = seed(client, tokens, db, timezone=timezone)
    calendar = feed(client, tokens.coach, org)
    events = by_uid(calendar)
    zone = ZoneInfo(timezone)
    weekday = playbook().parameters["reminder_weekday"]
    assert isinstance(weekday, str)
    hour = parameter("reminder_hour")
    team_weeks = parameter("team_meeting_interval_days") // 7
    one_on_one_weeks = parameter("one_on_one_interval_days") // 7
    # The VTIMEZONE is what calendar clients read: it must encode the same offsets as the IANA zone.
    (vtimezone,) = calendar.timezones
    client_zone = vtimezone.to_tz()

    for label, starts_on, ends_on in (("Q1", Q1_START, Q1_END), ("Q2", Q2_START, Q2_END)):
        first = first_weekday_on_or_after(starts_on, weekday)
        for kind, weeks in (("weekly-team", team_weeks), ("one-on-one", one_on_one_weeks)):
            event = events[series_uid(kind, org.quarters[label], f"department-{org.sales}")]
            assert event["DTSTART"].params["TZID"] == timezone
            rule = event["RRULE"]
            assert rule["FREQ"] == ["WEEKLY"] and rule["INTERVAL"] == [weeks]
            expected_days = []
            day = first
            while day <= ends_on:
                expected_days.append(day)
                day += timedelta(weeks=weeks)
            found = occurrences(event)
            assert [o.date() for o in found] == expected_days
            assert {o.astimezone(zone).time() for o in found} == {time(hour)}
            for occurrence in found:
                wall = occurrence.replace(tzinfo=None)
                assert wall.replace(tzinfo=client_zone).utcoffset() == wall.replace(tzinfo=zone).utcoffset()

    q1_team = occurrences(events[series_uid("weekly-team", org.quarters["Q1"], f"department-{org.sales}")])
    utc_hours = {o.astimezone(UTC).hour for o in q1_team}
    assert len(utc_hours) == 2, "the quarter spans a DST change: the UTC hour moves, the local hour does not"
    winter = datetime.combine(Q1_START, time(hour), tzinfo=zone).astimezone(UTC).hour
    assert q1_team[0].astimezone(UTC).hour == winter
    assert q1_team[-1].astimezone(UTC).hour == winter - 1


def test_zh_tw_texts_by_query_or_accept_language(client: TestClient, tokens: Tokens, db: Callable[[], Any]) -> None:
    org = seed(client, tokens, db)
    q1, sales = org.quarters["Q1"], f"department-{org.sales}"
    team, one_on_one = series_uid("weekly-team", q1, sales), series_uid("one-on-one", q1, sales)
    executive = f"meeting-{org.meetings['executive']}"
    english = by_uid(feed(client, tokens.coach, org))
    assert str(english[team]["SUMMARY"]) == "Weekly team meeting — Sales"
    assert str(english[one_on_one]["SUMMARY"]) == "1:1, every 2 weeks — Sales"
    assert "every week on Monday at 09:00 (Europe/Stockholm)" in str(english[team]["DESCRIPTION"])

    by_query = by_uid(feed_path(client, tokens.coach, org, "?lang=zh-TW"))
    by_header = by_uid(feed(client, tokens.coach, org, **{"Accept-Language": "fr;q=0.9, zh-TW, en;q=0.5"}))
    for events in (by_query, by_header):
        assert str(events[team]["SUMMARY"]) == "每週團隊會議 — Sales"
        assert str(events[one_on_one]["SUMMARY"]) == "每 2 週一對一會議 — Sales"
        assert str(events[executive]["SUMMARY"]) == "高階主管會議"
        assert "每週星期一 09:00(Europe/Stockholm)" in str(events[team]["DESCRIPTION"])
    # ?lang= wins over Accept-Language; an unknown language falls back to English.
    assert str(by_uid(feed_path(client, tokens.coach, org, "?lang=en", **{"Accept-Language": "zh-TW"}))[team][
        "SUMMARY"]) == "Weekly team meeting — Sales"
    assert str(by_uid(feed(client, tokens.coach, org, **{"Accept-Language": "fr"}))[team]["SUMMARY"]) == (
        "Weekly team meeting — Sales")
    response = client.get(f"/api/v1/engagements/{org.engagement_id}/calendar.ics?lang=fr",
                          headers=auth(tokens.coach))
    assert_problem(response, 422)


def feed_path(client: TestClient, token: str, org: Org, query: str, **headers: str) -> Calendar:
    response = client.get(f"/api/v1/engagements/{org.engagement_id}/calendar.ics{query}",
                          headers=auth(token, **headers))
    assert response.status_code == 200, response.text
    return parse(response.content)


def test_only_callers_who_see_the_engagement_get_its_feed(
    client: TestClient, tokens: Tokens, db: Callable[[], Any]
) -> None:
    org = seed(client, tokens, db)
    path = f"/api/v1/engagements/{org.engagement_id}/calendar.ics"
    assert_problem(client.get(path, headers=auth(tokens.other_coach)), 404, slug="not-found")
    assert_problem(client.get("/api/v1/engagements/31337/calendar.ics", headers=auth(tokens.admin)), 404)
    assert_problem(client.get(path), 401)
    for token in (tokens.admin, tokens.integration, tokens.coach):
        assert client.get(path, headers=auth(token)).status_code == 200


def test_a_small_company_meets_as_one_team(client: TestClient, tokens: Tokens, db: Callable[[], Any]) -> None:
    org = seed(client, tokens, db, headcount=5, playbook="small_company", timezone="Asia/Taipei")
    events = by_uid(feed(client, tokens.coach, org))
    series = sorted(uid for uid in events if uid.startswith("series-"))
    q1, q2 = org.quarters["Q1"], org.quarters["Q2"]
    assert series == sorted(series_uid(kind, quarter, "company") for kind in ("weekly-team", "one-on-one")
                            for quarter in (q1, q2))
    team = events[series_uid("weekly-team", q1, "company")]
    assert str(team["SUMMARY"]) == "Weekly team meeting"
    assert "The whole company takes part." in str(team["DESCRIPTION"])
    hour = parameter("reminder_hour", "small_company")
    assert {o.astimezone(ZoneInfo("Asia/Taipei")).hour for o in occurrences(team)} == {hour}
