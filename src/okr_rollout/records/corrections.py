"""Correct and void records: one way for every kind (meetings, CEO support, training sessions, drafting groups,
appointments here; quarters, OKRs, key results, check-ins, scores and decisions in ``cycles.corrections``).

A correction changes only the fields sent that differ, obeys the rules of recording that kind, and appends
``record.corrected`` with the actor and each changed field before and after. A void keeps the record, marks it
(when, who, why) and appends ``record.voided``; no gate counts a voided record (``facts.queries``). Both
re-evaluate the engagement's readiness at once and record a change as the scheduler's watch does. Flushes only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from pydantic import BaseModel

from okr_rollout.engagements import readiness_watch
from okr_rollout.errors import Conflict
from okr_rollout.events import service as events
from okr_rollout.models import Appointment, CeoSupportStatement, DraftingGroup, Meeting, TrainingSession
from okr_rollout.records import service
from okr_rollout.records.context import RecordContext, invalid
from okr_rollout.records.correction_schemas import (
    NULLABLE,
    CeoSupportCorrection,
    MeetingCorrection,
    TrainingSessionCorrection,
)
from okr_rollout.records.schemas import (
    AppointmentUpdate,
    CeoSupportCreate,
    DraftingGroupUpdate,
    MeetingCreate,
    TrainingSessionCreate,
)
from okr_rollout.texts import LocalizedText

NOT_NULL = LocalizedText("may not be null", "不可為 null")


class VoidableRecord(Protocol):
    id: int
    engagement_id: int
    voided_at: datetime | None
    voided_by: str | None
    void_reason: str | None


@dataclass(frozen=True)
class RecordKind:
    """A kind of record as corrections name it: its key in events (``meeting``) and its name in messages."""

    key: str
    name: LocalizedText


MEETING = RecordKind("meeting", LocalizedText("meeting", "會議"))
CEO_SUPPORT = RecordKind("ceo_support", LocalizedText("statement of CEO support", "CEO 支持聲明"))
TRAINING_SESSION = RecordKind("training_session", LocalizedText("training session", "培訓課程"))
DRAFTING_GROUP = RecordKind("drafting_group", LocalizedText("drafting group", "制定小組"))
APPOINTMENT = RecordKind("appointment", LocalizedText("appointment", "指派"))


def plain(value: Any) -> Any:
    """A value as the history's JSON keeps it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def sent(data: BaseModel) -> dict[str, Any]:
    """The fields a correction sent; null is refused where the field cannot be cleared."""
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name not in NULLABLE:
            raise invalid(f"body.{name}", NOT_NULL, "null")
    return changes


def require_not_voided(record: VoidableRecord, kind: RecordKind) -> None:
    if record.voided_at is not None:
        raise Conflict(LocalizedText(
            f"This {kind.name.en} was voided ({record.void_reason}); a voided record no longer changes.",
            f"此{kind.name.zh_tw}已作廢({record.void_reason});作廢的記錄不能再更改。"),
            extra={"voided_at": plain(record.voided_at)})


class Correction:
    """One correction or void of an engagement's records, from its first check to the readiness it changed.

    ``begin`` takes the readiness watch's lock and then the outbox's, in the order the scheduler takes them (no
    deadlock on PostgreSQL), and reads the readiness before the change when the watch has no snapshot of it yet;
    ``finish`` re-evaluates it."""

    def __init__(self, ctx: RecordContext) -> None:
        self.ctx = ctx
        readiness_watch.take_watch_lock(ctx.session)
        events.hold_order_lock(ctx.session)
        self.before: dict[str, Any] | None = None
        if not readiness_watch.has_snapshot(ctx.session, ctx.engagement.id):
            self.before = readiness_watch.readiness_summary(ctx.session, ctx.engagement.id, ctx.playbook, ctx.now)

    def corrected(self, kind: RecordKind, record: VoidableRecord, before: Mapping[str, Any],
                  after: Mapping[str, Any], **extra: Any) -> None:
        self.ctx.record_event("record.corrected", {
            "record": kind.key, "record_id": record.id, "changed": sorted(after), "before": dict(before),
            "after": dict(after), **extra})

    def voided(self, kind: RecordKind, record: VoidableRecord, reason: str, before: Mapping[str, Any],
               **extra: Any) -> None:
        self.ctx.record_event("record.voided", {
            "record": kind.key, "record_id": record.id, "reason": reason, "before": dict(before),
            "after": {"voided_at": plain(self.ctx.now), "voided_by": self.ctx.caller.actor, "void_reason": reason},
            **extra})

    def change(self, kind: RecordKind, record: VoidableRecord, changes: Mapping[str, Any],
               columns: Mapping[str, str] | None = None, **extra: Any) -> None:
        """Set the fields that differ, record the correction if any did, and re-evaluate the readiness."""
        before, after = apply(record, changes, columns)
        if after:
            self.ctx.session.flush()
            self.corrected(kind, record, before, after, **extra)
        self.finish()

    def finish(self) -> None:
        ctx = self.ctx
        readiness_watch.note_readiness_change(ctx.session, ctx.engagement.id, ctx.engagement.organization_id,
                                              ctx.playbook, ctx.now, ctx.caller.actor, self.before)


def apply(record: Any, changes: Mapping[str, Any], columns: Mapping[str, str] | None = None
          ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set the fields that differ (``columns`` maps an API field to its column); (before, after) of those."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in changes.items():
        column = (columns or {}).get(name, name)
        current = getattr(record, column)
        if current == value or (isinstance(value, list) and list(current) == value):
            continue
        before[name], after[name] = plain(current), plain(value)
        setattr(record, column, list(value) if isinstance(value, list) else value)
    return before, after


def mark_voided(ctx: RecordContext, records: Iterable[VoidableRecord], reason: str) -> list[int]:
    ids = []
    for record in records:
        if record.voided_at is None:
            record.voided_at, record.voided_by, record.void_reason = ctx.now, ctx.caller.actor, reason
            ids.append(record.id)
    return ids


def checked_by_recording(ctx: RecordContext, record_it: Callable[[], object]) -> None:
    """Check a corrected record against every rule of recording its kind, by recording it as corrected in a
    savepoint that is rolled back: a correction obeys exactly what a new record must, whatever rules that kind
    has now or gets later. (The outbox lock is held already, so the rollback releases nothing.)"""
    savepoint = ctx.session.begin_nested()
    try:
        record_it()
    finally:
        savepoint.rollback()


# --- the kinds of this package -----------------------------------------------------------------------------------


def _snapshot(record: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: plain(getattr(record, name)) for name in names}


MEETING_FIELDS = ("kind", "held_at", "department_id", "attendee_ids", "outcomes", "notes")
SUPPORT_FIELDS = ("level", "stated_on", "note")
TRAINING_FIELDS = ("held_on", "hours", "modules", "attendee_ids", "notes", "trainer_id")
DRAFTING_FIELDS = ("department_id", "member_ids", "started_on", "ended_on")
APPOINTMENT_FIELDS = ("person_id", "role", "trained", "trained_on", "ready")


def correct_meeting(ctx: RecordContext, meeting: Meeting, data: MeetingCorrection) -> Meeting:
    require_not_voided(meeting, MEETING)
    changes = sent(data)
    if "held_at" in changes:
        changes["held_at"] = changes["held_at"].astimezone(UTC)
    if "outcomes" in changes:
        changes["outcomes"] = sorted(set(changes["outcomes"]))
    merged = MeetingCreate.model_validate({**_snapshot(meeting, MEETING_FIELDS), **changes})
    correction = Correction(ctx)
    checked_by_recording(ctx, lambda: service.record_meeting(ctx, merged))
    correction.change(MEETING, meeting, changes)
    return meeting


def correct_ceo_support(ctx: RecordContext, statement: CeoSupportStatement, data: CeoSupportCorrection
                        ) -> CeoSupportStatement:
    require_not_voided(statement, CEO_SUPPORT)
    changes = sent(data)
    merged = CeoSupportCreate.model_validate({**_snapshot(statement, SUPPORT_FIELDS), **changes})
    correction = Correction(ctx)
    checked_by_recording(ctx, lambda: service.state_ceo_support(ctx, merged))
    correction.change(CEO_SUPPORT, statement, changes)
    return statement


def correct_training(ctx: RecordContext, training: TrainingSession, data: TrainingSessionCorrection
                     ) -> TrainingSession:
    require_not_voided(training, TRAINING_SESSION)
    changes = sent(data)
    if "modules" in changes:
        changes["modules"] = sorted(set(changes["modules"]))
    merged = TrainingSessionCreate.model_validate({**_snapshot(training, TRAINING_FIELDS), **changes})
    correction = Correction(ctx)
    checked_by_recording(ctx, lambda: service.record_training(ctx, merged))
    correction.change(TRAINING_SESSION, training, changes)
    return training


def correct_drafting_group(ctx: RecordContext, group: DraftingGroup, data: DraftingGroupUpdate
                           ) -> tuple[DraftingGroup, list[str]]:
    require_not_voided(group, DRAFTING_GROUP)
    changes = sent(data)
    correction = Correction(ctx)
    before_values = _snapshot(group, DRAFTING_FIELDS)
    group, warnings = service.update_drafting_group(ctx, group, data)
    after_values = _snapshot(group, DRAFTING_FIELDS)
    changed = sorted(name for name in changes if before_values[name] != after_values[name])
    if changed:
        correction.corrected(DRAFTING_GROUP, group, {n: before_values[n] for n in changed},
                             {n: after_values[n] for n in changed}, warnings=warnings)
    correction.finish()
    return group, warnings


def correct_appointment(ctx: RecordContext, appointment: Appointment, data: AppointmentUpdate) -> Appointment:
    require_not_voided(appointment, APPOINTMENT)
    sent(data)
    correction = Correction(ctx)
    before_values = _snapshot(appointment, APPOINTMENT_FIELDS)
    appointment = service.update_appointment(ctx, appointment, data)
    after_values = _snapshot(appointment, APPOINTMENT_FIELDS)
    changed = [name for name in APPOINTMENT_FIELDS if before_values[name] != after_values[name]]
    if changed:
        correction.corrected(APPOINTMENT, appointment, {n: before_values[n] for n in changed},
                             {n: after_values[n] for n in changed})
    correction.finish()
    return appointment


SNAPSHOT_FIELDS: dict[type, tuple[str, ...]] = {
    Meeting: MEETING_FIELDS, CeoSupportStatement: SUPPORT_FIELDS, TrainingSession: TRAINING_FIELDS,
    DraftingGroup: DRAFTING_FIELDS, Appointment: APPOINTMENT_FIELDS,
}
KINDS: dict[type, RecordKind] = {
    Meeting: MEETING, CeoSupportStatement: CEO_SUPPORT, TrainingSession: TRAINING_SESSION,
    DraftingGroup: DRAFTING_GROUP, Appointment: APPOINTMENT,
}


def void_record(ctx: RecordContext, record: service.Record, reason: str) -> service.Record:
    """Void a meeting, a statement of CEO support, a training session, a drafting group or an appointment."""
    kind = KINDS[type(record)]
    require_not_voided(record, kind)
    correction = Correction(ctx)
    before = _snapshot(record, SNAPSHOT_FIELDS[type(record)])
    mark_voided(ctx, [record], reason)
    ctx.session.flush()
    correction.voided(kind, record, reason, before)
    correction.finish()
    return record
