"""Engagements: creation (pinned to a playbook version), readiness, transitions (a phase's tasks are made by
``engagements.tasks``). Flushes only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import TRANSITIONS_SCOPE, Caller, Role
from okr_rollout.auth.visibility import visible_organization
from okr_rollout.catalog.service import Catalog
from okr_rollout.coaches import service as firm
from okr_rollout.db import after_rollback, make_session_factory, session_scope
from okr_rollout.engagements import queries
from okr_rollout.engagements.schemas import EngagementCreate
from okr_rollout.engagements.tasks import (
    OpenChecklistItem,
    OpenTask,
    create_tasks,
    facts_to_assign,
    write_tasks,
)
from okr_rollout.errors import (
    Conflict,
    Forbidden,
    GateRefused,
    NotFound,
    PreconditionFailed,
    Unprocessable,
    field_error,
    not_found,
)
from okr_rollout.events import service as events
from okr_rollout.facts import load_facts
from okr_rollout.journey.machine import (
    Moved,
    ReadinessReport,
    TransitionReadiness,
    UnknownTrigger,
    machine_for,
)
from okr_rollout.models import Engagement, EngagementCoach
from okr_rollout.playbooks import UnknownPlaybook
from okr_rollout.texts import LocalizedText

ENGAGEMENT = LocalizedText("engagement", "輔導專案")


@dataclass(slots=True)
class EngagementRecord:
    """An engagement as the API shows it: its columns (the ORM's names), read as plain rows."""

    id: int
    organization_id: int
    playbook_id: str
    playbook_version: int
    playbook_sha256: str
    phase: str
    entered_phase_at: datetime
    created_at: datetime
    updated_at: datetime
    version: int
    handed_over_at: datetime | None = None

    @classmethod
    def of(cls, engagement: Engagement) -> EngagementRecord:
        return cls(**{name: getattr(engagement, name) for name in queries.ENGAGEMENT_COLUMNS})


@dataclass(frozen=True)
class EngagementDetails:
    """An engagement with its coaches and (when asked for) its phase's open tasks."""

    engagement: EngagementRecord
    coach_ids: list[int]
    open_tasks: list[OpenTask] | None


@dataclass(frozen=True)
class Transition:
    """A transition that happened: the engagement as it now is, the phase it left, the gate's readiness."""

    details: EngagementDetails
    source: str
    readiness: TransitionReadiness


def create_engagement(
    session: Session, caller: Caller, catalog: Catalog, data: EngagementCreate, now: datetime
) -> Engagement:
    if caller.role not in (Role.admin, Role.integration):
        raise NotFound(LocalizedText("Only administrators and integrations create engagements.",
                                     "只有管理員與系統整合可以建立輔導專案。"))
    organization = visible_organization(session, caller, data.organization_id)
    try:
        playbook = catalog.current(data.playbook, data.playbook_version)
    except UnknownPlaybook:
        known_id = bool(catalog.registry.versions(data.playbook))
        field = "body.playbook_version" if data.playbook_version and known_id else "body.playbook"
        known = ", ".join(catalog.registry.ids())
        message = (LocalizedText(f"playbook {data.playbook} has no version {data.playbook_version}",
                                 f"手冊 {data.playbook} 沒有第 {data.playbook_version} 版")
                   if field == "body.playbook_version" else
                   LocalizedText(f"no such playbook (known: {known})", f"沒有此手冊(現有:{known})"))
        raise Unprocessable(LocalizedText(f"{field}: {message.en}", f"{field}:{message.zh_tw}"),
                            errors=[field_error(field, message, "unknown_playbook")]) from None
    coach_ids = sorted(set(data.coach_ids))
    if coach_ids:
        missing = set(firm.unknown_coaches(session, coach_ids))
        if missing:
            where = [f"body.coach_ids[{index}]" for index, c in enumerate(data.coach_ids) if c in missing]
            raise Unprocessable(
                LocalizedText(f"Not a coach of the firm: {', '.join(where)}.",
                              f"不是本顧問公司的教練:{'、'.join(where)}。"),
                errors=[field_error(field, LocalizedText("not a coach of the firm", "不是本顧問公司的教練"),
                                    "unknown_person") for field in where])
    catalog.pin(session, playbook)
    engagement = Engagement(organization_id=organization.id, playbook_id=playbook.id,
                            playbook_version=playbook.version, playbook_sha256=playbook.sha256, created_at=now,
                            updated_at=now)
    tasks = machine_for(playbook).start(engagement, now)
    session.add(engagement)
    session.flush()
    session.add_all(EngagementCoach(engagement_id=engagement.id, person_id=c) for c in coach_ids)
    create_tasks(session, engagement.id, tasks, now, playbook)
    events.append(session, type="engagement.created", actor=caller.actor, at=now, organization_id=organization.id,
                  engagement_id=engagement.id,
                  payload={"phase": engagement.phase, "playbook": {"id": playbook.id, "version": playbook.version,
                                                                    "sha256": playbook.sha256},
                           "coach_ids": coach_ids})
    return engagement


def list_engagements(
    session: Session, caller: Caller, *, phase: str | None, coach_id: int | None, organization_id: int | None,
    after: int, limit: int,
) -> list[Engagement]:
    return list(session.scalars(queries.engagements_page(caller, phase=phase, coach_id=coach_id,
                                                         organization_id=organization_id, after=after,
                                                         limit=limit)))


def coaches_of(session: Session, engagement_ids: Collection[int]) -> dict[int, list[int]]:
    coaches: dict[int, list[int]] = defaultdict(list)
    if engagement_ids:
        for engagement_id, person_id in session.connection().execute(queries.coaches_of(),
                                                                     {"engagement_ids": list(engagement_ids)}):
            coaches[engagement_id].append(person_id)
    return coaches


def open_tasks(session: Session, engagement_id: int) -> list[OpenTask]:
    """The engagement's open tasks (``queries.is_open_task``) with their checklists, soonest due first."""
    tasks: dict[int, OpenTask] = {}
    task_width = len(queries.TASK_COLUMNS)
    for row in session.connection().execute(queries.open_task_rows(), {"engagement_id": engagement_id}):
        task = tasks.get(row[0])
        if task is None:
            task = tasks[row[0]] = OpenTask(*row[:task_width])
        if row[task_width] is not None:
            task.checklist.append(OpenChecklistItem(*row[task_width:]))
    return list(tasks.values())


def details(session: Session, engagement: EngagementRecord, *, with_tasks: bool = True) -> EngagementDetails:
    return EngagementDetails(engagement, coaches_of(session, [engagement.id]).get(engagement.id, []),
                             open_tasks(session, engagement.id) if with_tasks else None)


def view_engagement(session: Session, caller: Caller, engagement_id: int) -> EngagementDetails:
    """One engagement as ``caller`` may see it (404 otherwise), with its coaches and open tasks."""
    return details(session, _visible_record(session, caller, engagement_id))


def _visible_record(session: Session, caller: Caller, engagement_id: int, *, for_update: bool = False
                    ) -> EngagementRecord:
    row = session.connection().execute(queries.visible_engagement_row(caller, for_update=for_update),
                                       {"engagement_id": engagement_id}).first()
    if row is None:
        raise not_found(ENGAGEMENT)
    return EngagementRecord(*row)


def readiness(session: Session, catalog: Catalog, engagement: Engagement, now: datetime) -> ReadinessReport:
    playbook = catalog.pinned(session, engagement.playbook_sha256)
    facts = load_facts(session, [engagement.id], now)[engagement.id]
    return machine_for(playbook).readiness(facts)


def fire_transition(
    session: Session, caller: Caller, catalog: Catalog, engagement_id: int, trigger: str, now: datetime,
    expected_version: int | None = None,
) -> Transition:
    """Evaluate the gate on fresh facts with the engagement row locked; move, or refuse writing nothing.

    A refusal is recorded in the history once the unit of work is rolled back, in a unit of work of its own."""
    session.flush()  # what the session holds reaches the database before the statements below read it
    engagement = _visible_record(session, caller, engagement_id, for_update=True)
    if not caller.may_fire_transitions:
        raise may_not_move(caller)  # may read it (else 404 above), may not move it
    if expected_version is not None and expected_version != engagement.version:
        raise PreconditionFailed(LocalizedText(f"The engagement is at version {engagement.version}; reload and retry.",
                                               f"此輔導專案目前為第 {engagement.version} 版,請重新載入後再試。"))
    machine = machine_for(catalog.pinned(session, engagement.playbook_sha256))
    try:
        # One load: what this gate reads (for most transitions two or three small reads instead of fourteen), the
        # coaches (the answer shows them) and, when the new phase has tasks of a client's role, who holds it.
        groups = machine.facts_read(engagement.phase, trigger) | {"coach_ids"}
        leaving = machine.playbook.transition(engagement.phase, trigger)
        if leaving is not None:
            groups |= facts_to_assign(machine.playbook, leaving.dest)
        facts = load_facts(session, [engagement.id], now, groups)[engagement.id]
        result = machine.fire(facts, trigger)
    except UnknownTrigger as unknown:
        if all(t.trigger != trigger for t in machine.playbook.spec.transitions):
            raise unknown_trigger(trigger, machine.playbook.spec.title) from None
        phase = machine.playbook.spec.phase(engagement.phase).title
        choices = [t.title or LocalizedText(t.trigger, t.trigger)
                   for t in machine.playbook.spec.transitions_from(engagement.phase)]
        raise Conflict(LocalizedText(
            f"This trigger does not leave the phase {phase.en}; "
            + (f"from there: {'; '.join(c.en for c in choices)}." if choices else "it is the last phase."),
            f"此觸發條件無法離開「{phase.zh_tw}」階段;"
            + (f"可進行:{';'.join(c.zh_tw for c in choices)}。" if choices else "這是最後一個階段。")),
            extra={"phase": engagement.phase, "available_triggers": unknown.available}) from None
    if not isinstance(result, Moved):
        report = readiness_json(result.readiness)
        after_rollback(session, partial(
            _record_refusal, session.get_bind().engine, caller.actor, now, engagement.organization_id,
            engagement.id, {"trigger": trigger, "phase": engagement.phase,
                            "failed": [c.id for c in result.readiness.criteria if c.blocks], "readiness": report}))
        raise GateRefused(refusal(machine.playbook.spec.phase(engagement.phase).title, result.readiness),
                          extra={"phase": engagement.phase, "readiness": readiness_json(result.readiness, None)})
    source, read_version = engagement.phase, engagement.version
    machine.apply(engagement, result, now)
    engagement.updated_at, engagement.version = now, read_version + 1
    moved = session.connection().execute(queries.move_engagement(), {
        "moved_id": engagement.id, "read_version": read_version, "phase": engagement.phase,
        "entered_phase_at": engagement.entered_phase_at, "updated_at": now})
    if moved.rowcount != 1:  # cannot happen while the row is locked (SQLite: the write lock held) since it was read
        raise Conflict(LocalizedText(f"The engagement is no longer at version {read_version}; reload and retry.",
                                     f"此輔導專案已不是第 {read_version} 版,請重新載入後再試。"))
    if session.identity_map:
        held = session.identity_map.get(session.identity_key(Engagement, engagement.id))
        if held is not None:  # an ORM copy the session read before the move is out of date
            session.expire(held)
    created = write_tasks(session, engagement.id, result.tasks, now, machine.playbook, facts=facts)
    readiness = result.readiness
    events.append(session, type="engagement.transitioned", actor=caller.actor, at=now,
                  organization_id=engagement.organization_id, engagement_id=engagement.id,
                  payload={"trigger": trigger, "from": source, "to": engagement.phase,
                           "criteria": [{"id": c.id, "passed": c.passed} for c in readiness.criteria],
                           "task_ids": [task.id for task in created.tasks]})
    # The answer is what was just read and written: the coaches as the facts hold them, and the new phase's open
    # tasks as written when they are its only ones (else read: a phase entered again keeps its open tasks).
    open_now = (sorted(created.tasks, key=lambda task: (task.due_at, task.id)) if created.only_ones
                else open_tasks(session, engagement.id))
    return Transition(EngagementDetails(engagement, sorted(facts.coach_ids), open_now), source, readiness)


def may_not_move(caller: Caller) -> Forbidden | NotFound:
    """Why a caller who sees the engagement may not move it. An integration lacks a scope its administrator can
    grant: 403 naming it. Any other role never moves one (an internal coach follows the journey its coach leads):
    as before, no engagement for it to act on."""
    if caller.role == Role.integration:
        return Forbidden(LocalizedText(
            f"This token lacks the scope {TRANSITIONS_SCOPE}: an integration moves an engagement only with it. An "
            f"administrator grants it with a new token (scopes [\"{TRANSITIONS_SCOPE}\"]).",
            f"此權杖缺少 {TRANSITIONS_SCOPE} 範圍:系統整合必須具備此範圍才能推進輔導專案。"
            f"請管理員簽發具此範圍的新權杖(scopes [\"{TRANSITIONS_SCOPE}\"])。"),
            extra={"missing_scope": TRANSITIONS_SCOPE})
    return NotFound(LocalizedText("There is no such engagement for you to act on.",
                                  "找不到可供您操作的此輔導專案。"))


def unknown_trigger(trigger: str, title: LocalizedText) -> Unprocessable:
    """422 for a trigger no transition of the engagement's playbook has (a typo, or another playbook's)."""
    message = LocalizedText(f"is no transition of the playbook {title.en}",
                            f"不是劇本「{title.zh_tw}」中的轉換")
    return Unprocessable(LocalizedText(f"body.trigger: {trigger} {message.en}.",
                                       f"body.trigger:{trigger} {message.zh_tw}。"),
                         errors=[field_error("body.trigger", message, "unknown_trigger")])


def _record_refusal(engine: Engine, actor: str, now: datetime, organization_id: int, engagement_id: int,
                    payload: dict[str, Any]) -> None:
    with session_scope(make_session_factory(engine)) as session:
        events.append(session, type="gate.refused", actor=actor, at=now, organization_id=organization_id,
                      engagement_id=engagement_id, payload=payload)


def refusal(phase: LocalizedText, readiness: TransitionReadiness) -> LocalizedText:
    """Why a transition was refused: its title, the phase it would leave, and the reason of every blocking
    criterion, by titles and names."""
    title = readiness.title or LocalizedText(readiness.trigger, readiness.trigger)
    blocking = [c.reason for c in readiness.criteria if c.blocks]
    return LocalizedText(
        f"{title.en} (from {phase.en}) is refused: " + " ".join(reason.en for reason in blocking),
        f"無法{title.zh_tw}(目前階段:{phase.zh_tw}):" + "".join(reason.zh_tw for reason in blocking))


def readiness_json(readiness: TransitionReadiness, locale: str | None = "en") -> dict[str, object]:
    """The readiness of one transition as the API shows it; the ``reason`` in ``locale`` (None: left bilingual,
    for a problem, which is written in the caller's language when it is sent)."""
    return {
        "trigger": readiness.trigger,
        "destination": readiness.dest,
        "allowed": readiness.allowed,
        "passed": readiness.passed_count,
        "total": len(readiness.criteria),
        "criteria": [
            {"id": c.id, "kind": c.kind, "severity": c.severity, "passed": c.passed,
             "reason": c.reason.get(locale) if locale else c.reason, "reasons": c.reason.as_dict(),
             "evidence": c.evidence}
            for c in readiness.criteria
        ],
    }
