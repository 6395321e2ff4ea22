"""Quarters (dates, overlaps, labels, the next-quarter deadline), OKRs and their key results."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from tests.api._cycle import Q1_END, Q1_START, Q2_END, Q2_START, assert_invalid, kr, new_cycle
from tests.api._helpers import assert_problem
from tests.conftest import Tokens


def test_quarter_is_created_with_its_next_quarter_deadline(app_client: TestClient, tokens: Tokens) -> None:
    cycle = new_cycle(app_client, tokens)
    response = cycle.post_quarter("2026-Q1", Q1_START, Q1_END)
    assert response.status_code == 201, response.text
    q1 = response.json()
    assert response.headers["location"] == f"{cycle.base}/quarters/{q1['id']}"
    assert q1["engagement_id"] == cycle.journey.engagement_id
    assert (q1["label"], q1["starts_on"], q1["ends_on"]) == ("2026-Q1", "2026-01-05", "2026-03-29")
    # The standard playbook gives 21 days (3 weeks) to evaluate the quarter and prepare the next.
    assert q1["next_quarter_due_on"] == "2026-04-19"
    assert q1["carried_over_okr_ids"] == []
    assert cycle.get(f"/quarters/{q1['id']}")["next_quarter_due_on"] == "2026-04-19"

    q2 = cycle.quarter("2026-Q2", Q2_START, Q2_END)
    assert q2["next_quarter_due_on"] == "2026-07-12"
    assert [q["label"] for q in cycle.get("/quarters")] == ["2026-Q1", "2026-Q2"]
    (created, _) = cycle.events("quarter.created")
    assert created["payload"] == {"quarter_id": q1["id"], "label": "2026-Q1", "starts_on": "2026-01-05",
                                  "ends_on": "2026-03-29"}


def test_quarters_are_listed_by_start_date_whatever_the_order_they_were_created(
    app_client: TestClient, tokens: Tokens
) -> None:
    cycle = new_cycle(app_client, tokens)
    cycle.quarter("Q2", Q2_START, Q2_END)
    cycle.quarter("Q1", Q1_START, Q1_END)
    assert [q["label"] for q in cycle.get("/quarters")] == ["Q1", "Q2"]


def test_quarter_ending_before_it_starts_is_422(app_client: TestClient, tokens: Tokens) -> None:
    cycle = new_cycle(app_client, tokens)
    problem = assert_invalid(cycle.post_quarter("Q1", Q1_END, Q1_START), "body.ends_on", "ends_before_start")
    assert "2026-01-05" in problem["detail"]
    assert cycle.get("/quarters") == []
    assert cycle.events("quarter.created") == []


def test_overlapping_quarters_are_422(app_client: TestClient, tokens: Tokens) -> None:
    cycle = new_cycle(app_client, tokens)
    cycle.quarter("Q1", Q1_START, Q1_END)
    # Sharing Q1's last day, starting inside it, or enclosing it all overlap.
    for starts_on, ends_on in [(Q1_END, Q2_END), (date(2026, 2, 1), date(2026, 4, 30)),
                               (date(2025, 12, 1), date(2026, 4, 30)), (date(2025, 12, 1), Q1_START)]:
        problem = assert_invalid(cycle.post_quarter("Q2", starts_on, ends_on), "body.starts_on",
                                 "overlapping_quarter")
        assert "Q1" in problem["detail"]
    assert [q["label"] for q in cycle.get("/quarters")] == ["Q1"]
    # The day after Q1 ends is free.
    assert cycle.post_quarter("Q2", Q2_START, Q2_END).status_code == 201


def test_quarters_of_different_engagements_do_not_overlap_each_other(app_client: TestClient, tokens: Tokens) -> None:
    ours, theirs = new_cycle(app_client, tokens), new_cycle(app_client, tokens)
    ours.quarter("Q1", Q1_START, Q1_END)
    assert theirs.post_quarter("Q1", Q1_START, Q1_END).status_code == 201


def test_duplicate_quarter_label_is_409(app_client: TestClient, tokens: Tokens) -> None:
    cycle = new_cycle(app_client, tokens)
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)
    problem = assert_problem(cycle.post_quarter("Q1", Q2_START, Q2_END), 409, slug="conflict")
    assert problem["quarter_id"] == q1["id"]
    assert [q["id"] for q in cycle.get("/quarters")] == [q1["id"]]


def test_quarter_of_another_engagement_is_404(app_client: TestClient, tokens: Tokens) -> None:
    cycle = new_cycle(app_client, tokens)
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)
    other = new_cycle(app_client, tokens)
    assert_problem(app_client.get(f"{other.base}/quarters/{q1['id']}",
                                  headers={"Authorization": f"Bearer {tokens.coach}"}), 404)


# --- OKRs and key results ----------------------------------------------------------------------------------------


def test_okr_with_key_results(app_client: TestClient, tokens: Tokens) -> None:
    cycle = new_cycle(app_client, tokens)
    cycle.department("Sales")
    cycle.person("Ann", "Sales")
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)
    response = cycle.post_okr(q1["id"], "  Win the mid-market  ", owner="Ann", department="Sales",
                              key_results=[kr("Qualified leads", 10, 50, "leads"),
                                           kr("Win rate", 20, 35, "%", current=22)])
    assert response.status_code == 201, response.text
    okr = response.json()
    assert response.headers["location"] == f"{cycle.base}/okrs/{okr['id']}"
    assert okr["objective"] == "Win the mid-market"
    assert (okr["quarter_id"], okr["owner_id"], okr["department_id"]) == (
        q1["id"], cycle.people["Ann"], cycle.departments["Sales"])
    assert (okr["score"], okr["decision"], okr["carried_from_id"], okr["carried_to_id"]) == (None, None, None, None)
    leads, win_rate = okr["key_results"]
    assert (leads["metric"], leads["start"], leads["target"], leads["current"], leads["unit"]) == (
        "Qualified leads", 10, 50, 10, "leads")  # current defaults to start
    assert (win_rate["start"], win_rate["target"], win_rate["current"], win_rate["unit"]) == (20, 35, 22, "%")
    assert {leads["okr_id"], win_rate["okr_id"]} == {okr["id"]}

    added = cycle.post(f"/okrs/{okr['id']}/key-results", kr("Demos", 0, 12))
    assert added.status_code == 201, added.text
    assert (added.json()["okr_id"], added.json()["current"], added.json()["carried_from_id"]) == (okr["id"], 0, None)
    stored = cycle.get(f"/okrs/{okr['id']}")
    assert [k["metric"] for k in stored["key_results"]] == ["Qualified leads", "Win rate", "Demos"]

    (created,) = cycle.events("okr.created")
    assert created["payload"]["okr_id"] == okr["id"]
    assert created["payload"]["key_result_ids"] == [leads["id"], win_rate["id"]]
    assert [e["payload"]["key_result_id"] for e in cycle.events("key_result.created")] == [added.json()["id"]]


def test_okrs_are_listed_per_quarter(app_client: TestClient, tokens: Tokens) -> None:
    cycle = new_cycle(app_client, tokens)
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)
    q2 = cycle.quarter("Q2", Q2_START, Q2_END)
    first = [cycle.okr(q1["id"], f"Q1 objective {n}")["id"] for n in range(3)]
    second = [cycle.okr(q2["id"], "Q2 objective")["id"]]
    assert [o["id"] for o in cycle.okrs(q1["id"])] == first
    assert [o["id"] for o in cycle.okrs(q2["id"])] == second
    assert [o["id"] for o in cycle.okrs()] == first + second


def test_okr_owner_or_department_of_another_organization_is_422(app_client: TestClient, tokens: Tokens) -> None:
    ours, theirs = new_cycle(app_client, tokens), new_cycle(app_client, tokens)
    ours.department("Sales")
    ours.person("Ann", "Sales")
    theirs.department("Sales")
    theirs.person("Sam", "Sales")
    q1 = ours.quarter("Q1", Q1_START, Q1_END)

    stranger = ours.post_okr(q1["id"], "Grow", owner_id=theirs.people["Sam"], department_id=ours.departments["Sales"])
    problem = assert_invalid(stranger, "body.owner_id", "foreign_organization")
    assert problem["detail"] == "body.owner_id: not a person of this organization"
    foreign = ours.post_okr(q1["id"], "Grow", owner_id=ours.people["Ann"], department_id=theirs.departments["Sales"])
    assert_invalid(foreign, "body.department_id", "foreign_organization")
    unknown = ours.post_okr(q1["id"], "Grow", department_id=999_999)
    assert_invalid(unknown, "body.department_id", "foreign_organization")
    assert ours.okrs() == []
    assert ours.events("okr.created") == []


def test_okr_in_a_quarter_of_another_engagement_is_404(app_client: TestClient, tokens: Tokens) -> None:
    ours, theirs = new_cycle(app_client, tokens), new_cycle(app_client, tokens)
    their_q1 = theirs.quarter("Q1", Q1_START, Q1_END)
    assert_problem(ours.post_okr(their_q1["id"], "Grow"), 404)
    assert theirs.okrs() == [] and ours.okrs() == []
