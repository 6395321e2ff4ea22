"""Shared by every record service: the engagement a record belongs to, its playbook's rules, and the
checks that keep a record inside its organization."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller
from okr_rollout.auth.visibility import visible_engagement
from okr_rollout.catalog.service import Catalog
from okr_rollout.errors import Unprocessable
from okr_rollout.events import service as events
from okr_rollout.models import Department, Engagement
from okr_rollout.playbooks import LoadedPlaybook
from okr_rollout.records import queries
from okr_rollout.records.rules import RecordRules


@dataclass(frozen=True)
class RecordContext:
    session: Session
    caller: Caller
    engagement: Engagement
    playbook: LoadedPlaybook
    rules: RecordRules
    now: datetime
    timezone: str = "UTC"

    @property
    def today(self) -> date:
        """The client's calendar date, as the gates count days."""
        return self.now.astimezone(ZoneInfo(self.timezone)).date()

    def record_event(self, type: str, payload: dict[str, Any]) -> None:
        events.append(self.session, type=type, actor=self.caller.actor, at=self.now,
                      organization_id=self.engagement.organization_id, engagement_id=self.engagement.id,
                      payload=payload)


def context(session: Session, caller: Caller, catalog: Catalog, engagement_id: int, now: datetime) -> RecordContext:
    """Anyone who sees an engagement may record on it: its coaches, its organization's internal coaches, the CRM."""
    engagement = visible_engagement(session, caller, engagement_id)
    playbook = catalog.pinned(session, engagement.playbook_sha256)
    timezone = session.scalar(queries.organization_timezone(engagement.organization_id))
    return RecordContext(session, caller, engagement, playbook, RecordRules.of(playbook), now, timezone or "UTC")


def invalid(field: str, message: str, rule: str) -> Unprocessable:
    """A 422 naming the field (``body.x``) and the rule it broke."""
    return Unprocessable(f"{field}: {message}", errors=[{"field": field, "message": message, "type": rule}])


def invalid_many(problems: Sequence[tuple[str, str, str]]) -> Unprocessable:
    return Unprocessable(
        "; ".join(f"{field}: {message}" for field, message, _ in problems),
        errors=[{"field": field, "message": message, "type": rule} for field, message, rule in problems],
    )


def require_distinct(ids: Sequence[int], field: str) -> None:
    seen: set[int] = set()
    for index, value in enumerate(ids):
        if value in seen:
            raise invalid(f"{field}[{index}]", f"person {value} is listed twice", "duplicate")
        seen.add(value)


def require_people(ctx: RecordContext, ids: Sequence[int], field: str, *, coaches_allowed: bool = False) -> None:
    """Every id is a person of the engagement's organization (or, where allowed, one of its external coaches)."""
    if not ids:
        return
    allowed = set(ctx.session.scalars(queries.people_among(ctx.engagement.organization_id, ids)))
    if coaches_allowed:
        allowed |= set(ctx.session.scalars(queries.coaches_among(ctx.engagement.id, ids)))
    problems = [
        (f"{field}[{index}]" if len(ids) > 1 or field.endswith("_ids") else field,
         f"person {value} is not a person of organization {ctx.engagement.organization_id}", "foreign_organization")
        for index, value in enumerate(ids) if value not in allowed
    ]
    if problems:
        raise invalid_many(problems)


def require_person(ctx: RecordContext, person_id: int | None, field: str) -> None:
    if person_id is not None:
        require_people(ctx, [person_id], field)


def require_department(ctx: RecordContext, department_id: int | None, field: str) -> None:
    if department_id is None:
        return
    department = ctx.session.get(Department, department_id)
    if department is None or department.organization_id != ctx.engagement.organization_id:
        raise invalid(field, f"department {department_id} is not a department of organization "
                             f"{ctx.engagement.organization_id}", "foreign_organization")


def require_past(ctx: RecordContext, day: date, field: str) -> None:
    if day > ctx.today:
        raise invalid(field, f"{day.isoformat()} is in the future (today is {ctx.today.isoformat()}); "
                             "record what happened", "future_date")
