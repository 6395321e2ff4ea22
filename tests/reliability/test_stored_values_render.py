"""A stored value never breaks a page: dates are bounded at the API (1970-01-01 to 2200-12-31, in every time
zone), names that a one-line format shows carry no line break, and what was stored before these rules (or came
by a CSV import) still renders: the feeds fold it, the pages show it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from okr_rollout.models import Department, Meeting, Organization, Person
from okr_rollout.notifications.delivery import _Claimed, _message
from okr_rollout.settings import Settings
from tests.api._helpers import assert_problem
from tests.conftest import Clock, Tokens, auth
from tests.reliability._render import add_admin_login, calendar_problem, sign_in
from tests.reliability._seed import API, Seeded, seed_engagement
from tests.web._pages import field_errors, post_form
from tests.web._seed import seed as seed_world
from tests.web.conftest import sign_in as web_sign_in

LOS_ANGELES = "America/Los_Angeles"


@pytest.fixture
def seeded(app_client: TestClient, tokens: Tokens, clock: Clock) -> Seeded:
    seeded = seed_engagement(app_client, tokens.admin, tokens.coach_person_id, clock().date(),
                             f"R{uuid.uuid4().hex[:6]}")
    response = app_client.patch(f"{API}/organizations/{seeded.organization_id}", json={"timezone": LOS_ANGELES},
                                headers=auth(tokens.admin))
    assert response.status_code == 200, response.text
    return seeded


def refused(response: Any, field: str) -> dict[str, Any]:
    """A 422 naming ``field`` as out of the range, with the range in its message."""
    problem = assert_problem(response, 422)
    errors = {e["field"]: e for e in problem["errors"]}
    assert field in errors, problem
    assert errors[field]["type"] == "date_out_of_range", errors[field]
    assert "1970-01-01" in errors[field]["message"] and "2200-12-31" in errors[field]["message"], errors[field]
    return problem


def test_dates_outside_the_range_are_refused_naming_the_field_and_the_range(
    app_client: TestClient, tokens: Tokens, seeded: Seeded, clock: Clock
) -> None:
    client, admin = app_client, auth(tokens.admin)
    base = f"{API}/engagements/{seeded.engagement_id}"
    ceo = seeded.ids["person_id"]
    # The audit's values: a meeting in year 1 (year 0 in Los Angeles), quarters in 9999, a task due past 9999.
    refused(client.post(f"{base}/meetings", headers=admin, json={
        "kind": "executive", "held_at": "0001-01-01T00:00:00Z", "attendee_ids": [ceo]}), "body.held_at")
    refused(client.post(f"{base}/quarters", headers=admin, json={
        "label": "Q9999", "starts_on": "9999-10-01", "ends_on": "9999-12-31"}), "body.starts_on")
    refused(client.patch(f"{API}/tasks/{seeded.ids['task_id']}", headers=admin, json={
        "due_at": "9999-12-31T23:59:59-12:00"}), "body.due_at")
    # Each kind of date field, just outside the range.
    refused(client.post(f"{base}/ceo-support", headers=admin, json={"level": "full", "stated_on": "1969-12-31"}),
            "body.stated_on")
    refused(client.post(f"{base}/training-sessions", headers=admin, json={
        "held_on": "1969-12-31", "hours": 2, "modules": ["basic_concepts"]}), "body.held_on")
    refused(client.patch(f"{base}/drafting-groups/{seeded.ids['group_id']}", headers=admin, json={
        "ended_on": "2201-01-01"}), "body.ended_on")
    refused(client.patch(f"{base}/appointments/{seeded.ids['appointment_id']}", headers=admin, json={
        "trained": True, "trained_on": "1900-01-01"}), "body.trained_on")
    refused(client.post(f"{base}/quarters/{seeded.ids['quarter_id']}/check-ins", headers=admin, json={
        "key_result_id": seeded.ids["key_result_id"], "week_of": "0001-01-01", "value": 1}), "body.week_of")
    # A moment whose local date leaves the range in some time zone: 11:59 UTC is still 1969 at UTC-12.
    refused(client.post(f"{base}/meetings", headers=admin, json={
        "kind": "executive", "held_at": "1970-01-01T11:59:59Z", "attendee_ids": [ceo]}), "body.held_at")
    refused(client.patch(f"{API}/tasks/{seeded.ids['task_id']}", headers=admin, json={
        "due_at": "2200-12-31T10:00:00Z"}), "body.due_at")

    # The edges themselves are accepted, and everything of the engagement renders with them.
    accepted = [
        client.post(f"{base}/meetings", headers=admin, json={
            "kind": "executive", "held_at": "1970-01-01T12:00:00Z", "attendee_ids": [ceo]}),
        client.post(f"{base}/quarters", headers=admin, json={
            "label": "Q2200", "starts_on": "2200-10-01", "ends_on": "2200-12-31"}),
        client.patch(f"{API}/tasks/{seeded.ids['task_id']}", headers=admin, json={"due_at": "2200-12-31T09:59:59Z"}),
        client.post(f"{base}/ceo-support", headers=admin, json={"level": "full", "stated_on": "1970-01-01"}),
    ]
    assert [r.status_code for r in accepted] == [201, 201, 200, 201], [r.text for r in accepted]


def test_a_meeting_stored_in_year_one_still_renders(
    app_client: TestClient, tokens: Tokens, seeded: Seeded, db: Callable[[], Any], clock: Clock
) -> None:
    """The audit's row, stored before the API refused it: in Los Angeles it is in year 0. The engagement's
    calendar, the person's feed, the records page and the agenda document answer, the meeting left out of the
    calendars (it has no date there) and shown in UTC on the pages."""
    with db() as session:
        session.add(Meeting(engagement_id=seeded.engagement_id, kind="executive",
                            held_at=datetime(1, 1, 1, tzinfo=UTC), attendee_ids=[seeded.ids["person_id"]]))
    add_admin_login(db, clock.now)
    client = TestClient(app_client.app, raise_server_exceptions=False)
    sign_in(client)
    base = f"/engagements/{seeded.engagement_id}"
    for path, headers in [(f"{API}{base}/calendar.ics", auth(tokens.admin)),
                          (f"{API}/calendar/{seeded.calendar_token}.ics", {}),
                          (f"{API}{base}/meetings", auth(tokens.admin)),
                          (f"{base}/records", {}), (f"{base}/documents/executive_meeting_agenda", {}),
                          (base, {})]:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
        if path.endswith(".ics"):
            assert calendar_problem(response.content) is None


@pytest.mark.parametrize("name", ["Acme\r\nEND:VCALENDAR", "Acme\rBEGIN:VEVENT\rSUMMARY:forged", "Acme\n",
                                  "Acme\u2028Inc", "Acme\x85Inc", "Acme\x0bInc"])
def test_a_line_break_in_a_name_is_refused(app_client: TestClient, tokens: Tokens, seeded: Seeded,
                                           name: str) -> None:
    organization = f"{API}/organizations/{seeded.organization_id}"
    for path, body, method in [
        (organization, {"name": name}, "PATCH"),
        (f"{organization}/people", {"name": name}, "POST"),
        (f"{organization}/people/{seeded.ids['person_id']}", {"name": name}, "PATCH"),
        (f"{organization}/departments", {"name": name}, "POST"),
        (f"{organization}/departments/{seeded.ids['department_id']}", {"name": name}, "PATCH"),
        (f"{API}/engagements/{seeded.engagement_id}/quarters",
         {"label": name, "starts_on": "2030-01-01", "ends_on": "2030-03-31"}, "POST"),
    ]:
        problem = assert_problem(app_client.request(method, path, json=body, headers=auth(tokens.admin)), 422)
        assert [(e["field"], e["type"]) for e in problem["errors"]] == [
            ("body.label" if "label" in body else "body.name", "line_break")], (path, problem)
    # Longer texts keep their lines.
    response = app_client.patch(organization, json={"mission": "Line one\nLine two"}, headers=auth(tokens.admin))
    assert response.status_code == 200, response.text


def test_names_stored_with_line_breaks_are_folded_in_every_feed(
    app_client: TestClient, tokens: Tokens, seeded: Seeded, db: Callable[[], Any]
) -> None:
    """What an import or an older version stored: the feeds still answer, each name on one line, nothing
    forged; the description keeps its lines as iCalendar's escaped newlines."""
    ceo = seeded.ids["person_id"]
    with db() as session:
        session.execute(update(Organization).where(Organization.id == seeded.organization_id)
                        .values(name="Acme\rBEGIN:VEVENT\rUID:forged\rSUMMARY:forged\rEND:VEVENT"))
        session.execute(update(Person).where(Person.id == ceo).values(name="Ceo\r\nX-FORGED:1\u2028\x85"))
        session.execute(update(Department).where(Department.id == seeded.ids["department_id"])
                        .values(name="Sales\nSUMMARY:forged"))
        session.add(Meeting(engagement_id=seeded.engagement_id, kind="weekly_team", attendee_ids=[ceo],
                            department_id=seeded.ids["department_id"],
                            held_at=datetime(2026, 1, 1, 9, tzinfo=UTC) - timedelta(days=3)))
    issued = app_client.post(f"{API}/organizations/{seeded.organization_id}/people/{ceo}/calendar-token",
                             headers=auth(tokens.admin))
    assert issued.status_code == 200, issued.text
    for path, headers in [(f"{API}/engagements/{seeded.engagement_id}/calendar.ics", auth(tokens.admin)),
                          (urlsplit(issued.json()["url"]).path, {}),
                          (f"{API}/calendar/{seeded.calendar_token}.ics", {})]:
        response = app_client.get(path, headers=headers)
        assert response.status_code == 200, f"{path}: {response.text[:300]}"
        assert calendar_problem(response.content) is None, (path, calendar_problem(response.content))
        forged_lines = (b"\r\nUID:forged", b"\r\nX-FORGED", b"\r\nSUMMARY:forged")
        assert all(forged not in response.content for forged in forged_lines)
        unfolded = response.content.decode().replace("\r\n ", "")
        calname = next(line for line in unfolded.split("\r\n") if line.startswith("X-WR-CALNAME:"))
        assert "Acme BEGIN:VEVENT UID:forged SUMMARY:forged END:VEVENT" in calname


def test_an_e_mail_to_someone_whose_name_has_a_line_break_is_still_written_on_one_line() -> None:
    claimed = _Claimed(1, 1, "Ceo\r\nBcc: spy@example.com", "ceo@example.com", "en", "Reminder\nBcc: x", "Body\n")
    headers = bytes(_message(claimed, Settings(), datetime(2026, 1, 5, tzinfo=UTC))).decode().split("\n\n")[0]
    lines = headers.splitlines()
    assert 'To: "Ceo  Bcc: spy@example.com" <ceo@example.com>' in lines
    assert "Subject: Reminder Bcc: x" in lines
    assert not any(line.startswith("Bcc:") for line in lines)


def test_the_forms_say_the_range_and_the_one_line_rule_in_the_readers_language(
    app_client: TestClient, engine: Engine, clock: Clock
) -> None:
    world = seed_world(engine, clock.now)
    web = TestClient(app_client.app, follow_redirects=False)
    token = web_sign_in(web, "chen@example.com")
    post_form(web, token, "/locale", {"locale": "zh-TW", "next": "/portfolio"})
    records = f"/engagements/{world.formosa}/records"
    status, _, page = post_form(web, token, f"{records}/meeting", {"kind": "executive", "held_at": "0001-01-01T00:00"})
    assert status == 422
    assert field_errors(page) == {"held_at": ["請輸入 1970-01-01 至 2200-12-31 之間的日期。"]}
    status, _, page = post_form(web, token, f"{records}/department", {"name": "Sales\rBEGIN:VEVENT"})
    assert status == 422
    assert field_errors(page) == {"name": ["請寫成一行,不要換行。"]}
