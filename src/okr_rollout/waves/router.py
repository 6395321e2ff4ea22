"""/api/v1/engagements/{id}/waves and /api/v1/engagements/{id}/handover: thin handlers."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from okr_rollout.api.deps import (
    CallerDep,
    CatalogDep,
    Cursor,
    IfMatch,
    Limit,
    NowDep,
    SessionDep,
    check_if_match,
    set_etag,
)
from okr_rollout.api.openapi import CARRIES_ETAG
from okr_rollout.api.pagination import Page
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES, problem_response, request_locale
from okr_rollout.engagements import service as engagements
from okr_rollout.engagements.health import signal_json
from okr_rollout.engagements.router import engagement_out, task_out
from okr_rollout.engagements.schemas import EngagementOut, GateRefusal, HealthSignalOut, TransitionReadinessOut
from okr_rollout.journey.health import STATUS_TITLES, Health
from okr_rollout.waves import service
from okr_rollout.waves.schemas import (
    WaveCreate,
    WaveHealthOut,
    WaveOut,
    WaveReadinessOut,
    WaveTransitionRequest,
    WaveTransitionResult,
)

router = APIRouter(tags=["waves"], responses={**COMMON_RESPONSES, **WRITE_RESPONSES})


def health_out(health: Health | None, locale: str) -> WaveHealthOut | None:
    if health is None:
        return None
    return WaveHealthOut(status=health.status, title=STATUS_TITLES[health.status],
                         signals=[HealthSignalOut.model_validate(signal_json(s, locale)) for s in health.signals])


def wave_out(view: service.WaveView, locale: str) -> WaveOut:
    wave = view.wave
    return WaveOut(id=wave.id, engagement_id=wave.engagement_id, name=wave.name, variant=wave.variant,
                   department_ids=list(wave.department_ids), owner_ids=list(wave.owner_ids), phase=wave.phase,
                   phase_title=view.phase_title, final=view.final, entered_phase_at=wave.entered_phase_at,
                   opened_at=wave.opened_at, version=wave.version,
                   open_tasks=None if view.open_tasks is None else [task_out(t) for t in view.open_tasks],
                   health=health_out(view.health, locale))


@router.get("/api/v1/engagements/{engagement_id}/waves", response_model=Page[WaveOut])
def list_waves(engagement_id: int, request: Request, session: SessionDep, caller: CallerDep, catalog: CatalogDep,
               cursor: Cursor, now: NowDep, limit: Limit = 50) -> Page[WaveOut]:
    views = service.list_waves(session, caller, catalog, engagement_id, now, after=cursor.after, limit=limit + 1)
    locale = request_locale(request)
    return cursor.page([wave_out(v, locale) for v in views], [v.wave.id for v in views], limit)


@router.post("/api/v1/engagements/{engagement_id}/waves", status_code=status.HTTP_201_CREATED,
             response_model=WaveOut,
             responses={409: problem_response(409, "The engagement is not in a phase that opens waves, its playbook "
                                                   "has none, a wave of that name exists, or it was handed over "
                                                   "and the caller is its external coach.")})
def open_wave(engagement_id: int, data: WaveCreate, request: Request, session: SessionDep, caller: CallerDep,
              catalog: CatalogDep, now: NowDep, response: Response) -> WaveOut:
    view = service.open_wave(session, caller, catalog, engagement_id, data, now)
    set_etag(response, view.wave.version)
    response.headers["Location"] = f"/api/v1/engagements/{engagement_id}/waves/{view.wave.id}"
    return wave_out(view, request_locale(request))


@router.get("/api/v1/engagements/{engagement_id}/waves/{wave_id}", response_model=WaveOut)
def get_wave(engagement_id: int, wave_id: int, request: Request, session: SessionDep, caller: CallerDep,
             catalog: CatalogDep, now: NowDep, response: Response) -> WaveOut:
    """The wave, its open tasks and its health now (the shape of an engagement's health, reasons in the caller's
    language)."""
    view = service.view_wave(session, caller, catalog, engagement_id, wave_id, now)
    set_etag(response, view.wave.version)
    return wave_out(view, request_locale(request))


@router.get("/api/v1/engagements/{engagement_id}/waves/{wave_id}/readiness", response_model=WaveReadinessOut)
def get_wave_readiness(engagement_id: int, wave_id: int, request: Request, session: SessionDep, caller: CallerDep,
                       catalog: CatalogDep, now: NowDep) -> WaveReadinessOut:
    report = service.readiness(session, caller, catalog, engagement_id, wave_id, now)
    return WaveReadinessOut(
        engagement_id=engagement_id, wave_id=wave_id, phase=report.phase,
        transitions=[TransitionReadinessOut.model_validate(engagements.readiness_json(t, request_locale(request)))
                     for t in report.transitions])


@router.post("/api/v1/engagements/{engagement_id}/waves/{wave_id}/transitions", response_model=WaveTransitionResult,
             responses={200: CARRIES_ETAG,
                        403: problem_response(403, "An integration's token without the transitions scope "
                                                   "(missing_scope names it)"),
                        409: problem_response(409, "Refused by the wave's gate: the body carries the readiness "
                                                   "report (type /problems/gate-refused), or the trigger does not "
                                                   "leave the wave's phase, or the engagement was handed over and "
                                                   "the caller is its external coach (a plain problem). Nothing "
                                                   "was written.", GateRefusal)})
def fire_wave_transition(engagement_id: int, wave_id: int, data: WaveTransitionRequest, request: Request,
                         session: SessionDep, caller: CallerDep, catalog: CatalogDep, now: NowDep,
                         response: Response, if_match: IfMatch = None) -> WaveTransitionResult:
    expected = None
    if if_match is not None and if_match.strip() != "*":
        current = service.view_wave(session, caller, catalog, engagement_id, wave_id, now)
        check_if_match(if_match, current.wave.version)
        expected = current.wave.version
    moved = service.fire_transition(session, caller, catalog, engagement_id, wave_id, data.trigger, now, expected)
    set_etag(response, moved.view.wave.version)
    return WaveTransitionResult(
        wave=wave_out(moved.view, request_locale(request)), from_phase=moved.source, trigger=data.trigger,
        readiness=TransitionReadinessOut.model_validate(engagements.readiness_json(moved.readiness,
                                                                                    request_locale(request))))


@router.post("/api/v1/engagements/{engagement_id}/handover", response_model=EngagementOut,
             responses={409: problem_response(409, "The engagement has not reached the last phase of its journey, "
                                                   "or was handed over already.")})
def hand_over(engagement_id: int, session: SessionDep, caller: CallerDep, catalog: CatalogDep, now: NowDep,
              response: Response) -> EngagementOut:
    details = service.hand_over(session, caller, catalog, engagement_id, now)
    set_etag(response, details.engagement.version)
    return engagement_out(details)
