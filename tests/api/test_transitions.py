"""Firing transitions: moving on, refusals by the gate (nothing written), triggers that do not apply."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api._helpers import Journey, assert_problem, collect_pages, event_types, fire, get_json, start_journey
from tests.conftest import Clock, Tokens, auth

ENGAGEMENTS = "/api/v1/engagements"


def assert_only_the_refusal_was_recorded(before: dict[str, Any], after: dict[str, Any], failed: list[str]) -> None:
    """A refusal changes nothing but the history, which notes it (for the CRM's gate.refused webhook)."""
    assert {k: v for k, v in after.items() if k != "events"} == {k: v for k, v in before.items() if k != "events"}
    assert after["events"][:-1] == before["events"]
    refusal = after["events"][-1]
    assert refusal["type"] == "gate.refused"
    assert refusal["payload"]["failed"] == failed
    assert refusal["payload"]["phase"] == before["engagement"]["phase"]


def snapshot(client: TestClient, tokens: Tokens, journey: Journey) -> dict[str, Any]:
    """Everything a refused transition must leave untouched."""
    base = f"{ENGAGEMENTS}/{journey.engagement_id}"
    return {
        "engagement": get_json(client, tokens.admin, base),
        "events": collect_pages(client, tokens.admin, f"{base}/events"),
        "tasks": collect_pages(client, tokens.admin, f"{base}/tasks"),
    }


def test_transition_moves_to_the_next_phase_with_its_tasks(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    journey = start_journey(app_client, tokens)
    clock.advance(days=2)
    response = fire(app_client, tokens.coach, journey.engagement_id, "schedule_executive_meeting")
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"v2"'
    body = response.json()
    assert body["from_phase"] == "coach_engaged"
    assert body["trigger"] == "schedule_executive_meeting"
    assert body["engagement"]["phase"] == "executive_meeting"
    assert body["engagement"]["version"] == 2
    assert body["engagement"]["entered_phase_at"] == "2026-01-07T09:00:00Z"
    assert [t["key"] for t in body["engagement"]["open_tasks"]] == ["prepare_executive_meeting",
                                                                    "hold_executive_meeting"]
    assert {t["phase"] for t in body["engagement"]["open_tasks"]} == {"executive_meeting"}
    assert body["readiness"]["allowed"] is True
    assert [c["id"] for c in body["readiness"]["criteria"]] == ["coach_assigned"]
    stored = get_json(app_client, tokens.admin, f"{ENGAGEMENTS}/{journey.engagement_id}")
    assert stored["phase"] == "executive_meeting"
    assert stored == body["engagement"]  # the answer, made from what was written, is what a read gives
    # The tasks of the phase left are kept (history), the new ones are added.
    tasks = collect_pages(app_client, tokens.admin, f"{ENGAGEMENTS}/{journey.engagement_id}/tasks")
    assert [(t["phase"], t["key"]) for t in tasks] == [
        ("coach_engaged", "confirm_engagement"), ("coach_engaged", "collect_background"),
        ("executive_meeting", "prepare_executive_meeting"), ("executive_meeting", "hold_executive_meeting"),
    ]
    moved = collect_pages(app_client, tokens.admin, f"{ENGAGEMENTS}/{journey.engagement_id}/events")[-1]
    assert moved["type"] == "engagement.transitioned"
    assert sorted(moved["payload"]["task_ids"]) == sorted(t["id"] for t in tasks[2:])


def test_gate_refusal_is_409_with_the_readiness_report_and_writes_nothing(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    journey = start_journey(app_client, tokens)
    assert fire(app_client, tokens.coach, journey.engagement_id, "schedule_executive_meeting").status_code == 200
    before = snapshot(app_client, tokens, journey)
    clock.advance(days=1)

    response = fire(app_client, tokens.coach, journey.engagement_id, "hold_kickoff")

    problem = assert_problem(response, 409, slug="gate-refused")
    assert problem["phase"] == "executive_meeting"
    readiness = problem["readiness"]
    assert readiness["trigger"] == "hold_kickoff"
    assert readiness["destination"] == "kickoff"
    assert readiness["allowed"] is False
    assert readiness["total"] == len(readiness["criteria"]) == 2
    assert readiness["passed"] == 0
    for criterion in readiness["criteria"]:
        assert set(criterion) >= {"id", "kind", "passed", "reason", "evidence"}
        assert criterion["passed"] is False
        assert criterion["reason"] in problem["detail"]
    # The refusal carries the same report GET readiness gives.
    report = get_json(app_client, tokens.coach, f"{ENGAGEMENTS}/{journey.engagement_id}/readiness")
    assert report["transitions"] == [readiness]
    assert_only_the_refusal_was_recorded(before, snapshot(app_client, tokens, journey),
                                         [c["id"] for c in readiness["criteria"]])


def test_gate_refusal_without_a_coach(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens, coach_ids=[])
    before = snapshot(app_client, tokens, journey)
    problem = assert_problem(fire(app_client, tokens.admin, journey.engagement_id, "schedule_executive_meeting"), 409,
                             slug="gate-refused")
    assert [(c["id"], c["passed"]) for c in problem["readiness"]["criteria"]] == [("coach_assigned", False)]
    assert problem["readiness"]["criteria"][0]["evidence"]["coaches"] == 0
    assert_only_the_refusal_was_recorded(before, snapshot(app_client, tokens, journey), ["coach_assigned"])


def test_trigger_that_does_not_leave_the_phase_is_409(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    before = snapshot(app_client, tokens, journey)
    for trigger in ("hold_kickoff", "start_expansion"):
        problem = assert_problem(fire(app_client, tokens.coach, journey.engagement_id, trigger), 409)
        assert problem["phase"] == "coach_engaged"
        assert problem["available_triggers"] == ["schedule_executive_meeting"]
        # Said by titles: the phase it is in, and the transition that does leave it.
        assert problem["detail"] == ("This trigger does not leave the phase Coach engaged; from there: "
                                     "Schedule the executive meeting.")
    assert snapshot(app_client, tokens, journey) == before


def test_a_trigger_no_transition_of_the_playbook_has_is_422_naming_the_field(
    app_client: TestClient, tokens: Tokens
) -> None:
    journey = start_journey(app_client, tokens)
    before = snapshot(app_client, tokens, journey)
    response = fire(app_client, tokens.coach, journey.engagement_id, "no_such_trigger")
    problem = assert_problem(response, 422, slug="validation-error")
    assert [(e["field"], e["type"]) for e in problem["errors"]] == [("body.trigger", "unknown_trigger")]
    assert "Standard OKR rollout" in problem["errors"][0]["message"]
    chinese = fire(app_client, tokens.coach, journey.engagement_id, "no_such_trigger", **{"Accept-Language": "zh-TW"})
    assert "不是劇本" in assert_problem(chinese, 422)["errors"][0]["message"]
    assert snapshot(app_client, tokens, journey) == before


def test_firing_the_same_trigger_twice_is_409_the_second_time(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    assert fire(app_client, tokens.coach, journey.engagement_id, "schedule_executive_meeting").status_code == 200
    assert_problem(fire(app_client, tokens.coach, journey.engagement_id, "schedule_executive_meeting"), 409)
    assert event_types(app_client, tokens.admin, journey.engagement_id) == ["engagement.created",
                                                                           "engagement.transitioned"]


def test_transition_request_validation(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    path = f"{ENGAGEMENTS}/{journey.engagement_id}/transitions"
    for payload, field in [({}, "body.trigger"), ({"trigger": "Bad Trigger"}, "body.trigger"),
                           ({"trigger": "schedule_executive_meeting", "force": True}, "body.force")]:
        problem = assert_problem(app_client.post(path, json=payload, headers=auth(tokens.coach)), 422)
        assert [e["field"] for e in problem["errors"]] == [field], payload
    assert get_json(app_client, tokens.admin, f"{ENGAGEMENTS}/{journey.engagement_id}")["phase"] == "coach_engaged"


def test_transition_with_if_match(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    before = snapshot(app_client, tokens, journey)
    stale = fire(app_client, tokens.coach, journey.engagement_id, "schedule_executive_meeting", **{"If-Match": '"v7"'})
    assert_problem(stale, 412, slug="precondition-failed")
    assert snapshot(app_client, tokens, journey) == before
    fresh = fire(app_client, tokens.coach, journey.engagement_id, "schedule_executive_meeting", **{"If-Match": '"v1"'})
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["engagement"]["phase"] == "executive_meeting"
