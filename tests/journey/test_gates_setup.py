"""Gate checks of the set-up stages: coach, executives, kickoff, pilot choice, training, drafting.

Each kind: a passing case, a failing case, and the exact threshold (the edge
passes, one step beyond fails), asserting the verdict, the English reason, a
real zh-TW reason, and the evidence the decision was made on.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from okr_rollout.journey import gates
from okr_rollout.journey.facts import DepartmentFacts, EngagementFacts, MeetingFacts, TrainingSessionFacts
from okr_rollout.playbooks import kinds
from tests.journey.factories import (
    NOW,
    TODAY,
    assert_result,
    at,
    ceo,
    department,
    facts,
    group,
    meeting,
    okr,
    organization,
    person,
    pilot_company,
    quarter,
    session,
)

# --- the registry ---------------------------------------------------------------------------


def test_every_gate_kind_has_exactly_one_check() -> None:
    assert set(gates.CHECKS) == set(kinds.GATE_KINDS)
    assert len(gates.CHECKS) == 22


SETUP_KINDS = [
    "coach_assigned", "ceo_support", "meeting_outcomes", "organization_foundations", "pilot_departments",
    "headcount_at_most", "training_completed", "drafting_groups", "drafting_duration",
    "okr_software_introduced",
]


@pytest.mark.parametrize("kind", SETUP_KINDS)
def test_setup_kind_is_registered_from_the_setup_module(kind: str) -> None:
    assert gates.CHECKS[kind].__module__ == "okr_rollout.journey.checks.setup"


# --- coach_assigned -------------------------------------------------------------------------


def test_coach_assigned_passes_with_a_coach() -> None:
    result = gates.check("coach_assigned", facts(coach_ids=[3]), kinds.CoachAssigned(min_coaches=1))
    assert_result(result, passed=True, en="1 OKR coach(es) assigned; at least 1 needed",
                  evidence={"coaches": 1, "required": 1, "coach_ids": [3]})


def test_coach_assigned_fails_without_a_coach() -> None:
    result = gates.check("coach_assigned", facts(), kinds.CoachAssigned(min_coaches=1))
    assert_result(result, passed=False, en="0 OKR coach(es) assigned",
                  evidence={"coaches": 0, "required": 1, "coach_ids": []})


@pytest.mark.parametrize(("coach_ids", "ok"), [([5, 3], True), ([3], False), ([9, 3, 5], True)])
def test_coach_assigned_at_the_minimum(coach_ids: list[int], ok: bool) -> None:
    result = gates.check("coach_assigned", facts(coach_ids=coach_ids), kinds.CoachAssigned(min_coaches=2))
    assert_result(result, passed=ok, en=f"{len(coach_ids)} OKR coach(es) assigned; at least 2 needed",
                  evidence={"coaches": len(coach_ids), "required": 2, "coach_ids": sorted(coach_ids)})


# --- ceo_support ----------------------------------------------------------------------------

CEO_FULL_90 = kinds.CeoSupport(max_age_days=90, min_level="full")


def test_ceo_support_passes_when_full_and_recent() -> None:
    stated = TODAY - timedelta(days=10)
    result = gates.check("ceo_support", facts(ceo_support=[ceo("full", stated)]), CEO_FULL_90)
    assert_result(result, passed=True, en="full support was confirmed 10 days ago",
                  evidence={"level": "full", "required_level": "full", "stated_on": stated.isoformat(),
                            "age_days": 10, "max_age_days": 90})


def test_ceo_support_fails_when_never_stated() -> None:
    result = gates.check("ceo_support", facts(), CEO_FULL_90)
    assert_result(result, passed=False, en="No statement of CEO support is recorded",
                  evidence={"required_level": "full", "max_age_days": 90})


def test_ceo_support_fails_below_the_required_level() -> None:
    stated = TODAY - timedelta(days=3)
    result = gates.check("ceo_support", facts(ceo_support=[ceo("partial", stated)]), CEO_FULL_90)
    assert_result(result, passed=False, en="latest statement gives partial support; full support is needed",
                  evidence={"level": "partial", "required_level": "full", "age_days": 3})


def test_ceo_support_judges_the_latest_statement_when_support_fades() -> None:
    statements = [ceo("full", TODAY - timedelta(days=40)), ceo("partial", TODAY - timedelta(days=5))]
    result = gates.check("ceo_support", facts(ceo_support=statements), CEO_FULL_90)
    assert_result(result, passed=False, en="partial support",
                  evidence={"level": "partial", "age_days": 5,
                            "stated_on": (TODAY - timedelta(days=5)).isoformat()})


def test_ceo_support_judges_the_latest_statement_when_support_grows() -> None:
    statements = [ceo("full", TODAY - timedelta(days=2)), ceo("none", TODAY - timedelta(days=60))]
    result = gates.check("ceo_support", facts(ceo_support=statements), CEO_FULL_90)
    assert_result(result, passed=True, en="confirmed 2 days ago", evidence={"level": "full", "age_days": 2})


def test_ceo_support_accepts_a_higher_level_than_required() -> None:
    stated = TODAY - timedelta(days=1)
    params = kinds.CeoSupport(max_age_days=30, min_level="partial")
    result = gates.check("ceo_support", facts(ceo_support=[ceo("full", stated)]), params)
    assert_result(result, passed=True, en="full support was confirmed 1 days ago",
                  evidence={"level": "full", "required_level": "partial", "max_age_days": 30})


def test_ceo_support_exactly_max_age_days_old_passes() -> None:
    stated = TODAY - timedelta(days=90)
    result = gates.check("ceo_support", facts(ceo_support=[ceo("full", stated)]), CEO_FULL_90)
    assert_result(result, passed=True, en="confirmed 90 days ago",
                  evidence={"age_days": 90, "max_age_days": 90, "stated_on": "2024-12-15"})


def test_ceo_support_one_day_older_than_max_age_days_fails() -> None:
    stated = TODAY - timedelta(days=91)
    result = gates.check("ceo_support", facts(ceo_support=[ceo("full", stated)]), CEO_FULL_90)
    assert_result(result, passed=False, en="last confirmed 91 days ago; it counts as faded after 90 days",
                  evidence={"age_days": 91, "max_age_days": 90, "stated_on": "2024-12-14"})


def test_ceo_support_age_follows_the_injected_clock() -> None:
    stated = date(2025, 1, 1)
    later = facts(now=at(stated + timedelta(days=91)), ceo_support=[ceo("full", stated)])
    earlier = facts(now=at(stated + timedelta(days=90)), ceo_support=[ceo("full", stated)])
    assert_result(gates.check("ceo_support", earlier, CEO_FULL_90), passed=True, en="90 days ago",
                  evidence={"age_days": 90})
    assert_result(gates.check("ceo_support", later, CEO_FULL_90), passed=False, en="91 days ago",
                  evidence={"age_days": 91})


# --- meeting_outcomes -----------------------------------------------------------------------

EXEC_OUTCOMES = ["ceo_support", "okrs_introduced", "expectations_set"]
EXEC = kinds.MeetingOutcomes(meeting_kind="executive", outcomes=EXEC_OUTCOMES)


def meeting_at(held_at: datetime, *, mid: int, outcomes: list[str], kind: str = "executive") -> MeetingFacts:
    return meeting(mid, kind, held_at, outcomes=outcomes)


def test_meeting_outcomes_pass_when_every_outcome_is_recorded() -> None:
    held = meeting_at(NOW - timedelta(days=3), mid=4, outcomes=EXEC_OUTCOMES)
    result = gates.check("meeting_outcomes", facts(meetings=[held]), EXEC)
    assert_result(result, passed=True, en="The executive meeting recorded all 3 outcomes",
                  evidence={"meeting_kind": "executive", "meeting_ids": [4],
                            "outcomes_recorded": sorted(EXEC_OUTCOMES), "outcomes_missing": []})


def test_meeting_outcomes_fail_when_no_such_meeting_was_held() -> None:
    kickoff = meeting_at(NOW - timedelta(days=3), mid=4, kind="kickoff", outcomes=EXEC_OUTCOMES)
    result = gates.check("meeting_outcomes", facts(meetings=[kickoff]), EXEC)
    assert_result(result, passed=False, en="No executive meeting has been held yet",
                  evidence={"meeting_ids": [], "outcomes_recorded": [], "outcomes_missing": EXEC_OUTCOMES})


def test_meeting_outcomes_fail_listing_the_missing_outcomes() -> None:
    held = meeting_at(NOW - timedelta(days=3), mid=4, outcomes=["okrs_introduced", "something_else"])
    result = gates.check("meeting_outcomes", facts(meetings=[held]), EXEC)
    assert_result(result, passed=False, en="still lacks these outcomes: CEO support obtained and expectations set",
                  evidence={"meeting_ids": [4], "outcomes_recorded": ["okrs_introduced"],
                            "outcomes_missing": ["ceo_support", "expectations_set"]})


def test_meeting_outcomes_combine_several_meetings_of_the_kind() -> None:
    first = meeting_at(NOW - timedelta(days=10), mid=8, outcomes=["ceo_support"])
    second = meeting_at(NOW - timedelta(days=2), mid=5, outcomes=["okrs_introduced", "expectations_set"])
    result = gates.check("meeting_outcomes", facts(meetings=[first, second]), EXEC)
    assert_result(result, passed=True, en="recorded all 3 outcomes",
                  evidence={"meeting_ids": [5, 8], "outcomes_missing": []})


def test_meeting_outcomes_count_a_meeting_held_exactly_now() -> None:
    held = meeting_at(NOW, mid=4, outcomes=EXEC_OUTCOMES)
    result = gates.check("meeting_outcomes", facts(meetings=[held]), EXEC)
    assert_result(result, passed=True, en="recorded all 3 outcomes", evidence={"meeting_ids": [4]})


def test_meeting_outcomes_ignore_a_meeting_scheduled_after_now() -> None:
    planned = meeting_at(NOW + timedelta(minutes=1), mid=4, outcomes=EXEC_OUTCOMES)
    result = gates.check("meeting_outcomes", facts(meetings=[planned]), EXEC)
    assert_result(result, passed=False, en="No executive meeting has been held yet",
                  evidence={"meeting_ids": []})


# --- organization_foundations ---------------------------------------------------------------

ALL_FOUNDATIONS = kinds.OrganizationFoundations(
    fields=["mission", "vision_1y", "vision_5y", "vision_10y", "strategies"]
)
FOUNDED: dict[str, Any] = {
    "mission": "Bring good tea to every office.",
    "vision_1y": "Ten offices served.",
    "vision_5y": "The island's favourite office tea.",
    "vision_10y": "Asia's favourite office tea.",
    "strategies": ("Partner with office landlords",),
}


def test_organization_foundations_pass_when_all_are_recorded() -> None:
    result = gates.check("organization_foundations", facts(org=organization(**FOUNDED)), ALL_FOUNDATIONS)
    assert_result(result, passed=True, en="Mission, vision and strategies are recorded",
                  evidence={"missing": [], "required": list(ALL_FOUNDATIONS.fields)})


def test_organization_foundations_fail_naming_what_is_missing_in_order() -> None:
    org = organization(**(FOUNDED | {"vision_10y": None, "strategies": ()}))
    result = gates.check("organization_foundations", facts(org=org), ALL_FOUNDATIONS)
    assert_result(result, passed=False, en="Still to record at the kickoff: the vision in 10 years and the strategies",
                  evidence={"missing": ["vision_10y", "strategies"]})


def test_organization_foundations_treat_blank_text_as_missing() -> None:
    org = organization(**(FOUNDED | {"mission": "   ", "strategies": (" ", "")}))
    result = gates.check("organization_foundations", facts(org=org), ALL_FOUNDATIONS)
    assert_result(result, passed=False, en="Still to record at the kickoff: the mission and the strategies",
                  evidence={"missing": ["mission", "strategies"]})


def test_organization_foundations_one_real_strategy_is_enough() -> None:
    org = organization(**(FOUNDED | {"strategies": ("", "Sell through landlords")}))
    result = gates.check("organization_foundations", facts(org=org), ALL_FOUNDATIONS)
    assert_result(result, passed=True, en="are recorded", evidence={"missing": []})


def test_organization_foundations_require_only_the_listed_fields() -> None:
    org = organization(mission="Bring good tea to every office.")
    params = kinds.OrganizationFoundations(fields=["mission"])
    assert_result(gates.check("organization_foundations", facts(org=org), params), passed=True,
                  en="are recorded", evidence={"missing": [], "required": ["mission"]})
    params = kinds.OrganizationFoundations(fields=["mission", "vision_5y"])
    assert_result(gates.check("organization_foundations", facts(org=org), params), passed=False,
                  en="Still to record at the kickoff: the vision in 5 years", evidence={"missing": ["vision_5y"]})


# --- pilot_departments ----------------------------------------------------------------------

PILOTS_1_TO_2 = kinds.PilotDepartments(small_company_headcount=6, min_departments=1, max_departments=2)


def _departments(pilots: int) -> list[DepartmentFacts]:
    return [department(10 + i, pilot=True) for i in range(pilots)] + [department(99, pilot=False)]


def test_pilot_departments_pass_with_one_or_two_pilots() -> None:
    result = gates.check("pilot_departments", facts(departments=_departments(2)), PILOTS_1_TO_2)
    assert_result(result, passed=True, en="2 pilot department(s) chosen; 1 to 2 are needed",
                  evidence={"headcount": 40, "small_company_headcount": 6,
                            "pilot_department_ids": [10, 11], "min": 1, "max": 2})


def test_pilot_departments_fail_without_a_pilot() -> None:
    result = gates.check("pilot_departments", facts(departments=_departments(0)), PILOTS_1_TO_2)
    assert_result(result, passed=False, en="0 pilot department(s) chosen; 1 to 2 are needed",
                  evidence={"pilot_department_ids": []})


@pytest.mark.parametrize(("pilots", "ok"), [(0, False), (1, True), (2, True), (3, False)])
def test_pilot_departments_at_the_bounds(pilots: int, ok: bool) -> None:
    result = gates.check("pilot_departments", facts(departments=_departments(pilots)), PILOTS_1_TO_2)
    assert_result(result, passed=ok, en=f"{pilots} pilot department(s) chosen",
                  evidence={"pilot_department_ids": [10 + i for i in range(pilots)]})


def test_pilot_departments_headcount_exactly_small_company_is_whole_company() -> None:
    result = gates.check("pilot_departments", facts(headcount=6, departments=_departments(0)), PILOTS_1_TO_2)
    assert_result(result, passed=True, en="With 6 people (at most 6), the whole company takes part",
                  evidence={"headcount": 6, "small_company_headcount": 6, "pilot_department_ids": []})


def test_pilot_departments_one_more_than_small_company_must_choose_pilots() -> None:
    result = gates.check("pilot_departments", facts(headcount=7, departments=_departments(0)), PILOTS_1_TO_2)
    assert_result(result, passed=False, en="0 pilot department(s) chosen",
                  evidence={"headcount": 7, "small_company_headcount": 6})


# --- headcount_at_most ----------------------------------------------------------------------


@pytest.mark.parametrize(("headcount", "ok"), [(3, True), (6, True), (7, False), (40, False)])
def test_headcount_at_most(headcount: int, ok: bool) -> None:
    result = gates.check("headcount_at_most", facts(headcount=headcount), kinds.HeadcountAtMost(max_headcount=6))
    assert_result(result, passed=ok, en=f"Headcount is {headcount}; this playbook is for companies of at most 6",
                  evidence={"headcount": headcount, "max_headcount": 6})


# --- training_completed ---------------------------------------------------------------------

MODULES = ["basic_concepts", "deep_principles", "case_studies", "practice_coaching"]
TRAINING = kinds.TrainingCompleted(
    small_company_headcount=6, min_hours=18, modules=MODULES, min_attendance_share=0.8
)
PILOT = [1, 2, 3, 4, 5]
DAY1, DAY2, DAY3 = date(2025, 3, 3), date(2025, 3, 4), date(2025, 3, 5)


def _three_days(
    attendees: list[int], day3_hours: float = 6, practice_attendees: list[int] | None = None
) -> list[TrainingSessionFacts]:
    return [
        session(31, DAY1, 6, ["basic_concepts"], attendees),
        session(32, DAY2, 6, ["deep_principles", "case_studies"], attendees),
        session(33, DAY3, day3_hours, ["practice_coaching"],
                attendees if practice_attendees is None else practice_attendees),
    ]


def test_training_completed_passes_after_three_days_of_six_hours() -> None:
    f = facts(**pilot_company(pilot_people=PILOT, other_people=[9]), training_sessions=_three_days(PILOT))
    result = gates.check("training_completed", f, TRAINING)
    assert_result(result, passed=True,
                  en="Training complete: 18 hours, all 4 modules, 5 of 5 pilot members attended every module",
                  evidence={"hours": 18, "required": 18, "modules_missing": [], "pilot_people": 5,
                            "fully_trained": 5, "attendance_share": 1.0, "required_attendance_share": 0.8,
                            "session_ids": [31, 32, 33]})


def test_training_completed_seventeen_and_a_half_hours_fail() -> None:
    f = facts(**pilot_company(pilot_people=PILOT), training_sessions=_three_days(PILOT, day3_hours=5.5))
    result = gates.check("training_completed", f, TRAINING)
    assert_result(result, passed=False, en="17.5 of 18 training hours held",
                  evidence={"hours": 17.5, "required": 18, "modules_missing": [], "fully_trained": 5})


def test_training_completed_exactly_min_hours_passes_in_uneven_sessions() -> None:
    sessions = [
        session(41, DAY1, 7.5, ["basic_concepts", "deep_principles"], PILOT),
        session(42, DAY2, 4.25, ["case_studies"], PILOT),
        session(43, DAY3, 6.25, ["practice_coaching"], PILOT),
    ]
    f = facts(**pilot_company(pilot_people=PILOT), training_sessions=sessions)
    result = gates.check("training_completed", f, TRAINING)
    assert_result(result, passed=True, en="Training complete: 18 hours",
                  evidence={"hours": 18, "session_ids": [41, 42, 43]})


def test_training_completed_does_not_count_sessions_after_today() -> None:
    sessions = _three_days(PILOT)
    sessions[2] = session(33, TODAY + timedelta(days=1), 6, ["practice_coaching"], PILOT)
    f = facts(**pilot_company(pilot_people=PILOT), training_sessions=sessions)
    result = gates.check("training_completed", f, TRAINING)
    assert_result(result, passed=False, en="12 of 18 training hours held",
                  evidence={"hours": 12, "modules_missing": ["practice_coaching"], "session_ids": [31, 32],
                            "fully_trained": 0})


def test_training_completed_fails_when_a_module_had_nobody_attending() -> None:
    f = facts(**pilot_company(pilot_people=PILOT), training_sessions=_three_days(PILOT, practice_attendees=[]))
    result = gates.check("training_completed", f, TRAINING)
    assert_result(result, passed=False, en="modules not yet covered with attendance: “Practice coaching”",
                  evidence={"hours": 18, "modules_missing": ["practice_coaching"], "fully_trained": 0,
                            "attendance_share": 0.0})


def test_training_completed_attendance_exactly_min_share_passes() -> None:
    f = facts(**pilot_company(pilot_people=PILOT),
              training_sessions=_three_days(PILOT, practice_attendees=[1, 2, 3, 4]))
    result = gates.check("training_completed", f, TRAINING)
    assert_result(result, passed=True, en="4 of 5 pilot members attended every module",
                  evidence={"pilot_people": 5, "fully_trained": 4, "attendance_share": 0.8})


def test_training_completed_attendance_below_min_share_fails() -> None:
    f = facts(**pilot_company(pilot_people=PILOT),
              training_sessions=_three_days(PILOT, practice_attendees=[1, 2, 3, 9]))
    result = gates.check("training_completed", f, TRAINING)
    assert_result(result, passed=False, en="3 of 5 pilot members attended every module (60%; 80% needed)",
                  evidence={"pilot_people": 5, "fully_trained": 3, "attendance_share": 0.6})


def test_training_completed_headcount_exactly_small_company_trains_everyone() -> None:
    everyone = [1, 2, 3, 4, 5, 6]
    f = facts(headcount=6, people=[person(p) for p in everyone], training_sessions=_three_days(everyone))
    result = gates.check("training_completed", f, TRAINING)
    assert_result(result, passed=True, en="6 of 6 pilot members attended every module",
                  evidence={"pilot_people": 6, "fully_trained": 6})


def test_training_completed_one_above_small_company_needs_pilot_departments() -> None:
    everyone = [1, 2, 3, 4, 5, 6, 7]
    f = facts(headcount=7, people=[person(p) for p in everyone], training_sessions=_three_days(everyone))
    result = gates.check("training_completed", f, TRAINING)
    assert_result(result, passed=False, en="no pilot members are known yet",
                  evidence={"pilot_people": 0, "fully_trained": 0, "hours": 18})


# --- drafting_groups ------------------------------------------------------------------------

GROUPS_3_TO_5 = kinds.DraftingGroups(small_company_headcount=6, min_size=3, max_size=5)
STARTED = date(2025, 2, 24)


@pytest.mark.parametrize(("size", "ok"), [(2, False), (3, True), (4, True), (5, True), (6, False)])
def test_drafting_groups_size_bounds(size: int, ok: bool) -> None:
    members, others = list(range(1, size + 1)), [101, 102, 103]
    f = facts(**pilot_company(pilot_people=members + others),
              drafting_groups=[group(70, members, STARTED), group(71, others, STARTED)])
    result = gates.check("drafting_groups", f, GROUPS_3_TO_5)
    assert_result(result, passed=ok,
                  en="cover every pilot member" if ok else (
                      "the group of Person 1 and Person 2 is outside 3–5 people" if size == 2
                      else "the group of Person 1, Person 2, Person 3 and 3 more is outside 3–5 people"),
                  evidence={"group_sizes": {70: size, 71: 3}, "min_size": 3, "max_size": 5,
                            "groups_off_size": [] if ok else [70], "pilot_people_without_group": []})


def test_a_company_smaller_than_the_smallest_group_drafts_as_one_group_of_everyone() -> None:
    founders = [1, 2]
    f = facts(**pilot_company(headcount=2, pilot_people=founders), drafting_groups=[group(70, founders, STARTED)])
    result = gates.check("drafting_groups", f, GROUPS_3_TO_5)
    assert_result(result, passed=True, en="1 drafting group(s) of 2–5 people cover every pilot member",
                  evidence={"group_sizes": {70: 2}, "min_size": 2, "groups_off_size": []})
    split = facts(**pilot_company(headcount=2, pilot_people=founders),
                  drafting_groups=[group(70, [1], STARTED), group(71, [2], STARTED)])
    assert_result(gates.check("drafting_groups", split, GROUPS_3_TO_5), passed=False,
                  en="the group of Person 1 and the group of Person 2 are outside 2–5 people",
                  evidence={"groups_off_size": [70, 71]})


def test_drafting_groups_pass_when_groups_of_three_to_five_cover_the_pilot() -> None:
    pilot = [1, 2, 3, 4, 5, 6, 7]
    groups = [group(70, [1, 2, 3], STARTED), group(71, [4, 5, 6, 7], STARTED)]
    f = facts(**pilot_company(pilot_people=pilot, other_people=[8]), drafting_groups=groups)
    result = gates.check("drafting_groups", f, GROUPS_3_TO_5)
    assert_result(result, passed=True, en="2 drafting group(s) of 3–5 people cover every pilot member",
                  evidence={"group_sizes": {70: 3, 71: 4}, "groups_off_size": [],
                            "pilot_people_without_group": []})


def test_drafting_groups_fail_when_a_pilot_member_is_in_no_group() -> None:
    f = facts(**pilot_company(pilot_people=[1, 2, 3, 4]), drafting_groups=[group(70, [1, 2, 3], STARTED)])
    result = gates.check("drafting_groups", f, GROUPS_3_TO_5)
    assert_result(result, passed=False, en="1 pilot member(s) are in no group",
                  evidence={"group_sizes": {70: 3}, "groups_off_size": [], "pilot_people_without_group": [4]})


def test_drafting_groups_fail_when_none_is_formed() -> None:
    result = gates.check("drafting_groups", facts(**pilot_company(pilot_people=[1, 2, 3])), GROUPS_3_TO_5)
    assert_result(result, passed=False, en="No drafting group has been formed yet",
                  evidence={"group_sizes": {}, "pilot_people_without_group": [1, 2, 3]})


def test_drafting_groups_headcount_exactly_small_company_groups_everyone() -> None:
    everyone = [person(p) for p in range(1, 7)]
    f = facts(headcount=6, people=everyone, drafting_groups=[group(70, [1, 2, 3], STARTED)])
    result = gates.check("drafting_groups", f, GROUPS_3_TO_5)
    assert_result(result, passed=False, en="3 pilot member(s) are in no group",
                  evidence={"pilot_people_without_group": [4, 5, 6]})


def test_drafting_groups_one_above_small_company_groups_only_the_pilot() -> None:
    people = [person(p) for p in range(1, 7)] + [person(7, 10)]
    f = facts(headcount=7, people=people, departments=[department(10)],
              drafting_groups=[group(70, [7, 1, 2], STARTED)])
    result = gates.check("drafting_groups", f, GROUPS_3_TO_5)
    assert_result(result, passed=True, en="1 drafting group(s) of 3–5 people",
                  evidence={"pilot_people_without_group": [], "group_sizes": {70: 3}})


# --- drafting_duration ----------------------------------------------------------------------

TWO_TO_THREE_WEEKS = kinds.DraftingDuration(min_weeks=2, max_weeks=3)
DRAFT_START = date(2025, 2, 3)


def _drafted(days: int) -> EngagementFacts:
    return facts(drafting_groups=[group(70, [1, 2, 3], DRAFT_START, DRAFT_START + timedelta(days=days))])


def test_drafting_duration_passes_within_two_to_three_weeks() -> None:
    result = gates.check("drafting_duration", _drafted(17), TWO_TO_THREE_WEEKS)
    assert_result(result, passed=True, en="Drafting took 17 days; 2 to 3 weeks are expected",
                  evidence={"min_weeks": 2, "max_weeks": 3, "started_on": "2025-02-03",
                            "ended_on": "2025-02-20", "days": 17, "open_groups": []})


@pytest.mark.parametrize(("days", "ok"), [(13, False), (14, True), (21, True), (22, False)])
def test_drafting_duration_at_the_bounds(days: int, ok: bool) -> None:
    result = gates.check("drafting_duration", _drafted(days), TWO_TO_THREE_WEEKS)
    assert_result(result, passed=ok, en=f"Drafting took {days} days",
                  evidence={"days": days, "ended_on": (DRAFT_START + timedelta(days=days)).isoformat()})


def test_drafting_duration_spans_the_earliest_start_to_the_latest_end() -> None:
    groups = [
        group(70, [1, 2, 3], DRAFT_START, DRAFT_START + timedelta(days=9)),
        group(71, [4, 5, 6], DRAFT_START + timedelta(days=4), DRAFT_START + timedelta(days=22)),
    ]
    result = gates.check("drafting_duration", facts(drafting_groups=groups), TWO_TO_THREE_WEEKS)
    assert_result(result, passed=False, en="Drafting took 22 days",
                  evidence={"started_on": "2025-02-03", "ended_on": "2025-02-25", "days": 22})


def test_drafting_duration_fails_while_a_group_is_still_open() -> None:
    groups = [
        group(70, [1, 2, 3], TODAY - timedelta(days=10), TODAY - timedelta(days=1)),
        group(71, [4, 5, 6], TODAY - timedelta(days=8)),
    ]
    f = facts(people=[person(n) for n in range(1, 7)], drafting_groups=groups)
    result = gates.check("drafting_duration", f, TWO_TO_THREE_WEEKS)
    assert_result(result, passed=False, en="still under way (10 days so far; the group of Person 4, Person 5 and "
                                           "Person 6 has not finished)",
                  evidence={"open_groups": [71], "days_so_far": 10,
                            "started_on": (TODAY - timedelta(days=10)).isoformat()})


def test_drafting_duration_fails_before_drafting_starts() -> None:
    result = gates.check("drafting_duration", facts(), TWO_TO_THREE_WEEKS)
    assert_result(result, passed=False, en="Drafting has not started",
                  evidence={"min_weeks": 2, "max_weeks": 3})


# --- okr_software_introduced ----------------------------------------------------------------

NO_PARAMS = kinds.OkrSoftwareIntroduced()
Q = quarter(1, date(2025, 4, 1), date(2025, 6, 30))


def test_okr_software_introduced_passes_with_named_software() -> None:
    result = gates.check("okr_software_introduced", facts(org=organization(okr_software="Perdoo")), NO_PARAMS)
    assert_result(result, passed=True, en="OKR software in use: Perdoo",
                  evidence={"software": "Perdoo", "okrs_recorded": 0})


def test_okr_software_introduced_passes_with_exactly_one_okr_recorded_here() -> None:
    result = gates.check("okr_software_introduced", facts(quarters=[Q], okrs=[okr(81, 1)]), NO_PARAMS)
    assert_result(result, passed=True, en="1 OKR(s) are recorded in okr-rollout",
                  evidence={"software": "okr-rollout", "okrs_recorded": 1})


def test_okr_software_introduced_fails_with_neither() -> None:
    result = gates.check("okr_software_introduced", facts(), NO_PARAMS)
    assert_result(result, passed=False, en="No OKR software is introduced yet",
                  evidence={"software": None, "okrs_recorded": 0})


def test_okr_software_introduced_fails_with_an_empty_name_and_no_okrs() -> None:
    result = gates.check("okr_software_introduced", facts(org=organization(okr_software="")), NO_PARAMS)
    assert_result(result, passed=False, en="No OKR software is introduced yet",
                  evidence={"software": None, "okrs_recorded": 0})
