"""Expansion waves: opening one, its readiness, its transitions, and the engagement's handover. Flushes only.

A wave runs the pinned playbook's wave journey (of its variant, when one was chosen) on the same machine as the
engagement's journey, with the same gate kinds: its gates read the engagement's facts scoped to the wave
(``journey.facts.scoped_to_wave``): its departments where the pilot departments stood, their records only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.auth.visibility import visible_engagement
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import after_rollback, make_session_factory, session_scope
from okr_rollout.engagements import service as engagements
from okr_rollout.engagements import tasks as engagement_tasks
from okr_rollout.engagements.health import assess_engagement
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
from okr_rollout.journey.facts import EngagementFacts, scoped_to_wave
from okr_rollout.journey.health import ActivityFacts, Health, wave_last_activity
from okr_rollout.journey.machine import Moved, ReadinessReport, TransitionReadiness, UnknownTrigger, machine_for
from okr_rollout.models import Engagement, Task, Wave
from okr_rollout.playbooks import LoadedPlaybook
from okr_rollout.texts import LocalizedText, listed
from okr_rollout.waves import queries
from okr_rollout.waves.schemas import WaveCreate

WAVE = LocalizedText("wave", "擴展梯次")


@dataclass(frozen=True)
class WaveView:
    """A wave as the API and the pages show it: the row, its phase's title, whether its journey is over, its open
    tasks (when asked for), its health now."""

    wave: Wave
    phase_title: LocalizedText
    final: bool
    open_tasks: list[Task] | None
    health: Health | None = None


@dataclass(frozen=True)
class WaveTransition:
    view: WaveView
    source: str
    readiness: TransitionReadiness


def journey_of(playbook: LoadedPlaybook, variant: str | None) -> LoadedPlaybook:
    return playbook.wave_journey(variant)


def _view(session: Session, playbook: LoadedPlaybook, wave: Wave, tasks: list[Task] | None,
          health: Health | None) -> WaveView:
    phase = journey_of(playbook, wave.variant).phase(wave.phase)
    return WaveView(wave, phase.title, phase.final, tasks, health)


def views(session: Session, catalog: Catalog, engagement: Engagement, waves: list[Wave], now: datetime, *,
          with_tasks: bool = True, facts: EngagementFacts | None = None) -> list[WaveView]:
    """The waves as shown, each with its health at ``now`` (``facts``: the engagement's, when the caller has them)."""
    playbook = catalog.pinned(session, engagement.playbook_sha256)
    tasks: dict[int, list[Task]] = defaultdict(list)
    if with_tasks and waves:
        for task in session.scalars(queries.open_wave_tasks([w.id for w in waves])):
            tasks[task.wave_id or 0].append(task)
    found = health_of_waves(session, catalog, {engagement.id: engagement.playbook_sha256}, waves, now,
                            {engagement.id: facts} if facts is not None else None)
    return [_view(session, playbook, wave, tasks[wave.id] if with_tasks else None, found.get(wave.id))
            for wave in waves]


def health_of_waves(session: Session, catalog: Catalog, pins: dict[int, str], waves: list[Wave], now: datetime,
                    facts: dict[int, EngagementFacts] | None = None) -> dict[int, Health]:
    """Each wave's health at ``now`` (``pins``: engagement id -> its pinned playbook's sha256), computed on read by
    ``journey.health`` on the facts scoped to the wave and its own journey: a fixed number of statements whatever
    the number of waves and engagements (the engagements' facts, unless given, and one for the waves' tasks). A
    wave of a variant its playbook no longer has is left out."""
    if not waves:
        return {}
    if facts is None:
        facts = load_facts(session, sorted({w.engagement_id for w in waves}), now)
    activity = {wave_id: (int(overdue or 0), last_done) for wave_id, overdue, last_done in
                session.execute(queries.activity_of_waves([w.id for w in waves], now))}
    found: dict[int, Health] = {}
    for wave in waves:
        playbook = catalog.pinned(session, pins[wave.engagement_id])
        if wave.variant is not None and wave.variant not in (playbook.spec.wave.variants if playbook.spec.wave
                                                             else {}):
            continue
        journey = journey_of(playbook, wave.variant)
        scoped = scoped_to_wave(facts[wave.engagement_id], phase=wave.phase, entered_phase_at=wave.entered_phase_at,
                                department_ids=frozenset(wave.department_ids),
                                opened_on=facts[wave.engagement_id].local_date(wave.opened_at))
        overdue, last_done = activity.get(wave.id, (0, None))
        last = wave_last_activity(scoped, (wave.opened_at, wave.entered_phase_at, last_done))
        found[wave.id] = assess_engagement(journey, scoped, ActivityFacts(overdue, last))
    return found


def list_waves(session: Session, caller: Caller, catalog: Catalog, engagement_id: int, now: datetime, *,
               after: int = 0, limit: int | None = None) -> list[WaveView]:
    engagement = visible_engagement(session, caller, engagement_id)
    waves = list(session.scalars(queries.waves_of(engagement.id, after=after, limit=limit)))
    return views(session, catalog, engagement, waves, now)


def _wave(session: Session, engagement: Engagement, wave_id: int, *, for_update: bool = False) -> Wave:
    wave = session.scalar(queries.wave(engagement.id, wave_id, for_update=for_update))
    if wave is None:
        raise not_found(WAVE)
    return wave


def view_wave(session: Session, caller: Caller, catalog: Catalog, engagement_id: int, wave_id: int, now: datetime
              ) -> WaveView:
    engagement = visible_engagement(session, caller, engagement_id)
    return views(session, catalog, engagement, [_wave(session, engagement, wave_id)], now)[0]


def may_lead_waves(caller: Caller, engagement: Engagement) -> None:
    """Who opens and moves waves: an administrator, an integration with the transitions scope, the organization's
    internal coaches, and the external coach until the engagement is handed over (then only reading)."""
    if caller.role in (Role.admin, Role.internal_coach):
        return
    if caller.role == Role.coach and engagement.handed_over_at is not None:
        raise Conflict(LocalizedText(
            "The engagement has been handed over to the internal coaches: they lead its waves now; you keep "
            "reading them.",
            "此輔導專案已交接給內部教練:擴展梯次改由他們帶領,您仍可檢視。"))
    if not caller.may_fire_transitions:
        raise engagements.may_not_move(caller)


def _invalid(problems: list[tuple[str, LocalizedText, str]]) -> Unprocessable:
    return Unprocessable(LocalizedText("; ".join(f"{f}: {m.en}" for f, m, _ in problems),
                                       ";".join(f"{f}:{m.zh_tw}" for f, m, _ in problems)),
                         errors=[field_error(f, m, rule) for f, m, rule in problems])


def open_wave(session: Session, caller: Caller, catalog: Catalog, engagement_id: int, data: WaveCreate,
              now: datetime) -> WaveView:
    """Open a wave in a phase the playbook allows, in the first phase of its journey with that phase's tasks."""
    engagement = visible_engagement(session, caller, engagement_id, for_update=True)
    may_lead_waves(caller, engagement)
    playbook = catalog.pinned(session, engagement.playbook_sha256)
    spec = playbook.spec.wave
    if spec is None:
        raise Conflict(LocalizedText(f"The playbook {playbook.spec.title.en} describes no expansion waves.",
                                     f"手冊「{playbook.spec.title.zh_tw}」未定義擴展梯次。"))
    if engagement.phase not in spec.opens_in:
        phases = listed([playbook.phase(p).title for p in spec.opens_in], limit=len(spec.opens_in))
        here = playbook.phase(engagement.phase).title
        raise Conflict(LocalizedText(
            f"A wave is opened in the phase {phases.en}; the engagement is in {here.en}.",
            f"擴展梯次需在「{phases.zh_tw}」階段開啟;此輔導專案目前在「{here.zh_tw}」階段。"),
            extra={"phase": engagement.phase})
    problems: list[tuple[str, LocalizedText, str]] = []
    if data.variant is not None and data.variant not in spec.variants:
        known = ", ".join(spec.variants) or "none"
        problems.append(("body.variant", LocalizedText(f"is no variant of the wave journey (variants: {known})",
                                                       f"不是擴展梯次流程的變體(現有:{known})"), "unknown_variant"))
    name = data.name.strip()
    if not name:
        problems.append(("body.name", LocalizedText("may not be blank", "不可空白"), "blank"))
    departments = {d.id: d for d in session.scalars(queries.departments_among(engagement.organization_id,
                                                                              data.department_ids))}
    taken = {d for other in session.scalars(queries.waves_of(engagement.id)) for d in other.department_ids}
    seen: set[int] = set()
    for index, department_id in enumerate(data.department_ids):
        where = f"body.department_ids[{index}]"
        department = departments.get(department_id)
        if department_id in seen:
            problems.append((where, LocalizedText("is listed twice", "重複列出"), "duplicate"))
        elif department is None:
            problems.append((where, LocalizedText("not a department of this organization", "不是此組織的部門"),
                             "foreign_organization"))
        elif department.is_pilot:
            problems.append((where, LocalizedText(f"{department.name} is a pilot department",
                                                  f"{department.name} 是試點部門"), "pilot_department"))
        elif department_id in taken:
            problems.append((where, LocalizedText(f"{department.name} is already in another wave",
                                                  f"{department.name} 已在另一個擴展梯次中"), "in_another_wave"))
        seen.add(department_id)
    coaches = set(session.scalars(queries.internal_coaches_among(engagement.id, engagement.organization_id,
                                                                 data.owner_ids)))
    for index, person_id in enumerate(data.owner_ids):
        if person_id not in coaches:
            problems.append((f"body.owner_ids[{index}]",
                             LocalizedText("not an internal coach appointed in this engagement",
                                           "不是此輔導專案中指定的內部教練"), "not_internal_coach"))
    if problems:
        raise _invalid(problems)
    if session.scalar(queries.wave_named(engagement.id, name)) is not None:
        raise Conflict(LocalizedText(f"The engagement already has a wave named {name}.",
                                     f"此輔導專案已有名為「{name}」的擴展梯次。"))
    machine = machine_for(journey_of(playbook, data.variant))
    wave = Wave(engagement_id=engagement.id, name=name, variant=data.variant,
                department_ids=list(dict.fromkeys(data.department_ids)), owner_ids=list(dict.fromkeys(data.owner_ids)),
                opened_at=now, created_at=now, updated_at=now)
    tasks = machine.start(wave, now)
    session.add(wave)
    session.flush()
    task_ids = engagement_tasks.create_tasks(session, engagement.id, tasks, now, wave_id=wave.id,
                                        assignees={"internal_coach": wave.owner_ids[0]})
    events.append(session, type="wave.opened", actor=caller.actor, at=now,
                  organization_id=engagement.organization_id, engagement_id=engagement.id,
                  payload={"wave": wave_ref(wave), "phase": wave.phase, "department_ids": wave.department_ids,
                           "owner_ids": wave.owner_ids, "task_ids": task_ids})
    return views(session, catalog, engagement, [wave], now)[0]


def wave_ref(wave: Wave) -> dict[str, Any]:
    """How an event names its wave."""
    return {"id": wave.id, "name": wave.name, "variant": wave.variant}


def wave_facts(session: Session, engagement: Engagement, wave: Wave, now: datetime,
               facts: EngagementFacts | None = None) -> EngagementFacts:
    """The facts the wave's gates read (every group loaded: scoping reads people and departments)."""
    facts = facts or load_facts(session, [engagement.id], now)[engagement.id]
    return scoped_to_wave(facts, phase=wave.phase, entered_phase_at=wave.entered_phase_at,
                          department_ids=frozenset(wave.department_ids), opened_on=facts.local_date(wave.opened_at))


def readiness(session: Session, caller: Caller, catalog: Catalog, engagement_id: int, wave_id: int,
              now: datetime) -> ReadinessReport:
    engagement = visible_engagement(session, caller, engagement_id)
    wave = _wave(session, engagement, wave_id)
    machine = machine_for(journey_of(catalog.pinned(session, engagement.playbook_sha256), wave.variant))
    return machine.readiness(wave_facts(session, engagement, wave, now))


def fire_transition(session: Session, caller: Caller, catalog: Catalog, engagement_id: int, wave_id: int,
                    trigger: str, now: datetime, expected_version: int | None = None) -> WaveTransition:
    """As an engagement's transition: the gate on fresh facts (scoped to the wave), with the engagement and the wave
    locked; move, or refuse writing nothing (the refusal recorded in the history in a unit of work of its own)."""
    session.flush()
    engagement = visible_engagement(session, caller, engagement_id, for_update=True)
    wave = _wave(session, engagement, wave_id, for_update=True)
    may_lead_waves(caller, engagement)
    if expected_version is not None and expected_version != wave.version:
        raise PreconditionFailed(LocalizedText(f"The wave is at version {wave.version}; reload and retry.",
                                               f"此擴展梯次目前為第 {wave.version} 版,請重新載入後再試。"))
    journey = journey_of(catalog.pinned(session, engagement.playbook_sha256), wave.variant)
    machine = machine_for(journey)
    try:
        result = machine.fire(wave_facts(session, engagement, wave, now), trigger)
    except UnknownTrigger as unknown:
        if all(t.trigger != trigger for t in journey.spec.transitions):
            raise engagements.unknown_trigger(trigger, journey.spec.title) from None
        phase = journey.phase(wave.phase).title
        choices = [t.title or LocalizedText(t.trigger, t.trigger) for t in journey.spec.transitions_from(wave.phase)]
        raise Conflict(LocalizedText(
            f"This trigger does not leave the wave's phase {phase.en}; "
            + (f"from there: {'; '.join(c.en for c in choices)}." if choices else "it is the last phase."),
            f"此觸發條件無法離開本梯次的「{phase.zh_tw}」階段;"
            + (f"可進行:{';'.join(c.zh_tw for c in choices)}。" if choices else "這是最後一個階段。")),
            extra={"phase": wave.phase, "available_triggers": unknown.available}) from None
    if not isinstance(result, Moved):
        after_rollback(session, partial(
            _record_refusal, session.get_bind().engine, caller.actor, now, engagement.organization_id,
            engagement.id, {"wave": wave_ref(wave), "trigger": trigger, "phase": wave.phase,
                            "failed": [c.id for c in result.readiness.criteria if c.blocks],
                            "readiness": engagements.readiness_json(result.readiness)}))
        raise GateRefused(engagements.refusal(journey.phase(wave.phase).title, result.readiness),
                          extra={"phase": wave.phase,
                                 "readiness": engagements.readiness_json(result.readiness, None)})
    source = wave.phase
    machine.apply(wave, result, now)
    wave.updated_at = now
    session.flush()
    task_ids = engagement_tasks.create_tasks(session, engagement.id, result.tasks, now, wave_id=wave.id,
                                        assignees={"internal_coach": wave.owner_ids[0]} if wave.owner_ids else None)
    events.append(session, type="wave.transitioned", actor=caller.actor, at=now,
                  organization_id=engagement.organization_id, engagement_id=engagement.id,
                  payload={"wave": wave_ref(wave), "trigger": trigger, "from": source, "to": wave.phase,
                           "criteria": [{"id": c.id, "passed": c.passed} for c in result.readiness.criteria],
                           "task_ids": task_ids})
    return WaveTransition(views(session, catalog, engagement, [wave], now)[0], source, result.readiness)


def _record_refusal(engine: Engine, actor: str, now: datetime, organization_id: int, engagement_id: int,
                    payload: dict[str, Any]) -> None:
    with session_scope(make_session_factory(engine)) as session:
        events.append(session, type="gate.refused", actor=actor, at=now, organization_id=organization_id,
                      engagement_id=engagement_id, payload=payload)


def hand_over(session: Session, caller: Caller, catalog: Catalog, engagement_id: int, now: datetime
              ) -> engagements.EngagementDetails:
    """Mark the engagement handed over to the internal coaches: the external coach leaves (keeping read access to
    the engagement and its history) and may no longer lead its waves; the waves go on with the internal coaches.
    Done by the coach or an administrator once the main journey has reached its last phase."""
    engagement = visible_engagement(session, caller, engagement_id, for_update=True)
    if caller.role not in (Role.admin, Role.coach):
        raise engagements.may_not_move(caller)
    playbook = catalog.pinned(session, engagement.playbook_sha256)
    phase = playbook.phase(engagement.phase)
    if engagement.handed_over_at is not None:
        raise Conflict(LocalizedText("The engagement has already been handed over.", "此輔導專案已完成交接。"))
    if not phase.final:
        raise Conflict(LocalizedText(
            f"The engagement is handed over at the end of its journey; it is in {phase.title.en}.",
            f"輔導專案需在流程的最後階段才能交接;目前在「{phase.title.zh_tw}」階段。"),
            extra={"phase": engagement.phase})
    engagement.handed_over_at = now
    engagement.updated_at = now
    session.flush()
    coaches = engagements.coaches_of(session, [engagement.id]).get(engagement.id, [])
    events.append(session, type="engagement.handed_to_internal_coaches", actor=caller.actor, at=now,
                  organization_id=engagement.organization_id, engagement_id=engagement.id,
                  payload={"coach_ids": coaches,
                           "waves": [wave_ref(w) | {"phase": w.phase}
                                     for w in session.scalars(queries.waves_of(engagement.id))]})
    return engagements.details(session, engagements.EngagementRecord.of(engagement))


@dataclass(frozen=True)
class WaveSummary:
    """A wave on a list of engagements (the portfolio, an engagement's page): its name, phase and health."""

    id: int
    name: str
    phase: str
    phase_title: LocalizedText
    final: bool
    health: Health | None = None


def summaries(session: Session, catalog: Catalog, engagements_by_id: dict[int, str], now: datetime
              ) -> dict[int, list[WaveSummary]]:
    """Each engagement's waves with their health at ``now`` (``engagements_by_id``: engagement id -> its pinned
    playbook's sha256), in a fixed number of statements whatever the number of engagements and waves."""
    found: dict[int, list[WaveSummary]] = defaultdict(list)
    if not engagements_by_id:
        return found
    waves = list(session.scalars(queries.waves_of_engagements(list(engagements_by_id))))
    health = health_of_waves(session, catalog, engagements_by_id, waves, now)
    for wave in waves:
        journey = journey_of(catalog.pinned(session, engagements_by_id[wave.engagement_id]), wave.variant)
        phase = journey.phase(wave.phase)
        found[wave.engagement_id].append(WaveSummary(wave.id, wave.name, wave.phase, phase.title, phase.final,
                                                     health.get(wave.id)))
    return found


def names(session: Session, person_ids: Collection[int], department_ids: Collection[int]
          ) -> tuple[dict[int, str], dict[int, str]]:
    """People's and departments' names, for a page that lists waves."""
    people: dict[int, str] = ({row[0]: row[1] for row in session.execute(queries.names_of_people(person_ids))}
                              if person_ids else {})
    departments: dict[int, str] = ({row[0]: row[1] for row in
                                    session.execute(queries.names_of_departments(department_ids))}
                                   if department_ids else {})
    return people, departments


@dataclass(frozen=True)
class WaveRow:
    """A wave on the engagement page: its view, the readiness of each way out of its phase, names to show."""

    view: WaveView
    readiness: ReadinessReport
    journey: LoadedPlaybook
    departments: list[str]
    owners: list[str]
    variant_title: LocalizedText | None


@dataclass(frozen=True)
class WavePanel:
    """What the engagement page shows of the expansion waves, and what its form to open one offers."""

    defined: bool  # the playbook describes waves
    opens_now: bool  # the engagement is in a phase that opens waves
    opens_in: list[LocalizedText]
    may_lead: bool
    handed_over_at: datetime | None
    may_hand_over: bool
    rows: list[WaveRow]
    departments: list[tuple[int, str]]  # those a new wave may take: no pilot, none of another wave
    internal_coaches: list[tuple[int, str]]
    variants: list[tuple[str, LocalizedText]]


def panel(session: Session, caller: Caller, catalog: Catalog, engagement_id: int, now: datetime) -> WavePanel:
    engagement = visible_engagement(session, caller, engagement_id)
    playbook = catalog.pinned(session, engagement.playbook_sha256)
    spec = playbook.spec.wave
    waves = list(session.scalars(queries.waves_of(engagement.id)))
    try:
        may_lead_waves(caller, engagement)
        may_lead = True
    except (Conflict, Forbidden, NotFound):
        may_lead = False
    facts = load_facts(session, [engagement.id], now)[engagement.id] if waves else None
    departments = [(row[0], row[1], row[2]) for row in
                   session.execute(queries.departments_for_waves(engagement.organization_id))]
    names_of = {department_id: name for department_id, name, _ in departments}
    coaches = [(row[0], row[1]) for row in session.execute(queries.internal_coaches_of(engagement.id))]
    people, _ = names(session, {p for w in waves for p in w.owner_ids}, ())
    rows = []
    for view in views(session, catalog, engagement, waves, now, facts=facts):
        wave = view.wave
        journey = journey_of(playbook, wave.variant)
        report = machine_for(journey).readiness(wave_facts(session, engagement, wave, now, facts))
        rows.append(WaveRow(view, report, journey, [names_of.get(d, "?") for d in wave.department_ids],
                            [people.get(p, "?") for p in wave.owner_ids],
                            spec.variants[wave.variant].title if spec and wave.variant in spec.variants else None))
    taken = {d for w in waves for d in w.department_ids}
    phase = playbook.phase(engagement.phase)
    return WavePanel(
        defined=spec is not None, opens_now=spec is not None and engagement.phase in spec.opens_in,
        opens_in=[playbook.phase(p).title for p in spec.opens_in] if spec else [], may_lead=may_lead,
        handed_over_at=engagement.handed_over_at,
        may_hand_over=(caller.role in (Role.admin, Role.coach) and engagement.handed_over_at is None and phase.final
                       and spec is not None),
        rows=rows, departments=[(d, n) for d, n, pilot in departments if not pilot and d not in taken],
        internal_coaches=[(p, n) for p, n in coaches],
        variants=[(key, variant.title) for key, variant in spec.variants.items()] if spec else [])


def waves_by_engagement(session: Session, engagement_ids: Collection[int]) -> dict[int, list[Wave]]:
    found: dict[int, list[Wave]] = defaultdict(list)
    if engagement_ids:
        for wave in session.scalars(queries.waves_of_engagements(list(engagement_ids))):
            found[wave.engagement_id].append(wave)
    return found


def running_journeys(playbook: LoadedPlaybook, facts: EngagementFacts, waves: list[Wave]
                     ) -> list[tuple[str, LoadedPlaybook, EngagementFacts]]:
    """Each wave's journey with the facts scoped to it, and the prefix its reminders' cadence ids take (so that a
    wave's reminder is never taken for the engagement's or another wave's): what the reminders read."""
    return [(f"wave{wave.id}:", journey_of(playbook, wave.variant),
             scoped_to_wave(facts, phase=wave.phase, entered_phase_at=wave.entered_phase_at,
                            department_ids=frozenset(wave.department_ids),
                            opened_on=facts.local_date(wave.opened_at)))
            for wave in waves if wave.variant is None or wave.variant in (playbook.spec.wave.variants
                                                                          if playbook.spec.wave else {})]
