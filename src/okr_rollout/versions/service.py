"""Moving an engagement to another version of its playbook: plan it, then (unless a dry run) apply it.

The plan is computed once and applied from the very objects it was computed from, so a dry run shows
exactly what applying writes. Applying flushes in the caller's transaction (never commits): the phase
through the journey machine's ``enter_phase``, carried tasks relabelled, tasks the new version lacks closed
as obsolete (kept as history), the new version's missing tasks created, and one ``playbook.migrated`` event
carrying the plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller
from okr_rollout.auth.visibility import visible_engagement
from okr_rollout.catalog.service import Catalog
from okr_rollout.engagements.schemas import ReadinessOut, TransitionReadinessOut
from okr_rollout.engagements.service import readiness_json
from okr_rollout.engagements.tasks import create_tasks
from okr_rollout.errors import Conflict, NotFound, PreconditionFailed, Unprocessable, field_error
from okr_rollout.events import service as events
from okr_rollout.facts import load_facts
from okr_rollout.journey.machine import ReadinessReport, TaskToCreate, enter_phase, machine_for
from okr_rollout.models import ChecklistItem, Engagement, Task, Wave
from okr_rollout.playbooks import LoadedPlaybook, ResolvedTask, UnknownPlaybook
from okr_rollout.texts import LocalizedText
from okr_rollout.versions import queries
from okr_rollout.versions.diff import suggest_phase_map
from okr_rollout.versions.gates import compare_gates
from okr_rollout.versions.schemas import (
    GateChange,
    MigrationPlan,
    MigrationRequest,
    MigrationResult,
    TaskCarried,
    TaskObsolete,
    TaskToAdd,
    WaveMigration,
)

EVENT_TYPE = "playbook.migrated"


@dataclass
class _Carry:
    task: Task
    spec: ResolvedTask
    retitle: bool
    add_items: list[tuple[str, str, str]]  # key, title en, title zh-TW
    close_items: list[ChecklistItem]


@dataclass
class Prepared:
    """A plan plus what applying it touches; build with :func:`prepare`, apply with :func:`apply`."""

    engagement: Engagement
    new: LoadedPlaybook
    plan: MigrationPlan
    carry: list[_Carry]
    obsolete: list[Task]
    create: tuple[TaskToCreate, ...]
    waves: list[_WaveMove] = field(default_factory=list)


@dataclass
class _WaveMove:
    wave: Wave
    target: str
    carried: list[Task]
    obsolete: list[Task]
    create: tuple[TaskToCreate, ...]

    @property
    def mapped(self) -> bool:
        return self.target != self.wave.phase


def prepare(session: Session, catalog: Catalog, engagement: Engagement, to_version: int,
            phase_map: Mapping[str, str], now: datetime, wave_phase_map: Mapping[str, str] | None = None
            ) -> Prepared:
    """The plan of moving ``engagement`` to ``to_version``; writes nothing.

    422 for an unknown version or a phase map naming unknown phases; 409 when the engagement already runs
    that version, or when its phase does not exist in the new version and the phase map does not say where
    it goes.
    """
    old = catalog.pinned(session, engagement.playbook_sha256)
    if to_version == engagement.playbook_version:
        already = LocalizedText(f"The engagement already runs version {to_version} of {old.spec.title.en}.",
                                f"此輔導專案已使用{old.spec.title.zh_tw}第 {to_version} 版。")
        raise Conflict(already, extra={"reasons": already.as_dict()})
    try:
        new = catalog.current(engagement.playbook_id, to_version)
    except UnknownPlaybook:
        versions = ", ".join(str(v) for v in catalog.registry.versions(engagement.playbook_id))
        message = LocalizedText(f"no such version of this playbook (versions: {versions})",
                                f"此手冊沒有這個版本(現有版本:{versions})")
        raise Unprocessable(LocalizedText(f"body.to_version: {message.en}.", f"body.to_version:{message.zh_tw}。"),
                            errors=[field_error("body.to_version", message, "unknown_playbook")]) from None
    check_phase_map(old, new, phase_map)
    source = engagement.phase
    target = phase_map.get(source, source)
    new_phases = [p.id for p in new.spec.phases]
    if target not in new_phases:
        raise _missing_phase(engagement, old, new, source)

    current = _current_tasks(session, engagement.id, source)
    specs = {t.spec.id: t for t in new.tasks.get(target, ())}
    carry = [_carry(current[key], spec) for key, spec in specs.items() if key in current]  # new order
    obsolete = [task for key, task in current.items() if key not in specs and not task.done]
    # Tasks the new version adds to this phase are due from the migration, not from when the phase began:
    # nobody could work on them before.
    create = tuple(t for t in machine_for(new).tasks_on_entry(target, now) if t.task_id not in current)

    facts = load_facts(session.connection(), [engagement.id], now)[engagement.id]
    before = machine_for(old).readiness(facts)
    after = machine_for(new).readiness(dataclasses.replace(facts, phase=target))
    gates = compare_gates(before, after, old.version, new.version)
    plan = MigrationPlan(
        engagement_id=engagement.id, playbook_id=old.id, from_version=old.version, from_sha256=old.sha256,
        to_version=new.version, to_sha256=new.sha256, from_phase=source, to_phase=target,
        phase_mapped=target != source,
        tasks_to_add=[TaskToAdd(phase=t.phase, key=t.task_id, title=t.title, role=t.role,
                                due_at=t.due_at, checklist=[key for key, _ in t.checklist]) for t in create],
        tasks_carried=[_carried_out(c, target) for c in carry],
        tasks_obsolete=[TaskObsolete(task_id=t.id, phase=t.phase, key=t.task_key,
                                     title=_title(t.title_en, t.title_zh_tw)) for t in obsolete],
        readiness=_readiness_out(engagement.id, after),
        gates=gates,
        summary=_summary(engagement.id, old, new, source, target, (len(create), len(obsolete), len(carry)), gates),
    )
    waves = _plan_waves(session, engagement, old, new, wave_phase_map or {}, now)
    plan.waves = [WaveMigration(wave_id=m.wave.id, name=m.wave.name, from_phase=m.wave.phase, to_phase=m.target,
                                phase_mapped=m.mapped, tasks_to_add=[t.task_id for t in m.create],
                                tasks_carried=[t.id for t in m.carried], tasks_obsolete=[t.id for t in m.obsolete])
                  for m in waves]
    return Prepared(engagement, new, plan, carry, obsolete, create, waves)


def _plan_waves(session: Session, engagement: Engagement, old: LoadedPlaybook, new: LoadedPlaybook,
                wave_phase_map: Mapping[str, str], now: datetime) -> list[_WaveMove]:
    """Each wave's move: its phase mapped (by ``wave_phase_map``) like the engagement's, its tasks carried, closed
    as obsolete or added as for the engagement. 409 when the new version cannot take a running wave."""
    waves = list(session.scalars(queries.waves_of(engagement.id)))
    if not waves:
        return []
    spec = new.spec.wave
    if spec is None:
        raise Conflict(LocalizedText(
            f"Version {new.version} describes no expansion waves; the engagement runs {len(waves)}.",
            f"第 {new.version} 版未定義擴展梯次;此輔導專案有 {len(waves)} 個擴展梯次進行中。"),
            extra={"to_version": new.version})
    moves = []
    for wave in waves:
        if wave.variant is not None and wave.variant not in spec.variants:
            raise Conflict(LocalizedText(
                f"The wave {wave.name} follows a variant of the wave journey that version {new.version} lacks.",
                f"擴展梯次「{wave.name}」所用的梯次流程變體在第 {new.version} 版中不存在。"),
                extra={"wave_id": wave.id, "to_version": new.version})
        journey = new.wave_journey(wave.variant)
        target = wave_phase_map.get(wave.phase, wave.phase)
        if all(p.id != target for p in journey.spec.phases):
            title = old.wave_journey(wave.variant).phase(wave.phase).title
            raise Conflict(LocalizedText(
                f"The wave {wave.name} is in the phase {title.en}, which version {new.version} does not have; say "
                "where it goes with wave_phase_map.",
                f"擴展梯次「{wave.name}」位於「{title.zh_tw}」階段,而第 {new.version} 版沒有此階段;"
                "請以 wave_phase_map 指定要移至哪個階段。"),
                extra={"wave_id": wave.id, "phase": wave.phase, "to_version": new.version,
                       "phases": [p.id for p in journey.spec.phases]})
        current = {t.task_key: t for t in session.scalars(queries.wave_tasks_of_phase(wave.id, wave.phase))}
        specs = {t.spec.id for t in journey.tasks.get(target, ())}
        moves.append(_WaveMove(
            wave, target, carried=[t for key, t in current.items() if key in specs],
            obsolete=[t for key, t in current.items() if key not in specs and not t.done],
            create=tuple(t for t in machine_for(journey).tasks_on_entry(target, now) if t.task_id not in current)))
    return moves


def apply(session: Session, catalog: Catalog, prepared: Prepared, actor: str, now: datetime) -> MigrationResult:
    """Write the prepared plan in the session's transaction (flush only) and record it in the history."""
    engagement, plan = prepared.engagement, prepared.plan
    catalog.pin(session, prepared.new)
    if plan.phase_mapped:
        # A renamed or merged phase is the same stage of the journey: the time spent in it keeps counting.
        enter_phase(engagement, plan.to_phase, engagement.entered_phase_at)
    engagement.playbook_version = prepared.new.version
    engagement.playbook_sha256 = prepared.new.sha256
    engagement.updated_at = now
    if plan.phase_mapped and prepared.carry:
        rounds: dict[str, int] = dict(session.execute(queries.latest_rounds(engagement.id, plan.to_phase)).all())
        for carried in prepared.carry:
            carried.task.carry_into(plan.to_phase, rounds.get(carried.task.task_key, 0) + 1)
    for carried in prepared.carry:
        _sync(carried, now)
    for task in prepared.obsolete:
        task.obsolete_at = now
    for move in prepared.waves:
        if move.mapped:
            rounds = dict(session.execute(queries.wave_latest_rounds(move.wave.id, move.target)).all())
            for task in move.carried:
                task.carry_into(move.target, rounds.get(task.task_key, 0) + 1)
            enter_phase(move.wave, move.target, move.wave.entered_phase_at)  # the same stage, renamed
        for task in move.obsolete:
            task.obsolete_at = now
    session.flush()
    created = create_tasks(session, engagement.id, prepared.create, now, prepared.new)
    for move in prepared.waves:
        created += create_tasks(session, engagement.id, move.create, now, wave_id=move.wave.id,
                                assignees={"internal_coach": move.wave.owner_ids[0]} if move.wave.owner_ids else None)
    payload = {"plan": plan.model_dump(mode="json", by_alias=True), "created_task_ids": created}
    event = events.append(session, type=EVENT_TYPE, actor=actor, at=now, organization_id=engagement.organization_id,
                          engagement_id=engagement.id, payload=payload)
    return MigrationResult(dry_run=False, applied=True, plan=plan, engagement_version=engagement.version,
                           created_task_ids=created, event_id=event.id)


def migrate(session: Session, caller: Caller, catalog: Catalog, engagement_id: int, request: MigrationRequest,
            now: datetime, expected_version: int | None = None) -> MigrationResult:
    """The API's operation: anyone who sees the engagement may ask for the plan; applying it takes the right
    to fire transitions (admins, the engagement's coaches, integrations granted it)."""
    engagement = visible_engagement(session, caller, engagement_id, for_update=not request.dry_run)
    if not request.dry_run and not caller.may_fire_transitions:
        raise NotFound(LocalizedText("There is no such engagement for you to act on.",
                                     "找不到可供您操作的此輔導專案。"))  # may read it, may not move it
    if expected_version is not None and expected_version != engagement.version:
        raise PreconditionFailed(LocalizedText(f"The engagement is at version {engagement.version}; reload and retry.",
                                               f"此輔導專案目前為第 {engagement.version} 版,請重新載入後再試。"))
    prepared = prepare(session, catalog, engagement, request.to_version, request.phase_map, now,
                       request.wave_phase_map)
    if request.dry_run:
        return MigrationResult(dry_run=True, applied=False, plan=prepared.plan, engagement_version=engagement.version)
    return apply(session, catalog, prepared, caller.actor, now)


# --- planning helpers ---------------------------------------------------------------------------------------


def check_phase_map(old: LoadedPlaybook, new: LoadedPlaybook, phase_map: Mapping[str, str]) -> None:
    """422 unless every key is a phase of the old version and every value one of the new version."""
    old_ids = {p.id for p in old.spec.phases}
    new_ids = {p.id for p in new.spec.phases}
    errors = []
    for source, target in phase_map.items():
        if source not in old_ids:
            # The phase map is written in phase ids, so its errors repeat the id the caller wrote.
            errors.append(field_error(f"body.phase_map.{source}", LocalizedText(
                f"{source} is not a phase of {old.id} version {old.version}",
                f"{source} 不是 {old.id} 第 {old.version} 版的階段"), "unknown_phase"))
        if target not in new_ids:
            errors.append(field_error(f"body.phase_map.{source}", LocalizedText(
                f"{target} is not a phase of {new.id} version {new.version}; its phases: "
                + "; ".join(f"{p.title.en} ({p.id})" for p in new.spec.phases),
                f"{target} 不是 {new.id} 第 {new.version} 版的階段;其階段為:"
                + ";".join(f"{p.title.zh_tw}({p.id})" for p in new.spec.phases)), "unknown_phase"))
    if errors:
        raise Unprocessable(LocalizedText("The phase map names phases that do not exist.",
                                          "階段對應指定了不存在的階段。"), errors=errors)


def _missing_phase(engagement: Engagement, old: LoadedPlaybook, new: LoadedPlaybook, phase: str) -> Conflict:
    suggested = suggest_phase_map(old, new)
    hint = f'; e.g. "phase_map": {{"{phase}": "{suggested[phase]}"}}' if phase in suggested else ""
    hint_zh = f",例如 {phase} → {suggested[phase]}" if phase in suggested else ""
    phases = [p.id for p in new.spec.phases]
    title = old.spec.phase(phase).title
    return Conflict(
        LocalizedText(f"The engagement is in the phase {title.en}, which version {new.version} does not have; say "
                      f"where it goes with phase_map{hint}.",
                      f"此輔導專案位於「{title.zh_tw}」階段,而第 {new.version} 版沒有此階段;"
                      f"請以 phase_map 指定要移至哪個階段{hint_zh}。"),
        extra={"phase": phase, "to_version": new.version, "phases": phases,
               "suggested_phase_map": {phase: suggested[phase]} if phase in suggested else {},
               "reasons": LocalizedText(
                   f"Phase {phase} does not exist in version {new.version}: a phase_map entry must "
                   f"say where the engagement goes{hint}.",
                   f"第 {new.version} 版沒有階段 {phase}:請以 phase_map 指定專案要移至哪個階段{hint_zh}。").as_dict()},
    )


def _current_tasks(session: Session, engagement_id: int, phase: str) -> dict[str, Task]:
    """The latest round of each task of the current phase (earlier rounds are already history)."""
    return {task.task_key: task for task in session.scalars(queries.tasks_of_phase(engagement_id, phase))}


def _carry(task: Task, spec: ResolvedTask) -> _Carry:
    if task.done:  # finished work is history: relabelled when its phase is renamed, otherwise left as it is
        return _Carry(task, spec, False, [], [])
    title = spec.spec.title
    keys = {item.item_key for item in task.checklist}
    wanted = {item.id for item in spec.spec.checklist}
    return _Carry(
        task, spec,
        retitle=(task.title_en, task.title_zh_tw) != (title.en, title.zh_tw),
        add_items=[(i.id, i.title.en, i.title.zh_tw) for i in spec.spec.checklist if i.id not in keys],
        close_items=[i for i in task.checklist if i.item_key not in wanted and not i.checked and i.obsolete_at is None],
    )


def _carried_out(carried: _Carry, target: str) -> TaskCarried:
    task, title = carried.task, carried.spec.spec.title
    return TaskCarried(
        task_id=task.id, key=task.task_key, from_phase=task.phase, to_phase=target, done=task.done,
        title=title if carried.retitle else _title(task.title_en, task.title_zh_tw),
        title_changed=carried.retitle, checklist_added=[key for key, _, _ in carried.add_items],
        checklist_obsolete=[item.item_key for item in carried.close_items],
    )


def _sync(carried: _Carry, now: datetime) -> None:
    task = carried.task
    if carried.retitle:
        task.title_en, task.title_zh_tw = carried.spec.spec.title.en, carried.spec.spec.title.zh_tw
    position = max((item.position for item in task.checklist), default=-1)
    for offset, (key, title_en, title_zh_tw) in enumerate(carried.add_items, start=1):
        task.checklist.append(ChecklistItem(item_key=key, position=position + offset, title_en=title_en,
                                            title_zh_tw=title_zh_tw))
    for item in carried.close_items:
        item.obsolete_at = now


def _readiness_out(engagement_id: int, report: ReadinessReport) -> ReadinessOut:
    return ReadinessOut(engagement_id=engagement_id, phase=report.phase, transitions=[
        TransitionReadinessOut.model_validate(readiness_json(t)) for t in report.transitions])


def _title(en: str, zh_tw: str) -> LocalizedText:
    return LocalizedText(en, zh_tw)


def _summary(engagement_id: int, old: LoadedPlaybook, new: LoadedPlaybook, source: str, target: str,
             tasks: tuple[int, int, int], gates: list[GateChange]) -> LocalizedText:
    added, obsolete, carried = tasks
    now_fail = sum(1 for g in gates if g.verdict in ("now_fails", "new_fails"))
    now_pass = sum(1 for g in gates if g.verdict in ("now_passes", "new_passes"))
    phase_en = f"phase {source} → {target}" if target != source else f"stays in {target}"
    phase_zh = f"階段 {source} → {target}" if target != source else f"維持在階段 {target}"
    return _title(
        f"Engagement {engagement_id}: {old.id} version {old.version} → {new.version}; {phase_en}; "
        f"{added} task(s) to add, {obsolete} obsolete, {carried} carried over; "
        f"{now_pass} way(s) out now open, {now_fail} now closed.",
        f"專案 {engagement_id}:{old.id} 第 {old.version} 版 → 第 {new.version} 版;{phase_zh};"
        f"新增 {added} 項任務,{obsolete} 項作廢,沿用 {carried} 項;"
        f"{now_pass} 個轉換現在可通過,{now_fail} 個現在不通過。",
    )
