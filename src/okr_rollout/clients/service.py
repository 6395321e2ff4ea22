"""A client person's own page and what they do on it: a weekly check-in of their key results, their tasks and
checklists, the CEO's statement of support, a department lead's team meeting and 1:1s. Every action goes through
the services coaches use (so the same rules hold and the history names the person); everything of another
person or organization is 404. Flushes, never commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.catalog.service import Catalog
from okr_rollout.clients import pulses, queries
from okr_rollout.cycles import service as cycles
from okr_rollout.cycles.schemas import CheckInCreate
from okr_rollout.engagements import service as engagements
from okr_rollout.engagements import tasks as engagement_tasks
from okr_rollout.engagements.schemas import TaskUpdate
from okr_rollout.errors import NotFound, not_found
from okr_rollout.journey.machine import TransitionReadiness
from okr_rollout.models import CheckIn, Department, KeyResult, Okr, Person, Pulse, Quarter, Task
from okr_rollout.playbooks import vocabulary
from okr_rollout.records import service as records
from okr_rollout.records.context import RecordContext, context
from okr_rollout.records.schemas import CeoSupportCreate, MeetingCreate
from okr_rollout.texts import LocalizedText

NOTHING = LocalizedText("There is nothing here.", "此處沒有任何資源。")
# The meetings a department lead records on their page, when the playbook has these kinds.
LEAD_MEETINGS = ("weekly_team", "one_on_one")


CHART_WIDTH, CHART_HEIGHT = 300, 60


@dataclass(frozen=True)
class MyKeyResult:
    key_result: KeyResult
    okr: Okr
    quarter: Quarter
    check_ins: list[CheckIn]

    @property
    def chart(self) -> str:
        """The progress chart's points (SVG polyline): each check-in's value by its week, from the quarter's start
        (the start value) to its end, between the start and the target value."""
        kr, quarter = self.key_result, self.quarter
        days = max(1, (quarter.ends_on - quarter.starts_on).days)
        low, high = sorted((kr.start_value, kr.target_value))
        span = (high - low) or 1.0
        points = [(quarter.starts_on, kr.start_value)] + [(c.week_of, c.value) for c in self.check_ins]

        def xy(day: date, value: float) -> str:
            x = CHART_WIDTH * min(max((day - quarter.starts_on).days / days, 0.0), 1.0)
            y = CHART_HEIGHT * (1 - min(max((value - low) / span, 0.0), 1.0))
            return f"{x:.1f},{y:.1f}"

        return " ".join(xy(day, value) for day, value in points)

    @property
    def target_y(self) -> int:
        """Where the target is on the chart: its top when the key result grows, its bottom when it shrinks."""
        return 0 if self.key_result.target_value >= self.key_result.start_value else CHART_HEIGHT


@dataclass(frozen=True)
class LedDepartment:
    department: Department
    members: list[tuple[int, str]]  # (person id, name), the lead left out


@dataclass(frozen=True)
class Gate:
    """A way out of the current phase and what still blocks it, in plain words."""

    title: LocalizedText
    dest: LocalizedText
    allowed: bool
    blocking: list[LocalizedText]  # the reasons of the criteria that block, in the playbook's words
    passed: list[LocalizedText]  # the titles of the criteria already met


@dataclass(frozen=True)
class ClientPage:
    person: Person
    organization_id: int
    engagement_id: int | None
    phase: LocalizedText | None = None
    phase_description: LocalizedText | None = None
    gates: list[Gate] = field(default_factory=list)
    key_results: list[MyKeyResult] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    is_ceo: bool = False
    support_levels: list[tuple[str, LocalizedText]] = field(default_factory=list)
    led: list[LedDepartment] = field(default_factory=list)
    meeting_kinds: list[tuple[str, LocalizedText]] = field(default_factory=list)
    confidence_max: float | None = None
    today: date | None = None
    pulses: list[tuple[Pulse, LocalizedText]] = field(default_factory=list)


def _me(session: Session, caller: Caller) -> Person:
    if caller.role != Role.client or caller.person_id is None:
        raise NotFound(NOTHING)
    person = session.get(Person, caller.person_id)
    if person is None or person.organization_id != caller.organization_id:
        raise NotFound(NOTHING)
    return person


def _context(session: Session, caller: Caller, catalog: Catalog, now: datetime) -> RecordContext:
    engagement_id = session.scalar(queries.latest_engagement_of(caller.organization_id or 0))
    if engagement_id is None:
        raise not_found(LocalizedText("engagement", "輔導專案"))
    return context(session, caller, catalog, engagement_id, now)


def my_page(session: Session, caller: Caller, catalog: Catalog, now: datetime) -> ClientPage:
    """What the signed-in client person sees: where the rollout stands and what is theirs to do."""
    person = _me(session, caller)
    organization_id = person.organization_id or 0
    engagement_id = session.scalar(queries.latest_engagement_of(organization_id))
    if engagement_id is None:
        return ClientPage(person, organization_id, None)
    ctx = context(session, caller, catalog, engagement_id, now)
    spec = ctx.playbook.spec
    phase = spec.phase(ctx.engagement.phase)
    report = engagements.readiness(session, catalog, ctx.engagement, now)
    gates = [_gate(ctx, transition) for transition in report.transitions]
    rows = list(session.execute(queries.my_key_results(engagement_id, person.id)))
    history = cycles.check_ins_of(session, [kr.id for kr, _, _ in rows])
    key_results = [MyKeyResult(kr, okr, quarter, history.get(kr.id, [])) for kr, okr, quarter in rows]
    tasks = list(session.scalars(queries.my_open_tasks(engagement_id, person.id)).unique())
    led = _led(session, organization_id, person.id)
    declared = ctx.rules.meeting_kinds
    kinds = [(k, vocabulary.meeting_kind(k)) for k in LEAD_MEETINGS if declared is None or k in declared]
    return ClientPage(
        person, organization_id, engagement_id, phase.title, phase.description, gates, key_results, tasks,
        is_ceo="ceo" in (person.roles or []),
        support_levels=[(k, v) for k, v in vocabulary.SUPPORT_LEVELS.items()],
        led=led, meeting_kinds=kinds if led else [], confidence_max=ctx.rules.check_in_confidence_max,
        today=ctx.today, pulses=[(p, pulses.milestone_title(p.milestone))
                                 for p in pulses.open_pulses(session, person.id) if p.engagement_id == engagement_id])


def _gate(ctx: RecordContext, transition: TransitionReadiness) -> Gate:
    dest = ctx.playbook.spec.phase(transition.dest).title
    title = transition.title or dest
    return Gate(title, dest, transition.allowed,
                [c.reason for c in transition.criteria if c.blocks],
                [c.title or c.reason for c in transition.criteria if c.passed])


def _led(session: Session, organization_id: int, person_id: int) -> list[LedDepartment]:
    departments = list(session.scalars(queries.departments_led_by(organization_id, person_id)))
    if not departments:
        return []
    members: dict[int, list[tuple[int, str]]] = {d.id: [] for d in departments}
    for department_id, member_id, name in session.execute(queries.members_of([d.id for d in departments])):
        if member_id != person_id:
            members[department_id].append((member_id, name))
    return [LedDepartment(d, members[d.id]) for d in departments]


# --- what a client person does --------------------------------------------------------------------------------


def check_in(session: Session, caller: Caller, catalog: Catalog, now: datetime, *, key_result_id: int,
             value: float, confidence: float | None, note: str) -> CheckIn:
    """This week's check-in of one of the person's own key results (another's: 404), as a coach records one."""
    person = _me(session, caller)
    ctx = _context(session, caller, catalog, now)
    mine = {kr.id: quarter for kr, _, quarter in
            session.execute(queries.my_key_results(ctx.engagement.id, person.id))}
    if key_result_id not in mine:
        raise not_found(LocalizedText("key result of yours", "您的關鍵結果"))
    quarter = mine[key_result_id]
    week_of = min(max(ctx.today, quarter.starts_on), quarter.ends_on)
    return cycles.record_check_in(ctx, quarter, CheckInCreate(
        key_result_id=key_result_id, week_of=week_of, value=value, confidence=confidence, note=note,
        author_id=person.id))


def _my_task(session: Session, caller: Caller, task_id: int) -> Task:
    person = _me(session, caller)
    if session.scalar(queries.is_assignee(task_id, person.id)) is None:
        raise not_found(LocalizedText("task of yours", "您的任務"))
    return engagement_tasks.visible_task(session, caller, task_id)


def mark_task(session: Session, caller: Caller, task_id: int, done: bool, now: datetime) -> Task:
    task = _my_task(session, caller, task_id)
    return engagement_tasks.update_task(session, caller, task, TaskUpdate(done=done), now)


def check_item(session: Session, caller: Caller, task_id: int, item_id: int, checked: bool, now: datetime) -> Task:
    task = _my_task(session, caller, task_id)
    return engagement_tasks.check_item(session, caller, task, item_id, checked, now)


def confirm_support(session: Session, caller: Caller, catalog: Catalog, now: datetime, *, level: str,
                    note: str) -> None:
    """The CEO states their support today, at the level they choose (anyone else: 404)."""
    person = _me(session, caller)
    if "ceo" not in (person.roles or []):
        raise NotFound(NOTHING)
    ctx = _context(session, caller, catalog, now)
    records.state_ceo_support(ctx, CeoSupportCreate.model_validate(
        {"level": level, "stated_on": ctx.today, "note": note}))


def record_meeting(session: Session, caller: Caller, catalog: Catalog, now: datetime, *, kind: str,
                   department_id: int, member_id: int | None, notes: str) -> None:
    """A department lead's weekly team meeting (the department's members attend) or 1:1 (with one member), held
    now. Only a lead of that department records them (anyone else: 404)."""
    person = _me(session, caller)
    led = {d.department.id: d for d in _led(session, person.organization_id or 0, person.id)}
    department = led.get(department_id)
    if department is None or kind not in LEAD_MEETINGS:
        raise NotFound(NOTHING)
    members = [member for member, _ in department.members]
    if kind == "one_on_one":
        if member_id is None or member_id not in members:
            raise not_found(LocalizedText("member of your department", "您部門的成員"))
        attendees = [person.id, member_id]
    else:
        attendees = [person.id, *members]
    ctx = _context(session, caller, catalog, now)
    records.record_meeting(ctx, MeetingCreate.model_validate(
        {"kind": kind, "held_at": now, "department_id": department_id, "attendee_ids": attendees, "notes": notes}))


def answer_pulse(session: Session, caller: Caller, pulse_id: int, rating: int, comment: str, now: datetime) -> None:
    person = _me(session, caller)
    pulses.answer_mine(session, person.id, caller.actor, pulse_id, rating, comment, now)
