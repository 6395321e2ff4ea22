"""/api/v1/engagements and /api/v1/tasks: thin handlers."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response, status

from okr_rollout.api.deps import (
    BearerDep,
    CallerDep,
    CatalogDep,
    Cursor,
    IdFilter,
    IfMatch,
    Limit,
    NowDep,
    SessionDep,
    accept_caller,
    app_catalog,
    app_now,
    bearer_token,
    check_if_match,
    end_in_handler,
    serialized,
    set_etag,
)
from okr_rollout.api.openapi import CARRIES_ETAG
from okr_rollout.api.pagination import Page
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES, problem_response, request_locale
from okr_rollout.auth.service import authenticate
from okr_rollout.auth.visibility import visible_engagement
from okr_rollout.engagements import health, service, tasks
from okr_rollout.engagements.schemas import (
    ChecklistItemOut,
    ChecklistUpdate,
    EngagementCreate,
    EngagementOut,
    EventOut,
    GateRefusal,
    HealthOut,
    HealthSignalOut,
    PlaybookPin,
    ReadinessOut,
    TaskOut,
    TaskUpdate,
    TransitionReadinessOut,
    TransitionRequest,
    TransitionResult,
)
from okr_rollout.events import service as events
from okr_rollout.journey.health import STATUS_TITLES
from okr_rollout.models import Task
from okr_rollout.texts import LocalizedText

router = APIRouter(tags=["engagements"], responses={**COMMON_RESPONSES, **WRITE_RESPONSES})


def task_out(task: Task | tasks.OpenTask) -> TaskOut:
    return TaskOut(
        id=task.id, engagement_id=task.engagement_id, wave_id=getattr(task, "wave_id", None), phase=task.phase,
        key=task.task_key,
        title=LocalizedText(en=task.title_en, zh_tw=task.title_zh_tw), role=task.role, due_at=task.due_at,
        done=task.done, done_at=task.done_at, assignee_id=task.assignee_id, version=task.version,
        checklist=[ChecklistItemOut(id=i.id, key=i.item_key, title=LocalizedText(en=i.title_en, zh_tw=i.title_zh_tw),
                                    checked=i.checked, checked_at=i.checked_at) for i in task.checklist],
    )


def engagement_out(details: service.EngagementDetails) -> EngagementOut:
    engagement = details.engagement
    return EngagementOut(
        id=engagement.id, organization_id=engagement.organization_id, phase=engagement.phase,
        entered_phase_at=engagement.entered_phase_at,
        playbook=PlaybookPin(id=engagement.playbook_id, version=engagement.playbook_version,
                             sha256=engagement.playbook_sha256),
        coach_ids=details.coach_ids, created_at=engagement.created_at, version=engagement.version,
        handed_over_at=engagement.handed_over_at,
        open_tasks=None if details.open_tasks is None else [task_out(t) for t in details.open_tasks],
    )


@router.post("/api/v1/engagements", status_code=status.HTTP_201_CREATED, response_model=EngagementOut)
def create_engagement(data: EngagementCreate, session: SessionDep, caller: CallerDep, catalog: CatalogDep,
                      now: NowDep, response: Response) -> EngagementOut:
    engagement = service.create_engagement(session, caller, catalog, data, now)
    set_etag(response, engagement.version)
    response.headers["Location"] = f"/api/v1/engagements/{engagement.id}"
    return engagement_out(service.details(session, service.EngagementRecord.of(engagement)))


@router.get("/api/v1/engagements", response_model=Page[EngagementOut])
def list_engagements(
    session: SessionDep, caller: CallerDep, cursor: Cursor, limit: Limit = 50,
    phase: str | None = Query(None, max_length=64), coach_id: IdFilter = None,
    organization_id: IdFilter = None,
) -> Page[EngagementOut]:
    rows = service.list_engagements(session, caller, phase=phase, coach_id=coach_id,
                                    organization_id=organization_id, after=cursor.after, limit=limit)
    coaches = service.coaches_of(session, [e.id for e in rows])
    items = [engagement_out(service.EngagementDetails(service.EngagementRecord.of(e), coaches.get(e.id, []), None))
             for e in rows]
    return cursor.page(items, [e.id for e in rows], limit)


# The CRM's most frequent call: the token is checked in the handler's own thread, not in a dependency's (a hop to a
# worker thread costs as much as the database's answer).
@router.get("/api/v1/engagements/{engagement_id}", response_model=EngagementOut)
def get_engagement(engagement_id: int, request: Request, session: SessionDep, credentials: BearerDep) -> Response:
    caller = accept_caller(request, authenticate(session, bearer_token(credentials)))
    details = service.view_engagement(session, caller, engagement_id)
    return serialized(engagement_out(details), version=details.engagement.version)


@router.get("/api/v1/engagements/{engagement_id}/readiness", response_model=ReadinessOut)
def get_readiness(engagement_id: int, request: Request, session: SessionDep, caller: CallerDep, catalog: CatalogDep,
                  now: NowDep) -> ReadinessOut:
    engagement = visible_engagement(session, caller, engagement_id)
    report = service.readiness(session, catalog, engagement, now)
    return ReadinessOut(
        engagement_id=engagement.id, phase=report.phase,
        transitions=[TransitionReadinessOut.model_validate(service.readiness_json(t, request_locale(request)))
                     for t in report.transitions],
    )


@router.get("/api/v1/engagements/{engagement_id}/health", response_model=HealthOut)
def get_health(engagement_id: int, request: Request, session: SessionDep, caller: CallerDep, catalog: CatalogDep,
               now: NowDep) -> HealthOut:
    """The engagement's health now: stuck, at risk, ready to move or on track, and every signal with its reason
    and evidence (time in phase against its expected pace, the next gate, CEO support, recent check-ins and
    meetings, overdue tasks, the last activity)."""
    engagement = visible_engagement(session, caller, engagement_id)
    found = health.health_of(session, catalog, engagement.id, now)
    locale = request_locale(request)
    return HealthOut(engagement_id=engagement.id, phase=engagement.phase, status=found.status,
                     title=STATUS_TITLES[found.status],
                     signals=[HealthSignalOut.model_validate(health.signal_json(s, locale)) for s in found.signals])


@router.post("/api/v1/engagements/{engagement_id}/transitions", response_model=TransitionResult,
             responses={200: CARRIES_ETAG,
                        403: problem_response(403, "An integration's token without the transitions scope "
                                                   "(missing_scope names it)"),
                        409: problem_response(409, "Refused by the gate: the body carries the readiness report "
                                                   "(type /problems/gate-refused), or the trigger does not leave "
                                                   "the current phase (a plain problem). Nothing was written.",
                                              GateRefusal)})
def fire_transition(engagement_id: int, data: TransitionRequest, request: Request, session: SessionDep,
                    credentials: BearerDep, if_match: IfMatch = None) -> Response:
    # The CRM's hot write: the token is read, the engagement moved and the unit of work committed in the handler's
    # one worker thread (one hop, not three). The catalog and the clock are the app's, read here: as dependencies
    # each would cost a step of FastAPI's dependency solving.
    caller = accept_caller(request, authenticate(session, bearer_token(credentials)))
    catalog, now = app_catalog(request), app_now(request)
    expected = None
    if if_match is not None and if_match.strip() != "*":
        current = visible_engagement(session, caller, engagement_id)
        check_if_match(if_match, current.version)
        expected = current.version
    moved = service.fire_transition(session, caller, catalog, engagement_id, data.trigger, now, expected)
    answer = serialized(TransitionResult(
        engagement=engagement_out(moved.details), from_phase=moved.source, trigger=data.trigger,
        readiness=TransitionReadinessOut.model_validate(service.readiness_json(moved.readiness,
                                                                                request_locale(request)))),
        version=moved.details.engagement.version)
    end_in_handler(request, session)
    return answer


@router.get("/api/v1/engagements/{engagement_id}/tasks", response_model=Page[TaskOut])
def list_tasks(engagement_id: int, session: SessionDep, caller: CallerDep, cursor: Cursor, limit: Limit = 50
               ) -> Page[TaskOut]:
    engagement = visible_engagement(session, caller, engagement_id)
    found = tasks.list_tasks(session, engagement, after=cursor.after, limit=limit)
    return cursor.page([task_out(t) for t in found], [t.id for t in found], limit)


@router.patch("/api/v1/tasks/{task_id}", response_model=TaskOut)
def update_task(task_id: int, data: TaskUpdate, session: SessionDep, caller: CallerDep, now: NowDep,
                response: Response, if_match: IfMatch = None) -> TaskOut:
    task = tasks.visible_task(session, caller, task_id)
    check_if_match(if_match, task.version)
    task = tasks.update_task(session, caller, task, data, now)
    set_etag(response, task.version)
    return task_out(task)


@router.patch("/api/v1/tasks/{task_id}/checklist/{item_id}", response_model=TaskOut)
def check_item(task_id: int, item_id: int, data: ChecklistUpdate, session: SessionDep, caller: CallerDep,
               now: NowDep, response: Response, if_match: IfMatch = None) -> TaskOut:
    task = tasks.visible_task(session, caller, task_id)
    check_if_match(if_match, task.version)
    task = tasks.check_item(session, caller, task, item_id, data.checked, now)
    set_etag(response, task.version)
    return task_out(task)


@router.get("/api/v1/engagements/{engagement_id}/events", response_model=Page[EventOut])
def list_events(engagement_id: int, session: SessionDep, caller: CallerDep, cursor: Cursor, limit: Limit = 50
                ) -> Page[EventOut]:
    engagement = visible_engagement(session, caller, engagement_id)
    rows = events.for_engagement(session, engagement.id, after=cursor.after, limit=limit + 1)
    return cursor.page([EventOut.model_validate(e) for e in rows], [e.id for e in rows], limit)



