"""The vocabulary a playbook may use: gate-criterion kinds and cadence kinds.

Each kind declares the ``params`` it accepts as a pydantic model. The journey
engine implements one check (or one schedule) per kind; a test keeps the two
lists equal. Numbers never have defaults here: the playbook supplies them,
usually by referencing one of its ``parameters`` as ``$name``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, model_validator

Count = Annotated[int, Field(ge=0, strict=True)]
PositiveCount = Annotated[int, Field(ge=1, strict=True)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
Hour = Annotated[int, Field(ge=0, le=23, strict=True)]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)
OrganizationField = Literal["mission", "vision_1y", "vision_5y", "vision_10y", "strategies"]
MeetingKind = Literal[
    "executive", "kickoff", "drafting_session", "weekly_team", "one_on_one", "quarter_review", "culture"
]
SupportLevel = Literal["none", "partial", "full"]
SUPPORT_LEVELS: tuple[SupportLevel, ...] = ("none", "partial", "full")


class KindParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _PilotScoped(KindParams):
    small_company_headcount: PositiveCount = Field(
        description="At or below this headcount the whole company is the pilot."
    )


class _QuarterScoped(KindParams):
    quarter: PositiveCount = Field(description="Which quarter of the engagement: 1 for Q1, 2 for Q2.")


# --- gate criteria --------------------------------------------------------------------------


class CoachAssigned(KindParams):
    min_coaches: PositiveCount


class CeoSupport(KindParams):
    max_age_days: PositiveCount
    min_level: SupportLevel


class MeetingOutcomes(KindParams):
    meeting_kind: MeetingKind
    outcomes: Annotated[list[StrictStr], Field(min_length=1)]


class OrganizationFoundations(KindParams):
    fields: Annotated[list[OrganizationField], Field(min_length=1)]


class PilotDepartments(_PilotScoped):
    min_departments: PositiveCount
    max_departments: PositiveCount

    @model_validator(mode="after")
    def _ordered(self) -> PilotDepartments:
        if self.min_departments > self.max_departments:
            raise ValueError("min_departments must not exceed max_departments")
        return self


class HeadcountAtMost(KindParams):
    max_headcount: PositiveCount


class TrainingCompleted(_PilotScoped):
    min_hours: Annotated[float, Field(gt=0)]
    modules: Annotated[list[StrictStr], Field(min_length=1)]
    min_attendance_share: Share = Field(
        description="Share of the pilot population that attended every module at least once."
    )


class DraftingGroups(_PilotScoped):
    min_size: PositiveCount
    max_size: PositiveCount

    @model_validator(mode="after")
    def _ordered(self) -> DraftingGroups:
        if self.min_size > self.max_size:
            raise ValueError("min_size must not exceed max_size")
        return self


class DraftingDuration(KindParams):
    min_weeks: Count
    max_weeks: PositiveCount

    @model_validator(mode="after")
    def _ordered(self) -> DraftingDuration:
        if self.min_weeks > self.max_weeks:
            raise ValueError("min_weeks must not exceed max_weeks")
        return self


class OkrSoftwareIntroduced(KindParams):
    pass


class QuarterPlanned(_QuarterScoped, _PilotScoped):
    pass


class PilotMembersOwnOkrs(_QuarterScoped, _PilotScoped):
    pass


class CheckInRate(_QuarterScoped):
    interval_days: PositiveCount
    min_rate: Share


class MeetingCadence(_QuarterScoped, _PilotScoped):
    meeting_kind: MeetingKind
    per: Literal["department", "person"]
    interval_days: PositiveCount
    min_rate: Share


class QuarterEnded(_QuarterScoped):
    pass


class QuarterScored(_QuarterScoped):
    scale: Annotated[list[Annotated[float, Field(ge=0.0, le=1.0)]], Field(min_length=2)]


class OkrDecisions(_QuarterScoped):
    decisions: Annotated[list[StrictStr], Field(min_length=1)]


class NextQuarterDeadline(_QuarterScoped):
    max_days: PositiveCount


class InternalCoaches(KindParams):
    min_coaches: PositiveCount
    trained: StrictBool


class OkrMaster(KindParams):
    ready: StrictBool


class PilotCompleted(KindParams):
    quarters: PositiveCount
    min_average_score: Share
    decisions: Annotated[list[StrictStr], Field(min_length=1)]


class TrainedInternally(KindParams):
    required: StrictBool = Field(description="Whether the training must be given by people of the organization, "
                                             "none of it by the engagement's external coach.")


GATE_KINDS: dict[str, type[KindParams]] = {
    "coach_assigned": CoachAssigned,
    "ceo_support": CeoSupport,
    "meeting_outcomes": MeetingOutcomes,
    "organization_foundations": OrganizationFoundations,
    "pilot_departments": PilotDepartments,
    "headcount_at_most": HeadcountAtMost,
    "training_completed": TrainingCompleted,
    "drafting_groups": DraftingGroups,
    "drafting_duration": DraftingDuration,
    "okr_software_introduced": OkrSoftwareIntroduced,
    "quarter_planned": QuarterPlanned,
    "pilot_members_own_okrs": PilotMembersOwnOkrs,
    "check_in_rate": CheckInRate,
    "meeting_cadence": MeetingCadence,
    "quarter_ended": QuarterEnded,
    "quarter_scored": QuarterScored,
    "okr_decisions": OkrDecisions,
    "next_quarter_deadline": NextQuarterDeadline,
    "internal_coaches": InternalCoaches,
    "okr_master": OkrMaster,
    "pilot_completed": PilotCompleted,
    "trained_internally": TrainedInternally,
}


# --- cadences -------------------------------------------------------------------------------


class Weekly(KindParams):
    """On ``weekday`` at ``hour``, every ``every_days`` days (a week unless a playbook interval says otherwise:
    check-ins every 14 days remind every 14 days)."""

    weekday: Weekday
    hour: Hour
    every_days: PositiveCount = 7


class EveryNDays(KindParams):
    days: PositiveCount
    hour: Hour


class DeadlineAfterPhaseEntry(KindParams):
    days: PositiveCount
    warn_before_days: Count
    hour: Hour


class DeadlineAfterQuarterEnd(KindParams):
    days: PositiveCount
    warn_before_days: Count
    hour: Hour


class QuarterEnd(KindParams):
    days_before: Count
    hour: Hour


class StaleCeoSupport(KindParams):
    max_age_days: PositiveCount
    repeat_days: PositiveCount
    hour: Hour


class CheckInEscalation(KindParams):
    """A weekly check-in that is still missing: remind its owner, then tell the internal coach, then the OKR Master.

    The check-in of a period is due on ``weekday`` at ``hour``; the period runs ``interval_days`` from there.
    Each step names whoever has not checked in by the step's day; a step with nobody to name is not due.
    """

    weekday: Weekday
    hour: Hour
    interval_days: PositiveCount
    remind_when_due: StrictBool = Field(
        description="Also remind owners when the check-in falls due (false when a weekly cadence already does)."
    )
    repeat_after_days: PositiveCount
    internal_coach_after_days: PositiveCount
    okr_master_after_days: PositiveCount

    @model_validator(mode="after")
    def _ordered(self) -> CheckInEscalation:
        if not self.repeat_after_days < self.internal_coach_after_days <= self.okr_master_after_days:
            raise ValueError(
                "expected repeat_after_days < internal_coach_after_days <= okr_master_after_days"
            )
        return self


CADENCE_KINDS: dict[str, type[KindParams]] = {
    "weekly": Weekly,
    "every_n_days": EveryNDays,
    "deadline_after_phase_entry": DeadlineAfterPhaseEntry,
    "deadline_after_quarter_end": DeadlineAfterQuarterEnd,
    "quarter_end": QuarterEnd,
    "stale_ceo_support": StaleCeoSupport,
    "check_in_escalation": CheckInEscalation,
}
