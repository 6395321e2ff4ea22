"""Record forms: each saves through its service; a refusal shows the service's rule beside its field."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from okr_rollout.models import Appointment, Department, Event, KeyResult, Meeting, Okr, Organization, Quarter
from tests.conftest import Clock
from tests.web._pages import field_errors, post_form
from tests.web._seed import World
from tests.web.conftest import sign_in


def _url(world: World, slug: str) -> str:
    return f"/engagements/{world.formosa}/records/{slug}"


def test_every_form_renders(web: TestClient, world: World) -> None:
    sign_in(web, "chen@example.com")
    for slug in ("meeting", "ceo-support", "training", "drafting-group", "appointment", "quarter", "okr",
                 "check-in", "score", "decision", "foundations", "department", "person"):
        response = web.get(_url(world, slug))
        assert response.status_code == 200, slug
        assert 'name="csrf_token"' in response.text
    assert web.get(_url(world, "nonsense")).status_code == 404


def test_a_link_presets_the_form(web: TestClient, world: World) -> None:
    sign_in(web, "chen@example.com")
    page = web.get(_url(world, "meeting") + "?kind=executive&outcomes=ceo_support").text
    assert '<option value="executive" selected>' in page
    assert 'value="ceo_support" checked' in page and 'value="expectations_set" checked' not in page


def test_a_meeting_in_the_future_is_refused_beside_its_field(web: TestClient, world: World,
                                                             db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    status, _, page = post_form(web, token, _url(world, "meeting"), {
        "kind": "executive", "held_at": "2026-02-01T10:00", "notes": "kept", "outcomes": ["ceo_support"]})
    assert status == 422
    assert field_errors(page) == {"held_at": ["This date is in the future: record what has happened."]}
    assert ">kept</textarea>" in page and 'value="ceo_support" checked' in page  # what was typed stays
    with db() as session:
        assert session.scalars(select(Meeting)).all() == []


def test_missing_and_malformed_fields(web: TestClient, world: World) -> None:
    token = sign_in(web, "chen@example.com")
    status, _, page = post_form(web, token, _url(world, "training"), {"held_on": "yesterday", "hours": "many"})
    assert status == 422
    errors = field_errors(page)
    assert errors["held_on"] == ["Enter a date."]
    assert errors["hours"] == ["Enter a number."]
    assert errors["modules"] == ["Choose at least one."]


def test_a_person_of_another_organization_is_refused(web: TestClient, world: World) -> None:
    token = sign_in(web, "chen@example.com")
    status, _, page = post_form(web, token, _url(world, "training"), {
        "held_on": "2026-01-05", "hours": "6", "modules": ["basic_concepts"], "attendee_ids": ["999"]})
    assert status == 422
    assert field_errors(page)["attendee_ids"] == ["This person or department is not part of the organization."]


def test_messages_are_in_the_readers_language(web: TestClient, world: World) -> None:
    token = sign_in(web, "chen@example.com")
    post_form(web, token, "/locale", {"locale": "zh-TW", "next": "/portfolio"})
    status, _, page = post_form(web, token, _url(world, "ceo-support"), {"level": "full", "stated_on": "2026-03-01"})
    assert status == 422
    assert field_errors(page) == {"stated_on": ["此日期在未來:請記錄已經發生的事。"]}
    assert "請修正下方標示的欄位。" in page


NUL_MESSAGE = "This text contains the NUL character, which cannot be stored; remove it."


def test_a_nul_character_is_shown_beside_its_field_and_nothing_is_written(web: TestClient, world: World,
                                                                        db: Callable[[], Session]) -> None:
    """SQLite stored it and PostgreSQL answered a page's form with a JSON error: now any record form comes back with
    the message beside each such field and what was typed (the NUL shown as U+FFFD), on both databases."""
    from okr_rollout.models import Person

    with db() as session:
        before = (session.scalar(select(func.count()).select_from(Person)),
                  session.scalar(select(func.count()).select_from(Event)))
    token = sign_in(web, "chen@example.com")
    status, _, page = post_form(web, token, _url(world, "meeting"), {
        "kind": "executive", "held_at": "2026-01-05T10:00", "notes": "kept\0", "outcomes": ["ceo_support"]})
    assert status == 422
    assert field_errors(page) == {"notes": [NUL_MESSAGE]}
    assert ">kept\ufffd</textarea>" in page and "\0" not in page
    assert 'value="ceo_support" checked' in page
    status, _, page = post_form(web, token, _url(world, "person"), {
        "name": "Ho\0 Pei", "email": "ho\0@example.com", "roles": ["member"], "locale": "en"})
    assert status == 422
    assert field_errors(page) == {"name": [NUL_MESSAGE], "email": [NUL_MESSAGE]}
    post_form(web, token, "/locale", {"locale": "zh-TW", "next": "/portfolio"})
    status, _, page = post_form(web, token, _url(world, "department"), {"name": "Sa\0les"})
    assert status == 422
    assert field_errors(page) == {"name": ["此文字含有無法儲存的 NUL 字元;請將它移除。"]}
    with db() as session:
        assert session.scalars(select(Meeting)).all() == []
        assert session.scalars(select(Department)).all() == []
        assert (session.scalar(select(func.count()).select_from(Person)),
                session.scalar(select(func.count()).select_from(Event))) == before


def test_appointing_twice_updates_the_appointment(web: TestClient, world: World,
                                                 db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    data = {"person_id": str(world.member_id), "role": "internal_coach"}
    assert post_form(web, token, _url(world, "appointment"), data)[0] == 303
    assert post_form(web, token, _url(world, "appointment"), {**data, "trained": "1",
                                                               "trained_on": "2026-01-04"})[0] == 303
    status, _, page = post_form(web, token, _url(world, "appointment"), {**data, "ready": "1"})
    assert status == 422
    assert field_errors(page)["ready"] == ["Only an OKR Master can be marked ready."]
    with db() as session:
        appointments = session.scalars(select(Appointment)).all()
        assert [(a.role, a.trained, str(a.trained_on)) for a in appointments] == [
            ("internal_coach", True, "2026-01-04")]


def test_the_foundations_form_records_mission_vision_and_strategies(web: TestClient, world: World,
                                                                   db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    status, _, _ = post_form(web, token, _url(world, "foundations"), {
        "mission": "Move people", "vision_1y": "Ten shops", "vision_5y": "Asia", "vision_10y": "The world",
        "strategies": "Own the city bike\n\n  Service first  ", "challenges": "Slow launches", "okr_software": ""})
    assert status == 303
    with db() as session:
        organization = session.get(Organization, world.formosa_org)
        assert organization is not None
        assert (organization.mission, organization.vision_10y) == ("Move people", "The world")
        assert organization.strategies == ["Own the city bike", "Service first"]
    page = web.get(_url(world, "foundations")).text
    assert ">Own the city bike\nService first</textarea>" in page


def test_a_department_is_added_then_chosen_as_a_pilot(web: TestClient, world: World,
                                                      db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    assert post_form(web, token, _url(world, "department"), {"name": "Sales"})[0] == 303
    assert post_form(web, token, _url(world, "department"), {"name": "Sales", "is_pilot": "1",
                                                             "lead_id": str(world.ceo_id)})[0] == 303
    with db() as session:
        assert [(d.name, d.is_pilot, d.lead_id) for d in session.scalars(select(Department))] == [
            ("Sales", True, world.ceo_id)]


def test_a_person_is_added_to_the_organization(web: TestClient, world: World,
                                               db: Callable[[], Session]) -> None:
    from okr_rollout.models import Person

    token = sign_in(web, "chen@example.com")
    status, _, page = post_form(web, token, _url(world, "person"), {"name": "Ho", "email": "not-an-address",
                                                                    "roles": ["member"], "locale": "en"})
    assert status == 422 and field_errors(page)["email"] == ["This value is not accepted."]
    assert post_form(web, token, _url(world, "person"), {"name": "Ho Pei", "roles": ["member", "department_lead"],
                                                         "locale": "zh-TW"})[0] == 303
    with db() as session:
        person = session.scalar(select(Person).where(Person.name == "Ho Pei"))
        assert person is not None and person.organization_id == world.formosa_org
        assert (person.roles, person.locale) == (["department_lead", "member"], "zh-TW")


def test_a_conflict_is_shown_on_the_form(web: TestClient, world: World) -> None:
    token = sign_in(web, "chen@example.com")
    data = {"label": "2025-Q4", "starts_on": "2025-10-01", "ends_on": "2025-12-31"}
    assert post_form(web, token, _url(world, "quarter"), data)[0] == 303
    status, _, page = post_form(web, token, _url(world, "quarter"), {**data, "starts_on": "2026-10-01",
                                                                      "ends_on": "2026-12-31"})
    assert status == 409 and "This was recorded already; change the existing record instead." in page


def test_the_cycle_forms_quarter_okr_check_in_score_decision(web: TestClient, world: World, clock: Clock,
                                                             db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    assert post_form(web, token, _url(world, "quarter"), {
        "label": "2025-Q4", "starts_on": "2025-10-01", "ends_on": "2025-12-31"})[0] == 303
    status, _, page = post_form(web, token, _url(world, "quarter"), {
        "label": "Overlap", "starts_on": "2025-12-01", "ends_on": "2026-02-28"})
    assert status == 422 and field_errors(page)["starts_on"] == ["This quarter overlaps another one."]
    with db() as session:
        quarter = session.scalars(select(Quarter)).one().id
    status, _, page = post_form(web, token, _url(world, "okr"), {
        "quarter_id": str(quarter), "objective": "Launch faster", "kr_metric": "Days to launch", "kr_start": "90"})
    assert status == 422 and field_errors(page) == {"kr_target": ["Enter a number."]}
    assert post_form(web, token, _url(world, "okr"), {
        "quarter_id": str(quarter), "objective": "Launch faster", "owner_id": str(world.ceo_id),
        "kr_metric": "Days to launch", "kr_start": "90", "kr_target": "30", "kr_unit": "days"})[0] == 303
    with db() as session:
        okr = session.scalars(select(Okr)).one().id
        kr = session.scalars(select(KeyResult)).one().id
    assert post_form(web, token, _url(world, "check-in"), {
        "key_result_id": str(kr), "week_of": "2025-12-01", "value": "60", "confidence": "7"})[0] == 303
    status, _, page = post_form(web, token, _url(world, "decision"), {"okr_id": str(okr), "decision": "continue"})
    assert status == 422 and field_errors(page)["decision"] == ["Decide once every OKR of the quarter has a score."]
    status, _, page = post_form(web, token, _url(world, "score"), {"okr_id": str(okr), "score": "0.5"})
    assert status == 422 and field_errors(page)["score"] == ["This score is not on the playbook's scale."]
    assert post_form(web, token, _url(world, "score"), {"okr_id": str(okr), "score": "0.7"})[0] == 303
    assert post_form(web, token, _url(world, "decision"), {"okr_id": str(okr), "decision": "continue"})[0] == 303
    with db() as session:
        row = session.get(Okr, okr)
        assert row is not None and (row.score, row.decision) == (0.7, "continue")
        kr_row = session.get(KeyResult, kr)
        assert kr_row is not None and kr_row.current_value == 60
        types = set(session.scalars(select(Event.type).where(Event.engagement_id == world.formosa)))
    assert {"quarter.created", "okr.created", "check_in.recorded", "okr.scored", "okr.decided"} <= types
    records = web.get(f"/engagements/{world.formosa}/records").text
    assert "Launch faster" in records and "2025-Q4" in records


def test_after_saving_the_form_returns_where_it_was_opened(web: TestClient, world: World) -> None:
    token = sign_in(web, "chen@example.com")
    status, location, _ = post_form(web, token, _url(world, "ceo-support"), {
        "level": "partial", "stated_on": "2026-01-05", "next": "https://evil.example/"})
    assert (status, location) == (303, f"/engagements/{world.formosa}/records?saved=ceo-support")
    assert "Saved: Record the CEO's support" in web.get(location).text
