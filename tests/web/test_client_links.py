"""Sign-in links for the client's people: single-use, expiring, revocable, stored hashed, rate-limited, bound to
one person of one organization; and that person's own page, whose every action is in the coach's history under
the person's name."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from okr_rollout.app import create_app
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.models import CeoSupportStatement, CheckIn, ClientLink, Event, Meeting, Pulse, Task, TaskAssignee
from okr_rollout.settings import Settings
from tests.conftest import ROOT, Clock
from tests.web._client_seed import ClientWorld, seed_clients
from tests.web._seed import World
from tests.web.conftest import csrf_of, sign_in

LINK = re.compile(r'id="issued-link" href="[^"]*/link/([A-Za-z0-9_\-]+)"')
Browser = Callable[..., TestClient]


@pytest.fixture
def clients(engine: Engine, world: World, clock: Clock) -> ClientWorld:
    return seed_clients(engine, world, clock.now)


@pytest.fixture
def browser(engine: Engine, database_url: str, clock: Clock, catalog: Catalog) -> Iterator[Browser]:
    """A new browser (its own cookies) on an app with ``settings``."""
    opened: list[TestClient] = []

    def open_browser(**settings: Any) -> TestClient:
        app = create_app(Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks", **settings),
                         engine=engine, clock=clock, catalog=catalog)
        client = TestClient(app, raise_server_exceptions=True, follow_redirects=False)
        opened.append(client)
        return client

    yield open_browser
    for client in opened:
        client.close()


def _issue(coach: TestClient, csrf: str, engagement_id: int, person_id: int) -> str:
    response = coach.post(f"/engagements/{engagement_id}/links", data={"csrf_token": csrf, "person_id": person_id})
    assert response.status_code == 201, response.text
    found = LINK.search(response.text)
    assert found, response.text
    return found.group(1)


def _open(client: TestClient, token: str) -> TestClient:
    """Open the link and press its button; the browser is then signed in as the link's person."""
    landing = client.get(f"/link/{token}")
    assert landing.status_code == 200, landing.text
    used = client.post(f"/link/{token}", data={"csrf_token": csrf_of(landing.text)})
    assert used.status_code == 303, used.text
    assert used.headers["location"] == "/me"
    return client


def _my_csrf(client: TestClient) -> str:
    return csrf_of(client.get("/me").text)


@pytest.fixture
def coach(browser: Browser, world: World) -> tuple[TestClient, str]:
    client = browser()
    return client, sign_in(client, "chen@example.com")


def test_a_link_signs_its_person_in_once_and_is_kept_only_as_a_hash(
        browser: Browser, coach: tuple[TestClient, str], world: World, clients: ClientWorld, engine: Engine) -> None:
    token = _issue(*coach, world.formosa, clients.member_id)
    assert len(token) >= 43  # 32 random bytes, base64url: 256 bits
    with session_scope(make_session_factory(engine)) as session:
        stored = session.scalars(select(ClientLink)).one()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in repr([getattr(stored, c.key) for c in ClientLink.__table__.columns])
    member = _open(browser(), token)
    page = member.get("/me")
    assert page.status_code == 200
    assert "Kao Member" in page.text and "Export orders" in page.text
    assert "Make your first weekly check-in" in page.text
    again = browser()
    refused = again.get(f"/link/{token}")
    assert refused.status_code == 410
    assert "This sign-in link was already used" in refused.text and "此登入連結已使用過" in refused.text
    landing_then_used = browser()
    # Two browsers on the landing page at once: only the first press signs in.
    assert landing_then_used.post(f"/link/{token}", data={"csrf_token": csrf_of(refused.text)}).status_code in (
        403, 410)


def test_a_link_expires_after_the_setting_days(browser: Browser, coach: tuple[TestClient, str], world: World,
                                               clients: ClientWorld, clock: Clock) -> None:
    token = _issue(*coach, world.formosa, clients.member_id)
    clock.advance(days=7, seconds=1)
    refused = browser().get(f"/link/{token}")
    assert refused.status_code == 410
    assert "This sign-in link has expired" in refused.text and "此登入連結已過期" in refused.text


def test_a_shorter_expiry_is_a_setting(browser: Browser, world: World, clients: ClientWorld, clock: Clock) -> None:
    coach = browser(client_link_days=2)
    token = _issue(coach, sign_in(coach, "chen@example.com"), world.formosa, clients.member_id)
    clock.advance(days=1, hours=23)
    assert browser(client_link_days=2).get(f"/link/{token}").status_code == 200
    clock.advance(hours=1)
    assert browser(client_link_days=2).get(f"/link/{token}").status_code == 410


def test_a_revoked_link_is_refused(browser: Browser, coach: tuple[TestClient, str], world: World,
                                   clients: ClientWorld, engine: Engine) -> None:
    client, csrf = coach
    token = _issue(client, csrf, world.formosa, clients.member_id)
    with session_scope(make_session_factory(engine)) as session:
        link_id = session.scalars(select(ClientLink.id)).one()
    assert client.post(f"/engagements/{world.formosa}/links/{link_id}/revoke",
                       data={"csrf_token": csrf}).status_code == 303
    refused = browser().get(f"/link/{token}")
    assert refused.status_code == 410
    assert "This sign-in link was withdrawn" in refused.text and "此登入連結已被撤銷" in refused.text
    assert "revoked" in client.get(f"/engagements/{world.formosa}/links").text


def test_links_sent_to_one_person_are_rate_limited(coach: tuple[TestClient, str], world: World,
                                                   clients: ClientWorld, clock: Clock) -> None:
    client, csrf = coach
    for _ in range(5):
        _issue(client, csrf, world.formosa, clients.member_id)
    refused = client.post(f"/engagements/{world.formosa}/links", data={"csrf_token": csrf,
                                                                       "person_id": clients.member_id})
    assert refused.status_code == 429
    _issue(client, csrf, world.formosa, clients.lead_id)  # another person is not held back
    clock.advance(hours=1, minutes=15)
    _issue(client, csrf, world.formosa, clients.member_id)


def test_links_opened_from_one_address_are_rate_limited(browser: Browser, coach: tuple[TestClient, str],
                                                        world: World, clients: ClientWorld) -> None:
    token = _issue(*coach, world.formosa, clients.member_id)
    guesser = browser(client_link_open_failures=3)
    csrf = csrf_of(guesser.get(f"/link/{token}").text)
    for attempt in range(3):
        assert guesser.post(f"/link/not-a-link-{attempt}", data={"csrf_token": csrf}).status_code == 404
    throttled = guesser.post(f"/link/{token}", data={"csrf_token": csrf})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert "嘗試的登入連結過多" in throttled.text


def test_another_organization_is_not_found(browser: Browser, coach: tuple[TestClient, str], world: World,
                                           clients: ClientWorld) -> None:
    client, csrf = coach
    # A coach sends no link for a person of another organization, nor on an engagement not theirs.
    assert client.post(f"/engagements/{world.formosa}/links", data={
        "csrf_token": csrf, "person_id": clients.keelung_person_id}).status_code == 404
    assert client.post(f"/engagements/{world.keelung}/links", data={
        "csrf_token": csrf, "person_id": clients.keelung_person_id}).status_code == 404
    member = _open(browser(), _issue(client, csrf, world.formosa, clients.member_id))
    my_csrf = _my_csrf(member)
    for path in (f"/engagements/{world.keelung}", f"/engagements/{world.formosa}", "/portfolio", "/readiness",
                 f"/engagements/{world.formosa}/records", f"/engagements/{world.formosa}/links"):
        assert member.get(path).status_code == 404, path
    # Another person's task or key result, another engagement's task: 404, and nothing changes.
    assert member.post(f"/me/tasks/{clients.ceo_task_id}/done", data={"csrf_token": my_csrf, "done": "1"}
                       ).status_code == 404
    assert member.post("/me/support", data={"csrf_token": my_csrf, "level": "full"}).status_code == 404
    assert member.post("/me/meetings", data={"csrf_token": my_csrf, "kind": "one_on_one",
                                             "department_id": clients.department_id,
                                             "member_id": clients.member_id}).status_code == 404
    lead = _open(browser(), _issue(client, csrf, world.formosa, clients.lead_id))
    assert lead.post("/me/check-ins", data={"csrf_token": _my_csrf(lead), "key_result_id": clients.key_result_id,
                                            "value": "3"}).status_code == 404


def test_each_action_is_in_the_history_under_the_persons_name(
        browser: Browser, coach: tuple[TestClient, str], world: World, clients: ClientWorld, engine: Engine) -> None:
    client, csrf = coach
    member = _open(browser(), _issue(client, csrf, world.formosa, clients.member_id))
    my_csrf = _my_csrf(member)
    assert member.post("/me/check-ins", data={"csrf_token": my_csrf, "key_result_id": clients.key_result_id,
                                              "value": "12", "confidence": "7", "note": "Two dealers signed"}
                       ).status_code == 303
    with session_scope(make_session_factory(engine)) as session:
        item_id = session.get_one(Task, clients.member_task_id)
    assert member.post(f"/me/tasks/{clients.member_task_id}/done", data={"csrf_token": my_csrf, "done": "1"}
                       ).status_code == 303
    ceo = _open(browser(), _issue(client, csrf, world.formosa, world.ceo_id))
    assert "Appoint the internal coaches" in ceo.get("/me").text
    assert ceo.post("/me/support", data={"csrf_token": _my_csrf(ceo), "level": "full", "note": "All in"}
                    ).status_code == 303
    lead = _open(browser(), _issue(client, csrf, world.formosa, clients.lead_id))
    assert lead.post("/me/meetings", data={"csrf_token": _my_csrf(lead), "kind": "one_on_one",
                                           "department_id": clients.department_id, "member_id": clients.member_id}
                     ).status_code == 303
    with session_scope(make_session_factory(engine)) as session:
        check_in = session.scalars(select(CheckIn)).one()
        assert (check_in.value, check_in.confidence, check_in.author_id) == (12, 7, clients.member_id)
        assert session.get_one(Task, clients.member_task_id).done
        assert session.scalars(select(CeoSupportStatement.level)).one() == "full"
        meeting = session.scalars(select(Meeting)).one()
        assert (meeting.kind, meeting.attendee_ids) == ("one_on_one", [clients.lead_id, clients.member_id])
        actors = {e.type: e.actor for e in session.scalars(select(Event).where(Event.engagement_id == world.formosa))}
    assert item_id is not None
    assert actors["check_in.recorded"] == "client:Kao Member"
    assert actors["task.updated"] == "client:Kao Member"
    assert actors["ceo_support.stated"] == "client:Lee Ceo"
    assert actors["meeting.recorded"] == "client:Hsu Lead"
    history = client.get(f"/engagements/{world.formosa}").text
    for name in ("client:Kao Member", "client:Lee Ceo", "client:Hsu Lead"):
        assert name in history
    # The checklist is the person's too.
    other = browser()
    assert other.get("/me").status_code == 303  # not signed in: to the sign-in page


def test_tasks_go_to_the_people_of_their_role_when_the_phase_is_entered(
        world: World, clients: ClientWorld, engine: Engine) -> None:
    with session_scope(make_session_factory(engine)) as session:
        rows = session.execute(select(TaskAssignee.task_id, TaskAssignee.person_id)).all()
    assigned: dict[int, set[int]] = {}
    for task_id, person_id in rows:
        assigned.setdefault(task_id, set()).add(person_id)
    assert assigned[clients.ceo_task_id] == {world.ceo_id}
    assert clients.member_id in assigned[clients.member_task_id]
    assert world.ceo_id not in assigned[clients.member_task_id]


def test_the_page_is_in_the_persons_language(browser: Browser, engine: Engine, world: World, clock: Clock) -> None:
    clients = seed_clients(engine, world, clock.now, member_locale="zh-TW")
    coach = browser()
    token = _issue(coach, sign_in(coach, "chen@example.com"), world.formosa, clients.member_id)
    page = _open(browser(), token).get("/me").text
    assert "我的關鍵結果" in page and "完成第一次每週進度更新" in page
    assert "My key results" not in page


def test_the_journey_says_why_it_is_blocked_in_plain_words(browser: Browser, coach: tuple[TestClient, str],
                                                           world: World, clients: ClientWorld) -> None:
    member = _open(browser(), _issue(*coach, world.formosa, clients.member_id))
    page = member.get("/me").text
    journey = page[page.index('id="journey"'):]
    assert "Not yet, because:" in journey
    assert "meeting_kind" not in journey and "outcomes_missing" not in journey


def test_a_pulse_after_a_milestone_is_rated_and_summed_up_for_the_coach(
        browser: Browser, coach: tuple[TestClient, str], world: World, clients: ClientWorld, engine: Engine,
        clock: Clock) -> None:
    from okr_rollout.clients import pulses
    from okr_rollout.records import service as records
    from okr_rollout.records.context import context
    from okr_rollout.records.schemas import MeetingCreate
    from tests.web._seed import ADMIN, catalog

    with session_scope(make_session_factory(engine)) as session:
        ctx = context(session, ADMIN, catalog(), world.formosa, clock.now)
        # An executive meeting is no milestone of the playbook's pulse; a kickoff is.
        records.record_meeting(ctx, MeetingCreate(kind="executive", held_at=clock.now,
                                                  attendee_ids=[world.ceo_id, world.chen_person]))
        assert session.scalars(select(Pulse)).all() == []
        records.record_meeting(ctx, MeetingCreate(kind="kickoff", held_at=clock.now,
                                                  attendee_ids=[world.ceo_id, clients.member_id, world.chen_person]))
        asked = session.scalars(select(Pulse)).all()
        assert sorted(p.person_id for p in asked) == sorted([world.ceo_id, clients.member_id])  # not the coach
        token = pulses.invite(ctx, "quarter_review", "meeting", 10_000, clock.now.date(), [world.ceo_id])[world.ceo_id]
        assert session.scalars(select(Pulse.token_hash).where(Pulse.record_id == 10_000)).one() == (
            hashlib.sha256(token.encode()).hexdigest())
    client, csrf = coach
    member = _open(browser(), _issue(client, csrf, world.formosa, clients.member_id))
    page = member.get("/me").text
    assert "A minute for your opinion" in page and "Kickoff" in page
    pulse_id = int(re.search(r'action="/me/pulses/(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert member.post(f"/me/pulses/{pulse_id}", data={"csrf_token": _my_csrf(member), "rating": "6"}
                       ).status_code == 422
    assert member.post(f"/me/pulses/{pulse_id}", data={"csrf_token": _my_csrf(member), "rating": "4",
                                                       "comment": "Clear goals"}).status_code == 303
    assert "A minute for your opinion" not in member.get("/me").text
    anyone = browser()
    form = anyone.get(f"/pulse/{token}")
    assert form.status_code == 200 and 'name="rating"' in form.text
    answered = anyone.post(f"/pulse/{token}", data={"csrf_token": csrf_of(form.text), "rating": "2",
                                                    "comment": "Too long"})
    assert answered.status_code == 200 and "Your rating is recorded." in answered.text
    again = anyone.post(f"/pulse/{token}", data={"csrf_token": csrf_of(form.text), "rating": "5"})
    assert again.status_code == 200
    assert anyone.get("/pulse/not-a-pulse").status_code == 404
    engagement = client.get(f"/engagements/{world.formosa}").text
    results = engagement[engagement.index('id="pulse-results"'):]
    assert "Average 4 of 5" in results and "1 of 2 answered" in results and "Clear goals" in results
    assert "Average 2 of 5" in results and "Too long" in results
    # Below the playbook's pulse_low_average (3) is a health signal; 4 is not.
    assert results.count("Low rating: talk with the attendees about what to change.") == 1
    with session_scope(make_session_factory(engine)) as session:
        actors = [e.actor for e in session.scalars(select(Event).where(Event.type == "pulse.answered"))]
    assert actors == ["client:Kao Member", "client:Lee Ceo"]


def test_the_link_is_emailed_in_the_persons_language(browser: Browser, world: World, engine: Engine,
                                                     clock: Clock) -> None:
    from okr_rollout.models import Notification, Person

    clients = seed_clients(engine, world, clock.now, member_locale="zh-TW")
    with session_scope(make_session_factory(engine)) as session:
        session.get_one(Person, clients.member_id).email = "kao@formosa.example"
    coach = browser(smtp_host="127.0.0.1", public_url="https://okr.example")
    response = coach.post(f"/engagements/{world.formosa}/links", data={
        "csrf_token": sign_in(coach, "chen@example.com"), "person_id": clients.member_id})
    assert response.status_code == 201 and "It was e-mailed to them." in response.text
    token = LINK.search(response.text).group(1)  # type: ignore[union-attr]
    with session_scope(make_session_factory(engine)) as session:
        mail = session.scalars(select(Notification).where(Notification.channel == "email")).one()
    assert (mail.person_id, mail.status, mail.locale) == (clients.member_id, "pending", "zh-TW")
    assert f"https://okr.example/link/{token}" in mail.body and "只能使用一次" in mail.body
    assert "Formosa Bikes" in mail.subject
