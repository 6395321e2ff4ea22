"""What is due when: reminders are a pure function of playbook, facts and the clock.

Each reminder has a stable key (engagement, cadence, occurrence): asking again
later, or from another process, yields the same key for the same occurrence,
so the table that records sent reminders can refuse duplicates by that key.
Times are local to the organization (its timezone), returned in UTC.

A reminder may carry a ``step`` (deadline: warning, due, overdue; check-in escalation: due, repeat,
internal_coach, okr_master), the date it is ``about`` (the deadline, the check-in period's first day) and the
people it is about (``subject_ids``: whose check-in is missing). When ``to_subjects`` is set only those people
of the audience are reminded; otherwise the whole audience is told about them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.playbooks import kinds
from okr_rollout.playbooks.loader import LoadedPlaybook, ResolvedCadence
from okr_rollout.texts import LocalizedText

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
    step: str | None = None
    subject_ids: tuple[int, ...] = ()
    to_subjects: bool = False
    about: date | None = None
    urgent: bool = False  # the cadence's e-mails go at once (no digest, no quiet hours)

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.engagement_id, self.cadence_id, self.occurrence)


@dataclass(frozen=True, slots=True)
class _Occurrence:
    key: str
    moment: datetime
    step: str | None = None
    audience: str | None = None  # another audience than the cadence's (escalation steps)
    subject_ids: tuple[int, ...] = ()
    to_subjects: bool = False
    about: date | None = None


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
        for found in _SCHEDULES[cadence.kind](cadence, facts, window):
            due.append(
                DueReminder(
                    facts.engagement_id, cadence.id, found.key, cadence.kind, found.audience or cadence.audience,
                    found.moment, cadence.message, found.step, found.subject_ids, found.to_subjects, found.about,
                    cadence.urgent,
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
) -> Iterator[_Occurrence]:
    steps = [("due", deadline), ("overdue", deadline + timedelta(days=1))]
    if warn_before_days:
        steps.insert(0, ("warning", deadline - timedelta(days=warn_before_days)))
    for step, day in steps:
        moment = window.at(day, hour)
        if window.holds(moment):
            yield _Occurrence(f"{label}{step}:{deadline.isoformat()}", moment, step, about=deadline)


def _plain(series: Iterator[tuple[str, datetime]]) -> Iterator[_Occurrence]:
    for key, moment in series:
        yield _Occurrence(key, moment)


def _weekly(cadence: ResolvedCadence, facts: EngagementFacts, window: _Window) -> Iterator[_Occurrence]:
    params = cadence.params
    assert isinstance(params, kinds.Weekly)
    anchor = _MONDAY + timedelta(days=kinds.WEEKDAYS.index(params.weekday))
    yield from _plain(_series(anchor, params.every_days, params.hour, window))


def _every_n_days(cadence: ResolvedCadence, facts: EngagementFacts, window: _Window) -> Iterator[_Occurrence]:
    params = cadence.params
    assert isinstance(params, kinds.EveryNDays)
    anchor = window.local_date(facts.entered_phase_at) + timedelta(days=params.days)
    yield from _plain(_series(anchor, params.days, params.hour, window))


def _deadline_after_phase_entry(
    cadence: ResolvedCadence, facts: EngagementFacts, window: _Window
) -> Iterator[_Occurrence]:
    params = cadence.params
    assert isinstance(params, kinds.DeadlineAfterPhaseEntry)
    deadline = window.local_date(facts.entered_phase_at) + timedelta(days=params.days)
    yield from _deadline("", deadline, params.warn_before_days, params.hour, window)


def _deadline_after_quarter_end(
    cadence: ResolvedCadence, facts: EngagementFacts, window: _Window
) -> Iterator[_Occurrence]:
    params = cadence.params
    assert isinstance(params, kinds.DeadlineAfterQuarterEnd)
    ordered = sorted(facts.quarters, key=lambda q: (q.starts_on, q.id))
    for index, quarter in enumerate(ordered):
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        if following is not None and facts.okrs_of(following):
            continue  # the next quarter is prepared: nothing to remind of
        deadline = quarter.ends_on + timedelta(days=params.days)
        yield from _deadline(f"{quarter.label}:", deadline, params.warn_before_days, params.hour, window)


def _quarter_end(cadence: ResolvedCadence, facts: EngagementFacts, window: _Window) -> Iterator[_Occurrence]:
    params = cadence.params
    assert isinstance(params, kinds.QuarterEnd)
    for quarter in facts.quarters:
        day = quarter.ends_on - timedelta(days=params.days_before)
        moment = window.at(day, params.hour)
        if window.holds(moment):
            yield _Occurrence(f"{quarter.label}:{day.isoformat()}", moment)


def _stale_ceo_support(
    cadence: ResolvedCadence, facts: EngagementFacts, window: _Window
) -> Iterator[_Occurrence]:
    params = cadence.params
    assert isinstance(params, kinds.StaleCeoSupport)
    if facts.ceo_support:
        base = max(statement.stated_on for statement in facts.ceo_support)
    else:
        base = window.local_date(facts.entered_phase_at)
    # Support counts as faded once it is older than max_age_days (as the ceo_support gate decides).
    first_alert = base + timedelta(days=params.max_age_days + 1)
    for occurrence, moment in _series(first_alert, params.repeat_days, params.hour, window):
        yield _Occurrence(f"since-{base.isoformat()}:{occurrence}", moment)


def _check_in_escalation(
    cadence: ResolvedCadence, facts: EngagementFacts, window: _Window
) -> Iterator[_Occurrence]:
    """Each step of each check-in period, naming the owners whose check-in was still missing on the step's day.

    The period of the check-in due on day D runs from D for ``interval_days``; a check-in dated in it up to the
    step's day counts. Periods that began before the phase was entered are not escalated.
    """
    params = cadence.params
    assert isinstance(params, kinds.CheckInEscalation)
    # (step, days after the check-in fell due, who is told, whether only the late owners are told)
    steps = [
        ("repeat", params.repeat_after_days, cadence.audience, True),
        ("internal_coach", params.internal_coach_after_days, "internal_coach", False),
        ("okr_master", params.okr_master_after_days, "okr_master", False),
    ]
    if params.remind_when_due:
        steps.insert(0, ("due", 0, cadence.audience, True))
    anchor = _MONDAY + timedelta(days=kinds.WEEKDAYS.index(params.weekday))
    missing = _MissingCheckIns(facts)
    for step, after_days, audience, to_owners in steps:
        for day_iso, moment in _series(anchor + timedelta(days=after_days), params.interval_days, params.hour,
                                       window):
            step_day = date.fromisoformat(day_iso)
            period_start = step_day - timedelta(days=after_days)
            if window.at(period_start, params.hour) < facts.entered_phase_at:
                continue
            through = min(step_day, period_start + timedelta(days=params.interval_days - 1))
            owners = missing.between(period_start, through)
            if owners:
                yield _Occurrence(f"{period_start.isoformat()}:{step}", moment, step, audience, owners,
                                  to_subjects=to_owners, about=period_start)


class _MissingCheckIns:
    """Who owns key results of the quarter a period falls in and has no check-in dated within given days."""

    def __init__(self, facts: EngagementFacts) -> None:
        self._facts = facts
        owner_of_okr = {okr.id: okr.owner_id for okr in facts.okrs if okr.owner_id is not None}
        self._owner_of_kr = {kr.id: owner_of_okr[kr.okr_id] for kr in facts.key_results if kr.okr_id in owner_of_okr}
        self._quarter_of_okr = {okr.id: okr.quarter_id for okr in facts.okrs}
        self._quarter_of_kr = {kr.id: self._quarter_of_okr.get(kr.okr_id) for kr in facts.key_results}

    def between(self, first: date, last: date) -> tuple[int, ...]:
        quarter = next((q for q in self._facts.quarters if q.starts_on <= first <= q.ends_on), None)
        if quarter is None:
            return ()
        in_quarter = {kr: owner for kr, owner in self._owner_of_kr.items() if self._quarter_of_kr[kr] == quarter.id}
        checked_in = {
            in_quarter[c.key_result_id]
            for c in self._facts.check_ins
            if c.key_result_id in in_quarter and first <= c.week_of <= last
        }
        return tuple(sorted(set(in_quarter.values()) - checked_in))


Schedule = Callable[[ResolvedCadence, EngagementFacts, _Window], Iterator[_Occurrence]]
_SCHEDULES: dict[str, Schedule] = {
    "weekly": _weekly,
    "every_n_days": _every_n_days,
    "deadline_after_phase_entry": _deadline_after_phase_entry,
    "deadline_after_quarter_end": _deadline_after_quarter_end,
    "quarter_end": _quarter_end,
    "stale_ceo_support": _stale_ceo_support,
    "check_in_escalation": _check_in_escalation,
}
SCHEDULED_KINDS = frozenset(_SCHEDULES)
