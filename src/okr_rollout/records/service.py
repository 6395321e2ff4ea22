"""Record meetings, CEO support, training sessions, drafting groups and appointments. Flushes only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import UTC, date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from okr_rollout.clients import pulses
from okr_rollout.errors import Conflict, not_found
from okr_rollout.models import Appointment, CeoSupportStatement, DraftingGroup, Meeting, Person, TrainingSession
from okr_rollout.playbooks import vocabulary
from okr_rollout.records import queries, rules
from okr_rollout.records.context import (
    RecordContext,
    invalid,
    invalid_many,
    refuse,
    require_department,
    require_distinct,
    require_past,
    require_people,
    require_person,
)
from okr_rollout.records.queries import Record as Record  # the kinds of record, named by callers of the service
from okr_rollout.records.schemas import (
    AppointmentCreate,
    AppointmentUpdate,
    CeoSupportCreate,
    DraftingGroupCreate,
    DraftingGroupUpdate,
    MeetingCreate,
    TrainingSessionCreate,
)
from okr_rollout.texts import LocalizedText, listed

NOT_NULL = LocalizedText("may not be null", "不可為 null")
# How a 404 names a record of each table.
RECORD_NAMES = {
    "meetings": LocalizedText("meeting", "會議"),
    "ceo_support_statements": LocalizedText("statement of CEO support", "CEO 支持聲明"),
    "training_sessions": LocalizedText("training session", "培訓課程"),
    "drafting_groups": LocalizedText("drafting group", "制定小組"),
    "appointments": LocalizedText("appointment", "指派"),
}


def list_records(session: Session, model: type[Record], engagement_id: int, *, after: int, limit: int
                 ) -> list[Record]:
    return list(session.scalars(queries.records_page(model, engagement_id, after=after, limit=limit)))


def list_scheduled(session: Session, model: type[queries.Scheduled], engagement_id: int, status: str | None, *,
                   after: int, limit: int) -> list[queries.Scheduled]:
    """Meetings or training sessions, of one status when ``status`` is given (``planned``: what is coming up)."""
    if status is None:
        return list_records(session, model, engagement_id, after=after, limit=limit)
    return list(session.scalars(queries.records_page_in_status(model, engagement_id, status, after=after,
                                                               limit=limit)))


def get_record(session: Session, model: type[Record], engagement_id: int, record_id: int) -> Record:
    record = session.get(model, record_id)
    if record is None or record.engagement_id != engagement_id:
        raise not_found(RECORD_NAMES.get(model.__tablename__, LocalizedText("record", "記錄")))
    return record


# --- meetings ----------------------------------------------------------------------------------------------------


def record_meeting(ctx: RecordContext, data: MeetingCreate) -> Meeting:
    held_at = data.held_at.astimezone(UTC)
    planned = data.status == rules.PLANNED
    if held_at > ctx.now and not planned:
        raise invalid("body.held_at",
                      LocalizedText(f"{held_at.isoformat()} is in the future; record a meeting once held, or enter "
                                    "it as planned",
                                    f"{held_at.isoformat()} 是未來的時間;請在會議舉行後再記錄,或將其登記為已排定"),
                      "future_date")
    refuse([rules.meeting_kind_breach(ctx.rules, data.kind)])
    require_department(ctx, data.department_id, "body.department_id")
    require_distinct(data.attendee_ids, "body.attendee_ids")
    require_people(ctx, data.attendee_ids, "body.attendee_ids", coaches_allowed=True)
    refuse(rules.meeting_outcome_breaches(ctx.rules, data.kind, data.outcomes))
    counts_for = _counted_attendees(ctx, data.kind, data.attendee_ids)
    meeting = Meeting(engagement_id=ctx.engagement.id, kind=data.kind, held_at=held_at,
                      department_id=data.department_id, attendee_ids=list(data.attendee_ids),
                      outcomes=sorted(set(data.outcomes)), notes=data.notes, status=data.status,
                      counts_for_ids=counts_for, created_at=ctx.now)
    ctx.session.add(meeting)
    ctx.session.flush()
    ctx.record_event("meeting.planned" if planned else "meeting.recorded",
                     {"meeting_id": meeting.id, "kind": meeting.kind, "held_at": held_at.isoformat(),
                      "outcomes": meeting.outcomes, "attendees": len(meeting.attendee_ids)})
    if not planned:
        _ask_pulse_on_meeting(ctx, meeting)
    return meeting


def _ask_pulse_on_meeting(ctx: RecordContext, meeting: Meeting) -> None:
    """A milestone meeting held (a kickoff, a quarter review): its attendees are asked for a pulse."""
    held_on = meeting.held_at.astimezone(ZoneInfo(ctx.timezone)).date()
    pulses.invite(ctx, meeting.kind, "meeting", meeting.id, held_on, meeting.attendee_ids)


def _counted_attendees(ctx: RecordContext, kind: str, attendee_ids: Sequence[int]) -> list[int] | None:
    """Whom a meeting counts for under its kind's attendee rule (None: no rule, every attendee counts)."""
    rule = ctx.rules.attendee_rules.get(kind)
    if rule is None:
        return None
    organization_id = ctx.engagement.organization_id
    roles: dict[int, set[str]] = {i: set() for i in attendee_ids}
    for person_id, person_roles in ctx.session.execute(queries.roles_among(organization_id, attendee_ids)):
        roles[person_id].update(person_roles or ())
    for person_id in ctx.session.scalars(queries.coaches_among(ctx.engagement.id, attendee_ids)):
        roles[person_id].add("coach")
    for person_id, role in ctx.session.execute(queries.appointed_among(ctx.engagement.id, attendee_ids)):
        roles[person_id].add(role)
    leads: dict[int, set[int]] = defaultdict(set)
    for lead_id, led_id in ctx.session.execute(queries.departments_led_by(organization_id, attendee_ids)):
        if lead_id is not None:
            leads[lead_id].add(led_id)
            roles[lead_id].add("department_lead")
    member_of: dict[int, set[int]] = defaultdict(set)
    for person_id, department_id in ctx.session.execute(queries.memberships_of(attendee_ids)):
        member_of[person_id].add(department_id)
    attendees = [rules.Attendee(i, frozenset(roles[i]), frozenset(leads[i]), frozenset(member_of[i]))
                 for i in attendee_ids]
    counted, breach = rules.counted_attendees(rule, kind, attendees)
    refuse([breach])
    return counted


def set_meeting_status(ctx: RecordContext, meeting: Meeting, status: str) -> Meeting:
    """A planned meeting was held (once its time has come) or cancelled; a held or cancelled one stays so."""
    if _status_change(ctx, meeting.status, status, RECORD_NAMES["meetings"],
                      meeting.held_at > ctx.now, meeting.held_at.astimezone(UTC).isoformat()):
        meeting.status = status
        ctx.session.flush()
        ctx.record_event(f"meeting.{status}", {"meeting_id": meeting.id, "kind": meeting.kind,
                                               "held_at": meeting.held_at.astimezone(UTC).isoformat()})
        if status == rules.HELD:
            _ask_pulse_on_meeting(ctx, meeting)
    return meeting


def set_planned_status(ctx: RecordContext, record: str, record_id: int, status: str) -> None:
    """A planned meeting (``record`` "meeting") or training session ("training") was held or cancelled: what the
    engagement page's "Coming up" does."""
    if record == "meeting":
        set_meeting_status(ctx, get_record(ctx.session, Meeting, ctx.engagement.id, record_id), status)
    elif record == "training":
        set_training_status(ctx, get_record(ctx.session, TrainingSession, ctx.engagement.id, record_id), status)
    else:
        raise not_found(LocalizedText("record", "記錄"))


def _status_change(ctx: RecordContext, current: str, wanted: str, what: LocalizedText, still_ahead: bool,
                   when: str) -> bool:
    """Whether ``current`` becomes ``wanted`` (False: it already is); refuses what cannot happen."""
    if current == wanted:
        return False
    if current != rules.PLANNED:
        now, then = rules.STATUS_TITLES[current], rules.STATUS_TITLES[wanted]
        raise Conflict(LocalizedText(f"This {what.en} is already {now.en}; only a planned one becomes {then.en}.",
                                     f"此{what.zh_tw}已是「{now.zh_tw}」;只有已排定的才能改為「{then.zh_tw}」。"),
                       extra={"record_status": current})
    if wanted == rules.HELD and still_ahead:
        raise invalid("body.status", LocalizedText(
            f"planned for {when}, still ahead; mark it held once it has happened",
            f"排定於 {when},尚未到來;請在舉行後再標記為已舉行"), "future_date")
    return True


# --- CEO support -------------------------------------------------------------------------------------------------


def state_ceo_support(ctx: RecordContext, data: CeoSupportCreate) -> CeoSupportStatement:
    require_past(ctx, data.stated_on, "body.stated_on")
    statement = CeoSupportStatement(engagement_id=ctx.engagement.id, level=data.level, stated_on=data.stated_on,
                                    note=data.note, created_at=ctx.now)
    ctx.session.add(statement)
    ctx.session.flush()
    ctx.record_event("ceo_support.stated", {"statement_id": statement.id, "level": statement.level,
                                            "stated_on": statement.stated_on.isoformat()})
    return statement


def support_valid_until(ctx: RecordContext, stated_on: date) -> date | None:
    """The last day a statement counts, as the ceo_support gate decides: older support has faded."""
    max_age = ctx.rules.ceo_support_max_age_days
    return stated_on + timedelta(days=max_age) if max_age is not None else None


# --- training ----------------------------------------------------------------------------------------------------


def record_training(ctx: RecordContext, data: TrainingSessionCreate) -> TrainingSession:
    planned = data.status == rules.PLANNED
    if not planned:
        require_past(ctx, data.held_on, "body.held_on")
    known = ctx.rules.training_modules
    if known is not None:
        modules = listed([vocabulary.module(m) for m in known], limit=len(known))
        unknown_modules: list[tuple[str, LocalizedText | str, str]] = [
            (f"body.modules[{i}]", LocalizedText(f"not a module of this playbook's course; its modules: {modules.en}",
                                                 f"不是此手冊課程的單元;其單元為:{modules.zh_tw}"),
             "unknown_module") for i, m in enumerate(data.modules) if m not in known]
        if unknown_modules:
            raise invalid_many(unknown_modules)
    require_distinct(data.attendee_ids, "body.attendee_ids")
    require_people(ctx, data.attendee_ids, "body.attendee_ids")
    if data.trainer_id is not None:
        require_people(ctx, [data.trainer_id], "body.trainer_id", coaches_allowed=True)
    session = TrainingSession(engagement_id=ctx.engagement.id, held_on=data.held_on, hours=data.hours,
                              modules=sorted(set(data.modules)), attendee_ids=list(data.attendee_ids),
                              notes=data.notes, status=data.status, trainer_id=data.trainer_id, created_at=ctx.now)
    ctx.session.add(session)
    ctx.session.flush()
    ctx.record_event("training_session.planned" if planned else "training_session.recorded",
                     {"training_session_id": session.id, "hours": session.hours, "modules": session.modules,
                      "attendees": len(session.attendee_ids)})
    if not planned:
        pulses.invite(ctx, pulses.TRAINING, "training", session.id, session.held_on, session.attendee_ids)
    return session


def set_training_status(ctx: RecordContext, training: TrainingSession, status: str) -> TrainingSession:
    """A planned training session was held (once its day has come) or cancelled."""
    if _status_change(ctx, training.status, status, RECORD_NAMES["training_sessions"], training.held_on > ctx.today,
                      training.held_on.isoformat()):
        training.status = status
        ctx.session.flush()
        ctx.record_event(f"training_session.{status}", {"training_session_id": training.id,
                                                        "held_on": training.held_on.isoformat()})
        if status == rules.HELD:
            pulses.invite(ctx, pulses.TRAINING, "training", training.id, training.held_on, training.attendee_ids)
    return training


# --- drafting groups ---------------------------------------------------------------------------------------------


def _drafting_checks(ctx: RecordContext, member_ids: Sequence[int], started_on: date, ended_on: date | None
                     ) -> list[str]:
    """Validate a group; returns warnings when the playbook only warns about the size."""
    require_distinct(member_ids, "body.member_ids")
    require_people(ctx, member_ids, "body.member_ids")
    require_past(ctx, started_on, "body.started_on")
    if ended_on is not None:
        if ended_on < started_on:
            raise invalid("body.ended_on", LocalizedText(
                f"ends on {ended_on.isoformat()}, before it started on {started_on.isoformat()}",
                f"結束日 {ended_on.isoformat()} 早於開始日 {started_on.isoformat()}"), "ends_before_start")
        require_past(ctx, ended_on, "body.ended_on")
    size = ctx.rules.drafting_group_size
    if size is not None:
        # An organization smaller than the smallest group drafts as one group of everyone.
        headcount = ctx.session.scalar(queries.organization_headcount(ctx.engagement.organization_id)) or size[0]
        size = (max(1, min(size[0], headcount)), size[1])
    if size is not None and not size[0] <= len(member_ids) <= size[1]:
        message = LocalizedText(f"a drafting group has {size[0]} to {size[1]} people; this one has {len(member_ids)}",
                                f"制定小組應有 {size[0]} 至 {size[1]} 人;此小組有 {len(member_ids)} 人")
        if not ctx.rules.drafting_group_size_warn_only:
            raise invalid("body.member_ids", message, "group_size")
        return [message.en]
    return []


def record_drafting_group(ctx: RecordContext, data: DraftingGroupCreate) -> tuple[DraftingGroup, list[str]]:
    require_department(ctx, data.department_id, "body.department_id")
    warnings = _drafting_checks(ctx, data.member_ids, data.started_on, data.ended_on)
    group = DraftingGroup(engagement_id=ctx.engagement.id, department_id=data.department_id,
                          member_ids=list(data.member_ids), started_on=data.started_on, ended_on=data.ended_on,
                          created_at=ctx.now)
    ctx.session.add(group)
    ctx.session.flush()
    ctx.record_event("drafting_group.recorded", {"drafting_group_id": group.id, "members": len(group.member_ids),
                                                 "started_on": group.started_on.isoformat(),
                                                 "warnings": warnings})
    return group, warnings


def update_drafting_group(ctx: RecordContext, group: DraftingGroup, data: DraftingGroupUpdate
                          ) -> tuple[DraftingGroup, list[str]]:
    changes = data.model_dump(exclude_unset=True)
    if "member_ids" in changes and changes["member_ids"] is None:
        raise invalid("body.member_ids", NOT_NULL, "null")
    if "started_on" in changes and changes["started_on"] is None:
        raise invalid("body.started_on", NOT_NULL, "null")
    if "department_id" in changes:
        require_department(ctx, changes["department_id"], "body.department_id")
    members = changes.get("member_ids", group.member_ids)
    ended_on = changes.get("ended_on", group.ended_on)
    warnings = _drafting_checks(ctx, members, changes.get("started_on", group.started_on), ended_on)
    changed = sorted(k for k, v in changes.items() if getattr(group, k) != v)
    for name in changed:
        setattr(group, name, list(changes[name]) if name == "member_ids" else changes[name])
    if changed:
        ctx.session.flush()
        ctx.record_event("drafting_group.updated", {"drafting_group_id": group.id, "changed": changed,
                                                    "warnings": warnings})
    return group, warnings


# --- appointments ------------------------------------------------------------------------------------------------


def _appointment_checks(ctx: RecordContext, role: str, trained: bool, trained_on: date | None, ready: bool) -> None:
    if ready and role != "okr_master":
        raise invalid("body.ready", LocalizedText("only an OKR Master is ready; an internal coach is trained",
                                                  "只有 OKR 主管有「準備就緒」;內部教練則是「已完成訓練」"),
                      "role_field")
    if trained_on is not None:
        if not trained:
            raise invalid("body.trained_on", LocalizedText("a training date needs trained: true",
                                                           "有訓練日期時 trained 必須為 true"),
                          "trained_on_without_trained")
        require_past(ctx, trained_on, "body.trained_on")


def appoint(ctx: RecordContext, data: AppointmentCreate) -> Appointment:
    require_person(ctx, data.person_id, "body.person_id")
    _appointment_checks(ctx, data.role, data.trained, data.trained_on, data.ready)
    existing = ctx.session.scalar(queries.appointment_id(ctx.engagement.id, data.person_id, data.role))
    if existing is not None:
        who = ctx.session.get(Person, data.person_id)
        name = who.name if who is not None else "?"
        role = vocabulary.appointment_role(data.role)
        raise Conflict(LocalizedText(f"{name} is already appointed {role.en}; change that appointment instead.",
                                     f"{name} 已被指派為{role.zh_tw};請改為修改該項指派。"),
                       extra={"appointment_id": existing})
    appointment = Appointment(engagement_id=ctx.engagement.id, person_id=data.person_id, role=data.role,
                              trained=data.trained, trained_on=data.trained_on, ready=data.ready,
                              created_at=ctx.now, updated_at=ctx.now)
    ctx.session.add(appointment)
    ctx.session.flush()
    ctx.record_event("appointment.made", _appointment_payload(appointment))
    return appointment


def update_appointment(ctx: RecordContext, appointment: Appointment, data: AppointmentUpdate) -> Appointment:
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for flag in ("trained", "ready"):
        if flag in changes and changes[flag] is None:
            raise invalid(f"body.{flag}", NOT_NULL, "null")
    trained = changes.get("trained", appointment.trained)
    if trained is False and "trained_on" not in changes:
        changes["trained_on"] = None  # no longer trained: the date goes with it
    _appointment_checks(ctx, appointment.role, trained, changes.get("trained_on", appointment.trained_on),
                        changes.get("ready", appointment.ready))
    changed = sorted(k for k, v in changes.items() if getattr(appointment, k) != v)
    for name in changed:
        setattr(appointment, name, changes[name])
    if changed:
        appointment.updated_at = ctx.now
        ctx.session.flush()
        ctx.record_event("appointment.updated", {**_appointment_payload(appointment), "changed": changed})
    return appointment


def _appointment_payload(appointment: Appointment) -> dict[str, Any]:
    return {"appointment_id": appointment.id, "person_id": appointment.person_id, "role": appointment.role,
            "trained": appointment.trained, "ready": appointment.ready,
            "trained_on": appointment.trained_on.isoformat() if appointment.trained_on else None}


def appoint_or_update(ctx: RecordContext, data: AppointmentCreate, given: Collection[str] | None = None
                      ) -> Appointment:
    """Appoint, or change the existing appointment of that person in that role (trained, ready): the page's one
    form for both. ``given`` names the fields to change on an existing appointment (all when None)."""
    existing = ctx.session.scalar(queries.appointment_of(ctx.engagement.id, data.person_id, data.role))
    if existing is None:
        return appoint(ctx, data)
    changes = {"trained": data.trained, "trained_on": data.trained_on, "ready": data.ready}
    return update_appointment(ctx, existing, AppointmentUpdate.model_validate(
        {name: value for name, value in changes.items() if given is None or name in given}))
