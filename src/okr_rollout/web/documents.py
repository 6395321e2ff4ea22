"""The documents a coach hands out (printable, downloadable) and the internal coach's readiness page."""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi import APIRouter, Response

from okr_rollout.portfolio import engagement as engagement_views
from okr_rollout.web import charts, labels
from okr_rollout.web.context import WebDep, WebRoute, page
from okr_rollout.web.i18n import translations
from okr_rollout.web.paging import offset_param, page_links

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/readiness")
def readiness_page(web: WebDep) -> Response:
    """An internal coach's home: their organization's readiness to expand, and what is left to do."""
    listed = engagement_views.readiness_overview(web.session, web.caller, web.catalog, web.now,
                                                 offset_param(web.request, "from"), web.settings.page_size_default)
    return page(web, "readiness.html", items=listed.items, listed=listed, labels=labels,
                page_url=page_links(web.request))


@router.get("/engagements/{engagement_id}/documents/{document_id}")
def document(web: WebDep, engagement_id: int, document_id: str, quarter_id: int | None = None,
             download: bool = False) -> Response:
    data = engagement_views.document_data(web.session, web.caller, web.catalog, engagement_id, document_id,
                                          web.now, quarter_id)
    fc = data.form
    parameters = dict(fc.ctx.playbook.parameters)
    context: dict[str, Any] = {"fc": fc, "doc": data.spec, "doc_phase": data.phase, "facts": data.facts,
                               "params": parameters, "labels": labels, "organization": fc.organization,
                               "download": download, "names": fc.names}
    if document_id == "quarter_review":
        context.update(quarter=data.quarter, review=data.review, okrs=data.okrs,
                       quarter_charts=charts.quarter_layouts(data.charts, translations(web.locale).gettext(
                           "No department")) if data.charts else None)
    if document_id == "expansion_readiness_report":
        context["expansion"] = data.expansion
    if document_id == "pilot_training_plan":
        context["days"] = training_days(parameters, list(fc.ctx.rules.training_modules or ()))
    response = page(web, data.spec.template or f"documents/{document_id}.html", **context)
    if download:
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{document_id}-{fc.organization.name}").strip("-")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.html"'
    return response


def training_days(parameters: dict[str, Any], modules: list[str]) -> list[tuple[int, float, list[str]]]:
    """The course laid out over days: (day, hours, modules), the modules in order, spread evenly.

    The hours add up to ``training_hours``: the course takes the playbook's ``training_days``, or more when those
    days would need more than ``training_hours_per_day`` each, and its hours are shared evenly among them."""
    hours = parameters.get("training_hours")
    days = parameters.get("training_days")
    per_day = parameters.get("training_hours_per_day")
    numbers = (hours, days, per_day)
    if any(not isinstance(n, int | float) or isinstance(n, bool) or n <= 0 for n in numbers):
        return []
    assert isinstance(hours, int | float) and isinstance(days, int | float) and isinstance(per_day, int | float)
    count = max(int(days), math.ceil(hours / per_day))
    plan: list[tuple[int, float, list[str]]] = []
    start = 0
    for day in range(count):
        taken = len(modules) // count + (1 if day < len(modules) % count else 0)
        plan.append((day + 1, round(hours / count, 2), modules[start:start + taken]))
        start += taken
    return plan
