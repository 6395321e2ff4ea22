"""The people picker of the record forms, over HTTP: a 3,000-person client's form renders no list of everyone;
a JSON search answers as one types; without JavaScript, names typed into the text field are looked up on saving."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from okr_rollout.models import Meeting, Person
from tests.web._pages import field_errors, post_form
from tests.web._seed import World
from tests.web.conftest import sign_in

CLIENT_SIZE = 3000


def big_client(db: Callable[[], Session], world: World) -> None:
    with db() as session:
        session.add_all(Person(organization_id=world.formosa_org, name=f"Employee {n:04d}", roles=["member"],
                               created_at=datetime(2026, 1, 1, tzinfo=UTC)) for n in range(CLIENT_SIZE))
        session.add(Person(organization_id=world.formosa_org, name="100% Wang_", roles=["member"],
                           created_at=datetime(2026, 1, 1, tzinfo=UTC)))


def test_the_form_of_a_3000_person_client_renders_no_box_per_person(web: TestClient, world: World,
                                                                   db: Callable[[], Session]) -> None:
    big_client(db, world)
    sign_in(web, "chen@example.com")
    for slug, field in (("meeting", "attendee_ids"), ("training", "attendee_ids"), ("drafting-group", "member_ids")):
        page = web.get(f"/engagements/{world.formosa}/records/{slug}").text
        assert re.findall(rf'<input [^>]*\bname="{field}"', page) == [], slug  # nobody chosen yet: no box
        assert f'name="{field}__names"' in page and "data-people-picker" in page
        assert "Employee 1234" not in page
        assert len(page) < 200_000  # the page of one form, not a directory of the client
    training = web.get(f"/engagements/{world.formosa}/records/training").text
    trainer = re.search(r'<select [^>]*name="trainer_id".*?</select>', training, re.S)
    assert trainer is not None and "Chen Mei-ling" in trainer.group(0)  # the coach; the client's appointed ones


def test_the_search_answers_by_part_of_a_name_and_only_about_the_engagements_people(
        web: TestClient, world: World, db: Callable[[], Session]) -> None:
    big_client(db, world)
    sign_in(web, "chen@example.com")
    search = f"/engagements/{world.formosa}/people/search"
    answer = web.get(search, params={"q": "employee 12"}).json()
    assert [p["name"] for p in answer["items"]] == [f"Employee 12{n:02d}" for n in range(10)]
    assert answer["more"] is True
    exact = web.get(search, params={"q": "Employee 2999"}).json()
    assert [p["name"] for p in exact["items"]] == ["Employee 2999"] and exact["more"] is False
    # LIKE's own characters match themselves: "%" finds only the name that holds one.
    assert [p["name"] for p in web.get(search, params={"q": "0% w"}).json()["items"]] == ["100% Wang_"]
    assert [p["name"] for p in web.get(search, params={"q": "g_"}).json()["items"]] == ["100% Wang_"]
    # The coach is among a meeting's attendees (coaches=1), not among a training's.
    assert [p["name"] for p in web.get(search, params={"q": "chen", "coaches": "1"}).json()["items"]] == [
        "Chen Mei-ling"]
    assert web.get(search, params={"q": "chen"}).json()["items"] == []
    # Another coach's engagement is not found, nor its people.
    assert web.get(f"/engagements/{world.keelung}/people/search", params={"q": "a"}).status_code == 404
    web.cookies.clear()
    assert web.get(search, params={"q": "employee"}).status_code in (303, 401)  # signed out: nothing


def test_names_typed_without_javascript_are_looked_up_on_saving(web: TestClient, world: World,
                                                                db: Callable[[], Session]) -> None:
    big_client(db, world)
    with db() as session:
        wanted = session.scalar(select(Person.id).where(Person.name == "Employee 0042"))
    token = sign_in(web, "chen@example.com")
    url = f"/engagements/{world.formosa}/records/meeting"
    status, _, page = post_form(web, token, url, {
        "kind": "executive", "held_at": "2026-01-05T10:00", "attendee_ids": [str(world.ceo_id)],
        "attendee_ids__names": "employee 0042, Nobody Here"})
    assert status == 422
    assert field_errors(page)["attendee_ids"] == [
        "Nobody of the organization has this name: check the spelling, or pick from the suggestions."]
    # What was chosen stays chosen, the name that was found too; the name that was not stays typed.
    chosen = re.findall(r'name="attendee_ids" value="(\d+)" checked> ([^<]+)</label>', page)
    assert [(int(i), n.strip()) for i, n in chosen] == [(world.ceo_id, "Lee Ceo"), (wanted, "Employee 0042")]
    assert 'name="attendee_ids__names" value="Nobody Here"' in page

    status, location, _ = post_form(web, token, url, {
        "kind": "executive", "held_at": "2026-01-05T10:00", "attendee_ids": [str(world.ceo_id)],
        "attendee_ids__names": "Employee 0042, chen mei-ling"})
    assert status == 303, location
    with db() as session:
        meeting = session.scalars(select(Meeting).where(Meeting.engagement_id == world.formosa)).one()
        assert sorted(meeting.attendee_ids) == sorted([world.ceo_id, wanted, world.chen_person])
