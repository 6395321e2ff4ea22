"""Corrections of quarters, OKRs, key results, check-ins, scores and decisions, and reopening a closed quarter:
``PATCH`` with ``If-Match`` corrects, ``POST …/void`` with a reason voids. Thin handlers over
``cycles.corrections``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from okr_rollout.api.deps import CallerDep, CatalogDep, IfMatch, NowDep, SessionDep, check_if_match, set_etag
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES
from okr_rollout.cycles import corrections, service
from okr_rollout.cycles.schemas import (
    CheckInOut,
    DecisionOut,
    DecisionUpdate,
    KeyResultOut,
    OkrOut,
    QuarterOut,
    ScoreUpdate,
)
from okr_rollout.records.context import context
from okr_rollout.records.correction_schemas import (
    CheckInCorrection,
    KeyResultCorrection,
    OkrCorrection,
    QuarterCorrection,
    ReopenRequest,
    VoidRequest,
)

router = APIRouter(prefix="/api/v1/engagements/{engagement_id}", tags=["cycles"],
                   responses={**COMMON_RESPONSES, **WRITE_RESPONSES})


@router.patch("/quarters/{quarter_id}", response_model=QuarterOut)
def correct_quarter(engagement_id: int, quarter_id: int, data: QuarterCorrection, session: SessionDep,
                    caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                    if_match: IfMatch = None) -> QuarterOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    quarter = service.get_quarter(session, ctx.engagement.id, quarter_id)
    check_if_match(if_match, quarter.version)
    quarter = corrections.correct_quarter(ctx, quarter, data)
    set_etag(response, quarter.version)
    return service.quarter_out(ctx, quarter)


@router.post("/quarters/{quarter_id}/void", response_model=QuarterOut)
def void_quarter(engagement_id: int, quarter_id: int, data: VoidRequest, session: SessionDep, caller: CallerDep,
                 catalog: CatalogDep, now: NowDep, response: Response, if_match: IfMatch = None) -> QuarterOut:
    """Void a quarter with its OKRs, their key results and check-ins."""
    ctx = context(session, caller, catalog, engagement_id, now)
    quarter = service.get_quarter(session, ctx.engagement.id, quarter_id)
    check_if_match(if_match, quarter.version)
    quarter = corrections.void_quarter(ctx, quarter, data.reason)
    set_etag(response, quarter.version)
    return service.quarter_out(ctx, quarter)


@router.post("/quarters/{quarter_id}/reopen", response_model=QuarterOut)
def reopen_quarter(engagement_id: int, quarter_id: int, data: ReopenRequest, session: SessionDep,
                   caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                   if_match: IfMatch = None) -> QuarterOut:
    """Reopen a closed quarter (every OKR decided) so that its OKRs, scores or decisions can change again."""
    ctx = context(session, caller, catalog, engagement_id, now)
    quarter = service.get_quarter(session, ctx.engagement.id, quarter_id)
    check_if_match(if_match, quarter.version)
    quarter = corrections.reopen_quarter(ctx, quarter, data.reason)
    set_etag(response, quarter.version)
    return service.quarter_out(ctx, quarter)


@router.patch("/okrs/{okr_id}", response_model=OkrOut)
def correct_okr(engagement_id: int, okr_id: int, data: OkrCorrection, session: SessionDep, caller: CallerDep,
                catalog: CatalogDep, now: NowDep, response: Response, if_match: IfMatch = None) -> OkrOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    okr = service.get_okr(session, ctx.engagement.id, okr_id)
    check_if_match(if_match, okr.version)
    okr = corrections.correct_okr(ctx, okr, data)
    set_etag(response, okr.version)
    return service.okr_views(session, [okr])[0]


@router.post("/okrs/{okr_id}/void", response_model=OkrOut)
def void_okr(engagement_id: int, okr_id: int, data: VoidRequest, session: SessionDep, caller: CallerDep,
             catalog: CatalogDep, now: NowDep, response: Response, if_match: IfMatch = None) -> OkrOut:
    """Void an OKR with its key results and their check-ins."""
    ctx = context(session, caller, catalog, engagement_id, now)
    okr = service.get_okr(session, ctx.engagement.id, okr_id)
    check_if_match(if_match, okr.version)
    okr = corrections.void_okr(ctx, okr, data.reason)
    set_etag(response, okr.version)
    return service.okr_views(session, [okr])[0]


@router.patch("/okrs/{okr_id}/score", response_model=OkrOut)
def correct_score(engagement_id: int, okr_id: int, data: ScoreUpdate, session: SessionDep, caller: CallerDep,
                  catalog: CatalogDep, now: NowDep, response: Response, if_match: IfMatch = None) -> OkrOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    okr = service.get_okr(session, ctx.engagement.id, okr_id)
    check_if_match(if_match, okr.version)
    okr = corrections.correct_score(ctx, okr, data.score)
    set_etag(response, okr.version)
    return service.okr_views(session, [okr])[0]


@router.post("/okrs/{okr_id}/score/void", response_model=OkrOut)
def void_score(engagement_id: int, okr_id: int, data: VoidRequest, session: SessionDep, caller: CallerDep,
               catalog: CatalogDep, now: NowDep, response: Response, if_match: IfMatch = None) -> OkrOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    okr = service.get_okr(session, ctx.engagement.id, okr_id)
    check_if_match(if_match, okr.version)
    okr = corrections.void_score(ctx, okr, data.reason)
    set_etag(response, okr.version)
    return service.okr_views(session, [okr])[0]


@router.patch("/okrs/{okr_id}/decision", response_model=DecisionOut)
def correct_decision(engagement_id: int, okr_id: int, data: DecisionUpdate, session: SessionDep,
                     caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                     if_match: IfMatch = None) -> DecisionOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    okr = service.get_okr(session, ctx.engagement.id, okr_id)
    check_if_match(if_match, okr.version)
    okr, continuation = corrections.correct_decision(ctx, okr, data.decision)
    set_etag(response, okr.version)
    views = service.okr_views(session, [okr] + ([continuation] if continuation else []))
    return DecisionOut(okr=views[0], carried_to=views[1] if continuation else None)


@router.post("/okrs/{okr_id}/decision/void", response_model=OkrOut)
def void_decision(engagement_id: int, okr_id: int, data: VoidRequest, session: SessionDep, caller: CallerDep,
                  catalog: CatalogDep, now: NowDep, response: Response, if_match: IfMatch = None) -> OkrOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    okr = service.get_okr(session, ctx.engagement.id, okr_id)
    check_if_match(if_match, okr.version)
    okr = corrections.void_decision(ctx, okr, data.reason)
    set_etag(response, okr.version)
    return service.okr_views(session, [okr])[0]


@router.get("/key-results/{key_result_id}", response_model=KeyResultOut)
def get_key_result(engagement_id: int, key_result_id: int, session: SessionDep, caller: CallerDep,
                   catalog: CatalogDep, now: NowDep, response: Response) -> KeyResultOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    kr = service.get_key_result(session, ctx.engagement.id, key_result_id)
    set_etag(response, kr.version)
    return service.key_result_out(kr)


@router.patch("/key-results/{key_result_id}", response_model=KeyResultOut)
def correct_key_result(engagement_id: int, key_result_id: int, data: KeyResultCorrection, session: SessionDep,
                       caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                       if_match: IfMatch = None) -> KeyResultOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    kr = service.get_key_result(session, ctx.engagement.id, key_result_id)
    check_if_match(if_match, kr.version)
    kr = corrections.correct_key_result(ctx, kr, data)
    set_etag(response, kr.version)
    return service.key_result_out(kr)


@router.post("/key-results/{key_result_id}/void", response_model=KeyResultOut)
def void_key_result(engagement_id: int, key_result_id: int, data: VoidRequest, session: SessionDep,
                    caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                    if_match: IfMatch = None) -> KeyResultOut:
    """Void a key result with its check-ins."""
    ctx = context(session, caller, catalog, engagement_id, now)
    kr = service.get_key_result(session, ctx.engagement.id, key_result_id)
    check_if_match(if_match, kr.version)
    kr = corrections.void_key_result(ctx, kr, data.reason)
    set_etag(response, kr.version)
    return service.key_result_out(kr)


@router.get("/check-ins/{check_in_id}", response_model=CheckInOut)
def get_check_in(engagement_id: int, check_in_id: int, session: SessionDep, caller: CallerDep,
                 catalog: CatalogDep, now: NowDep, response: Response) -> CheckInOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    check_in = corrections.get_check_in(session, ctx.engagement.id, check_in_id)
    set_etag(response, check_in.version)
    return CheckInOut.model_validate(check_in)


@router.patch("/check-ins/{check_in_id}", response_model=CheckInOut)
def correct_check_in(engagement_id: int, check_in_id: int, data: CheckInCorrection, session: SessionDep,
                     caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                     if_match: IfMatch = None) -> CheckInOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    check_in = corrections.get_check_in(session, ctx.engagement.id, check_in_id)
    check_if_match(if_match, check_in.version)
    check_in = corrections.correct_check_in(ctx, check_in, data)
    set_etag(response, check_in.version)
    return CheckInOut.model_validate(check_in)


@router.post("/check-ins/{check_in_id}/void", response_model=CheckInOut)
def void_check_in(engagement_id: int, check_in_id: int, data: VoidRequest, session: SessionDep,
                  caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                  if_match: IfMatch = None) -> CheckInOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    check_in = corrections.get_check_in(session, ctx.engagement.id, check_in_id)
    check_if_match(if_match, check_in.version)
    check_in = corrections.void_check_in(ctx, check_in, data.reason)
    set_etag(response, check_in.version)
    return CheckInOut.model_validate(check_in)
