"""Health, explained: GET /api/v1/engagements/{id}/health, the health the portfolio sorts, filters and explains
by, kept by the readiness watch (``engagement.health_changed`` when a status changes), in a fixed number of
statements whatever the number of engagements."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.catalog.service import Catalog
from okr_rollout.clients import pulses
from okr_rollout.engagements.health import health_now
from okr_rollout.engagements.readiness_watch import note_readiness_changes
from okr_rollout.journey.health import URGENCY
from okr_rollout.models import Engagement, Person, Pulse
from okr_rollout.portfolio.service import portfolio_phase_health_counts
from okr_rollout.webhooks.mapping import PUBLIC_EVENT_TYPES, public_event_type
from tests.api import test_portfolio
from tests.api._helpers import assert_problem
from tests.api.test_portfolio import COACH_EMAIL, api_rows, counting, page_rows, seed
from tests.conftest import Clock, Tokens, auth
from tests.web.conftest import sign_in

client = test_portfolio.client  # the portfolio tests' app, with a coach and an administrator who sign in


def health(client: TestClient, token: str, engagement_id: int, language: str = "en") -> dict[str, Any]:
    response = client.get(f"/api/v1/engagements/{engagement_id}/health",
                          headers={**auth(token), "Accept-Language": language})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def signals(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {signal["id"]: signal for signal in body["signals"]}


def watch(db: Callable[[], Session], catalog: Catalog, clock: Clock) -> None:
    with db() as session:
        note_readiness_changes(session, catalog, clock.now)


def rate(db: Callable[[], Session], clock: Clock, engagement_id: int, milestone: str, held_on: date,
         ratings: list[int | None]) -> None:
    """A milestone held with one attendee of the client per rating, each answering (None: not yet) as the pulse
    service records it."""
    with db() as session:
        organization_id = session.get_one(Engagement, engagement_id).organization_id
        for index, rating in enumerate(ratings):
            person = Person(organization_id=organization_id, name=f"Attendee {milestone} {index}", roles=["member"])
            session.add(person)
            session.flush()
            pulse = Pulse(engagement_id=engagement_id, milestone=milestone, record_kind="meeting",
                          record_id=engagement_id * 1000 + held_on.toordinal() % 1000, held_on=held_on,
                          person_id=person.id, token_hash=pulses.hash_pulse(f"{engagement_id}-{milestone}-{index}"),
                          comment="", created_at=clock.now)
            session.add(pulse)
            session.flush()
            if rating is not None:
                pulses.answer(session, pulse, rating, "", actor="client:test", organization_id=organization_id,
                              now=clock.now)
        session.commit()


def test_a_low_pulse_average_puts_an_engagement_at_risk(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock, catalog: Catalog) -> None:
    world = seed(client, tokens, db, clock)
    drafting = world.mine[2]
    assert health(client, tokens.coach, drafting)["status"] == "on_track"
    assert "pulse" not in signals(health(client, tokens.coach, drafting))
    held = clock.now.date() - timedelta(days=1)
    rate(db, clock, drafting, "pilot_training", held, [2, 2, 3, None])  # 7 / 3 = 2.3, below 3
    body = health(client, tokens.coach, drafting)
    pulse = signals(body)["pulse"]
    assert body["status"] == "at_risk" and pulse["status"] == "at_risk"
    assert pulse["reason"] == (
        f"The pilot training of {held.isoformat()} was rated 2.3 / 5 by 3 of 4 attendees (below 3).")
    assert pulse["reasons"]["zh-TW"] == f"{held.isoformat()} 的試點培訓獲 4 位出席者中的 3 位評為 2.3 / 5(低於 3)。"
    assert pulse["evidence"] == {"held_on": held.isoformat(), "average": 2.3, "answered": 3, "asked": 4,
                                 "low_average": 3.0}
    watch(db, catalog, clock)  # the portfolio says why, from the kept health
    row = next(r for r in api_rows(client, tokens.coach)["items"] if r["engagement_id"] == drafting)
    assert row["health"] == "at_risk" and any("rated 2.3 / 5" in r["reasons"]["en"] for r in row["health_reasons"])

    rate(db, clock, drafting, "kickoff", clock.now.date(), [4, 5])  # a later milestone rated well
    assert signals(health(client, tokens.coach, drafting))["pulse"]["status"] == "on_track"
    assert health(client, tokens.coach, drafting)["status"] == "on_track"
    watch(db, catalog, clock)
    row = next(r for r in api_rows(client, tokens.coach)["items"] if r["engagement_id"] == drafting)
    assert row["health"] == "on_track"


def test_the_health_of_an_engagement_with_every_reason(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock) -> None:
    world = seed(client, tokens, db, clock)
    drafting = world.mine[2]  # in pilot drafting for a day, about 21 expected
    body = health(client, tokens.coach, drafting)
    assert (body["engagement_id"], body["phase"], body["status"]) == (drafting, "pilot_drafting", "on_track")
    assert body["title"] == {"en": "On track", "zh-TW": "進展順利"}
    pace = signals(body)["pace"]
    assert pace["status"] == "on_track" and pace["evidence"]["expected_days"] == 21
    assert pace["reason"] == pace["reasons"]["en"] == "1 of the 21 days expected in Pilot drafting meetings."

    clock.advance(days=16)  # tasks overdue, nothing recorded for 16 days
    body = health(client, tokens.coach, drafting, "zh-TW")
    found = signals(body)
    assert body["status"] == "at_risk"
    assert found["overdue_tasks"]["status"] == found["activity"]["status"] == "at_risk"
    assert found["overdue_tasks"]["reason"] == found["overdue_tasks"]["reasons"]["zh-TW"]
    assert "逾期" in found["overdue_tasks"]["reason"]

    clock.advance(days=30)  # 47 days in a phase expected to take 21: more than twice its pace
    found = signals(health(client, tokens.coach, drafting))
    assert found["pace"]["status"] == found["activity"]["status"] == "stuck"
    assert found["pace"]["reason"].startswith("47 days in Pilot drafting meetings, more than 2 times the 21")

    # Whoever may not see the engagement gets 404, as for its other views.
    assert_problem(client.get(f"/api/v1/engagements/{world.others[0]}/health", headers=auth(tokens.coach)), 404)
    assert_problem(client.get(f"/api/v1/engagements/{drafting}/health"), 401)


def test_the_portfolio_sorts_filters_and_explains_by_health(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock, catalog: Catalog) -> None:
    world = seed(client, tokens, db, clock)
    every = world.mine + world.others
    assert {row["health"] for row in api_rows(client, tokens.admin)["items"]} <= {None, *URGENCY}
    clock.advance(days=1)
    watch(db, catalog, clock)
    rows = api_rows(client, tokens.admin, sort="health")["items"]
    assert sorted(row["engagement_id"] for row in rows) == sorted(every)
    ranks = [URGENCY.index(row["health"]) for row in rows]
    assert ranks == sorted(ranks) and len(set(ranks)) > 1, rows
    for row in rows:  # each row says why, by the signals that decided its status
        assert row["health_reasons"] and all(r["status"] == row["health"] for r in row["health_reasons"])
        assert row["health"] == health(client, tokens.admin, row["engagement_id"])["status"]
    for status in URGENCY:
        only = api_rows(client, tokens.admin, health=status)["items"]
        assert [r["engagement_id"] for r in only] == [r["engagement_id"] for r in rows if r["health"] == status]
    assert_problem(client.get("/api/v1/portfolio?health=fine", headers=auth(tokens.admin)), 422)

    sign_in(client, COACH_EMAIL)  # the page: by urgency by default, each row with its reasons
    mine = [r["engagement_id"] for r in api_rows(client, tokens.coach, sort="health")["items"]]
    assert page_rows(client) == mine
    page = client.get("/portfolio").text
    assert "health-" in page and 'class="reasons"' in page
    at_risk = [r["engagement_id"] for r in api_rows(client, tokens.coach, health="at_risk")["items"]]
    assert page_rows(client, health="at_risk") == at_risk
    engagement_page = client.get(f"/engagements/{world.mine[2]}").text
    assert 'id="health"' in engagement_page and 'data-signal="overdue_tasks"' in engagement_page


def test_a_change_of_status_is_an_engagement_health_changed_event(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock, catalog: Catalog) -> None:
    world = seed(client, tokens, db, clock)
    drafting = world.mine[2]
    watch(db, catalog, clock)  # the baseline: no change recorded

    def changes() -> list[dict[str, Any]]:
        items = client.get(f"/api/v1/engagements/{drafting}/events?limit=200",
                           headers=auth(tokens.admin)).json()["items"]
        return [e for e in items if e["type"] == "engagement.health_changed"]

    assert changes() == []
    clock.advance(days=16)
    watch(db, catalog, clock)
    [change] = changes()
    assert (change["payload"]["before"], change["payload"]["after"]) == ("on_track", "at_risk")
    assert {r["id"] for r in change["payload"]["reasons"]} >= {"overdue_tasks"}
    watch(db, catalog, clock)
    assert len(changes()) == 1  # no change, no event
    assert "engagement.health_changed" in PUBLIC_EVENT_TYPES
    assert public_event_type("engagement.health_changed", change["payload"]) == "engagement.health_changed"


def test_health_for_a_whole_portfolio_in_a_fixed_number_of_statements(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock, engine: Engine,
        catalog: Catalog) -> None:
    counts = []
    ids: list[int] = []
    for batch in range(2):  # five engagements, then ten, the second five with rated pulses
        world = seed(client, tokens, db, clock)
        ids += world.mine + world.others
        if batch:
            for engagement_id in world.mine + world.others:
                rate(db, clock, engagement_id, "pilot_training", clock.now.date(), [1, 2])
        with db() as session:
            health_now(session, catalog, ids, clock.now)  # the playbook snapshot read once, as later calls find it
            with counting(engine) as statements:
                found = health_now(session, catalog, ids, clock.now)
            assert sorted(found) == sorted(ids)
            assert any(signal.id == "pulse" for signal in found[ids[-1]].signals) == bool(batch)
        assert sum("pulses" in statement for statement in statements) == 1
        counts.append(len(statements))
        for query in ({"sort": "health"}, {"health": "on_track"}):
            with counting(engine) as statements:
                api_rows(client, tokens.admin, **query)
            counts.append(len(statements))
    assert counts[:3] == counts[3:]


def test_the_count_of_engagements_per_phase_and_health(
        client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock, catalog: Catalog) -> None:
    seed(client, tokens, db, clock)
    watch(db, catalog, clock)
    rows = api_rows(client, tokens.admin)["items"]
    with db() as session:
        counts = portfolio_phase_health_counts(session, Caller(token_id=0, name="admin", role=Role.admin), catalog)
    expected: dict[tuple[str, str | None], int] = {}
    for row in rows:
        expected[(row["phase"], row["health"])] = expected.get((row["phase"], row["health"]), 0) + 1
    assert {(c.phase, c.status): c.count for c in counts} == expected
    assert [c.phase_index for c in counts] == sorted(c.phase_index for c in counts)

