"""Import people and OKRs from CSV. Every row is checked before anything is written; one bad row rejects the
file with every problem listed. Matching rows that already exist are left as they are, so a re-import of the
same file changes nothing. Flushes only.

An import is two steps, so that nothing slow runs while the database's write lock is held: ``plan_people`` /
``okrs.plan_okrs`` read the file and what the organization already has, and check every row (a reader's session);
the plan then writes its units (people rows, or OKRs with their key results) from ``start`` to ``stop``
(``ImportPlan.write``, a writer's session) in batched INSERTs. A small file is written in one transaction; a
large one in batches, one short transaction each (``okr_rollout.imports.jobs``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller
from okr_rollout.errors import Unprocessable, not_found
from okr_rollout.events import service as events
from okr_rollout.imports import queries
from okr_rollout.imports.table import NUL, RowProblem, Table, read_table, split_list
from okr_rollout.models import ImportJob, Organization
from okr_rollout.organizations.schemas import PersonRole
from okr_rollout.texts import LocalizedText

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
    return Unprocessable(LocalizedText(f"The file was not imported ({len(problems)} problem(s)): {shown}",
                                       f"檔案未匯入(共 {len(problems)} 個問題):{shown}"),
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


# --- background jobs ---------------------------------------------------------------------------------------------


def visible_job(session: Session, caller: Caller, job_id: int) -> ImportJob:
    """An import job of an organization the caller sees; 404 for any other, as for the organization itself."""
    job = session.scalar(queries.visible_job(caller, job_id))
    if job is None:
        raise not_found(LocalizedText("import", "匯入作業"))
    return job
