"""A client taken on mid-journey: in May, during its second pilot quarter, the coach enters everything that
happened since November with the dates it happened on (quarters recorded, OKRs prepared, decisions taken), then
walks the engagement through its gates to the Q2 cycle. No gate complains of lateness that did not happen: Q2
was prepared within the playbook's limit after Q1 ended, whenever it was typed in."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.api._walk import MODULES, Walk
from tests.conftest import Clock, Tokens

Q1_START, Q1_END = date(2026, 1, 5), date(2026, 4, 5)  # thirteen weeks
Q2_START, Q2_END = date(2026, 4, 13), date(2026, 7, 12)
ONBOARDED = date(2026, 5, 20)  # the day the coach enters the client, in Q2
LATENESS = ("late", "under way", "deadline", "after the", "faded")  # how the gates say something is late


def no_false_lateness(walk: Walk) -> None:
    """No reason of any criterion of any transition out of the current phase says something is late."""
    for transition in walk.send("GET", "/readiness")["transitions"]:
        for criterion in transition["criteria"]:
            assert not any(word in criterion["reason"] for word in LATENESS), (criterion["id"], criterion["reason"])


def okr(walk: Walk, quarter: dict[str, Any], owner: int, department: int, prepared_on: date) -> dict[str, Any]:
    created = walk.record(f"/quarters/{quarter['id']}/okrs", {
        "objective": f"Grow accounts ({owner})", "owner_id": owner, "department_id": department,
        "prepared_on": prepared_on.isoformat(),
        "key_results": [{"metric": "Accounts won", "start": 0, "target": 12}]})
    assert created["prepared_on"] == prepared_on.isoformat() and created["warnings"] == []
    return created


def test_a_client_taken_on_in_q2_with_back_dated_records_is_judged_on_their_dates(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    walk = Walk.begin(app_client, tokens, clock, name="Late Starter", headcount=40)
    walk.go_to(ONBOARDED)
    ceo = walk.person("Kao Li-hua", "ceo")
    lead = walk.person("Sales lead", "department_lead")
    sales = walk.department("Sales", pilot=True, lead_id=lead)
    members = [walk.person(name, "member", departments=(sales,)) for name in ("Wu An", "Lee Bo", "Chen Ci")]
    coach = tokens.coach_person_id

    walk.advance("schedule_executive_meeting")
    walk.meeting("executive", date(2025, 11, 3), [ceo, coach], outcomes=("ceo_support", "okrs_introduced",
                                                                       "expectations_set"))
    walk.record("/ceo-support", {"level": "full", "stated_on": "2026-05-11", "note": "Confirmed at onboarding"})
    no_false_lateness(walk)
    walk.advance("hold_kickoff")

    walk.update_organization(mission="Parts on time", vision_1y="Two regions", vision_5y="All of Taiwan",
                             vision_10y="East Asia", strategies=["Key accounts"])
    walk.meeting("kickoff", date(2025, 11, 17), [ceo, lead, coach],
                 outcomes=("foundations_agreed", "pilot_leads_committed"))
    no_false_lateness(walk)
    walk.advance("start_pilot_training")

    for day, modules in ((date(2025, 12, 1), MODULES[:2]), (date(2025, 12, 2), MODULES[2:3]),
                         (date(2025, 12, 3), MODULES[3:])):
        walk.record("/training-sessions", {"held_on": day.isoformat(), "hours": 6, "modules": list(modules),
                                           "attendee_ids": members})
    no_false_lateness(walk)
    walk.advance("start_drafting")

    walk.record("/drafting-groups", {"member_ids": [lead, *members], "department_id": sales,
                                     "started_on": "2025-12-08", "ended_on": "2025-12-22"})
    walk.update_organization(okr_software="okr-rollout")
    q1 = walk.record("/quarters", {"label": "Q1 2026", "starts_on": Q1_START.isoformat(),
                                   "ends_on": Q1_END.isoformat(), "recorded_on": "2025-12-15"})
    assert q1["recorded_on"] == "2025-12-15"
    q1_okrs = [okr(walk, q1, member, sales, date(2025, 12, 22)) for member in members]
    no_false_lateness(walk)
    walk.advance("appoint_internal_coaches")

    walk.record("/appointments", {"person_id": members[0], "role": "internal_coach"})
    walk.record("/appointments", {"person_id": ceo, "role": "okr_master"})
    no_false_lateness(walk)
    walk.advance("start_q1")

    for week in range(13):
        monday = Q1_START + timedelta(weeks=week)
        for created in q1_okrs:
            walk.record(f"/quarters/{q1['id']}/check-ins", {
                "key_result_id": created["key_results"][0]["id"], "week_of": (monday + timedelta(days=4)).isoformat(),
                "value": week + 1, "author_id": created["owner_id"]})
        walk.meeting("weekly_team", monday + timedelta(days=1), [lead, *members], department_id=sales)
        if week % 2 == 0:
            for member in members:
                walk.meeting("one_on_one", monday + timedelta(days=2), [lead, member])
    no_false_lateness(walk)
    walk.advance("end_q1")

    decided_on = "2026-04-08"
    for created, score in zip(q1_okrs, (1.0, 0.7, 0.3), strict=True):
        walk.score(created, score)
    for created, decision in zip(q1_okrs, ("complete", "continue", "abandon"), strict=True):
        answer = walk.send("PUT", f"/okrs/{created['id']}/decision", {"decision": decision, "recorded_on": decided_on})
        assert answer["okr"]["decided_on"] == decided_on
    no_false_lateness(walk)
    walk.advance("prepare_next_quarter")

    # Q2 set up on 10 April, five days after Q1 ended: the OKR carried over counts as prepared that day.
    q2 = walk.record("/quarters", {"label": "Q2 2026", "starts_on": Q2_START.isoformat(),
                                   "ends_on": Q2_END.isoformat(), "recorded_on": "2026-04-10"})
    (carried,) = walk.okrs_of(q2)
    assert carried["prepared_on"] == "2026-04-10"
    for member in members:
        if member != carried["owner_id"]:
            okr(walk, q2, member, sales, date(2026, 4, 10))
    gate = walk.allowed("start_q2")
    prepared = next(c for c in gate["criteria"] if c["id"] == "q2_prepared_in_time")
    assert prepared["passed"] is True, prepared["reason"]
    assert (prepared["evidence"]["prepared_on"], prepared["evidence"]["days_late"]) == ("2026-04-10", 0)
    no_false_lateness(walk)
    walk.advance("start_q2")
    assert walk.phase() == "q2_cycle"


def test_dates_of_the_record_are_refused_in_the_future(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    walk = Walk.begin(app_client, tokens, clock, name="Time Traveller", headcount=40)
    tomorrow = (clock.now.date() + timedelta(days=1)).isoformat()
    walk.refused("/quarters", {"label": "Q1", "starts_on": "2026-01-05", "ends_on": "2026-04-05",
                               "recorded_on": tomorrow}, "body.recorded_on", "future_date")
    quarter = walk.record("/quarters", {"label": "Q1", "starts_on": "2026-01-05", "ends_on": "2026-04-05"})
    sales = walk.department("Sales", pilot=True)
    body = {"objective": "Grow", "department_id": sales, "prepared_on": tomorrow,
            "key_results": [{"metric": "Accounts", "start": 0, "target": 3}]}
    walk.refused(f"/quarters/{quarter['id']}/okrs", body, "body.prepared_on", "future_date")
    walk.refused(f"/quarters/{quarter['id']}/okrs", {**body, "prepared_on": "1969-12-31"}, "body.prepared_on",
                 "date_out_of_range")
