"""Every statement the read models of the pages and of ``GET /api/v1/portfolio`` run: the portfolio's rows and
their summaries, and one engagement's tasks, history, organization, people and departments.

Visibility is always ``auth.visibility.engagement_visibility`` and an open task always
``engagements.queries.is_open_task``: these statements combine the rules, they never restate them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    ScalarSelect,
    Select,
    Subquery,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from okr_rollout.db import UtcDateTime
from okr_rollout.engagements.queries import is_open_task
from okr_rollout.journey.health import URGENCY
from okr_rollout.models import (
    Appointment,
    Department,
    Engagement,
    EngagementCoach,
    Event,
    Organization,
    Person,
    ReadinessSnapshot,
    Task,
    TrainingSession,
)

# --- the portfolio -----------------------------------------------------------------------------------------------


def _overdue(now: datetime) -> ScalarSelect[int]:
    """Per engagement (correlated): how many of its open tasks are overdue at ``now``."""
    return (select(func.count(Task.id)).where(is_open_task(), Task.due_at < now)
            .correlate(Engagement).scalar_subquery())


def _next_due() -> ScalarSelect[datetime]:
    """Per engagement (correlated): the soonest due date of its open tasks."""
    return select(func.min(Task.due_at)).where(is_open_task()).correlate(Engagement).scalar_subquery()


def _last_activity() -> ScalarSelect[datetime]:
    """Per engagement (correlated): when its latest event happened."""
    return (select(func.max(Event.occurred_at)).where(Event.engagement_id == Engagement.id)
            .correlate(Engagement).scalar_subquery())


def days_since(dialect: str, now: datetime, moment: ColumnElement[datetime] | InstrumentedAttribute[datetime]
               ) -> ColumnElement[int]:
    """Whole days from ``moment`` to ``now``, as ``timedelta.days`` counts them (to the millisecond)."""
    at = literal(now, UtcDateTime())
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", at - moment) / 86400), Integer)
    milliseconds = func.round((func.julianday(at) - func.julianday(moment)) * 86_400_000)
    return cast(func.floor(milliseconds / 86_400_000.0), Integer)


def portfolio_rows(visible: ColumnElement[bool], now: datetime, dialect: str,
                   phase_index: ColumnElement[int] | None, *, tasks: bool, activity: bool) -> Subquery:
    """One row per engagement ``visible`` lets through, with what the portfolio filters on and sorts by: the
    gate's share of criteria met comes from the kept readiness (1.0 when none is kept yet or in a final phase).
    The task and activity summaries are read per engagement, so they are columns only when ``tasks`` or
    ``activity`` asks (a sort or filter on them); otherwise ``page_details`` reads them for the page's rows."""
    ratio = case((ReadinessSnapshot.gate_total > 0,
                  cast(ReadinessSnapshot.gate_passed, Float) / ReadinessSnapshot.gate_total), else_=1.0)
    columns: list[ColumnElement[Any]] = [
        Engagement.id.label("engagement_id"), Engagement.organization_id.label("organization_id"),
        Organization.name.label("organization"), Organization.timezone.label("timezone"),
        Engagement.phase.label("phase"), Engagement.playbook_sha256.label("playbook_sha256"),
        func.lower(Organization.name).label("organization_key"),
        days_since(dialect, now, Engagement.entered_phase_at).label("days_in_phase"), ratio.label("gate_ratio"),
        ReadinessSnapshot.health.label("health"), health_rank().label("health_rank")]
    if phase_index is not None:  # a sort by phase: the phase's place in the journey
        columns.append(phase_index.label("phase_index"))
    if tasks:
        columns += [_overdue(now).label("overdue"), _next_due().label("next_due")]
    if activity:
        columns.append(_last_activity().label("last_activity"))
    return (select(*columns)
            .join(Organization, Organization.id == Engagement.organization_id)
            .outerjoin(ReadinessSnapshot, ReadinessSnapshot.engagement_id == Engagement.id)
            .where(visible).subquery("portfolio_rows"))


def health_rank() -> ColumnElement[int]:
    """The urgency of an engagement's kept health: 0 stuck, 1 at risk, 2 ready to move, 3 on track, 4 not yet
    evaluated (``URGENCY``'s order)."""
    return case({status: rank for rank, status in enumerate(URGENCY)}, value=ReadinessSnapshot.health,
                else_=len(URGENCY))


def phase_health_counts(visible: ColumnElement[bool]) -> Select[str, str, str | None, int]:
    """(pinned playbook, phase, kept health status, engagements) of the engagements ``visible`` lets through."""
    return (select(Engagement.playbook_sha256, Engagement.phase, ReadinessSnapshot.health, func.count())
            .outerjoin(ReadinessSnapshot, ReadinessSnapshot.engagement_id == Engagement.id).where(visible)
            .group_by(Engagement.playbook_sha256, Engagement.phase, ReadinessSnapshot.health))


def page_details(engagement_ids: Collection[int], now: datetime
                 ) -> Select[int, int, datetime, datetime, str, datetime | None, bool, bool | None, int, int,
                             list[dict[str, Any]]]:
    """For the rows of a page: overdue tasks, next due date, last activity, and the kept readiness of the first
    transition (its phase, whether it was evaluated since the last write, the gate's verdict and counts) and the
    kept health's signals."""
    return (select(Engagement.id.label("engagement_id"), _overdue(now).label("overdue"),
                   _next_due().label("next_due"), _last_activity().label("last_activity"),
                   ReadinessSnapshot.phase.label("kept_phase"), ReadinessSnapshot.evaluated_at, ReadinessSnapshot.stale,
                   ReadinessSnapshot.gate_met, ReadinessSnapshot.gate_passed, ReadinessSnapshot.gate_total,
                   ReadinessSnapshot.health_reasons)
            .outerjoin(ReadinessSnapshot, ReadinessSnapshot.engagement_id == Engagement.id)
            .where(Engagement.id.in_(list(engagement_ids))))


def phase_order(pins_phases: dict[tuple[str, str], int], otherwise: int) -> ColumnElement[int]:
    """The index of each engagement's phase in its own playbook, as a CASE over (pinned playbook, phase)."""
    if not pins_phases:
        return literal(otherwise, Integer)
    by_phase: dict[str, int] = {}
    for (_, phase), index in pins_phases.items():
        by_phase.setdefault(phase, index)
    if all(by_phase[phase] == index for (_, phase), index in pins_phases.items()):
        return case(by_phase, value=Engagement.phase, else_=otherwise)  # every pinned playbook agrees
    return case(*(((Engagement.playbook_sha256 == sha256) & (Engagement.phase == phase), index)
                  for (sha256, phase), index in pins_phases.items()), else_=otherwise)


def pins_and_phases(visible: ColumnElement[bool]) -> Select[str, str]:
    """The (pinned playbook, phase) pairs of the engagements ``visible`` lets through."""
    return select(Engagement.playbook_sha256, Engagement.phase).where(visible).distinct()


def count_rows(rows: Subquery, where: Sequence[ColumnElement[bool]]) -> Select[int]:
    return select(func.count()).select_from(rows).where(*where)


def page_of_rows(rows: Subquery, where: Sequence[ColumnElement[bool]], order_by: Sequence[ColumnElement[Any]],
                 limit: int | None) -> Select[Any]:
    statement = select(rows).where(*where).order_by(*order_by)
    return statement if limit is None else statement.limit(limit)


# --- one engagement and its organization ------------------------------------------------------------------------


def visible_engagements_with_organization(visible: ColumnElement[bool], offset: int = 0, limit: int | None = None
                                          ) -> Select[Engagement, Organization]:
    """The engagements ``visible`` lets through with their organizations, by organization name, a page of them."""
    statement = (select(Engagement, Organization).join(Organization, Organization.id == Engagement.organization_id)
                 .where(visible).order_by(Organization.name, Engagement.id).offset(offset))
    return statement if limit is None else statement.limit(limit)


def count_visible_engagements(visible: ColumnElement[bool]) -> Select[int]:
    return select(func.count()).select_from(Engagement).where(visible)


def open_tasks_of(engagement_ids: Collection[int]) -> Select[Task]:
    """The open tasks of several engagements (without their checklists), soonest due first."""
    return (select(Task).join(Engagement, is_open_task()).where(Engagement.id.in_(list(engagement_ids)))
            .order_by(Task.due_at, Task.id))


def done_tasks_of_current_phase(engagement_id: int) -> Select[Task]:
    """The tasks of the engagement's current phase already done, with their checklists, oldest round first."""
    return (select(Task).options(selectinload(Task.checklist))
            .join(Engagement, (Engagement.id == Task.engagement_id) & (Engagement.phase == Task.phase))
            .where(Engagement.id == engagement_id, Task.done.is_(True), Task.obsolete_at.is_(None))
            .order_by(Task.round, Task.due_at, Task.id))


def history(engagement_id: int, limit: int) -> Select[Event]:
    """The engagement's latest events, newest first."""
    return select(Event).where(Event.engagement_id == engagement_id).order_by(Event.id.desc()).limit(limit)


def history_page(engagement_id: int, offset: int, limit: int) -> Select[Event]:
    """A page of the engagement's events, newest first."""
    return (select(Event).where(Event.engagement_id == engagement_id).order_by(Event.id.desc())
            .offset(offset).limit(limit))


def history_count(engagement_id: int) -> Select[int]:
    return select(func.count()).select_from(Event).where(Event.engagement_id == engagement_id)


def departments_of(organization_id: int) -> Select[Department]:
    return select(Department).where(Department.organization_id == organization_id).order_by(Department.name)


def people_of(organization_id: int) -> Select[Person]:
    return select(Person).where(Person.organization_id == organization_id).order_by(Person.name, Person.id)


def coaches_of(engagement_id: int) -> Select[Person]:
    """The engagement's external coaches."""
    return (select(Person).join(EngagementCoach, EngagementCoach.person_id == Person.id)
            .where(EngagementCoach.engagement_id == engagement_id).order_by(Person.name))


def internal_trainers_of(engagement_id: int) -> Select[Person]:
    """The people of the client who may give a training: its appointed internal coaches and OKR Master, and anyone
    already recorded as a trainer (an edited record keeps its trainer among the choices)."""
    appointed = select(Appointment.person_id).where(Appointment.engagement_id == engagement_id,
                                                    Appointment.voided_at.is_(None))
    trained = select(TrainingSession.trainer_id).where(TrainingSession.engagement_id == engagement_id,
                                                      TrainingSession.trainer_id.is_not(None))
    return (select(Person).where(or_(Person.id.in_(appointed), Person.id.in_(trained)))
            .order_by(Person.name, Person.id))


def people_matching(organization_id: int, engagement_id: int | None, pattern: str, limit: int) -> Select[Person]:
    """People of the organization (and, given ``engagement_id``, that engagement's coaches) whose name contains
    ``pattern`` whatever its case, by name; ``limit`` of them. LIKE's own characters in the pattern match themselves."""
    escaped = pattern.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    among = Person.organization_id == organization_id
    if engagement_id is not None:
        among = among | Person.id.in_(select(EngagementCoach.person_id)
                                      .where(EngagementCoach.engagement_id == engagement_id))
    return (select(Person).where(among, func.lower(Person.name).like(f"%{escaped}%", escape="\\"))
            .order_by(Person.name, Person.id).limit(limit))


def names_of_people(organization_id: int, coach_ids: Collection[int]) -> Select[int, str]:
    """The names of the organization's people and of the given coaches."""
    return select(Person.id, Person.name).where(
        (Person.organization_id == organization_id) | Person.id.in_(list(coach_ids)))
