"""EngagementFacts: the immutable snapshot of everything a gate reads.

Gates are pure functions of these facts and the playbook's parameters; the
snapshot also carries the clock's ``now`` so that no check reads the time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple, NoReturn
from zoneinfo import ZoneInfo


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class FactsNotLoaded(LookupError):
    """A check read a group of facts its kind does not declare, so the loader did not read it."""

    def __init__(self, group: str) -> None:
        self.group = group
        super().__init__(f"the '{group}' facts were not loaded: declare them in the reads of the gate kind")


class _NotLoadedTuple(tuple):  # type: ignore[type-arg]
    """Stands for a tuple of facts that was not loaded: any read of it raises, so a missing declaration fails
    loudly instead of reading as "none recorded"."""

    group: str

    def _refuse(self, *_: Any, **__: Any) -> NoReturn:
        raise FactsNotLoaded(self.group)

    __iter__ = __len__ = __getitem__ = __contains__ = __bool__ = __reversed__ = _refuse
    __add__ = __radd__ = __mul__ = __rmul__ = count = index = _refuse

    def __repr__(self) -> str:
        return f"<{self.group}: not loaded>"


class _NotLoadedSet(frozenset):  # type: ignore[type-arg]
    """The frozenset counterpart of ``_NotLoadedTuple``."""

    group: str

    def _refuse(self, *_: Any, **__: Any) -> NoReturn:
        raise FactsNotLoaded(self.group)

    __iter__ = __len__ = __contains__ = __bool__ = _refuse
    __and__ = __rand__ = __or__ = __ror__ = __sub__ = __rsub__ = __xor__ = __rxor__ = _refuse
    __le__ = __lt__ = __ge__ = __gt__ = _refuse
    issubset = issuperset = isdisjoint = intersection = union = difference = symmetric_difference = _refuse
    copy = _refuse

    def __repr__(self) -> str:
        return f"<{self.group}: not loaded>"


@dataclass(frozen=True, slots=True)
class OrganizationFacts:
    id: int
    name: str
    headcount: int
    timezone: str = "UTC"
    mission: str | None = None
    vision_1y: str | None = None
    vision_5y: str | None = None
    vision_10y: str | None = None
    strategies: tuple[str, ...] = ()
    challenges: tuple[str, ...] = ()
    okr_software: str | None = None


@dataclass(frozen=True, slots=True)
class PersonFacts:
    id: int
    name: str
    roles: frozenset[str] = frozenset()
    department_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class DepartmentFacts:
    id: int
    name: str
    is_pilot: bool = False
    lead_id: int | None = None


# A meeting or training session counts for a gate once held; a planned or cancelled one does not.
HELD = "held"


@dataclass(frozen=True, slots=True)
class MeetingFacts:
    id: int
    kind: str
    held_at: datetime
    attendee_ids: frozenset[int] = frozenset()
    outcomes: frozenset[str] = frozenset()
    department_id: int | None = None
    status: str = HELD
    # Whom it counts for when its kind's attendee rule said (a 1:1: the person, not the lead); empty: every attendee
    counts_for_ids: frozenset[int] = frozenset()

    @property
    def held(self) -> bool:
        return self.status == HELD

    def counts_for(self, person_id: int) -> bool:
        return person_id in (self.counts_for_ids or self.attendee_ids)


@dataclass(frozen=True, slots=True)
class CeoSupportFacts:
    level: str
    stated_on: date
    note: str = ""
    recorded: int = 0  # order of recording: of two statements on one day, the later one counts


@dataclass(frozen=True, slots=True)
class TrainingSessionFacts:
    id: int
    held_on: date
    hours: float
    modules: frozenset[str]
    attendee_ids: frozenset[int] = frozenset()
    status: str = HELD
    trainer_id: int | None = None  # who gave it, when recorded: the external coach or a person of the organization

    @property
    def held(self) -> bool:
        return self.status == HELD


@dataclass(frozen=True, slots=True)
class DraftingGroupFacts:
    id: int
    member_ids: frozenset[int]
    started_on: date
    ended_on: date | None = None
    department_id: int | None = None


@dataclass(frozen=True, slots=True)
class QuarterFacts:
    id: int
    label: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True, slots=True)
class OkrFacts:
    id: int
    quarter_id: int
    objective: str
    owner_id: int | None = None
    department_id: int | None = None
    score: float | None = None
    decision: str | None = None
    created_on: date | None = None
    carried_from_id: int | None = None
    # The day it was prepared as the client recorded it (a client taken on mid-journey); None: ``created_on``.
    prepared_on: date | None = None

    @property
    def prepared(self) -> date | None:
        return self.prepared_on or self.created_on


@dataclass(frozen=True, slots=True)
class KeyResultFacts:
    id: int
    okr_id: int
    metric: str = ""


class CheckInFacts(NamedTuple):
    """A named tuple, not a frozen dataclass like the others: a portfolio holds about a million of them, and a
    tuple is built several times faster."""

    key_result_id: int
    week_of: date
    value: float
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class AppointmentFacts:
    person_id: int
    role: str  # "internal_coach" or "okr_master"
    trained: bool = False
    trained_on: date | None = None
    ready: bool = False


@dataclass(frozen=True, slots=True)
class EngagementFacts:
    engagement_id: int
    phase: str
    entered_phase_at: datetime
    now: datetime
    organization: OrganizationFacts
    coach_ids: frozenset[int] = frozenset()
    people: tuple[PersonFacts, ...] = ()
    departments: tuple[DepartmentFacts, ...] = ()
    meetings: tuple[MeetingFacts, ...] = ()
    ceo_support: tuple[CeoSupportFacts, ...] = ()
    training_sessions: tuple[TrainingSessionFacts, ...] = ()
    drafting_groups: tuple[DraftingGroupFacts, ...] = ()
    quarters: tuple[QuarterFacts, ...] = ()
    okrs: tuple[OkrFacts, ...] = ()
    key_results: tuple[KeyResultFacts, ...] = ()
    check_ins: tuple[CheckInFacts, ...] = ()
    appointments: tuple[AppointmentFacts, ...] = ()
    # Whose journey the gates judge: "pilot" (the engagement's), or "wave" (facts scoped to an expansion wave, whose
    # departments stand where the pilot's did); the reasons name it.
    scope: str = "pilot"

    @property
    def today(self) -> date:
        """The client's calendar date: records and deadlines are dated in the organization's time zone."""
        return self.local_date(self.now)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(_zone(self.organization.timezone)).date()

    def quarter(self, ordinal: int) -> QuarterFacts | None:
        """The engagement's n-th quarter (1 = Q1) by start date."""
        ordered = sorted(self.quarters, key=lambda q: (q.starts_on, q.id))
        return ordered[ordinal - 1] if 0 < ordinal <= len(ordered) else None

    def okrs_of(self, quarter: QuarterFacts) -> tuple[OkrFacts, ...]:
        return tuple(okr for okr in self.okrs if okr.quarter_id == quarter.id)

    def pilot_departments(self) -> tuple[DepartmentFacts, ...]:
        return tuple(d for d in self.departments if d.is_pilot)

    def whole_company(self, small_company_headcount: int) -> bool:
        return self.organization.headcount <= small_company_headcount

    def pilot_people(self, small_company_headcount: int) -> tuple[PersonFacts, ...]:
        """Who the pilot is for: everyone in a small company, else members of pilot departments."""
        if self.whole_company(small_company_headcount):
            return self.people
        pilot_ids = {d.id for d in self.pilot_departments()}
        return tuple(p for p in self.people if p.department_ids & pilot_ids)


def scoped_to_wave(facts: EngagementFacts, *, phase: str, entered_phase_at: datetime,
                   department_ids: frozenset[int], opened_on: date) -> EngagementFacts:
    """The facts a wave's gates read: the engagement's, seen from the wave. Its departments stand where the pilot
    departments stood (so every pilot-scoped gate kind judges the wave's departments and their members), and the
    records are those of its departments and people: training sessions they attended, their drafting groups,
    meetings, OKRs with their key results and check-ins. Its quarters are those starting on or after the day it was
    opened (quarter 1 is the wave's first quarter). Every group must have been loaded."""
    departments = tuple(replace(d, is_pilot=d.id in department_ids) for d in facts.departments)
    members = frozenset(p.id for p in facts.people if p.department_ids & department_ids)

    def ours(department_id: int | None, people: frozenset[int]) -> bool:
        return department_id in department_ids if department_id is not None else bool(people & members)

    okrs = tuple(okr for okr in facts.okrs
                 if okr.department_id in department_ids or (okr.department_id is None and okr.owner_id in members))
    key_results = tuple(kr for kr in facts.key_results if kr.okr_id in {okr.id for okr in okrs})
    key_result_ids = {kr.id for kr in key_results}
    return replace(
        facts, phase=phase, entered_phase_at=entered_phase_at, departments=departments, scope="wave",
        meetings=tuple(m for m in facts.meetings if ours(m.department_id, m.attendee_ids)),
        training_sessions=tuple(s for s in facts.training_sessions if s.attendee_ids & members),
        drafting_groups=tuple(g for g in facts.drafting_groups if ours(g.department_id, g.member_ids)),
        quarters=tuple(q for q in facts.quarters if q.starts_on >= opened_on),
        okrs=okrs, key_results=key_results,
        check_ins=tuple(c for c in facts.check_ins if c.key_result_id in key_result_ids),
    )


# The groups of facts a gate kind may read, by their field names on EngagementFacts; the engagement itself, its
# organization and the clock are always there.
FACT_GROUPS = ("coach_ids", "people", "departments", "meetings", "ceo_support", "training_sessions",
               "drafting_groups", "quarters", "okrs", "key_results", "check_ins", "appointments")


def not_loaded(group: str) -> Any:
    """The stand-in for a group of facts that was not loaded (raises ``FactsNotLoaded`` when read)."""
    if group not in FACT_GROUPS:
        raise ValueError(f"unknown group of facts {group!r}; known: {', '.join(FACT_GROUPS)}")
    stand_in = _NotLoadedSet() if group == "coach_ids" else _NotLoadedTuple()
    stand_in.group = group
    return stand_in
