"""The read models of one engagement, for its pages and for any API that shows the same: the engagement view
(readiness, the phase's tasks, history, organization facts), the internal coach's readiness to expand, each
document's data and what the record forms offer to choose from.

They sit beside the portfolio rather than in ``engagements``, ``records`` or ``cycles`` because each combines
several of those domains (and the journey's gates) without owning any of their data or rules: the open tasks
are ``engagements.queries.open_tasks``, visibility is ``auth.visibility``, the records' and cycles' reads are in
their own ``queries.py``. Facts and gates come through ``portfolio.service`` (``facts_of``, ``readiness_of``,
``evaluate``), the one place that calls the journey.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller
from okr_rollout.auth.visibility import engagement_visibility, visible_engagement
from okr_rollout.catalog.service import Catalog
from okr_rollout.clients import pulses
from okr_rollout.clients.pulses import PulseSummary
from okr_rollout.cycles import queries as cycle_queries
from okr_rollout.cycles import service as cycles
from okr_rollout.cycles.charts import QuarterCharts, quarter_charts
from okr_rollout.cycles.review import quarter_review
from okr_rollout.cycles.schemas import OkrOut, QuarterReview
from okr_rollout.engagements.health import activity, assess_engagement
from okr_rollout.engagements.queries import open_tasks
from okr_rollout.errors import not_found
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.journey.health import Health
from okr_rollout.journey.machine import TransitionReadiness
from okr_rollout.models import (
    Appointment,
    CeoSupportStatement,
    CheckIn,
    Department,
    DraftingGroup,
    Engagement,
    KeyResult,
    Meeting,
    Okr,
    Organization,
    Person,
    Quarter,
    Task,
    TrainingSession,
)
from okr_rollout.playbooks import LoadedPlaybook
from okr_rollout.playbooks.schema import Document, Phase
from okr_rollout.portfolio import queries
from okr_rollout.portfolio.paging import ListPage, clamp_offset
from okr_rollout.portfolio.service import evaluate, facts_of, readiness_of
from okr_rollout.records import queries as record_queries
from okr_rollout.records.context import RecordContext, context
from okr_rollout.records.rules import PLANNED, RecordRules
from okr_rollout.texts import LocalizedText

# --- the engagement page ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventView:
    id: int
    type: str
    actor: str
    at: datetime
    payload: dict[str, object]


@dataclass(frozen=True)
class ComingUp:
    """A planned meeting or training session: what, when, where and who (names, never ids)."""

    record: str  # "meeting" or "training"
    id: int
    kind: str  # the meeting kind; "training" for a training session
    at: datetime | None  # a meeting's time
    on: date  # its day, in the organization's time zone
    department: str | None
    attendees: list[str]
    hours: float | None = None
    due: bool = False  # its time has come: it may be marked held


@dataclass(frozen=True)
class EngagementView:
    engagement: Engagement
    organization: Organization
    playbook: LoadedPlaybook
    facts: EngagementFacts
    tasks: list[Task]  # the phase's open tasks (as the API lists them), then those done
    transitions: list[TransitionReadiness]
    history: list[EventView]
    departments: list[Department]
    people: dict[int, str]
    documents: list[tuple[str, LocalizedText, LocalizedText]]  # (document id, its title, its phase's title)
    history_page: ListPage[EventView] | None = None  # where ``history`` stands in the whole history
    coming_up: list[ComingUp] = field(default_factory=list)  # planned meetings and training, soonest first
    charts: QuarterCharts | None = None  # the current quarter's charts (None: no quarter yet)
    health: Health | None = None  # its health now, every signal with its reason


def engagement_with_organization(session: Session, caller: Caller, catalog: Catalog, engagement_id: int
                                 ) -> tuple[Engagement, Organization, LoadedPlaybook]:
    """An engagement the caller sees (else 404), its organization and the playbook version it is pinned to."""
    engagement = visible_engagement(session, caller, engagement_id)
    organization = session.get(Organization, engagement.organization_id)
    assert organization is not None  # a foreign key
    return engagement, organization, catalog.pinned(session, engagement.playbook_sha256)


def engagement_view(session: Session, caller: Caller, catalog: Catalog, engagement_id: int, now: datetime,
                    history_length: int, history_offset: int = 0) -> EngagementView:
    """The engagement page's data; its history a page of ``history_length`` events from ``history_offset`` (newest
    first), with the count of all."""
    engagement, organization, playbook = engagement_with_organization(session, caller, catalog, engagement_id)
    facts = facts_of(session, [engagement.id], now)[engagement.id]
    history = history_page(session, engagement.id, history_offset, history_length)
    readiness = readiness_of(playbook, facts)
    health = assess_engagement(playbook, facts, activity(session, [engagement.id], now)[engagement.id], readiness)
    return EngagementView(
        engagement=engagement, organization=organization, playbook=playbook, facts=facts, health=health,
        tasks=phase_tasks(session, engagement.id), transitions=list(readiness.transitions),
        history=list(history.items),
        departments=list(session.scalars(queries.departments_of(organization.id))),
        people=dict(session.execute(queries.names_of_people(organization.id, facts.coach_ids)).all()),
        documents=documents_of(playbook), history_page=history, coming_up=coming_up(facts),
        charts=current_quarter_charts(session, caller, engagement, organization, playbook, now))


def current_quarter_charts(session: Session, caller: Caller, engagement: Engagement, organization: Organization,
                           playbook: LoadedPlaybook, now: datetime) -> QuarterCharts | None:
    """The charts of the engagement's current quarter: the one today falls in, else the latest begun, else none."""
    ctx = RecordContext(session, caller, engagement, playbook, RecordRules.of(playbook), now,
                        organization.timezone or "UTC")
    quarters = cycles.quarters_of(session, engagement.id)
    begun = [q for q in quarters if q.starts_on <= ctx.today]
    current = next((q for q in begun if ctx.today <= q.ends_on), begun[-1] if begun else None)
    return quarter_charts(ctx, current) if current is not None else None


def coming_up(facts: EngagementFacts) -> list[ComingUp]:
    """The planned meetings and training sessions of an engagement (not yet held, not cancelled), soonest first."""
    names = {person.id: person.name for person in facts.people}
    departments = {department.id: department.name for department in facts.departments}

    def who(ids: frozenset[int]) -> list[str]:
        return sorted(names[i] for i in ids if i in names)

    found = [ComingUp("meeting", m.id, m.kind, m.held_at, facts.local_date(m.held_at),
                      departments.get(m.department_id) if m.department_id is not None else None, who(m.attendee_ids),
                      due=m.held_at <= facts.now)
             for m in facts.meetings if m.status == PLANNED]
    found += [ComingUp("training", t.id, "training", None, t.held_on, None, who(t.attendee_ids), t.hours,
                       due=t.held_on <= facts.today)
              for t in facts.training_sessions if t.status == PLANNED]
    return sorted(found, key=lambda c: (c.on, c.at or datetime.combine(c.on, time.min, tzinfo=UTC), c.record, c.id))


def history_page(session: Session, engagement_id: int, offset: int, limit: int) -> ListPage[EventView]:
    total = int(session.scalar(queries.history_count(engagement_id)) or 0)
    offset = clamp_offset(offset, total, limit)
    events = [EventView(e.id, e.type, e.actor, e.occurred_at, dict(e.payload))
              for e in session.scalars(queries.history_page(engagement_id, offset, limit))]
    return ListPage(events, offset, limit, total)


def phase_tasks(session: Session, engagement_id: int) -> list[Task]:
    """The current phase's open tasks, the very list the API shows, then the ones done (of a task entered again
    in a later round, the latest)."""
    open_ = list(session.scalars(open_tasks(engagement_id)).unique())
    keys = {task.task_key for task in open_}
    done: dict[str, Task] = {}
    for task in session.scalars(queries.done_tasks_of_current_phase(engagement_id)):
        if task.task_key not in keys:
            done[task.task_key] = task
    return [*open_, *sorted(done.values(), key=lambda t: (t.due_at, t.id))]


def documents_of(playbook: LoadedPlaybook) -> list[tuple[str, LocalizedText, LocalizedText]]:
    """(document id, its title, the title of the phase it belongs to), in journey order."""
    return [(d.id, d.title, p.title) for p in playbook.spec.phases for d in p.documents]


# --- readiness to expand ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expansion:
    """How far an engagement is from the playbook's final phase (expansion), judged on today's facts."""

    trigger: str
    destination: Phase
    gate: TransitionReadiness
    phases_left: list[Phase]


def expansion(playbook: LoadedPlaybook, facts: EngagementFacts) -> Expansion | None:
    spec = playbook.spec
    finals = {p.id for p in spec.phases if p.final}
    transition = next((t for t in spec.transitions if t.dest in finals), None)
    if transition is None:
        return None
    order = [p.id for p in spec.phases]
    here = order.index(facts.phase) if facts.phase in order else 0
    there = order.index(transition.dest)
    gate = evaluate(playbook, facts, transition.source, transition.trigger)
    return Expansion(transition.trigger, spec.phase(transition.dest), gate, list(spec.phases[here + 1:there + 1]))


@dataclass(frozen=True)
class ReadinessItem:
    engagement: Engagement
    organization: Organization
    playbook: LoadedPlaybook
    phase: Phase
    expansion: Expansion | None
    tasks: list[Task]  # open tasks, without their checklists


def readiness_overview(session: Session, caller: Caller, catalog: Catalog, now: datetime, offset: int = 0,
                       limit: int | None = None) -> ListPage[ReadinessItem]:
    """A page of the engagements the caller sees, by organization, and how ready each is to expand: the page is
    cut by the database, and only its engagements are evaluated. A fixed number of statements."""
    visible = engagement_visibility(caller)
    total = session.scalar(queries.count_visible_engagements(visible)) or 0
    size = limit or max(total, 1)
    offset = clamp_offset(offset, total, size)
    rows = session.execute(queries.visible_engagements_with_organization(visible, offset, limit)).all()
    ids = [engagement.id for engagement, _ in rows]
    facts = facts_of(session, ids, now)
    tasks: dict[int, list[Task]] = {engagement_id: [] for engagement_id in ids}
    if ids:
        for task in session.scalars(queries.open_tasks_of(ids)):
            tasks[task.engagement_id].append(task)
    items = []
    for engagement, organization in rows:
        playbook = catalog.pinned(session, engagement.playbook_sha256)
        items.append(ReadinessItem(engagement, organization, playbook, playbook.phase(engagement.phase),
                                   expansion(playbook, facts[engagement.id]), tasks[engagement.id]))
    return ListPage(items, offset, size, total)


# --- the record forms and the documents ---------------------------------------------------------------------------


@dataclass
class FormContext:
    """What the record forms and the documents of an engagement offer and show."""

    ctx: RecordContext
    organization: Organization
    people: list[Person]  # of the organization
    coaches: list[Person]  # the engagement's external coaches
    trainers: list[Person]  # who may give a training: the external coaches, then the client's internal coaches
    departments: list[Department]
    quarters: list[Quarter]
    okrs: list[Okr]
    key_results: list[KeyResult]

    @property
    def names(self) -> dict[int, str]:
        return {p.id: p.name for p in [*self.people, *self.coaches]}


def form_context(session: Session, caller: Caller, catalog: Catalog, engagement_id: int, now: datetime
                 ) -> FormContext:
    """Anyone who sees the engagement may record on it (else 404)."""
    ctx = context(session, caller, catalog, engagement_id, now)
    organization = session.get(Organization, ctx.engagement.organization_id)
    assert organization is not None  # a foreign key
    coaches = list(session.scalars(queries.coaches_of(engagement_id)))
    return FormContext(
        ctx=ctx, organization=organization,
        people=list(session.scalars(queries.people_of(organization.id))),
        coaches=coaches,
        trainers=[*coaches, *(p for p in session.scalars(queries.internal_trainers_of(engagement_id))
                             if p.id not in {c.id for c in coaches})],
        departments=list(session.scalars(queries.departments_of(organization.id))),
        quarters=cycles.quarters_of(session, engagement_id),
        okrs=list(session.scalars(cycle_queries.okrs_of_engagement(engagement_id))),
        key_results=list(session.scalars(cycle_queries.key_results_of_engagement(engagement_id))),
    )


def recent_records(session: Session, engagement_id: int, limit: int) -> dict[str, Sequence[Any]]:
    """The latest records of each kind, newest first."""
    def latest(model: type[record_queries.Record]) -> list[record_queries.Record]:
        return list(session.scalars(record_queries.latest_records(model, engagement_id, limit)))

    return {"meetings": latest(Meeting), "support": latest(CeoSupportStatement), "training": latest(TrainingSession),
            "drafting": latest(DraftingGroup), "appointments": latest(Appointment)}


@dataclass(frozen=True)
class CheckInView:
    """A check-in as the records page lists it: with the key result's metric and its OKR's objective."""

    check_in: CheckIn
    metric: str
    objective: str


def _records_page(session: Session, model: type[record_queries.Record], engagement_id: int, offset: int, limit: int
                  ) -> ListPage[record_queries.Record]:
    total = int(session.scalar(record_queries.records_count(model, engagement_id)) or 0)
    offset = clamp_offset(offset, total, limit)
    return ListPage(list(session.scalars(record_queries.newest_records(model, engagement_id, offset, limit))),
                    offset, limit, total)


def record_pages(session: Session, engagement_id: int, offsets: Mapping[str, int], limit: int
                 ) -> dict[str, ListPage[Any]]:
    """A page of each kind of record (and of the check-ins), newest first, from the offset asked for each."""
    def page_of(kind: str, model: type[record_queries.Record]) -> ListPage[Any]:
        return _records_page(session, model, engagement_id, offsets.get(kind, 0), limit)

    pages: dict[str, ListPage[Any]] = {
        "meetings": page_of("meetings", Meeting), "support": page_of("support", CeoSupportStatement),
        "training": page_of("training", TrainingSession), "drafting": page_of("drafting", DraftingGroup),
        "appointments": page_of("appointments", Appointment)}
    total = int(session.scalar(cycle_queries.check_ins_count(engagement_id)) or 0)
    offset = clamp_offset(offsets.get("check_ins", 0), total, limit)
    rows = session.execute(cycle_queries.check_ins_page(engagement_id, offset, limit)).all()
    pages["check_ins"] = ListPage([CheckInView(c, metric, objective) for c, metric, objective in rows], offset,
                                  limit, total)
    return pages


@dataclass(frozen=True)
class PeopleFound:
    """What a search of the people picker found: at most ``limit`` people, and whether more match."""

    people: list[Person]
    more: bool


def search_people(session: Session, caller: Caller, engagement_id: int, text: str, limit: int, *,
                  with_coaches: bool) -> PeopleFound:
    """People of the engagement's organization (and its coaches, for a meeting's attendees) whose name contains
    ``text``: what the record forms' people picker offers as one types, instead of listing everyone."""
    engagement = visible_engagement(session, caller, engagement_id)
    found = list(session.scalars(queries.people_matching(
        engagement.organization_id, engagement.id if with_coaches else None, text.strip(), limit + 1)))
    return PeopleFound(found[:limit], len(found) > limit)


@dataclass(frozen=True)
class DocumentData:
    """What a document of the playbook shows: the engagement's facts, and for some documents more."""

    form: FormContext
    spec: Document
    phase: Phase
    facts: EngagementFacts
    quarter: Quarter | None = None  # the quarter review: the quarter reviewed
    review: QuarterReview | None = None
    okrs: list[OkrOut] | None = None
    expansion: Expansion | None = None  # the expansion readiness report
    charts: QuarterCharts | None = None  # the quarter review: the quarter's charts
    pulses: list[PulseSummary] | None = None  # the quarter review: the pulses of the quarter's milestones
    # The outcomes recorded by the held meetings of the kind a meeting document prepares (the agenda ticks them).
    recorded_outcomes: frozenset[str] = frozenset()


def document_data(session: Session, caller: Caller, catalog: Catalog, engagement_id: int, document_id: str,
                  now: datetime, quarter_id: int | None = None) -> DocumentData:
    form = form_context(session, caller, catalog, engagement_id, now)
    playbook = form.ctx.playbook
    found = next(((d, p) for p in playbook.spec.phases for d in p.documents if d.id == document_id), None)
    if found is None:
        raise not_found(LocalizedText("document in this playbook", "此手冊的文件"))
    spec, phase = found
    facts = facts_of(session, [engagement_id], now)[engagement_id]
    if document_id == "quarter_review":
        quarter = _quarter_of(form, quarter_id)
        if quarter is None:
            return DocumentData(form, spec, phase, facts, okrs=[])
        okrs = list(session.scalars(cycle_queries.okrs_of_quarter(quarter.id)))
        return DocumentData(form, spec, phase, facts, quarter=quarter, review=quarter_review(form.ctx, quarter),
                            okrs=cycles.okr_views(session, okrs), charts=quarter_charts(form.ctx, quarter),
                            pulses=pulses.quarter_summary(session, engagement_id, playbook, quarter.starts_on,
                                                          quarter.ends_on))
    if document_id == "expansion_readiness_report":
        return DocumentData(form, spec, phase, facts, expansion=expansion(playbook, facts))
    kind = _MEETING_OF_DOCUMENT.get(document_id)
    if kind is not None:
        return DocumentData(form, spec, phase, facts, recorded_outcomes=recorded_outcomes(facts, kind))
    return DocumentData(form, spec, phase, facts)


# The meeting kind a document is the agenda of.
_MEETING_OF_DOCUMENT = {"executive_meeting_agenda": "executive"}


def recorded_outcomes(facts: EngagementFacts, kind: str) -> frozenset[str]:
    """Every outcome recorded by a held meeting of this kind (planned and cancelled ones record none)."""
    return frozenset(o for m in facts.meetings if m.kind == kind and m.held for o in m.outcomes)


def _quarter_of(form: FormContext, quarter_id: int | None) -> Quarter | None:
    """The quarter asked for, else the last one that has ended (the one to review), else the latest."""
    if quarter_id is not None:
        return cycles.get_quarter(form.ctx.session, form.ctx.engagement.id, quarter_id)
    ended = [q for q in form.quarters if q.ends_on < form.ctx.today]
    chosen = ended or form.quarters
    return chosen[-1] if chosen else None


# --- corrections on the pages ------------------------------------------------------------------------------------

# The kinds of record the pages correct, by the slug of their form, and the table each is a row of.
_CORRECTED: dict[str, Any] = {
    "meeting": Meeting, "ceo-support": CeoSupportStatement, "training": TrainingSession,
    "drafting-group": DraftingGroup, "appointment": Appointment, "quarter": Quarter, "okr": Okr,
    "key-result": KeyResult, "check-in": CheckIn, "score": Okr, "decision": Okr,
}


def record_to_correct(form: FormContext, slug: str, record_id: int) -> Any:
    """The record an edit or void form of the pages is about, if it is the engagement's (else 404); a department
    of the organization for the department form."""
    session = form.ctx.session
    if slug == "department":
        department = session.get(Department, record_id)
        if department is None or department.organization_id != form.organization.id:
            raise not_found(LocalizedText("department in this organization", "此組織的部門"))
        return department
    model = _CORRECTED.get(slug)
    record = session.get(model, record_id) if model is not None else None
    if record is None or record.engagement_id != form.ctx.engagement.id:
        raise not_found(LocalizedText("record of this engagement", "此輔導專案的記錄"))
    return record


@dataclass(frozen=True)
class CycleRecords:
    """The engagement's quarters, OKRs and key results as the records page lists them to correct: voided too."""

    quarters: list[Quarter]
    okrs: list[Okr]
    key_results: list[KeyResult]


def cycle_records(session: Session, engagement_id: int) -> CycleRecords:
    quarters, okrs, key_results = cycle_queries.cycle_records_of(engagement_id)
    return CycleRecords(list(session.scalars(quarters)), list(session.scalars(okrs)),
                        list(session.scalars(key_results)))
