"""Record pages: the list of an engagement's records and one form per kind (POST, then back where one came from)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Response
from pydantic import ValidationError

from okr_rollout.errors import ProblemError, not_found
from okr_rollout.portfolio import engagement as engagement_views
from okr_rollout.portfolio.engagement import FormContext
from okr_rollout.texts import LocalizedText
from okr_rollout.web import forms, labels
from okr_rollout.web.context import PostedFormDep, Web, WebDep, WebRoute, check_csrf, page, redirect, safe_next
from okr_rollout.web.paging import offset_param, page_links
from okr_rollout.web.record_edits import EDITS
from okr_rollout.web.record_forms import FORMS, RecordForm

router = APIRouter(route_class=WebRoute, include_in_schema=False)
RECENT = 20
# The lists of the records page, each paged on its own (``meetings_from=40``: the meetings from the 41st).
LISTS = ("meetings", "support", "training", "drafting", "appointments", "check_ins")


def form_context(web: Web, engagement_id: int) -> FormContext:
    return engagement_views.form_context(web.session, web.caller, web.catalog, engagement_id, web.now)


def _form(slug: str) -> RecordForm:
    form = FORMS.get(slug)
    if form is None:
        raise not_found(LocalizedText("record form", "記錄表單"))
    return form


@router.get("/engagements/{engagement_id}/records")
def records_page(web: WebDep, engagement_id: int, saved: str | None = None, corrected: str | None = None,
                 voided: str | None = None, unchanged: str | None = None, reopened: str | None = None
                 ) -> Response:
    fc = form_context(web, engagement_id)
    offsets = {kind: offset_param(web.request, f"{kind}_from") for kind in LISTS}
    recent = engagement_views.record_pages(web.session, engagement_id, offsets, RECENT)
    return page(web, "records/index.html", fc=fc, forms=FORMS, recent=recent, names=fc.names,
                saved=FORMS[saved].title if saved in FORMS else None, labels=labels,
                corrected=EDITS[corrected].title if corrected in EDITS else None,
                voided=EDITS[voided].title if voided in EDITS else None,
                unchanged=EDITS[unchanged].title if unchanged in EDITS else None, reopened=reopened is not None,
                cycle=engagement_views.cycle_records(web.session, engagement_id),
                departments={d.id: d.name for d in fc.departments}, page_url=page_links(web.request))


@router.get("/engagements/{engagement_id}/records/{slug}")
def form_page(web: WebDep, engagement_id: int, slug: str, next: str | None = None) -> Response:
    form = _form(slug)
    fc = form_context(web, engagement_id)
    fields = form.fields(fc)
    values = form.defaults(fc)
    for f in fields:  # a link may preset a field, e.g. the kind of meeting a failed criterion asks for
        preset = web.request.query_params.getlist(f.name)
        if preset:
            values[f.name] = preset if f.kind == "checkboxes" else preset[0]
    return _render(web, fc, form, fields, values, forms.FormErrors(), safe_next(next, ""))


def _render(web: Web, fc: FormContext, form: RecordForm, fields: list[forms.Field], values: forms.Values,
            errors: forms.FormErrors, next_url: str, status: int = 200) -> Response:
    return page(web, "records/form.html", status=status, fc=fc, form=form, fields=fields, values=values,
                errors=errors.fields, next=next_url,
                action=f"/engagements/{fc.ctx.engagement.id}/records/{form.slug}")


@router.post("/engagements/{engagement_id}/records/{slug}")
def save_record(web: WebDep, posted: PostedFormDep, engagement_id: int, slug: str) -> Response:
    check_csrf(web, posted.data)
    form = _form(slug)
    fc = form_context(web, engagement_id)
    fields = form.fields(fc)
    values = forms.values_of(posted.data, fields)
    next_url = safe_next(str(posted.data.get("next") or ""), "")
    try:
        if posted.refused is not None:  # a NUL character: shown beside its field, like a service's 422
            raise posted.refused
        data = form.model.model_validate(forms.payload(values, fields, fc.ctx.timezone))
        form.save(fc, data, values)
    except ValidationError as invalid:
        web.session.rollback()
        return _render(web, fc, form, fields, values, forms.from_validation(invalid, form.renames), next_url, 422)
    except ProblemError as problem:
        if problem.status == 404 and not problem.errors:
            raise
        web.session.rollback()
        status = problem.status if problem.status in (409, 422) else 422
        return _render(web, fc, form, fields, values, forms.from_problem(problem, form.renames, web.locale), next_url,
                       status)
    return redirect(web, next_url or f"/engagements/{engagement_id}/records?saved={quote(slug)}")
