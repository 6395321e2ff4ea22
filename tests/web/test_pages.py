"""The portfolio and the engagement page: visibility as in the API, checklists, the gate and its report."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from okr_rollout.models import ChecklistItem, Engagement, Event, Organization, Task
from tests.conftest import Clock
from tests.web._pages import post_form, text_of
from tests.web._seed import World
from tests.web.conftest import sign_in


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-engagement="\d+">\s*<td[^>]*><a [^>]*>([^<]+)</a>', html)


def test_the_portfolio_lists_only_ones_own_engagements(web: TestClient, world: World) -> None:
    sign_in(web, "chen@example.com")
    page = web.get("/portfolio").text
    assert _rows(page) == ["Formosa Bikes"]
    assert "Executive meeting" in page and "0 / 2" in page  # phase, and the next gate: 0 of 2 criteria
    web.cookies.clear()
    sign_in(web, "admin@example.com")
    assert _rows(web.get("/portfolio").text) == ["Formosa Bikes", "Keelung Logistics"]


def test_the_portfolio_filters_and_sorts(web: TestClient, world: World, clock: Clock) -> None:
    sign_in(web, "admin@example.com")
    assert _rows(web.get("/portfolio?phase=coach_engaged").text) == ["Keelung Logistics"]
    assert _rows(web.get("/portfolio?sort=phase&order=desc").text) == ["Formosa Bikes", "Keelung Logistics"]
    assert _rows(web.get("/portfolio?sort=organization&order=desc").text) == ["Keelung Logistics", "Formosa Bikes"]
    assert _rows(web.get("/portfolio?attention=true").text) == []
    clock.advance(days=8)  # each first task (due 7 days after its phase began) is overdue
    sign_in(web, "admin@example.com")  # the session of 8 days ago has ended
    page = web.get("/portfolio?attention=true").text
    assert _rows(page) == ["Formosa Bikes", "Keelung Logistics"]
    assert "Overdue tasks" in page and "No recent activity" not in page
    clock.advance(days=10)
    sign_in(web, "admin@example.com")
    assert "No recent activity" in web.get("/portfolio").text


def test_the_portfolio_has_a_useful_empty_state(web: TestClient, world: World, db: Callable[[], Session],
                                               clock: Clock) -> None:
    from okr_rollout.models import Person, User
    from tests.web._seed import password_hash

    with db() as session:
        newcomer = Person(name="New Coach", roles=["coach"], created_at=clock.now)
        session.add(newcomer)
        session.flush()
        session.add(User(email="new@example.com", password_hash=password_hash(), role="coach",
                         person_id=newcomer.id, created_at=clock.now))
    sign_in(web, "new@example.com")
    page = web.get("/portfolio").text
    assert "No engagement yet" in page and "You are not assigned to any client engagement" in page


def test_what_a_person_may_not_see_is_not_found(web: TestClient, world: World) -> None:
    token = sign_in(web, "lin@example.com")
    for url in (f"/engagements/{world.formosa}", f"/engagements/{world.formosa}/records",
                f"/engagements/{world.formosa}/records/meeting",
                f"/engagements/{world.formosa}/documents/kickoff_worksheet"):
        response = web.get(url)
        assert response.status_code == 404, url
        assert "Not found" in response.text and "Formosa" not in response.text
    status, _, _ = post_form(web, token, f"/engagements/{world.formosa}/transitions",
                             {"trigger": "hold_kickoff"})
    assert status == 404


def test_a_page_of_an_id_no_row_can_have_is_not_found(web: TestClient, world: World) -> None:
    """Past the largest id (PostgreSQL refuses to compare it with its INTEGER ids): the same page as any unknown
    id, on both databases."""
    sign_in(web, "chen@example.com")
    for number in ("2147483648", "9223372036854775808"):
        for url in (f"/engagements/{number}", f"/engagements/{number}/records",
                    f"/engagements/{number}/documents/kickoff_worksheet"):
            response = web.get(url)
            assert response.status_code == 404, (url, response.text[:300])
            assert "Not found" in response.text and response.headers["content-type"].startswith("text/html")


def test_the_engagement_page_shows_journey_tasks_readiness_history_and_facts(web: TestClient,
                                                                             world: World) -> None:
    sign_in(web, "chen@example.com")
    page = web.get(f"/engagements/{world.formosa}").text
    assert re.search(r'<g class="phase current" data-phase="executive_meeting">', page)
    assert re.search(r'<g class="phase done" data-phase="coach_engaged">', page)
    assert "stateDiagram-v2" in page  # the Mermaid source beside the drawing
    assert "Prepare the executive meeting" in page and "Invite the CEO, GMs, VPs and C-suite" in page
    assert 'data-criterion="executive_outcomes"' in page and "No statement of CEO support is recorded." in page
    assert 'value="hold_kickoff"' in page  # the transition button
    history = text_of(page[page.index('id="history"'):])
    assert "Moved to the next phase Coach engaged → Executive meeting" in history
    assert "Slow launches" in page  # organization facts
    for document in ("executive_meeting_agenda", "kickoff_worksheet", "pilot_training_plan", "quarter_review",
                     "expansion_readiness_report"):
        assert f"/documents/{document}" in page


def test_ticking_a_checklist_item_persists_and_is_history(web: TestClient, world: World,
                                                          db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    with db() as session:
        task, item = session.execute(
            select(Task.id, ChecklistItem.id).join(ChecklistItem, ChecklistItem.task_id == Task.id)
            .where(Task.engagement_id == world.formosa, ChecklistItem.item_key == "send_agenda")).one()
    url = f"/engagements/{world.formosa}/tasks/{task}/checklist/{item}"
    status, location, _ = post_form(web, token, url, {"checked": "1"})
    assert (status, location) == (303, f"/engagements/{world.formosa}#task-{task}")
    assert re.search(r'aria-checked="true" data-item="send_agenda"', web.get(f"/engagements/{world.formosa}").text)
    post_form(web, token, url, {"checked": "0"})
    assert re.search(r'aria-checked="false" data-item="send_agenda"', web.get(f"/engagements/{world.formosa}").text)
    with db() as session:
        types = list(session.scalars(select(Event.type).where(Event.engagement_id == world.formosa)
                                     .order_by(Event.id)))
    assert types[-2:] == ["checklist.checked", "checklist.unchecked"]


def test_a_task_of_another_engagement_is_not_found(web: TestClient, world: World,
                                                   db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    with db() as session:
        other = session.scalar(select(Task.id).where(Task.engagement_id == world.keelung))
    status, _, _ = post_form(web, token, f"/engagements/{world.formosa}/tasks/{other}/done", {"done": "1"})
    assert status == 404


def test_marking_a_task_done(web: TestClient, world: World, db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    with db() as session:
        task = session.scalar(select(Task.id).where(Task.engagement_id == world.formosa,
                                                    Task.task_key == "prepare_executive_meeting"))
    assert post_form(web, token, f"/engagements/{world.formosa}/tasks/{task}/done", {"done": "1"})[0] == 303
    with db() as session:
        assert session.scalar(select(Task.done).where(Task.id == task)) is True


def test_a_refused_transition_shows_its_report_and_changes_nothing(web: TestClient, world: World,
                                                                    db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    status, location, _ = post_form(web, token, f"/engagements/{world.formosa}/transitions",
                                    {"trigger": "hold_kickoff"})
    assert (status, location) == (303, f"/engagements/{world.formosa}?refused=hold_kickoff#readiness")
    report = web.get(location.split("#")[0]).text
    refusal = text_of(report[report.index('id="refusal"'):report.index('id="readiness"')])
    assert "Transition refused: Hold the kickoff meeting" in refusal
    assert "No executive meeting has been held yet." in refusal
    assert "No statement of CEO support is recorded." in refusal
    with db() as session:
        engagement = session.get(Engagement, world.formosa)
        assert engagement is not None and engagement.phase == "executive_meeting"
        refused = session.scalars(select(Event).where(Event.type == "gate.refused")).all()
        assert [e.payload["failed"] for e in refused] == [["executive_outcomes", "ceo_backing"]]


def test_a_nul_character_in_a_form_without_fields_to_show_is_refused_whole(web: TestClient, world: World,
                                                                          db: Callable[[], Session]) -> None:
    """Buttons and hidden fields: the shared form parser refuses the NUL before any handler reads the form."""
    token = sign_in(web, "chen@example.com")
    status, location, page = post_form(web, token, f"/engagements/{world.formosa}/transitions",
                                       {"trigger": "hold_kickoff\0"})
    assert (status, location) == (422, "")
    assert "This could not be done" in page and "body.trigger" in page and "\0" not in page
    forged = web.post(f"/engagements/{world.formosa}/transitions", data={"trigger": "\0", "csrf_token": "forged"})
    assert forged.status_code == 403  # the CSRF token is checked first, as for any form
    with db() as session:
        engagement = session.get(Engagement, world.formosa)
        assert engagement is not None and engagement.phase == "executive_meeting"
        assert session.scalars(select(Event).where(Event.type == "gate.refused")).all() == []


def test_recording_the_missing_facts_opens_the_gate(web: TestClient, world: World,
                                                    db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    back = f"/engagements/{world.formosa}#readiness"
    status, location, body = post_form(web, token, f"/engagements/{world.formosa}/records/meeting", {
        "kind": "executive", "held_at": "2026-01-05T10:00", "next": back,
        "outcomes": ["ceo_support", "okrs_introduced", "expectations_set"],
        "attendee_ids": [str(world.ceo_id), str(world.chen_person)]})
    assert (status, location) == (303, back), body
    assert post_form(web, token, f"/engagements/{world.formosa}/records/ceo-support",
                     {"level": "full", "stated_on": "2026-01-05"})[0] == 303
    status, location, _ = post_form(web, token, f"/engagements/{world.formosa}/transitions",
                                    {"trigger": "hold_kickoff"})
    assert location == f"/engagements/{world.formosa}?moved=executive_meeting"
    assert "The engagement moved from “Executive meeting” to “Kickoff meeting”." in web.get(location).text
    with db() as session:
        engagement = session.get(Engagement, world.formosa)
        assert engagement is not None and engagement.phase == "kickoff"


def test_an_internal_coach_reads_but_does_not_move_the_journey(web: TestClient, world: World) -> None:
    token = sign_in(web, "wang@example.com")
    page = web.get(f"/engagements/{world.formosa}").text
    assert "Formosa Bikes" in page and 'name="trigger"' not in page
    assert post_form(web, token, f"/engagements/{world.formosa}/transitions", {"trigger": "hold_kickoff"})[0] == 404
    assert web.get(f"/engagements/{world.keelung}").status_code == 404


def test_the_readiness_page_shows_the_four_expansion_conditions(web: TestClient, world: World) -> None:
    sign_in(web, "wang@example.com")
    page = web.get("/readiness").text
    assert page.count('data-criterion="') == 4
    for criterion in ("pilot_success", "internal_coaches_trained", "okr_master_ready", "ceo_full_support"):
        assert f'data-criterion="{criterion}"' in page
    text = text_of(page)
    assert "0 of 4 conditions hold for “Expansion to other departments”." in text
    assert "What is left to do" in text and "Phases still ahead: Kickoff meeting → Pilot training" in text
    assert "Open task: Prepare the executive meeting" in text


def test_text_from_the_records_is_escaped(web: TestClient, world: World, db: Callable[[], Session]) -> None:
    with db() as session:
        organization = session.get(Organization, world.formosa_org)
        assert organization is not None
        organization.mission = "<script>alert('x')</script>"
    sign_in(web, "chen@example.com")
    page = web.get(f"/engagements/{world.formosa}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_pages_carry_security_headers(web: TestClient, world: World) -> None:
    response = web.get("/sign-in")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
