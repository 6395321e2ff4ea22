"""Correcting and voiding on the pages: every edit form opens prefilled and, submitted unchanged, changes
nothing; a meeting corrected and voided; the department form that used to clear a pilot flag and a lead."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from okr_rollout.models import (
    Appointment,
    CeoSupportStatement,
    CheckIn,
    Department,
    DraftingGroup,
    Event,
    KeyResult,
    Meeting,
    Okr,
    Organization,
    Person,
    Quarter,
    TrainingSession,
)
from tests.web._pages import field_errors, post_form, text_of
from tests.web._seed import World
from tests.web.conftest import sign_in

RECORD_TABLES = (Meeting, CeoSupportStatement, TrainingSession, DraftingGroup, Appointment, Quarter, Okr, KeyResult,
                 CheckIn, Department)


class _Form(HTMLParser):
    """The fields of a page's record form as a browser submits them: checked boxes, the selected option (else the
    first), text areas and inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "record-form" in a.get("class", ""):
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name") and a.get("type") != "submit":
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            else:
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            self.fields.append((self._select, chosen[0] if chosen else ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def submitted(html: str) -> dict[str, str | list[str]]:
    parser = _Form()
    parser.feed(html)
    data: dict[str, str | list[str]] = {}
    for name, value in parser.fields:
        if name in data:
            previous = data[name]
            data[name] = [*(previous if isinstance(previous, list) else [previous]), value]
        else:
            data[name] = value
    return data


def _records(world: World) -> str:
    return f"/engagements/{world.formosa}/records"


def _record_everything(web: TestClient, token: str, world: World, db: Callable[[], Session]) -> None:
    """One record of each kind, through the pages' own forms (the clock is 2026-01-05)."""
    base = _records(world)
    assert post_form(web, token, f"{base}/person", {"name": "Hsu Third", "roles": ["member"], "locale": "en"})[0] == 303
    with db() as session:
        third = session.scalars(select(Person.id).where(Person.name == "Hsu Third")).one()
    for slug, data in [
        ("department", {"name": "Sales", "is_pilot": "1", "lead_id": str(world.ceo_id)}),
        ("meeting", {"kind": "executive", "held_at": "2026-01-05T09:30", "attendee_ids": [str(world.ceo_id)],
                     "outcomes": ["ceo_support", "okrs_introduced"], "notes": "Line one\nline two"}),
        ("ceo-support", {"level": "full", "stated_on": "2026-01-05", "note": "At the offsite"}),
        ("training", {"held_on": "2026-01-05", "hours": "6", "modules": ["basic_concepts", "case_studies"],
                      "attendee_ids": [str(world.member_id)]}),
        ("drafting-group", {"member_ids": [str(world.ceo_id), str(world.member_id), str(third)],
                            "started_on": "2026-01-02"}),
        ("appointment", {"person_id": str(world.member_id), "role": "internal_coach", "trained": "1",
                         "trained_on": "2026-01-04"}),
        ("quarter", {"label": "2025-Q4", "starts_on": "2025-10-06", "ends_on": "2026-01-04"}),
    ]:
        status, _, page = post_form(web, token, f"{base}/{slug}", data)
        assert status == 303, (slug, field_errors(page))
    quarter = re.search(r'data-record="quarter-(\d+)"', web.get(base).text)
    assert quarter
    status, _, page = post_form(web, token, f"{base}/okr", {
        "quarter_id": quarter.group(1), "objective": "Ship the e-bike", "owner_id": str(world.member_id),
        "kr_metric": "Orders", "kr_start": "0", "kr_target": "100", "kr_unit": "bikes"})
    assert status == 303, field_errors(page)
    okr = re.search(r'data-record="okr-(\d+)"', web.get(base).text)
    key_result = re.search(r'data-record="key-result-(\d+)"', web.get(base).text)
    assert okr and key_result
    for slug, data in [
        ("check-in", {"key_result_id": key_result.group(1), "week_of": "2025-12-01", "value": "40.5",
                      "confidence": "7", "author_id": str(world.member_id)}),
        ("score", {"okr_id": okr.group(1), "score": "0.7"}),
        ("decision", {"okr_id": okr.group(1), "decision": "continue"}),
    ]:
        status, _, page = post_form(web, token, f"{base}/{slug}", data)
        assert status == 303, (slug, field_errors(page))


def _state(db: Callable[[], Session]) -> tuple[int, list[tuple[str, int, int]]]:
    with db() as session:
        events = session.scalar(select(func.count()).select_from(Event)) or 0
        versions = [(model.__tablename__, row.id, row.version) for model in (*RECORD_TABLES, Organization)
                    for row in session.scalars(select(model))]
    return events, sorted(versions)


def test_every_edit_form_opens_prefilled_and_submitted_unchanged_changes_nothing(
        web: TestClient, world: World, db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    _record_everything(web, token, world, db)
    listing = web.get(_records(world)).text
    targets = sorted(set(re.findall(r'data-correct="([a-z-]+)-(\d+)"', listing)))
    assert {slug for slug, _ in targets} == {"meeting", "ceo-support", "training", "drafting-group", "appointment",
                                             "quarter", "okr", "key-result", "check-in", "score", "decision",
                                             "department"}
    before = _state(db)

    for slug, record_id in targets:
        url = f"{_records(world)}/{slug}/{record_id}/edit"
        page = web.get(url)
        assert page.status_code == 200, slug
        data = submitted(page.text)
        status, location, body = post_form(web, token, url, {k: v for k, v in data.items() if k != "csrf_token"})
        assert status == 303, (slug, field_errors(body), text_of(body)[:400])
        assert f"unchanged={slug}" in location, slug

    # The organization's facts (mission, vision, strategies) open prefilled too, and saved unchanged change nothing.
    foundations = f"{_records(world)}/foundations"
    data = submitted(web.get(foundations).text)
    assert data["challenges"] == "Slow launches"
    status, _, body = post_form(web, token, foundations, {k: v for k, v in data.items() if k != "csrf_token"})
    assert status == 303, field_errors(body)

    assert _state(db) == before  # no event, no version moved

    # Prefilled with what is recorded: a few of them, as the reader sees them.
    meeting_id = next(i for s, i in targets if s == "meeting")
    meeting = submitted(web.get(f"{_records(world)}/meeting/{meeting_id}/edit").text)
    assert meeting["kind"] == "executive"
    assert meeting["held_at"] == "2026-01-05T09:30"  # the organization's local time, as entered
    assert meeting["outcomes"] == ["ceo_support", "okrs_introduced"]
    assert meeting["attendee_ids"] == str(world.ceo_id)
    assert meeting["notes"] == "Line one\nline two"
    check_in = submitted(web.get(f"{_records(world)}/check-in/{next(i for s, i in targets if s == 'check-in')}"
                                 "/edit").text)
    assert (check_in["value"], check_in["confidence"], check_in["week_of"]) == ("40.5", "7", "2025-12-01")


def test_the_department_form_keeps_the_pilot_flag_and_the_lead(web: TestClient, world: World,
                                                                 db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    base = _records(world)
    assert post_form(web, token, f"{base}/department",
                     {"name": "Sales", "is_pilot": "1", "lead_id": str(world.ceo_id)})[0] == 303

    # The add form opens empty; naming an existing department there no longer clears what it has.
    status, _, _ = post_form(web, token, f"{base}/department", {"name": "Sales", "lead_id": ""})
    assert status == 303
    with db() as session:
        sales = session.scalars(select(Department).where(Department.name == "Sales")).one()
        assert (sales.is_pilot, sales.lead_id) == (True, world.ceo_id)
        sales_id = sales.id

    # Its own change form opens prefilled, and takes the flag off only when the reader unticks it.
    form = submitted(web.get(f"{base}/department/{sales_id}/edit").text)
    assert (form["name"], form["is_pilot"], form["lead_id"]) == ("Sales", "1", str(world.ceo_id))
    changed = {k: v for k, v in form.items() if k not in ("csrf_token", "is_pilot")}
    status, location, _ = post_form(web, token, f"{base}/department/{sales_id}/edit", changed)
    assert (status, "corrected=department" in location) == (303, True)
    with db() as session:
        sales = session.get(Department, sales_id)
        assert sales is not None and (sales.is_pilot, sales.lead_id) == (False, world.ceo_id)
        event = session.scalars(select(Event).where(Event.type == "department.updated")).all()[-1]
        assert event.payload["changed"] == ["is_pilot"]


def test_a_meeting_is_corrected_and_voided_on_the_pages(web: TestClient, world: World,
                                                         db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    base = _records(world)
    post_form(web, token, f"{base}/meeting", {"kind": "executive", "held_at": "2026-01-05T09:30",
                                              "outcomes": ["ceo_support"], "notes": "first"})
    with db() as session:
        meeting_id = session.scalars(select(Meeting.id)).one()
    form = submitted(web.get(f"{base}/meeting/{meeting_id}/edit").text)
    form["notes"] = "corrected"
    status, _, _ = post_form(web, token, f"{base}/meeting/{meeting_id}/edit",
                             {k: v for k, v in form.items() if k != "csrf_token"})
    assert status == 303
    with db() as session:
        event = session.scalars(select(Event).where(Event.type == "record.corrected")).one()
        assert event.payload["before"] == {"notes": "first"} and event.payload["after"] == {"notes": "corrected"}

    void_url = f"{base}/meeting/{meeting_id}/void"
    assert "Void this record" in web.get(void_url).text
    status, _, page = post_form(web, token, void_url, {"reason": " ", "version": "2"})
    assert status == 422 and field_errors(page) == {"reason": ["Say why the record is voided."]}
    status, _, page = post_form(web, token, void_url, {"reason": "Held with another client", "version": "1"})
    assert status == 409  # the form was opened before the correction
    status, location, _ = post_form(web, token, void_url, {"reason": "Held with another client", "version": "2"})
    assert status == 303 and "voided=meeting" in location
    listing = web.get(base).text
    assert re.search(rf'<tr class="voided" data-record="meeting-{meeting_id}"', listing)
    assert "Voided: Held with another client" in text_of(listing)
    assert f'data-correct="meeting-{meeting_id}"' not in listing  # a voided record is not corrected again


def test_the_void_page_speaks_the_readers_language(web: TestClient, world: World, db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    post_form(web, token, "/locale", {"locale": "zh-TW", "next": "/portfolio"})
    base = _records(world)
    post_form(web, token, f"{base}/ceo-support", {"level": "full", "stated_on": "2026-01-05"})
    with db() as session:
        statement_id = session.scalars(select(CeoSupportStatement.id)).one()
    page = web.get(f"{base}/ceo-support/{statement_id}/void").text
    assert "作廢的原因?" in page and "作廢此記錄" in page
    status, _, body = post_form(web, token, f"{base}/ceo-support/{statement_id}/void", {"reason": "", "version": "1"})
    assert status == 422 and field_errors(body) == {"reason": ["請說明作廢這筆記錄的原因。"]}
    assert "更正 CEO 支持聲明" in web.get(f"{base}/ceo-support/{statement_id}/edit").text


def test_a_closed_quarter_is_reopened_on_the_pages_with_a_reason(web: TestClient, world: World,
                                                                  db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    _record_everything(web, token, world, db)  # its one OKR is decided: the quarter is closed
    listing = web.get(_records(world)).text
    found = re.search(r'data-reopen="quarter-(\d+)"', listing)
    assert found and "closed: every OKR decided" in listing
    url = f"{_records(world)}/quarter/{found.group(1)}/reopen"
    status, _, page = post_form(web, token, url, {"reason": ""})
    assert status == 422 and field_errors(page) == {"reason": ["Say why the quarter is reopened."]}
    status, location, _ = post_form(web, token, url, {"reason": "The decision was taken before the review"})
    assert status == 303 and "reopened=quarter" in location
    listing = web.get(location).text
    assert "The quarter is reopened." in text_of(listing) and "data-reopen" not in listing
    with db() as session:
        event = session.scalars(select(Event).where(Event.type == "quarter.reopened")).one()
        assert event.payload["reason"] == "The decision was taken before the review"
