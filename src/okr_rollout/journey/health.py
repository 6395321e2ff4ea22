"""An engagement's health, explained: a status and the signals that decided it, each with its reason.

A signal has the shape of a gate criterion's answer: what it found, in English and Traditional Chinese, and the
evidence it used. Each signal says which status it calls for; the engagement's status is the most urgent of them,
in ``URGENCY`` order: ``stuck`` (a coach must step in), ``at_risk`` (slipping), ``ready_to_move`` (the next gate
is met: move on), ``on_track``. Every threshold is a playbook parameter (``playbooks/pace.py``).

Pure: a function of the engagement's facts, the few facts the gates do not read (overdue tasks, the last
activity, the milestone pulses), the next gate's progress and the playbook's parameters.

The pulse signal reads the latest milestone held whose pulse has at least one answer (a newer milestone nobody
has rated yet does not hide it): an average below ``pulse_low_average`` puts the engagement at risk, until a later
milestone is rated at or above it.

A wave's health (facts scoped by ``journey.facts.scoped_to_wave``, ``facts.scope == "wave"``) is weighed the same
way on the wave's own journey: time in the wave's phase against that phase's ``expected_days``, the wave's next
gate, the check-ins and meetings of its members in its own quarters, its overdue tasks and its last activity
(``wave_last_activity``). The CEO's support and the milestone pulses belong to the engagement, not to a wave:
they are left out of a wave's signals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from okr_rollout.journey.facts import EngagementFacts, QuarterFacts
from okr_rollout.journey.scoring import check_in_coverage, elapsed_days
from okr_rollout.journey.wording import by_name, departments, people
from okr_rollout.playbooks.pace import HEALTH_PARAMETERS, SHARED_PARAMETERS
from okr_rollout.texts import LocalizedText, listed

HealthStatus = Literal["stuck", "at_risk", "ready_to_move", "on_track"]
# Most urgent first: the portfolio's default order, and how signals combine into one status.
URGENCY: tuple[HealthStatus, ...] = get_args(HealthStatus)
STATUS_TITLES: dict[HealthStatus, LocalizedText] = {
    "stuck": LocalizedText("Stuck", "停滯"),
    "at_risk": LocalizedText("At risk", "有風險"),
    "ready_to_move": LocalizedText("Ready to move", "可進入下一階段"),
    "on_track": LocalizedText("On track", "進展順利"),
}


@dataclass(frozen=True, slots=True)
class HealthSignal:
    id: str  # pace, gate, ceo_support, check_ins, team_meetings, one_on_ones, overdue_tasks, activity, pulse
    status: HealthStatus
    reason: LocalizedText
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "reason": self.reason.as_dict(), "evidence": dict(self.evidence)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HealthSignal:
        reason = data["reason"]
        return cls(data["id"], data["status"], LocalizedText(reason["en"], reason["zh-TW"]), data.get("evidence", {}))


@dataclass(frozen=True, slots=True)
class Health:
    status: HealthStatus
    signals: tuple[HealthSignal, ...]

    @property
    def reasons(self) -> tuple[HealthSignal, ...]:
        """The signals that decided the status (those calling for it), in the order they were weighed."""
        return tuple(s for s in self.signals if s.status == self.status)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "signals": [s.as_dict() for s in self.signals]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Health:
        return cls(data["status"], tuple(HealthSignal.from_dict(s) for s in data.get("signals", ())))


@dataclass(frozen=True, slots=True)
class HealthParams:
    pace_stuck_factor: float
    ceo_support_warning_days: int
    window_days: int
    idle_days: int
    idle_stuck_days: int
    ceo_support_max_age_days: int
    check_in_interval_days: int
    check_in_min_rate: float
    team_meeting_interval_days: int
    one_on_one_interval_days: int
    meeting_min_rate: float
    small_company_headcount: int
    pulse_low_average: float = 3.0

    @classmethod
    def of(cls, parameters: Mapping[str, Any]) -> HealthParams:
        """The thresholds from a playbook's parameters (the shipped defaults for a playbook that lacks one)."""
        def value(name: str, default: float) -> Any:
            found = parameters.get(name, default)
            return found if isinstance(found, int | float) and not isinstance(found, bool) else default

        health = {name.removeprefix("health_"): value(name, default)
                  for name, (_, _, default) in HEALTH_PARAMETERS.items()}
        shared = {name: value(name, default) for name, default in SHARED_PARAMETERS.items()}
        floats = ("pace_stuck_factor", "check_in_min_rate", "meeting_min_rate", "pulse_low_average")
        ints = {k: int(v) for k, v in {**health, **shared}.items() if k not in floats}
        return cls(pace_stuck_factor=float(health["pace_stuck_factor"]),
                   check_in_min_rate=float(shared["check_in_min_rate"]),
                   meeting_min_rate=float(shared["meeting_min_rate"]),
                   pulse_low_average=float(shared["pulse_low_average"]), **ints)


@dataclass(frozen=True, slots=True)
class GateProgress:
    """The first transition out of the phase: its title as a person knows it, and how far its gate is."""

    title: LocalizedText
    allowed: bool
    passed: int
    total: int


@dataclass(frozen=True, slots=True)
class PulseFacts:
    """The pulse of one milestone held: its title as a person knows it, the day it was held, how many attendees
    were asked, and the ratings (1 to 5) of those who answered."""

    title: LocalizedText
    held_on: date
    asked: int
    answered: int
    rating_sum: int

    @property
    def average(self) -> float | None:
        """The average rating, to one decimal as pages show it (None before any answer)."""
        return round(self.rating_sum / self.answered, 1) if self.answered else None


@dataclass(frozen=True, slots=True)
class ActivityFacts:
    """What health reads beyond the gates' facts."""

    overdue_tasks: int
    last_activity: datetime | None
    pulses: tuple[PulseFacts, ...] = ()


def assess(facts: EngagementFacts, activity: ActivityFacts, params: HealthParams, *, phase_title: LocalizedText,
           expected_days: int | None, gate: GateProgress | None) -> Health:
    """The engagement's health at ``facts.now`` (a wave's, on facts scoped to it: without the engagement's own
    signals, the CEO's support and the pulses)."""
    wave = facts.scope == "wave"
    signals = [s for s in (
        _pace(facts, params, phase_title, expected_days),
        _gate(gate),
        None if wave else _ceo_support(facts, params),
        *_cycle(facts, params),
        _overdue(activity.overdue_tasks),
        _activity(facts.now, activity.last_activity, params),
        None if wave else _pulse(activity.pulses, params),
    ) if s is not None]
    present = {s.status for s in signals}
    status: HealthStatus = next((s for s in URGENCY if s in present), "on_track")
    return Health(status, tuple(signals))


def wave_last_activity(facts: EngagementFacts, recorded: tuple[datetime | None, ...]) -> datetime | None:
    """A wave's last activity at ``facts.now``: the latest of ``recorded`` (its opening, its last move, its last task
    done) and of its records in the facts scoped to it (meetings held, training sessions held, drafting groups
    started or ended, check-ins, OKRs prepared), a record dated by its day counting from that day's start in the
    organization's time zone. Nothing later than now counts."""
    zone = ZoneInfo(facts.organization.timezone)
    days = [*(s.held_on for s in facts.training_sessions if s.held),
            *(d for g in facts.drafting_groups for d in (g.started_on, g.ended_on) if d is not None),
            *(c.week_of for c in facts.check_ins),
            *(o.prepared for o in facts.okrs if o.prepared is not None)]
    moments = [*(m for m in recorded if m is not None), *(m.held_at for m in facts.meetings if m.held),
               *(datetime.combine(d, time(), zone) for d in days)]
    past = [m for m in moments if m <= facts.now]
    return max(past, default=None)


def _pace(facts: EngagementFacts, params: HealthParams, phase: LocalizedText, expected: int | None
          ) -> HealthSignal | None:
    if expected is None:
        return None
    days = (facts.now - facts.entered_phase_at).days
    stuck_after = int(expected * params.pace_stuck_factor)
    evidence = {"days_in_phase": days, "expected_days": expected, "stuck_after_days": stuck_after}
    if days > stuck_after:
        return HealthSignal("pace", "stuck", LocalizedText(
            f"{days} days in {phase.en}, more than {params.pace_stuck_factor:g} times the {expected} expected.",
            f"已在「{phase.zh_tw}」{days} 天,超過預計 {expected} 天的 {params.pace_stuck_factor:g} 倍。"), evidence)
    if days > expected:
        return HealthSignal("pace", "at_risk", LocalizedText(
            f"{days} days in {phase.en}, more than the {expected} expected.",
            f"已在「{phase.zh_tw}」{days} 天,超過預計的 {expected} 天。"), evidence)
    return HealthSignal("pace", "on_track", LocalizedText(
        f"{days} of the {expected} days expected in {phase.en}.",
        f"「{phase.zh_tw}」預計 {expected} 天,目前第 {days} 天。"), evidence)


def _gate(gate: GateProgress | None) -> HealthSignal | None:
    if gate is None:
        return None
    evidence = {"allowed": gate.allowed, "criteria_met": gate.passed, "criteria": gate.total}
    if gate.allowed:
        return HealthSignal("gate", "ready_to_move", LocalizedText(
            f"Ready to move on: {gate.title.en} is open ({gate.passed} of {gate.total} criteria met).",
            f"可以進入下一步:「{gate.title.zh_tw}」的條件已滿足({gate.total} 項中 {gate.passed} 項)。"), evidence)
    return HealthSignal("gate", "on_track", LocalizedText(
        f"{gate.passed} of {gate.total} criteria met for {gate.title.en}.",
        f"「{gate.title.zh_tw}」的條件已滿足 {gate.total} 項中的 {gate.passed} 項。"), evidence)


def _ceo_support(facts: EngagementFacts, params: HealthParams) -> HealthSignal | None:
    if not facts.ceo_support:
        return None
    latest = max(facts.ceo_support, key=lambda s: (s.stated_on, s.recorded))
    age = (facts.today - latest.stated_on).days
    left = params.ceo_support_max_age_days - age
    evidence = {"stated_on": latest.stated_on.isoformat(), "level": latest.level, "age_days": age,
                "max_age_days": params.ceo_support_max_age_days, "days_left": left,
                "warning_days": params.ceo_support_warning_days}
    if left <= 0:
        return HealthSignal("ceo_support", "at_risk", LocalizedText(
            f"The CEO's support, stated {age} days ago, has faded (it counts for {params.ceo_support_max_age_days} "
            "days): confirm it again.",
            f"CEO 的支持於 {age} 天前表態,已淡化(有效 {params.ceo_support_max_age_days} 天):請再次確認。"), evidence)
    if left <= params.ceo_support_warning_days:
        return HealthSignal("ceo_support", "at_risk", LocalizedText(
            f"The CEO's support fades in {left} days (stated {age} days ago).",
            f"CEO 的支持將在 {left} 天後淡化({age} 天前表態)。"), evidence)
    return HealthSignal("ceo_support", "on_track", LocalizedText(
        f"The CEO's support holds for {left} more days.", f"CEO 的支持還有 {left} 天有效。"), evidence)


def _current_quarter(facts: EngagementFacts) -> QuarterFacts | None:
    today = facts.today
    return next((q for q in sorted(facts.quarters, key=lambda q: (q.starts_on, q.id))
                 if q.starts_on <= today <= q.ends_on), None)


def _cycle(facts: EngagementFacts, params: HealthParams) -> tuple[HealthSignal | None, ...]:
    """Check-ins and meetings over the recent window of the quarter in progress (none outside a quarter)."""
    quarter = _current_quarter(facts)
    if quarter is None:
        return ()
    start = max(quarter.starts_on, facts.today - timedelta(days=params.window_days - 1))
    window = replace(quarter, starts_on=start)
    return (_check_ins(facts, params, quarter, window),
            _meetings(facts, params, window, "weekly_team", params.team_meeting_interval_days),
            _meetings(facts, params, window, "one_on_one", params.one_on_one_interval_days))


def _check_ins(facts: EngagementFacts, params: HealthParams, quarter: QuarterFacts, window: QuarterFacts
               ) -> HealthSignal | None:
    okr_ids = {okr.id for okr in facts.okrs_of(quarter)}
    key_results = {kr.id for kr in facts.key_results if kr.okr_id in okr_ids}
    expected, done, possible = check_in_coverage(window, facts.today, params.check_in_interval_days, key_results,
                                                 ((c.key_result_id, c.week_of) for c in facts.check_ins))
    if not key_results or not expected:
        return None
    rate = done / possible
    evidence = {"quarter": quarter.label, "from": window.starts_on.isoformat(), "key_results": len(key_results),
                "check_ins_on_time": done, "possible": possible, "rate": round(rate, 3),
                "required_rate": params.check_in_min_rate}
    if rate < params.check_in_min_rate:
        return HealthSignal("check_ins", "at_risk", LocalizedText(
            f"Check-ins over the last {params.window_days} days: {done} of {possible} ({rate:.0%}); "
            f"{params.check_in_min_rate:.0%} needed.",
            f"最近 {params.window_days} 天的進度更新:{possible} 次中完成 {done} 次({rate:.0%});"
            f"需要 {params.check_in_min_rate:.0%}。"), evidence)
    return HealthSignal("check_ins", "on_track", LocalizedText(
        f"Check-ins over the last {params.window_days} days: {done} of {possible} ({rate:.0%}).",
        f"最近 {params.window_days} 天的進度更新:{possible} 次中完成 {done} 次({rate:.0%})。"), evidence)


_MEETINGS = {"weekly_team": ("team_meetings", LocalizedText("team meetings", "團隊會議")),
             "one_on_one": ("one_on_ones", LocalizedText("1:1s", "一對一會議"))}


def _meetings(facts: EngagementFacts, params: HealthParams, window: QuarterFacts, kind: str, interval: int
              ) -> HealthSignal | None:
    signal_id, what = _MEETINGS[kind]
    expected = elapsed_days(window, facts.today) // interval
    if not expected:
        return None
    held = [m for m in facts.meetings
            if m.kind == kind and m.held and window.starts_on <= facts.local_date(m.held_at) <= facts.today]
    counts: dict[int, int] = {}
    if kind == "one_on_one":
        for person in facts.pilot_people(params.small_company_headcount):
            counts[person.id] = sum(1 for m in held if m.counts_for(person.id))
        behind_names = by_name(people(facts, (i for i, n in counts.items() if n / expected < params.meeting_min_rate)))
    elif facts.whole_company(params.small_company_headcount):
        counts[0] = len(held)
        behind_names = ([LocalizedText("the whole company", "全公司")]
                        if counts[0] / expected < params.meeting_min_rate else [])
    else:
        for department in facts.pilot_departments():
            counts[department.id] = sum(1 for m in held if m.department_id in (department.id, None))
        behind_names = by_name(departments(
            facts, (i for i, n in counts.items() if n / expected < params.meeting_min_rate)))
    if not counts:
        return None
    evidence = {"meeting_kind": kind, "from": window.starts_on.isoformat(), "expected_each": expected,
                "held": {str(k): v for k, v in counts.items()}, "behind": len(behind_names),
                "required_rate": params.meeting_min_rate}
    if behind_names:
        lagging = listed(behind_names)
        return HealthSignal(signal_id, "at_risk", LocalizedText(
            f"{what.en.capitalize()} are behind over the last {params.window_days} days for {lagging.en} "
            f"({expected} expected each).",
            f"最近 {params.window_days} 天的{what.zh_tw}落後:{lagging.zh_tw}(每個應有 {expected} 次)。"), evidence)
    return HealthSignal(signal_id, "on_track", LocalizedText(
        f"{what.en.capitalize()} held as planned over the last {params.window_days} days.",
        f"最近 {params.window_days} 天的{what.zh_tw}如期舉行。"), evidence)


def _overdue(count: int) -> HealthSignal:
    if count:
        return HealthSignal("overdue_tasks", "at_risk", LocalizedText(
            f"{count} task{'s are' if count > 1 else ' is'} overdue.", f"有 {count} 項任務逾期。"),
            {"overdue_tasks": count})
    return HealthSignal("overdue_tasks", "on_track", LocalizedText("No task is overdue.", "沒有逾期的任務。"),
                        {"overdue_tasks": 0})


def _activity(now: datetime, last: datetime | None, params: HealthParams) -> HealthSignal:
    evidence: dict[str, Any] = {"last_activity": last.isoformat() if last else None,
                                "idle_days": params.idle_days, "stuck_days": params.idle_stuck_days}
    if last is None:
        return HealthSignal("activity", "stuck", LocalizedText("Nothing has been recorded yet.", "尚無任何記錄。"),
                            evidence)
    days = (now - last).days
    evidence["days_since"] = days
    if days >= params.idle_stuck_days:
        return HealthSignal("activity", "stuck", LocalizedText(
            f"Nothing recorded for {days} days.", f"已有 {days} 天沒有任何記錄。"), evidence)
    if days >= params.idle_days:
        return HealthSignal("activity", "at_risk", LocalizedText(
            f"Nothing recorded for {days} days.", f"已有 {days} 天沒有任何記錄。"), evidence)
    return HealthSignal("activity", "on_track", LocalizedText(
        f"Last recorded {days} days ago.", f"最近一次記錄在 {days} 天前。"), evidence)


def _pulse(pulses: tuple[PulseFacts, ...], params: HealthParams) -> HealthSignal | None:
    """The latest milestone rated by at least one attendee: below ``pulse_low_average`` it is a risk."""
    rated = [p for p in pulses if p.answered]
    if not rated:
        return None
    latest = max(rated, key=lambda p: p.held_on)
    average = latest.average
    assert average is not None
    low = params.pulse_low_average
    evidence = {"held_on": latest.held_on.isoformat(), "average": average, "answered": latest.answered,
                "asked": latest.asked, "low_average": low}
    rated_by = LocalizedText(
        f"The {_in_sentence(latest.title.en)} of {latest.held_on.isoformat()} was rated {average:g} / 5 by "
        f"{latest.answered} of {latest.asked} attendee{'s' if latest.asked > 1 else ''}",
        f"{latest.held_on.isoformat()} 的{latest.title.zh_tw}獲 {latest.asked} 位出席者中的 {latest.answered} 位"
        f"評為 {average:g} / 5")
    if average < low:
        return HealthSignal("pulse", "at_risk", LocalizedText(
            f"{rated_by.en} (below {low:g}).", f"{rated_by.zh_tw}(低於 {low:g})。"), evidence)
    return HealthSignal("pulse", "on_track", LocalizedText(f"{rated_by.en}.", f"{rated_by.zh_tw}。"), evidence)


def _in_sentence(title: str) -> str:
    """A title inside a sentence: "Pilot training" becomes "pilot training", "OKR culture meeting" stays."""
    return title if title[:2].isupper() else title[:1].lower() + title[1:]
