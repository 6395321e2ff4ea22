"""Plain HTML forms on top of the services: fields, parsing into the API's input models, and the services' 422
errors shown beside the field they name, in the reader's language."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from starlette.datastructures import FormData

from okr_rollout.errors import ProblemError, Unprocessable, localized
from okr_rollout.texts import LocalizedText
from okr_rollout.web.labels import N_


@dataclass(frozen=True)
class Choice:
    value: str
    text: str | LocalizedText
    msgid: bool = False  # translate ``text`` through the catalog


@dataclass(frozen=True)
class Field:
    name: str
    label: str  # a catalog message
    # text | textarea | lines | date | datetime | number | select | checkboxes | checkbox | people (several people,
    # chosen by name: a type-ahead where JavaScript runs, names typed into a text field where it does not)
    kind: str = "text"
    choices: tuple[Choice, ...] = ()
    required: bool = False
    hint: str = ""  # a catalog message
    step: str = "any"
    with_coaches: bool = False  # people: the engagement's coaches may be chosen too (a meeting's attendees)


Values = dict[str, str | list[str]]


@dataclass
class FormErrors(Exception):
    """Messages per field name ("" for the whole form); each is a catalog message or, for a rule this module does
    not know, the service's own English text (``raw``)."""

    fields: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)

    def add(self, name: str, message: str, raw: bool = False) -> None:
        self.fields.setdefault(name, []).append((message, raw))


# The rules the services and the input models name in their errors, as readers should read them.
RULES = {
    "missing": N_("This field is required."),
    "future_date": N_("This date is in the future: record what has happened."),
    "unknown_outcome": N_("This outcome does not belong to this kind of meeting."),
    "unknown_module": N_("This module is not part of the playbook's course."),
    "foreign_organization": N_("This person or department is not part of the organization."),
    "duplicate": N_("Someone is listed twice."),
    "group_size": N_("The group size is outside the playbook's range."),
    "ends_before_start": N_("The end comes before the start."),
    "role_field": N_("Only an OKR Master can be marked ready."),
    "trained_on_without_trained": N_("A training date needs the person marked as trained."),
    "overlapping_quarter": N_("This quarter overlaps another one."),
    "unknown_key_result": N_("Choose a key result of this engagement."),
    "other_quarter": N_("This key result belongs to another quarter."),
    "outside_quarter": N_("This week is outside the quarter."),
    "confidence_scale": N_("The confidence is above the playbook's scale."),
    "off_scale": N_("This score is not on the playbook's scale."),
    "unknown_decision": N_("This decision is not one of the playbook's."),
    "quarter_not_scored": N_("Decide once every OKR of the quarter has a score."),
    "null": N_("This field is required."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "float_type": N_("Enter a number."),
    "finite_number": N_("Enter a number."),
    "date_from_datetime_parsing": N_("Enter a date."),
    "date_parsing": N_("Enter a date."),
    "date_type": N_("Enter a date."),
    "datetime_from_date_parsing": N_("Enter a date and a time."),
    "datetime_parsing": N_("Enter a date and a time."),
    "datetime_type": N_("Enter a date and a time."),
    "timezone_aware": N_("Enter a date and a time."),
    "greater_than": N_("This number is too small."),
    "greater_than_equal": N_("This number is too small."),
    "less_than": N_("This number is too large."),
    "less_than_equal": N_("This number is too large."),
    "string_too_short": N_("This field is required."),
    "string_too_long": N_("This text is too long."),
    "too_short": N_("Choose at least one."),
    "too_long": N_("Too many chosen."),
    "literal_error": N_("Choose one of the options."),
    "string_pattern_mismatch": N_("This value is not accepted."),
    "conflict": N_("This was recorded already; change the existing record instead."),
    "string_nul": N_("This text contains the NUL character, which cannot be stored; remove it."),
    "date_out_of_range": N_("Enter a date from 1970-01-01 to 2200-12-31."),
    "line_break": N_("Write this on one line, without line breaks."),
    "unknown_person_name": N_("Nobody of the organization has this name: check the spelling, or pick from the "
                              "suggestions."),
    "ambiguous_person_name": N_("Several people have this name: pick the right one from the suggestions."),
}
UNKNOWN_RULE = N_("This value is not accepted.")


def field_name(location: tuple[Any, ...] | list[Any], renames: dict[str, str] | None = None) -> str:
    """The form field an error location names: ``body.attendee_ids[1]`` and ``("attendee_ids", 1)`` both read
    ``attendee_ids``; ``renames`` maps a nested model's location (``key_results``) to its form prefix."""
    parts: list[str] = []
    for part in location:
        if isinstance(part, int):
            continue
        for piece in str(part).split("."):
            parts.append(piece.split("[")[0])
    if parts and parts[0] == "body":
        parts = parts[1:]
    if not parts:
        return ""
    if renames and parts[0] in renames and len(parts) > 1:
        return renames[parts[0]] + parts[-1]
    return parts[0]


def from_validation(error: ValidationError, renames: dict[str, str] | None = None) -> FormErrors:
    errors = FormErrors()
    for detail in error.errors():
        rule = str(detail.get("type", ""))
        name = field_name(tuple(detail.get("loc", ())), renames)
        errors.add(name, RULES.get(rule, UNKNOWN_RULE))
    return errors


def from_problem(problem: ProblemError, renames: dict[str, str] | None = None, locale: str = "en") -> FormErrors:
    """A service's refusal as the form's errors; its own words (detail, messages) in the page's ``locale``."""
    errors = FormErrors()
    if problem.status == 409:
        errors.add("", RULES["conflict"])
        errors.add("", problem.text(locale), raw=True)
        return errors
    for detail in problem.errors or []:
        rule = str(detail.get("type", ""))
        name = field_name((str(detail.get("field", "")),), renames)
        if rule in RULES:
            errors.add(name, RULES[rule])
        else:
            errors.add(name, UNKNOWN_RULE)
            errors.add(name, str(localized(detail.get("message", ""), locale)), raw=True)
    if not problem.errors:
        errors.add("", UNKNOWN_RULE)
        errors.add("", problem.text(locale), raw=True)
    return errors


def nul_refusal(form: FormData) -> tuple[FormData, Unprocessable | None]:
    """A posted form checked for the NUL character, which SQLite would store and PostgreSQL cannot: the form with
    each NUL shown as U+FFFD (what was typed goes back to the reader, marked), and the 422 naming every field that
    carried one as the API names a body's (``body.notes``, type ``string_nul``), or None. ``from_problem`` shows
    it beside the field."""
    names = [name for name, value in form.multi_items() if "\0" in name or (isinstance(value, str) and "\0" in value)]
    if not names:
        return form, None
    shown = FormData([(name.replace("\0", "\ufffd"), value.replace("\0", "\ufffd") if isinstance(value, str)
                       else value) for name, value in form.multi_items()])
    located = list(dict.fromkeys("body." + name.replace("\0", "\\u0000") for name in names))
    errors: list[dict[str, Any]] = [
        {"field": field, "message": LocalizedText("text must not contain the NUL character (\\u0000)",
                                                  "文字不得包含 NUL 字元(\\u0000)"), "type": "string_nul"}
        for field in located]
    return shown, Unprocessable(LocalizedText(f"Invalid input: {', '.join(located)}",
                                              f"輸入無效:{', '.join(located)}"), errors=errors)


def names_field(name: str) -> str:
    """The text field of a people picker, where names are typed (``attendee_ids`` -> ``attendee_ids__names``)."""
    return f"{name}__names"


def values_of(form: FormData, fields: list[Field]) -> Values:
    values: Values = {}
    for f in fields:
        if f.kind == "checkboxes":
            values[f.name] = [str(v) for v in form.getlist(f.name)]
        elif f.kind == "people":
            values[f.name], values[names_field(f.name)] = _people_of(form, f)
        else:
            values[f.name] = str(form.get(f.name) or "").strip()
    return values


def _people_of(form: FormData, f: Field) -> tuple[list[str], str]:
    """The people chosen (ids) and the names typed that name nobody, or several people, as they were typed."""
    chosen = [str(v) for v in form.getlist(f.name)]
    by_name: dict[str, list[str]] = {}
    for choice in f.choices:
        by_name.setdefault(str(choice.text).casefold(), []).append(choice.value)
    left: list[str] = []
    for typed in (part.strip() for part in re.split(r"[,\n;、,]", str(form.get(names_field(f.name)) or ""))):
        if not typed:
            continue
        found = by_name.get(typed.casefold(), [])
        if len(found) == 1:
            if found[0] not in chosen:
                chosen.append(found[0])
        else:
            left.append(typed)
    return chosen, ", ".join(left)


def _unresolved(values: Values, fields: list[Field]) -> None:
    errors = []
    for f in fields:
        left = str(values.get(names_field(f.name)) or "")
        if f.kind != "people" or not left:
            continue
        by_name: dict[str, int] = {}
        for choice in f.choices:
            by_name[str(choice.text).casefold()] = by_name.get(str(choice.text).casefold(), 0) + 1
        for typed in left.split(", "):
            rule = "ambiguous_person_name" if by_name.get(typed.casefold(), 0) > 1 else "unknown_person_name"
            errors.append({"field": f"body.{f.name}", "type": rule, "message": f"{typed!r}: {RULES[rule]}"})
    if errors:
        raise Unprocessable(LocalizedText("names that name nobody, or several people", "有名字找不到人,或對應到多人"),
                            errors=errors)


def payload(values: Values, fields: list[Field], timezone: str) -> dict[str, Any]:
    """Form values as the input model's fields: empty means 'not given', datetimes are the organization's local
    time, lines are lists. Conversion of numbers and dates is the input model's (and so are its errors)."""
    _unresolved(values, fields)
    data: dict[str, Any] = {}
    for f in fields:
        value = values.get(f.name)
        if f.kind == "checkbox":
            data[f.name] = value == "1"
        elif f.kind in ("checkboxes", "people"):
            data[f.name] = list(value or [])
        elif f.kind == "lines":
            data[f.name] = [line.strip() for line in str(value or "").splitlines() if line.strip()]
        elif f.kind == "datetime" and value:
            data[f.name] = local_datetime(str(value), timezone)
        elif value not in ("", None):
            data[f.name] = value
    return data


def local_datetime(value: str, timezone: str) -> str | datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # the input model names the error
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))
