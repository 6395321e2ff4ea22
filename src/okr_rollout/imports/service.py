"""Import people and OKRs from CSV. Every row is checked before anything is written; one bad row rejects the
file with every problem listed. Matching rows that already exist are left as they are, so a re-import of the
same file changes nothing. Flushes only."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller
from okr_rollout.cycles import queries as cycle_queries
from okr_rollout.errors import Unprocessable
from okr_rollout.events import service as events
from okr_rollout.imports import queries
from okr_rollout.imports.table import NUL, RowProblem, Table, read_table, split_list
from okr_rollout.models import Department, Engagement, KeyResult, Okr, Organization, Person, PersonDepartment, Quarter
from okr_rollout.organizations import queries as organization_queries
from okr_rollout.organizations.schemas import PersonRole

ImportKind = Literal["people", "okrs"]
ROLES: tuple[str, ...] = get_args(PersonRole)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
NAME_MAX = 200
TEXT_MAX = 2000  # as the API's objective and key-result fields

PEOPLE_COLUMNS = {
    "name": ("姓名", "名字"),
    "email": ("e-mail", "電子郵件", "信箱"),
    "department": ("departments", "部門"),
    "role": ("roles", "角色"),
}
OKR_COLUMNS = {
    "quarter": ("季度", "季"),
    "department": ("部門",),
    "owner": ("負責人",),
    "objective": ("目標",),
    "key_result": ("key result", "metric", "關鍵結果"),
    "start": ("起始值", "start_value"),
    "target": ("目標值", "target_value"),
    "current": ("目前值", "current_value"),
    "unit": ("單位",),
}


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    departments_created: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)


def rejected(problems: list[RowProblem]) -> Unprocessable:
    # A cell holding the NUL character is reported for that alone, not again by the checks that read it.
    nul_cells = {(p.row, p.column) for p in problems if p.type == NUL}
    problems = sorted((p for p in problems if p.type == NUL or (p.row, p.column) not in nul_cells),
                      key=lambda p: (p.row, p.column))
    shown = "; ".join(str(p) for p in problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
    return Unprocessable(f"the file was not imported ({len(problems)} problem(s)): {shown}",
                         errors=[p.as_error() for p in problems])


# --- people ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PersonRow:
    line: int
    name: str
    email: str | None
    departments: tuple[str, ...]
    roles: tuple[str, ...]


def import_people(session: Session, organization: Organization, content: bytes, actor: str, now: datetime
                  ) -> ImportResult:
    table = read_table(content, PEOPLE_COLUMNS, {"name"})
    rows = _people_rows(table)
    if table.problems:
        raise rejected(table.problems)
    result = ImportResult(kind="people", rows=len(rows))
    people = list(session.scalars(organization_queries.people_of(organization.id)))
    by_email = {p.email.lower(): p for p in people if p.email}
    by_name = {p.name: p for p in people}
    departments = {d.name: d for d in session.scalars(organization_queries.departments_of(organization.id))}
    memberships: dict[int, set[int]] = {}
    if people:
        for person_id, department_id in session.execute(organization_queries.memberships_of([p.id for p in people])):
            memberships.setdefault(person_id, set()).add(department_id)
    for row in rows:
        for name in row.departments:
            if name not in departments:
                departments[name] = Department(organization_id=organization.id, name=name, created_at=now)
                session.add(departments[name])
                result.departments_created.append(name)
    session.flush()
    listed: list[Person | int] = []  # existing people; the index in ``new_people`` of a new one
    new_people: list[dict[str, Any]] = []
    joining: list[set[int]] = []  # the departments of each new person
    for row in rows:
        person = by_email.get(row.email.lower()) if row.email else by_name.get(row.name)
        if person is None and row.email:
            # Someone recorded earlier by name alone is the same person, now with their e-mail.
            namesake = by_name.get(row.name)
            if namesake is not None and not namesake.email:
                person = namesake
        wanted_departments = {departments[name].id for name in row.departments}
        if person is None:
            listed.append(len(new_people))
            new_people.append({"organization_id": organization.id, "name": row.name, "email": row.email,
                               "roles": sorted(set(row.roles) or {"member"}), "created_at": now})
            joining.append(wanted_departments)
            result.created += 1
            continue
        new_roles = sorted(set(person.roles) | set(row.roles))
        new_departments = wanted_departments - memberships.get(person.id, set())
        new_email = row.email if row.email and not person.email else None
        if new_roles != sorted(person.roles) or new_departments or new_email:
            person.roles = new_roles
            if new_email:
                person.email = new_email
                by_email[new_email.lower()] = person
            session.add_all(PersonDepartment(person_id=person.id, department_id=d)
                            for d in sorted(new_departments))
            memberships.setdefault(person.id, set()).update(new_departments)
            result.updated += 1
        else:
            result.unchanged += 1
        listed.append(person)
    session.flush()
    # New people go in as one batch, without an ORM object each: a 100,000-row file then takes seconds, not minutes.
    new_ids: list[int] = []
    if new_people:
        new_ids = list(session.scalars(queries.insert_people(), new_people))
        memberships_of_new = [{"person_id": new_ids[i], "department_id": d}
                              for i, department_ids in enumerate(joining) for d in sorted(department_ids)]
        if memberships_of_new:
            session.execute(queries.insert_memberships(), memberships_of_new)
    result.ids = [new_ids[p] if isinstance(p, int) else p.id for p in listed]
    if result.created or result.updated or result.departments_created:
        events.append(session, type="import.people", actor=actor, at=now, organization_id=organization.id,
                      payload={"rows": result.rows, "created": result.created, "updated": result.updated,
                               "departments_created": result.departments_created, "person_ids": result.ids})
    return result


def _people_rows(table: Table) -> list[_PersonRow]:
    rows: list[_PersonRow] = []
    seen: dict[str, int] = {}
    for line, cells in table.rows:
        name, email = cells.get("name", ""), cells.get("email", "") or None
        if not name:
            table.problems.append(RowProblem(line, "name", "a name is required", "missing"))
        elif len(name) > NAME_MAX:
            table.problems.append(RowProblem(line, "name", f"longer than {NAME_MAX} characters", "too_long"))
        if email is not None and not EMAIL.match(email):
            table.problems.append(RowProblem(line, "email", f"{email!r} is not an e-mail address", "email"))
        roles = split_list(cells.get("role", ""))
        for role in roles:
            if role not in ROLES:
                table.problems.append(RowProblem(line, "role", f"unknown role {role!r}; known: {', '.join(ROLES)}",
                                                 "unknown_role"))
        departments = split_list(cells.get("department", ""))
        for department in departments:
            if len(department) > NAME_MAX:
                table.problems.append(RowProblem(line, "department", f"longer than {NAME_MAX} characters",
                                                 "too_long"))
        key = (email or "").lower() or f"name:{name}"
        if name and key in seen:
            table.problems.append(RowProblem(line, "email" if email else "name",
                                             f"the same person as row {seen[key]}", "duplicate_row"))
        seen.setdefault(key, line)
        rows.append(_PersonRow(line, name, email, tuple(departments), tuple(roles)))
    return rows


# --- OKRs --------------------------------------------------------------------------------------------------------


@dataclass
class _KeyResultRow:
    line: int
    metric: str
    start: float
    target: float
    current: float | None
    unit: str


@dataclass
class _OkrRow:
    line: int
    quarter: Quarter
    objective: str
    owner_id: int | None
    department_id: int | None
    key_results: list[_KeyResultRow] = field(default_factory=list)


def engagement_for_okrs(session: Session, caller: Caller, organization_id: int, engagement_id: int | None
                        ) -> Engagement:
    """The engagement OKRs are imported into: the one named, or the organization's only one, among those the
    caller sees."""
    if engagement_id is not None:
        engagement = session.scalar(queries.engagements_for_import(caller, organization_id, engagement_id))
        if engagement is None:
            raise Unprocessable(f"organization {organization_id} has no engagement {engagement_id}",
                                errors=[{"field": "query.engagement_id", "message": "not an engagement of this "
                                         "organization", "type": "unknown_engagement"}])
        return engagement
    engagements = list(session.scalars(queries.engagements_for_import(caller, organization_id)))
    if len(engagements) != 1:
        raise Unprocessable(f"organization {organization_id} has {len(engagements)} engagements; name one with "
                            "engagement_id", errors=[{"field": "query.engagement_id",
                                                      "message": "required unless the organization has exactly one "
                                                                 "engagement", "type": "missing"}])
    return engagements[0]


def import_okrs(session: Session, engagement: Engagement, content: bytes, actor: str, now: datetime
                ) -> ImportResult:
    """One row per key result; rows with the same quarter, objective, owner and department form one OKR."""
    table = read_table(content, OKR_COLUMNS, {"quarter", "objective"})
    okrs = _okr_rows(session, engagement, table)  # every row read is checked, as people's are
    if table.problems:
        raise rejected(table.problems)
    result = ImportResult(kind="okrs", rows=len(table.rows))
    for row in okrs:
        okr = session.scalar(queries.matching_okr(row.quarter.id, row.objective, row.owner_id, row.department_id))
        is_new = okr is None
        if okr is None:
            okr = Okr(engagement_id=engagement.id, quarter_id=row.quarter.id, objective=row.objective,
                      owner_id=row.owner_id, department_id=row.department_id, created_at=now)
            session.add(okr)
            session.flush()
        changed = _merge_key_results(session, engagement, okr, row.key_results, now)
        if is_new:
            result.created += 1
        elif changed:
            result.updated += 1
        else:
            result.unchanged += 1
        result.ids.append(okr.id)
    session.flush()
    if result.created or result.updated:
        events.append(session, type="import.okrs", actor=actor, at=now, organization_id=engagement.organization_id,
                      engagement_id=engagement.id,
                      payload={"rows": result.rows, "created": result.created, "updated": result.updated,
                               "okr_ids": result.ids})
    return result


def _merge_key_results(session: Session, engagement: Engagement, okr: Okr, rows: list[_KeyResultRow],
                       now: datetime) -> bool:
    """Add the key results the OKR lacks and correct start, target and unit of those it has; True if anything
    changed. The current value of an existing key result belongs to its check-ins and is left alone."""
    existing = {kr.metric: kr for kr in session.scalars(cycle_queries.key_results_of([okr.id]))}
    changed = False
    for row in rows:
        kr = existing.get(row.metric)
        if kr is None:
            session.add(KeyResult(engagement_id=engagement.id, okr_id=okr.id, metric=row.metric,
                                  start_value=row.start, target_value=row.target,
                                  current_value=row.start if row.current is None else row.current,
                                  unit=row.unit, created_at=now))
            changed = True
        elif (kr.start_value, kr.target_value, kr.unit) != (row.start, row.target, row.unit):
            kr.start_value, kr.target_value, kr.unit = row.start, row.target, row.unit
            changed = True
    return changed


def _okr_rows(session: Session, engagement: Engagement, table: Table) -> list[_OkrRow]:
    quarters = {q.label: q for q in session.scalars(cycle_queries.quarters_of(engagement.id))}
    people = list(session.scalars(organization_queries.people_of(engagement.organization_id)))
    by_email = {p.email.lower(): p.id for p in people if p.email}
    by_name: dict[str, list[int]] = {}
    for person in people:
        by_name.setdefault(person.name, []).append(person.id)
    departments = dict(session.execute(queries.department_ids_by_name(engagement.organization_id)).all())
    grouped: dict[tuple[int, str, int | None, int | None], _OkrRow] = {}
    metrics: dict[tuple[int, str, int | None, int | None, str], int] = {}
    for line, cells in table.rows:
        problems = table.problems
        quarter = quarters.get(cells.get("quarter", ""))
        if quarter is None:
            problems.append(RowProblem(line, "quarter", f"no quarter labelled {cells.get('quarter', '')!r} in "
                                       f"engagement {engagement.id}; known: {sorted(quarters)}", "unknown_quarter"))
        objective = cells.get("objective", "")
        if not objective:
            problems.append(RowProblem(line, "objective", "an objective is required", "missing"))
        elif len(objective) > TEXT_MAX:
            problems.append(RowProblem(line, "objective", f"longer than {TEXT_MAX} characters", "too_long"))
        owner_id = _owner(cells.get("owner", ""), by_email, by_name, line, problems)
        department_id = None
        if cells.get("department"):
            department_id = departments.get(cells["department"])
            if department_id is None:
                problems.append(RowProblem(line, "department", f"no department named {cells['department']!r}",
                                           "unknown_department"))
        metric = cells.get("key_result", "")
        if len(metric) > TEXT_MAX:
            problems.append(RowProblem(line, "key_result", f"longer than {TEXT_MAX} characters", "too_long"))
        numbers = {name: _number(cells.get(name, ""), name, line, problems, required=bool(metric) and
                                 name in ("start", "target")) for name in ("start", "target", "current")}
        if not metric and any(cells.get(n) for n in ("start", "target", "current", "unit")):
            problems.append(RowProblem(line, "key_result", "values are given but the key result has no name",
                                       "missing"))
        if len(cells.get("unit", "")) > 32:
            problems.append(RowProblem(line, "unit", "longer than 32 characters", "too_long"))
        if quarter is None or not objective:
            continue
        key = (quarter.id, objective, owner_id, department_id)
        okr = grouped.setdefault(key, _OkrRow(line, quarter, objective, owner_id, department_id))
        if metric:
            if (*key, metric) in metrics:
                problems.append(RowProblem(line, "key_result", f"the same key result as row {metrics[(*key, metric)]}",
                                           "duplicate_row"))
                continue
            metrics[(*key, metric)] = line
            start, target = numbers["start"], numbers["target"]
            if start is not None and target is not None:
                okr.key_results.append(_KeyResultRow(line, metric, start, target, numbers["current"],
                                                     cells.get("unit", "")))
    return list(grouped.values())


def _owner(value: str, by_email: dict[str, int], by_name: dict[str, list[int]], line: int,
           problems: list[RowProblem]) -> int | None:
    if not value:
        return None
    if "@" in value:
        found = by_email.get(value.lower())
        if found is None:
            problems.append(RowProblem(line, "owner", f"no person with e-mail {value!r} in this organization",
                                       "unknown_person"))
        return found
    matches = by_name.get(value, [])
    if len(matches) != 1:
        problems.append(RowProblem(line, "owner", f"no person named {value!r} in this organization" if not matches
                                   else f"{len(matches)} people are named {value!r}; use their e-mail",
                                   "unknown_person" if not matches else "ambiguous_person"))
        return None
    return matches[0]


def _number(value: str, column: str, line: int, problems: list[RowProblem], *, required: bool) -> float | None:
    if not value:
        if required:
            problems.append(RowProblem(line, column, "a number is required for a key result", "missing"))
        return None
    try:
        number = float(value.replace(",", ""))
    except ValueError:
        problems.append(RowProblem(line, column, f"{value!r} is not a number", "not_a_number"))
        return None
    if not math.isfinite(number):
        problems.append(RowProblem(line, column, f"{value!r} is not a finite number", "not_a_number"))
        return None
    return number
