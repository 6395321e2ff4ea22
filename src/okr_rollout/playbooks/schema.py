"""The typed shape of a playbook file.

These models describe the *structure* of a playbook. What a gate or cadence
kind accepts as ``params`` is declared in :mod:`okr_rollout.playbooks.kinds`;
cross-references (phases, parameters, reachability) are checked by the loader.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from okr_rollout.playbooks.kinds import MeetingKind
from okr_rollout.texts import LocalizedText

IDENTIFIER = r"^[a-z][a-z0-9_]*$"
PARAMETER_REFERENCE = re.compile(r"^\$([a-z][a-z0-9_]*)$")

Identifier = Annotated[StrictStr, Field(pattern=IDENTIFIER, max_length=64)]
AudienceRole = Literal[
    "coach",
    "ceo",
    "executive",
    "department_lead",
    "pilot_member",
    "member",
    "internal_coach",
    "okr_master",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


ParameterType = Literal["integer", "number", "boolean", "string", "string_list", "number_list"]
ParameterValue = StrictBool | StrictInt | StrictFloat | StrictStr | list[StrictStr] | list[StrictFloat | StrictInt]


class Parameter(_Strict):
    type: ParameterType
    default: ParameterValue
    description: LocalizedText
    minimum: StrictInt | StrictFloat | None = None
    maximum: StrictInt | StrictFloat | None = None


# A value in a task, gate or cadence that may name a playbook parameter as "$name".
Referable = StrictInt | StrictFloat | StrictStr | StrictBool | list[Any]


class ChecklistItem(_Strict):
    id: Identifier
    title: LocalizedText


class Task(_Strict):
    id: Identifier
    title: LocalizedText
    description: LocalizedText | None = None
    role: AudienceRole = "coach"
    due_days: Annotated[StrictInt, Field(ge=0)] | StrictStr = Field(
        description="Days after entering the phase; an integer or a $parameter."
    )
    checklist: list[ChecklistItem] = Field(default_factory=list)


class Document(_Strict):
    id: Identifier
    title: LocalizedText
    template: StrictStr | None = None


class Phase(_Strict):
    id: Identifier
    title: LocalizedText
    description: LocalizedText | None = None
    final: StrictBool = False
    expected_days: Annotated[StrictInt, Field(ge=1)] | StrictStr | None = Field(
        default=None, description="How many days the phase is expected to take (its pace); an integer or a "
                                  "$parameter. Absent: the phase has no expected pace (health does not time it).")
    tasks: list[Task] = Field(default_factory=list)
    documents: list[Document] = Field(default_factory=list)


class Criterion(_Strict):
    id: Identifier
    kind: Identifier
    title: LocalizedText | None = None
    severity: Literal["blocking", "advisory"] = "blocking"
    params: dict[StrictStr, Referable] = Field(default_factory=dict)


class Transition(_Strict):
    trigger: Identifier
    source: Identifier
    dest: Identifier
    title: LocalizedText | None = None
    gate: list[Criterion] = Field(default_factory=list)


class Cadence(_Strict):
    id: Identifier
    kind: Identifier
    phases: Annotated[list[Identifier], Field(min_length=1)]
    audience: AudienceRole
    message: LocalizedText
    params: dict[StrictStr, Referable] = Field(default_factory=dict)
    urgent: StrictBool = Field(
        default=False, description="Its e-mails go at once, even to a person who chose a digest or is in quiet hours."
    )


# Who may lead a meeting whose kind has an attendee rule: the engagement's external coach, or a person of the
# organization in that role (a department lead: one with the role, or one who leads a department).
LeaderRole = Literal["coach", "ceo", "executive", "department_lead", "internal_coach", "okr_master"]


class AttendeeRule(_Strict):
    """One attendee leads (one of ``led_by``) and exactly ``others`` more attend; the meeting counts only for
    them (a 1:1 counts for the person, not for the lead)."""

    led_by: Annotated[list[LeaderRole], Field(min_length=1)]
    others: Annotated[StrictInt, Field(ge=1)]


class MeetingKindRules(_Strict):
    """What a meeting of one kind must obey: the outcomes it may record, and who attends."""

    outcomes: list[Identifier] = Field(default_factory=list)
    attendees: AttendeeRule | None = None


class WaveVariant(_Strict):
    """A shortened (or otherwise adapted) wave journey, chosen when a wave is opened: its parameter overrides."""

    title: LocalizedText
    parameters: dict[Identifier, ParameterValue] = Field(default_factory=dict)


class WaveJourney(_Strict):
    """The sub-journey each expansion wave runs: phases, gates, tasks and cadences as for the main journey, with
    the main journey's parameters (``parameters`` overrides their values for every wave, a variant's for its own)."""

    title: LocalizedText
    description: LocalizedText | None = None
    opens_in: Annotated[list[Identifier], Field(min_length=1)] = Field(
        description="The phases of the main journey in which a wave may be opened.")
    initial_phase: Identifier | None = None
    parameters: dict[Identifier, ParameterValue] = Field(default_factory=dict)
    variants: dict[Identifier, WaveVariant] = Field(default_factory=dict)
    phases: Annotated[list[Phase], Field(min_length=1)]
    transitions: list[Transition] = Field(default_factory=list)
    cadences: list[Cadence] = Field(default_factory=list)


class Playbook(_Strict):
    id: Identifier
    version: Annotated[StrictInt, Field(ge=1)]
    title: LocalizedText
    description: LocalizedText
    initial_phase: Identifier | None = Field(
        default=None, description="The phase a new engagement starts in; the first phase when omitted."
    )
    parameters: dict[Identifier, Parameter] = Field(default_factory=dict)
    phases: Annotated[list[Phase], Field(min_length=1)]
    transitions: list[Transition] = Field(default_factory=list)
    cadences: list[Cadence] = Field(default_factory=list)
    meeting_kinds: dict[MeetingKind, MeetingKindRules] | None = Field(
        default=None, description="Each meeting kind's outcomes and attendee rule; a kind left out is not recorded "
                                  "under this playbook. Absent: outcomes are those the gates ask for, attendees free.")
    wave: WaveJourney | None = Field(
        default=None, description="The journey of each expansion wave (a named set of departments after the pilot); "
                                  "absent: the playbook opens no waves.")

    @property
    def start_phase(self) -> str:
        return self.initial_phase or self.phases[0].id

    def phase(self, phase_id: str) -> Phase:
        for phase in self.phases:
            if phase.id == phase_id:
                return phase
        raise KeyError(phase_id)

    def transitions_from(self, phase_id: str) -> list[Transition]:
        return [t for t in self.transitions if t.source == phase_id]
