"""Load playbook files: YAML -> validated, resolved, immutable playbooks.

``validate`` reports every problem of a file at once, each with the file, the
path inside it and its line and column, so an author fixes them in one pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml.error import MarkedYAMLError

from okr_rollout.playbooks import interpolation, semantics
from okr_rollout.playbooks.kinds import CADENCE_KINDS, GATE_KINDS, KindParams
from okr_rollout.playbooks.positions import format_path, key_position, parse_yaml, resolve, to_plain
from okr_rollout.playbooks.schema import (
    PARAMETER_REFERENCE,
    Cadence,
    Criterion,
    ParameterValue,
    Phase,
    Playbook,
    Task,
    Transition,
)
from okr_rollout.texts import LocalizedText


@dataclass(frozen=True, order=True)
class PlaybookError:
    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.path}: {self.message}"


class PlaybookInvalid(Exception):
    def __init__(self, errors: list[PlaybookError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


@dataclass(frozen=True)
class ResolvedCriterion:
    id: str
    kind: str
    severity: str
    title: LocalizedText | None
    params: KindParams


@dataclass(frozen=True)
class ResolvedCadence:
    id: str
    kind: str
    phases: frozenset[str]
    audience: str
    message: LocalizedText
    params: KindParams
    urgent: bool = False


@dataclass(frozen=True)
class ResolvedTask:
    phase: str
    spec: Task
    due_days: int


@dataclass(frozen=True)
class LoadedPlaybook:
    """A playbook as the engine uses it: its spec plus every ``$parameter`` resolved."""

    spec: Playbook
    sha256: str
    source: str
    parameters: Mapping[str, ParameterValue]
    gates: Mapping[tuple[str, str], tuple[ResolvedCriterion, ...]]
    cadences: tuple[ResolvedCadence, ...]
    tasks: Mapping[str, tuple[ResolvedTask, ...]]
    text: str = field(repr=False, default="")
    # Each phase's expected duration in days (its pace), for the phases that declare one.
    expected_days: Mapping[str, int] = field(default_factory=dict)
    # The wave journey resolved, by variant ("" the plain one): each a playbook of its own for the machine.
    waves: Mapping[str, LoadedPlaybook] = field(repr=False, default_factory=dict)

    def wave_journey(self, variant: str | None = None) -> LoadedPlaybook:
        """The journey a wave of ``variant`` (None: the plain one) runs; KeyError when there is none."""
        return self.waves[variant or ""]

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> int:
        return self.spec.version

    def gate(self, source: str, trigger: str) -> tuple[ResolvedCriterion, ...]:
        return self.gates[(source, trigger)]

    def phase(self, phase_id: str) -> Phase:
        return self.spec.phase(phase_id)

    def transition(self, source: str, trigger: str) -> Transition | None:
        for transition in self.spec.transitions:
            if transition.source == source and transition.trigger == trigger:
                return transition
        return None


# --- validation -------------------------------------------------------------------------------


def validate(path: str | Path) -> list[PlaybookError]:
    """Every error in the playbook file at ``path`` (an empty list when it is valid)."""
    file = str(path)
    try:
        text = read_playbook_text(Path(path))
    except OSError as error:
        return [PlaybookError(file, 0, 0, "<file>", str(error))]
    return validate_text(text, file)


def read_playbook_text(path: Path) -> str:
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not a playbook file")
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise OSError(f"{path} is not UTF-8 text: {error}") from error


def validate_text(text: str, file: str = "<playbook>") -> list[PlaybookError]:
    errors, _ = _check(text, file)
    return errors


def load(path: str | Path) -> LoadedPlaybook:
    """Load and resolve a playbook; raises :class:`PlaybookInvalid` with every error."""
    file = str(path)
    try:
        text = read_playbook_text(Path(path))
    except OSError as error:
        raise PlaybookInvalid([PlaybookError(file, 0, 0, "<file>", str(error))]) from error
    return load_text(text, file)


def load_text(text: str, file: str = "<playbook>", *, text_rules: bool = True) -> LoadedPlaybook:
    """``text_rules=False`` loads a text pinned before the rules on texts (stating parameters, every criterion
    titled) existed (a snapshot an engagement runs on), which must keep loading as it was; a file is always
    checked."""
    errors, playbook = _check(text, file, text_rules=text_rules)
    if errors or playbook is None:
        raise PlaybookInvalid(errors)
    return _resolve(playbook, text, file)


def _check(text: str, file: str, *, text_rules: bool = True) -> tuple[list[PlaybookError], Playbook | None]:
    try:
        root = parse_yaml(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = error.problem or error.context or "invalid YAML"
        return [PlaybookError(file, line, column, "<yaml>", f"YAML syntax error: {problem}")], None
    if not isinstance(root, dict):
        return [PlaybookError(file, 1, 1, "<root>", "a playbook must be a YAML mapping of keys")], None

    errors: list[PlaybookError] = []

    def report(loc: list[int | str], message: str, *, at_key: bool = False) -> None:
        walked, position = resolve(root, loc)
        if at_key:
            position = key_position(root, loc)
            walked = list(loc)
        errors.append(PlaybookError(file, position[0], position[1], format_path(walked), message))

    plain = to_plain(root)
    playbook: Playbook | None = None
    try:
        playbook = Playbook.model_validate(plain)
    except ValidationError as error:
        for loc, message, at_key in _structural_messages(error, plain):
            report(loc, message, at_key=at_key)

    for loc, message in semantics.check(plain):
        report(loc, message)
    for loc, message in _check_kind_params(plain):
        report(loc, message)
    for loc, message in interpolation.check(plain, stated_defaults=text_rules):
        report(loc, message)
    if text_rules:
        for loc, message in semantics.untitled_criteria(plain):
            report(loc, message)
    for loc, message in _check_wave(plain):
        report(loc, message)

    unique = sorted(set(errors), key=lambda e: (e.line, e.column, e.path, e.message))
    return unique, (playbook if not unique else None)


def _structural_messages(
    error: ValidationError, plain: Any
) -> Iterator[tuple[list[int | str], str, bool]]:
    """Pydantic's errors as (path, message); union alternatives merged into one message."""
    merged: dict[tuple[int | str, ...], list[str]] = {}
    at_keys: set[tuple[int | str, ...]] = set()
    for detail in error.errors(include_url=False):
        loc = _trim_to_document(list(detail["loc"]), plain, detail["type"])
        message = _friendly(detail, loc, plain)
        key = tuple(loc)
        merged.setdefault(key, [])
        if message not in merged[key]:
            merged[key].append(message)
        if detail["type"] == "extra_forbidden":
            at_keys.add(key)
    for key, messages in merged.items():
        yield list(key), "; or ".join(messages), key in at_keys


def _trim_to_document(loc: list[int | str], plain: Any, error_type: str) -> list[int | str]:
    """Drop the parts of a pydantic location that name union members, not document keys."""
    walked: list[int | str] = []
    node = plain
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str):
            walked.append(part)
            if part not in node:
                break
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int):
            walked.append(part)
            if not 0 <= part < len(node):
                break
            node = node[part]
        else:
            break
    return walked


def _friendly(detail: Any, loc: list[int | str], plain: Any) -> str:
    kind = detail["type"]
    name = loc[-1] if loc else "<root>"
    if kind == "missing":
        return f"missing required key '{name}'"
    if kind == "extra_forbidden":
        return f"unknown key '{name}'"
    got = detail.get("input")
    shown = f" (got {got!r})" if isinstance(got, str | int | float | bool) and not isinstance(got, dict) else ""
    message = _lower_first(str(detail["msg"]))
    return f"{message}{shown}" if message else f"invalid value{shown}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _check_kind_params(plain: dict[str, Any]) -> Iterator[tuple[list[int | str], str]]:
    """Gate and cadence params must fit their kind, with ``$parameter`` references resolved."""
    parameters = plain.get("parameters") if isinstance(plain.get("parameters"), dict) else {}
    assert isinstance(parameters, dict)
    for t_index, transition in _items(plain.get("transitions")):
        for c_index, criterion in _items(transition.get("gate")):
            base: list[int | str] = ["transitions", t_index, "gate", c_index]
            yield from _check_one(criterion, base, GATE_KINDS, "gate", parameters)
    for index, cadence in _items(plain.get("cadences")):
        yield from _check_one(cadence, ["cadences", index], CADENCE_KINDS, "cadence", parameters)
    for p_index, phase in _items(plain.get("phases")):
        expected = phase.get("expected_days")
        if isinstance(expected, str):
            loc_expected: list[int | str] = ["phases", p_index, "expected_days"]
            value, problem = _dereference(expected, parameters)
            if problem:
                yield loc_expected, problem
            elif not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                yield loc_expected, f"parameter {expected} = {value!r} is not a whole number of days (at least 1)"
        for t_index, task in _items(phase.get("tasks")):
            due = task.get("due_days")
            if isinstance(due, str):
                loc: list[int | str] = ["phases", p_index, "tasks", t_index, "due_days"]
                value, problem = _dereference(due, parameters)
                if problem:
                    yield loc, problem
                elif not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                    yield loc, f"parameter {due} = {value!r} is not a whole number of days"


def _check_one(
    item: dict[str, Any],
    base: list[int | str],
    registry: Mapping[str, type[KindParams]],
    what: str,
    parameters: dict[str, Any],
) -> Iterator[tuple[list[int | str], str]]:
    kind = item.get("kind")
    if not isinstance(kind, str):
        return
    model = registry.get(kind)
    if model is None:
        yield [*base, "kind"], f"unknown {what} kind '{kind}'; known kinds: {', '.join(sorted(registry))}"
        return
    params = item.get("params", {})
    if not isinstance(params, dict):
        return
    substituted: dict[str, Any] = {}
    references: dict[str, str] = {}
    broken_references: set[str] = set()
    for name, value in params.items():
        if isinstance(value, str) and value.startswith("$"):
            resolved, problem = _dereference(value, parameters)
            if problem:
                yield [*base, "params", name], problem
                broken_references.add(name)
                continue
            references[name] = value
            substituted[name] = resolved
        else:
            substituted[name] = value
    try:
        model.model_validate(substituted)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            loc = [str(part) for part in detail["loc"] if isinstance(part, str)]
            if detail["type"] == "missing" and loc and loc[0] in broken_references:
                continue
            if detail["type"] == "missing":
                yield [*base, "params"], f"{what} kind '{kind}' needs param '{loc[0]}'"
                continue
            if detail["type"] == "extra_forbidden":
                accepted = ", ".join(model.model_fields) or "none"
                yield [*base, "params", *loc[:1]], (
                    f"{what} kind '{kind}' takes no param '{loc[0]}'; it accepts: {accepted}"
                )
                continue
            target: list[int | str] = [*base, "params", *loc[:1]] if loc else [*base, "params"]
            message = _lower_first(str(detail["msg"]))
            if loc and loc[0] in references:
                message = f"parameter {references[loc[0]]} = {substituted[loc[0]]!r} does not fit: {message}"
            yield target, message


def _dereference(reference: str, parameters: dict[str, Any]) -> tuple[Any, str | None]:
    match = PARAMETER_REFERENCE.match(reference)
    if match is None:
        return None, f"'{reference}' is not a valid parameter reference (write $name)"
    name = match.group(1)
    parameter = parameters.get(name)
    if not isinstance(parameter, dict):
        known = ", ".join(sorted(parameters)) or "none defined"
        return None, f"unknown parameter '${name}' (parameters: {known})"
    return parameter.get("default"), None


WAVE_SUFFIX = "_wave"


def wave_document(plain: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The wave section as a playbook document of its own: its phases, transitions and cadences, the main
    playbook's parameters with ``overrides`` as their values, and its meeting kinds."""
    wave = plain.get("wave")
    assert isinstance(wave, dict)
    parameters = plain.get("parameters") if isinstance(plain.get("parameters"), dict) else {}
    assert isinstance(parameters, dict)
    document: dict[str, Any] = {
        "id": f"{plain.get('id')}{WAVE_SUFFIX}", "version": plain.get("version"), "title": wave.get("title"),
        "description": wave.get("description") or wave.get("title"),
        "parameters": {name: ({**parameter, "default": overrides[name]}
                              if isinstance(parameter, dict) and name in overrides else parameter)
                       for name, parameter in parameters.items()},
        "phases": wave.get("phases"), "transitions": wave.get("transitions") or [],
        "cadences": wave.get("cadences") or [],
    }
    if wave.get("initial_phase") is not None:
        document["initial_phase"] = wave["initial_phase"]
    if plain.get("meeting_kinds") is not None:
        document["meeting_kinds"] = plain["meeting_kinds"]
    return document


def _check_wave(plain: dict[str, Any]) -> Iterator[tuple[list[int | str], str]]:
    """The wave section: its journey checked as a playbook (phases, transitions, gates, cadences; once per
    variant for the gates' params), the phases it opens in, and its parameter overrides."""
    wave = plain.get("wave")
    if not isinstance(wave, dict):
        return
    phase_ids = {phase.get("id") for _, phase in _items(plain.get("phases"))}
    for index, phase in enumerate(wave.get("opens_in") or []):
        if isinstance(phase, str) and phase not in phase_ids:
            yield ["wave", "opens_in", index], f"unknown phase '{phase}' of the main journey"
    parameters = plain.get("parameters") if isinstance(plain.get("parameters"), dict) else {}
    assert isinstance(parameters, dict)
    base = wave.get("parameters") if isinstance(wave.get("parameters"), dict) else {}
    assert isinstance(base, dict)
    variants = wave.get("variants") if isinstance(wave.get("variants"), dict) else {}
    assert isinstance(variants, dict)
    sets: list[tuple[list[int | str], dict[str, Any]]] = [(["wave", "parameters"], base)]
    for name, variant in variants.items():
        own = variant.get("parameters") if isinstance(variant, dict) else None
        sets.append((["wave", "variants", name, "parameters"], {**base, **(own if isinstance(own, dict) else {})}))
    for index, (where, overrides) in enumerate(sets):
        own_keys = base if index == 0 else (variants[where[2]].get("parameters") or {})
        for name in own_keys if isinstance(own_keys, dict) else {}:
            if name not in parameters:
                known = ", ".join(sorted(parameters)) or "none defined"
                yield [*where, name], f"unknown parameter '{name}' to override (parameters: {known})"
        document = wave_document(plain, {k: v for k, v in overrides.items() if k in parameters})
        for loc, message in semantics.check(document):
            if loc[:1] == ["parameters"] and len(loc) > 1 and isinstance(loc[1], str):
                if loc[1] in own_keys:
                    yield [*where, loc[1]], message.replace("default", "value", 1)
                continue
            if loc[:1] != ["meeting_kinds"]:
                yield ["wave", *loc], message
        for loc, message in _check_kind_params(document):
            yield ["wave", *loc], (message if index == 0 else f"with the variant {where[2]}: {message}")


def _items(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


# --- resolution -------------------------------------------------------------------------------


def _resolve(playbook: Playbook, text: str, file: str, marker: str = "") -> LoadedPlaybook:
    waves: dict[str, LoadedPlaybook] = {}
    if playbook.wave is not None:
        raw = playbook.model_dump(by_alias=True)
        wave = playbook.wave
        for key in ("", *wave.variants):
            overrides = {**wave.parameters, **(wave.variants[key].parameters if key else {})}
            journey = Playbook.model_validate(wave_document(raw, overrides))
            waves[key] = _resolve(journey, text, file, f"wave:{key}")
    values = {name: parameter.default for name, parameter in playbook.parameters.items()}
    # Every text that names a parameter states its value from here on: titles, tasks, messages, documents.
    playbook = Playbook.model_validate(interpolation.interpolate_tree(playbook.model_dump(by_alias=True), values))

    def substitute(params: Mapping[str, Any]) -> dict[str, Any]:
        return {name: _value(raw, values) for name, raw in params.items()}

    gates = {
        (t.source, t.trigger): tuple(_criterion(c, GATE_KINDS[c.kind], substitute(c.params)) for c in t.gate)
        for t in playbook.transitions
    }
    cadences = tuple(_cadence(c, CADENCE_KINDS[c.kind], substitute(c.params)) for c in playbook.cadences)
    tasks = {
        phase.id: tuple(ResolvedTask(phase.id, task, int(_value(task.due_days, values))) for task in phase.tasks)
        for phase in playbook.phases
    }
    return LoadedPlaybook(
        spec=playbook,
        sha256=hashlib.sha256((text + (f"\n# {marker}" if marker else "")).encode("utf-8")).hexdigest(),
        source=file,
        parameters=values,
        gates=gates,
        cadences=cadences,
        tasks=tasks,
        text=text,
        expected_days={phase.id: int(_value(phase.expected_days, values)) for phase in playbook.phases
                       if phase.expected_days is not None},
        waves=waves,
    )


def _value(raw: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(raw, str):
        match = PARAMETER_REFERENCE.match(raw)
        if match:
            return values[match.group(1)]
    return raw


def _criterion(criterion: Criterion, model: type[KindParams], params: dict[str, Any]) -> ResolvedCriterion:
    return ResolvedCriterion(
        criterion.id, criterion.kind, criterion.severity, criterion.title, model.model_validate(params)
    )


def _cadence(cadence: Cadence, model: type[KindParams], params: dict[str, Any]) -> ResolvedCadence:
    return ResolvedCadence(
        cadence.id,
        cadence.kind,
        frozenset(cadence.phases),
        cadence.audience,
        cadence.message,
        model.model_validate(params),
        cadence.urgent,
    )
