"""Load ``EngagementFacts`` for one or ten thousand engagements in a fixed number of queries.

Each group of facts is read by one statement built from its model's ``Table``: the columns are those the facts
type names (``fields(MeetingFacts)`` -> ``meetings.c[name]``), so a column's name is written once, in the model,
and its value comes back through its type's own conversion (a timestamp as an aware UTC datetime, a JSON list
as a list, a date as a date, on SQLite as on PostgreSQL).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, ColumnElement, Connection, DateTime, Select, Table, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON

from okr_rollout.journey.facts import (
    FACT_GROUPS,
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
    not_loaded,
)
from okr_rollout.models import (
    Appointment,
    CeoSupportStatement,
    CheckIn,
    Department,
    DraftingGroup,
    Engagement,
    EngagementCoach,
    KeyResult,
    Meeting,
    Okr,
    Organization,
    Person,
    PersonDepartment,
    Quarter,
    TrainingSession,
)


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


_ENGAGEMENTS, _ORGANIZATIONS, _PEOPLE = _table(Engagement), _table(Organization), _table(Person)
_MEMBERSHIPS, _COACHES = _table(PersonDepartment), _table(EngagementCoach)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _converter(field_type: str, column: ColumnElement[Any]) -> Callable[[Any, str], Any] | None:
    """How a column's value (already converted by its type) becomes the facts' field: a JSON list a frozenset or a
    tuple, a timestamp read as a date the client's calendar date (``zone``). None: taken as it is."""
    if isinstance(column.type, JSON):
        kind = frozenset if field_type.startswith("frozenset") else tuple
        return lambda value, _zone_name: kind(value or ())
    timestamp = isinstance(column.type, DateTime) or isinstance(getattr(column.type, "impl", None), DateTime)
    if timestamp and field_type.startswith("date") and not field_type.startswith("datetime"):
        return lambda value, zone_name: value.astimezone(_zone(zone_name)).date()
    return None


def _fields(facts: type) -> list[tuple[str, str]]:
    """The fields of a facts type (a dataclass, or a NamedTuple such as ``CheckInFacts``) with their types."""
    if hasattr(facts, "_fields"):
        return [(name, str(facts.__annotations__[name])) for name in facts._fields]
    return [(field.name, str(field.type)) for field in fields(facts)]


@dataclass(frozen=True)
class _Group:
    """One group of facts: the rows of ``table`` belonging to the chosen engagements, each made a ``facts`` record.

    ``renamed`` gives the column of a field whose name is not the column's."""

    name: str
    table: Table
    facts: type
    renamed: tuple[tuple[str, str], ...] = ()

    @cached_property
    def columns(self) -> list[ColumnElement[Any]]:
        renamed = dict(self.renamed)
        return [self.table.c[renamed.get(name, name)] for name, _ in _fields(self.facts)]

    def statement(self, selected: bool) -> Select[Any]:
        statement = select(self.table.c.engagement_id, *self.columns)
        if "voided_at" in self.table.c:  # a voided record stays, but no gate counts it
            statement = statement.where(self.table.c.voided_at.is_(None))
        return statement.where(self.table.c.engagement_id.in_(_IDS)) if selected else statement

    @cached_property
    def converters(self) -> list[Callable[[Any, str], Any] | None] | None:
        """Each field's conversion (see ``_converter``); None when every value is taken as it comes. Worked out
        once per group: a transition loads the facts of one engagement, and this took a tenth of it."""
        converters = [_converter(field_type, column)
                      for (_, field_type), column in zip(_fields(self.facts), self.columns, strict=True)]
        return converters if any(converters) else None

    def grouped(self, rows: Sequence[Any], zones: dict[int, str]) -> dict[int, tuple[Any, ...]]:
        """The facts of ``rows`` (each its engagement's id, then the facts' fields), by engagement."""
        found: dict[int, list[Any]] = defaultdict(list)
        converters = self.converters
        facts = self.facts
        if converters is None:  # check-ins, the largest table by far, among them: built at once
            make = facts._make if hasattr(facts, "_make") else (lambda values: facts(*values))
            for row in rows:
                found[row[0]].append(make(row[1:]))
        else:
            for row in rows:
                zone = zones.get(row[0], "UTC")
                found[row[0]].append(facts(*(value if convert is None else convert(value, zone)
                                             for convert, value in zip(converters, row[1:], strict=True))))
        return {key: tuple(value) for key, value in found.items()}


# Every record group read per engagement (voided records left out: see ``_Group.statement``); the engagement
# (with its organization), coaches, people and departments are read below.
_GROUPS = (
    _Group("meetings", _table(Meeting), MeetingFacts),
    _Group("ceo_support", _table(CeoSupportStatement), CeoSupportFacts, (("recorded", "id"),)),
    _Group("training_sessions", _table(TrainingSession), TrainingSessionFacts),
    _Group("drafting_groups", _table(DraftingGroup), DraftingGroupFacts),
    _Group("quarters", _table(Quarter), QuarterFacts),
    _Group("okrs", _table(Okr), OkrFacts, (("created_on", "created_at"),)),
    _Group("key_results", _table(KeyResult), KeyResultFacts),
    _Group("check_ins", _table(CheckIn), CheckInFacts),
    _Group("appointments", _table(Appointment), AppointmentFacts),
)
_ORGANIZATION_GROUPS = ("people", "departments")
# The engagement, coaches, people (and their departments: two statements), departments, and each record group.
QUERIES_PER_LOAD = 1 + 1 + 2 + 1 + len(_GROUPS)

_ORGANIZATION_COLUMNS = [_ORGANIZATIONS.c[name] for name, _ in _fields(OrganizationFacts)]
_ORGANIZATION_CONVERTERS = [_converter(field_type, column)
                            for (_, field_type), column in zip(_fields(OrganizationFacts), _ORGANIZATION_COLUMNS,
                                                               strict=True)]
# A person's departments are their memberships, read by a statement of their own.
_PERSON_COLUMNS = [_PEOPLE.c[name] for name, _ in _fields(PersonFacts) if name != "department_ids"]
_DEPARTMENT_COLUMNS = [_table(Department).c[name] for name, _ in _fields(DepartmentFacts)]


# The chosen engagements' ids, given at execution.
_IDS: BindParameter[list[int]] = bindparam("engagement_ids", expanding=True)


def _engagements(selected: bool) -> Select[Any]:
    statement = (select(_ENGAGEMENTS.c.id, _ENGAGEMENTS.c.phase, _ENGAGEMENTS.c.entered_phase_at,
                        *_ORGANIZATION_COLUMNS)
                 .join_from(_ENGAGEMENTS, _ORGANIZATIONS, _ORGANIZATIONS.c.id == _ENGAGEMENTS.c.organization_id))
    return statement.where(_ENGAGEMENTS.c.id.in_(_IDS)) if selected else statement


def _of_organizations(statement: Select[Any], column: ColumnElement[int], selected: bool) -> Select[Any]:
    if not selected:
        return statement
    return statement.where(column.in_(select(_ENGAGEMENTS.c.organization_id).where(_ENGAGEMENTS.c.id.in_(_IDS))))


@lru_cache(maxsize=256)
def statements(selected: bool, groups: frozenset[str] = frozenset(FACT_GROUPS)) -> dict[str, Select[Any]]:
    """Every statement a load of ``groups`` runs, by what it reads (the benchmark's baseline runs them too); when
    ``selected``, of the engagements ``engagement_ids`` given at execution, else of all. Built once each: a
    transition loads the facts of one engagement."""
    found: dict[str, Select[Any]] = {"engagements": _engagements(selected)}
    if "coach_ids" in groups:
        coaches = select(_COACHES.c.engagement_id, _COACHES.c.person_id)
        found["coach_ids"] = coaches.where(_COACHES.c.engagement_id.in_(_IDS)) if selected else coaches
    if "people" in groups:
        found["people"] = _of_organizations(select(_PEOPLE.c.organization_id, *_PERSON_COLUMNS),
                                            _PEOPLE.c.organization_id, selected)
        found["memberships"] = _of_organizations(
            select(_MEMBERSHIPS.c.person_id, _MEMBERSHIPS.c.department_id)
            .join_from(_MEMBERSHIPS, _PEOPLE, _PEOPLE.c.id == _MEMBERSHIPS.c.person_id),
            _PEOPLE.c.organization_id, selected)
    if "departments" in groups:
        departments = _table(Department)
        found["departments"] = _of_organizations(select(departments.c.organization_id, *_DEPARTMENT_COLUMNS),
                                                 departments.c.organization_id, selected)
    for group in _GROUPS:
        if group.name in groups:
            found[group.name] = group.statement(selected)
    return found


def load_facts(
    connection_or_session: Connection | Session, engagement_ids: Sequence[int] | None, now: datetime,
    groups: Collection[str] | None = None,
) -> dict[int, EngagementFacts]:
    """Facts of the given engagements (all of them when ``engagement_ids`` is None), keyed by id.

    ``groups`` names the groups of facts to read (``FACT_GROUPS``; all when None): a transition reads what its
    gate reads. A group left out is a stand-in that raises ``FactsNotLoaded`` when a check reads it. A fixed
    number of statements whatever the selection: at most ``QUERIES_PER_LOAD``."""
    wanted = set(FACT_GROUPS) if groups is None else set(groups)
    unknown = sorted(wanted - set(FACT_GROUPS))
    if unknown:
        raise ValueError(f"unknown groups of facts {unknown}; known: {', '.join(FACT_GROUPS)}")
    connection = (connection_or_session.connection() if isinstance(connection_or_session, Session)
                  else connection_or_session)
    selected = engagement_ids is not None
    parameters = {"engagement_ids": list(engagement_ids)} if engagement_ids is not None else {}
    rows = {name: connection.execute(statement, parameters).all()
            for name, statement in statements(selected, frozenset(wanted)).items()}

    zones: dict[int, str] = {}
    organization_of: dict[int, int] = {}
    engagements = []
    organization_width = len(_ORGANIZATION_COLUMNS)
    for engagement_id, phase, entered_phase_at, *organization_values in rows["engagements"]:
        organization = OrganizationFacts(*(
            value if convert is None else convert(value, "UTC")
            for convert, value in zip(_ORGANIZATION_CONVERTERS, organization_values[:organization_width],
                                      strict=True)))
        zones[engagement_id] = organization.timezone or "UTC"
        organization_of[engagement_id] = organization.id
        engagements.append((engagement_id, phase, entered_phase_at, organization))

    by_engagement: dict[str, dict[int, Any]] = {}
    if "coach_ids" in wanted:
        coaches: dict[int, set[int]] = defaultdict(set)
        for engagement_id, person_id in rows["coach_ids"]:
            coaches[engagement_id].add(person_id)
        by_engagement["coach_ids"] = {key: frozenset(value) for key, value in coaches.items()}
    for group in _GROUPS:
        if group.name in wanted:
            by_engagement[group.name] = group.grouped(rows[group.name], zones)

    by_organization: dict[str, dict[int, Any]] = {}
    if "people" in wanted:
        memberships: dict[int, set[int]] = defaultdict(set)
        for person_id, department_id in rows["memberships"]:
            memberships[person_id].add(department_id)
        people: dict[int, list[PersonFacts]] = defaultdict(list)
        for organization_id, person_id, name, roles in rows["people"]:
            people[organization_id].append(PersonFacts(person_id, name, frozenset(roles or ()),
                                                       frozenset(memberships[person_id])))
        by_organization["people"] = {key: tuple(value) for key, value in people.items()}
    if "departments" in wanted:
        departments: dict[int, list[DepartmentFacts]] = defaultdict(list)
        for organization_id, *values in rows["departments"]:
            departments[organization_id].append(DepartmentFacts(*values))
        by_organization["departments"] = {key: tuple(value) for key, value in departments.items()}

    absent = {group: not_loaded(group) for group in FACT_GROUPS if group not in wanted}
    facts: dict[int, EngagementFacts] = {}
    for engagement_id, phase, entered_phase_at, organization in engagements:
        of_groups: dict[str, Any] = dict(absent)
        for name, by in by_engagement.items():
            of_groups[name] = by.get(engagement_id, frozenset() if name == "coach_ids" else ())
        for name, by in by_organization.items():
            of_groups[name] = by.get(organization_of[engagement_id], ())
        facts[engagement_id] = EngagementFacts(engagement_id=engagement_id, phase=phase,
                                               entered_phase_at=entered_phase_at, now=now, organization=organization,
                                               **of_groups)
    return facts
