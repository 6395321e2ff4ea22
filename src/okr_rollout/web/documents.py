"""The documents a coach hands out (printable, downloadable as a page of their own or as PDF) and the internal
coach's readiness page.

A document is shown in the app with its toolbar; downloaded, it is a standalone HTML file (its CSS inline, no app
chrome, no form or token); as PDF it is that same file rendered by WeasyPrint."""

from __future__ import annotations

import math
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Response
from markupsafe import Markup

from okr_rollout.portfolio import engagement as engagement_views
from okr_rollout.web import charts, labels
from okr_rollout.web.context import WebDep, WebRoute, page
from okr_rollout.web.i18n import translations
from okr_rollout.web.paging import offset_param, page_links
from okr_rollout.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

DOCUMENT_CSS = Path(__file__).parent / "static" / "document.css"


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
    context = _document_context(web, engagement_id, document_id, quarter_id)
    if not download:
        return page(web, context["document_template"], standalone=False, **context)
    html = _standalone(web, context)
    response = web.apply(Response(html, media_type="text/html; charset=utf-8"))
    response.headers["Content-Disposition"] = _attachment(context, "html", web.locale)
    return response


@router.get("/engagements/{engagement_id}/documents/{document_id}/pdf")
def document_pdf(web: WebDep, engagement_id: int, document_id: str, quarter_id: int | None = None) -> Response:
    """The document as PDF: its standalone HTML rendered by WeasyPrint (on pango, with Noto CJK for Chinese)."""
    from weasyprint import HTML  # loaded on the first PDF asked for: the pages start without it

    context = _document_context(web, engagement_id, document_id, quarter_id)
    pdf = HTML(string=_standalone(web, context)).write_pdf()
    response = web.apply(Response(pdf, media_type="application/pdf"))
    response.headers["Content-Disposition"] = _attachment(context, "pdf", web.locale)
    return response


def _document_context(web: WebDep, engagement_id: int, document_id: str, quarter_id: int | None) -> dict[str, Any]:
    data = engagement_views.document_data(web.session, web.caller, web.catalog, engagement_id, document_id,
                                          web.now, quarter_id)
    fc = data.form
    parameters = dict(fc.ctx.playbook.parameters)
    query = {"quarter_id": quarter_id} if quarter_id is not None else {}
    base = f"/engagements/{engagement_id}/documents/{document_id}"
    context: dict[str, Any] = {
        "fc": fc, "doc": data.spec, "doc_phase": data.phase, "facts": data.facts, "params": parameters,
        "labels": labels, "organization": fc.organization, "names": fc.names,
        "recorded_outcomes": data.recorded_outcomes,
        "document_template": data.spec.template or f"documents/{document_id}.html",
        "download_url": f"{base}?{urlencode({**query, 'download': 1})}",
        "pdf_url": f"{base}/pdf" + (f"?{urlencode(query)}" if query else ""),
    }
    if document_id == "quarter_review":
        context.update(quarter=data.quarter, review=data.review, okrs=data.okrs, pulses=data.pulses,
                       quarter_charts=charts.quarter_layouts(data.charts, translations(web.locale).gettext(
                           "No department")) if data.charts else None)
    if document_id == "expansion_readiness_report":
        context["expansion"] = data.expansion
    if document_id == "pilot_training_plan":
        context["days"] = training_days(parameters, list(fc.ctx.rules.training_modules or ()))
    return context


def _standalone(web: WebDep, context: dict[str, Any]) -> str:
    """The document alone: no navigation, language buttons, sign-out form or token; its CSS inline."""
    return render(context["document_template"], web.locale, user=None, person=None, csrf="", here="", now=web.now,
                  standalone=True, document_css=document_css(), **context)


@cache
def document_css() -> Markup:
    """The documents' own stylesheet, inlined as it is (a file of this package, not a text anyone typed)."""
    return Markup(DOCUMENT_CSS.read_text(encoding="utf-8"))


def _attachment(context: dict[str, Any], extension: str, locale: str) -> str:
    """``attachment`` with a readable file name: the document's title and the organization's name in the reader's
    language (RFC 6266 ``filename*``), and an ASCII name for the clients that read only ``filename``."""
    title = context["doc"].title.get(locale)
    organization = context["organization"].name
    readable = re.sub(r'[\s\\/:*?"<>|\x00-\x1f]+', " ", f"{title} - {organization}").strip() + f".{extension}"
    ascii_only = unicodedata.normalize("NFKD", f"{context['doc'].id}-{organization}").encode("ascii", "ignore")
    fallback = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_only.decode()).strip("-") or "document"
    return f"attachment; filename=\"{fallback}.{extension}\"; filename*=UTF-8''{quote(readable, safe='')}"


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
