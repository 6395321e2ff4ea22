"""The engagement page's waves: open a wave, see its phase and readiness, move it (a refusal shown with its
reasons), hand the engagement over; in English and Traditional Chinese."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from okr_rollout.models import Appointment, Department, Engagement, Event, Person, PersonDepartment, Wave
from tests.web._pages import post_form, text_of
from tests.web._seed import World
from tests.web.conftest import sign_in


def _in_expansion(db: Callable[[], Session], world: World) -> dict[str, int]:
    """The seeded engagement at the end of its journey, with two departments to expand to and an internal coach."""
    with db() as session:
        engagement = session.get(Engagement, world.formosa)
        assert engagement is not None
        engagement.phase = "expansion"
        ids = {}
        for name in ("Marketing", "Finance"):
            department = Department(organization_id=world.formosa_org, name=name, is_pilot=False)
            session.add(department)
            session.flush()
            person = Person(organization_id=world.formosa_org, name=f"{name} member", roles=["member"])
            session.add(person)
            session.flush()
            session.add(PersonDepartment(person_id=person.id, department_id=department.id))
            ids[name] = department.id
        session.add(Appointment(engagement_id=world.formosa, person_id=world.member_id, role="internal_coach",
                                trained=True))
        session.commit()
        return ids


def test_a_coach_opens_a_wave_moves_it_and_reads_the_refusal(web: TestClient, world: World,
                                                              db: Callable[[], Session]) -> None:
    departments = _in_expansion(db, world)
    token = sign_in(web, "chen@example.com")
    page = web.get(f"/engagements/{world.formosa}").text
    panel = text_of(page[page.index('id="waves"'):page.index('id="tasks"')])
    assert "Expansion waves" in panel and "No wave is open yet." in panel and 'id="open-wave"' in page
    assert "Marketing" in panel and "Wang Internal" in panel

    status, location, _ = post_form(web, token, f"/engagements/{world.formosa}/waves", {
        "name": "Wave 1", "department_ids": [str(departments["Marketing"]), str(departments["Finance"])],
        "owner_ids": [str(world.member_id)], "variant": "internal_trainer"})
    assert status == 303, location
    with db() as session:
        wave = session.scalars(select(Wave)).one()
        assert (wave.name, wave.phase, wave.variant) == ("Wave 1", "wave_training", "internal_trainer")
    page = web.get(location.split("#")[0]).text
    article = text_of(page[page.index(f'id="wave-{wave.id}"'):page.index('id="tasks"')])
    assert "Wave 1 · Wave training" in article
    assert "Departments: Marketing, Finance" in article and "Internal coaches: Wang Internal" in article
    assert "Trained by an internal coach (shortened course)" in article
    assert "0 of 9 training hours held" in article
    assert "Schedule the course for the wave (about 9 hours)" in article
    assert "Wave 1: Wave training" in text_of(web.get("/portfolio").text)

    status, location, _ = post_form(web, token, f"/engagements/{world.formosa}/waves/{wave.id}/transitions",
                                    {"trigger": "start_wave_drafting"})
    assert (status, location) == (
        303, f"/engagements/{world.formosa}?wave_refused={wave.id}&wave_trigger=start_wave_drafting#wave-{wave.id}")
    refused = web.get(location.split("#")[0])
    report = text_of(refused.text[refused.text.index('role="alert"'):refused.text.index('id="tasks"')])
    assert "Transition refused: Start the wave's drafting" in report
    assert "The internal coaches train the wave : No training session has been held yet." in report, report
    post_form(web, token, "/locale", {"locale": "zh-TW", "next": location.split("#")[0]})
    chinese = text_of(web.get(location.split("#")[0]).text)
    assert "擴展梯次" in chinese and "Wave 1 · 梯次培訓" in chinese
    assert "部門:Marketing, Finance" in chinese and "由內部教練培訓(精簡課程)" in chinese
    assert "尚未舉行任何培訓課程。" in chinese
    with db() as session:
        assert session.get(Wave, wave.id).phase == "wave_training"  # type: ignore[union-attr]
        events = session.scalars(select(Event).where(Event.type == "gate.refused")).all()
        assert [e.payload["wave"]["name"] for e in events] == ["Wave 1"]


def test_the_engagement_is_handed_over_and_the_coach_only_reads_its_waves(web: TestClient, world: World,
                                                                          db: Callable[[], Session]) -> None:
    _in_expansion(db, world)
    token = sign_in(web, "chen@example.com")
    assert 'id="hand-over"' in web.get(f"/engagements/{world.formosa}").text
    status, _, _ = post_form(web, token, f"/engagements/{world.formosa}/handover", {})
    assert status == 303
    page = web.get(f"/engagements/{world.formosa}").text
    assert "Handed over to the internal coaches on" in text_of(page)
    assert 'id="open-wave"' not in page and 'id="hand-over"' not in page
    web.post("/sign-out", data={"csrf_token": token})
    web.cookies.clear()
    sign_in(web, "wang@example.com")
    assert f'href="/engagements/{world.formosa}#waves"' in web.get("/readiness").text  # from the internal coach's home
    page = web.get(f"/engagements/{world.formosa}").text
    assert 'id="open-wave"' in page  # the internal coach leads the waves now


HOSTILE = "Wave'); DROP TABLE waves; -- <script>alert('x')</script>"


def test_a_hostile_wave_name_is_kept_as_text_and_shown_escaped(web: TestClient, world: World,
                                                               db: Callable[[], Session]) -> None:
    departments = _in_expansion(db, world)
    token = sign_in(web, "chen@example.com")
    status, location, _ = post_form(web, token, f"/engagements/{world.formosa}/waves", {
        "name": HOSTILE, "department_ids": [str(departments["Marketing"])], "owner_ids": [str(world.member_id)]})
    assert status == 303, location
    with db() as session:
        assert session.scalars(select(Wave.name)).one() == HOSTILE  # the statement in it never ran
    for url in (location.split("#")[0], "/portfolio"):
        html = web.get(url).text
        assert "<script>alert('x')</script>" not in html and "&lt;script&gt;" in html, url
        assert HOSTILE in text_of(html), url
