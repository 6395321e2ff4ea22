"""Import OKRs and their key results from CSV into an engagement: every row checked against the engagement's
quarters, departments and people before anything is written (``plan_okrs``, a reader's session), then written
OKR by OKR with their key results (``OkrPlan.write``). The people import and what both share are in
``imports.service``. Flushes only."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller
from okr_rollout.cycles import queries as cycle_queries
from okr_rollout.errors import Unprocessable, field_error
from okr_rollout.events import service as events
from okr_rollout.imports import queries
from okr_rollout.imports.service import TEXT_MAX, ImportKind, ImportResult, read_file, rejected, write_all
from okr_rollout.imports.table import RowProblem, Table
from okr_rollout.models import Engagement, Quarter
from okr_rollout.organizations import queries as organization_queries
from okr_rollout.records import rules
from okr_rollout.texts import LocalizedText


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
            message = LocalizedText("not an engagement of this organization", "不是此組織的輔導專案")
            raise Unprocessable(LocalizedText(f"query.engagement_id: {message.en}",
                                              f"query.engagement_id:{message.zh_tw}"),
                                errors=[field_error("query.engagement_id", message, "unknown_engagement")])
        return engagement
    engagements = list(session.scalars(queries.engagements_for_import(caller, organization_id)))
    if len(engagements) != 1:
        raise Unprocessable(
            LocalizedText(f"The organization has {len(engagements)} engagements; name one with engagement_id.",
                          f"此組織有 {len(engagements)} 個輔導專案;請以 engagement_id 指定其中一個。"),
            errors=[field_error("query.engagement_id",
                                LocalizedText("required unless the organization has exactly one engagement",
                                              "除非組織只有一個輔導專案,否則為必填"), "missing")])
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
    closed = _into_closed_quarters(okrs, existing, key_results)
    if closed:
        raise rejected(closed)
    return OkrPlan(engagement.id, engagement.organization_id, okrs, len(table.rows), existing, key_results)


def _into_closed_quarters(okrs: list[_OkrRow], existing: dict[tuple[int, str, int | None, int | None], int],
                          key_results: dict[int, dict[str, _StoredKeyResult]]) -> list[RowProblem]:
    """The rows that would add or change an OKR or a key result of a closed quarter (every OKR decided): refused
    until the quarter is reopened. A row that changes nothing there is accepted, so the same file imports again."""
    problems = []
    for okr in okrs:
        if okr.quarter.closed_at is None:
            continue
        stored = key_results.get(existing[okr.key], {}) if okr.key in existing else None
        writes = stored is None or any(
            (found := stored.get(row.metric)) is None or (found.start, found.target, found.unit) !=
            (row.start, row.target, row.unit) for row in okr.key_results)
        if writes:
            label = okr.quarter.label
            problems.append(RowProblem(
                okr.line, "quarter", f"{label} is closed (every OKR decided); reopen it to change its OKRs",
                "quarter_closed", f"{label} 已結案(每個 OKR 都已決定);請重新開啟後再更改其 OKR"))
    return problems


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
        if not cells.get("owner") and not cells.get("department"):  # the rule of an OKR entered one by one
            breach = rules.okr_owner_breach(None, None)
            if breach is not None:
                problems.append(RowProblem(line, "owner", breach.message.en, breach.rule, breach.message.zh_tw))
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
        # The same rule as a key result entered one by one (records.rules).
        if numbers["start"] is not None and numbers["target"] is not None:
            for breach in rules.key_result_breaches([(numbers["start"], numbers["target"])], "target"):
                problems.append(RowProblem(line, "target", breach.message.en, breach.rule, breach.message.zh_tw))
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
