"""What is due when: reminders are a pure function of playbook, facts and the clock.

Each reminder has a stable key (engagement, cadence, occurrence): asking again
later, or from another process, yields the same key for the same occurrence,
so the table that records sent reminders can refuse duplicates by that key.
Times are local to the organization (its timezone), returned in UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.playbooks import kinds
from okr_rollout.playbooks.loader import LoadedPlaybook, ResolvedCadence
from okr_rollout.playbooks.schema import LocalizedText

# Any Monday: weekly series are anchored on it so that they do not depend on phase entry.
_MONDAY = date(2001, 1, 1)


@dataclass(frozen=True, slots=True)
class DueReminder:
    engagement_id: int
    cadence_id: str
    occurrence: str
    kind: str
    audience: str
    due_at: datetime
    message: LocalizedText

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.engagement_id, self.cadence_id, self.occurrence)


@dataclass(frozen=True, slots=True)
class _Window:
    start: datetime  # exclusive, UTC
    end: datetime  # inclusive, UTC
    zone: ZoneInfo

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def at(self, day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=self.zone).astimezone(UTC)

    def holds(self, moment: datetime) -> bool:
        return self.start < moment <= self.end


def due_reminders(
    playbook: LoadedPlaybook, facts: EngagementFacts, now: datetime, since: datetime | None = None
) -> list[DueReminder]:
    """Reminders whose time falls in (since, now], never before the current phase was entered."""
    start = max(since, facts.entered_phase_at) if since is not None else facts.entered_phase_at
    if start >= now:
        return []
    window = _Window(start - timedelta(microseconds=1) if since is None else start, now, _zone(facts))
    due: list[DueReminder] = []
    for cadence in playbook.cadences:
        if facts.phase not in cadence.phases:
            continue
        for occurrence, moment in _SCHEDULES[cadence.kind](cadence, facts, window):
            due.append(
                DueReminder(
                    facts.engagement_id, cadence.id, occurrence, cadence.kind, cadence.audience, moment,
                    cadence.message,
                )
            )
    due.sort(key=lambda reminder: (reminder.due_at, reminder.cadence_id))
    return due


def _zone(facts: EngagementFacts) -> ZoneInfo:
    try:
        return ZoneInfo(facts.organization.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _series(anchor: date, every_days: int, hour: int, window: _Window) -> Iterator[tuple[str, datetime]]:
    """anchor + k * every_days (k >= 0) at ``hour`` local time, within the window."""
    first_day = window.local_date(window.start) - timedelta(days=1)
    k = max(0, -(-(first_day - anchor).days // every_days))
    while True:
        day = anchor + timedelta(days=k * every_days)
        moment = window.at(day, hour)
        if moment > window.end:
            return
        if window.holds(moment):
            yield day.isoformat(), moment
        k += 1


def _deadline(
    label: str, deadline: date, warn_before_days: int, hour: int, window: _Window
) -> Iterator[tuple[str, datetime]]:
    steps = [("due", deadline), ("overdue", deadline + timedelta(days=1))]
    if warn_before_days:
        steps.insert(0, ("warning", deadline - timedelta(days=warn_before_days)))
    for step, day in steps:
        moment = window.at(day, hour)
        if window.holds(moment):
            yield f"{label}{step}:{deadline.isoformat()}", moment


def _weekly(cadence: ResolvedCadence, facts: EngagementFacts, window: _Window) -> Iterator[tuple[str, datetime]]:
    params = cadence.params
    assert isinstance(params, kinds.Weekly)
    anchor = _MONDAY + timedelta(days=kinds.WEEKDAYS.index(params.weekday))
    yield from _series(anchor, 7, params.hour, window)


def _every_n_days(
    cadence: ResolvedCadence, facts: EngagementFacts, window: _Window
) -> Iterator[tuple[str, datetime]]:
    params = cadence.params
    assert isinstance(params, kinds.EveryNDays)
    anchor = window.local_date(facts.entered_phase_at) + timedelta(days=params.days)
    yield from _series(anchor, params.days, params.hour, window)


def _deadline_after_phase_entry(
    cadence: ResolvedCadence, facts: EngagementFacts, window: _Window
) -> Iterator[tuple[str, datetime]]:
    params = cadence.params
    assert isinstance(params, kinds.DeadlineAfterPhaseEntry)
    deadline = window.local_date(facts.entered_phase_at) + timedelta(days=params.days)
    yield from _deadline("", deadline, params.warn_before_days, params.hour, window)


def _deadline_after_quarter_end(
    cadence: ResolvedCadence, facts: EngagementFacts, window: _Window
) -> Iterator[tuple[str, datetime]]:
    params = cadence.params
    assert isinstance(params, kinds.DeadlineAfterQuarterEnd)
    ordered = sorted(facts.quarters, key=lambda q: (q.starts_on, q.id))
    for index, quarter in enumerate(ordered):
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        if following is not None and facts.okrs_of(following):
            continue  # the next quarter is prepared: nothing to remind of
        deadline = quarter.ends_on + timedelta(days=params.days)
        yield from _deadline(f"{quarter.label}:", deadline, params.warn_before_days, params.hour, window)


def _quarter_end(
    cadence: ResolvedCadence, facts: EngagementFacts, window: _Window
) -> Iterator[tuple[str, datetime]]:
    params = cadence.params
    assert isinstance(params, kinds.QuarterEnd)
    for quarter in facts.quarters:
        day = quarter.ends_on - timedelta(days=params.days_before)
        moment = window.at(day, params.hour)
        if window.holds(moment):
            yield f"{quarter.label}:{day.isoformat()}", moment


def _stale_ceo_support(
    cadence: ResolvedCadence, facts: EngagementFacts, window: _Window
) -> Iterator[tuple[str, datetime]]:
    params = cadence.params
    assert isinstance(params, kinds.StaleCeoSupport)
    if facts.ceo_support:
        base = max(statement.stated_on for statement in facts.ceo_support)
    else:
        base = window.local_date(facts.entered_phase_at)
    # Support counts as faded once it is older than max_age_days (as the ceo_support gate decides).
    first_alert = base + timedelta(days=params.max_age_days + 1)
    for occurrence, moment in _series(first_alert, params.repeat_days, params.hour, window):
        yield f"since-{base.isoformat()}:{occurrence}", moment


Schedule = Callable[[ResolvedCadence, EngagementFacts, _Window], Iterator[tuple[str, datetime]]]
_SCHEDULES: dict[str, Schedule] = {
    "weekly": _weekly,
    "every_n_days": _every_n_days,
    "deadline_after_phase_entry": _deadline_after_phase_entry,
    "deadline_after_quarter_end": _deadline_after_quarter_end,
    "quarter_end": _quarter_end,
    "stale_ceo_support": _stale_ceo_support,
}
SCHEDULED_KINDS = frozenset(_SCHEDULES)
