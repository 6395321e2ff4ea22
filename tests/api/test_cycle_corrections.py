"""Correcting and voiding quarters, OKRs, key results, check-ins, scores and decisions over HTTP; scoring not
before a quarter's end; a quarter closed by its decisions until it is reopened with a reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session

from okr_rollout.engagements.readiness_watch import note_readiness_changes
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
from tests.api._imports import OKR_HEADER, csv_file, imported, post_import, rejected_rows
from tests.api._records import place_in_phase
from tests.conftest import Clock, Tokens, auth


def _etag(cycle: Cycle, path: str) -> str:
    response = cycle.client.get(f"{cycle.base}{path}", headers=auth(cycle.token))
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


def _patch(cycle: Cycle, path: str, body: dict[str, Any], etag_of: str | None = None) -> Response:
    return cycle.client.patch(f"{cycle.base}{path}", json=body,
                              headers=auth(cycle.token, **{"If-Match": _etag(cycle, etag_of or path)}))


def _post(cycle: Cycle, path: str, body: dict[str, Any]) -> Response:
    return cycle.client.post(f"{cycle.base}{path}", json=body, headers=auth(cycle.token))


def _ok(response: Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _setup(cycle: Cycle) -> None:
    cycle.department("Sales")
    cycle.person("Amy", "Sales")
    cycle.person("Bo", "Sales")


def test_a_quarter_is_corrected_and_voiding_it_voids_its_okrs_key_results_and_check_ins(
        app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    _setup(cycle)
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)
    q2 = cycle.quarter("Q2", Q2_START, Q2_END)

    corrected = _ok(_patch(cycle, f"/quarters/{q1['id']}", {"label": "2026-Q1", "ends_on": "2026-03-28"}))
    assert (corrected["label"], corrected["ends_on"]) == ("2026-Q1", "2026-03-28")
    [event] = cycle.events("record.corrected")
    assert event["payload"]["before"] == {"label": "Q1", "ends_on": "2026-03-29"}
    assert_invalid(_patch(cycle, f"/quarters/{q1['id']}", {"ends_on": "2026-04-10"}), "body.starts_on",
                   "overlapping_quarter")
    assert_problem(_patch(cycle, f"/quarters/{q1['id']}", {"label": "Q2"}), 409)

    okr = cycle.okr(q2["id"], "Grow", owner="Amy", key_results=[kr("Leads", 0, 10)])
    leads = okr["key_results"][0]["id"]
    move_to(clock, Q2_START + timedelta(days=8))
    check_in = cycle.check_in(q2["id"], leads, week(Q2_START, 1), 4)

    voided = _ok(_post(cycle, f"/quarters/{q2['id']}/void", {"reason": "Q2 was entered twice"}))

    assert voided["void_reason"] == "Q2 was entered twice"
    payload = cycle.events("record.voided")[-1]["payload"]
    assert payload["cascade"] == {"okrs": [okr["id"]], "key_results": [leads], "check_ins": [check_in["id"]]}
    [voided_okr] = cycle.okrs(q2["id"])
    assert voided_okr["void_reason"] == "Q2 was entered twice"
    assert cycle.get(f"/key-results/{leads}")["void_reason"] == "Q2 was entered twice"
    assert cycle.get(f"/check-ins/{check_in['id']}")["void_reason"] == "Q2 was entered twice"
    assert [q["label"] for q in cycle.get("/quarters")] == ["2026-Q1", "Q2"]  # shown, voided
    # Another Q2 may now take its dates.
    cycle.quarter("Q2 again", Q2_START, Q2_END)


def test_okrs_key_results_and_check_ins_are_corrected_and_voided(
        app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    _setup(cycle)
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)
    okr = cycle.okr(q1["id"], "Grow", owner="Amy", key_results=[kr("Leads", 0, 10), kr("Demos", 0, 5)])
    leads, demos = (k["id"] for k in okr["key_results"])

    corrected = _ok(_patch(cycle, f"/okrs/{okr['id']}", {"objective": "Grow mid-market",
                                                          "owner_id": cycle.people["Bo"]}))
    assert (corrected["objective"], corrected["owner_id"]) == ("Grow mid-market", cycle.people["Bo"])
    assert cycle.events("record.corrected")[-1]["payload"]["before"] == {"objective": "Grow",
                                                                         "owner_id": cycle.people["Amy"]}
    kr_out = _ok(_patch(cycle, f"/key-results/{leads}", {"target": 20, "unit": "leads"}))
    assert (kr_out["target"], kr_out["unit"]) == (20, "leads")
    assert cycle.events("record.corrected")[-1]["payload"] == {
        "record": "key_result", "record_id": leads, "changed": ["target", "unit"], "okr_id": okr["id"],
        "before": {"target": 10.0, "unit": ""}, "after": {"target": 20, "unit": "leads"}}

    move_to(clock, Q1_START + timedelta(days=15))
    first = cycle.check_in(q1["id"], leads, week(Q1_START, 1), 3)
    second = cycle.check_in(q1["id"], leads, week(Q1_START, 2), 7)
    _ok(_patch(cycle, f"/check-ins/{second['id']}", {"value": 8, "confidence": 6}))
    assert cycle.get(f"/key-results/{leads}")["current"] == 8
    assert_invalid(_patch(cycle, f"/check-ins/{second['id']}", {"week_of": "2026-05-01"}), "body.week_of",
                   "outside_quarter")

    _ok(_post(cycle, f"/check-ins/{second['id']}/void", {"reason": "Typed into the wrong key result"}))
    assert cycle.get(f"/key-results/{leads}")["current"] == 3  # back to the latest check-in that counts
    history = cycle.get(f"/key-results/{leads}/check-ins")
    assert [(c["id"], c["void_reason"]) for c in history] == [(first["id"], None),
                                                              (second["id"], "Typed into the wrong key result")]

    _ok(_post(cycle, f"/key-results/{demos}/void", {"reason": "Not a key result, a task"}))
    assert [k["id"] for k in cycle.okrs(q1["id"])[0]["key_results"]] == [leads]
    _ok(_post(cycle, f"/okrs/{okr['id']}/void", {"reason": "Merged into another OKR"}))
    payload = cycle.events("record.voided")[-1]["payload"]
    assert payload["record"] == "okr"
    assert payload["cascade"] == {"okrs": [], "key_results": [leads], "check_ins": [first["id"]]}


def test_scoring_before_the_quarter_ends_is_refused_naming_the_rule(
        app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    _setup(cycle)
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)
    okr = cycle.okr(q1["id"], "Grow", owner="Amy")
    move_to(clock, Q1_END - timedelta(days=1))

    problem = assert_invalid(cycle.put_score(okr["id"], 0.7), "body.score", "scored_before_quarter_end")
    assert "2026-03-29" in problem["detail"]
    zh = cycle.client.put(f"{cycle.base}/okrs/{okr['id']}/score", json={"score": 0.7},
                          headers=auth(cycle.token, **{"Accept-Language": "zh-TW"}))
    assert "才能評分" in zh.json()["detail"]

    move_to(clock, Q1_END)
    cycle.score(okr["id"], 0.7)
    corrected = _ok(_patch(cycle, f"/okrs/{okr['id']}/score", {"score": 0.3}, etag_of=f"/okrs/{okr['id']}"))
    assert corrected["score"] == 0.3
    assert cycle.events("record.corrected")[-1]["payload"]["before"] == {"score": 0.7}
    _ok(_post(cycle, f"/okrs/{okr['id']}/score/void", {"reason": "Scored by the wrong person"}))
    assert cycle.get(f"/okrs/{okr['id']}")["score"] is None
    assert cycle.events("record.voided")[-1]["payload"]["before"]["score"] == 0.3


def test_a_quarter_closes_with_its_last_decision_and_changes_only_after_a_recorded_reopen(
        app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    _setup(cycle)
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)
    grow = cycle.okr(q1["id"], "Grow", owner="Amy", key_results=[kr("Leads", 0, 10)])
    keep = cycle.okr(q1["id"], "Keep", owner="Bo")
    move_to(clock, Q1_END)
    cycle.score(grow["id"], 0.7)
    cycle.score(keep["id"], 1.0)
    cycle.decide(grow["id"], "complete")
    assert cycle.get(f"/quarters/{q1['id']}")["closed_at"] is None
    cycle.decide(keep["id"], "abandon")
    assert cycle.get(f"/quarters/{q1['id']}")["closed_at"] is not None
    assert len(cycle.events("quarter.closed")) == 1

    for refused in (cycle.put_score(grow["id"], 1.0), cycle.put_decision(grow["id"], "abandon"),
                    cycle.post_okr(q1["id"], "Late idea", owner="Amy"),
                    _patch(cycle, f"/okrs/{grow['id']}", {"objective": "Grow more"}),
                    _patch(cycle, f"/key-results/{grow['key_results'][0]['id']}", {"target": 11}),
                    _post(cycle, f"/okrs/{keep['id']}/decision/void", {"reason": "x"})):
        problem = assert_problem(refused, 409)
        assert "Q1 is closed" in problem["detail"]
        assert problem["rule"] == "quarter_closed"
    cycle.decide(grow["id"], "complete")  # the same decision again changes nothing: accepted

    assert_invalid(_post(cycle, f"/quarters/{q1['id']}/reopen", {}), "body.reason", "missing")
    reopened = _ok(_post(cycle, f"/quarters/{q1['id']}/reopen", {"reason": "Keep was abandoned by mistake"}))
    assert reopened["closed_at"] is None
    [event] = cycle.events("quarter.reopened")
    assert event["payload"]["reason"] == "Keep was abandoned by mistake"
    assert event["actor"].startswith("coach:")
    assert_problem(_post(cycle, f"/quarters/{q1['id']}/reopen", {"reason": "again"}), 409)

    assert_problem(_post(cycle, f"/okrs/{keep['id']}/score/void", {"reason": "x"}), 409)  # decided: decision first
    _ok(_post(cycle, f"/okrs/{grow['id']}/decision/void", {"reason": "Decided before the review meeting"}))
    voided = cycle.events("record.voided")[-1]["payload"]
    assert (voided["record"], voided["record_id"], voided["before"]["decision"]) == ("decision", grow["id"],
                                                                                     "complete")
    assert cycle.get(f"/okrs/{grow['id']}")["decision"] is None
    _ok(_patch(cycle, f"/okrs/{keep['id']}/decision", {"decision": "continue"}, etag_of=f"/okrs/{keep['id']}"))
    assert cycle.events("record.corrected")[-1]["payload"]["before"] == {"decision": "abandon"}
    assert cycle.get(f"/quarters/{q1['id']}")["closed_at"] is None  # Grow is undecided again
    cycle.decide(grow["id"], "complete")
    assert cycle.get(f"/quarters/{q1['id']}")["closed_at"] is not None  # every OKR decided again: closed


def test_an_okr_added_by_mistake_flips_the_expansion_gate_and_voiding_it_flips_it_back(
        app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session]) -> None:
    cycle = new_cycle(app_client, tokens)
    _setup(cycle)
    quarters = [cycle.quarter("Q1", Q1_START, Q1_END), cycle.quarter("Q2", Q2_START, Q2_END)]
    okrs = [cycle.okr(q["id"], f"Grow in {q['label']}", owner="Amy") for q in quarters]
    move_to(clock, Q2_END + timedelta(days=1))
    for okr in okrs:
        cycle.score(okr["id"], 0.7)
        cycle.decide(okr["id"], "complete")
    place_in_phase(db, cycle.journey.engagement_id, "culture", clock.now)

    def pilot_success() -> dict[str, Any]:
        found: dict[str, Any] = cycle.transition("start_expansion")["by_id"]["pilot_success"]
        return found

    assert pilot_success()["passed"] is True
    q2 = quarters[1]["id"]
    _ok(_post(cycle, f"/quarters/{q2}/reopen", {"reason": "A department's OKR was forgotten"}))
    mistake = cycle.okr(q2, "Entered in the wrong quarter", owner="Bo")
    assert pilot_success()["passed"] is False
    with db() as session:  # the scheduler's watch sees the gate fail, and tells the CRM
        assert note_readiness_changes(session, app_client.app.state.catalog, clock.now) == 1  # type: ignore[attr-defined]
    assert "pilot_success" in cycle.events("readiness.changed")[-1]["payload"]["after"]["start_expansion"]["failed"]

    _ok(_post(cycle, f"/okrs/{mistake['id']}/void", {"reason": "Belongs to Q3"}))

    assert pilot_success()["passed"] is True
    assert cycle.get(f"/quarters/{q2}")["closed_at"] is not None  # the OKR voided was the only one undecided
    voided = cycle.events("record.voided")[-1]
    assert voided["payload"]["before"]["objective"] == "Entered in the wrong quarter"
    change = cycle.events("readiness.changed")[-1]["payload"]  # recorded by the void itself, no tick needed
    assert "pilot_success" in change["before"]["start_expansion"]["failed"]
    assert "pilot_success" not in change["after"]["start_expansion"]["failed"]
    # The quarter review counts what counts: the voided OKR is not in it.
    review = cycle.get(f"/quarters/{q2}/review")
    assert review["overall"]["okrs"] == 1


def test_scoring_may_start_early_when_the_playbook_allows(app_client: TestClient, tokens: Tokens,
                                                          clock: Clock) -> None:
    """scoring_early_days is a parameter: the small-company playbook keeps the guide's 0 too, so the rule is the
    same; a date before (quarter end - 0 days) is refused, the last day is accepted."""
    cycle = new_cycle(app_client, tokens)
    _setup(cycle)
    q1 = cycle.quarter("Q1", Q1_START, date(2026, 1, 25))
    okr = cycle.okr(q1["id"], "Grow", owner="Amy")
    move_to(clock, date(2026, 1, 24))
    assert_invalid(cycle.put_score(okr["id"], 0.7), "body.score", "scored_before_quarter_end")
    move_to(clock, date(2026, 1, 25))
    assert cycle.score(okr["id"], 0.7)["score"] == 0.7


def test_an_okr_file_cannot_add_to_a_closed_quarter_but_imports_again_unchanged(
        app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    cycle = new_cycle(app_client, tokens)
    _setup(cycle)
    q1 = cycle.quarter("Q1", Q1_START, Q1_END)
    first = csv_file(OKR_HEADER, ["Q1", "Sales", "Amy", "Grow", "Leads", "0", "10", "", ""])
    org, engagement = cycle.journey.organization_id, cycle.journey.engagement_id
    [okr_id] = imported(post_import(app_client, tokens.admin, org, "okrs", first, engagement_id=engagement))["ids"]
    move_to(clock, Q1_END)
    cycle.score(okr_id, 0.7)
    cycle.decide(okr_id, "complete")  # Q1 is closed

    again = imported(post_import(app_client, tokens.admin, org, "okrs", first, engagement_id=engagement))
    assert again["unchanged"] == 1
    more = csv_file(OKR_HEADER, ["Q1", "Sales", "Amy", "Grow", "Leads", "0", "12", "", ""],
                    ["Q1", "Sales", "Amy", "Keep", "Churn", "5", "2", "", ""])
    refused = post_import(app_client, tokens.admin, org, "okrs", more, engagement_id=engagement)
    assert rejected_rows(refused) == [(2, "quarter", "quarter_closed"), (3, "quarter", "quarter_closed")]
    assert [o["id"] for o in cycle.okrs(q1["id"])] == [okr_id]
