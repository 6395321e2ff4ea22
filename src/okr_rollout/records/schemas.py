"""API shapes of meetings, CEO support, training sessions, drafting groups and appointments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from okr_rollout.api.fields import BoundedAwareDateTime, BoundedDate, may_be_left_out
from okr_rollout.playbooks.kinds import MeetingKind, SupportLevel
from okr_rollout.records.correction_schemas import Voided

PersonIds = Annotated[list[int], Field(max_length=500)]
Notes = Annotated[str, Field(max_length=10_000)]
RecordKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
AppointmentRole = Literal["internal_coach", "okr_master"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class MeetingCreate(_Input):
    kind: MeetingKind
    held_at: BoundedAwareDateTime = Field(description="When it was held, or (status planned) when it will be.")
    status: Literal["held", "planned"] = Field(
        "held", description="planned: entered ahead (a future date allowed); it counts for no gate until held.")
    department_id: int | None = None
    attendee_ids: PersonIds = []
    outcomes: Annotated[list[RecordKey], Field(max_length=20)] = []
    notes: Notes = ""


class MeetingOut(_Output, Voided):
    id: int
    engagement_id: int
    kind: str
    held_at: datetime
    department_id: int | None
    attendee_ids: list[int]
    outcomes: list[str]
    notes: str
    status: str = Field(description="planned, held or cancelled; only a held meeting counts for a gate.")
    counts_for_ids: list[int] | None = Field(
        description="Whom the meeting counts for, when its kind's attendee rule says (a 1:1: the person, not the "
                    "one leading it); null: every attendee.")
    created_at: datetime
    version: int


class StatusUpdate(_Input):
    """A planned meeting or training session was held, or was cancelled."""

    status: Literal["held", "cancelled"]


class CeoSupportCreate(_Input):
    level: SupportLevel
    stated_on: BoundedDate
    note: Notes = ""


class CeoSupportOut(_Output, Voided):
    id: int
    engagement_id: int
    level: str
    stated_on: date
    note: str
    valid_until: date | None = Field(description="The last day this statement counts; later it has faded.")
    faded: bool
    created_at: datetime
    version: int


class TrainingSessionCreate(_Input):
    held_on: BoundedDate = Field(description="When it was held, or (status planned) when it will be.")
    status: Literal["held", "planned"] = Field(
        "held", description="planned: entered ahead (a future date allowed); it counts for no gate until held.")
    hours: Annotated[float, Field(gt=0, le=24)]
    modules: Annotated[list[RecordKey], Field(min_length=1, max_length=20)]
    attendee_ids: PersonIds = []
    notes: Notes = ""
    trainer_id: int | None = Field(None, description="Who gave it: one of the engagement's external coaches or a "
                                                     "person of the organization (an internal coach).")


class TrainingSessionOut(_Output, Voided):
    id: int
    engagement_id: int
    held_on: date
    hours: float
    modules: list[str]
    attendee_ids: list[int]
    notes: str
    trainer_id: int | None = None
    status: str = Field(description="planned, held or cancelled; only a held session counts for a gate.")
    created_at: datetime
    version: int


class DraftingGroupCreate(_Input):
    member_ids: Annotated[list[int], Field(min_length=1, max_length=100)]
    department_id: int | None = None
    started_on: BoundedDate
    ended_on: BoundedDate | None = None


class DraftingGroupUpdate(_Input):
    member_ids: Annotated[list[int], Field(min_length=1, max_length=100)] | None = may_be_left_out()
    department_id: int | None = None
    started_on: BoundedDate | None = may_be_left_out()
    ended_on: BoundedDate | None = None


class DraftingGroupOut(_Output, Voided):
    id: int
    engagement_id: int
    department_id: int | None
    member_ids: list[int]
    started_on: date
    ended_on: date | None
    created_at: datetime
    version: int
    warnings: list[str] = []


class AppointmentCreate(_Input):
    person_id: int
    role: AppointmentRole
    trained: bool = False
    trained_on: BoundedDate | None = None
    ready: bool = False


class AppointmentUpdate(_Input):
    trained: bool | None = may_be_left_out()
    trained_on: BoundedDate | None = None
    ready: bool | None = may_be_left_out()


class AppointmentOut(_Output, Voided):
    id: int
    engagement_id: int
    person_id: int
    role: str
    trained: bool
    trained_on: date | None
    ready: bool
    created_at: datetime
    updated_at: datetime
    version: int
