"""Carry-over: an OKR decided 'continue' goes into the next quarter with its key results, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.api._cycle import (
    Q1_END,
    Q1_START,
    Q2_END,
    Q2_START,
    Q3_END,
    Q3_START,
    Cycle,
    kr,
    move_to,
    new_cycle,
    week,
)
from tests.api._helpers import assert_problem
from tests.conftest import Clock, Tokens, auth


def _q1_with_history(cycle: Cycle, clock: Clock) -> dict[str, Any]:
    """Q1 with three scored OKRs; the first one's key results have check-ins entered out of week order."""
    cycle.department("Sales")
    cycle.person("Ann", "Sales")
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)
    grow = cycle.okr(q1["id"], "Win the mid-market", owner="Ann", department="Sales",
                     key_results=[kr("Qualified leads", 10, 50, "leads"), kr("Win rate", 20, 35, "%", current=24),
                                  kr("Churned accounts", 12, 4, "accounts")])
    leads, win_rate, churn = (k["id"] for k in grow["key_results"])
    move_to(clock, Q1_END + timedelta(days=3))
    cycle.check_in(q1["id"], leads, week(Q1_START, 1), 15)
    cycle.check_in(q1["id"], leads, week(Q1_START, 11), 41)
    cycle.check_in(q1["id"], leads, week(Q1_START, 12), 38)  # the last week: a dip, still the baseline
    cycle.check_in(q1["id"], leads, week(Q1_START, 6), 44)  # entered late, for an earlier week
    cycle.check_in(q1["id"], churn, week(Q1_START, 12), 7)
    cycle.check_in(q1["id"], churn, week(Q1_START, 2), 11)  # late entry for week 2
    # win_rate has no check-in: it goes on from its current value.
    dropped = cycle.okr(q1["id"], "Open a second office", key_results=[kr("Leases signed", 0, 1)])
    done = cycle.okr(q1["id"], "Hire a sales lead", key_results=[kr("Hires", 0, 1)])
    cycle.score(grow["id"], 0.7)
    cycle.score(dropped["id"], 0.0)
    cycle.score(done["id"], 1.0)
    return {"q1": q1["id"], "grow": grow, "dropped": dropped["id"], "done": done["id"],
            "kr_ids": [leads, win_rate, churn]}


def _assert_continuation(cycle: Cycle, origin: dict[str, Any], continuation: dict[str, Any], quarter_id: int) -> None:
    assert continuation["quarter_id"] == quarter_id
    assert continuation["carried_from_id"] == origin["id"]
    assert (continuation["objective"], continuation["owner_id"], continuation["department_id"]) == (
        origin["objective"], origin["owner_id"], origin["department_id"])
    assert (continuation["score"], continuation["decision"], continuation["carried_to_id"]) == (None, None, None)
    carried = [(k["carried_from_id"], k["metric"], k["start"], k["current"], k["target"], k["unit"])
               for k in continuation["key_results"]]
    leads, win_rate, churn = (k["id"] for k in origin["key_results"])
    assert carried == [
        (leads, "Qualified leads", 38, 38, 50, "leads"),  # week 12's value, not the late week 6 entry nor the max
        (win_rate, "Win rate", 24, 24, 35, "%"),  # no check-in: its current value
        (churn, "Churned accounts", 7, 7, 4, "accounts"),
    ]
    assert cycle.get(f"/okrs/{origin['id']}")["carried_to_id"] == continuation["id"]
    assert cycle.get(f"/okrs/{continuation['id']}") == continuation
    # The carried key results start the new quarter with no check-ins of their own.
    for k in continuation["key_results"]:
        assert cycle.get(f"/key-results/{k['id']}/check-ins") == []


def test_continue_then_next_quarter_carries_the_okr_with_its_key_results(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    cycle = new_cycle(app_client, tokens)
    q1 = _q1_with_history(cycle, clock)
    decided = cycle.decide(q1["grow"]["id"], "continue")
    assert decided["okr"]["decision"] == "continue"
    assert decided["carried_to"] is None  # no next quarter yet
    cycle.decide(q1["dropped"], "abandon")
    cycle.decide(q1["done"], "complete")
    assert cycle.events("okr.carried_over") == []

    q2 = cycle.quarter("Q2", Q2_START, Q2_END)

    (continuation,) = cycle.okrs(q2["id"])  # neither 'abandon' nor 'complete' is carried
    assert q2["carried_over_okr_ids"] == [continuation["id"]]
    _assert_continuation(cycle, q1["grow"], continuation, q2["id"])
    assert cycle.get(f"/okrs/{q1['dropped']}")["carried_to_id"] is None
    assert cycle.get(f"/okrs/{q1['done']}")["carried_to_id"] is None
    (event,) = cycle.events("okr.carried_over")
    assert event["payload"] == {"okr_id": continuation["id"], "carried_from_id": q1["grow"]["id"],
                                "quarter_id": q2["id"], "key_results": 3}
    # The origin keeps its own key results, check-ins and values.
    origin = cycle.get(f"/okrs/{q1['grow']['id']}")
    assert [(k["start"], k["current"]) for k in origin["key_results"]] == [(10, 38), (20, 24), (12, 7)]
    assert len(cycle.get(f"/key-results/{q1['kr_ids'][0]}/check-ins")) == 4


def test_continue_when_the_next_quarter_exists_carries_at_once(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    cycle = new_cycle(app_client, tokens)
    q2 = cycle.quarter("Q2", Q2_START, Q2_END)
    q1 = _q1_with_history(cycle, clock)
    cycle.quarter("Q3", Q3_START, Q3_END)  # a later quarter is not the next one
    assert cycle.okrs(q2["id"]) == []

    decided = cycle.decide(q1["grow"]["id"], "continue")
    assert decided["okr"]["decision"] == "continue"
    assert decided["okr"]["carried_to_id"] == decided["carried_to"]["id"]
    _assert_continuation(cycle, q1["grow"], decided["carried_to"], q2["id"])
    assert cycle.okrs(q2["id"]) == [decided["carried_to"]]
    assert cycle.decide(q1["dropped"], "abandon")["carried_to"] is None
    assert cycle.decide(q1["done"], "complete")["carried_to"] is None
    assert [o["carried_from_id"] for o in cycle.okrs(q2["id"])] == [q1["grow"]["id"]]
    assert [e["type"] for e in cycle.events() if e["type"].startswith("okr.")][-4:] == [
        "okr.decided", "okr.carried_over", "okr.decided", "okr.decided"]


def test_carry_over_is_not_duplicated(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    q1 = _q1_with_history(cycle, clock)
    cycle.decide(q1["grow"]["id"], "continue")
    q2 = cycle.quarter("Q2", Q2_START, Q2_END)
    (continuation,) = cycle.okrs(q2["id"])

    again = cycle.decide(q1["grow"]["id"], "continue")
    assert again["carried_to"] == continuation
    assert again["okr"]["carried_to_id"] == continuation["id"]
    # Another quarter later on does not receive Q1's OKR again, nor Q2's undecided continuation.
    q3 = cycle.quarter("Q3", Q3_START, Q3_END)
    assert q3["carried_over_okr_ids"] == []
    assert cycle.okrs(q3["id"]) == []
    assert cycle.okrs(q2["id"]) == [continuation]
    assert len(cycle.okrs()) == 4
    assert len(cycle.events("okr.carried_over")) == 1
    assert len([e for e in cycle.events("okr.decided") if e["payload"]["okr_id"] == q1["grow"]["id"]]) == 1
    # Carried when Q2 was created: its decision is now fixed as well.
    assert_problem(cycle.put_decision(q1["grow"]["id"], "abandon"), 409, slug="conflict")
    assert cycle.get(f"/okrs/{q1['grow']['id']}")["decision"] == "continue"


def test_a_quarter_created_between_does_not_receive_an_okr_already_carried(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    cycle = new_cycle(app_client, tokens)
    q1 = _q1_with_history(cycle, clock)
    q3 = cycle.quarter("Q3", Q3_START, Q3_END)
    carried = cycle.decide(q1["grow"]["id"], "continue")["carried_to"]
    assert carried["quarter_id"] == q3["id"]  # the next quarter that exists
    q2 = cycle.quarter("Q2", Q2_START, Q2_END)
    assert q2["carried_over_okr_ids"] == []
    assert cycle.okrs(q2["id"]) == []
    assert len(cycle.events("okr.carried_over")) == 1


def test_decision_of_a_carried_okr_can_no_longer_change(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    q1 = _q1_with_history(cycle, clock)
    cycle.quarter("Q2", Q2_START, Q2_END)
    continuation = cycle.decide(q1["grow"]["id"], "continue")["carried_to"]
    for other in ["abandon", "complete"]:
        problem = assert_problem(cycle.put_decision(q1["grow"]["id"], other), 409, slug="conflict")
        assert problem["carried_to_id"] == continuation["id"]
    assert cycle.get(f"/okrs/{q1['grow']['id']}")["decision"] == "continue"
    assert [e["payload"]["decision"] for e in cycle.events("okr.decided")] == ["continue"]


def test_abandon_or_complete_before_the_next_quarter_carries_nothing(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    cycle = new_cycle(app_client, tokens)
    q1 = _q1_with_history(cycle, clock)
    # Changed from continue to abandon before the next quarter exists: nothing was carried, so it may change.
    cycle.decide(q1["grow"]["id"], "continue")
    assert cycle.decide(q1["grow"]["id"], "abandon")["okr"]["decision"] == "abandon"
    cycle.decide(q1["dropped"], "abandon")
    cycle.decide(q1["done"], "complete")
    q2 = cycle.quarter("Q2", Q2_START, Q2_END)
    assert q2["carried_over_okr_ids"] == []
    assert cycle.okrs(q2["id"]) == []
    assert cycle.events("okr.carried_over") == []


def test_a_continuation_continued_again_goes_on_from_its_own_check_ins(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    cycle = new_cycle(app_client, tokens)
    q1 = _q1_with_history(cycle, clock)
    q2 = cycle.quarter("Q2", Q2_START, Q2_END)
    q3 = cycle.quarter("Q3", Q3_START, Q3_END)
    in_q2 = cycle.decide(q1["grow"]["id"], "continue")["carried_to"]
    leads = in_q2["key_results"][0]["id"]
    move_to(clock, Q2_END + timedelta(days=1))
    cycle.check_in(q2["id"], leads, week(Q2_START, 4), 45)
    cycle.check_in(q2["id"], leads, week(Q2_START, 1), 39)
    cycle.score(in_q2["id"], 0.7)
    in_q3 = cycle.decide(in_q2["id"], "continue")["carried_to"]
    assert (in_q3["quarter_id"], in_q3["carried_from_id"]) == (q3["id"], in_q2["id"])
    assert [(k["carried_from_id"], k["start"], k["current"], k["target"]) for k in in_q3["key_results"]] == [
        (leads, 45, 45, 50), (in_q2["key_results"][1]["id"], 24, 24, 35), (in_q2["key_results"][2]["id"], 7, 7, 4)]
    assert cycle.get(f"/okrs/{q1['grow']['id']}")["carried_to_id"] == in_q2["id"]
    assert cycle.get(f"/okrs/{in_q2['id']}")["carried_to_id"] == in_q3["id"]


def test_stale_if_match_on_score_or_decision_is_412(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    q1 = _q1_with_history(cycle, clock)
    okr_id = q1["grow"]["id"]
    stale = f'"v{cycle.get(f"/okrs/{okr_id}")["version"]}"'
    cycle.score(okr_id, 1.0)
    for path, body in [(f"/okrs/{okr_id}/score", {"score": 0.3}),
                       (f"/okrs/{okr_id}/decision", {"decision": "abandon"})]:
        response = app_client.put(f"{cycle.base}{path}", json=body, headers=auth(tokens.coach, **{"If-Match": stale}))
        assert_problem(response, 412)
    current = cycle.get(f"/okrs/{okr_id}")
    assert (current["score"], current["decision"]) == (1.0, None)
    fresh = app_client.put(f"{cycle.base}/okrs/{okr_id}/score", json={"score": 0.3},
                           headers=auth(tokens.coach, **{"If-Match": f'"v{current["version"]}"'}))
    assert fresh.status_code == 200, fresh.text
    assert fresh.headers["etag"] == f'"v{fresh.json()["version"]}"'
