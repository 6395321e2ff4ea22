"""/api/v1/engagements/{id}/meetings, ceo-support, training-sessions, drafting-groups, appointments: thin handlers."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

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
from okr_rollout.api.pagination import Page
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES
from okr_rollout.models import Appointment, CeoSupportStatement, DraftingGroup, Meeting, TrainingSession
from okr_rollout.records import corrections, service
from okr_rollout.records.context import RecordContext, context
from okr_rollout.records.correction_schemas import voided_fields
from okr_rollout.records.schemas import (
    AppointmentCreate,
    AppointmentOut,
    AppointmentUpdate,
    CeoSupportCreate,
    CeoSupportOut,
    DraftingGroupCreate,
    DraftingGroupOut,
    DraftingGroupUpdate,
    MeetingCreate,
    MeetingOut,
    StatusUpdate,
    TrainingSessionCreate,
    TrainingSessionOut,
)

# ?status=planned lists what is coming up (held, cancelled: the others).
StatusFilter = Annotated[Literal["planned", "held", "cancelled"] | None,
                         Query(description="Only the records in this status (planned: what is coming up).")]

router = APIRouter(prefix="/api/v1/engagements/{engagement_id}", tags=["records"],
                   responses={**COMMON_RESPONSES, **WRITE_RESPONSES})


def _created(response: Response, engagement_id: int, collection: str, record_id: int, version: int | None) -> None:
    response.headers["Location"] = f"/api/v1/engagements/{engagement_id}/{collection}/{record_id}"
    if version is not None:
        set_etag(response, version)


@router.post("/meetings", status_code=status.HTTP_201_CREATED, response_model=MeetingOut)
def record_meeting(engagement_id: int, data: MeetingCreate, session: SessionDep, caller: CallerDep,
                   catalog: CatalogDep, now: NowDep, response: Response) -> MeetingOut:
    meeting = service.record_meeting(context(session, caller, catalog, engagement_id, now), data)
    _created(response, engagement_id, "meetings", meeting.id, meeting.version)
    return MeetingOut.model_validate(meeting)


@router.get("/meetings", response_model=Page[MeetingOut])
def list_meetings(engagement_id: int, session: SessionDep, caller: CallerDep, catalog: CatalogDep, now: NowDep,
                  cursor: Cursor, limit: Limit = 50, status: StatusFilter = None) -> Page[MeetingOut]:
    ctx = context(session, caller, catalog, engagement_id, now)
    rows = service.list_scheduled(session, Meeting, ctx.engagement.id, status, after=cursor.after, limit=limit)
    return cursor.page([MeetingOut.model_validate(m) for m in rows], [m.id for m in rows], limit)


def _support_out(ctx: RecordContext, statement: CeoSupportStatement) -> CeoSupportOut:
    valid_until = service.support_valid_until(ctx, statement.stated_on)
    return CeoSupportOut(id=statement.id, engagement_id=statement.engagement_id, level=statement.level,
                         stated_on=statement.stated_on, note=statement.note, valid_until=valid_until,
                         faded=valid_until is not None and ctx.today > valid_until, created_at=statement.created_at,
                         version=statement.version, **voided_fields(statement))


@router.post("/ceo-support", status_code=status.HTTP_201_CREATED, response_model=CeoSupportOut)
def state_ceo_support(engagement_id: int, data: CeoSupportCreate, session: SessionDep, caller: CallerDep,
                      catalog: CatalogDep, now: NowDep, response: Response) -> CeoSupportOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    statement = service.state_ceo_support(ctx, data)
    _created(response, engagement_id, "ceo-support", statement.id, statement.version)
    return _support_out(ctx, statement)


@router.get("/meetings/{record_id}", response_model=MeetingOut)
def get_meeting(engagement_id: int, record_id: int, session: SessionDep, caller: CallerDep, catalog: CatalogDep,
                now: NowDep, response: Response) -> MeetingOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    meeting = service.get_record(session, Meeting, ctx.engagement.id, record_id)
    set_etag(response, meeting.version)
    return MeetingOut.model_validate(meeting)


@router.put("/meetings/{record_id}/status", response_model=MeetingOut)
def set_meeting_status(engagement_id: int, record_id: int, data: StatusUpdate, session: SessionDep,
                       caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                       if_match: IfMatch = None) -> MeetingOut:
    """A planned meeting was held (it counts for the gates from now on) or was cancelled."""
    ctx = context(session, caller, catalog, engagement_id, now)
    meeting = service.get_record(session, Meeting, ctx.engagement.id, record_id)
    check_if_match(if_match, meeting.version)
    meeting = service.set_meeting_status(ctx, meeting, data.status)
    set_etag(response, meeting.version)
    return MeetingOut.model_validate(meeting)


@router.get("/ceo-support", response_model=Page[CeoSupportOut])
def list_ceo_support(engagement_id: int, session: SessionDep, caller: CallerDep, catalog: CatalogDep, now: NowDep,
                     cursor: Cursor, limit: Limit = 50) -> Page[CeoSupportOut]:
    ctx = context(session, caller, catalog, engagement_id, now)
    rows = service.list_records(session, CeoSupportStatement, ctx.engagement.id, after=cursor.after,
                                limit=limit)
    return cursor.page([_support_out(ctx, s) for s in rows], [s.id for s in rows], limit)


@router.get("/ceo-support/{record_id}", response_model=CeoSupportOut)
def get_ceo_support(engagement_id: int, record_id: int, session: SessionDep, caller: CallerDep,
                    catalog: CatalogDep, now: NowDep, response: Response) -> CeoSupportOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    statement = service.get_record(session, CeoSupportStatement, ctx.engagement.id, record_id)
    set_etag(response, statement.version)
    return _support_out(ctx, statement)


@router.post("/training-sessions", status_code=status.HTTP_201_CREATED, response_model=TrainingSessionOut)
def record_training(engagement_id: int, data: TrainingSessionCreate, session: SessionDep, caller: CallerDep,
                    catalog: CatalogDep, now: NowDep, response: Response) -> TrainingSessionOut:
    training = service.record_training(context(session, caller, catalog, engagement_id, now), data)
    _created(response, engagement_id, "training-sessions", training.id, training.version)
    return TrainingSessionOut.model_validate(training)


@router.get("/training-sessions", response_model=Page[TrainingSessionOut])
def list_training(engagement_id: int, session: SessionDep, caller: CallerDep, catalog: CatalogDep, now: NowDep,
                  cursor: Cursor, limit: Limit = 50, status: StatusFilter = None) -> Page[TrainingSessionOut]:
    ctx = context(session, caller, catalog, engagement_id, now)
    rows = service.list_scheduled(session, TrainingSession, ctx.engagement.id, status, after=cursor.after,
                                  limit=limit)
    return cursor.page([TrainingSessionOut.model_validate(t) for t in rows], [t.id for t in rows], limit)


@router.get("/training-sessions/{record_id}", response_model=TrainingSessionOut)
def get_training(engagement_id: int, record_id: int, session: SessionDep, caller: CallerDep, catalog: CatalogDep,
                 now: NowDep, response: Response) -> TrainingSessionOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    training = service.get_record(session, TrainingSession, ctx.engagement.id, record_id)
    set_etag(response, training.version)
    return TrainingSessionOut.model_validate(training)


@router.put("/training-sessions/{record_id}/status", response_model=TrainingSessionOut)
def set_training_status(engagement_id: int, record_id: int, data: StatusUpdate, session: SessionDep,
                        caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                        if_match: IfMatch = None) -> TrainingSessionOut:
    """A planned training session was held (it counts for the gates from now on) or was cancelled."""
    ctx = context(session, caller, catalog, engagement_id, now)
    training = service.get_record(session, TrainingSession, ctx.engagement.id, record_id)
    check_if_match(if_match, training.version)
    training = service.set_training_status(ctx, training, data.status)
    set_etag(response, training.version)
    return TrainingSessionOut.model_validate(training)


def _group_out(group: DraftingGroup, warnings: list[str]) -> DraftingGroupOut:
    out = DraftingGroupOut.model_validate(group)
    out.warnings = warnings
    return out


@router.post("/drafting-groups", status_code=status.HTTP_201_CREATED, response_model=DraftingGroupOut)
def record_drafting_group(engagement_id: int, data: DraftingGroupCreate, session: SessionDep, caller: CallerDep,
                          catalog: CatalogDep, now: NowDep, response: Response) -> DraftingGroupOut:
    group, warnings = service.record_drafting_group(context(session, caller, catalog, engagement_id, now), data)
    _created(response, engagement_id, "drafting-groups", group.id, group.version)
    return _group_out(group, warnings)


@router.get("/drafting-groups", response_model=Page[DraftingGroupOut])
def list_drafting_groups(engagement_id: int, session: SessionDep, caller: CallerDep, catalog: CatalogDep,
                         now: NowDep, cursor: Cursor, limit: Limit = 50) -> Page[DraftingGroupOut]:
    ctx = context(session, caller, catalog, engagement_id, now)
    rows = service.list_records(session, DraftingGroup, ctx.engagement.id, after=cursor.after,
                                limit=limit)
    return cursor.page([_group_out(g, []) for g in rows], [g.id for g in rows], limit)


@router.get("/drafting-groups/{group_id}", response_model=DraftingGroupOut)
def get_drafting_group(engagement_id: int, group_id: int, session: SessionDep, caller: CallerDep,
                       catalog: CatalogDep, now: NowDep, response: Response) -> DraftingGroupOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    group = service.get_record(session, DraftingGroup, ctx.engagement.id, group_id)
    set_etag(response, group.version)
    return _group_out(group, [])


@router.patch("/drafting-groups/{group_id}", response_model=DraftingGroupOut)
def update_drafting_group(engagement_id: int, group_id: int, data: DraftingGroupUpdate, session: SessionDep,
                          caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                          if_match: IfMatch = None) -> DraftingGroupOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    group = service.get_record(session, DraftingGroup, ctx.engagement.id, group_id)
    check_if_match(if_match, group.version)
    group, warnings = corrections.correct_drafting_group(ctx, group, data)
    set_etag(response, group.version)
    return _group_out(group, warnings)


@router.post("/appointments", status_code=status.HTTP_201_CREATED, response_model=AppointmentOut)
def appoint(engagement_id: int, data: AppointmentCreate, session: SessionDep, caller: CallerDep,
            catalog: CatalogDep, now: NowDep, response: Response) -> AppointmentOut:
    appointment = service.appoint(context(session, caller, catalog, engagement_id, now), data)
    _created(response, engagement_id, "appointments", appointment.id, appointment.version)
    return AppointmentOut.model_validate(appointment)


@router.get("/appointments", response_model=Page[AppointmentOut])
def list_appointments(engagement_id: int, session: SessionDep, caller: CallerDep, catalog: CatalogDep,
                      now: NowDep, cursor: Cursor, limit: Limit = 50) -> Page[AppointmentOut]:
    ctx = context(session, caller, catalog, engagement_id, now)
    rows = service.list_records(session, Appointment, ctx.engagement.id, after=cursor.after, limit=limit)
    return cursor.page([AppointmentOut.model_validate(a) for a in rows], [a.id for a in rows], limit)


@router.get("/appointments/{appointment_id}", response_model=AppointmentOut)
def get_appointment(engagement_id: int, appointment_id: int, session: SessionDep, caller: CallerDep,
                    catalog: CatalogDep, now: NowDep, response: Response) -> AppointmentOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    appointment = service.get_record(session, Appointment, ctx.engagement.id, appointment_id)
    set_etag(response, appointment.version)
    return AppointmentOut.model_validate(appointment)


@router.patch("/appointments/{appointment_id}", response_model=AppointmentOut)
def update_appointment(engagement_id: int, appointment_id: int, data: AppointmentUpdate, session: SessionDep,
                       caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                       if_match: IfMatch = None) -> AppointmentOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    appointment = service.get_record(session, Appointment, ctx.engagement.id, appointment_id)
    check_if_match(if_match, appointment.version)
    appointment = corrections.correct_appointment(ctx, appointment, data)
    set_etag(response, appointment.version)
    return AppointmentOut.model_validate(appointment)
