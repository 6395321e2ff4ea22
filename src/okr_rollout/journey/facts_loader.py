"""Load EngagementFacts for one or ten thousand engagements in a fixed number of queries.

Plain SQL over the connection (no ORM objects, no per-engagement query): the
portfolio readiness view reads every engagement's facts at once.
"""

from __future__ import annotations

import json
from collections import defaultdict, namedtuple
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar, cast
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import namedtuple_row, tuple_row
from sqlalchemy.engine import Connection

from okr_rollout.driver import driver_errors
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

T = TypeVar("T")

_ENGAGEMENTS = """
SELECT e.id, e.phase, e.entered_phase_at, e.organization_id,
       o.name, o.headcount, o.timezone, o.mission, o.vision_1y, o.vision_5y, o.vision_10y,
       o.strategies, o.challenges, o.okr_software
FROM engagements e JOIN organizations o ON o.id = e.organization_id
"""
_COACHES = "SELECT engagement_id, person_id FROM engagement_coaches"
_PEOPLE = "SELECT p.id, p.organization_id, p.name, p.roles FROM people p"
_MEMBERSHIPS = (
    "SELECT pd.person_id, pd.department_id FROM person_departments pd JOIN people p ON p.id = pd.person_id"
)
_DEPARTMENTS = "SELECT d.id, d.organization_id, d.name, d.is_pilot, d.lead_id FROM departments d"

_MEETINGS = "SELECT id, engagement_id, kind, held_at, attendee_ids, outcomes, department_id FROM meetings"
_CEO_SUPPORT = "SELECT id, engagement_id, level, stated_on, note FROM ceo_support_statements"
_TRAINING = "SELECT id, engagement_id, held_on, hours, modules, attendee_ids FROM training_sessions"
_DRAFTING = "SELECT id, engagement_id, member_ids, started_on, ended_on, department_id FROM drafting_groups"
_QUARTERS = "SELECT id, engagement_id, label, starts_on, ends_on FROM quarters"
_OKRS = (
    "SELECT id, engagement_id, quarter_id, objective, owner_id, department_id, score, decision, created_at,"
    " carried_from_id FROM okrs"
)
_KEY_RESULTS = "SELECT id, engagement_id, okr_id, metric FROM key_results"
_CHECK_INS = "SELECT engagement_id, key_result_id, week_of, value, confidence FROM check_ins"
_APPOINTMENTS = "SELECT engagement_id, person_id, role, trained, trained_on, ready FROM appointments"

# Which rows of each table belong to the selected engagements: its own engagement column, or (people and
# departments) the organization of the selected engagements.
_BY_ENGAGEMENT = "engagement"
_BY_ORGANIZATION = "organization"


class _Statement(NamedTuple):
    sql: str
    column: str  # the column that selects the rows of the chosen engagements
    scope: str
    group: str | None  # the group of facts it reads (None: the engagement itself, always read)


_STATEMENTS = (
    _Statement(_ENGAGEMENTS, "e.id", _BY_ENGAGEMENT, None),
    _Statement(_COACHES, "engagement_id", _BY_ENGAGEMENT, "coach_ids"),
    _Statement(_PEOPLE, "p.organization_id", _BY_ORGANIZATION, "people"),
    _Statement(_MEMBERSHIPS, "p.organization_id", _BY_ORGANIZATION, "people"),
    _Statement(_DEPARTMENTS, "d.organization_id", _BY_ORGANIZATION, "departments"),
    _Statement(_MEETINGS, "engagement_id", _BY_ENGAGEMENT, "meetings"),
    _Statement(_CEO_SUPPORT, "engagement_id", _BY_ENGAGEMENT, "ceo_support"),
    _Statement(_TRAINING, "engagement_id", _BY_ENGAGEMENT, "training_sessions"),
    _Statement(_DRAFTING, "engagement_id", _BY_ENGAGEMENT, "drafting_groups"),
    _Statement(_QUARTERS, "engagement_id", _BY_ENGAGEMENT, "quarters"),
    _Statement(_OKRS, "engagement_id", _BY_ENGAGEMENT, "okrs"),
    _Statement(_KEY_RESULTS, "engagement_id", _BY_ENGAGEMENT, "key_results"),
    _Statement(_CHECK_INS, "engagement_id", _BY_ENGAGEMENT, "check_ins"),
    _Statement(_APPOINTMENTS, "engagement_id", _BY_ENGAGEMENT, "appointments"),
)
QUERIES_PER_LOAD = len(_STATEMENTS)


def load_facts(
    connection: Connection, engagement_ids: Sequence[int] | None, now: datetime,
    groups: Collection[str] | None = None,
) -> dict[int, EngagementFacts]:
    """Facts of the given engagements (all of them when ``engagement_ids`` is None), keyed by id.

    ``groups`` names the groups of facts to read (``FACT_GROUPS``; all when None): a transition reads what its
    gate reads. A group left out is a stand-in that raises ``FactsNotLoaded`` when a check reads it.

    A fixed number of statements whatever the selection, on the driver's own cursors: SQLAlchemy's execution
    and result layers would cost more than the reads (a million check-ins for the portfolio; for one
    engagement, a few small reads). On PostgreSQL they go in one pipeline, one round trip for all.
    """
    ids = None if engagement_ids is None else list(engagement_ids)
    wanted = set(FACT_GROUPS) if groups is None else set(groups)
    unknown = sorted(wanted - set(FACT_GROUPS))
    if unknown:
        raise ValueError(f"unknown groups of facts {unknown}; known: {', '.join(FACT_GROUPS)}")
    statements = tuple(s for s in _STATEMENTS if s.group is None or s.group in wanted)
    load = _pipelined if connection.dialect.name == "postgresql" else _one_by_one
    rows = dict(zip((s.sql for s in statements), load(connection, statements, ids), strict=True))
    by_id = rows[_ENGAGEMENTS]
    records = _Records(rows, {row.id: row.timezone for row in by_id})

    coaches: dict[int, set[int]] = defaultdict(set)
    for row in rows.get(_COACHES, ()):
        coaches[row.engagement_id].add(row.person_id)
    memberships: dict[int, set[int]] = defaultdict(set)
    for row in rows.get(_MEMBERSHIPS, ()):
        memberships[row.person_id].add(row.department_id)
    people: dict[int, list[PersonFacts]] = defaultdict(list)
    for row in rows.get(_PEOPLE, ()):
        people[row.organization_id].append(
            PersonFacts(row.id, row.name, frozenset(_json(row.roles)), frozenset(memberships[row.id]))
        )
    departments: dict[int, list[DepartmentFacts]] = defaultdict(list)
    for row in rows.get(_DEPARTMENTS, ()):
        departments[row.organization_id].append(DepartmentFacts(row.id, row.name, bool(row.is_pilot), row.lead_id))

    # Every group's facts, keyed by engagement (or organization); a group not loaded is its stand-in for all.
    absent = {group: not_loaded(group) for group in FACT_GROUPS if group not in wanted}
    by_engagement: dict[str, Mapping[int, object]] = {
        "coach_ids": {key: frozenset(value) for key, value in coaches.items()},
        "meetings": records.meetings, "ceo_support": records.ceo_support, "training_sessions": records.training,
        "drafting_groups": records.drafting, "quarters": records.quarters, "okrs": records.okrs,
        "key_results": records.key_results, "check_ins": records.check_ins, "appointments": records.appointments,
    }
    by_organization: dict[str, Mapping[int, object]] = {
        "people": {key: tuple(value) for key, value in people.items()},
        "departments": {key: tuple(value) for key, value in departments.items()},
    }

    def group_facts(group: str, by: Mapping[int, object], key: int) -> object:
        if group in absent:
            return absent[group]
        return by.get(key, frozenset() if group == "coach_ids" else ())

    facts: dict[int, EngagementFacts] = {}
    for row in by_id:
        organization = OrganizationFacts(
            id=row.organization_id,
            name=row.name,
            headcount=row.headcount,
            timezone=row.timezone,
            mission=row.mission,
            vision_1y=row.vision_1y,
            vision_5y=row.vision_5y,
            vision_10y=row.vision_10y,
            strategies=tuple(_json(row.strategies)),
            challenges=tuple(_json(row.challenges)),
            okr_software=row.okr_software,
        )
        of_groups: dict[str, Any] = {group: group_facts(group, by, row.id) for group, by in by_engagement.items()}
        for group, by in by_organization.items():
            of_groups[group] = group_facts(group, by, row.organization_id)
        facts[row.id] = EngagementFacts(
            engagement_id=row.id,
            phase=row.phase,
            entered_phase_at=_utc(row.entered_phase_at),
            now=now,
            organization=organization,
            **of_groups,
        )
    return facts


class _Records:
    """Every record table, one query each, grouped by engagement."""

    def __init__(self, rows: dict[str, Sequence[Any]], timezones: dict[int, str]) -> None:
        (meeting_rows, ceo_rows, training_rows, drafting_rows, quarter_rows, okr_rows, key_result_rows,
         check_in_rows, appointment_rows) = (rows.get(sql, ()) for sql in (
            _MEETINGS, _CEO_SUPPORT, _TRAINING, _DRAFTING, _QUARTERS, _OKRS, _KEY_RESULTS, _CHECK_INS, _APPOINTMENTS))

        def grouped(table: Sequence[Any], build: Callable[[Any], T]) -> dict[int, tuple[T, ...]]:
            found: dict[int, list[T]] = defaultdict(list)
            for row in table:
                found[row.engagement_id].append(build(row))
            return {key: tuple(value) for key, value in found.items()}

        self.meetings = grouped(meeting_rows, lambda r: MeetingFacts(
            r.id, r.kind, _utc(r.held_at), frozenset(_json(r.attendee_ids)), frozenset(_json(r.outcomes)),
            r.department_id))
        self.ceo_support = grouped(ceo_rows, lambda r: CeoSupportFacts(r.level, _day(r.stated_on), r.note, r.id))
        self.training = grouped(training_rows, lambda r: TrainingSessionFacts(
            r.id, _day(r.held_on), float(r.hours), frozenset(_json(r.modules)), frozenset(_json(r.attendee_ids))))
        self.drafting = grouped(drafting_rows, lambda r: DraftingGroupFacts(
            r.id, frozenset(_json(r.member_ids)), _day(r.started_on),
            _day(r.ended_on) if r.ended_on is not None else None, r.department_id))
        self.quarters = grouped(quarter_rows, lambda r: QuarterFacts(
            r.id, r.label, _day(r.starts_on), _day(r.ends_on)))
        self.okrs = grouped(okr_rows, lambda r: OkrFacts(
            r.id, r.quarter_id, r.objective, r.owner_id, r.department_id,
            float(r.score) if r.score is not None else None, r.decision,
            _utc(r.created_at).astimezone(ZoneInfo(timezones.get(r.engagement_id) or "UTC")).date(),
            r.carried_from_id))
        self.key_results = grouped(key_result_rows, lambda r: KeyResultFacts(r.id, r.okr_id, r.metric))
        # The largest table by far (a row per key result per week): read positionally, without per-row lookups.
        check_ins: dict[int, list[CheckInFacts]] = defaultdict(list)
        for engagement_id, key_result_id, week_of, value, confidence in check_in_rows:
            check_ins[engagement_id].append(CheckInFacts(key_result_id, _day(week_of), value, confidence))
        self.check_ins = {key: tuple(value) for key, value in check_ins.items()}
        self.appointments = grouped(appointment_rows, lambda r: AppointmentFacts(
            r.person_id, r.role, bool(r.trained), _day(r.trained_on) if r.trained_on is not None else None,
            bool(r.ready)))


def _where(column: str, scope: str, ids_placeholder: str) -> str:
    if scope == _BY_ORGANIZATION:
        return f" WHERE {column} IN (SELECT organization_id FROM engagements WHERE id {ids_placeholder})"
    return f" WHERE {column} {ids_placeholder}"


def _one_by_one(
    connection: Connection, statements: Sequence[_Statement], ids: list[int] | None
) -> list[Sequence[Any]]:
    """SQLite: every statement on the driver's own cursor, inside the connection's transaction (SQLAlchemy's
    execution and result layers cost several times what SQLite itself takes for such small reads)."""
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    parameters = tuple(ids or ())
    placeholders = f"IN ({', '.join('?' * len(parameters))})"
    results: list[Sequence[Any]] = []
    for statement, column, scope, _ in statements:
        sql = statement if ids is None else statement + _where(column, scope, placeholders)
        with driver_errors(connection, sql, parameters):  # a locked database is still a 503
            cursor = driver_connection.execute(sql, parameters)
            rows = cursor.fetchall()
        if statement is not _CHECK_INS:  # check-ins are read positionally
            rows = list(map(_row_type(tuple(d[0] for d in cursor.description))._make, rows))
        results.append(rows)
    return results


@lru_cache(maxsize=64)
def _row_type(columns: tuple[str, ...]) -> Any:
    return namedtuple("Row", columns)


def _pipelined(
    connection: Connection, statements: Sequence[_Statement], ids: list[int] | None
) -> list[Sequence[Any]]:
    """Every statement sent at once in psycopg's pipeline mode, inside the connection's transaction; rows as
    psycopg makes them (check-ins, read positionally, as plain tuples), without SQLAlchemy's result layer."""
    driver_connection = cast("psycopg.Connection[Any]", connection.connection.driver_connection)
    with driver_errors(connection, _ENGAGEMENTS, {"ids": ids}):  # an outage is still a 503
        with driver_connection.pipeline():
            cursors = []
            for sql, column, scope, _ in statements:
                cursor = driver_connection.cursor(row_factory=tuple_row if sql is _CHECK_INS else namedtuple_row)
                if ids is None:
                    cursor.execute(sql)
                else:
                    cursor.execute(sql + _where(column, scope, "= ANY(%(ids)s)"), {"ids": ids})
                cursors.append(cursor)
        return [cursor.fetchall() for cursor in cursors]


def _json(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, list) else []
    return list(value)


@lru_cache(maxsize=8192)  # a portfolio has few distinct dates and very many rows carrying them
def _day(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
