"""API shapes of corrections: what a PATCH may change on each kind of record, a void's reason, and the void
fields every record shows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from okr_rollout.api.fields import BoundedAwareDateTime, BoundedDate, OneLine
from okr_rollout.playbooks.kinds import MeetingKind, SupportLevel

PersonIds = Annotated[list[int], Field(max_length=500)]
Notes = Annotated[str, Field(max_length=10_000)]
RecordKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class _Correction(BaseModel):
    """Only the fields sent change; a field left out keeps its value."""

    model_config = ConfigDict(extra="forbid")


class Voided(BaseModel):
    """How a record shows it was voided: it stays, and no gate counts it."""

    voided_at: datetime | None = Field(None, description="When the record was voided; null while it counts.")
    voided_by: str | None = Field(None, description="Who voided it.")
    void_reason: str | None = Field(None, description="Why it was voided.")


def voided_fields(record: Any) -> dict[str, Any]:
    """The void fields of a record, for an output built field by field."""
    return {"voided_at": record.voided_at, "voided_by": record.voided_by, "void_reason": record.void_reason}


class VoidRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason = Field(description="Why the record is voided; kept with it and in the history.")


class ReopenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason = Field(description="Why the closed quarter is reopened; kept in the history.")


class MeetingCorrection(_Correction):
    kind: MeetingKind | None = None
    held_at: BoundedAwareDateTime | None = None
    department_id: int | None = None
    attendee_ids: PersonIds | None = None
    outcomes: Annotated[list[RecordKey], Field(max_length=20)] | None = None
    notes: Notes | None = None


class CeoSupportCorrection(_Correction):
    level: SupportLevel | None = None
    stated_on: BoundedDate | None = None
    note: Notes | None = None


class TrainingSessionCorrection(_Correction):
    held_on: BoundedDate | None = None
    hours: Annotated[float, Field(gt=0, le=24)] | None = None
    modules: Annotated[list[RecordKey], Field(min_length=1, max_length=20)] | None = None
    attendee_ids: PersonIds | None = None
    notes: Notes | None = None
    trainer_id: int | None = None


class QuarterCorrection(_Correction):
    label: Annotated[OneLine, Field(min_length=1, max_length=32)] | None = None
    starts_on: BoundedDate | None = None
    ends_on: BoundedDate | None = None


class OkrCorrection(_Correction):
    objective: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    owner_id: int | None = None
    department_id: int | None = None


class KeyResultCorrection(_Correction):
    metric: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    start: Finite | None = None
    target: Finite | None = None
    current: Finite | None = None
    unit: Annotated[str, Field(max_length=32)] | None = None


class CheckInCorrection(_Correction):
    week_of: BoundedDate | None = None
    value: Finite | None = None
    confidence: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    note: Notes | None = None
    author_id: int | None = None


# Fields a correction may set to null (clear); any other field sent as null is refused.
NULLABLE = frozenset({"department_id", "owner_id", "confidence", "author_id", "ended_on", "trained_on"})

