"""What the recorded cycle does to the gates: GET readiness of end_q1 (check-in rate) and prepare_next_quarter
(every Q1 OKR scored and decided)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from okr_rollout.journey.machine import enter_phase
from okr_rollout.models import Engagement
from tests.api._cycle import Q1_END, Q1_START, Q2_END, Q2_START, Cycle, kr, move_to, new_cycle, week
from tests.api._helpers import fire
from tests.conftest import Clock, Tokens


def _put_in_phase(db: Callable[[], Session], cycle: Cycle, phase: str, clock: Clock) -> None:
    with db() as session:
        engagement = session.get(Engagement, cycle.journey.engagement_id)
        assert engagement is not None
        enter_phase(engagement, phase, clock.now)
    assert cycle.get("")["phase"] == phase


def _check_in_gate(cycle: Cycle) -> dict[str, Any]:
    criterion: dict[str, Any] = cycle.transition("end_q1")["by_id"]["q1_check_ins"]
    assert criterion["kind"] == "check_in_rate"
    return criterion


def test_end_q1_gate_reads_the_check_in_rate(
    app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session]
) -> None:
    cycle = new_cycle(app_client, tokens)
    cycle.department("Sales")
    cycle.person("Ann", "Sales")
    _put_in_phase(db, cycle, "q1_cycle", clock)
    assert _check_in_gate(cycle)["passed"] is False  # no Q1 yet

    q1 = cycle.quarter("Q1", Q1_START, Q1_END)["id"]
    okr = cycle.okr(q1, "Win the mid-market", owner="Ann", department="Sales",
                    key_results=[kr("Leads", 0, 50), kr("Demos", 0, 12)])
    leads, demos = (k["id"] for k in okr["key_results"])
    gate = _check_in_gate(cycle)
    assert gate["passed"] is True  # no whole week has passed yet
    assert gate["evidence"]["periods_elapsed"] == 0

    # 2026-01-19: two whole weeks elapsed; three of the four (key result, week) pairs are checked in.
    move_to(clock, date(2026, 1, 19))
    cycle.check_in(q1, leads, week(Q1_START, 1), 5)
    cycle.check_in(q1, leads, week(Q1_START, 2), 9)
    cycle.check_in(q1, demos, week(Q1_START, 1), 1)
    cycle.check_in(q1, demos, week(Q1_START, 1) + timedelta(days=4), 2)  # same week: still one period
    gate = _check_in_gate(cycle)
    assert gate["passed"] is False
    assert gate["evidence"] == {"quarter": "Q1", "key_results": 2, "periods_elapsed": 2, "check_ins_on_time": 3,
                                "rate": 0.75, "required_rate": 0.8, "interval_days": 7}
    cycle.check_in(q1, demos, week(Q1_START, 2) + timedelta(days=6), 3)
    gate = _check_in_gate(cycle)
    assert gate["passed"] is True
    assert (gate["evidence"]["check_ins_on_time"], gate["evidence"]["rate"]) == (4, 1.0)

    # After Q1: all 12 weeks count. Leads weeks 1-12, demos weeks 1-6: 18 of 24 = 0.75, below 0.8.
    move_to(clock, Q1_END + timedelta(days=3))
    for n in range(3, 13):
        cycle.check_in(q1, leads, week(Q1_START, n), 5 * n)
    for n in range(3, 7):
        cycle.check_in(q1, demos, week(Q1_START, n), n)
    gate = _check_in_gate(cycle)
    assert gate["passed"] is False
    assert {k: gate["evidence"][k] for k in ["periods_elapsed", "check_ins_on_time", "rate"]} == {
        "periods_elapsed": 12, "check_ins_on_time": 18, "rate": 0.75}
    # Weeks 7 and 8 for demos, entered late: 20 of 24 = 0.833.
    cycle.check_in(q1, demos, week(Q1_START, 7), 7)
    cycle.check_in(q1, demos, week(Q1_START, 8), 8)
    gate = _check_in_gate(cycle)
    assert gate["passed"] is True
    assert (gate["evidence"]["check_ins_on_time"], gate["evidence"]["rate"]) == (20, 0.833)
    assert cycle.transition("end_q1")["by_id"]["q1_ended"]["passed"] is True
    # The quarter review reports the same rate.
    assert cycle.get(f"/quarters/{q1}/review")["overall"]["check_in_rate"] == 0.833


def test_check_ins_of_q2_do_not_count_for_q1(
    app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session]
) -> None:
    cycle = new_cycle(app_client, tokens)
    _put_in_phase(db, cycle, "q1_cycle", clock)
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)["id"]
    q2 = cycle.quarter("Q2", Q2_START, Q2_END)["id"]
    cycle.okr(q1, "Q1 objective", key_results=[kr("Leads", 0, 50)])
    q2_kr = cycle.okr(q2, "Q2 objective", key_results=[kr("Leads", 0, 50)])["key_results"][0]["id"]
    move_to(clock, Q2_START + timedelta(weeks=3))
    for n in range(1, 4):
        cycle.check_in(q2, q2_kr, week(Q2_START, n), n)
    gate = _check_in_gate(cycle)
    assert gate["passed"] is False
    assert (gate["evidence"]["key_results"], gate["evidence"]["check_ins_on_time"]) == (1, 0)


def test_prepare_next_quarter_gate_reads_scores_and_decisions(
    app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session]
) -> None:
    cycle = new_cycle(app_client, tokens)
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)["id"]
    first, second = (cycle.okr(q1, f"Objective {n}", key_results=[kr("Metric", 0, 10)])["id"] for n in (1, 2))
    move_to(clock, Q1_END + timedelta(days=2))
    _put_in_phase(db, cycle, "quarter_review", clock)

    def gate() -> tuple[dict[str, Any], dict[str, Any], bool]:
        found = cycle.transition("prepare_next_quarter")
        return found["by_id"]["q1_scored"], found["by_id"]["q1_decided"], found["allowed"]

    scored, decided, allowed = gate()
    assert (scored["passed"], decided["passed"], allowed) == (False, False, False)
    assert scored["evidence"] == {"quarter": "Q1", "okrs": 2, "unscored": [first, second], "off_scale": [],
                                  "scale": [0.0, 0.3, 0.7, 1.0]}
    assert decided["evidence"] == {"quarter": "Q1", "okrs": 2, "undecided": [first, second],
                                   "decisions": ["continue", "abandon", "complete"]}
    assert fire(app_client, tokens.coach, cycle.journey.engagement_id, "prepare_next_quarter").status_code == 409

    cycle.score(first, 0.7)
    scored, _, _ = gate()
    assert (scored["passed"], scored["evidence"]["unscored"]) == (False, [second])
    cycle.score(second, 0.0)
    scored, decided, allowed = gate()
    assert (scored["passed"], scored["evidence"]["unscored"], decided["passed"], allowed) == (True, [], False, False)

    cycle.decide(first, "continue")
    _, decided, _ = gate()
    assert (decided["passed"], decided["evidence"]["undecided"]) == (False, [second])
    cycle.decide(second, "abandon")
    scored, decided, allowed = gate()
    assert (scored["passed"], decided["passed"], allowed) == (True, True, True)

    moved = fire(app_client, tokens.coach, cycle.journey.engagement_id, "prepare_next_quarter")
    assert moved.status_code == 200, moved.text
    assert moved.json()["engagement"]["phase"] == "next_quarter"


def test_next_quarter_deadline_counts_days_on_the_organization_s_calendar(
    app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session]
) -> None:
    """Q1 ends 2026-03-29: Q2 is due by 2026-04-19. In Taipei (UTC+8), OKRs written at 00:30 on 2026-04-20 local
    time (16:30 UTC on the 19th) are a day late."""
    cycle = new_cycle(app_client, tokens, timezone="Asia/Taipei")
    cycle.quarter("Q1", Q1_START, Q1_END)
    q2 = cycle.quarter("Q2", Q2_START, Q2_END)["id"]
    move_to(clock, date(2026, 4, 19))
    clock.advance(hours=15 - clock.now.hour, minutes=30)  # 2026-04-19 15:30 UTC = 23:30 in Taipei
    _put_in_phase(db, cycle, "next_quarter", clock)
    waiting = cycle.transition("start_q2")["by_id"]["q2_prepared_in_time"]
    assert (waiting["passed"], waiting["evidence"]["deadline"], waiting["evidence"]["days_left"]) == (
        False, "2026-04-19", 0)

    clock.advance(hours=1)  # 2026-04-20 00:30 in Taipei
    cycle.okr(q2, "Q2 objective", key_results=[kr("Leads", 0, 50)])
    late = cycle.transition("start_q2")["by_id"]["q2_prepared_in_time"]
    assert late["severity"] == "advisory"
    assert (late["passed"], late["evidence"]["prepared_on"], late["evidence"]["days_late"]) == (
        False, "2026-04-20", 1)
