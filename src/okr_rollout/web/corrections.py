"""Correction pages: an edit form prefilled with a record's current values (only what the reader changes is sent)
and a void page (a reason, and the page itself is the confirmation), for each record kind of the records page."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Response
from pydantic import ValidationError

from okr_rollout.cycles import corrections as cycle_corrections
from okr_rollout.errors import ProblemError, not_found
from okr_rollout.portfolio import engagement as engagement_views
from okr_rollout.portfolio.engagement import FormContext
from okr_rollout.texts import LocalizedText
from okr_rollout.web import forms
from okr_rollout.web.context import PostedFormDep, Web, WebDep, WebRoute, check_csrf, page, redirect
from okr_rollout.web.labels import N_
from okr_rollout.web.record_edits import EDITS, EditForm, changed_fields, correction_payload

router = APIRouter(route_class=WebRoute, include_in_schema=False)
STALE = N_("Someone changed this record since you opened the form; the form now shows its current values. "
           "Make your change again.")
REASON_NEEDED = N_("Say why the record is voided.")
REOPEN_REASON_NEEDED = N_("Say why the quarter is reopened.")
# Where each kind is listed on the records page.
ANCHORS = {"meeting": "meetings", "ceo-support": "support", "training": "training", "drafting-group": "drafting",
           "appointment": "appointments", "check-in": "check_ins", "department": "departments"}


def _edit(slug: str, voidable: bool = False) -> EditForm:
    edit = EDITS.get(slug)
    if edit is None or (voidable and edit.void is None):
        raise not_found(LocalizedText("correction form", "更正表單"))
    return edit


def _context(web: Web, engagement_id: int, slug: str, record_id: int) -> tuple[FormContext, Any]:
    fc = engagement_views.form_context(web.session, web.caller, web.catalog, engagement_id, web.now)
    return fc, engagement_views.record_to_correct(fc, slug, record_id)


def _records_url(fc: FormContext, anchor: str, **query: str) -> str:
    asked = "&".join(f"{name}={quote(value)}" for name, value in query.items())
    return f"/engagements/{fc.ctx.engagement.id}/records{'?' + asked if asked else ''}#{ANCHORS.get(anchor, 'cycle')}"


def _render_edit(web: Web, fc: FormContext, edit: EditForm, record: Any, fields: list[forms.Field],
                 values: forms.Values, errors: forms.FormErrors, status: int = 200) -> Response:
    base = f"/engagements/{fc.ctx.engagement.id}/records/{edit.slug}/{record.id}"
    return page(web, "records/form.html", status=status, fc=fc, form=edit, fields=fields, values=values,
                errors=errors.fields, next="", action=f"{base}/edit", hidden={"version": str(record.version)},
                voided=getattr(record, "voided_at", None) is not None,
                void_url=f"{base}/void" if edit.void is not None else None)


@router.get("/engagements/{engagement_id}/records/{slug}/{record_id}/edit")
def edit_page(web: WebDep, engagement_id: int, slug: str, record_id: int) -> Response:
    edit = _edit(slug)
    fc, record = _context(web, engagement_id, slug, record_id)
    return _render_edit(web, fc, edit, record, edit.fields(fc), edit.values(fc, record), forms.FormErrors())


@router.post("/engagements/{engagement_id}/records/{slug}/{record_id}/edit")
def save_edit(web: WebDep, posted: PostedFormDep, engagement_id: int, slug: str, record_id: int) -> Response:
    check_csrf(web, posted.data)
    edit = _edit(slug)
    fc, record = _context(web, engagement_id, slug, record_id)
    fields = edit.fields(fc)
    values = forms.values_of(posted.data, fields)
    shown = edit.values(fc, record)
    if str(posted.data.get("version") or "") != str(record.version):
        errors = forms.FormErrors()
        errors.add("", STALE)
        return _render_edit(web, fc, edit, record, fields, shown, errors, 409)
    changed = changed_fields(fields, shown, values)
    try:
        if posted.refused is not None:
            raise posted.refused
        if changed:
            data = edit.model.model_validate(correction_payload(changed, values, fc.ctx.timezone))
            edit.save(fc, record, data)
    except ValidationError as invalid:
        web.session.rollback()
        return _render_edit(web, fc, edit, record, fields, values, forms.from_validation(invalid), 422)
    except ProblemError as problem:
        if problem.status == 404 and not problem.errors:
            raise
        web.session.rollback()
        status = problem.status if problem.status in (409, 422) else 422
        return _render_edit(web, fc, edit, record, fields, values, forms.from_problem(problem, locale=web.locale),
                            status)
    return redirect(web, _records_url(fc, edit.slug, corrected=edit.slug) if changed
                    else _records_url(fc, edit.slug, unchanged=edit.slug))


def _render_void(web: Web, fc: FormContext, edit: EditForm, record: Any, reason: str, errors: forms.FormErrors,
                 status: int = 200) -> Response:
    base = f"/engagements/{fc.ctx.engagement.id}/records/{edit.slug}/{record.id}"
    return page(web, "records/void.html", status=status, fc=fc, form=edit, record=record,
                described=edit.describe(fc, record), reason=reason, errors=errors.fields, action=f"{base}/void",
                version=str(record.version))


@router.get("/engagements/{engagement_id}/records/{slug}/{record_id}/void")
def void_page(web: WebDep, engagement_id: int, slug: str, record_id: int) -> Response:
    edit = _edit(slug, voidable=True)
    fc, record = _context(web, engagement_id, slug, record_id)
    return _render_void(web, fc, edit, record, "", forms.FormErrors())


@router.post("/engagements/{engagement_id}/records/{slug}/{record_id}/void")
def save_void(web: WebDep, posted: PostedFormDep, engagement_id: int, slug: str, record_id: int) -> Response:
    check_csrf(web, posted.data)
    edit = _edit(slug, voidable=True)
    assert edit.void is not None
    fc, record = _context(web, engagement_id, slug, record_id)
    reason = str(posted.data.get("reason") or "").strip()
    errors = forms.FormErrors()
    if posted.refused is not None:
        return _render_void(web, fc, edit, record, reason, forms.from_problem(posted.refused, locale=web.locale), 422)
    if not reason:
        errors.add("reason", REASON_NEEDED)
        return _render_void(web, fc, edit, record, reason, errors, 422)
    if str(posted.data.get("version") or "") != str(record.version):
        errors.add("", STALE)
        return _render_void(web, fc, edit, record, reason, errors, 409)
    try:
        edit.void(fc, record, reason)
    except ProblemError as problem:
        if problem.status == 404 and not problem.errors:
            raise
        web.session.rollback()
        return _render_void(web, fc, edit, record, reason, forms.from_problem(problem, locale=web.locale),
                            problem.status if problem.status in (409, 422) else 422)
    return redirect(web, _records_url(fc, edit.slug, voided=edit.slug))


def _render_reopen(web: Web, fc: FormContext, quarter: Any, reason: str, errors: forms.FormErrors,
                   status: int = 200) -> Response:
    return page(web, "records/void.html", status=status, fc=fc, form=EDITS["quarter"], record=quarter,
                described=quarter.label, reason=reason, errors=errors.fields, version=str(quarter.version),
                action=f"/engagements/{fc.ctx.engagement.id}/records/quarter/{quarter.id}/reopen", reopen=True)


@router.get("/engagements/{engagement_id}/records/quarter/{quarter_id}/reopen")
def reopen_page(web: WebDep, engagement_id: int, quarter_id: int) -> Response:
    fc, quarter = _context(web, engagement_id, "quarter", quarter_id)
    return _render_reopen(web, fc, quarter, "", forms.FormErrors())


@router.post("/engagements/{engagement_id}/records/quarter/{quarter_id}/reopen")
def save_reopen(web: WebDep, posted: PostedFormDep, engagement_id: int, quarter_id: int) -> Response:
    """Reopen a closed quarter, with the reason, so that its OKRs, scores or decisions can be corrected."""
    check_csrf(web, posted.data)
    fc, quarter = _context(web, engagement_id, "quarter", quarter_id)
    reason = str(posted.data.get("reason") or "").strip()
    errors = forms.FormErrors()
    if posted.refused is not None:
        return _render_reopen(web, fc, quarter, reason, forms.from_problem(posted.refused, locale=web.locale), 422)
    if not reason:
        errors.add("reason", REOPEN_REASON_NEEDED)
        return _render_reopen(web, fc, quarter, reason, errors, 422)
    try:
        cycle_corrections.reopen_quarter(fc.ctx, quarter, reason)
    except ProblemError as problem:
        web.session.rollback()
        return _render_reopen(web, fc, quarter, reason, forms.from_problem(problem, locale=web.locale),
                              problem.status if problem.status in (409, 422) else 422)
    return redirect(web, _records_url(fc, "quarter", reopened="quarter"))
