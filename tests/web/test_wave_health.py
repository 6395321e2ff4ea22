"""A wave's health, computed when read: on the engagement page's wave panel (status and reasons), in the
portfolio's list of each engagement's waves (status), and in the waves API (the shape of an engagement's health);
in English and Traditional Chinese, in a fixed number of statements whatever the number of waves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from okr_rollout.models import Appointment, Department, Engagement, Person, PersonDepartment, Task
from okr_rollout.waves import service as waves
from okr_rollout.waves.schemas import WaveCreate
from tests.api.test_portfolio import counting
from tests.conftest import Clock, auth
from tests.web._pages import post_form, text_of
from tests.web._seed import ADMIN, World, catalog
from tests.web.conftest import sign_in
from tests.web.test_waves_panel import _in_expansion

MODULES = ["basic_concepts", "deep_principles", "case_studies", "practice_and_coaching"]


def _open(db: Callable[[], Session], clock: Clock, engagement_id: int, name: str, departments: list[int],
          owner: int) -> int:
    with db() as session:
        view = waves.open_wave(session, ADMIN, catalog(), engagement_id,
                               WaveCreate(name=name, department_ids=departments, owner_ids=[owner]), clock.now)
        return view.wave.id


def _admin(db: Callable[[], Session]) -> str:
    with db() as session:
        token, _ = create_token(session, role=Role.admin, name="wave health")
        return token


def _wave_panel(web: TestClient, world: World, wave_id: int) -> str:
    response = web.get(f"/engagements/{world.formosa}")
    page = response.text
    assert f'id="wave-{wave_id}"' in page, (response.status_code, response.headers, page[:300])
    return text_of(page[page.index(f'id="wave-{wave_id}"'):page.index('id="tasks"')])


def _portfolio_wave(web: TestClient, wave_id: int) -> str:
    page = web.get("/portfolio").text
    start = page.index(f'<li data-wave="{wave_id}">')
    return page[start:page.index("</li>", start)]


def test_a_wave_stuck_past_its_pace_on_the_page_and_the_portfolio(web: TestClient, world: World, clock: Clock,
                                                                  db: Callable[[], Session]) -> None:
    departments = _in_expansion(db, world)
    wave_id = _open(db, clock, world.formosa, "Wave 1", list(departments.values()), world.member_id)
    sign_in(web, "chen@example.com")
    assert 'data-wave-health="on_track"' in _portfolio_wave(web, wave_id)
    assert "Wave health On track" in _wave_panel(web, wave_id=wave_id, world=world)

    clock.advance(days=7)  # the wave's course is expected to take 3 days; stuck after twice that
    web.cookies.clear()
    token = sign_in(web, "chen@example.com")
    panel = _wave_panel(web, world, wave_id)
    assert "Wave health Stuck" in panel
    assert "7 days in Wave training, more than 2 times the 3 expected." in panel
    item = _portfolio_wave(web, wave_id)
    assert 'data-wave-health="stuck"' in item and text_of(item) == "Wave 1: Wave training Stuck"

    post_form(web, token, "/locale", {"locale": "zh-TW", "next": f"/engagements/{world.formosa}"})
    chinese = _wave_panel(web, world, wave_id)
    assert "梯次健康狀態 停滯" in chinese and "已在「梯次培訓」7 天,超過預計 3 天的 2 倍。" in chinese
    assert "所有訊號" in chinese
    assert text_of(_portfolio_wave(web, wave_id)) == "Wave 1: 梯次培訓 停滯"


def test_an_overdue_wave_task_puts_the_wave_at_risk_over_the_api(web: TestClient, world: World, clock: Clock,
                                                               db: Callable[[], Session]) -> None:
    departments = _in_expansion(db, world)
    wave_id = _open(db, clock, world.formosa, "Wave 1", list(departments.values()), world.member_id)
    with db() as session:
        task = session.scalars(select(Task).where(Task.wave_id == wave_id)).first()
        assert task is not None
        task.due_at = clock.now + timedelta(hours=12)
    clock.advance(days=1)
    token = _admin(db)
    url = f"/api/v1/engagements/{world.formosa}/waves/{wave_id}"
    wave = web.get(url, headers=auth(token)).json()
    health = wave["health"]
    assert (health["status"], health["title"]) == ("at_risk", {"en": "At risk", "zh-TW": "有風險"})
    signals = {s["id"]: s for s in health["signals"]}
    assert list(signals) == ["pace", "gate", "overdue_tasks", "activity"]  # no CEO support, no pulse: the engagement's
    assert signals["overdue_tasks"] == {"id": "overdue_tasks", "status": "at_risk", "reason": "1 task is overdue.",
                                        "reasons": {"en": "1 task is overdue.", "zh-TW": "有 1 項任務逾期。"},
                                        "evidence": {"overdue_tasks": 1}}
    assert signals["pace"]["reason"] == "1 of the 3 days expected in Wave training."
    engagement_health = web.get(f"/api/v1/engagements/{world.formosa}/health", headers=auth(token)).json()
    assert set(signals["pace"]) == set(engagement_health["signals"][0])  # the same shape of signal
    chinese = web.get(url, headers=auth(token, **{"Accept-Language": "zh-TW"})).json()["health"]
    assert [s["reason"] for s in chinese["signals"]] == [s["reasons"]["zh-TW"] for s in health["signals"]]
    listed = web.get(f"/api/v1/engagements/{world.formosa}/waves", headers=auth(token)).json()
    assert [w["health"] for w in listed["items"]] == [health]
    portfolio = web.get("/api/v1/portfolio", headers=auth(token)).json()
    row = next(r for r in portfolio["items"] if r["engagement_id"] == world.formosa)
    assert [(w["name"], w["health"]) for w in row["waves"]] == [("Wave 1", "at_risk")]


def test_a_trained_wave_is_ready_to_move(web: TestClient, world: World, clock: Clock,
                                         db: Callable[[], Session]) -> None:
    departments = _in_expansion(db, world)
    wave_id = _open(db, clock, world.formosa, "Wave 1", list(departments.values()), world.member_id)
    with db() as session:
        members = list(session.scalars(select(PersonDepartment.person_id).where(
            PersonDepartment.department_id.in_(list(departments.values())))))
    token = _admin(db)
    clock.advance(days=1)
    response = web.post(f"/api/v1/engagements/{world.formosa}/training-sessions", headers=auth(token), json={
        "held_on": clock.now.date().isoformat(), "hours": 18, "modules": MODULES, "attendee_ids": members})
    assert response.status_code == 201, response.text
    health = web.get(f"/api/v1/engagements/{world.formosa}/waves/{wave_id}", headers=auth(token)).json()["health"]
    assert health["status"] == "ready_to_move"
    gate = next(s for s in health["signals"] if s["id"] == "gate")
    assert gate["reason"].startswith("Ready to move on: Start the wave's drafting is open")
    sign_in(web, "chen@example.com")
    panel = _wave_panel(web, world, wave_id)
    assert "Wave health Ready to move" in panel and "Ready to move on: Start the wave's drafting is open" in panel
    assert 'data-wave-health="ready_to_move"' in _portfolio_wave(web, wave_id)


def _expanding(db: Callable[[], Session], engagement_id: int, organization_id: int, names: list[str]
               ) -> tuple[list[int], int]:
    """An engagement in expansion with departments of one member each, and an appointed internal coach."""
    with db() as session:
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None
        engagement.phase = "expansion"
        ids = []
        for name in names:
            department = Department(organization_id=organization_id, name=name, is_pilot=False)
            person = Person(organization_id=organization_id, name=f"{name} member", roles=["member"])
            session.add_all([department, person])
            session.flush()
            session.add(PersonDepartment(person_id=person.id, department_id=department.id))
            ids.append(department.id)
        coach = Person(organization_id=organization_id, name=f"Coach of {engagement_id}", roles=["internal_coach"])
        session.add(coach)
        session.flush()
        session.add(Appointment(engagement_id=engagement_id, person_id=coach.id, role="internal_coach", trained=True))
        return ids, coach.id


def test_wave_health_costs_a_fixed_number_of_statements_on_the_portfolio(
        web: TestClient, world: World, clock: Clock, db: Callable[[], Session], engine: Engine) -> None:
    token = _admin(db)
    with db() as session:
        keelung = session.get(Engagement, world.keelung)
        assert keelung is not None
        keelung_org = keelung.organization_id

    def statements() -> tuple[int, list[Any]]:
        with counting(engine) as sent:
            rows = web.get("/api/v1/portfolio", headers=auth(token)).json()["items"]
        return len(sent), sorted((r["engagement_id"], w["name"], w["health"]) for r in rows for w in r["waves"])

    formosa, coach = _expanding(db, world.formosa, world.formosa_org, ["Marketing", "Finance", "Legal"])
    _open(db, clock, world.formosa, "Wave 1", formosa[:1], coach)
    one, found = statements()
    assert found == [(world.formosa, "Wave 1", "on_track")]

    _open(db, clock, world.formosa, "Wave 2", formosa[1:], coach)
    keelung_departments, keelung_coach = _expanding(db, world.keelung, keelung_org, ["Harbour", "Fleet"])
    _open(db, clock, world.keelung, "Harbour wave", keelung_departments[:1], keelung_coach)
    _open(db, clock, world.keelung, "Fleet wave", keelung_departments[1:], keelung_coach)
    several, found = statements()
    assert len(found) == 4 and {status for *_, status in found} == {"on_track"}
    assert several == one
