"""Texts that state a parameter say ``{name}``: the playbook's value is written in when the playbook is loaded.

A playbook's titles, descriptions, task and checklist texts and cadence messages may name a parameter in braces
(``"Schedule the course (about {training_hours} hours)"``); ``{{`` and ``}}`` stand for a brace. Loading writes
the parameter's value in, so a coach who changes ``training_hours`` to 12 changes every text that states it.

The validator refuses a text that names a parameter that does not exist, and a text that writes out a number
that is the default of a numeric parameter instead of naming it: such a text would go on saying 18 once the
parameter says 12. A number that is no parameter (a vision at 1, 5 and 10 years, a quarter "Q1", a "1:1") is
written in words or is part of a word, which the check leaves alone. Parameter descriptions are not checked:
they quote the guide's value on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from string import Formatter
from typing import Any

Problem = tuple[list[int | str], str]
LOCALE_KEYS = ("en", "zh-TW")

# A number standing on its own: not part of a word or an identifier ("Q1", "x2"), of a time or ratio ("1:1"),
# of a path, of a $reference, nor of a longer number. Chinese characters around it do not make it part of a word
# ("約 18 小時" and "約18小時" both state 18).
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.:/$])(\d+(?:\.\d+)?)(?![A-Za-z0-9_:]|\.\d)")
_FORMATTER = Formatter()


def render_value(value: Any) -> str:
    """A parameter's value as a text states it: 18 not 18.0, a scale as "0.0 / 0.3 / 0.7 / 1.0"."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer() and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, list):
        if all(isinstance(item, int | float) and not isinstance(item, bool) for item in value):
            return " / ".join(str(item) for item in value)
        return ", ".join(str(item) for item in value)
    return str(value)


def fields_of(text: str) -> list[str]:
    """The parameter names a text interpolates; ValueError when its braces are not well formed."""
    names = []
    for _, name, spec, conversion in _FORMATTER.parse(text):
        if name is None:
            continue
        if spec or conversion or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ValueError(f"'{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}' is "
                             "not a parameter reference (write {name}, or {{ and }} for a brace)")
        names.append(name)
    return names


def interpolate(text: str, values: Mapping[str, Any]) -> str:
    """``text`` with each ``{name}`` replaced by the parameter's value (the validator has checked the names)."""
    if "{" not in text and "}" not in text:
        return text
    return text.format_map({name: render_value(values[name]) for name in fields_of(text)})


def interpolate_tree(node: Any, values: Mapping[str, Any]) -> Any:
    """A plain playbook document with every bilingual text interpolated."""
    if isinstance(node, dict):
        if _is_text(node):
            return {key: interpolate(value, values) if key in LOCALE_KEYS and isinstance(value, str) else value
                    for key, value in node.items()}
        return {key: interpolate_tree(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(item, values) for item in node]
    return node


def _is_text(node: dict[str, Any]) -> bool:
    return "en" in node and "zh-TW" in node


def check(doc: dict[str, Any], *, stated_defaults: bool = True) -> Iterator[Problem]:
    """Every text that names an unknown parameter, has stray braces, or (``stated_defaults``) writes out a
    parameter's default."""
    parameters = doc.get("parameters") if isinstance(doc.get("parameters"), dict) else {}
    assert isinstance(parameters, dict)
    numeric: dict[float, list[str]] = {}
    for name, parameter in parameters.items():
        default = parameter.get("default") if isinstance(parameter, dict) else None
        if isinstance(default, int | float) and not isinstance(default, bool):
            numeric.setdefault(float(default), []).append(name)
    for loc, text in _texts(doc, []):
        if loc[:1] == ["parameters"]:
            continue
        try:
            names = fields_of(text)
        except ValueError as error:
            yield loc, str(error)
            continue
        for name in names:
            if name not in parameters:
                known = ", ".join(sorted(parameters)) or "none defined"
                yield loc, f"the text names an unknown parameter {{{name}}} (parameters: {known})"
        for match in _NUMBER.finditer(_without_fields(text)) if stated_defaults else ():
            owners = numeric.get(float(match.group(1)))
            if owners:
                choices = " or ".join(f"{{{owner}}}" for owner in owners)
                yield loc, (f"the text states {match.group(1)}, the default of {_names(owners)}: write {choices} "
                            "so that it follows the parameter (or write a number that is no parameter in words)")


def _names(owners: list[str]) -> str:
    return ", ".join(f"${owner}" for owner in owners)


def _without_fields(text: str) -> str:
    try:
        return "".join(literal for literal, *_ in _FORMATTER.parse(text))
    except ValueError:
        return text


def _texts(node: Any, loc: list[int | str]) -> Iterator[tuple[list[int | str], str]]:
    if isinstance(node, dict):
        if _is_text(node):
            for key in LOCALE_KEYS:
                if isinstance(node.get(key), str):
                    yield [*loc, key], node[key]
            return
        for key, value in node.items():
            yield from _texts(value, [*loc, key])
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _texts(item, [*loc, index])
