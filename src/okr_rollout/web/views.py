"""What the portfolio and engagement pages show, computed from the services (templates never query)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from okr_rollout.auth.caller import Caller
from okr_rollout.auth.visibility import engagement_visibility
from okr_rollout.catalog.service import Catalog
from okr_rollout.facts import load_facts
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.journey.machine import TransitionReadiness, machine_for
from okr_rollout.models import Department, Engagement, Event, Organization, Person, Task
from okr_rollout.playbooks import LoadedPlaybook
from okr_rollout.playbooks.schema import LocalizedText


@dataclass(frozen=True)
class PortfolioRow:
    engagement_id: int
    organization: str
    timezone: str
    phase: str
    phase_title: LocalizedText
    phase_index: int
    days_in_phase: int
    next_step: TransitionReadiness | None
    overdue: int
    next_due: datetime | None
    last_activity: datetime | None
    attention: tuple[str, ...]

    @property
    def needs_attention(self) -> bool:
        return bool(self.attention)


SORTS = ("organization", "phase", "days", "gate", "overdue", "due", "activity")


def portfolio(session: Session, caller: Caller, catalog: Catalog, now: datetime, idle: timedelta
              ) -> list[PortfolioRow]:
    """One row per engagement the caller sees, in a fixed number of queries whatever their count."""
    visible = engagement_visibility(caller)
    rows = session.execute(
        select(Engagement, Organization.name, Organization.timezone)
        .join(Organization, Organization.id == Engagement.organization_id).where(visible)
        .order_by(Organization.name, Engagement.id)).all()
    if not rows:
        return []
    tasks = {
        engagement_id: (overdue or 0, next_due)
        for engagement_id, overdue, next_due in session.execute(
            select(Task.engagement_id, func.sum(case((Task.due_at < now, 1), else_=0)), func.min(Task.due_at))
            .join(Engagement, (Engagement.id == Task.engagement_id) & (Engagement.phase == Task.phase))
            .where(visible, Task.done.is_(False)).group_by(Task.engagement_id))
    }
    activity: dict[int | None, datetime] = {engagement_id: last for engagement_id, last in session.execute(
        select(Event.engagement_id, func.max(Event.occurred_at)).join(Engagement, Engagement.id == Event.engagement_id)
        .where(visible).group_by(Event.engagement_id))}
    facts = load_facts(session.connection(), [row[0].id for row in rows], now)
    result = []
    for engagement, name, timezone in rows:
        playbook = catalog.pinned(session, engagement.playbook_sha256)
        readiness = machine_for(playbook).readiness(facts[engagement.id]) if engagement.id in facts else None
        overdue, next_due = tasks.get(engagement.id, (0, None))
        last = activity.get(engagement.id)
        attention = tuple(reason for reason, flagged in (
            ("overdue", overdue > 0), ("idle", last is None or now - last > idle)) if flagged)
        result.append(PortfolioRow(
            engagement_id=engagement.id, organization=name, timezone=timezone or "UTC", phase=engagement.phase,
            phase_title=playbook.phase(engagement.phase).title, phase_index=_phase_index(playbook, engagement.phase),
            days_in_phase=(now - engagement.entered_phase_at).days,
            next_step=readiness.transitions[0] if readiness and readiness.transitions else None,
            overdue=int(overdue), next_due=next_due, last_activity=last, attention=attention))
    return result


def sort_rows(rows: list[PortfolioRow], key: str, descending: bool) -> list[PortfolioRow]:
    far = datetime.max.replace(tzinfo=None)

    def value(row: PortfolioRow) -> tuple[object, ...]:
        if key == "phase":
            return (row.phase_index, row.organization.lower())
        if key == "days":
            return (row.days_in_phase,)
        if key == "gate":
            step = row.next_step
            return ((step.passed_count / len(step.criteria)) if step and step.criteria else 1.0,)
        if key == "overdue":
            return (row.overdue,)
        if key == "due":
            return (row.next_due.replace(tzinfo=None) if row.next_due else far,)
        if key == "activity":
            return (row.last_activity.replace(tzinfo=None) if row.last_activity else datetime.min,)
        return (row.organization.lower(), row.engagement_id)

    return sorted(rows, key=value, reverse=descending)


def _phase_index(playbook: LoadedPlaybook, phase: str) -> int:
    return next((i for i, p in enumerate(playbook.spec.phases) if p.id == phase), len(playbook.spec.phases))


# --- one engagement ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiagramNode:
    id: str
    title: LocalizedText
    y: int
    state: str  # done | current | ahead


@dataclass(frozen=True)
class Diagram:
    nodes: list[DiagramNode]
    edges: list[tuple[str, str]]  # (SVG path, kind: next | jump | back)
    width: int
    height: int
    box_width: int = 300
    box_height: int = 34


STEP = 48


def diagram(playbook: LoadedPlaybook, current: str) -> Diagram:
    """The journey as a column of phases, the current one marked; jumps and loops drawn as arcs on the side."""
    phases = playbook.spec.phases
    index = {p.id: i for i, p in enumerate(phases)}
    here = index.get(current, -1)
    nodes = [DiagramNode(p.id, p.title, 8 + i * STEP, "current" if i == here else ("done" if i < here else "ahead"))
             for i, p in enumerate(phases)]
    edges: list[tuple[str, str]] = []
    box_width, box_height = 300, 34
    for offset, transition in enumerate(playbook.spec.transitions):
        source, dest = index[transition.source], index[transition.dest]
        top, bottom = 8 + source * STEP, 8 + dest * STEP
        if dest == source + 1:
            edges.append((f"M {10 + box_width // 2} {top + box_height} V {bottom}", "next"))
            continue
        reach = 24 + (offset % 4) * 10  # several arcs side by side stay apart
        x = 10 + box_width
        start, end = top + box_height // 2, bottom + box_height // 2
        edges.append((f"M {x} {start} C {x + reach} {start}, {x + reach} {end}, {x + 4} {end}",
                       "back" if dest < source else "jump"))
    return Diagram(nodes, edges, width=10 + box_width + 70, height=16 + len(phases) * STEP)


@dataclass(frozen=True)
class EventView:
    id: int
    type: str
    actor: str
    at: datetime
    payload: dict[str, object]


@dataclass
class EngagementView:
    engagement: Engagement
    organization: Organization
    playbook: LoadedPlaybook
    facts: EngagementFacts
    tasks: list[Task]
    transitions: list[TransitionReadiness]
    history: list[EventView]
    departments: list[Department]
    people: dict[int, str]
    diagram: Diagram
    mermaid: str
    documents: list[tuple[str, LocalizedText, LocalizedText]] = field(default_factory=list)


def current_tasks(session: Session, engagement: Engagement) -> list[Task]:
    """The current phase's tasks, done or not, of its latest round (a loop back creates a new round)."""
    tasks = list(session.scalars(
        select(Task).options(selectinload(Task.checklist))
        .where(Task.engagement_id == engagement.id, Task.phase == engagement.phase)
        .order_by(Task.round, Task.due_at, Task.id)))
    latest: dict[str, Task] = {}
    for task in tasks:
        latest[task.task_key] = task
    return sorted(latest.values(), key=lambda t: (t.done, t.due_at, t.id))


def history(session: Session, engagement_id: int, limit: int) -> list[EventView]:
    return [EventView(e.id, e.type, e.actor, e.occurred_at, dict(e.payload)) for e in session.scalars(
        select(Event).where(Event.engagement_id == engagement_id).order_by(Event.id.desc()).limit(limit))]


def people_names(session: Session, organization_id: int, coach_ids: frozenset[int]) -> dict[int, str]:
    names: dict[int, str] = defaultdict(str)
    for person_id, name in session.execute(select(Person.id, Person.name).where(
            (Person.organization_id == organization_id) | Person.id.in_(list(coach_ids)))):
        names[person_id] = name
    return dict(names)


def documents(playbook: LoadedPlaybook) -> list[tuple[str, LocalizedText, LocalizedText]]:
    """(document id, its title, the title of the phase it belongs to), in journey order."""
    return [(d.id, d.title, p.title) for p in playbook.spec.phases for d in p.documents]


def evaluate_as_if(playbook: LoadedPlaybook, facts: EngagementFacts, source: str, trigger: str
                   ) -> TransitionReadiness:
    """A gate evaluated on today's facts even before the engagement reaches its phase (what is left to do)."""
    return machine_for(playbook).evaluate(replace(facts, phase=source), trigger)
