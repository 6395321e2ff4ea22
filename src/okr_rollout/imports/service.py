"""Import people and OKRs from CSV. Every row is checked before anything is written; one bad row rejects the
file with every problem listed. Matching rows that already exist are left as they are, so a re-import of the
same file changes nothing. Flushes only.

An import is two steps, so that nothing slow runs while the database's write lock is held: ``plan_people`` /
``plan_okrs`` read the file and what the organization already has, and check every row (a reader's session);
the plan then writes its units (people rows, or OKRs with their key results) from ``start`` to ``stop``
(``ImportPlan.write``, a writer's session) in batched INSERTs. A small file is written in one transaction; a
large one in batches, one short transaction each (``okr_rollout.imports.jobs``)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller
from okr_rollout.cycles import queries as cycle_queries
from okr_rollout.errors import NotFound, Unprocessable
from okr_rollout.events import service as events
from okr_rollout.imports import queries
from okr_rollout.imports.table import NUL, RowProblem, Table, read_table, split_list
from okr_rollout.models import Engagement, ImportJob, Organization, Quarter
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


class ImportPlan(Protocol):
    """A checked file, ready to write: ``units`` people rows or OKRs, each covering some rows of the file."""

    @property
    def kind(self) -> ImportKind: ...

    @property
    def rows_total(self) -> int: ...

    def unit_rows(self) -> list[int]:
        """How many rows of the file each unit covers, in order."""
        ...

    def write(self, session: Session, start: int, stop: int, now: datetime, result: ImportResult) -> None:
        """Write units ``start`` to ``stop`` (the first batch also creates what every unit needs), adding to
        ``result``. Flushes only."""
        ...

    def written_ids(self, stop: int) -> list[int]:
        """The ids of units ``0`` to ``stop``, already written (by a job before it was interrupted)."""
        ...

    def finish(self, session: Session, result: ImportResult, actor: str, now: datetime) -> None:
        """Record the import in the history (once every unit is written), if it changed anything."""
        ...


def run_end(unit_rows: list[int], start: int, most_rows: int, *, at_least_one: bool) -> int:
    """The end of the longest run of units from ``start`` covering at most ``most_rows`` rows of the file (at least
    one unit if ``at_least_one``, however many rows it covers)."""
    stop, rows = start, 0
    while stop < len(unit_rows) and ((at_least_one and stop == start) or rows + unit_rows[stop] <= most_rows):
        rows += unit_rows[stop]
        stop += 1
    return stop


def read_file(kind: ImportKind, content: bytes) -> Table:
    """The file's rows, or 422 naming every row the strict CSV reader refused (before any database work). A cell
    holding the NUL character is a bad cell like any other: listed, by the plan, with the rows' other problems."""
    table = read_table(content, PEOPLE_COLUMNS, {"name"}) if kind == "people" else read_table(
        content, OKR_COLUMNS, {"quarter", "objective"})
    if any(problem.type != NUL for problem in table.problems):
        raise rejected(table.problems)
    return table


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


@dataclass
class _Known:
    """A person of the organization as the import sees them (no ORM object: a plan may span transactions)."""

    id: int
    name: str
    email: str | None
    roles: list[str]
    departments: set[int]


@dataclass
class PeoplePlan:
    """A checked people file and the organization's people, departments and memberships it was checked against."""

    organization_id: int
    rows: list[_PersonRow]
    by_email: dict[str, _Known]
    by_name: dict[str, _Known]
    departments: dict[str, int]
    new_departments: list[str]  # the file's departments the organization lacks, created by the first batch
    kind: ImportKind = "people"

    @property
    def rows_total(self) -> int:
        return len(self.rows)

    def unit_rows(self) -> list[int]:
        return [1] * len(self.rows)

    def write(self, session: Session, start: int, stop: int, now: datetime, result: ImportResult) -> None:
        if start == 0 and self.new_departments:
            created = list(session.scalars(queries.insert_departments(), [
                {"organization_id": self.organization_id, "name": name, "is_pilot": False, "created_at": now,
                 "version": 1} for name in self.new_departments]))
            self.departments.update(zip(self.new_departments, created, strict=True))
            result.departments_created = list(self.new_departments)
            self.new_departments = []
        listed: list[_Known | int] = []  # existing people; the index in ``new_people`` of a new one
        new_people: list[dict[str, Any]] = []
        joining: list[set[int]] = []  # the departments of each new person
        changes: dict[int, tuple[_Known, list[str], str | None, set[int]]] = {}
        for row in self.rows[start:stop]:
            person = self._match(row)
            wanted_departments = {self.departments[name] for name in row.departments}
            if person is None:
                listed.append(len(new_people))
                new_people.append({"organization_id": self.organization_id, "name": row.name, "email": row.email,
                                   "roles": sorted(set(row.roles) or {"member"}), "locale": "en",
                                   "created_at": now, "version": 1})
                joining.append(wanted_departments)
                result.created += 1
                continue
            new_roles = sorted(set(person.roles) | set(row.roles))
            new_departments = wanted_departments - person.departments
            new_email = row.email if row.email and not person.email else None
            if new_roles != sorted(person.roles) or new_departments or new_email:
                changes[person.id] = (person, new_roles, new_email, new_departments)
                person.roles = new_roles
                person.departments |= new_departments
                if new_email:
                    person.email = new_email
                    self.by_email[new_email.lower()] = person
                result.updated += 1
            else:
                result.unchanged += 1
            listed.append(person)
        if changes:
            # Through the ORM, so that each changed person's version goes up as an edit over the API does.
            for stored in session.scalars(queries.people_by_id(list(changes))):
                _, roles, email, _ = changes[stored.id]
                stored.roles = roles
                if email:
                    stored.email = email
            session.flush()
        memberships = [{"person_id": person.id, "department_id": d}
                       for person, _, _, departments in changes.values() for d in sorted(departments)]
        # New people go in as one INSERT per batch, without an ORM object each: ids come back in the order given.
        new_ids: list[int] = list(session.scalars(queries.insert_people(), new_people)) if new_people else []
        memberships += [{"person_id": new_ids[i], "department_id": d}
                        for i, department_ids in enumerate(joining) for d in sorted(department_ids)]
        if memberships:
            session.execute(queries.insert_memberships(), memberships)
        result.ids += [new_ids[p] if isinstance(p, int) else p.id for p in listed]

    def _match(self, row: _PersonRow) -> _Known | None:
        person = self.by_email.get(row.email.lower()) if row.email else self.by_name.get(row.name)
        if person is None and row.email:
            # Someone recorded earlier by name alone is the same person, now with their e-mail.
            namesake = self.by_name.get(row.name)
            if namesake is not None and not namesake.email:
                person = namesake
        return person

    def written_ids(self, stop: int) -> list[int]:
        return [person.id if (person := self._match(row)) else 0 for row in self.rows[:stop]]

    def finish(self, session: Session, result: ImportResult, actor: str, now: datetime) -> None:
        if result.created or result.updated or result.departments_created:
            events.append(session, type="import.people", actor=actor, at=now, organization_id=self.organization_id,
                          payload={"rows": result.rows, "created": result.created, "updated": result.updated,
                                   "departments_created": result.departments_created, "person_ids": result.ids})


def plan_people(session: Session, organization_id: int, table: Table) -> PeoplePlan:
    """Check every row of ``table`` against the organization as it is: 422 listing every bad row, else the plan."""
    rows = _people_rows(table)
    if table.problems:
        raise rejected(table.problems)
    memberships: dict[int, set[int]] = {}
    for person_id, department_id in session.execute(queries.memberships_in_organization(organization_id)):
        memberships.setdefault(person_id, set()).add(department_id)
    by_email: dict[str, _Known] = {}
    by_name: dict[str, _Known] = {}
    for person_id, name, email, roles in session.execute(queries.people_for_import(organization_id)):
        known = _Known(person_id, name, email, list(roles or []), memberships.get(person_id, set()))
        if email:
            by_email[email.lower()] = known
        by_name[name] = known
    departments = dict(session.execute(queries.department_ids_by_name(organization_id)).all())
    new_departments: list[str] = []
    for row in rows:
        for name in row.departments:
            if name not in departments and name not in new_departments:
                new_departments.append(name)
    return PeoplePlan(organization_id, rows, by_email, by_name, departments, new_departments)


def import_people(session: Session, organization: Organization, content: bytes, actor: str, now: datetime
                  ) -> ImportResult:
    """The whole file in ``session``'s one transaction."""
    plan = plan_people(session, organization.id, read_file("people", content))
    return write_all(session, plan, actor, now)


def write_all(session: Session, plan: ImportPlan, actor: str, now: datetime) -> ImportResult:
    """Every unit of ``plan`` in ``session`` (one transaction: a small file)."""
    result = ImportResult(kind=plan.kind, rows=plan.rows_total)
    plan.write(session, 0, len(plan.unit_rows()), now, result)
    plan.finish(session, result, actor, now)
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
    rows: int = 0  # the rows of the file it covers

    @property
    def key(self) -> tuple[int, str, int | None, int | None]:
        return self.quarter.id, self.objective, self.owner_id, self.department_id


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


@dataclass(frozen=True)
class _StoredKeyResult:
    id: int
    start: float
    target: float
    unit: str


@dataclass
class OkrPlan:
    """A checked OKR file and the engagement's OKRs and key results it was checked against."""

    engagement_id: int
    organization_id: int
    okrs: list[_OkrRow]
    rows_total: int
    existing: dict[tuple[int, str, int | None, int | None], int]  # the first OKR of each quarter, objective...
    key_results: dict[int, dict[str, _StoredKeyResult]]  # of each existing OKR, by metric
    kind: ImportKind = "okrs"

    def unit_rows(self) -> list[int]:
        return [okr.rows for okr in self.okrs]

    def write(self, session: Session, start: int, stop: int, now: datetime, result: ImportResult) -> None:
        okrs = self.okrs[start:stop]
        new = [okr for okr in okrs if okr.key not in self.existing]
        new_keys = {okr.key for okr in new}
        if new:
            ids = session.scalars(queries.insert_okrs(), [
                {"engagement_id": self.engagement_id, "quarter_id": okr.quarter.id, "objective": okr.objective,
                 "owner_id": okr.owner_id, "department_id": okr.department_id, "created_at": now, "version": 1}
                for okr in new])
            for okr, okr_id in zip(new, ids, strict=True):
                self.existing[okr.key] = okr_id
                self.key_results[okr_id] = {}
        new_key_results: list[dict[str, Any]] = []
        corrected: dict[int, _KeyResultRow] = {}
        for okr in okrs:
            okr_id = self.existing[okr.key]
            stored = self.key_results[okr_id]
            changed = False
            for row in okr.key_results:
                kr = stored.get(row.metric)
                if kr is None:
                    new_key_results.append({
                        "engagement_id": self.engagement_id, "okr_id": okr_id, "metric": row.metric,
                        "start_value": row.start, "target_value": row.target,
                        "current_value": row.start if row.current is None else row.current, "unit": row.unit,
                        "created_at": now, "version": 1})
                    stored[row.metric] = _StoredKeyResult(0, row.start, row.target, row.unit)
                    changed = True
                elif (kr.start, kr.target, kr.unit) != (row.start, row.target, row.unit):
                    # The current value of an existing key result belongs to its check-ins and is left alone.
                    corrected[kr.id] = row
                    stored[row.metric] = _StoredKeyResult(kr.id, row.start, row.target, row.unit)
                    changed = True
            if okr.key in new_keys:
                result.created += 1
            elif changed:
                result.updated += 1
            else:
                result.unchanged += 1
            result.ids.append(okr_id)
        if new_key_results:
            ids = session.scalars(queries.insert_key_results(), new_key_results)
            for values, kr_id in zip(new_key_results, ids, strict=True):
                stored = self.key_results[values["okr_id"]]
                stored[values["metric"]] = _StoredKeyResult(kr_id, values["start_value"], values["target_value"],
                                                            values["unit"])
        if corrected:
            for stored_kr in session.scalars(queries.key_results_by_id(list(corrected))):
                row = corrected[stored_kr.id]
                stored_kr.start_value, stored_kr.target_value, stored_kr.unit = row.start, row.target, row.unit
            session.flush()

    def written_ids(self, stop: int) -> list[int]:
        return [self.existing.get(okr.key, 0) for okr in self.okrs[:stop]]

    def finish(self, session: Session, result: ImportResult, actor: str, now: datetime) -> None:
        if result.created or result.updated:
            events.append(session, type="import.okrs", actor=actor, at=now, organization_id=self.organization_id,
                          engagement_id=self.engagement_id,
                          payload={"rows": result.rows, "created": result.created, "updated": result.updated,
                                   "okr_ids": result.ids})


def plan_okrs(session: Session, engagement: Engagement, table: Table) -> OkrPlan:
    """One row per key result; rows with the same quarter, objective, owner and department form one OKR. Every
    row is checked against the engagement as it is: 422 listing every bad row, else the plan."""
    okrs = _okr_rows(session, engagement, table)
    if table.problems:
        raise rejected(table.problems)
    existing: dict[tuple[int, str, int | None, int | None], int] = {}
    for okr_id, quarter_id, objective, owner_id, department_id in session.execute(
            queries.okrs_for_import(engagement.id)):
        existing.setdefault((quarter_id, objective, owner_id, department_id), okr_id)
    key_results: dict[int, dict[str, _StoredKeyResult]] = {okr_id: {} for okr_id in existing.values()}
    for kr_id, okr_id, metric, start, target, unit in session.execute(
            queries.key_results_for_import(engagement.id)):
        if okr_id in key_results:  # the last of a metric counts, as when they were read into a dict by metric
            key_results[okr_id][metric] = _StoredKeyResult(kr_id, start, target, unit)
    return OkrPlan(engagement.id, engagement.organization_id, okrs, len(table.rows), existing, key_results)


def import_okrs(session: Session, engagement: Engagement, content: bytes, actor: str, now: datetime
                ) -> ImportResult:
    """The whole file in ``session``'s one transaction."""
    plan = plan_okrs(session, engagement, read_file("okrs", content))
    return write_all(session, plan, actor, now)


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
        okr.rows += 1
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


# --- background jobs ---------------------------------------------------------------------------------------------


def visible_job(session: Session, caller: Caller, job_id: int) -> ImportJob:
    """An import job of an organization the caller sees; 404 for any other, as for the organization itself."""
    job = session.scalar(queries.visible_job(caller, job_id))
    if job is None:
        raise NotFound(f"no import {job_id}")
    return job
