"""Gate checks of the quarterly cycle: planning, check-ins, meetings, scoring, decisions, the next quarter.

Each kind: a passing case, a failing case, and the exact threshold (the edge
passes, one step beyond fails), asserting the verdict, the English reason, a
real zh-TW reason, and the evidence the decision was made on.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from okr_rollout.journey import gates
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.playbooks import kinds
from tests.journey.factories import (
    assert_result,
    at,
    check_in,
    department,
    facts,
    key_result,
    meeting,
    okr,
    person,
    pilot_company,
    quarter,
)

Q1_START, Q1_END = date(2025, 1, 6), date(2025, 4, 6)
Q2_START, Q2_END = date(2025, 4, 7), date(2025, 7, 6)
Q1 = quarter(1, Q1_START, Q1_END, label="2025-Q1")
Q2 = quarter(2, Q2_START, Q2_END, label="2025-Q2")
#: Four whole weeks into Q1: day 28 of the quarter.
WEEK_4 = at(Q1_START + timedelta(days=27))
AFTER_Q1 = at(Q1_END + timedelta(days=5))

CYCLE_KINDS = [
    "quarter_planned", "pilot_members_own_okrs", "check_in_rate", "meeting_cadence", "quarter_ended",
    "quarter_scored", "okr_decisions", "next_quarter_deadline",
]


@pytest.mark.parametrize("kind", CYCLE_KINDS)
def test_cycle_kind_is_registered_from_the_cycle_module(kind: str) -> None:
    assert gates.CHECKS[kind].__module__ == "okr_rollout.journey.checks.cycle"


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("quarter_planned", kinds.QuarterPlanned(quarter=2, small_company_headcount=6)),
        ("pilot_members_own_okrs", kinds.PilotMembersOwnOkrs(quarter=2, small_company_headcount=6)),
        ("check_in_rate", kinds.CheckInRate(quarter=2, interval_days=7, min_rate=0.8)),
        ("meeting_cadence", kinds.MeetingCadence(quarter=2, small_company_headcount=6, meeting_kind="weekly_team",
                                                 per="department", interval_days=7, min_rate=0.8)),
        ("quarter_ended", kinds.QuarterEnded(quarter=2)),
        ("quarter_scored", kinds.QuarterScored(quarter=2, scale=[0.0, 1.0])),
        ("okr_decisions", kinds.OkrDecisions(quarter=2, decisions=["continue"])),
        ("next_quarter_deadline", kinds.NextQuarterDeadline(quarter=2, max_days=21)),
    ],
)
def test_cycle_kinds_fail_for_a_quarter_not_set_up(kind: str, params: kinds.KindParams) -> None:
    result = gates.check(kind, facts(quarters=[Q1]), params)
    assert_result(result, passed=False, en="Quarter 2 of the engagement is not set up yet",
                  evidence={"quarter": 2})


# --- quarter_planned ------------------------------------------------------------------------

PLANNED_Q1 = kinds.QuarterPlanned(quarter=1, small_company_headcount=6)


def _two_pilots(**more: Any) -> EngagementFacts:
    return facts(departments=[department(10), department(11), department(20, pilot=False)],
                 quarters=[Q2, Q1], now=WEEK_4, **more)


def test_quarter_planned_passes_when_every_pilot_department_has_okrs() -> None:
    f = _two_pilots(okrs=[okr(1, 1, department_id=10), okr(2, 1, department_id=11), okr(3, 1, department_id=10)])
    result = gates.check("quarter_planned", f, PLANNED_Q1)
    assert_result(result, passed=True, en="Every pilot department has OKRs for 2025-Q1",
                  evidence={"quarter": "2025-Q1", "okrs": 3, "pilot_department_ids": [10, 11],
                            "departments_without_okrs": []})


def test_quarter_planned_fails_naming_pilot_departments_without_okrs() -> None:
    # An OKR of the other quarter or of a non-pilot department does not plan this one.
    f = _two_pilots(okrs=[okr(1, 1, department_id=10), okr(2, 2, department_id=11), okr(3, 1, department_id=20)])
    result = gates.check("quarter_planned", f, PLANNED_Q1)
    assert_result(result, passed=False, en="No OKR for 2025-Q1 yet in the pilot department Department 11",
                  evidence={"quarter": "2025-Q1", "okrs": 2, "departments_without_okrs": [11]})


def test_quarter_planned_reads_quarters_in_date_order() -> None:
    f = _two_pilots(okrs=[okr(1, 2, department_id=10), okr(2, 2, department_id=11)])
    result = gates.check("quarter_planned", f, kinds.QuarterPlanned(quarter=2, small_company_headcount=6))
    assert_result(result, passed=True, en="Every pilot department has OKRs for 2025-Q2",
                  evidence={"quarter": "2025-Q2", "okrs": 2})


def test_quarter_planned_fails_without_pilot_departments() -> None:
    f = facts(quarters=[Q1], okrs=[okr(1, 1)], departments=[department(20, pilot=False)], now=WEEK_4)
    result = gates.check("quarter_planned", f, PLANNED_Q1)
    assert_result(result, passed=False, en="No pilot department is chosen",
                  evidence={"okrs": 1, "pilot_department_ids": []})


@pytest.mark.parametrize(("headcount", "okrs", "ok", "en"), [
    (6, 1, True, "1 OKR(s) are set for 2025-Q1"),
    (6, 0, False, "0 OKR(s) are set for 2025-Q1"),
    (7, 1, False, "No pilot department is chosen"),
])
def test_quarter_planned_headcount_exactly_small_company_plans_for_the_whole_company(
    headcount: int, okrs: int, ok: bool, en: str
) -> None:
    f = facts(headcount=headcount, quarters=[Q1], okrs=[okr(i, 1) for i in range(1, okrs + 1)], now=WEEK_4)
    result = gates.check("quarter_planned", f, PLANNED_Q1)
    assert_result(result, passed=ok, en=en, evidence={"quarter": "2025-Q1", "okrs": okrs})


# --- pilot_members_own_okrs -----------------------------------------------------------------

OWN_Q1 = kinds.PilotMembersOwnOkrs(quarter=1, small_company_headcount=6)


def test_pilot_members_own_okrs_passes_when_each_owns_one() -> None:
    f = facts(**pilot_company(pilot_people=[1, 2, 3], other_people=[9]), quarters=[Q1],
              okrs=[okr(1, 1, owner_id=1), okr(2, 1, owner_id=2), okr(3, 1, owner_id=3)])
    result = gates.check("pilot_members_own_okrs", f, OWN_Q1)
    assert_result(result, passed=True, en="3 of 3 pilot members own an OKR for 2025-Q1",
                  evidence={"quarter": "2025-Q1", "pilot_people": 3, "people_without_okr": []})


def test_pilot_members_own_okrs_fails_naming_who_owns_none() -> None:
    # Person 3's OKR is in Q2; person 9 is not in the pilot.
    f = facts(**pilot_company(pilot_people=[1, 2, 3], other_people=[9]), quarters=[Q1, Q2],
              okrs=[okr(1, 1, owner_id=1), okr(2, 1, owner_id=2), okr(3, 2, owner_id=3), okr(4, 1, owner_id=9)])
    result = gates.check("pilot_members_own_okrs", f, OWN_Q1)
    assert_result(result, passed=False, en="2 of 3 pilot members own an OKR for 2025-Q1",
                  evidence={"pilot_people": 3, "people_without_okr": [3]})


def test_pilot_members_own_okrs_headcount_exactly_small_company_includes_everyone() -> None:
    people = [person(p) for p in range(1, 7)]
    f = facts(headcount=6, people=people, quarters=[Q1], okrs=[okr(p, 1, owner_id=p) for p in range(1, 7)])
    result = gates.check("pilot_members_own_okrs", f, OWN_Q1)
    assert_result(result, passed=True, en="6 of 6 pilot members own an OKR",
                  evidence={"pilot_people": 6, "people_without_okr": []})


def test_pilot_members_own_okrs_one_above_small_company_has_no_pilot_without_departments() -> None:
    people = [person(p) for p in range(1, 8)]
    f = facts(headcount=7, people=people, quarters=[Q1], okrs=[okr(p, 1, owner_id=p) for p in range(1, 8)])
    result = gates.check("pilot_members_own_okrs", f, OWN_Q1)
    assert_result(result, passed=False, en="No pilot members are known yet",
                  evidence={"pilot_people": 0, "people_without_okr": []})


# --- check_in_rate --------------------------------------------------------------------------

WEEKLY_75 = kinds.CheckInRate(quarter=1, interval_days=7, min_rate=0.75)


def _check_in_facts(weeks_by_kr: dict[int, list[int]], now: datetime = WEEK_4) -> EngagementFacts:
    """Key results 101, 102 of Q1 OKR 1; each checked in on the given weeks (0 = the quarter's first)."""
    check_ins = [
        check_in(kr, Q1_START + timedelta(days=7 * week + 2)) for kr, weeks in weeks_by_kr.items() for week in weeks
    ]
    return facts(now=now, quarters=[Q1, Q2], okrs=[okr(1, 1), okr(2, 2)],
                 key_results=[key_result(101, 1), key_result(102, 1), key_result(201, 2)], check_ins=check_ins)


def test_check_in_rate_passes_with_every_weekly_check_in() -> None:
    result = gates.check("check_in_rate", _check_in_facts({101: [0, 1, 2, 3], 102: [0, 1, 2, 3]}), WEEKLY_75)
    assert_result(result, passed=True, en="Check-ins every 7 days: 8 of 8 (100%); 75% needed",
                  evidence={"quarter": "2025-Q1", "key_results": 2, "periods_elapsed": 4,
                            "check_ins_on_time": 8, "rate": 1.0, "required_rate": 0.75, "interval_days": 7})


def test_check_in_rate_exactly_min_rate_passes() -> None:
    result = gates.check("check_in_rate", _check_in_facts({101: [0, 1, 2, 3], 102: [0, 2]}), WEEKLY_75)
    assert_result(result, passed=True, en="6 of 8 (75%); 75% needed",
                  evidence={"periods_elapsed": 4, "check_ins_on_time": 6, "rate": 0.75})


def test_check_in_rate_below_min_rate_fails() -> None:
    result = gates.check("check_in_rate", _check_in_facts({101: [0, 1, 2, 3], 102: [2]}), WEEKLY_75)
    assert_result(result, passed=False, en="5 of 8 (62%); 75% needed",
                  evidence={"check_ins_on_time": 5, "rate": 0.625, "required_rate": 0.75})


def test_check_in_rate_counts_one_check_in_per_period_and_none_outside_elapsed_periods() -> None:
    # Week 0 twice, week 4 (running, not yet due), week -1 (before the quarter): only 1 of 8 counts.
    f = _check_in_facts({101: [0, 0, 4, -1]})
    result = gates.check("check_in_rate", f, WEEKLY_75)
    assert_result(result, passed=False, en="1 of 8 (12%)",
                  evidence={"check_ins_on_time": 1, "periods_elapsed": 4, "rate": 0.125})


def test_check_in_rate_passes_before_the_first_period_completes() -> None:
    result = gates.check("check_in_rate", _check_in_facts({}, now=at(Q1_START + timedelta(days=5))), WEEKLY_75)
    assert_result(result, passed=True, en="2025-Q1 has not completed a check-in period yet",
                  evidence={"periods_elapsed": 0, "check_ins_on_time": 0, "key_results": 2})


def test_check_in_rate_fails_without_key_results() -> None:
    f = facts(now=WEEK_4, quarters=[Q1], okrs=[okr(1, 1)])
    result = gates.check("check_in_rate", f, WEEKLY_75)
    assert_result(result, passed=False, en="2025-Q1 has no key results to check in on",
                  evidence={"key_results": 0, "periods_elapsed": 4})


def test_check_in_rate_stops_counting_periods_at_quarter_end() -> None:
    # Q1 has 91 days = 13 weekly periods; long after its end still 13 are expected.
    weeks = list(range(13))
    f = _check_in_facts({101: weeks, 102: weeks[:10]}, now=AFTER_Q1 + timedelta(days=30))
    result = gates.check("check_in_rate", f, WEEKLY_75)
    assert_result(result, passed=True, en="23 of 26 (88%)",
                  evidence={"periods_elapsed": 13, "check_ins_on_time": 23, "rate": round(23 / 26, 3)})


# --- meeting_cadence ------------------------------------------------------------------------

WEEKLY_TEAM = kinds.MeetingCadence(quarter=1, small_company_headcount=6, meeting_kind="weekly_team",
                                   per="department", interval_days=7, min_rate=0.75)


def _team_meetings(per_department: dict[int | None, int], kind: str = "weekly_team") -> list[Any]:
    meetings, mid = [], 500
    for department_id, count in per_department.items():
        for week in range(count):
            mid += 1
            meetings.append(meeting(mid, kind, at(Q1_START + timedelta(days=7 * week + 1)),
                                    department_id=department_id))
    return meetings


def _cadence_facts(meetings: list[Any], **more: Any) -> EngagementFacts:
    base: dict[str, Any] = {"departments": [department(10), department(11), department(20, pilot=False)]}
    return facts(now=WEEK_4, quarters=[Q1], meetings=meetings, **(base | more))


def test_meeting_cadence_passes_when_each_pilot_department_meets_weekly() -> None:
    result = gates.check("meeting_cadence", _cadence_facts(_team_meetings({10: 4, 11: 4})), WEEKLY_TEAM)
    assert_result(result, passed=True, en="The weekly team meeting is held every 7 days as planned",
                  evidence={"quarter": "2025-Q1", "meeting_kind": "weekly_team", "per": "department",
                            "expected_each": 4, "held": {"10": 4, "11": 4}, "behind": [],
                            "required_rate": 0.75})


def test_meeting_cadence_exactly_min_rate_passes() -> None:
    result = gates.check("meeting_cadence", _cadence_facts(_team_meetings({10: 4, 11: 3})), WEEKLY_TEAM)
    assert_result(result, passed=True, en="held every 7 days as planned",
                  evidence={"expected_each": 4, "held": {"10": 4, "11": 3}, "behind": []})


def test_meeting_cadence_below_min_rate_fails_naming_the_department() -> None:
    result = gates.check("meeting_cadence", _cadence_facts(_team_meetings({10: 4, 11: 2})), WEEKLY_TEAM)
    assert_result(result, passed=False,
                  en="The weekly team meeting every 7 days is behind for Department 11 (4 expected each)",
                  evidence={"expected_each": 4, "held": {"10": 4, "11": 2}, "behind": ["11"]})


def test_meeting_cadence_counts_only_this_kind_within_the_quarter() -> None:
    meetings = (
        _team_meetings({10: 4, 11: 2})
        + _team_meetings({11: 4}, kind="one_on_one")
        + [meeting(900, "weekly_team", at(Q1_START - timedelta(days=1)), department_id=11),
           meeting(901, "weekly_team", at(Q1_END + timedelta(days=1)), department_id=11)]
    )
    result = gates.check("meeting_cadence", _cadence_facts(meetings), WEEKLY_TEAM)
    assert_result(result, passed=False, en="behind for Department 11",
                  evidence={"held": {"10": 4, "11": 2}, "behind": ["11"]})


def test_meeting_cadence_company_wide_meetings_count_for_every_pilot_department() -> None:
    meetings = _team_meetings({None: 2, 11: 2})
    result = gates.check("meeting_cadence", _cadence_facts(meetings), WEEKLY_TEAM)
    assert_result(result, passed=False, en="behind for Department 10",
                  evidence={"held": {"10": 2, "11": 4}, "behind": ["10"]})


def test_meeting_cadence_per_person_one_on_ones_every_two_weeks() -> None:
    params = kinds.MeetingCadence(quarter=1, small_company_headcount=6, meeting_kind="one_on_one",
                                  per="person", interval_days=14, min_rate=1.0)
    one_on_ones = [
        meeting(601, "one_on_one", at(Q1_START + timedelta(days=3)), attendees=[1, 99]),
        meeting(602, "one_on_one", at(Q1_START + timedelta(days=17)), attendees=[1, 99]),
        meeting(603, "one_on_one", at(Q1_START + timedelta(days=4)), attendees=[2, 99]),
    ]
    f = facts(now=WEEK_4, quarters=[Q1], meetings=one_on_ones, **pilot_company(pilot_people=[1, 2], other_people=[9]))
    result = gates.check("meeting_cadence", f, params)
    assert_result(result, passed=False, en="The 1:1 meeting every 14 days is behind for Person 2",
                  evidence={"per": "person", "expected_each": 2, "held": {"1": 2, "2": 1}, "behind": ["2"]})


@pytest.mark.parametrize(("headcount", "ok", "en", "held"), [
    (6, True, "held every 7 days as planned", {"company": 3}),
    (7, False, "No pilot departments to hold the weekly team meeting with", {}),
])
def test_meeting_cadence_headcount_exactly_small_company_counts_company_meetings(
    headcount: int, ok: bool, en: str, held: dict[str, int]
) -> None:
    f = facts(headcount=headcount, now=WEEK_4, quarters=[Q1], meetings=_team_meetings({None: 3}))
    result = gates.check("meeting_cadence", f, WEEKLY_TEAM)
    assert_result(result, passed=ok, en=en, evidence={"expected_each": 4, "held": held, "behind": []})


# --- quarter_ended --------------------------------------------------------------------------

ENDED_Q1 = kinds.QuarterEnded(quarter=1)


def test_quarter_ended_passes_after_the_last_day() -> None:
    result = gates.check("quarter_ended", facts(now=AFTER_Q1, quarters=[Q1, Q2]), ENDED_Q1)
    assert_result(result, passed=True, en="2025-Q1 ended on 2025-04-06",
                  evidence={"quarter": "2025-Q1", "ends_on": "2025-04-06"})


def test_quarter_ended_fails_mid_quarter() -> None:
    result = gates.check("quarter_ended", facts(now=WEEK_4, quarters=[Q1]), ENDED_Q1)
    assert_result(result, passed=False, en="2025-Q1 runs until 2025-04-06 (64 days left)",
                  evidence={"quarter": "2025-Q1", "ends_on": "2025-04-06"})


@pytest.mark.parametrize(("day", "ok", "en"), [
    (Q1_END, False, "runs until 2025-04-06 (1 days left)"),
    (Q1_END + timedelta(days=1), True, "ended on 2025-04-06"),
])
def test_quarter_ended_on_its_last_day(day: date, ok: bool, en: str) -> None:
    result = gates.check("quarter_ended", facts(now=at(day, hour=23), quarters=[Q1]), ENDED_Q1)
    assert_result(result, passed=ok, en=en, evidence={"ends_on": "2025-04-06"})


# --- quarter_scored -------------------------------------------------------------------------

GOOGLE_SCALE = kinds.QuarterScored(quarter=1, scale=[0.0, 0.3, 0.7, 1.0])


def test_quarter_scored_passes_when_every_okr_is_on_the_scale() -> None:
    okrs = [okr(1, 1, score=1.0), okr(2, 1, score=0.7), okr(3, 1, score=0.3), okr(4, 1, score=0.0),
            okr(5, 2)]
    result = gates.check("quarter_scored", facts(now=AFTER_Q1, quarters=[Q1, Q2], okrs=okrs), GOOGLE_SCALE)
    assert_result(result, passed=True, en="All 4 OKRs of 2025-Q1 are scored",
                  evidence={"quarter": "2025-Q1", "okrs": 4, "unscored": [], "off_scale": [],
                            "scale": [0.0, 0.3, 0.7, 1.0]})


def test_quarter_scored_fails_on_unscored_and_off_scale_okrs() -> None:
    okrs = [okr(1, 1, score=1.0), okr(2, 1), okr(3, 1, score=0.5)]
    result = gates.check("quarter_scored", facts(now=AFTER_Q1, quarters=[Q1], okrs=okrs), GOOGLE_SCALE)
    assert_result(result, passed=False, en="2025-Q1: 1 OKR(s) unscored, 1 off the scale 0.0 / 0.3 / 0.7 / 1.0",
                  evidence={"okrs": 3, "unscored": [2], "off_scale": [3]})


@pytest.mark.parametrize(("score", "ok"), [(0.1 * 7, True), (0.7 + 5e-7, True), (0.71, False), (0.69, False)])
def test_quarter_scored_a_score_on_the_scale_within_rounding(score: float, ok: bool) -> None:
    okrs = [okr(1, 1, score=score)]
    result = gates.check("quarter_scored", facts(now=AFTER_Q1, quarters=[Q1], okrs=okrs), GOOGLE_SCALE)
    assert_result(result, passed=ok, en="are scored" if ok else "0 OKR(s) unscored, 1 off the scale",
                  evidence={"unscored": [], "off_scale": [] if ok else [1]})


def test_quarter_scored_fails_without_okrs() -> None:
    result = gates.check("quarter_scored", facts(now=AFTER_Q1, quarters=[Q1], okrs=[okr(5, 2, score=1.0)]),
                         GOOGLE_SCALE)
    assert_result(result, passed=False, en="2025-Q1 has no OKRs to score", evidence={"okrs": 0})


# --- okr_decisions --------------------------------------------------------------------------

DECISIONS = ["continue", "abandon", "complete"]
DECIDED_Q1 = kinds.OkrDecisions(quarter=1, decisions=DECISIONS)


def test_okr_decisions_pass_when_every_okr_is_decided() -> None:
    okrs = [okr(1, 1, decision="continue"), okr(2, 1, decision="abandon"), okr(3, 1, decision="complete"),
            okr(4, 2)]
    result = gates.check("okr_decisions", facts(now=AFTER_Q1, quarters=[Q1, Q2], okrs=okrs), DECIDED_Q1)
    assert_result(result, passed=True, en="3 of 3 OKRs of 2025-Q1 have a decision (continue / abandon / mark complete)",
                  evidence={"quarter": "2025-Q1", "okrs": 3, "undecided": [], "decisions": DECISIONS})


def test_okr_decisions_fail_on_missing_or_unknown_decisions() -> None:
    okrs = [okr(1, 1, decision="continue"), okr(2, 1), okr(3, 1, decision="postpone")]
    result = gates.check("okr_decisions", facts(now=AFTER_Q1, quarters=[Q1], okrs=okrs), DECIDED_Q1)
    assert_result(result, passed=False, en="1 of 3 OKRs of 2025-Q1 have a decision",
                  evidence={"okrs": 3, "undecided": [2, 3]})


@pytest.mark.parametrize(("decision", "ok"), [("complete", True), ("continue", False)])
def test_okr_decisions_only_the_listed_decisions_count(decision: str, ok: bool) -> None:
    params = kinds.OkrDecisions(quarter=1, decisions=["complete"])
    result = gates.check("okr_decisions", facts(now=AFTER_Q1, quarters=[Q1], okrs=[okr(1, 1, decision=decision)]),
                         params)
    assert_result(result, passed=ok, en=f"{1 if ok else 0} of 1 OKRs of 2025-Q1 have a decision (mark complete)",
                  evidence={"okrs": 1, "undecided": [] if ok else [1], "decisions": ["complete"]})


def test_okr_decisions_fail_without_okrs() -> None:
    result = gates.check("okr_decisions", facts(now=AFTER_Q1, quarters=[Q1]), DECIDED_Q1)
    assert_result(result, passed=False, en="2025-Q1 has no OKRs to decide on", evidence={"okrs": 0, "undecided": []})


# --- next_quarter_deadline ------------------------------------------------------------------

WITHIN_21 = kinds.NextQuarterDeadline(quarter=1, max_days=21)
DEADLINE = Q1_END + timedelta(days=21)  # 2025-04-27


def _prepared(*created_on: date | None, now: datetime | None = None) -> EngagementFacts:
    okrs = [okr(10 + i, 2, created_on=day) for i, day in enumerate(created_on)]
    return facts(now=now or at(DEADLINE + timedelta(days=10)), quarters=[Q1, Q2], okrs=okrs)


def test_next_quarter_deadline_passes_when_prepared_in_time() -> None:
    result = gates.check("next_quarter_deadline", _prepared(date(2025, 4, 10), date(2025, 4, 3)), WITHIN_21)
    assert_result(result, passed=True, en="prepared on 2025-04-10, within 21 days",
                  evidence={"quarter": "2025-Q1", "deadline": "2025-04-27", "max_days": 21,
                            "prepared_on": "2025-04-10", "days_late": 0})


@pytest.mark.parametrize(("prepared_on", "ok", "en", "late"), [
    (DEADLINE, True, "prepared on 2025-04-27, within 21 days", 0),
    (DEADLINE + timedelta(days=1), False, "prepared 1 day(s) after the 21-day limit", 1),
])
def test_next_quarter_deadline_exactly_max_days_after_quarter_end(
    prepared_on: date, ok: bool, en: str, late: int
) -> None:
    result = gates.check("next_quarter_deadline", _prepared(date(2025, 4, 8), prepared_on), WITHIN_21)
    assert_result(result, passed=ok, en=en,
                  evidence={"deadline": "2025-04-27", "prepared_on": prepared_on.isoformat(), "days_late": late})


def test_next_quarter_deadline_fails_when_not_prepared_yet() -> None:
    f = _prepared(now=at(date(2025, 4, 21)))
    result = gates.check("next_quarter_deadline", f, WITHIN_21)
    assert_result(result, passed=False, en="The next quarter is not prepared; 6 day(s) left until 2025-04-27",
                  evidence={"deadline": "2025-04-27", "days_left": 6})


def test_next_quarter_deadline_fails_when_not_prepared_past_the_deadline() -> None:
    f = facts(now=at(date(2025, 5, 1)), quarters=[Q1])
    result = gates.check("next_quarter_deadline", f, WITHIN_21)
    assert_result(result, passed=False, en="deadline 2025-04-27 passed 4 day(s) ago",
                  evidence={"deadline": "2025-04-27", "days_left": -4})


def test_next_quarter_deadline_takes_today_for_an_okr_without_creation_date() -> None:
    on_time = gates.check("next_quarter_deadline", _prepared(None, now=at(DEADLINE)), WITHIN_21)
    assert_result(on_time, passed=True, en="within 21 days", evidence={"prepared_on": "2025-04-27", "days_late": 0})
    late = gates.check("next_quarter_deadline", _prepared(None, now=at(DEADLINE + timedelta(days=2))), WITHIN_21)
    assert_result(late, passed=False, en="2 day(s) after the 21-day limit",
                  evidence={"prepared_on": "2025-04-29", "days_late": 2})
