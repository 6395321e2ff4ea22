"""Corrections of meetings, CEO support, training sessions, drafting groups and appointments: ``PATCH`` with
``If-Match`` corrects, ``POST …/void`` with a reason voids. Thin handlers over ``records.corrections``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from okr_rollout.api.deps import CallerDep, CatalogDep, IfMatch, NowDep, SessionDep, check_if_match, set_etag
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES
from okr_rollout.models import Appointment, CeoSupportStatement, DraftingGroup, Meeting, TrainingSession
from okr_rollout.records import corrections, service
from okr_rollout.records.context import context
from okr_rollout.records.correction_schemas import (
    CeoSupportCorrection,
    MeetingCorrection,
    TrainingSessionCorrection,
    VoidRequest,
)
from okr_rollout.records.router import _group_out, _support_out
from okr_rollout.records.schemas import (
    AppointmentOut,
    CeoSupportOut,
    DraftingGroupOut,
    MeetingOut,
    TrainingSessionOut,
)

router = APIRouter(prefix="/api/v1/engagements/{engagement_id}", tags=["records"],
                   responses={**COMMON_RESPONSES, **WRITE_RESPONSES})


@router.patch("/meetings/{record_id}", response_model=MeetingOut)
def correct_meeting(engagement_id: int, record_id: int, data: MeetingCorrection, session: SessionDep,
                    caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                    if_match: IfMatch = None) -> MeetingOut:
    """Correct a meeting: only the fields sent change, each checked as when recording one."""
    ctx = context(session, caller, catalog, engagement_id, now)
    meeting = service.get_record(session, Meeting, ctx.engagement.id, record_id)
    check_if_match(if_match, meeting.version)
    meeting = corrections.correct_meeting(ctx, meeting, data)
    set_etag(response, meeting.version)
    return MeetingOut.model_validate(meeting)


@router.post("/meetings/{record_id}/void", response_model=MeetingOut)
def void_meeting(engagement_id: int, record_id: int, data: VoidRequest, session: SessionDep, caller: CallerDep,
                 catalog: CatalogDep, now: NowDep, response: Response, if_match: IfMatch = None) -> MeetingOut:
    """Void a meeting: it stays, shown as voided with the reason, and no gate counts it."""
    ctx = context(session, caller, catalog, engagement_id, now)
    meeting = service.get_record(session, Meeting, ctx.engagement.id, record_id)
    check_if_match(if_match, meeting.version)
    corrections.void_record(ctx, meeting, data.reason)
    set_etag(response, meeting.version)
    return MeetingOut.model_validate(meeting)


@router.patch("/ceo-support/{record_id}", response_model=CeoSupportOut)
def correct_ceo_support(engagement_id: int, record_id: int, data: CeoSupportCorrection, session: SessionDep,
                        caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                        if_match: IfMatch = None) -> CeoSupportOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    statement = service.get_record(session, CeoSupportStatement, ctx.engagement.id, record_id)
    check_if_match(if_match, statement.version)
    statement = corrections.correct_ceo_support(ctx, statement, data)
    set_etag(response, statement.version)
    return _support_out(ctx, statement)


@router.post("/ceo-support/{record_id}/void", response_model=CeoSupportOut)
def void_ceo_support(engagement_id: int, record_id: int, data: VoidRequest, session: SessionDep,
                     caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                     if_match: IfMatch = None) -> CeoSupportOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    statement = service.get_record(session, CeoSupportStatement, ctx.engagement.id, record_id)
    check_if_match(if_match, statement.version)
    corrections.void_record(ctx, statement, data.reason)
    set_etag(response, statement.version)
    return _support_out(ctx, statement)


@router.patch("/training-sessions/{record_id}", response_model=TrainingSessionOut)
def correct_training(engagement_id: int, record_id: int, data: TrainingSessionCorrection, session: SessionDep,
                     caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                     if_match: IfMatch = None) -> TrainingSessionOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    training = service.get_record(session, TrainingSession, ctx.engagement.id, record_id)
    check_if_match(if_match, training.version)
    training = corrections.correct_training(ctx, training, data)
    set_etag(response, training.version)
    return TrainingSessionOut.model_validate(training)


@router.post("/training-sessions/{record_id}/void", response_model=TrainingSessionOut)
def void_training(engagement_id: int, record_id: int, data: VoidRequest, session: SessionDep, caller: CallerDep,
                  catalog: CatalogDep, now: NowDep, response: Response, if_match: IfMatch = None
                  ) -> TrainingSessionOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    training = service.get_record(session, TrainingSession, ctx.engagement.id, record_id)
    check_if_match(if_match, training.version)
    corrections.void_record(ctx, training, data.reason)
    set_etag(response, training.version)
    return TrainingSessionOut.model_validate(training)


@router.post("/drafting-groups/{group_id}/void", response_model=DraftingGroupOut)
def void_drafting_group(engagement_id: int, group_id: int, data: VoidRequest, session: SessionDep,
                        caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                        if_match: IfMatch = None) -> DraftingGroupOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    group = service.get_record(session, DraftingGroup, ctx.engagement.id, group_id)
    check_if_match(if_match, group.version)
    corrections.void_record(ctx, group, data.reason)
    set_etag(response, group.version)
    return _group_out(group, [])


@router.post("/appointments/{appointment_id}/void", response_model=AppointmentOut)
def void_appointment(engagement_id: int, appointment_id: int, data: VoidRequest, session: SessionDep,
                     caller: CallerDep, catalog: CatalogDep, now: NowDep, response: Response,
                     if_match: IfMatch = None) -> AppointmentOut:
    ctx = context(session, caller, catalog, engagement_id, now)
    appointment = service.get_record(session, Appointment, ctx.engagement.id, appointment_id)
    check_if_match(if_match, appointment.version)
    corrections.void_record(ctx, appointment, data.reason)
    set_etag(response, appointment.version)
    return AppointmentOut.model_validate(appointment)
