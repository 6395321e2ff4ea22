"""The correction forms of the pages: each record kind's edit form, prefilled with the record's current values,
and its void form (a reason, on a page of its own that is the confirmation).

An edit form sends only what the reader changed: the values posted are compared with the values the form was
prefilled with (the record at the version the form was opened on, carried in a hidden field), and only the fields
that differ go to the correction service. A form submitted unchanged changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from okr_rollout.cycles import corrections as cycle_corrections
from okr_rollout.cycles.schemas import DecisionUpdate, ScoreUpdate
from okr_rollout.organizations import service as organizations
from okr_rollout.organizations.schemas import DepartmentUpdate
from okr_rollout.portfolio.engagement import FormContext
from okr_rollout.records import corrections
from okr_rollout.records.correction_schemas import (
    CeoSupportCorrection,
    CheckInCorrection,
    KeyResultCorrection,
    MeetingCorrection,
    OkrCorrection,
    QuarterCorrection,
    TrainingSessionCorrection,
)
from okr_rollout.records.schemas import AppointmentUpdate, DraftingGroupUpdate
from okr_rollout.web import forms, record_forms
from okr_rollout.web.forms import Field, Values
from okr_rollout.web.labels import N_


@dataclass(frozen=True)
class EditForm:
    slug: str
    title: str  # a catalog message
    fields: Callable[[FormContext], list[Field]]
    values: Callable[[FormContext, Any], Values]  # the record's current values, as the form shows them
    model: type[BaseModel]
    save: Callable[[FormContext, Any, Any], object]
    void: Callable[[FormContext, Any, str], object] | None
    describe: Callable[[FormContext, Any], str]  # the record in a few words, for the void page


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _ids(values: Any) -> list[str]:
    return [str(v) for v in values]


def _local(fc: FormContext, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(fc.ctx.timezone)).replace(tzinfo=None).isoformat(timespec="minutes")


def changed_fields(fields: list[Field], shown: Values, posted: Values) -> list[Field]:
    """The fields whose posted value differs from the value the form was prefilled with (checkboxes compared as
    sets: their order is the choices', not the reader's)."""
    found = []
    for f in fields:
        before, after = shown.get(f.name, ""), posted.get(f.name, "")
        if f.kind == "checkboxes":
            differs = set(before) != set(after)
        elif f.kind == "people":
            differs = list(before) != list(after) or bool(posted.get(forms.names_field(f.name)))
        else:
            differs = before != after
        if differs:
            found.append(f)
    return found


def correction_payload(fields: list[Field], posted: Values, timezone: str) -> dict[str, Any]:
    """The changed fields as the correction's input: a value emptied is cleared (null, or an empty text)."""
    payload = forms.payload(posted, fields, timezone)
    for f in fields:
        if f.name not in payload:
            payload[f.name] = "" if f.kind in ("text", "textarea") else None
    return payload


# --- the kinds ----------------------------------------------------------------------------------------------------


def _meeting_values(fc: FormContext, m: Any) -> Values:
    return {"kind": m.kind, "held_at": _local(fc, m.held_at), "department_id": _text(m.department_id),
            "attendee_ids": _ids(m.attendee_ids), "outcomes": list(m.outcomes), "notes": m.notes}


def _meeting_describe(fc: FormContext, m: Any) -> str:
    return f"{_local(fc, m.held_at).replace('T', ' ')} · {m.kind}"


def _support_values(fc: FormContext, s: Any) -> Values:
    return {"level": s.level, "stated_on": s.stated_on.isoformat(), "note": s.note}


def _training_values(fc: FormContext, t: Any) -> Values:
    return {"held_on": t.held_on.isoformat(), "hours": _text(t.hours), "modules": list(t.modules),
            "attendee_ids": _ids(t.attendee_ids), "notes": t.notes}


def _drafting_values(fc: FormContext, g: Any) -> Values:
    return {"member_ids": _ids(g.member_ids), "department_id": _text(g.department_id),
            "started_on": g.started_on.isoformat(), "ended_on": g.ended_on.isoformat() if g.ended_on else ""}


def _appointment_fields(fc: FormContext) -> list[Field]:
    return [Field("trained", N_("Trained (internal coach)"), "checkbox"), Field("trained_on", N_("Trained on"), "date"),
            Field("ready", N_("Ready (OKR Master)"), "checkbox")]


def _appointment_values(fc: FormContext, a: Any) -> Values:
    return {"trained": _text(a.trained), "trained_on": a.trained_on.isoformat() if a.trained_on else "",
            "ready": _text(a.ready)}


def _quarter_values(fc: FormContext, q: Any) -> Values:
    return {"label": q.label, "starts_on": q.starts_on.isoformat(), "ends_on": q.ends_on.isoformat()}


def _okr_fields(fc: FormContext) -> list[Field]:
    return [f for f in record_forms.okr_fields(fc) if f.name in ("objective", "owner_id", "department_id")]


def _okr_values(fc: FormContext, o: Any) -> Values:
    return {"objective": o.objective, "owner_id": _text(o.owner_id), "department_id": _text(o.department_id)}


def _key_result_fields(fc: FormContext) -> list[Field]:
    return [Field("metric", N_("Metric"), required=True), Field("start", N_("Start value"), "number", required=True),
            Field("target", N_("Target value"), "number", required=True),
            Field("current", N_("Current value"), "number", required=True), Field("unit", N_("Unit"))]


def _key_result_values(fc: FormContext, k: Any) -> Values:
    return {"metric": k.metric, "start": _text(k.start_value), "target": _text(k.target_value),
            "current": _text(k.current_value), "unit": k.unit}


def _check_in_fields(fc: FormContext) -> list[Field]:
    return [f for f in record_forms.check_in_fields(fc) if f.name != "key_result_id"]


def _check_in_values(fc: FormContext, c: Any) -> Values:
    return {"week_of": c.week_of.isoformat(), "value": _text(c.value), "confidence": _text(c.confidence),
            "author_id": _text(c.author_id), "note": c.note}


def _score_fields(fc: FormContext) -> list[Field]:
    return [f for f in record_forms.score_fields(fc) if f.name == "score"]


def _score_values(fc: FormContext, o: Any) -> Values:
    return {"score": f"{o.score:.1f}" if o.score is not None else ""}


def _decision_fields(fc: FormContext) -> list[Field]:
    return [f for f in record_forms.decision_fields(fc) if f.name == "decision"]


def _department_values(fc: FormContext, d: Any) -> Values:
    return {"name": d.name, "is_pilot": _text(d.is_pilot), "lead_id": _text(d.lead_id)}


def _save_department(fc: FormContext, department: Any, data: DepartmentUpdate) -> object:
    return organizations.update_department(fc.ctx.session, fc.ctx.caller, fc.organization.id, department.id, data,
                                           fc.ctx.now, lambda version: None)


def _okr_describe(fc: FormContext, o: Any) -> str:
    return str(o.objective)


def _void_record(fc: FormContext, record: Any, reason: str) -> object:
    return corrections.void_record(fc.ctx, record, reason)


EDITS = {form.slug: form for form in (
    EditForm("meeting", N_("Correct a meeting"), record_forms.meeting_fields, _meeting_values, MeetingCorrection,
             lambda fc, r, d: corrections.correct_meeting(fc.ctx, r, d), _void_record, _meeting_describe),
    EditForm("ceo-support", N_("Correct a statement of the CEO's support"), record_forms.support_fields,
             _support_values, CeoSupportCorrection, lambda fc, r, d: corrections.correct_ceo_support(fc.ctx, r, d),
             _void_record, lambda fc, s: f"{s.stated_on.isoformat()} · {s.level}"),
    EditForm("training", N_("Correct a training session"), record_forms.training_fields, _training_values,
             TrainingSessionCorrection, lambda fc, r, d: corrections.correct_training(fc.ctx, r, d), _void_record,
             lambda fc, t: f"{t.held_on.isoformat()} · {t.hours:g} h"),
    EditForm("drafting-group", N_("Correct a drafting group"), record_forms.drafting_fields, _drafting_values,
             DraftingGroupUpdate, lambda fc, r, d: corrections.correct_drafting_group(fc.ctx, r, d), _void_record,
             lambda fc, g: f"{g.started_on.isoformat()} · {', '.join(fc.names.get(i, '?') for i in g.member_ids)}"),
    EditForm("appointment", N_("Correct an appointment"), _appointment_fields, _appointment_values,
             AppointmentUpdate, lambda fc, r, d: corrections.correct_appointment(fc.ctx, r, d), _void_record,
             lambda fc, a: f"{fc.names.get(a.person_id, '?')} · {a.role}"),
    EditForm("quarter", N_("Correct a quarter"), record_forms.quarter_fields, _quarter_values, QuarterCorrection,
             lambda fc, r, d: cycle_corrections.correct_quarter(fc.ctx, r, d),
             lambda fc, r, why: cycle_corrections.void_quarter(fc.ctx, r, why), lambda fc, q: str(q.label)),
    EditForm("okr", N_("Correct an OKR"), _okr_fields, _okr_values, OkrCorrection,
             lambda fc, r, d: cycle_corrections.correct_okr(fc.ctx, r, d),
             lambda fc, r, why: cycle_corrections.void_okr(fc.ctx, r, why), _okr_describe),
    EditForm("key-result", N_("Correct a key result"), _key_result_fields, _key_result_values,
             KeyResultCorrection, lambda fc, r, d: cycle_corrections.correct_key_result(fc.ctx, r, d),
             lambda fc, r, why: cycle_corrections.void_key_result(fc.ctx, r, why), lambda fc, k: str(k.metric)),
    EditForm("check-in", N_("Correct a check-in"), _check_in_fields, _check_in_values, CheckInCorrection,
             lambda fc, r, d: cycle_corrections.correct_check_in(fc.ctx, r, d),
             lambda fc, r, why: cycle_corrections.void_check_in(fc.ctx, r, why),
             lambda fc, c: f"{c.week_of.isoformat()} · {c.value:g}"),
    EditForm("score", N_("Correct a score"), _score_fields, _score_values, ScoreUpdate,
             lambda fc, okr, data: cycle_corrections.correct_score(fc.ctx, okr, data.score),
             lambda fc, r, why: cycle_corrections.void_score(fc.ctx, r, why), _okr_describe),
    EditForm("decision", N_("Correct a decision"), _decision_fields,
             lambda fc, o: {"decision": o.decision or ""}, DecisionUpdate,
             lambda fc, okr, data: cycle_corrections.correct_decision(fc.ctx, okr, data.decision),
             lambda fc, r, why: cycle_corrections.void_decision(fc.ctx, r, why), _okr_describe),
    EditForm("department", N_("Change a department (pilot, lead)"), record_forms.department_fields,
             _department_values, DepartmentUpdate, _save_department, None, lambda fc, d: str(d.name)),
)}
