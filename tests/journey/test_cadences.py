"""Cadences: what is due when, at the organization's local hour, with keys stable across calls."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

from okr_rollout.journey.cadences import due_reminders
from okr_rollout.journey.facts import (
    CeoSupportFacts,
    CheckInFacts,
    EngagementFacts,
    KeyResultFacts,
    OkrFacts,
    OrganizationFacts,
    QuarterFacts,
)
from okr_rollout.playbooks import load_text

PLAYBOOK = """\
id: cadence_test
version: 1
title: {en: Cadences, zh-TW: 提醒}
description: {en: Every cadence kind, zh-TW: 各種提醒}
parameters:
  reminder_weekday: {type: string, default: monday, description: {en: Day, zh-TW: 星期}}
  reminder_hour: {type: integer, default: 9, description: {en: Hour, zh-TW: 時}}
  one_on_one_interval_days: {type: integer, default: 14, description: {en: 1:1s, zh-TW: 一對一}}
  next_quarter_max_days: {type: integer, default: 21, description: {en: Prep, zh-TW: 準備}}
  next_quarter_warning_days: {type: integer, default: 7, description: {en: Warn, zh-TW: 警告}}
  ceo_support_max_age_days: {type: integer, default: 90, description: {en: Fade, zh-TW: 淡化}}
  culture_reminder_interval_days: {type: integer, default: 14, description: {en: Culture, zh-TW: 文化}}
phases:
  - {id: q1_cycle, title: {en: Q1, zh-TW: 第一季}}
  - {id: quarter_review, title: {en: Review, zh-TW: 檢討}}
  - {id: culture, title: {en: Culture, zh-TW: 文化}, final: true}
transitions:
  - {trigger: review, source: q1_cycle, dest: quarter_review}
  - {trigger: settle, source: quarter_review, dest: culture}
cadences:
  - id: weekly_check_in
    kind: weekly
    phases: [q1_cycle]
    audience: pilot_member
    message: {en: Update your key results, zh-TW: 請更新關鍵結果進度}
    params: {weekday: $reminder_weekday, hour: $reminder_hour}
  - id: one_on_one
    kind: every_n_days
    phases: [q1_cycle]
    audience: department_lead
    message: {en: Hold your 1:1s, zh-TW: 請舉行一對一會議}
    params: {days: $one_on_one_interval_days, hour: $reminder_hour}
  - id: scoring
    kind: quarter_end
    phases: [q1_cycle]
    audience: pilot_member
    message: {en: Score your OKRs, zh-TW: 請為 OKR 評分}
    params: {days_before: 0, hour: $reminder_hour}
  - id: next_quarter
    kind: deadline_after_quarter_end
    phases: [quarter_review]
    audience: coach
    message: {en: Prepare the next quarter, zh-TW: 請準備下一季}
    params: {days: $next_quarter_max_days, warn_before_days: $next_quarter_warning_days, hour: $reminder_hour}
  - id: culture_ceo
    kind: every_n_days
    phases: [culture]
    audience: ceo
    message: {en: Talk about OKRs, zh-TW: 談談 OKR}
    params: {days: $culture_reminder_interval_days, hour: $reminder_hour}
  - id: escalation
    kind: check_in_escalation
    phases: [q1_cycle]
    audience: pilot_member
    message: {en: Your check-in is missing, zh-TW: 你的進度尚未更新}
    params: {weekday: $reminder_weekday, hour: $reminder_hour, interval_days: 7, remind_when_due: false,
             repeat_after_days: 1, internal_coach_after_days: 3, okr_master_after_days: 7}
  - id: stale_support
    kind: stale_ceo_support
    phases: [q1_cycle, quarter_review, culture]
    audience: coach
    message: {en: Confirm CEO support, zh-TW: 請再次確認 CEO 支持}
    params: {max_age_days: $ceo_support_max_age_days, repeat_days: 7, hour: $reminder_hour}
"""

PLAYBOOK_ = load_text(PLAYBOOK, "cadences.yaml")
Q1 = QuarterFacts(id=1, label="2026-Q1", starts_on=date(2026, 1, 1), ends_on=date(2026, 3, 31))
Q2 = QuarterFacts(id=2, label="2026-Q2", starts_on=date(2026, 4, 1), ends_on=date(2026, 6, 30))


def facts(phase: str, entered: datetime, now: datetime, timezone: str = "Asia/Taipei") -> EngagementFacts:
    return EngagementFacts(
        engagement_id=7,
        phase=phase,
        entered_phase_at=entered,
        now=now,
        organization=OrganizationFacts(id=1, name="Acme", headcount=40, timezone=timezone),
        quarters=(Q1,),
        ceo_support=(CeoSupportFacts(level="full", stated_on=date(2025, 12, 20)),),
    )


def by_cadence(reminders: list, cadence_id: str) -> list:  # type: ignore[type-arg]
    return [r for r in reminders if r.cadence_id == cadence_id]


def test_weekly_check_in_is_due_every_monday_at_nine_local_time() -> None:
    entered = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)  # a Thursday
    now = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
    weekly = by_cadence(due_reminders(PLAYBOOK_, facts("q1_cycle", entered, now), now), "weekly_check_in")
    # Mondays 5, 12 and 19 January at 09:00 in Taipei (UTC+8) = 01:00 UTC
    assert [r.due_at for r in weekly] == [
        datetime(2026, 1, 5, 1, 0, tzinfo=UTC),
        datetime(2026, 1, 12, 1, 0, tzinfo=UTC),
        datetime(2026, 1, 19, 1, 0, tzinfo=UTC),
    ]
    assert [r.occurrence for r in weekly] == ["2026-01-05", "2026-01-12", "2026-01-19"]
    assert {r.audience for r in weekly} == {"pilot_member"}
    assert weekly[0].message.zh_tw == "請更新關鍵結果進度"


def test_the_local_hour_follows_the_organization_timezone() -> None:
    entered = datetime(2026, 1, 1, tzinfo=UTC)
    now = datetime(2026, 1, 6, tzinfo=UTC)
    (in_new_york,) = by_cadence(
        due_reminders(PLAYBOOK_, facts("q1_cycle", entered, now, "America/New_York"), now), "weekly_check_in"
    )
    assert in_new_york.due_at == datetime(2026, 1, 5, 14, 0, tzinfo=UTC)  # 09:00 EST


def test_one_on_ones_are_due_every_two_weeks_from_phase_entry() -> None:
    entered = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    now = datetime(2026, 2, 20, tzinfo=UTC)
    due = by_cadence(due_reminders(PLAYBOOK_, facts("q1_cycle", entered, now), now), "one_on_one")
    assert [r.occurrence for r in due] == ["2026-01-15", "2026-01-29", "2026-02-12"]


def test_keys_are_stable_across_calls_and_windows_do_not_repeat() -> None:
    entered = datetime(2026, 1, 1, tzinfo=UTC)
    now = datetime(2026, 2, 1, tzinfo=UTC)
    first = due_reminders(PLAYBOOK_, facts("q1_cycle", entered, now), now)
    again = due_reminders(PLAYBOOK_, facts("q1_cycle", entered, now), now)
    assert [r.key for r in first] == [r.key for r in again]
    assert len({r.key for r in first}) == len(first)

    # Asking in two halves yields the same occurrences, each once.
    middle = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
    early = due_reminders(PLAYBOOK_, facts("q1_cycle", entered, middle), middle)
    late = due_reminders(PLAYBOOK_, facts("q1_cycle", entered, now), now, since=middle)
    assert [r.key for r in early] + [r.key for r in late] == [r.key for r in first]


def test_nothing_is_due_before_the_phase_was_entered_or_in_other_phases() -> None:
    entered = datetime(2026, 1, 14, tzinfo=UTC)
    now = datetime(2026, 1, 20, tzinfo=UTC)
    due = due_reminders(PLAYBOOK_, facts("q1_cycle", entered, now), now, since=datetime(2025, 1, 1, tzinfo=UTC))
    assert [r.occurrence for r in by_cadence(due, "weekly_check_in")] == ["2026-01-19"]
    assert by_cadence(due_reminders(PLAYBOOK_, facts("culture", entered, now), now), "weekly_check_in") == []


def test_quarter_end_scoring_reminder() -> None:
    entered = datetime(2026, 1, 1, tzinfo=UTC)
    now = datetime(2026, 4, 2, tzinfo=UTC)
    (scoring,) = by_cadence(due_reminders(PLAYBOOK_, facts("q1_cycle", entered, now), now), "scoring")
    assert scoring.occurrence == "2026-Q1:2026-03-31"
    assert scoring.due_at == datetime(2026, 3, 31, 1, 0, tzinfo=UTC)


def test_next_quarter_deadline_warns_before_is_due_at_three_weeks_and_overdue_after() -> None:
    entered = datetime(2026, 4, 1, tzinfo=UTC)
    now = datetime(2026, 5, 1, tzinfo=UTC)
    due = by_cadence(due_reminders(PLAYBOOK_, facts("quarter_review", entered, now), now), "next_quarter")
    # Q1 ends 31 March; 21 days later is 21 April; warning 7 days before; overdue the day after.
    assert [(r.occurrence, r.due_at.date()) for r in due] == [
        ("2026-Q1:warning:2026-04-21", date(2026, 4, 14)),
        ("2026-Q1:due:2026-04-21", date(2026, 4, 21)),
        ("2026-Q1:overdue:2026-04-21", date(2026, 4, 22)),
    ]


def test_no_deadline_reminder_once_the_next_quarter_is_prepared() -> None:
    entered = datetime(2026, 4, 1, tzinfo=UTC)
    now = datetime(2026, 5, 1, tzinfo=UTC)
    prepared = dataclasses.replace(
        facts("quarter_review", entered, now),
        quarters=(Q1, Q2),
        okrs=(OkrFacts(id=1, quarter_id=2, objective="Grow", created_on=date(2026, 4, 10)),),
    )
    due = by_cadence(due_reminders(PLAYBOOK_, prepared, now), "next_quarter")
    assert due == []  # Q1's successor is prepared and Q2 has not ended


def test_culture_phase_reminds_the_ceo_regularly() -> None:
    entered = datetime(2026, 7, 1, tzinfo=UTC)
    now = datetime(2026, 8, 1, tzinfo=UTC)
    due = by_cadence(due_reminders(PLAYBOOK_, facts("culture", entered, now), now), "culture_ceo")
    assert [r.occurrence for r in due] == ["2026-07-15", "2026-07-29"]
    assert {r.audience for r in due} == {"ceo"}


def test_stale_ceo_support_alerts_the_coach_after_the_limit_then_weekly() -> None:
    entered = datetime(2026, 1, 1, tzinfo=UTC)
    now = datetime(2026, 4, 5, tzinfo=UTC)
    due = by_cadence(due_reminders(PLAYBOOK_, facts("q1_cycle", entered, now), now), "stale_support")
    # Support stated 20 Dec 2025 is 90 days old on 20 March 2026 and faded from the day after.
    assert [r.due_at.date() for r in due] == [date(2026, 3, 21), date(2026, 3, 28), date(2026, 4, 4)]
    assert {r.audience for r in due} == {"coach"}


# --- check-in escalation ----------------------------------------------------------------------------------------

# Persons 11 and 12 own a key result each in Q1 (2026); Q1's check-ins fall due on Mondays at 09:00 in Taipei.
OWNED = {
    "okrs": (OkrFacts(id=1, quarter_id=1, objective="Grow", owner_id=11),
             OkrFacts(id=2, quarter_id=1, objective="Delight", owner_id=12),
             OkrFacts(id=3, quarter_id=1, objective="Department goal", owner_id=None)),
    "key_results": (KeyResultFacts(id=1, okr_id=1), KeyResultFacts(id=2, okr_id=2), KeyResultFacts(id=3, okr_id=3)),
}
ENTERED_Q1 = datetime(2026, 1, 1, tzinfo=UTC)


def escalation(now: datetime, *check_ins: CheckInFacts) -> list[tuple[str, str, tuple[int, ...], bool]]:
    engagement = dataclasses.replace(facts("q1_cycle", ENTERED_Q1, now), check_ins=check_ins, **OWNED)
    due = by_cadence(due_reminders(PLAYBOOK_, engagement, now), "escalation")
    return [(r.occurrence, r.audience, r.subject_ids, r.to_subjects) for r in due]


def test_a_missed_check_in_reminds_the_owner_then_tells_the_internal_coach_then_the_okr_master() -> None:
    # Week of Monday 5 January: person 12 checks in on Wednesday the 7th, person 11 never does.
    wednesday = CheckInFacts(key_result_id=2, week_of=date(2026, 1, 7), value=1)
    found = escalation(datetime(2026, 1, 12, 2, 0, tzinfo=UTC), wednesday)
    assert found == [
        ("2026-01-05:repeat", "pilot_member", (11, 12), True),  # Tuesday: both still missing, both reminded
        ("2026-01-05:internal_coach", "internal_coach", (11,), False),  # Thursday: only 11 is named
        ("2026-01-05:okr_master", "okr_master", (11,), False),  # the next Monday
    ]


def test_escalation_steps_are_at_the_local_hour_after_the_due_day() -> None:
    now = datetime(2026, 1, 12, 2, 0, tzinfo=UTC)
    engagement = dataclasses.replace(facts("q1_cycle", ENTERED_Q1, now), **OWNED)
    due = by_cadence(due_reminders(PLAYBOOK_, engagement, now), "escalation")
    assert [(r.due_at, r.step, r.about) for r in due] == [
        (datetime(2026, 1, 6, 1, 0, tzinfo=UTC), "repeat", date(2026, 1, 5)),
        (datetime(2026, 1, 8, 1, 0, tzinfo=UTC), "internal_coach", date(2026, 1, 5)),
        (datetime(2026, 1, 12, 1, 0, tzinfo=UTC), "okr_master", date(2026, 1, 5)),
    ]


def test_only_a_check_in_within_the_period_counts() -> None:
    now = datetime(2026, 1, 12, 2, 0, tzinfo=UTC)
    last_week = CheckInFacts(key_result_id=1, week_of=date(2026, 1, 4), value=1)  # Sunday before the period
    next_week = CheckInFacts(key_result_id=1, week_of=date(2026, 1, 12), value=1)  # the next period
    on_time = CheckInFacts(key_result_id=2, week_of=date(2026, 1, 5), value=1)
    found = escalation(now, last_week, next_week, on_time)
    assert [(occurrence, subjects) for occurrence, _, subjects, _ in found] == [
        ("2026-01-05:repeat", (11,)),
        ("2026-01-05:internal_coach", (11,)),
        ("2026-01-05:okr_master", (11,)),
    ]


def test_nobody_missing_means_no_escalation_and_periods_before_the_phase_are_left_alone() -> None:
    now = datetime(2026, 1, 12, 2, 0, tzinfo=UTC)
    everyone = [CheckInFacts(key_result_id=kr, week_of=date(2026, 1, 5), value=1) for kr in (1, 2)]
    assert escalation(now, *everyone) == []
    # Entered on Tuesday 6 January: the week that fell due on Monday the 5th is not escalated.
    late_entry = dataclasses.replace(facts("q1_cycle", datetime(2026, 1, 6, tzinfo=UTC), now), **OWNED)
    assert by_cadence(due_reminders(PLAYBOOK_, late_entry, now), "escalation") == []


def test_remind_when_due_adds_a_first_step_to_the_owners() -> None:
    text = PLAYBOOK.replace("remind_when_due: false", "remind_when_due: true")
    playbook = load_text(text, "cadences.yaml")
    now = datetime(2026, 1, 6, 2, 0, tzinfo=UTC)
    engagement = dataclasses.replace(facts("q1_cycle", ENTERED_Q1, now), **OWNED)
    due = by_cadence(due_reminders(playbook, engagement, now), "escalation")
    assert [(r.occurrence, r.subject_ids, r.to_subjects) for r in due] == [
        ("2026-01-05:due", (11, 12), True),
        ("2026-01-05:repeat", (11, 12), True),
    ]
