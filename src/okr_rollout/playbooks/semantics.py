"""Cross-reference checks of a playbook: ids, phases, parameters and the journey's shape.

They read the plain document defensively (not the validated model), so a file
with structural errors still gets every cross-reference error reported too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from okr_rollout.playbooks import pace

Problem = tuple[list[int | str], str]

_TYPE_CHECKS: dict[str, tuple[str, Any]] = {
    "integer": ("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "number": ("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    "boolean": ("true or false", lambda v: isinstance(v, bool)),
    "string": ("a text", lambda v: isinstance(v, str)),
    "string_list": ("a list of texts", lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v)),
    "number_list": (
        "a list of numbers",
        lambda v: isinstance(v, list)
        and all(isinstance(i, int | float) and not isinstance(i, bool) for i in v),
    ),
}


def check(doc: dict[str, Any]) -> Iterator[Problem]:
    yield from _parameters(doc)
    phase_ids = {phase["id"] for _, phase in _items(doc.get("phases")) if isinstance(phase.get("id"), str)}
    yield from _phases(doc, phase_ids)
    yield from _transitions(doc, phase_ids)
    yield from _cadences(doc, phase_ids)
    yield from _journey_shape(doc, phase_ids)
    yield from _meeting_kinds(doc)
    yield from pace.check(doc)
    yield from _pulse_milestones(doc)


def _items(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def _duplicates(
    items: Any, key: str, base: list[int | str], what: str
) -> Iterator[Problem]:
    seen: dict[Any, int] = {}
    for index, item in _items(items):
        value = item.get(key)
        if not isinstance(value, str):
            continue
        if value in seen:
            yield [*base, index, key], f"duplicate {what} id '{value}' (first at {_path(base)}[{seen[value]}])"
        else:
            seen[value] = index


def _path(loc: list[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _parameters(doc: dict[str, Any]) -> Iterator[Problem]:
    parameters = doc.get("parameters")
    if not isinstance(parameters, dict):
        return
    for name, parameter in parameters.items():
        if not isinstance(parameter, dict):
            continue
        declared = parameter.get("type")
        default = parameter.get("default")
        if declared not in _TYPE_CHECKS or "default" not in parameter:
            continue
        label, fits = _TYPE_CHECKS[declared]
        if not fits(default):
            yield ["parameters", name, "default"], f"default {default!r} is not {label} (type {declared})"
            continue
        numbers = [n for n in (default if isinstance(default, list) else [default]) if isinstance(n, int | float)]
        minimum, maximum = parameter.get("minimum"), parameter.get("maximum")
        if isinstance(minimum, int | float) and any(n < minimum for n in numbers):
            yield ["parameters", name, "default"], f"default {default!r} is below its minimum {minimum}"
        if isinstance(maximum, int | float) and any(n > maximum for n in numbers):
            yield ["parameters", name, "default"], f"default {default!r} is above its maximum {maximum}"


def _phases(doc: dict[str, Any], phase_ids: set[str]) -> Iterator[Problem]:
    yield from _duplicates(doc.get("phases"), "id", ["phases"], "phase")
    for p_index, phase in _items(doc.get("phases")):
        base: list[int | str] = ["phases", p_index]
        yield from _duplicates(phase.get("tasks"), "id", [*base, "tasks"], "task")
        yield from _duplicates(phase.get("documents"), "id", [*base, "documents"], "document")
        for t_index, task in _items(phase.get("tasks")):
            yield from _duplicates(
                task.get("checklist"), "id", [*base, "tasks", t_index, "checklist"], "checklist item"
            )
    initial = doc.get("initial_phase")
    if isinstance(initial, str) and phase_ids and initial not in phase_ids:
        yield ["initial_phase"], f"initial_phase '{initial}' is not a phase of this playbook"


def _transitions(doc: dict[str, Any], phase_ids: set[str]) -> Iterator[Problem]:
    seen: dict[tuple[str, str], int] = {}
    for index, transition in _items(doc.get("transitions")):
        base: list[int | str] = ["transitions", index]
        for end in ("source", "dest"):
            value = transition.get(end)
            if isinstance(value, str) and value not in phase_ids:
                yield [*base, end], f"unknown phase '{value}' ({_known(phase_ids)})"
        source, trigger = transition.get("source"), transition.get("trigger")
        if isinstance(source, str) and isinstance(trigger, str):
            if (source, trigger) in seen:
                yield [*base, "trigger"], (
                    f"duplicate trigger '{trigger}' from phase '{source}' "
                    f"(first at transitions[{seen[(source, trigger)]}])"
                )
            else:
                seen[(source, trigger)] = index
        yield from _duplicates(transition.get("gate"), "id", [*base, "gate"], "criterion")


def untitled_criteria(doc: dict[str, Any]) -> Iterator[Problem]:
    """Every gate criterion without a title: pages and documents name a criterion by its title in the reader's
    language, never by its id. (A text pinned before this rule keeps loading: the loader asks this of files.)"""
    for index, transition in _items(doc.get("transitions")):
        for c_index, criterion in _items(transition.get("gate")):
            if "title" not in criterion:
                name = criterion.get("id")
                yield (["transitions", index, "gate", c_index],
                       f"criterion '{name}' has no title: give it one in English and Traditional Chinese "
                       "(title: {en: ..., zh-TW: ...})")


def _cadences(doc: dict[str, Any], phase_ids: set[str]) -> Iterator[Problem]:
    yield from _duplicates(doc.get("cadences"), "id", ["cadences"], "cadence")
    for index, cadence in _items(doc.get("cadences")):
        phases = cadence.get("phases")
        if not isinstance(phases, list):
            continue
        for p_index, phase in enumerate(phases):
            if isinstance(phase, str) and phase not in phase_ids:
                yield ["cadences", index, "phases", p_index], f"unknown phase '{phase}' ({_known(phase_ids)})"


def _journey_shape(doc: dict[str, Any], phase_ids: set[str]) -> Iterator[Problem]:
    phases = list(_items(doc.get("phases")))
    if not phases:
        return
    index_of = {phase["id"]: i for i, phase in phases if isinstance(phase.get("id"), str)}
    initial = doc.get("initial_phase")
    if not isinstance(initial, str) or initial not in phase_ids:
        initial = phases[0][1].get("id")
    if not isinstance(initial, str):
        return
    edges: dict[str, set[str]] = {phase_id: set() for phase_id in phase_ids}
    reverse: dict[str, set[str]] = {phase_id: set() for phase_id in phase_ids}
    for _, transition in _items(doc.get("transitions")):
        source, dest = transition.get("source"), transition.get("dest")
        if source in phase_ids and dest in phase_ids:
            edges[source].add(dest)
            reverse[dest].add(source)
    finals = {phase["id"] for _, phase in phases if phase.get("final") is True and phase.get("id") in phase_ids}
    if not finals:
        yield ["phases"], "no phase is marked 'final: true'; a journey needs an end"
        return
    reachable = _closure({initial}, edges)
    can_finish = _closure(finals, reverse)
    for phase_id in sorted(phase_ids, key=lambda p: index_of.get(p, 0)):
        loc: list[int | str] = ["phases", index_of[phase_id], "id"]
        if phase_id not in reachable:
            yield loc, f"phase '{phase_id}' is unreachable from the initial phase '{initial}'"
        if phase_id not in can_finish:
            yield loc, f"phase '{phase_id}' has no path to a final phase ({', '.join(sorted(finals))})"


def _closure(start: set[str], edges: dict[str, set[str]]) -> set[str]:
    seen = set(start)
    queue = deque(start)
    while queue:
        for following in edges.get(queue.popleft(), ()):
            if following not in seen:
                seen.add(following)
                queue.append(following)
    return seen


def _known(phase_ids: set[str]) -> str:
    return "known phases: " + ", ".join(sorted(phase_ids)) if phase_ids else "no phases defined"


def _meeting_kinds(doc: dict[str, Any]) -> Iterator[Problem]:
    """A gate may only ask for a meeting kind the playbook declares, and for outcomes that kind declares: the
    records refuse anything else, so such a gate could never pass."""
    declared = doc.get("meeting_kinds")
    if not isinstance(declared, dict):
        return
    for kind, rules in declared.items():
        outcomes = rules.get("outcomes") if isinstance(rules, dict) else None
        if isinstance(outcomes, list):
            seen: set[str] = set()
            for index, outcome in enumerate(outcomes):
                if outcome in seen:
                    yield ["meeting_kinds", kind, "outcomes", index], f"outcome '{outcome}' is listed twice"
                if isinstance(outcome, str):
                    seen.add(outcome)
    for t_index, transition in _items(doc.get("transitions")):
        for c_index, criterion in _items(transition.get("gate")):
            params = criterion.get("params")
            if criterion.get("kind") not in ("meeting_outcomes", "meeting_cadence") or not isinstance(params, dict):
                continue
            base: list[int | str] = ["transitions", t_index, "gate", c_index, "params"]
            kind = params.get("meeting_kind")
            if not isinstance(kind, str) or kind.startswith("$"):
                continue
            if kind not in declared:
                yield [*base, "meeting_kind"], (
                    f"meeting kind '{kind}' is not declared in meeting_kinds "
                    f"(declared: {', '.join(sorted(str(k) for k in declared)) or 'none'})")
                continue
            rules = declared[kind]
            allowed = rules.get("outcomes") if isinstance(rules, dict) else None
            allowed = allowed if isinstance(allowed, list) else []
            asked = params.get("outcomes")
            if criterion.get("kind") == "meeting_outcomes" and isinstance(asked, list):
                for index, outcome in enumerate(asked):
                    if isinstance(outcome, str) and outcome not in allowed:
                        yield [*base, "outcomes", index], (
                            f"outcome '{outcome}' is not an outcome meeting_kinds.{kind} declares "
                            f"(its outcomes: {', '.join(str(o) for o in allowed) or 'none'})")


# The milestone a held training session is, besides the meeting kinds a playbook declares.
TRAINING_MILESTONE = "pilot_training"


def _pulse_milestones(doc: dict[str, Any]) -> Iterator[Problem]:
    """The milestones a pulse follows are meeting kinds the playbook declares, or the pilot training: no other
    record is ever held, so a pulse after it would never be asked."""
    parameters = doc.get("parameters")
    parameter = parameters.get("pulse_milestones") if isinstance(parameters, dict) else None
    value = parameter.get("default") if isinstance(parameter, dict) else None
    declared = doc.get("meeting_kinds")
    if not isinstance(value, list) or not isinstance(declared, dict):
        return
    known = {str(k) for k in declared} | {TRAINING_MILESTONE}
    for index, milestone in enumerate(value):
        if isinstance(milestone, str) and milestone not in known:
            yield ["parameters", "pulse_milestones", "default", index], (
                f"milestone '{milestone}' is neither a meeting kind declared in meeting_kinds nor "
                f"{TRAINING_MILESTONE} (known: {', '.join(sorted(known))})")
