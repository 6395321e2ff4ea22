"""/api/v1/engagements/{id}/quarters, okrs, key-results, check-ins, scores, decisions, reviews: thin handlers."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from okr_rollout.api.deps import (
    CallerDep,
    CatalogDep,
    Cursor,
    IdFilter,
    IfMatch,
    Limit,
    NowDep,
    SessionDep,
    check_if_match,
    set_etag,
)
from okr_rollout.api.pagination import Page
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES
from okr_rollout.cycles import service
from okr_rollout.cycles.review import quarter_review
from okr_rollout.cycles.schemas import (
    CheckInCreate,
    CheckInOut,
    DecisionOut,
    DecisionUpdate,
    KeyResultCreate,
    KeyResultOut,
    OkrCreate,
    OkrOut,
    QuarterCreate,
    QuarterOut,
    QuarterReview,
    ScoreUpdate,
)
from okr_rollout.records.context import context

router = APIRouter(prefix="/api/v1/engagements/{engagement_id}", tags=["cycles"],
                   responses={**COMMON_RESPONSES, **WRITE_RESPONSES})


@router.post("/quarters", status_code=status.HTTP_201_CREATED, response_model=QuarterOut)
def create_quarter(engagement_id: int, data: QuarterCreate, session: SessionDep, caller: CallerDep,
                   catalog: CatalogDep, now: NowDep, response: Response) -> QuarterOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    quarter, carried = service.create_quarter(ctx, data)
    response.headers["Location"] = f"/api/v1/engagements/{engagement_id}/quarters/{quarter.id}"
    set_etag(response, quarter.version)
    return service.quarter_out(ctx, quarter, carried)


@router.get("/quarters", response_model=list[QuarterOut])
def list_quarters(engagement_id: int, session: SessionDep, caller: CallerDep, catalog: CatalogDep, now: NowDep
                  ) -> list[QuarterOut]:
    ctx = context(session, caller, catalog, engagement_id, now)
    return [service.quarter_out(ctx, q) for q in service.quarters_with_voided(session, ctx.engagement.id)]


@router.get("/quarters/{quarter_id}", response_model=QuarterOut)
def get_quarter(engagement_id: int, quarter_id: int, session: SessionDep, caller: CallerDep, catalog: CatalogDep,
                now: NowDep, response: Response) -> QuarterOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    quarter = service.get_quarter(session, ctx.engagement.id, quarter_id)
    set_etag(response, quarter.version)
    return service.quarter_out(ctx, quarter)


@router.get("/quarters/{quarter_id}/review", response_model=QuarterReview)
def review_quarter(engagement_id: int, quarter_id: int, session: SessionDep, caller: CallerDep,
                   catalog: CatalogDep, now: NowDep) -> QuarterReview:
    ctx = context(session, caller, catalog, engagement_id, now)
    return quarter_review(ctx, service.get_quarter(session, ctx.engagement.id, quarter_id))


@router.post("/quarters/{quarter_id}/okrs", status_code=status.HTTP_201_CREATED, response_model=OkrOut)
def create_okr(engagement_id: int, quarter_id: int, data: OkrCreate, session: SessionDep, caller: CallerDep,
               catalog: CatalogDep, now: NowDep, response: Response) -> OkrOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    okr, warnings = service.create_okr_warned(ctx, service.get_quarter(session, ctx.engagement.id, quarter_id), data)
    response.headers["Location"] = f"/api/v1/engagements/{engagement_id}/okrs/{okr.id}"
    set_etag(response, okr.version)
    return service.okr_views(session, [okr])[0].model_copy(update={"warnings": warnings})


@router.get("/okrs", response_model=Page[OkrOut])
def list_okrs(engagement_id: int, session: SessionDep, caller: CallerDep, catalog: CatalogDep, now: NowDep,
              cursor: Cursor, quarter_id: IdFilter = None, limit: Limit = 50) -> Page[OkrOut]:
    ctx = context(session, caller, catalog, engagement_id, now)
    okrs = service.list_okrs(session, ctx.engagement.id, quarter_id=quarter_id, after=cursor.after,
                             limit=limit)
    return cursor.page(service.okr_views(session, okrs), [o.id for o in okrs], limit)


@router.get("/okrs/{okr_id}", response_model=OkrOut)
def get_okr(engagement_id: int, okr_id: int, session: SessionDep, caller: CallerDep, catalog: CatalogDep,
            now: NowDep, response: Response) -> OkrOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    okr = service.get_okr(session, ctx.engagement.id, okr_id)
    set_etag(response, okr.version)
    return service.okr_views(session, [okr])[0]


@router.post("/okrs/{okr_id}/key-results", status_code=status.HTTP_201_CREATED, response_model=KeyResultOut)
def add_key_result(engagement_id: int, okr_id: int, data: KeyResultCreate, session: SessionDep, caller: CallerDep,
                   catalog: CatalogDep, now: NowDep, response: Response) -> KeyResultOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    kr = service.add_key_result(ctx, service.get_okr(session, ctx.engagement.id, okr_id), data)
    set_etag(response, kr.version)
    return service.key_result_out(kr)


@router.put("/okrs/{okr_id}/score", response_model=OkrOut)
def score_okr(engagement_id: int, okr_id: int, data: ScoreUpdate, session: SessionDep, caller: CallerDep,
              catalog: CatalogDep, now: NowDep, response: Response, if_match: IfMatch = None) -> OkrOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    okr = service.get_okr(session, ctx.engagement.id, okr_id)
    check_if_match(if_match, okr.version)
    okr = service.score_okr(ctx, okr, data.score)
    set_etag(response, okr.version)
    return service.okr_views(session, [okr])[0]


@router.put("/okrs/{okr_id}/decision", response_model=DecisionOut)
def decide_okr(engagement_id: int, okr_id: int, data: DecisionUpdate, session: SessionDep, caller: CallerDep,
               catalog: CatalogDep, now: NowDep, response: Response, if_match: IfMatch = None) -> DecisionOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    okr = service.get_okr(session, ctx.engagement.id, okr_id)
    check_if_match(if_match, okr.version)
    okr, continuation = service.decide_okr(ctx, okr, data.decision, data.recorded_on)
    set_etag(response, okr.version)
    views = service.okr_views(session, [okr] + ([continuation] if continuation else []))
    return DecisionOut(okr=views[0], carried_to=views[1] if continuation else None)


@router.post("/quarters/{quarter_id}/check-ins", status_code=status.HTTP_201_CREATED, response_model=CheckInOut)
def record_check_in(engagement_id: int, quarter_id: int, data: CheckInCreate, session: SessionDep,
                    caller: CallerDep, catalog: CatalogDep, now: NowDep) -> CheckInOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    check_in = service.record_check_in(ctx, service.get_quarter(session, ctx.engagement.id, quarter_id), data)
    return CheckInOut.model_validate(check_in)


@router.get("/key-results/{key_result_id}/check-ins", response_model=list[CheckInOut])
def list_check_ins(engagement_id: int, key_result_id: int, session: SessionDep, caller: CallerDep,
                   catalog: CatalogDep, now: NowDep) -> list[CheckInOut]:
    ctx = context(session, caller, catalog, engagement_id, now)
    kr = service.get_key_result(session, ctx.engagement.id, key_result_id)
    return [CheckInOut.model_validate(c) for c in service.check_ins_with_voided(session, kr.id)]
