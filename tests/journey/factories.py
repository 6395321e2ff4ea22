"""Small builders of EngagementFacts for the gate-check tests, and one assertion helper.

Every builder takes the few values a test cares about and fills the rest with
plain defaults, so that a test reads as the situation it describes. Time is
never read from the machine: ``NOW`` (or a test's own ``now``) goes into
``EngagementFacts.now``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from okr_rollout.journey.criteria import CriterionResult
from okr_rollout.journey.facts import (
    AppointmentFacts,
    CeoSupportFacts,
    CheckInFacts,
    DepartmentFacts,
    DraftingGroupFacts,
    EngagementFacts,
    KeyResultFacts,
    MeetingFacts,
    OkrFacts,
    OrganizationFacts,
    PersonFacts,
    QuarterFacts,
    TrainingSessionFacts,
)

NOW = datetime(2025, 3, 15, 10, 0, tzinfo=UTC)
TODAY = NOW.date()

#: Above the usual small-company threshold of 6, so a pilot must be chosen.
BIG = 40
SMALL_COMPANY = 6


def at(day: date, hour: int = 10) -> datetime:
    """A timezone-aware moment on ``day``."""
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def organization(headcount: int = BIG, **fields: Any) -> OrganizationFacts:
    return OrganizationFacts(id=1, name="Acme Tea Co.", headcount=headcount, **fields)


def person(pid: int, *department_ids: int, roles: Iterable[str] = ()) -> PersonFacts:
    return PersonFacts(
        id=pid, name=f"Person {pid}", roles=frozenset(roles), department_ids=frozenset(department_ids)
    )


def department(did: int, *, pilot: bool = True, lead_id: int | None = None) -> DepartmentFacts:
    return DepartmentFacts(id=did, name=f"Department {did}", is_pilot=pilot, lead_id=lead_id)


def meeting(
    mid: int,
    kind: str,
    held_at: datetime,
    *,
    attendees: Iterable[int] = (),
    outcomes: Iterable[str] = (),
    department_id: int | None = None,
) -> MeetingFacts:
    return MeetingFacts(
        id=mid,
        kind=kind,
        held_at=held_at,
        attendee_ids=frozenset(attendees),
        outcomes=frozenset(outcomes),
        department_id=department_id,
    )


def ceo(level: str, stated_on: date) -> CeoSupportFacts:
    return CeoSupportFacts(level=level, stated_on=stated_on)


def session(
    sid: int, held_on: date, hours: float, modules: Iterable[str], attendees: Iterable[int]
) -> TrainingSessionFacts:
    return TrainingSessionFacts(
        id=sid, held_on=held_on, hours=hours, modules=frozenset(modules), attendee_ids=frozenset(attendees)
    )


def group(
    gid: int,
    members: Iterable[int],
    started_on: date,
    ended_on: date | None = None,
    department_id: int | None = None,
) -> DraftingGroupFacts:
    return DraftingGroupFacts(
        id=gid,
        member_ids=frozenset(members),
        started_on=started_on,
        ended_on=ended_on,
        department_id=department_id,
    )


def quarter(qid: int, starts_on: date, ends_on: date, label: str | None = None) -> QuarterFacts:
    return QuarterFacts(id=qid, label=label or f"Q{qid}", starts_on=starts_on, ends_on=ends_on)


def okr(
    oid: int,
    quarter_id: int,
    *,
    owner_id: int | None = None,
    department_id: int | None = None,
    score: float | None = None,
    decision: str | None = None,
    created_on: date | None = None,
) -> OkrFacts:
    return OkrFacts(
        id=oid,
        quarter_id=quarter_id,
        objective=f"Objective {oid}",
        owner_id=owner_id,
        department_id=department_id,
        score=score,
        decision=decision,
        created_on=created_on,
    )


def key_result(krid: int, okr_id: int) -> KeyResultFacts:
    return KeyResultFacts(id=krid, okr_id=okr_id, metric=f"metric {krid}")


def check_in(key_result_id: int, week_of: date, value: float = 1.0) -> CheckInFacts:
    return CheckInFacts(key_result_id=key_result_id, week_of=week_of, value=value)


def appointment(pid: int, role: str, *, trained: bool = False, ready: bool = False) -> AppointmentFacts:
    return AppointmentFacts(person_id=pid, role=role, trained=trained, ready=ready)


def facts(
    *,
    now: datetime = NOW,
    headcount: int = BIG,
    org: OrganizationFacts | None = None,
    phase: str = "somewhere",
    **collections: Iterable[Any],
) -> EngagementFacts:
    """An engagement snapshot; keyword collections (``people=[...]``) become tuples.

    ``coach_ids`` becomes a frozenset; everything else keeps the field's own type.
    """
    values: dict[str, Any] = {}
    for name, items in collections.items():
        values[name] = frozenset(items) if name == "coach_ids" else tuple(items)
    return EngagementFacts(
        engagement_id=7,
        phase=phase,
        entered_phase_at=now - timedelta(days=30),
        now=now,
        organization=org if org is not None else organization(headcount),
        **values,
    )


def pilot_company(
    *, headcount: int = BIG, pilot_people: Iterable[int], other_people: Iterable[int] = ()
) -> dict[str, Any]:
    """People and departments: pilot department 10 holds ``pilot_people``, non-pilot department 20 the rest.

    Returns keyword arguments for :func:`facts`.
    """
    return {
        "headcount": headcount,
        "departments": [department(10, pilot=True), department(20, pilot=False)],
        "people": [person(p, 10) for p in pilot_people] + [person(p, 20) for p in other_people],
    }


def assert_result(
    result: CriterionResult,
    *,
    passed: bool,
    en: str,
    evidence: Mapping[str, Any] | None = None,
) -> None:
    """The verdict, a fragment of the English reason, a real zh-TW reason, and the evidence values."""
    assert result.passed is passed, f"expected passed={passed}: {result.reason.en}"
    assert en in result.reason.en, f"{en!r} not in {result.reason.en!r}"
    assert result.reason.zh_tw.strip(), "the zh-TW reason is empty"
    assert result.reason.zh_tw != result.reason.en, "the zh-TW reason is just the English one"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in result.reason.zh_tw), "the zh-TW reason has no Chinese"
    for key, expected in (evidence or {}).items():
        assert key in result.evidence, f"evidence lacks {key!r}: {dict(result.evidence)}"
        assert result.evidence[key] == expected, f"evidence[{key!r}] = {result.evidence[key]!r}, not {expected!r}"
