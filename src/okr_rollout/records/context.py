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
from okr_rollout.records.rules import Breach, RecordRules
from okr_rollout.texts import LocalizedText


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


def invalid(field: str, message: LocalizedText | str, rule: str) -> Unprocessable:
    """A 422 naming the field (``body.x``) and the rule it broke, said in English and Traditional Chinese."""
    return invalid_many([(field, message, rule)])


def invalid_many(problems: Sequence[tuple[str, LocalizedText | str, str]]) -> Unprocessable:
    said = [(field, message if isinstance(message, LocalizedText) else LocalizedText(message, message), rule)
            for field, message, rule in problems]
    return Unprocessable(
        LocalizedText("; ".join(f"{field}: {message.en}" for field, message, _ in said),
                      ";".join(f"{field}:{message.zh_tw}" for field, message, _ in said)),
        errors=[{"field": field, "message": message, "type": rule} for field, message, rule in said],
    )


def refuse(breaches: Sequence[Breach | None]) -> None:
    """Raise one 422 naming every rule broken (``records.rules`` says which), or nothing when none is."""
    found = [breach for breach in breaches if breach is not None]
    if found:
        raise invalid_many([(breach.field, breach.message, breach.rule) for breach in found])


def require_distinct(ids: Sequence[int], field: str) -> None:
    seen: set[int] = set()
    for index, value in enumerate(ids):
        if value in seen:
            raise invalid(f"{field}[{index}]", LocalizedText("this person is listed twice", "此人重複列出"),
                          "duplicate")
        seen.add(value)


def require_people(ctx: RecordContext, ids: Sequence[int], field: str, *, coaches_allowed: bool = False) -> None:
    """Every id is a person of the engagement's organization (or, where allowed, one of its external coaches)."""
    if not ids:
        return
    allowed = set(ctx.session.scalars(queries.people_among(ctx.engagement.organization_id, ids)))
    if coaches_allowed:
        allowed |= set(ctx.session.scalars(queries.coaches_among(ctx.engagement.id, ids)))
    problems: list[tuple[str, LocalizedText | str, str]] = [
        (f"{field}[{index}]" if len(ids) > 1 or field.endswith("_ids") else field,
         LocalizedText("not a person of this organization", "不是此組織的人員"), "foreign_organization")
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
        raise invalid(field, LocalizedText("not a department of this organization", "不是此組織的部門"),
                      "foreign_organization")


def require_past(ctx: RecordContext, day: date, field: str) -> None:
    if day > ctx.today:
        raise invalid(field, LocalizedText(
            f"{day.isoformat()} is in the future (today is {ctx.today.isoformat()}); record what happened",
            f"{day.isoformat()} 是未來的日期(今天是 {ctx.today.isoformat()});請記錄已發生的事"), "future_date")
