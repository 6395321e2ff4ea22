"""/api/v1/portfolio: the coach's home page as JSON (thin: parse, call the service, shape)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from okr_rollout.api.deps import CallerDep, CatalogDep, Limit, NowDep, PortfolioCursor, SessionDep, get_settings_dep
from okr_rollout.api.problems import COMMON_RESPONSES, request_locale
from okr_rollout.engagements.health import signal_json
from okr_rollout.engagements.schemas import HealthSignalOut
from okr_rollout.journey.health import HealthStatus
from okr_rollout.portfolio import service
from okr_rollout.portfolio.schemas import NextStepOut, PortfolioPage, PortfolioRowOut, WaveSummaryOut
from okr_rollout.portfolio.service import Order, PortfolioQuery, PortfolioRow, Sort
from okr_rollout.settings import Settings
from okr_rollout.texts import LocalizedText

router = APIRouter(tags=["portfolio"], responses=COMMON_RESPONSES)


def row_out(row: PortfolioRow, locale: str = "en") -> PortfolioRowOut:
    step = row.next_step
    return PortfolioRowOut(
        engagement_id=row.engagement_id, organization_id=row.organization_id, organization=row.organization,
        timezone=row.timezone, phase=row.phase,
        phase_title=LocalizedText(en=row.phase_title.en, zh_tw=row.phase_title.zh_tw), days_in_phase=row.days_in_phase,
        next_step=NextStepOut(
            trigger=step.trigger, destination=step.dest,
            title=LocalizedText(en=step.title.en, zh_tw=step.title.zh_tw) if step.title else None,
            allowed=step.allowed, passed=step.passed_count, total=step.total) if step else None,
        overdue_tasks=row.overdue, next_due_at=row.next_due, last_activity_at=row.last_activity,
        attention=list(row.attention), health=row.health.status if row.health else None,
        health_reasons=[HealthSignalOut.model_validate(signal_json(s, locale)) for s in row.health_reasons],
        waves=[WaveSummaryOut(id=w.id, name=w.name, phase=w.phase, phase_title=w.phase_title, final=w.final,
                              health=w.health.status if w.health else None)
               for w in row.waves])


@router.get("/api/v1/portfolio", response_model=PortfolioPage)
def get_portfolio(
    settings: Annotated[Settings, Depends(get_settings_dep)], request: Request, session: SessionDep, caller: CallerDep,
    catalog: CatalogDep, now: NowDep,
    limit: Limit = 50, cursor: PortfolioCursor = None,
    phase: Annotated[str | None, Query(max_length=64, description="Only engagements in this phase.")] = None,
    attention: Annotated[bool, Query(description="Only engagements that need attention.")] = False,
    health: Annotated[HealthStatus | None, Query(description="Only engagements of this health.")] = None,
    sort: Annotated[Sort, Query(description="What the rows are ordered by; health: by urgency (stuck, at risk, "
                                            "ready to move, on track), then by organization.")] = "organization",
    order: Annotated[Order, Query(description="Ascending or descending.")] = "asc",
) -> PortfolioPage:
    """One row per engagement the caller sees, as on the portfolio page: its phase, days in it, the next gate,
    overdue tasks, the next due date, the last activity, why it needs attention, and its health with the reasons
    that decided it."""
    idle = timedelta(days=settings.web_idle_days)
    result = service.portfolio(session, caller, catalog, now, idle, PortfolioQuery(
        phase=phase, attention=attention, health=health, sort=sort, order=order, cursor=cursor, limit=limit))
    locale = request_locale(request)
    return PortfolioPage(items=[row_out(row, locale) for row in result.rows], next_cursor=result.next_cursor,
                         total=result.total)
