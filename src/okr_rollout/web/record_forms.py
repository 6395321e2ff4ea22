"""The record forms of an engagement: what each asks, and which service records it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from okr_rollout.cycles import service as cycles
from okr_rollout.cycles.schemas import CheckInCreate, DecisionUpdate, OkrCreate, QuarterCreate, ScoreUpdate
from okr_rollout.organizations import service as organizations
from okr_rollout.organizations.schemas import (
    DepartmentCreate,
    DepartmentUpdate,
    OrganizationUpdate,
    PersonCreate,
    PersonRole,
)
from okr_rollout.playbooks.kinds import SUPPORT_LEVELS
from okr_rollout.portfolio.engagement import FormContext
from okr_rollout.records import service as records
from okr_rollout.records.schemas import (
    AppointmentCreate,
    CeoSupportCreate,
    DraftingGroupCreate,
    MeetingCreate,
    TrainingSessionCreate,
)
from okr_rollout.web import i18n, labels
from okr_rollout.web.forms import Choice, Field, Values
from okr_rollout.web.labels import N_


@dataclass(frozen=True)
class RecordForm:
    slug: str
    title: str
    fields: Callable[[FormContext], list[Field]]
    model: type[BaseModel]
    save: Callable[[FormContext, Any, Values], object]
    defaults: Callable[[FormContext], Values] = lambda fc: {}
    renames: dict[str, str] | None = None


def _keyed(keys: Any, names: dict[str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(k, names[k], msgid=True) if k in names else Choice(k, k) for k in keys)


def _people(fc: FormContext, coaches: bool = False) -> tuple[Choice, ...]:
    return tuple(Choice(str(p.id), p.name) for p in [*fc.people, *(fc.coaches if coaches else [])])


def _optional(choices: tuple[Choice, ...]) -> tuple[Choice, ...]:
    return (Choice("", N_("(none)"), msgid=True), *choices)


def _departments(fc: FormContext) -> tuple[Choice, ...]:
    return _optional(tuple(Choice(str(d.id), d.name) for d in fc.departments))


def _quarters(fc: FormContext) -> tuple[Choice, ...]:
    return tuple(Choice(str(q.id), q.label) for q in fc.quarters)


def _okrs(fc: FormContext) -> tuple[Choice, ...]:
    labels_ = {q.id: q.label for q in fc.quarters}
    return tuple(Choice(str(o.id), f"{labels_.get(o.quarter_id, '?')} · {o.objective}") for o in fc.okrs)


def _today(fc: FormContext) -> Values:
    return {"stated_on": fc.ctx.today.isoformat(), "held_on": fc.ctx.today.isoformat(),
            "started_on": fc.ctx.today.isoformat(), "week_of": fc.ctx.today.isoformat()}


# --- the forms ----------------------------------------------------------------------------------------------


def meeting_fields(fc: FormContext) -> list[Field]:
    known = sorted({o for outcomes in fc.ctx.rules.meeting_outcomes.values() for o in outcomes})
    return [
        Field("kind", N_("Kind of meeting"), "select", _keyed(labels.MEETING_KINDS, labels.MEETING_KINDS), True),
        Field("held_at", N_("Held at (the organization's local time)"), "datetime", required=True),
        Field("department_id", N_("Department"), "select", _departments(fc)),
        Field("attendee_ids", N_("Attendees"), "people", _people(fc, coaches=True), with_coaches=True),
        Field("outcomes", N_("Outcomes"), "checkboxes", _keyed(known, labels.OUTCOMES),
              hint=N_("The outcomes the playbook's gates ask of this kind of meeting.")),
        Field("notes", N_("Notes"), "textarea"),
    ]


def _scheduled(fields: Callable[[FormContext], list[Field]]) -> Callable[[FormContext], list[Field]]:
    """A record form that may also plan the meeting or session (a future date, counted once it is held). The
    correction forms leave it out: a planned record is marked held or cancelled from "Coming up"."""
    status = Field("status", N_("Held or planned"), "select", (
        Choice("held", N_("Held: record what happened"), msgid=True),
        Choice("planned", N_("Planned: it is coming up"), msgid=True)),
        hint=N_("Only a held one counts for the gates; a planned one shows under \"Coming up\" and in the "
                "calendar feeds."))

    def with_status(fc: FormContext) -> list[Field]:
        found = fields(fc)
        return [*found[:1], status, *found[1:]]
    return with_status


def _meeting_defaults(fc: FormContext) -> Values:
    local = fc.ctx.now.astimezone(ZoneInfo(fc.ctx.timezone)).replace(second=0, microsecond=0, tzinfo=None)
    return {"held_at": local.isoformat(timespec="minutes"), "status": "held"}


def _training_defaults(fc: FormContext) -> Values:
    return {**_today(fc), "status": "held"}


def _save_meeting(fc: FormContext, data: MeetingCreate, values: Values) -> None:
    records.record_meeting(fc.ctx, data)


def support_fields(fc: FormContext) -> list[Field]:
    return [
        Field("level", N_("Level of support"), "select", _keyed(SUPPORT_LEVELS, labels.SUPPORT_LEVELS), True),
        Field("stated_on", N_("Stated on"), "date", required=True),
        Field("note", N_("Note"), "textarea"),
    ]


def training_fields(fc: FormContext) -> list[Field]:
    return [
        Field("held_on", N_("Held on"), "date", required=True),
        Field("hours", N_("Hours"), "number", required=True, step="0.5"),
        Field("modules", N_("Modules covered"), "checkboxes",
              _keyed(fc.ctx.rules.training_modules or labels.MODULES, labels.MODULES)),
        Field("attendee_ids", N_("Attendees"), "people", _people(fc)),
        Field("trainer_id", N_("Trainer (the external coach or an internal coach)"), "select",
              _optional(tuple(Choice(str(p.id), p.name) for p in fc.trainers))),
        Field("notes", N_("Notes"), "textarea"),
    ]


def drafting_fields(fc: FormContext) -> list[Field]:
    return [
        Field("member_ids", N_("Members"), "people", _people(fc)),
        Field("department_id", N_("Department"), "select", _departments(fc)),
        Field("started_on", N_("Started on"), "date", required=True),
        Field("ended_on", N_("Ended on"), "date"),
    ]


def _appointment_fields(fc: FormContext) -> list[Field]:
    return [
        Field("person_id", N_("Person"), "select", _people(fc), True),
        Field("role", N_("Role"), "select", _keyed(labels.APPOINTMENT_ROLES, labels.APPOINTMENT_ROLES), True),
        Field("trained", N_("Trained (internal coach)"), "checkbox"),
        Field("trained_on", N_("Trained on"), "date"),
        Field("ready", N_("Ready (OKR Master)"), "checkbox"),
    ]


def quarter_fields(fc: FormContext) -> list[Field]:
    return [
        Field("label", N_("Label (e.g. 2026-Q1)"), required=True),
        Field("starts_on", N_("Starts on"), "date", required=True),
        Field("ends_on", N_("Ends on"), "date", required=True),
    ]


def okr_fields(fc: FormContext) -> list[Field]:
    return [
        Field("quarter_id", N_("Quarter"), "select", _quarters(fc), True),
        Field("objective", N_("Objective"), "textarea", required=True),
        Field("owner_id", N_("Owner"), "select", _optional(_people(fc))),
        Field("department_id", N_("Department"), "select", _departments(fc)),
        Field("kr_metric", N_("Key result: metric")),
        Field("kr_start", N_("Key result: start value"), "number"),
        Field("kr_target", N_("Key result: target value"), "number"),
        Field("kr_unit", N_("Key result: unit")),
    ]


class _OkrForm(BaseModel):
    """The OKR form's fields (one key result inline) before they become the API's OkrCreate."""

    quarter_id: int
    objective: str
    owner_id: int | None = None
    department_id: int | None = None
    kr_metric: str = ""
    kr_start: str = ""
    kr_target: str = ""
    kr_unit: str = ""

    def create(self) -> OkrCreate:
        key_results = []
        if self.kr_metric or self.kr_start or self.kr_target:
            key_results.append({"metric": self.kr_metric, "start": self.kr_start or None,
                                "target": self.kr_target or None, "unit": self.kr_unit})
        return OkrCreate.model_validate({"objective": self.objective, "owner_id": self.owner_id,
                                         "department_id": self.department_id, "key_results": key_results})


def _save_okr(fc: FormContext, data: _OkrForm, values: Values) -> None:
    quarter = cycles.get_quarter(fc.ctx.session, fc.ctx.engagement.id, data.quarter_id)
    cycles.create_okr(fc.ctx, quarter, data.create())


def check_in_fields(fc: FormContext) -> list[Field]:
    okrs = {o.id: o for o in fc.okrs}
    quarters = {q.id: q.label for q in fc.quarters}
    choices = tuple(
        Choice(str(kr.id), f"{quarters.get(okrs[kr.okr_id].quarter_id, '?')} · {okrs[kr.okr_id].objective} · "
                           f"{kr.metric}") for kr in fc.key_results if kr.okr_id in okrs)
    return [
        Field("key_result_id", N_("Key result"), "select", choices, True),
        Field("week_of", N_("Week of"), "date", required=True),
        Field("value", N_("Value"), "number", required=True),
        Field("confidence", N_("Confidence"), "number"),
        Field("author_id", N_("Author"), "select", _optional(_people(fc))),
        Field("note", N_("Note"), "textarea"),
    ]


def _save_check_in(fc: FormContext, data: CheckInCreate, values: Values) -> None:
    kr = cycles.get_key_result(fc.ctx.session, fc.ctx.engagement.id, data.key_result_id)
    okr = cycles.get_okr(fc.ctx.session, fc.ctx.engagement.id, kr.okr_id)
    cycles.record_check_in(fc.ctx, cycles.get_quarter(fc.ctx.session, fc.ctx.engagement.id, okr.quarter_id), data)


class _ScoreForm(ScoreUpdate):
    okr_id: int


class _DecisionForm(DecisionUpdate):
    okr_id: int


def score_fields(fc: FormContext) -> list[Field]:
    scale = fc.ctx.rules.score_scale or ()
    return [
        Field("okr_id", N_("OKR"), "select", _okrs(fc), True),
        Field("score", N_("Score"), "select" if scale else "number",
              tuple(Choice(f"{s:.1f}", f"{s:.1f}") for s in scale), True),
    ]


def decision_fields(fc: FormContext) -> list[Field]:
    return [
        Field("okr_id", N_("OKR"), "select", _okrs(fc), True),
        Field("decision", N_("Decision"), "select",
              _keyed(fc.ctx.rules.decisions or labels.DECISIONS, labels.DECISIONS), True),
    ]


def _foundation_fields(fc: FormContext) -> list[Field]:
    return [
        Field("mission", labels.FOUNDATION_FIELDS["mission"], "textarea",
              hint=N_("Why the organization exists.")),
        Field("vision_1y", labels.FOUNDATION_FIELDS["vision_1y"], "textarea"),
        Field("vision_5y", labels.FOUNDATION_FIELDS["vision_5y"], "textarea"),
        Field("vision_10y", labels.FOUNDATION_FIELDS["vision_10y"], "textarea"),
        Field("strategies", labels.FOUNDATION_FIELDS["strategies"], "lines", hint=N_("One strategy a line.")),
        Field("challenges", N_("Company challenges OKRs should help with"), "lines", hint=N_("One a line.")),
        Field("okr_software", N_("OKR software")),
    ]


def _foundation_defaults(fc: FormContext) -> Values:
    o = fc.organization
    return {"mission": o.mission or "", "vision_1y": o.vision_1y or "", "vision_5y": o.vision_5y or "",
            "vision_10y": o.vision_10y or "", "strategies": "\n".join(o.strategies),
            "challenges": "\n".join(o.challenges), "okr_software": o.okr_software or ""}


def _save_foundations(fc: FormContext, data: OrganizationUpdate, values: Values) -> None:
    # Only what the reader changed is sent (a field cleared on purpose is a change, and is cleared).
    shown = _foundation_defaults(fc)
    changes = {name: data.model_dump().get(name) for name in values if values[name] != shown.get(name, "")}
    organizations.update_organization(fc.ctx.session, fc.ctx.caller, fc.organization,
                                      OrganizationUpdate.model_validate(changes), fc.ctx.now)


def department_fields(fc: FormContext) -> list[Field]:
    return [
        Field("name", N_("Name"), required=True),
        Field("is_pilot", N_("Pilot department"), "checkbox"),
        Field("lead_id", N_("Lead"), "select", _optional(_people(fc))),
    ]


def _save_department(fc: FormContext, data: DepartmentCreate, values: Values) -> None:
    """Add a department, or change the one of that name with what the reader set: this form opens empty, so a
    box left unticked or a lead left unchosen says nothing of an existing department (its pilot flag and lead
    stay). Each department's own change form, prefilled, is where a flag is taken off."""
    existing = next((d for d in fc.departments if d.name == data.name), None)
    if existing is None:
        organizations.create_department(fc.ctx.session, fc.ctx.caller, fc.organization.id, data, fc.ctx.now)
        return
    given: dict[str, object] = {}
    if values.get("is_pilot") == "1":
        given["is_pilot"] = True
    if values.get("lead_id"):
        given["lead_id"] = data.lead_id
    organizations.update_department(fc.ctx.session, fc.ctx.caller, fc.organization.id, existing.id,
                                    DepartmentUpdate.model_validate(given), fc.ctx.now, lambda version: None)


def _save_appointment(fc: FormContext, data: AppointmentCreate, values: Values) -> None:
    """Appoint, or change the existing appointment of that person in that role with what the reader set (as the
    department form: the form opens empty, so what is left blank keeps its value)."""
    records.appoint_or_update(fc.ctx, data, given={name for name in ("trained", "trained_on", "ready")
                                                   if values.get(name)})


def _person_fields(fc: FormContext) -> list[Field]:
    roles = get_args(PersonRole)
    return [
        Field("name", N_("Name"), required=True),
        Field("email", N_("E-mail address")),
        Field("roles", N_("Roles"), "checkboxes", _keyed(roles, labels.TASK_ROLES)),
        Field("department_ids", N_("Departments"), "checkboxes",
              tuple(Choice(str(d.id), d.name) for d in fc.departments)),
        Field("locale", N_("Language"), "select", tuple(Choice(code, name) for code, name in i18n.NAMES.items()),
              True),
    ]


def _save_person(fc: FormContext, data: PersonCreate, values: Values) -> None:
    organizations.create_person(fc.ctx.session, fc.ctx.caller, fc.organization.id, data, fc.ctx.now)


FORMS = {form.slug: form for form in (
    RecordForm("meeting", N_("Record a meeting"), _scheduled(meeting_fields), MeetingCreate, _save_meeting,
               _meeting_defaults),
    RecordForm("ceo-support", N_("Record the CEO's support"), support_fields, CeoSupportCreate,
               lambda fc, data, values: records.state_ceo_support(fc.ctx, data), _today),
    RecordForm("training", N_("Record a training session"), _scheduled(training_fields), TrainingSessionCreate,
               lambda fc, data, values: records.record_training(fc.ctx, data), _training_defaults),
    RecordForm("drafting-group", N_("Record a drafting group"), drafting_fields, DraftingGroupCreate,
               lambda fc, data, values: records.record_drafting_group(fc.ctx, data), _today),
    RecordForm("appointment", N_("Appoint an internal coach or the OKR Master"), _appointment_fields,
               AppointmentCreate, _save_appointment),
    RecordForm("quarter", N_("Add a quarter"), quarter_fields, QuarterCreate,
               lambda fc, data, values: cycles.create_quarter(fc.ctx, data)),
    RecordForm("okr", N_("Add an OKR"), okr_fields, _OkrForm, _save_okr,
               renames={"key_results": "kr_"}),
    RecordForm("check-in", N_("Record a check-in"), check_in_fields, CheckInCreate, _save_check_in, _today),
    RecordForm("score", N_("Score an OKR"), score_fields, _ScoreForm,
               lambda fc, data, values: cycles.score_okr(
                   fc.ctx, cycles.get_okr(fc.ctx.session, fc.ctx.engagement.id, data.okr_id), data.score)),
    RecordForm("decision", N_("Decide on an OKR"), decision_fields, _DecisionForm,
               lambda fc, data, values: cycles.decide_okr(
                   fc.ctx, cycles.get_okr(fc.ctx.session, fc.ctx.engagement.id, data.okr_id), data.decision)
              ),
    RecordForm("foundations", N_("Organization facts: mission, vision, strategies"), _foundation_fields,
               OrganizationUpdate, _save_foundations, _foundation_defaults),
    RecordForm("department", N_("Add or change a department (pilot, lead)"), department_fields, DepartmentCreate,
               _save_department),
    RecordForm("person", N_("Add a person of the organization"), _person_fields, PersonCreate, _save_person,
               lambda fc: {"roles": ["member"], "locale": "en"}),
)}
