"""Correcting and voiding meetings, CEO support, training sessions, drafting groups and appointments over HTTP:
PATCH with If-Match corrects, POST …/void with a reason voids; the history shows before and after, a voided
record stays (shown as voided) and no gate counts it, and readiness is re-evaluated at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from okr_rollout.facts.queries import statements
from tests.api._helpers import assert_problem, event_types, get_json
from tests.api._records import (
    MODULES,
    Client,
    client_organization,
    create,
    criterion,
    events,
    listed,
    place_in_phase,
    refused,
)
from tests.conftest import Clock, Tokens, auth

EXECUTIVE_OUTCOMES = ["ceo_support", "okrs_introduced", "expectations_set"]


def _path(org: Client, collection: str, record_id: int) -> str:
    return f"{org.base}/{collection}/{record_id}"


def _etag(client: TestClient, token: str, path: str) -> str:
    response = client.get(path, headers=auth(token))
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


def _correct(client: TestClient, token: str, path: str, body: dict[str, Any], *, status: int = 200
             ) -> dict[str, Any]:
    response = client.patch(path, json=body, headers=auth(token, **{"If-Match": _etag(client, token, path)}))
    assert response.status_code == status, response.text
    result: dict[str, Any] = response.json()
    return result


def _void(client: TestClient, token: str, path: str, reason: str) -> dict[str, Any]:
    response = client.post(f"{path}/void", json={"reason": reason},
                           headers=auth(token, **{"If-Match": _etag(client, token, path)}))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _last(client: TestClient, tokens: Tokens, org: Client, type: str) -> dict[str, Any]:
    found = [e for e in events(client, tokens.admin, org.engagement_id) if e["type"] == type]
    assert found, f"no {type} event"
    return found[-1]


def test_a_meeting_is_corrected_then_voided_and_the_kickoff_gate_follows(
        app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session]) -> None:
    org = client_organization(app_client, tokens)
    place_in_phase(db, org.engagement_id, "executive_meeting", clock.now)
    meeting = create(app_client, tokens.coach, org.engagement_id, "meetings",
                     {"kind": "executive", "held_at": "2026-01-05T08:00:00Z", "attendee_ids": [org.ceo_id],
                      "outcomes": ["ceo_support", "okrs_introduced"], "notes": "first take"})
    path = _path(org, "meetings", meeting["id"])
    assert criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "executive_outcomes")[
        "passed"] is False  # the expectations were set, but not recorded

    corrected = _correct(app_client, tokens.coach, path, {"outcomes": EXECUTIVE_OUTCOMES, "notes": "all three"})

    assert corrected["outcomes"] == sorted(EXECUTIVE_OUTCOMES)
    assert corrected["notes"] == "all three"
    assert corrected["attendee_ids"] == [org.ceo_id]  # a field not sent keeps its value
    assert corrected["version"] == meeting["version"] + 1
    event = _last(app_client, tokens, org, "record.corrected")
    assert event["actor"].startswith("coach:")
    assert event["payload"] == {
        "record": "meeting", "record_id": meeting["id"], "changed": ["notes", "outcomes"],
        "before": {"notes": "first take", "outcomes": ["ceo_support", "okrs_introduced"]},
        "after": {"notes": "all three", "outcomes": sorted(EXECUTIVE_OUTCOMES)}}
    assert criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "executive_outcomes")[
        "passed"] is True
    # The correction re-evaluated readiness at once: no scheduler tick needed for the CRM to hear of it.
    change = _last(app_client, tokens, org, "readiness.changed")["payload"]
    assert "executive_outcomes" in change["before"]["hold_kickoff"]["failed"]
    assert "executive_outcomes" not in change["after"]["hold_kickoff"]["failed"]

    voided = _void(app_client, tokens.coach, path, "Entered for the wrong client")

    assert voided["voided_by"].startswith("coach:")
    assert voided["void_reason"] == "Entered for the wrong client"
    assert voided["voided_at"] is not None
    [listed_meeting] = listed(app_client, tokens.coach, org.engagement_id, "meetings")  # it stays, shown voided
    assert listed_meeting["void_reason"] == "Entered for the wrong client"
    assert criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "executive_outcomes")[
        "passed"] is False
    event = _last(app_client, tokens, org, "record.voided")
    assert event["payload"]["record"] == "meeting"
    assert event["payload"]["reason"] == "Entered for the wrong client"
    assert event["payload"]["before"]["outcomes"] == sorted(EXECUTIVE_OUTCOMES)
    assert event["payload"]["after"]["void_reason"] == "Entered for the wrong client"
    assert "executive_outcomes" in _last(app_client, tokens, org, "readiness.changed")["payload"]["after"][
        "hold_kickoff"]["failed"]

    # A voided record no longer changes.
    response = app_client.patch(path, json={"notes": "again"}, headers=auth(tokens.coach))
    problem = assert_problem(response, 409)
    assert "voided" in problem["detail"]


def test_a_correction_obeys_the_rules_of_recording_and_changes_nothing_when_refused(
        app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    meeting = create(app_client, tokens.coach, org.engagement_id, "meetings",
                     {"kind": "executive", "held_at": "2026-01-05T08:00:00Z", "attendee_ids": [org.ceo_id],
                      "outcomes": ["ceo_support"]})
    path = _path(org, "meetings", meeting["id"])
    before = event_types(app_client, tokens.admin, org.engagement_id)

    refused(app_client.patch(path, json={"outcomes": ["no_such_outcome"]}, headers=auth(tokens.coach)),
            ("body.outcomes[0]", "unknown_outcome"))
    refused(app_client.patch(path, json={"held_at": "2027-01-05T08:00:00Z"}, headers=auth(tokens.coach)),
            ("body.held_at", "future_date"))
    refused(app_client.patch(path, json={"kind": None}, headers=auth(tokens.coach)), ("body.kind", "null"))
    stale = app_client.patch(path, json={"notes": "x"}, headers=auth(tokens.coach, **{"If-Match": 'W/"99"'}))
    assert_problem(stale, 412)
    refused(app_client.post(f"{path}/void", json={"reason": ""}, headers=auth(tokens.coach)),
            ("body.reason", "string_too_short"))
    assert app_client.post(f"{path}/void", json={}, headers=auth(tokens.coach)).status_code == 422

    assert get_json(app_client, tokens.coach, path) == meeting | {"voided_at": None, "voided_by": None,
                                                                   "void_reason": None}
    assert event_types(app_client, tokens.admin, org.engagement_id) == before
    unchanged = _correct(app_client, tokens.coach, path, {"notes": meeting["notes"]})
    assert unchanged["version"] == meeting["version"]
    assert event_types(app_client, tokens.admin, org.engagement_id) == before  # nothing changed: no event


def test_someone_who_may_not_record_on_the_engagement_may_not_correct(app_client: TestClient,
                                                                        tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    meeting = create(app_client, tokens.coach, org.engagement_id, "meetings",
                     {"kind": "executive", "held_at": "2026-01-05T08:00:00Z"})
    path = _path(org, "meetings", meeting["id"])
    other = client_organization(app_client, tokens)
    for token in (tokens.other_coach,):
        assert_problem(app_client.patch(path, json={"notes": "x"}, headers=auth(token)), 404)
        assert_problem(app_client.post(f"{path}/void", json={"reason": "x"}, headers=auth(token)), 404)
    # A meeting is corrected through its own engagement only.
    wrong = f"{other.base}/meetings/{meeting['id']}"
    assert_problem(app_client.patch(wrong, json={"notes": "x"}, headers=auth(tokens.coach)), 404)


def test_ceo_support_corrected_and_voided_moves_the_ceo_backing_criterion(
        app_client: TestClient, tokens: Tokens, clock: Clock, db: Callable[[], Session]) -> None:
    org = client_organization(app_client, tokens)
    place_in_phase(db, org.engagement_id, "executive_meeting", clock.now)
    statement = create(app_client, tokens.coach, org.engagement_id, "ceo-support",
                       {"level": "none", "stated_on": "2026-01-05"})
    path = _path(org, "ceo-support", statement["id"])
    assert criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "ceo_backing")["passed"] is False

    corrected = _correct(app_client, tokens.coach, path, {"level": "partial"})

    assert corrected["level"] == "partial"
    assert criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "ceo_backing")["passed"] is True
    assert _last(app_client, tokens, org, "record.corrected")["payload"]["before"] == {"level": "none"}
    refused(app_client.patch(path, json={"stated_on": "2027-01-01"}, headers=auth(tokens.coach)),
            ("body.stated_on", "future_date"))

    _void(app_client, tokens.coach, path, "The CEO said it of another project")

    assert criterion(app_client, tokens.coach, org.engagement_id, "hold_kickoff", "ceo_backing")["passed"] is False
    assert _last(app_client, tokens, org, "record.voided")["payload"]["record"] == "ceo_support"


def test_a_training_session_is_corrected_and_voided(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    training = create(app_client, tokens.coach, org.engagement_id, "training-sessions",
                      {"held_on": "2026-01-05", "hours": 6, "modules": MODULES[:2], "attendee_ids": org.pilot_ids})
    path = _path(org, "training-sessions", training["id"])

    corrected = _correct(app_client, tokens.coach, path, {"hours": 5.5, "modules": MODULES[:3]})

    assert (corrected["hours"], corrected["modules"]) == (5.5, sorted(MODULES[:3]))
    payload = _last(app_client, tokens, org, "record.corrected")["payload"]
    assert payload["before"] == {"hours": 6.0, "modules": sorted(MODULES[:2])}
    refused(app_client.patch(path, json={"modules": ["juggling"]}, headers=auth(tokens.coach)),
            ("body.modules[0]", "unknown_module"))

    voided = _void(app_client, tokens.coach, path, "Cancelled: the trainer was ill")
    assert voided["void_reason"] == "Cancelled: the trainer was ill"


def test_a_drafting_group_is_corrected_and_voided(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    group = create(app_client, tokens.coach, org.engagement_id, "drafting-groups",
                   {"member_ids": org.pilot_ids[:3], "started_on": "2026-01-05"})
    path = _path(org, "drafting-groups", group["id"])

    corrected = _correct(app_client, tokens.coach, path, {"department_id": org.pilot_department_id,
                                                           "started_on": "2026-01-02"})

    assert (corrected["department_id"], corrected["started_on"]) == (org.pilot_department_id, "2026-01-02")
    payload = _last(app_client, tokens, org, "record.corrected")["payload"]
    assert payload["before"] == {"department_id": None, "started_on": "2026-01-05"}
    assert payload["after"] == {"department_id": org.pilot_department_id, "started_on": "2026-01-02"}
    _void(app_client, tokens.coach, path, "Duplicate of the Sales group")
    assert _last(app_client, tokens, org, "record.voided")["payload"]["record"] == "drafting_group"


def test_a_voided_appointment_lets_the_person_be_appointed_again(app_client: TestClient, tokens: Tokens) -> None:
    org = client_organization(app_client, tokens)
    person = org.pilot_ids[0]
    appointment = create(app_client, tokens.coach, org.engagement_id, "appointments",
                         {"person_id": person, "role": "internal_coach"})
    path = _path(org, "appointments", appointment["id"])

    corrected = _correct(app_client, tokens.coach, path, {"trained": True, "trained_on": "2026-01-05"})
    assert corrected["trained"] is True
    assert _last(app_client, tokens, org, "record.corrected")["payload"]["after"] == {
        "trained": True, "trained_on": "2026-01-05"}

    _void(app_client, tokens.coach, path, "Appointed the wrong Pilot")
    again = create(app_client, tokens.coach, org.engagement_id, "appointments",
                   {"person_id": person, "role": "internal_coach"})
    assert again["id"] != appointment["id"]
    rows = listed(app_client, tokens.coach, org.engagement_id, "appointments")
    assert [(a["id"], a["void_reason"]) for a in rows] == [(appointment["id"], "Appointed the wrong Pilot"),
                                                           (again["id"], None)]


def test_every_group_of_facts_a_gate_reads_leaves_voided_records_out() -> None:
    """A new record group cannot forget the rule: each statement of a record table filters voided rows."""
    record_groups = {"meetings", "ceo_support", "training_sessions", "drafting_groups", "quarters", "okrs",
                     "key_results", "check_ins", "appointments"}
    for selected in (True, False):
        found = statements(selected)
        assert record_groups <= set(found)
        for name in record_groups:
            assert re.search(r"\.voided_at IS NULL", str(found[name])), name
