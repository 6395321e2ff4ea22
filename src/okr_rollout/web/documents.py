"""The documents a coach hands out (printable, downloadable) and the internal coach's readiness page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select

from okr_rollout.auth.visibility import engagement_visibility
from okr_rollout.cycles import service as cycles
from okr_rollout.cycles.review import quarter_review
from okr_rollout.errors import NotFound
from okr_rollout.facts import load_facts
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.journey.machine import TransitionReadiness, machine_for
from okr_rollout.models import Engagement, Okr, Organization, Quarter
from okr_rollout.playbooks import LoadedPlaybook
from okr_rollout.playbooks.schema import Phase
from okr_rollout.web import labels, views
from okr_rollout.web.context import WebDep, WebRoute, page
from okr_rollout.web.record_forms import FormContext
from okr_rollout.web.records import form_context

router = APIRouter(route_class=WebRoute, include_in_schema=False)


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
    gate = (machine_for(playbook).evaluate(facts, transition.trigger) if facts.phase == transition.source
            else views.evaluate_as_if(playbook, facts, transition.source, transition.trigger))
    return Expansion(transition.trigger, spec.phase(transition.dest), gate, list(spec.phases[here + 1:there + 1]))


@router.get("/readiness")
def readiness_page(web: WebDep) -> Response:
    """An internal coach's home: their organization's readiness to expand, and what is left to do."""
    caller = web.caller
    engagements = list(web.session.scalars(select(Engagement).where(engagement_visibility(caller))
                                           .order_by(Engagement.id)))
    facts = load_facts(web.session.connection(), [e.id for e in engagements], web.now) if engagements else {}
    items = []
    for engagement in engagements:
        playbook = web.catalog.pinned(web.session, engagement.playbook_sha256)
        organization = web.session.get(Organization, engagement.organization_id)
        items.append({"engagement": engagement, "organization": organization, "playbook": playbook,
                      "phase": playbook.phase(engagement.phase), "expansion": expansion(playbook, facts[engagement.id]),
                      "tasks": [t for t in views.current_tasks(web.session, engagement) if not t.done]})
    return page(web, "readiness.html", items=items, labels=labels)


def _quarter_of(fc: FormContext, quarter_id: int | None) -> Quarter | None:
    """The quarter asked for, else the last one that has ended (the one to review), else the latest."""
    if quarter_id is not None:
        return cycles.get_quarter(fc.ctx.session, fc.ctx.engagement.id, quarter_id)
    ended = [q for q in fc.quarters if q.ends_on < fc.ctx.today]
    chosen = ended or fc.quarters
    return chosen[-1] if chosen else None


@router.get("/engagements/{engagement_id}/documents/{document_id}")
def document(web: WebDep, engagement_id: int, document_id: str, quarter_id: int | None = None,
             download: bool = False) -> Response:
    fc = form_context(web, engagement_id)
    playbook = fc.ctx.playbook
    found = next(((d, p) for p in playbook.spec.phases for d in p.documents if d.id == document_id), None)
    if found is None:
        raise NotFound(f"the playbook has no document {document_id}")
    spec, phase = found
    template = spec.template or f"documents/{document_id}.html"
    facts = load_facts(web.session.connection(), [engagement_id], web.now)[engagement_id]
    parameters = dict(playbook.parameters)
    context: dict[str, Any] = {"fc": fc, "doc": spec, "doc_phase": phase, "facts": facts, "params": parameters,
                               "labels": labels, "organization": fc.organization, "download": download,
                               "names": {p.id: p.name for p in [*fc.people, *fc.coaches]}}
    if document_id == "quarter_review":
        quarter = _quarter_of(fc, quarter_id)
        context["quarter"] = quarter
        context["review"] = quarter_review(fc.ctx, quarter) if quarter is not None else None
        okrs = list(web.session.scalars(select(Okr).where(Okr.quarter_id == quarter.id).order_by(Okr.id))
                    ) if quarter is not None else []
        context["okrs"] = cycles.okr_views(web.session, okrs)
    if document_id == "expansion_readiness_report":
        context["expansion"] = expansion(playbook, facts)
    if document_id == "pilot_training_plan":
        context["days"] = training_days(parameters, list(fc.ctx.rules.training_modules or ()))
    response = page(web, template, **context)
    if download:
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{document_id}-{fc.organization.name}").strip("-")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.html"'
    return response


def training_days(parameters: dict[str, Any], modules: list[str]) -> list[tuple[int, float, list[str]]]:
    """The course laid out over the playbook's days: (day, hours, modules), the modules in order, spread evenly."""
    days = parameters.get("training_days")
    per_day = parameters.get("training_hours_per_day")
    if not isinstance(days, int) or days < 1 or not isinstance(per_day, int | float):
        return []
    plan: list[tuple[int, float, list[str]]] = []
    start = 0
    for day in range(days):
        count = len(modules) // days + (1 if day < len(modules) % days else 0)
        plan.append((day + 1, float(per_day), modules[start:start + count]))
        start += count
    return plan
