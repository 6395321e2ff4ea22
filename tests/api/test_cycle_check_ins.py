"""Weekly check-ins (validation, the key result's current value, history), scores and decisions."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from tests.api._cycle import (
    Q1_END,
    Q1_START,
    Q2_END,
    Q2_START,
    Cycle,
    assert_invalid,
    kr,
    move_to,
    new_cycle,
    week,
)
from tests.api._helpers import assert_problem
from tests.conftest import Clock, Tokens


def _one_key_result(cycle: Cycle) -> tuple[int, int, int]:
    """Q1 with one OKR of one key result: (quarter id, OKR id, key result id)."""
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)
    okr = cycle.okr(q1["id"], "Win the mid-market", key_results=[kr("Qualified leads", 10, 50, "leads")])
    return q1["id"], okr["id"], okr["key_results"][0]["id"]


# --- check-ins ---------------------------------------------------------------------------------------------------


def test_check_in_is_recorded_and_moves_the_key_result(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    cycle.department("Sales")
    cycle.person("Ann", "Sales")
    q1, okr_id, kr_id = _one_key_result(cycle)
    move_to(clock, week(Q1_START, 2))
    response = cycle.post_check_in(q1, kr_id, Q1_START, 20, confidence=7, note="Two new partners",
                                   author_id=cycle.people["Ann"])
    assert response.status_code == 201, response.text
    check_in = response.json()
    assert (check_in["key_result_id"], check_in["week_of"], check_in["value"], check_in["confidence"],
            check_in["note"], check_in["author_id"]) == (kr_id, "2026-01-05", 20, 7, "Two new partners",
                                                         cycle.people["Ann"])
    assert cycle.get(f"/okrs/{okr_id}")["key_results"][0]["current"] == 20
    (event,) = cycle.events("check_in.recorded")
    assert event["payload"] == {"check_in_id": check_in["id"], "key_result_id": kr_id, "okr_id": okr_id,
                                "week_of": "2026-01-05", "value": 20, "confidence": 7}


def test_current_follows_the_latest_week_and_a_late_check_in_does_not_rewind_it(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    cycle = new_cycle(app_client, tokens)
    q1, okr_id, kr_id = _one_key_result(cycle)

    def current() -> float:
        return float(cycle.get(f"/okrs/{okr_id}")["key_results"][0]["current"])

    move_to(clock, week(Q1_START, 3))
    cycle.check_in(q1, kr_id, week(Q1_START, 1), 20)
    assert current() == 20
    cycle.check_in(q1, kr_id, week(Q1_START, 2), 30)
    assert current() == 30
    # Week 1 entered late, with a lower value: week 2 is still the latest week.
    cycle.check_in(q1, kr_id, week(Q1_START, 1), 5)
    assert current() == 30
    # A correction for the latest week is taken.
    cycle.check_in(q1, kr_id, week(Q1_START, 2), 32)
    assert current() == 32
    # A value going down in a later week is taken too: current is the latest, not the highest.
    cycle.check_in(q1, kr_id, week(Q1_START, 3), 28)
    assert current() == 28

    history = cycle.get(f"/key-results/{kr_id}/check-ins")
    assert [(c["week_of"], c["value"]) for c in history] == [
        ("2026-01-05", 20), ("2026-01-05", 5), ("2026-01-12", 30), ("2026-01-12", 32), ("2026-01-19", 28)]
    assert len(cycle.events("check_in.recorded")) == 5


def test_check_in_history_is_in_week_order_whatever_the_order_of_entry(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    cycle = new_cycle(app_client, tokens)
    q1, _, kr_id = _one_key_result(cycle)
    move_to(clock, Q1_END)
    for n in [5, 1, 12, 3, 2]:
        cycle.check_in(q1, kr_id, week(Q1_START, n) + timedelta(days=2), 10 + n)
    history = cycle.get(f"/key-results/{kr_id}/check-ins")
    assert [c["value"] for c in history] == [11, 12, 13, 15, 22]
    assert [c["week_of"] for c in history] == sorted(c["week_of"] for c in history)


def test_check_in_on_a_key_result_of_another_quarter_is_422(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    cycle = new_cycle(app_client, tokens)
    _, _, kr_id = _one_key_result(cycle)
    q2 = cycle.quarter("Q2", Q2_START, Q2_END)
    move_to(clock, week(Q2_START, 2))
    problem = assert_invalid(cycle.post_check_in(q2["id"], kr_id, Q2_START, 40), "body.key_result_id",
                             "other_quarter")
    assert "Q1" in problem["detail"]
    assert cycle.get(f"/key-results/{kr_id}/check-ins") == []
    assert cycle.events("check_in.recorded") == []


def test_check_in_on_a_key_result_of_another_engagement_is_422(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    ours, theirs = new_cycle(app_client, tokens), new_cycle(app_client, tokens)
    q1 = ours.quarter("Q1", Q1_START, Q1_END)
    _, _, their_kr = _one_key_result(theirs)
    move_to(clock, week(Q1_START, 2))
    assert_invalid(ours.post_check_in(q1["id"], their_kr, Q1_START, 1), "body.key_result_id", "unknown_key_result")
    assert_problem(app_client.get(f"{ours.base}/key-results/{their_kr}/check-ins",
                                  headers={"Authorization": f"Bearer {tokens.coach}"}), 404)


def test_check_in_outside_the_quarter_is_422(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    q1, _, kr_id = _one_key_result(cycle)
    move_to(clock, Q2_START + timedelta(days=10))
    for outside in [Q1_START - timedelta(days=1), Q1_END + timedelta(days=1)]:
        problem = assert_invalid(cycle.post_check_in(q1, kr_id, outside, 12), "body.week_of", "outside_quarter")
        assert outside.isoformat() in problem["detail"]
    # The quarter's first and last days are inside.
    cycle.check_in(q1, kr_id, Q1_START, 11)
    cycle.check_in(q1, kr_id, Q1_END, 12)
    assert len(cycle.get(f"/key-results/{kr_id}/check-ins")) == 2


def test_check_in_in_the_future_is_422(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    q1, _, kr_id = _one_key_result(cycle)
    move_to(clock, date(2026, 1, 20))
    problem = assert_invalid(cycle.post_check_in(q1, kr_id, date(2026, 1, 21), 12), "body.week_of", "future_date")
    assert "2026-01-20" in problem["detail"]
    assert cycle.post_check_in(q1, kr_id, date(2026, 1, 20), 12).status_code == 201  # today is not the future


def test_future_is_judged_by_the_organization_s_calendar(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    """Monday 07:30 in Taipei is still Sunday in UTC: a check-in for that Monday is not in the future there,
    while Sunday 18:00 in Los Angeles is already Monday in UTC: Monday is still the future there."""
    taipei = new_cycle(app_client, tokens, timezone="Asia/Taipei")
    los_angeles = new_cycle(app_client, tokens, timezone="America/Los_Angeles")
    tpe_q1, _, tpe_kr = _one_key_result(taipei)
    lax_q1, _, lax_kr = _one_key_result(los_angeles)
    monday = week(Q1_START, 2)  # 2026-01-12
    move_to(clock, monday - timedelta(days=1))
    clock.advance(hours=23 - clock.now.hour, minutes=30)  # 2026-01-11 23:30 UTC = 2026-01-12 07:30 in Taipei
    assert taipei.post_check_in(tpe_q1, tpe_kr, monday, 12).status_code == 201
    clock.advance(hours=2)  # 2026-01-12 01:30 UTC = 2026-01-11 17:30 in Los Angeles
    assert_invalid(los_angeles.post_check_in(lax_q1, lax_kr, monday, 12), "body.week_of", "future_date")


def test_check_in_confidence_above_the_playbook_scale_is_422(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    cycle = new_cycle(app_client, tokens)
    q1, okr_id, kr_id = _one_key_result(cycle)
    move_to(clock, week(Q1_START, 2))
    # The standard playbook's check_in_confidence_max is 10 (a 0-10 scale).
    problem = assert_invalid(cycle.post_check_in(q1, kr_id, Q1_START, 12, confidence=10.5), "body.confidence",
                             "confidence_scale")
    assert "10" in problem["detail"]
    assert cycle.get(f"/okrs/{okr_id}")["key_results"][0]["current"] == 10  # unchanged
    assert assert_problem(cycle.post_check_in(q1, kr_id, Q1_START, 12, confidence=-1), 422)["errors"]
    assert cycle.check_in(q1, kr_id, Q1_START, 12, confidence=10)["confidence"] == 10
    assert cycle.check_in(q1, kr_id, Q1_START, 13, confidence=0)["confidence"] == 0
    assert cycle.check_in(q1, kr_id, Q1_START, 14)["confidence"] is None


def test_check_in_author_of_another_organization_is_422(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    ours, theirs = new_cycle(app_client, tokens), new_cycle(app_client, tokens)
    theirs.department("Sales")
    theirs.person("Sam", "Sales")
    q1, _, kr_id = _one_key_result(ours)
    move_to(clock, week(Q1_START, 2))
    assert_invalid(ours.post_check_in(q1, kr_id, Q1_START, 12, author_id=theirs.people["Sam"]), "body.author_id",
                   "foreign_organization")


def test_a_coach_of_another_engagement_can_neither_record_nor_read_the_cycle(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    cycle = new_cycle(app_client, tokens)
    q1, okr_id, kr_id = _one_key_result(cycle)
    move_to(clock, week(Q1_START, 2))
    stranger = Cycle(app_client, tokens.other_coach, cycle.journey, tokens.admin, departments=cycle.departments)
    assert_problem(stranger.post_check_in(q1, kr_id, Q1_START, 12), 404)
    assert_problem(stranger.put_score(okr_id, 0.7), 404)
    assert_problem(stranger.post_okr(q1, "Sneak in"), 404)
    for path in [f"/quarters/{q1}/review", f"/key-results/{kr_id}/check-ins", f"/okrs/{okr_id}"]:
        assert_problem(app_client.get(f"{cycle.base}{path}", headers={"Authorization": f"Bearer {tokens.other_coach}"}),
                       404)
    assert cycle.get(f"/key-results/{kr_id}/check-ins") == []
    assert cycle.get(f"/okrs/{okr_id}")["score"] is None


# --- scores ------------------------------------------------------------------------------------------------------


def test_score_must_be_on_the_playbook_scale(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    _, okr_id, _ = _one_key_result(cycle)
    move_to(clock, Q1_END)
    for off in [0.5, 0.6, 1.2, -0.3]:
        problem = assert_invalid(cycle.put_score(okr_id, off), "body.score", "off_scale")
        assert "0.7" in problem["detail"]
    assert cycle.get(f"/okrs/{okr_id}")["score"] is None
    scored = cycle.score(okr_id, 0.7)
    assert scored["score"] == 0.7
    assert cycle.get(f"/okrs/{okr_id}")["score"] == 0.7
    for on_scale in [0.0, 0.3, 1.0]:
        assert cycle.score(okr_id, on_scale)["score"] == on_scale
    assert [e["payload"]["score"] for e in cycle.events("okr.scored")] == [0.7, 0.0, 0.3, 1.0]
    (first, *_) = cycle.events("okr.scored")
    assert first["payload"] == {"okr_id": okr_id, "quarter_id": cycle.get(f"/okrs/{okr_id}")["quarter_id"],
                                "score": 0.7}


def test_scoring_the_same_score_again_changes_nothing(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    _, okr_id, _ = _one_key_result(cycle)
    move_to(clock, Q1_END)
    version = cycle.score(okr_id, 0.3)["version"]
    assert cycle.score(okr_id, 0.3)["version"] == version
    assert len(cycle.events("okr.scored")) == 1


# --- decisions ---------------------------------------------------------------------------------------------------


def test_decision_waits_until_every_okr_of_the_quarter_is_scored(app_client: TestClient, tokens: Tokens,
                                                                 clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)
    first, second = (cycle.okr(q1["id"], f"Objective {n}")["id"] for n in (1, 2))
    move_to(clock, Q1_END)
    problem = assert_invalid(cycle.put_decision(first, "complete"), "body.decision", "quarter_not_scored")
    assert str(first) in problem["detail"] and str(second) in problem["detail"]
    cycle.score(first, 1.0)
    problem = assert_invalid(cycle.put_decision(first, "complete"), "body.decision", "quarter_not_scored")
    assert str(second) in problem["detail"]
    assert cycle.get(f"/okrs/{first}")["decision"] is None
    assert cycle.events("okr.decided") == []

    cycle.score(second, 0.3)
    decided = cycle.decide(first, "complete")
    assert decided["okr"]["decision"] == "complete"
    assert decided["carried_to"] is None
    assert cycle.get(f"/okrs/{first}")["decision"] == "complete"
    (event,) = cycle.events("okr.decided")
    assert event["payload"] == {"okr_id": first, "quarter_id": q1["id"], "decision": "complete"}


def test_an_unscored_okr_of_another_quarter_does_not_hold_the_decision(app_client: TestClient, tokens: Tokens,
                                                                       clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)
    q2 = cycle.quarter("Q2", Q2_START, Q2_END)
    done = cycle.okr(q1["id"], "Done")["id"]
    cycle.okr(q2["id"], "Not scored yet")
    move_to(clock, Q1_END)
    cycle.score(done, 1.0)
    assert cycle.decide(done, "complete")["okr"]["decision"] == "complete"


def test_unknown_decision_is_422(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    quarter_id, okr_id, _ = _one_key_result(cycle)
    move_to(clock, Q1_END)
    cycle.score(okr_id, 0.7)
    problem = assert_invalid(cycle.put_decision(okr_id, "postpone"), "body.decision", "unknown_decision")
    assert "continue" in problem["detail"]
    assert cycle.get(f"/okrs/{okr_id}")["decision"] is None
    # A decision can change (until the OKR was carried over), once its closed quarter is reopened; each change
    # is an event.
    cycle.decide(okr_id, "abandon")
    assert_problem(cycle.put_decision(okr_id, "complete"), 409)
    reopened = cycle.post(f"/quarters/{quarter_id}/reopen", {"reason": "Leadership changed its mind"})
    assert reopened.status_code == 200, reopened.text
    cycle.decide(okr_id, "complete")
    cycle.decide(okr_id, "complete")
    assert cycle.get(f"/okrs/{okr_id}")["decision"] == "complete"
    assert [e["payload"]["decision"] for e in cycle.events("okr.decided")] == ["abandon", "complete"]
