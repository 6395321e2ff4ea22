"""The quarter review (GET quarters/{id}/review): scores, check-in rates and decisions per department and person,
with every key result's whole check-in history. Expected numbers are worked out by hand from the data below."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.api._cycle import Q1_END, Q1_START, Cycle, kr, move_to, new_cycle, week
from tests.conftest import Clock, Tokens


def _by(items: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {item[key]: item for item in items}


def _summary(group: dict[str, Any]) -> tuple[Any, ...]:
    return (group["okrs"], group["scored"], group["average_score"], group["check_in_rate"],
            group["undecided_okr_ids"], group["distribution"], group["in_stretch_sweet_spot"])


def _dist(red: int = 0, yellow: int = 0, green: int = 0) -> dict[str, int]:
    return {"red": red, "yellow": yellow, "green": green}


def _pilot(cycle: Cycle, clock: Clock) -> dict[str, Any]:
    """Sales (Ann, Ben) and Ops (Cai, Dan) through Q1, reviewed on 2026-04-03, five days after Q1 ended.

    OKR  dept   owner  score  key results and the Q1 weeks (of 12) checked in
    o1   Sales  Ann    1.0    a1: weeks 1-12
    o2   Sales  Ben    1.0    b1: weeks 1-6
    o3   Ops    Cai    0.7    c1: weeks 1-9; c2: weeks 1-3, week 2 twice
    o4   Ops    Cai    0.3    d1: none
    o5   Ops    Dan    0.0    e1: none
    Decisions: o1 complete, o3 continue; o2, o4, o5 undecided.
    """
    cycle.department("Sales")
    cycle.department("Ops")
    for name, department in [("Ann", "Sales"), ("Ben", "Sales"), ("Cai", "Ops"), ("Dan", "Ops")]:
        cycle.person(name, department)
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)["id"]
    okrs: dict[str, dict[str, Any]] = {}
    for name, department, owner, metrics in [("o1", "Sales", "Ann", ["a1"]), ("o2", "Sales", "Ben", ["b1"]),
                                             ("o3", "Ops", "Cai", ["c1", "c2"]), ("o4", "Ops", "Cai", ["d1"]),
                                             ("o5", "Ops", "Dan", ["e1"])]:
        okrs[name] = cycle.okr(q1, f"Objective {name}", owner=owner, department=department,
                               key_results=[kr(m, 0, 100, "pts") for m in metrics])
    krs = {k["metric"]: k["id"] for okr in okrs.values() for k in okr["key_results"]}
    move_to(clock, Q1_END + timedelta(days=5))
    for metric, weeks in [("a1", range(1, 13)), ("b1", range(1, 7)), ("c1", range(1, 10)), ("c2", range(1, 4))]:
        for n in weeks:
            cycle.check_in(q1, krs[metric], week(Q1_START, n), 5 * n, confidence=6)
    cycle.check_in(q1, krs["c2"], week(Q1_START, 2) + timedelta(days=3), 11)  # a second one in week 2
    for name, score in [("o1", 1.0), ("o2", 1.0), ("o3", 0.7), ("o4", 0.3), ("o5", 0.0)]:
        cycle.score(okrs[name]["id"], score)
    cycle.decide(okrs["o1"]["id"], "complete")
    cycle.decide(okrs["o3"]["id"], "continue")
    return {"q1": q1, "okr": {name: okr["id"] for name, okr in okrs.items()}, "kr": krs}


def test_quarter_review_per_department_and_person(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    pilot = _pilot(cycle, clock)
    o = pilot["okr"]
    review = cycle.get(f"/quarters/{pilot['q1']}/review")

    assert review["quarter"]["id"] == pilot["q1"]
    assert review["next_quarter_due_on"] == "2026-04-19"  # 2026-03-29 + 21 days
    assert review["days_until_due"] == 16  # from 2026-04-03
    assert review["bands"] == {"yellow_from": 0.4, "green_from": 0.7, "stretch_sweet_spot": [0.6, 0.7],
                               "sandbagging_above": 0.9}

    # 12 whole weeks elapsed; on-time periods / (12 x key results).
    # Overall: (12 + 6 + 9 + 3 + 0 + 0) / (12 x 6) = 30/72; average (1 + 1 + 0.7 + 0.3 + 0) / 5 = 0.6.
    assert _summary(review["overall"]) == (5, 5, 0.6, 0.417, [o["o2"], o["o4"], o["o5"]], _dist(red=2, green=3), 1)

    departments = review["departments"]
    assert [(d["department_id"], d["name"]) for d in departments] == [
        (cycle.departments["Sales"], "Sales"), (cycle.departments["Ops"], "Ops")]
    sales, ops = departments
    # Sales: (12 + 6) / 24 = 0.75; average 1.0, above 0.9: possibly sandbagging.
    assert _summary(sales) == (2, 2, 1.0, 0.75, [o["o2"]], _dist(green=2), 0)
    assert sales["possibly_sandbagging"] is True
    # Ops: (9 + 3 + 0 + 0) / 48 = 0.25; average (0.7 + 0.3 + 0) / 3 = 0.333; 0.7 is in the 0.6-0.7 sweet spot.
    assert _summary(ops) == (3, 3, 0.333, 0.25, [o["o4"], o["o5"]], _dist(red=2, green=1), 1)
    assert ops["possibly_sandbagging"] is False

    people = review["people"]
    assert [(p["person_id"], p["name"]) for p in people] == [(cycle.people[n], n) for n in ["Ann", "Ben", "Cai", "Dan"]]
    ann, ben, cai, dan = people
    assert _summary(ann) == (1, 1, 1.0, 1.0, [], _dist(green=1), 0)
    assert _summary(ben) == (1, 1, 1.0, 0.5, [o["o2"]], _dist(green=1), 0)
    assert _summary(cai) == (2, 2, 0.5, 0.333, [o["o4"]], _dist(red=1, green=1), 1)  # (9 + 3 + 0) / 36
    assert _summary(dan) == (1, 1, 0.0, 0.0, [o["o5"]], _dist(red=1), 0)


def test_quarter_review_shows_every_check_in_of_every_key_result(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    cycle = new_cycle(app_client, tokens)
    pilot = _pilot(cycle, clock)
    review = cycle.get(f"/quarters/{pilot['q1']}/review")
    history = _by(review["key_results"], "metric")
    assert list(history) == ["a1", "b1", "c1", "c2", "d1", "e1"]
    a1 = history["a1"]
    assert (a1["key_result_id"], a1["okr_id"], a1["unit"], a1["start"], a1["target"], a1["current"]) == (
        pilot["kr"]["a1"], pilot["okr"]["o1"], "pts", 0, 100, 60)
    assert [(c["week_of"], c["value"], c["confidence"]) for c in a1["check_ins"]] == [
        ((Q1_START + timedelta(weeks=n - 1)).isoformat(), 5 * n, 6) for n in range(1, 13)]
    assert [(c["week_of"], c["value"]) for c in history["c2"]["check_ins"]] == [
        ("2026-01-05", 5), ("2026-01-12", 10), ("2026-01-15", 11), ("2026-01-19", 15)]
    assert history["c2"]["current"] == 15
    assert history["d1"]["check_ins"] == [] and history["d1"]["current"] == 0
    # The same history as GET key-results/{id}/check-ins.
    for metric, found in history.items():
        assert found["check_ins"] == cycle.get(f"/key-results/{pilot['kr'][metric]}/check-ins")


def test_quarter_review_edges(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    """An average of exactly 0.9 is not sandbagging; OKRs without a department form their own group;
    groups with nothing scored or no key results have no average or rate; the deadline can be past."""
    cycle = new_cycle(app_client, tokens)
    cycle.department("Marketing")
    cycle.person("Eve", "Marketing")
    cycle.person("Ann")
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)["id"]
    marketing = [cycle.okr(q1, f"Campaign {n}", owner="Eve", department="Marketing")["id"] for n in range(3)]
    loose = cycle.okr(q1, "Tidy the wiki", owner="Ann")["id"]

    unscored = cycle.get(f"/quarters/{q1}/review")
    assert unscored["days_until_due"] == (date(2026, 4, 19) - date(2026, 1, 5)).days
    assert _summary(unscored["overall"]) == (4, 0, None, None, [*marketing, loose], _dist(), 0)

    move_to(clock, date(2026, 4, 25))
    for okr_id, score in zip([*marketing, loose], [1.0, 1.0, 0.7, 0.3], strict=True):
        cycle.score(okr_id, score)
    review = cycle.get(f"/quarters/{q1}/review")
    assert review["days_until_due"] == -6  # 2026-04-19 passed six days ago
    first, last = review["departments"]
    assert (first["department_id"], first["average_score"], first["possibly_sandbagging"]) == (
        cycle.departments["Marketing"], 0.9, False)  # (1 + 1 + 0.7) / 3 is not above 0.9
    assert first["in_stretch_sweet_spot"] == 1
    assert (last["department_id"], last["name"], last["okrs"], last["average_score"]) == (None, None, 1, 0.3)
    assert last["possibly_sandbagging"] is False
    assert [(p["person_id"], p["okrs"]) for p in review["people"]] == [
        (cycle.people["Eve"], 3), (cycle.people["Ann"], 1)]
    assert review["overall"]["check_in_rate"] is None  # no key results to check in on
    assert review["key_results"] == []
