"""Load EngagementFacts for one or ten thousand engagements in a fixed number of queries.

Plain SQL over the connection (no ORM objects, no per-engagement query): the
portfolio readiness view reads every engagement's facts at once.
"""

from __future__ import annotations

import json
from collections import defaultdict, namedtuple
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import namedtuple_row, tuple_row
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

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
_STATEMENTS = (
    (_ENGAGEMENTS, "e.id", _BY_ENGAGEMENT),
    (_COACHES, "engagement_id", _BY_ENGAGEMENT),
    (_PEOPLE, "p.organization_id", _BY_ORGANIZATION),
    (_MEMBERSHIPS, "p.organization_id", _BY_ORGANIZATION),
    (_DEPARTMENTS, "d.organization_id", _BY_ORGANIZATION),
    (_MEETINGS, "engagement_id", _BY_ENGAGEMENT),
    (_CEO_SUPPORT, "engagement_id", _BY_ENGAGEMENT),
    (_TRAINING, "engagement_id", _BY_ENGAGEMENT),
    (_DRAFTING, "engagement_id", _BY_ENGAGEMENT),
    (_QUARTERS, "engagement_id", _BY_ENGAGEMENT),
    (_OKRS, "engagement_id", _BY_ENGAGEMENT),
    (_KEY_RESULTS, "engagement_id", _BY_ENGAGEMENT),
    (_CHECK_INS, "engagement_id", _BY_ENGAGEMENT),
    (_APPOINTMENTS, "engagement_id", _BY_ENGAGEMENT),
)
QUERIES_PER_LOAD = len(_STATEMENTS)


def load_facts(
    connection: Connection, engagement_ids: Sequence[int] | None, now: datetime
) -> dict[int, EngagementFacts]:
    """Facts of the given engagements (all of them when ``engagement_ids`` is None), keyed by id.

    The same statements whatever the selection, on the driver's own cursors: SQLAlchemy's execution and
    result layers would cost more than the reads (a million check-ins for the portfolio; for one engagement,
    fourteen small reads). On PostgreSQL they go in one pipeline, one round trip instead of fourteen.
    """
    ids = None if engagement_ids is None else list(engagement_ids)
    load = _pipelined if connection.dialect.name == "postgresql" else _one_by_one
    results = load(connection, ids)
    (by_id, coach_rows, people_rows, membership_rows, department_rows, *record_rows) = results
    records = _Records(record_rows, {row.id: row.timezone for row in by_id})

    coaches: dict[int, set[int]] = defaultdict(set)
    for row in coach_rows:
        coaches[row.engagement_id].add(row.person_id)
    memberships: dict[int, set[int]] = defaultdict(set)
    for row in membership_rows:
        memberships[row.person_id].add(row.department_id)
    people: dict[int, list[PersonFacts]] = defaultdict(list)
    for row in people_rows:
        people[row.organization_id].append(
            PersonFacts(row.id, row.name, frozenset(_json(row.roles)), frozenset(memberships[row.id]))
        )
    departments: dict[int, list[DepartmentFacts]] = defaultdict(list)
    for row in department_rows:
        departments[row.organization_id].append(DepartmentFacts(row.id, row.name, bool(row.is_pilot), row.lead_id))

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
        facts[row.id] = EngagementFacts(
            engagement_id=row.id,
            phase=row.phase,
            entered_phase_at=_utc(row.entered_phase_at),
            now=now,
            organization=organization,
            coach_ids=frozenset(coaches[row.id]),
            people=tuple(people[row.organization_id]),
            departments=tuple(departments[row.organization_id]),
            meetings=records.meetings.get(row.id, ()),
            ceo_support=records.ceo_support.get(row.id, ()),
            training_sessions=records.training.get(row.id, ()),
            drafting_groups=records.drafting.get(row.id, ()),
            quarters=records.quarters.get(row.id, ()),
            okrs=records.okrs.get(row.id, ()),
            key_results=records.key_results.get(row.id, ()),
            check_ins=records.check_ins.get(row.id, ()),
            appointments=records.appointments.get(row.id, ()),
        )
    return facts


class _Records:
    """Every record table, one query each, grouped by engagement."""

    def __init__(self, rows: list[Sequence[Any]], timezones: dict[int, str]) -> None:
        (meeting_rows, ceo_rows, training_rows, drafting_rows, quarter_rows, okr_rows, key_result_rows,
         check_in_rows, appointment_rows) = rows

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


def _one_by_one(connection: Connection, ids: list[int] | None) -> list[Sequence[Any]]:
    """SQLite: every statement on the driver's own cursor, inside the connection's transaction (SQLAlchemy's
    execution and result layers cost several times what SQLite itself takes for such small reads)."""
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    parameters = tuple(ids or ())
    placeholders = f"IN ({', '.join('?' * len(parameters))})"
    results: list[Sequence[Any]] = []
    sql = ""
    try:
        for statement, column, scope in _STATEMENTS:
            sql = statement if ids is None else statement + _where(column, scope, placeholders)
            cursor = driver_connection.execute(sql, parameters)
            rows = cursor.fetchall()
            if statement is not _CHECK_INS:  # check-ins are read positionally
                rows = list(map(_row_type(tuple(d[0] for d in cursor.description))._make, rows))
            results.append(rows)
    except connection.dialect.loaded_dbapi.Error as error:
        # The same exception SQLAlchemy raises for its own statements, so that a locked database is still a 503.
        raise DBAPIError.instance(sql, parameters, error, connection.dialect.loaded_dbapi.Error) from error
    return results


@lru_cache(maxsize=64)
def _row_type(columns: tuple[str, ...]) -> Any:
    return namedtuple("Row", columns)


def _pipelined(connection: Connection, ids: list[int] | None) -> list[Sequence[Any]]:
    """Every statement sent at once in psycopg's pipeline mode, inside the connection's transaction; rows as
    psycopg makes them (check-ins, read positionally, as plain tuples), without SQLAlchemy's result layer."""
    driver_connection = cast("psycopg.Connection[Any]", connection.connection.driver_connection)
    try:
        with driver_connection.pipeline():
            cursors = []
            for sql, column, scope in _STATEMENTS:
                cursor = driver_connection.cursor(row_factory=tuple_row if sql is _CHECK_INS else namedtuple_row)
                if ids is None:
                    cursor.execute(sql)
                else:
                    cursor.execute(sql + _where(column, scope, "= ANY(%(ids)s)"), {"ids": ids})
                cursors.append(cursor)
        return [cursor.fetchall() for cursor in cursors]
    except psycopg.Error as error:
        # The same exception SQLAlchemy raises for its own statements, so that an outage is still a 503.
        raise DBAPIError.instance(_ENGAGEMENTS, {"ids": ids}, error, psycopg.Error) from error


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
