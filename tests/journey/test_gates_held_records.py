"""Only what was held counts for a gate, and a 1:1 counts only for the person led: pure checks on facts built in
memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from okr_rollout.journey import gates
from okr_rollout.journey.facts import TrainingSessionFacts
from okr_rollout.playbooks import kinds
from tests.journey.factories import at, facts, meeting, pilot_company
from tests.journey.test_gates_cycle import Q1, Q1_START, WEEK_4

ONE_ON_ONES = kinds.MeetingCadence(quarter=1, small_company_headcount=6, meeting_kind="one_on_one", per="person",
                                   interval_days=14, min_rate=1.0)


def test_a_one_on_one_counts_for_the_person_led_and_a_planned_or_cancelled_one_for_nobody() -> None:
    # Person 1 leads a 1:1 with person 2 (who is all it counts for), and one is planned, another cancelled.
    led = replace(meeting(701, "one_on_one", at(Q1_START + timedelta(days=3)), attendees=[1, 2]),
                  counts_for_ids=frozenset({2}))
    planned = replace(meeting(702, "one_on_one", at(Q1_START + timedelta(days=17)), attendees=[1, 2]),
                      counts_for_ids=frozenset({2}), status="planned")
    cancelled = replace(meeting(703, "one_on_one", at(Q1_START + timedelta(days=18)), attendees=[1, 2]),
                        counts_for_ids=frozenset({2}), status="cancelled")
    f = facts(now=WEEK_4, quarters=[Q1], meetings=[led, planned, cancelled],
              **pilot_company(pilot_people=[1, 2], other_people=[9]))
    result = gates.check("meeting_cadence", f, ONE_ON_ONES)
    assert result.evidence["held"] == {"1": 0, "2": 1}


def test_planned_training_hours_do_not_count() -> None:
    params = kinds.TrainingCompleted(min_hours=6, modules=["basic_concepts"], min_attendance_share=1.0,
                                     small_company_headcount=6)
    session = TrainingSessionFacts(1, date(2025, 1, 20), 6.0, frozenset({"basic_concepts"}), frozenset({1, 2}))
    people = pilot_company(pilot_people=[1, 2], other_people=[9])
    assert gates.check("training_completed", facts(now=WEEK_4, training_sessions=[session], **people),
                       params).passed is True
    planned = replace(session, status="planned")
    assert gates.check("training_completed", facts(now=WEEK_4, training_sessions=[planned], **people),
                       params).passed is False
