"""Statements about an engagement's records: meetings, CEO support, training sessions, drafting groups and
appointments."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, select

from okr_rollout.models import Appointment, CeoSupportStatement, DraftingGroup, Meeting, TrainingSession

# --- reads for the pages

AnyRecord = TypeVar("AnyRecord", Meeting, CeoSupportStatement, TrainingSession, DraftingGroup, Appointment)


def latest_records(model: type[AnyRecord], engagement_id: int, limit: int) -> Select[AnyRecord]:
    """The engagement's latest records of one kind, newest first."""
    return select(model).where(model.engagement_id == engagement_id).order_by(model.id.desc()).limit(limit)


def appointment_of(engagement_id: int, person_id: int, role: str) -> Select[Appointment]:
    """The appointment of a person in a role, if there is one."""
    return select(Appointment).where(Appointment.engagement_id == engagement_id, Appointment.person_id == person_id,
                                     Appointment.role == role)
