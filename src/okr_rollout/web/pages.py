"""The portfolio (a coach's home) and the engagement page: journey, tasks and checklists, readiness, history."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Response

from okr_rollout.clients import pulses
from okr_rollout.db import rollback
from okr_rollout.engagements import service as engagements
from okr_rollout.engagements import tasks as engagement_tasks
from okr_rollout.engagements.schemas import TaskUpdate
from okr_rollout.errors import BadRequest, Conflict, GateRefused, not_found
from okr_rollout.journey.health import STATUS_TITLES, URGENCY, HealthStatus
from okr_rollout.journey.machine import CriterionOutcome
from okr_rollout.playbooks.diagram import mermaid
from okr_rollout.playbooks.vocabulary import as_words
from okr_rollout.portfolio import engagement as engagement_views
from okr_rollout.portfolio import service as portfolio_service
from okr_rollout.portfolio.engagement import EngagementView
from okr_rollout.portfolio.service import SORTS, Order, PortfolioQuery, Sort
from okr_rollout.records import service as records
from okr_rollout.records.context import context as records_context
from okr_rollout.texts import LocalizedText
from okr_rollout.versions import service as versions
from okr_rollout.versions.schemas import MigrationRequest
from okr_rollout.web import charts, labels, views
from okr_rollout.web.coaching import coaches_panel
from okr_rollout.web.context import FormDep, Web, WebDep, WebRoute, check_csrf, page, redirect
from okr_rollout.web.i18n import translations
from okr_rollout.web.labels import RECORD_FOR_CRITERION
from okr_rollout.web.paging import offset_param, page_links
from okr_rollout.web.waves import waves_panel

router = APIRouter(route_class=WebRoute, include_in_schema=False)
HISTORY_LENGTH = 40


@router.get("/portfolio")
def portfolio(web: WebDep, phase: str | None = None, attention: bool = False, health: str | None = None,
              sort: str = "health", order: str = "asc", cursor: str | None = None) -> Response:
    # By urgency unless asked otherwise: stuck, at risk, ready to move, on track.
    chosen: Sort = "health"
    for known in SORTS:
        if known == sort:
            chosen = known
    status: HealthStatus | None = next((known for known in URGENCY if known == health), None)
    descending = order == "desc"
    direction: Order = "desc" if descending else "asc"
    filters = {name: value for name, value in (("phase", phase or ""), ("attention", "true" if attention else ""),
                                               ("health", status or ""), ("sort", chosen), ("order", direction))
               if value}
    try:
        result = portfolio_service.portfolio(
            web.session, web.caller, web.catalog, web.now, timedelta(days=web.settings.web_idle_days),
            PortfolioQuery(phase=phase or None, attention=attention, health=status, sort=chosen, order=direction,
                           cursor=cursor, limit=web.settings.page_size_default))
    except BadRequest:  # a cursor of another sort, or none this page gave out: start again from the first page
        return redirect(web, f"/portfolio?{urlencode(filters)}")
    next_url = (f"/portfolio?{urlencode({**filters, 'cursor': result.next_cursor})}"
                if result.next_cursor else None)
    not_yet = LocalizedText("Not evaluated yet", "尚未評估")
    by_phase = charts.stacked_bars(
        [(c.phase_title.get(web.locale), c.status or "unevaluated",
          (STATUS_TITLES[c.status] if c.status else not_yet).get(web.locale), c.count)
         for c in portfolio_service.portfolio_phase_health_counts(web.session, web.caller, web.catalog)],
        [*URGENCY, "unevaluated"])
    return page(web, "portfolio.html", rows=result.rows, total=result.visible, matching=result.total,
                by_phase=by_phase,
                phases=result.phases, phase=phase or "", attention=attention, sort=chosen, order=direction,
                sorts=SORTS, attention_labels=labels.ATTENTION, next_url=next_url, health=status or "",
                health_titles=STATUS_TITLES, statuses=URGENCY,
                first_url=f"/portfolio?{urlencode(filters)}" if cursor else None)


def engagement_view(web: Web, engagement_id: int) -> EngagementView:
    return engagement_views.engagement_view(web.session, web.caller, web.catalog, engagement_id, web.now,
                                            HISTORY_LENGTH, offset_param(web.request, "history_from"))


@router.get("/engagements/{engagement_id}")
def engagement_page(web: WebDep, engagement_id: int, refused: str | None = None, moved: str | None = None,
                    migrated: int | None = None, wave_refused: int | None = None, wave_trigger: str | None = None
                    ) -> Response:
    view = engagement_view(web, engagement_id)
    refusal = next((t for t in view.transitions if t.trigger == refused and not t.allowed), None)
    back = f"/engagements/{engagement_id}#readiness"

    def phase_title(phase: object) -> str:
        return view.playbook.spec.phase(str(phase)).title.get(web.locale) if _known(view, phase) else str(phase)

    def record_url(criterion: CriterionOutcome) -> str | None:
        return record_link(engagement_id, criterion, back)

    def refused_criteria(payload: dict[str, object]) -> str:
        """The criteria a refused transition failed, by their titles (a history line is read by a person)."""
        phase, trigger, failed = payload.get("phase"), payload.get("trigger"), payload.get("failed")
        gate = (view.playbook.gate(phase, trigger)
                if _known(view, phase) and isinstance(phase, str) and isinstance(trigger, str) else ())
        titles = {c.id: c.title.get(web.locale) for c in gate if c.title is not None}
        separator = "、" if web.locale == "zh-TW" else ", "
        return separator.join(titles.get(str(key)) or as_words(str(key)) for key in failed or []
                              ) if isinstance(failed, list) else ""

    quarter = charts.quarter_layouts(view.charts, translations(web.locale).gettext("No department")
                                     ) if view.charts else None
    wave_panel = waves_panel(web, engagement_id, wave_refused, wave_trigger)
    return page(web, "engagement.html", view=view, diagram=views.diagram(view.playbook, view.engagement.phase),
                quarter_charts=quarter,
                health_titles=STATUS_TITLES,
                mermaid=mermaid(view.playbook.spec, current=view.engagement.phase, locale=web.locale,
                                wave_phases=[row.view.wave.phase for row in wave_panel["waves"].rows]),
                **wave_panel,
                refusal=refusal, record_url=record_url,
                moved_from=view.playbook.spec.phase(moved).title if moved and _known(view, moved) else None,
                may_fire=web.caller.may_fire_transitions, back=back,
                migrated=migrated if migrated == view.engagement.playbook_version else None,
                event_labels=labels.EVENTS, meeting_kinds=labels.MEETING_KINDS,
                task_roles=labels.TASK_ROLES, foundation_fields=labels.FOUNDATION_FIELDS,
                phase_title=phase_title, refused_criteria=refused_criteria, newer_versions=newer_versions(web, view),
                page_url=page_links(web.request), pulses=pulses.summary(web.session, engagement_id, view.playbook),
                **coaches_panel(web, engagement_id))


def newer_versions(web: Web, view: EngagementView) -> list[int]:
    """The versions of the engagement's playbook above the one it is pinned to, oldest first."""
    pinned = view.engagement.playbook_version
    return [v for v in web.catalog.registry.versions(view.engagement.playbook_id) if v > pinned]


def record_link(engagement_id: int, criterion: CriterionOutcome, back: str) -> str | None:
    """The form that records what a failed criterion misses, preset from its evidence where it says what."""
    slug = RECORD_FOR_CRITERION.get(criterion.kind)
    if slug is None:
        return None
    query = [("next", back)]
    kind = criterion.evidence.get("meeting_kind")
    if slug == "meeting" and isinstance(kind, str):
        query.append(("kind", kind))
        missing = criterion.evidence.get("outcomes_missing")
        query += [("outcomes", str(o)) for o in missing] if isinstance(missing, list) else []
    return f"/engagements/{engagement_id}/records/{slug}?{urlencode(query, safe='/')}"


def _known(view: EngagementView, phase: object) -> bool:
    return isinstance(phase, str) and any(p.id == phase for p in view.playbook.spec.phases)


@router.post("/engagements/{engagement_id}/transitions")
def fire_transition(web: WebDep, form: FormDep, engagement_id: int) -> Response:
    check_csrf(web, form)
    trigger = str(form.get("trigger") or "")
    try:
        source = engagements.fire_transition(web.session, web.caller, web.catalog, engagement_id, trigger,
                                             web.now).source
    except GateRefused:
        # Nothing of the refused request is kept; its entry in the history is written after the rollback.
        rollback(web.session)
        return redirect(web, f"/engagements/{engagement_id}?refused={quote(trigger)}#readiness")
    return redirect(web, f"/engagements/{engagement_id}?moved={quote(source)}")


def _same_engagement(engagement_id: int, task_engagement_id: int, task_id: int) -> None:
    if task_engagement_id != engagement_id:
        raise not_found(LocalizedText("task in this engagement", "此輔導專案的任務"))


@router.post("/engagements/{engagement_id}/tasks/{task_id}/checklist/{item_id}")
def check_item(web: WebDep, form: FormDep, engagement_id: int, task_id: int, item_id: int) -> Response:
    check_csrf(web, form)
    task = engagement_tasks.visible_task(web.session, web.caller, task_id)
    _same_engagement(engagement_id, task.engagement_id, task_id)
    engagement_tasks.check_item(web.session, web.caller, task, item_id, form.get("checked") == "1", web.now)
    return redirect(web, f"/engagements/{engagement_id}#task-{task_id}")


@router.post("/engagements/{engagement_id}/tasks/{task_id}/done")
def mark_done(web: WebDep, form: FormDep, engagement_id: int, task_id: int) -> Response:
    check_csrf(web, form)
    task = engagement_tasks.visible_task(web.session, web.caller, task_id)
    _same_engagement(engagement_id, task.engagement_id, task_id)
    engagement_tasks.update_task(web.session, web.caller, task, TaskUpdate(done=form.get("done") == "1"), web.now)
    return redirect(web, f"/engagements/{engagement_id}#task-{task_id}")


@router.post("/engagements/{engagement_id}/planned/{record}/{record_id}")
def set_planned_status(web: WebDep, form: FormDep, engagement_id: int, record: str, record_id: int) -> Response:
    """A planned meeting or training session of "Coming up" was held, or was cancelled."""
    check_csrf(web, form)
    status = "held" if form.get("status") == "held" else "cancelled"
    ctx = records_context(web.session, web.caller, web.catalog, engagement_id, web.now)
    records.set_planned_status(ctx, record, record_id, status)
    return redirect(web, f"/engagements/{engagement_id}#coming-up")


# --- moving to another version of the playbook --------------------------------------------------------------


@router.get("/engagements/{engagement_id}/migration")
def migration_page(web: WebDep, engagement_id: int, to: int) -> Response:
    """The dry run of moving the engagement to version ``to``: what would change, before a coach applies it."""
    caller = web.caller
    engagement, organization, old = engagement_views.engagement_with_organization(web.session, caller, web.catalog,
                                                                                   engagement_id)
    plan, new, refusal = None, None, None
    try:
        prepared = versions.prepare(web.session, web.catalog, engagement, to, {}, web.now)
        plan, new = prepared.plan, prepared.new
    except Conflict as conflict:  # the phase no longer exists (needs a phase map), or already on that version
        reasons = conflict.extra.get("reasons")
        refusal = ((reasons.get(web.locale) or reasons.get("en")) if isinstance(reasons, dict)
                   else conflict.text(web.locale))

    def old_phase(phase: str) -> str:
        return old.spec.phase(phase).title.get(web.locale) if any(p.id == phase for p in old.spec.phases) else phase

    def new_phase(phase: str) -> str:
        if new is not None and any(p.id == phase for p in new.spec.phases):
            return new.spec.phase(phase).title.get(web.locale)
        return phase

    return page(web, "migration.html", engagement=engagement, organization=organization, old=old, to_version=to,
                plan=plan, refusal=refusal, may_apply=caller.may_fire_transitions and plan is not None,
                old_phase=old_phase, new_phase=new_phase, task_roles=labels.TASK_ROLES)


@router.post("/engagements/{engagement_id}/migration")
def apply_migration(web: WebDep, form: FormDep, engagement_id: int) -> Response:
    check_csrf(web, form)
    try:
        to_version = int(str(form.get("to_version") or ""))
        expected = int(str(form.get("version") or ""))
    except ValueError:
        to_version = expected = 0
    if to_version < 1:
        raise not_found(LocalizedText("move to another playbook version to apply", "可套用的手冊版本移轉"))
    # The engagement must still be as previewed: a change since then (412) sends the coach back to the preview.
    versions.migrate(web.session, web.caller, web.catalog, engagement_id, MigrationRequest(to_version=to_version),
                     web.now, expected_version=expected)
    return redirect(web, f"/engagements/{engagement_id}?migrated={to_version}")
