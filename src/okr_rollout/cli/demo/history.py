"""A demo engagement's journey up to its current phase, walked as a coach would walk it through the API.

Each phase leaves the records its exit gate reads (meetings, CEO support, training, drafting groups, quarters,
OKRs, check-ins, scores, decisions, appointments), dated inside the phase and recorded through the record and
cycle services with a backdated ``now``; then the engagement leaves the phase through the engagement service's
transition, which evaluates the gate as it would for a coach, so the history is valid by construction. In the
current phase only what has happened by now is recorded, and the criteria a client names as pending are
deliberately left unmet. Every number comes from the playbook (its parameters, its resolved gate criteria, its
tasks' due days). What each kind of gate criterion needs recorded is one entry of ``_RECORDERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller
from okr_rollout.catalog.service import Catalog
from okr_rollout.cycles import queries as cycle_queries
from okr_rollout.cycles import service as cycles
from okr_rollout.cycles.schemas import CheckInCreate, KeyResultCreate, OkrCreate, QuarterCreate
from okr_rollout.engagements import service as engagements
from okr_rollout.errors import GateRefused
from okr_rollout.models import Appointment, Engagement, Okr, Quarter
from okr_rollout.playbooks import LoadedPlaybook, ResolvedCriterion
from okr_rollout.playbooks import kinds as k
from okr_rollout.playbooks.kinds import SUPPORT_LEVELS, SupportLevel
from okr_rollout.records import schemas as forms
from okr_rollout.records import service as records
from okr_rollout.records.context import RecordContext
from okr_rollout.records.rules import RecordRules

DAY = timedelta(days=1)
QUARTER = timedelta(weeks=13)  # a calendar quarter: thirteen weeks
OBJECTIVES = ("Delight every customer we serve", "Ship faster with fewer defects", "Grow revenue through partners",
              "Build a team people want to join", "Make every process measurable")
METRICS = ("Customers who would recommend us", "Releases shipped on the planned day", "Partner revenue target reached",
           "Offers accepted", "Processes with a weekly metric")
# Where each OKR lands on the score scale, counted from the top (1 = the highest mark): mostly the
# second-highest mark (0.7 on Google's scale), some fully achieved, some in need of re-evaluation.
SCORE_PATTERN = (2, 1, 2, 3, 2)

P = TypeVar("P", bound=k.KindParams)


@dataclass(frozen=True)
class Cast:
    """Who takes part: the coach, the CEO, department heads, and the pilot groups (lead first)."""

    coach_id: int
    ceo_id: int
    heads: tuple[int, ...]
    pilot: tuple[tuple[int | None, tuple[int, ...]], ...]  # (department id, None for the whole company; people)
    others: tuple[int, ...]  # people outside the pilot, the CEO excepted

    @property
    def pilot_people(self) -> list[int]:
        return [person for _, people in self.pilot for person in people]


@dataclass(frozen=True)
class _Window:
    """A phase's days: from its entry to the next phase's entry, or to now in the current phase."""

    start: datetime
    end: datetime
    current: bool

    def at(self, offset: timedelta) -> datetime | None:
        moment = self.start + offset
        return moment if moment <= self.end else None


def _exit_criteria(playbook: LoadedPlaybook, phase: str) -> list[ResolvedCriterion]:
    return [c for t in playbook.spec.transitions_from(phase) for c in playbook.gate(phase, t.trigger)]


def _params_of(criteria: Iterable[ResolvedCriterion], kind: type[P]) -> list[P]:
    """The parameters of the criteria of one kind (each kind has its parameter class)."""
    return [c.params for c in criteria if isinstance(c.params, kind)]


def _params(criterion: ResolvedCriterion, kind: type[P]) -> P:
    if not isinstance(criterion.params, kind):
        raise TypeError(f"criterion {criterion.id} ({criterion.kind}) has no {kind.__name__} parameters")
    return criterion.params


def _integer(playbook: LoadedPlaybook, name: str) -> int:
    value = playbook.parameters[name]
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"playbook {playbook.id}: parameter {name} is not an integer")
    return value


def _review_days(playbook: LoadedPlaybook) -> timedelta:
    """Reviewing a quarter and preparing the next each take half the time left before the coach is warned."""
    spare = _integer(playbook, "next_quarter_max_days") - _integer(playbook, "next_quarter_warning_days")
    return timedelta(days=max(spare // 2, 1))


def _drafting_span(params: k.DraftingDuration) -> timedelta:
    """Drafting takes the middle of its range of weeks, in whole days."""
    return timedelta(days=((timedelta(weeks=params.min_weeks) + timedelta(weeks=params.max_weeks)) / 2).days)


def _duration(playbook: LoadedPlaybook, phase: str) -> timedelta:
    criteria = _exit_criteria(playbook, phase)
    reviewed = _review_days(playbook) if _params_of(criteria, k.QuarterScored) else timedelta()
    if _params_of(criteria, k.QuarterEnded):
        return QUARTER + reviewed  # the phase runs the quarter (and reviews it when the gate asks for scores)
    if reviewed or _params_of(criteria, k.NextQuarterDeadline):
        return _review_days(playbook)
    for drafting in _params_of(criteria, k.DraftingDuration):
        return _drafting_span(drafting) + DAY
    days = max((task.due_days for task in playbook.tasks.get(phase, ())), default=1)
    if _params_of(criteria, k.TrainingCompleted):
        days = max(days, _integer(playbook, "training_days") + 1)
    return timedelta(days=days)


def _chain(playbook: LoadedPlaybook) -> list[str]:
    phases = [playbook.spec.start_phase]
    while (exits := playbook.spec.transitions_from(phases[-1])) and exits[0].dest not in phases:
        phases.append(exits[0].dest)
    return phases


def timeline(playbook: LoadedPlaybook, phase: str, entered: datetime) -> dict[str, datetime]:
    """When the engagement entered (or, after ``phase``, is expected to enter) each phase of its journey."""
    phases = _chain(playbook)
    here = phases.index(phase)
    entries = {phase: entered}
    for index in range(here - 1, -1, -1):
        entries[phases[index]] = entries[phases[index + 1]] - _duration(playbook, phases[index])
    for index in range(here + 1, len(phases)):
        entries[phases[index]] = entries[phases[index - 1]] + _duration(playbook, phases[index - 1])
    return {name: entries[name] for name in phases}


def walk_journey(session: Session, caller: Caller, catalog: Catalog, engagement: Engagement, cast: Cast, *,
                 phase: str, entered: datetime, pending: tuple[str, ...], missing_outcomes: tuple[str, ...],
                 now: datetime) -> None:
    """Take ``engagement``, just created, to ``phase`` (entered at ``entered``) through its journey, recording
    what each phase leaves behind (see the module docstring)."""
    playbook = catalog.pinned(session, engagement.playbook_sha256)
    ctx = RecordContext(session, caller, engagement, playbook, RecordRules.of(playbook), now)
    _History(ctx, catalog, cast, frozenset(pending), frozenset(missing_outcomes)).run(phase, entered)


@dataclass
class _History:
    ctx: RecordContext
    catalog: Catalog
    cast: Cast
    pending: frozenset[str]
    missing_outcomes: frozenset[str]
    quarters: dict[int, Quarter] = field(default_factory=dict)
    appointments: dict[tuple[int, str], Appointment] = field(default_factory=dict)
    quarter_starts: dict[int, date] = field(default_factory=dict)
    unowned: set[int] = field(default_factory=set)  # quarters in which one pilot member has no OKR yet
    behind: set[int] = field(default_factory=set)  # quarters in which one pilot team stopped checking in
    undecided: set[int] = field(default_factory=set)  # quarters with one OKR still awaiting a decision
    fading_after: datetime | None = None  # CEO support is not confirmed again after this moment
    recorded: set[tuple[str, int]] = field(default_factory=set)  # what this phase has recorded once already

    def run(self, here_phase: str, entered: datetime) -> None:
        playbook = self.ctx.playbook
        phases = _chain(playbook)
        here = phases.index(here_phase)
        entries = timeline(playbook, here_phase, entered)
        self.quarter_starts = {p.quarter: entries[phase].date() for phase in phases
                               for p in _params_of(_exit_criteria(playbook, phase), k.QuarterEnded)}
        current = _exit_criteria(playbook, here_phase)
        if unknown := self.pending - {c.id for c in current}:
            raise ValueError(f"pending criteria {sorted(unknown)} are not in the gate out of {here_phase}")
        held = [c for c in current if c.id in self.pending]
        self.unowned = {p.quarter for p in _params_of(held, k.PilotMembersOwnOkrs)}
        self.behind = {p.quarter for p in _params_of(held, k.CheckInRate)}
        self.undecided = {p.quarter for p in _params_of(held, k.OkrDecisions)}
        for support in _params_of(held, k.CeoSupport):
            self.fading_after = self.ctx.now - timedelta(days=support.max_age_days)
        for index, phase in enumerate(phases[: here + 1]):
            end = entries[phases[index + 1]] if index < here else self.ctx.now
            self._phase(_Window(entries[phase], end, index == here), _exit_criteria(playbook, phase))
            if index < here:
                self._leave(phase, playbook.spec.transitions_from(phase)[0].trigger, end)

    def _leave(self, phase: str, trigger: str, moment: datetime) -> None:
        """The transition out of ``phase`` as the API fires it; a refusal means the demo recorded too little."""
        try:
            engagements.fire_transition(self.ctx.session, self.ctx.caller, self.catalog, self.ctx.engagement.id,
                                        trigger, moment)
        except GateRefused as refused:
            raise RuntimeError(f"demo engagement {self.ctx.engagement.id}: {refused.detail}") from None

    # --- one phase ------------------------------------------------------------------------------------------------

    def _phase(self, w: _Window, criteria: list[ResolvedCriterion]) -> None:
        self.recorded.clear()
        for criterion in criteria:
            record = _RECORDERS.get(criterion.kind)
            if record is not None:
                record(self, w, criterion, criteria)

    def _once(self, activity: str, quarter: int = 0) -> bool:
        """True the first time ``activity`` (of ``quarter``) is asked for in this phase: the criteria that read
        the same records (a quarter's rhythm, its review, drafting) have them recorded once."""
        if (activity, quarter) in self.recorded:
            return False
        self.recorded.add((activity, quarter))
        return True

    def _held(self, w: _Window, criterion: ResolvedCriterion) -> bool:
        """Deliberately left unmet: a criterion the client names as pending, in the current phase."""
        return w.current and criterion.id in self.pending

    # --- what each kind of criterion needs recorded ---------------------------------------------------------------

    def _for_meeting_outcomes(self, w: _Window, c: ResolvedCriterion, _: list[ResolvedCriterion]) -> None:
        self._meeting_with_outcomes(w, _params(c, k.MeetingOutcomes))

    def _for_ceo_support(self, w: _Window, c: ResolvedCriterion, _: list[ResolvedCriterion]) -> None:
        if not self._held(w, c):
            self._ceo_support(w.at(DAY), _params(c, k.CeoSupport).min_level)

    def _for_training(self, w: _Window, c: ResolvedCriterion, _: list[ResolvedCriterion]) -> None:
        self._training(w, _params(c, k.TrainingCompleted), self._held(w, c))

    def _for_drafting(self, w: _Window, _: ResolvedCriterion, criteria: list[ResolvedCriterion]) -> None:
        if self._once("drafting"):
            drafting = {x.id for x in criteria if x.kind in ("drafting_groups", "drafting_duration")}
            self._drafting(w, criteria, still_drafting=w.current and bool(self.pending & drafting))

    def _for_plan(self, w: _Window, c: ResolvedCriterion, criteria: list[ResolvedCriterion]) -> None:
        quarter = _params(c, k.QuarterPlanned | k.PilotMembersOwnOkrs | k.NextQuarterDeadline).quarter  # type: ignore[arg-type]
        n = quarter + 1 if c.kind == "next_quarter_deadline" else quarter  # the deadline is the next one's
        if self._once("plan", n):
            spans = [_drafting_span(p) for p in _params_of(criteria, k.DraftingDuration)]
            self._plan(min(w.start + (spans[0] if spans else DAY), w.end), n)

    def _for_rhythm(self, w: _Window, c: ResolvedCriterion, criteria: list[ResolvedCriterion]) -> None:
        quarter = _params(c, k.QuarterEnded | k.CheckInRate | k.MeetingCadence).quarter  # type: ignore[arg-type]
        if self._once("rhythm", quarter):
            self._rhythm(w, quarter, criteria)

    def _for_review(self, w: _Window, c: ResolvedCriterion, criteria: list[ResolvedCriterion]) -> None:
        quarter = _params(c, k.QuarterScored | k.OkrDecisions).quarter  # type: ignore[arg-type]
        if self._once("review", quarter):
            self._review(w, quarter, criteria)

    def _for_internal_coaches(self, w: _Window, c: ResolvedCriterion, _: list[ResolvedCriterion]) -> None:
        if not self._held(w, c):
            self._internal_coaches(w, _params(c, k.InternalCoaches))

    def _for_okr_master(self, w: _Window, c: ResolvedCriterion, _: list[ResolvedCriterion]) -> None:
        if not self._held(w, c):
            self._okr_master(w, _params(c, k.OkrMaster))

    def _clock(self, day: date) -> datetime:
        return datetime.combine(day, self.ctx.now.timetz())

    def _as_of(self, moment: datetime) -> RecordContext:
        return replace(self.ctx, now=moment)

    # --- set-up records -------------------------------------------------------------------------------------------

    def _meeting_with_outcomes(self, w: _Window, p: k.MeetingOutcomes) -> None:
        if (moment := w.at(DAY)) is None:
            return
        outcomes = [o for o in p.outcomes if not (w.current and o in self.missing_outcomes)]
        attendees = [self.cast.ceo_id, *self.cast.heads, self.cast.coach_id]
        records.record_meeting(self._as_of(moment), forms.MeetingCreate(
            kind=p.meeting_kind, held_at=moment, attendee_ids=attendees, outcomes=outcomes,
            notes=f"{p.meeting_kind.replace('_', ' ').capitalize()} meeting with the CEO and department heads."))

    def _ceo_support(self, moment: datetime | None, level: SupportLevel) -> None:
        if moment is None or (self.fading_after is not None and moment > self.fading_after):
            return  # (the client whose CEO support is fading: not confirmed lately)
        records.state_ceo_support(self._as_of(moment), forms.CeoSupportCreate(
            level=level, stated_on=moment.date(),
            note="Confirmed with the coach." if level == SUPPORT_LEVELS[-1] else "Supports trying OKRs."))

    def _training(self, w: _Window, p: k.TrainingCompleted, held: bool) -> None:
        days = _integer(self.ctx.playbook, "training_days")
        attendees = self.cast.pilot_people
        for day in range(days - 1 if held else days):  # held back: the last day is still to come
            moment = w.at(DAY * (day + 1))
            modules = [m for i, m in enumerate(p.modules) if i * days // len(p.modules) == day]
            modules = modules or [p.modules[day * len(p.modules) // days]]  # more days than modules: practise
            if moment is None:
                continue
            records.record_training(self._as_of(moment), forms.TrainingSessionCreate(
                held_on=moment.date(), hours=p.min_hours / days, modules=modules, attendee_ids=attendees,
                notes=f"OKR course, day {day + 1} of {days}."))

    def _drafting(self, w: _Window, criteria: list[ResolvedCriterion], still_drafting: bool) -> None:
        sizes = _params_of(criteria, k.DraftingGroups)[0]
        span = next((_drafting_span(p) for p in _params_of(criteria, k.DraftingDuration)), DAY)
        people = self.cast.pilot_people
        count = -(-len(people) // sizes.max_size)
        if count == 0 or len(people) // count < sizes.min_size:
            return  # too few people for a group of the playbook's size
        groups = [people[i * len(people) // count:(i + 1) * len(people) // count] for i in range(count)]
        department_of = {person: dept for dept, members in self.cast.pilot for person in members}
        end = w.at(span)
        for members in groups:
            departments = {department_of[m] for m in members}
            department = departments.pop() if len(departments) == 1 else None
            ctx = self._as_of(w.start)
            group, _ = records.record_drafting_group(ctx, forms.DraftingGroupCreate(
                member_ids=members, department_id=department, started_on=w.start.date()))
            records.record_meeting(ctx, forms.MeetingCreate(kind="drafting_session", held_at=w.start,
                                                            department_id=department,
                                                            attendee_ids=[*members, self.cast.coach_id]))
            if end is not None and not still_drafting:
                records.update_drafting_group(self._as_of(end), group, forms.DraftingGroupUpdate(ended_on=end.date()))

    def _internal_coaches(self, w: _Window, p: k.InternalCoaches) -> None:
        masters = {person for person, role in self.appointments if role == "okr_master"}
        leads = [people[0] for _, people in self.cast.pilot]
        candidates = [c for c in [*leads, *self.cast.pilot_people] if c != self.cast.ceo_id and c not in masters]
        for person in list(dict.fromkeys(candidates))[: p.min_coaches]:
            self._appoint(w, person, "internal_coach", trained=p.trained)

    def _okr_master(self, w: _Window, p: k.OkrMaster) -> None:
        coaches = {person for person, role in self.appointments if role == "internal_coach"}
        candidates = [c for c in [*self.cast.others, *self.cast.pilot_people]
                      if c != self.cast.ceo_id and c not in coaches]
        if candidates:
            self._appoint(w, candidates[0], "okr_master", ready=p.ready)

    def _appoint(self, w: _Window, person: int, role: forms.AppointmentRole, *, trained: bool = False,
                 ready: bool = False) -> None:
        if (moment := w.at(DAY)) is None:
            return
        ctx = self._as_of(moment)
        appointment = self.appointments.get((person, role))
        if appointment is None:
            appointment = records.appoint(ctx, forms.AppointmentCreate(person_id=person, role=role))
            self.appointments[(person, role)] = appointment
        if trained and not appointment.trained:
            update = forms.AppointmentUpdate(trained=True, trained_on=moment.date())
            records.update_appointment(ctx, appointment, update)
        if ready and not appointment.ready:
            records.update_appointment(ctx, appointment, forms.AppointmentUpdate(ready=True))

    # --- the quarterly cycle --------------------------------------------------------------------------------------

    def _quarter(self, n: int, moment: datetime) -> Quarter:
        if n not in self.quarters:
            starts_on = self.quarter_starts[n]
            self.quarters[n], _ = cycles.create_quarter(self._as_of(moment), QuarterCreate(
                label=f"Q{n}", starts_on=starts_on, ends_on=starts_on + QUARTER - DAY))
        return self.quarters[n]

    def _okrs(self, quarter: Quarter) -> list[Okr]:
        return list(self.ctx.session.scalars(cycle_queries.okrs_of_quarter(quarter.id)))

    def _plan(self, moment: datetime, n: int) -> None:
        """Quarter ``n`` with an OKR for every pilot member (those carried over from the last quarter included)."""
        quarter = self._quarter(n, moment)
        owners = {okr.owner_id for okr in self._okrs(quarter)}
        skipped = self.cast.pilot_people[-1] if n in self.unowned else None  # drafted, not yet entered
        for dept, people in self.cast.pilot:
            for person in people:
                if person in owners or person == skipped:
                    continue
                pick = (person + n) % len(OBJECTIVES)
                cycles.create_okr(self._as_of(moment), quarter, OkrCreate(
                    objective=OBJECTIVES[pick], owner_id=person, department_id=dept,
                    key_results=[KeyResultCreate(metric=METRICS[pick], start=0, target=100, unit="%")]))  # demo data

    def _planned_score(self, position: int) -> float:
        if not (scale := sorted(self.ctx.rules.score_scale or ())):
            raise ValueError(f"playbook {self.ctx.playbook.id} has no score_scale to score OKRs on")
        return scale[max(len(scale) - SCORE_PATTERN[position % len(SCORE_PATTERN)], 0)]

    def _rhythm(self, w: _Window, n: int, criteria: list[ResolvedCriterion]) -> None:
        """The weeks of quarter ``n`` so far: check-ins on every key result, team meetings and 1:1s."""
        quarter = self._quarter(n, w.start)
        start = self._clock(quarter.starts_on)
        last = min(w.end, self._clock(quarter.ends_on))
        if w.start <= start <= w.end:
            self._ceo_support(start, SUPPORT_LEVELS[-1])  # the CEO launches the quarter
        interval = next((p.interval_days for p in _params_of(criteria, k.CheckInRate)),
                        self.ctx.rules.check_in_interval_days)
        top = self.ctx.rules.check_in_confidence_max
        okrs = self._okrs(quarter)
        krs = list(self.ctx.session.scalars(cycle_queries.key_results_of([o.id for o in okrs])))
        late = set(self.cast.pilot[-1][1]) if n in self.behind else set()
        step = DAY * (interval or QUARTER.days)
        periods = QUARTER // step if interval else 0  # (a playbook without a check-in interval: no check-ins)
        for period in range(periods):
            moment = start + step * (period + 1) - DAY  # the last day of the period
            if moment > last:
                break
            for position, okr in enumerate(okrs):
                if period and okr.owner_id in late:
                    continue  # this team stopped updating after the first week
                score = self._planned_score(position)
                for kr in (kr for kr in krs if kr.okr_id == okr.id):
                    value = kr.start_value + (kr.target_value - kr.start_value) * score * (period + 1) / periods
                    cycles.record_check_in(self._as_of(moment), quarter, CheckInCreate(
                        key_result_id=kr.id, week_of=moment.date(), value=round(value, 1), author_id=okr.owner_id,
                        confidence=None if top is None else round(top * score, 1)))
        for cadence in _params_of(criteria, k.MeetingCadence):
            if cadence.quarter == n:
                self._meetings(cadence, start, last)

    def _meetings(self, p: k.MeetingCadence, start: datetime, last: datetime) -> None:
        moment = start
        while moment <= last:
            for dept, people in self.cast.pilot:
                # A 1:1 counts for the one led: the lead (first) leads each member's, the coach the lead's.
                meetings = [list(people)] if p.per == "department" else [
                    *([people[0], m] for m in people[1:]), [self.cast.coach_id, people[0]]]
                for attendees in meetings:
                    records.record_meeting(self._as_of(moment), forms.MeetingCreate(
                        kind=p.meeting_kind, held_at=moment, attendee_ids=attendees,
                        department_id=dept if p.per == "department" else None))
            moment += DAY * p.interval_days

    def _review(self, w: _Window, n: int, criteria: list[ResolvedCriterion]) -> None:
        """After quarter ``n`` ends: the review meeting, a score for every OKR, then leadership's decisions."""
        quarter = self._quarter(n, w.start)
        if (moment := max(self._clock(quarter.ends_on) + DAY, w.start + DAY)) > w.end:
            return  # the quarter is still running
        ctx = self._as_of(moment)
        leads = [people[0] for _, people in self.cast.pilot]  # in a whole-company rollout, the CEO
        records.record_meeting(ctx, forms.MeetingCreate(kind="quarter_review", held_at=moment, attendee_ids=list(
            dict.fromkeys([self.cast.ceo_id, *leads, self.cast.coach_id]))))
        self._ceo_support(moment, SUPPORT_LEVELS[-1])
        okrs = self._okrs(quarter)
        for position, okr in enumerate(okrs):
            cycles.score_okr(ctx, okr, self._planned_score(position))
        decisions = next((p.decisions for p in _params_of(criteria, k.OkrDecisions)), [])
        for okr in okrs[:-1] if n in self.undecided else okrs:
            if decisions:
                cycles.decide_okr(ctx, okr, self._decision(okr.score or 0.0, decisions))

    def _decision(self, score: float, decisions: list[str]) -> str:
        """Fully achieved: complete; in the red band: abandon; otherwise carry it on."""
        top = max(self.ctx.rules.score_scale or (score,))
        bands = self.ctx.rules.bands
        if score >= top and "complete" in decisions:
            return "complete"
        if bands is not None and score < bands.yellow_from and "abandon" in decisions:
            return "abandon"
        carry = self.ctx.rules.carry_decision
        return carry if carry in decisions else decisions[0]


Recorder = Callable[[_History, _Window, ResolvedCriterion, list[ResolvedCriterion]], None]

# What the demo records for each kind of gate criterion. The kinds left out read the organization or the
# engagement themselves (coach assigned, foundations, pilot departments, headcount, OKR software, pilot completed),
# which the portfolio sets up before the journey starts.
_RECORDERS: dict[str, Recorder] = {
    "meeting_outcomes": _History._for_meeting_outcomes,
    "ceo_support": _History._for_ceo_support,
    "training_completed": _History._for_training,
    "drafting_groups": _History._for_drafting,
    "drafting_duration": _History._for_drafting,
    "quarter_planned": _History._for_plan,
    "pilot_members_own_okrs": _History._for_plan,
    "next_quarter_deadline": _History._for_plan,
    "quarter_ended": _History._for_rhythm,
    "check_in_rate": _History._for_rhythm,
    "meeting_cadence": _History._for_rhythm,
    "quarter_scored": _History._for_review,
    "okr_decisions": _History._for_review,
    "internal_coaches": _History._for_internal_coaches,
    "okr_master": _History._for_okr_master,
}
