"""API shapes of playbook diffs and engagement migrations (the plan is also the event's payload)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from okr_rollout.engagements.schemas import ReadinessOut
from okr_rollout.texts import LocalizedText
from okr_rollout.versions.diff import PlaybookDiff

PhaseId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


# --- diff ---------------------------------------------------------------------------------------------------


class ChangeOut(BaseModel):
    area: Literal["playbook", "parameter", "phase", "document", "task", "checklist_item", "transition",
                  "gate_criterion", "cadence"]
    action: Literal["added", "removed", "changed"]
    path: str = Field(description="Where in the playbook, e.g. phases.coach_engaged.tasks.confirm_engagement.")
    text: LocalizedText = Field(description="The change in words.")


class PlaybookDiffOut(BaseModel):
    playbook_id: str
    from_version: int
    to_version: int
    from_sha256: str
    to_sha256: str
    changes: list[ChangeOut]
    counts: dict[str, dict[str, int]] = Field(description="area -> added/removed/changed -> how many.")
    suggested_phase_map: dict[str, str] = Field(
        description="Removed phase -> added phase with the same tasks or transitions (probably renamed). "
                    "A migration uses a phase map only when it is given one.")

    @classmethod
    def of(cls, diff: PlaybookDiff) -> PlaybookDiffOut:
        return cls(
            playbook_id=diff.playbook_id, from_version=diff.from_version, to_version=diff.to_version,
            from_sha256=diff.from_sha256, to_sha256=diff.to_sha256,
            changes=[ChangeOut(area=c.area, action=c.action, path=c.path, text=c.words)
                     for c in diff.changes],
            counts=diff.counts(), suggested_phase_map=dict(diff.suggested_phase_map),
        )


# --- migration ----------------------------------------------------------------------------------------------


class MigrationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_version: Annotated[int, Field(ge=1)]
    phase_map: Annotated[dict[PhaseId, PhaseId], Field(max_length=200)] = Field(
        default_factory=dict,
        description="Phase of the pinned version -> phase of the new one, for phases that do not exist in the "
                    "new version (renamed, merged or removed).")
    wave_phase_map: Annotated[dict[PhaseId, PhaseId], Field(max_length=200)] = Field(
        default_factory=dict,
        description="Phase of the pinned version's wave journey -> phase of the new one, for the phases of running "
                    "waves that the new version's wave journey does not have.")
    dry_run: bool = Field(default=False, description="true: only return the plan, writing nothing. Without it "
                                                     "(or false) the plan is applied.")


class TaskToAdd(BaseModel):
    phase: str
    key: str
    title: LocalizedText
    role: str
    due_at: datetime
    checklist: list[str]


class TaskCarried(BaseModel):
    """A task of the current phase that exists in the new version too: kept with its progress."""

    task_id: int
    key: str
    from_phase: str
    to_phase: str
    done: bool
    title: LocalizedText = Field(description="The title under the new version.")
    title_changed: bool
    checklist_added: list[str]
    checklist_obsolete: list[str] = Field(description="Unchecked items the new version no longer has: closed as "
                                                      "obsolete (checked ones stay as history).")


class TaskObsolete(BaseModel):
    """An open task of the current phase that the new version no longer has: kept as history, closed."""

    task_id: int
    phase: str
    key: str
    title: LocalizedText


class CriterionChange(BaseModel):
    id: str
    before: bool | None = Field(description="Passed under the pinned version (null: no such criterion).")
    after: bool | None = Field(description="Passes under the new version (null: no such criterion).")


GateVerdict = Literal["now_passes", "now_fails", "still_passes", "still_fails", "new_passes", "new_fails",
                      "removed"]


class GateChange(BaseModel):
    """One way out of the phase: may it be taken now, under the pinned version and under the new one?"""

    trigger: str
    destination: str
    before: bool | None = Field(description="Allowed under the pinned version (null: no such transition).")
    after: bool | None = Field(description="Allowed under the new version (null: no such transition).")
    verdict: GateVerdict
    criteria: list[CriterionChange]
    text: LocalizedText


class WaveMigration(BaseModel):
    """How one expansion wave moves with its engagement: its phase (mapped like the engagement's) and its tasks."""

    wave_id: int
    name: str
    from_phase: str
    to_phase: str
    phase_mapped: bool
    tasks_to_add: list[str] = Field(description="Keys of the tasks the new version adds to the wave's phase.")
    tasks_carried: list[int] = Field(description="Tasks of the wave's phase kept (relabelled when it is mapped).")
    tasks_obsolete: list[int] = Field(description="Open tasks the new version lacks: closed as obsolete.")


class MigrationPlan(BaseModel):
    engagement_id: int
    playbook_id: str
    from_version: int
    from_sha256: str
    to_version: int
    to_sha256: str
    from_phase: str
    to_phase: str
    phase_mapped: bool = Field(description="True when phase_map moved the engagement to another phase id.")
    tasks_to_add: list[TaskToAdd]
    tasks_carried: list[TaskCarried]
    tasks_obsolete: list[TaskObsolete]
    readiness: ReadinessOut = Field(description="The readiness report under the new version, in the new phase.")
    gates: list[GateChange]
    summary: LocalizedText
    waves: list[WaveMigration] = Field(default_factory=list, description="The engagement's expansion waves.")


class MigrationResult(BaseModel):
    dry_run: bool
    applied: bool
    plan: MigrationPlan
    engagement_version: int = Field(description="The engagement's version (ETag) after the request.")
    created_task_ids: list[int] = Field(default_factory=list)
    event_id: int | None = Field(default=None, description="The playbook.migrated event, once applied.")
