"""Read YAML keeping line numbers, and find where a path inside it is written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

Loc = Sequence[int | str]


def parse_yaml(text: str) -> Any:
    """Parse YAML 1.2 into ruamel's round-trip nodes, which remember positions."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml.load(text)


def to_plain(node: Any) -> Any:
    """ruamel's nodes as plain dict / list / scalars, so validation sees ordinary Python values."""
    if isinstance(node, dict):
        return {str(key): to_plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [to_plain(item) for item in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def format_path(loc: Loc) -> str:
    """('transitions', 4, 'gate', 1, 'params', 'min_hours') -> transitions[4].gate[1].params.min_hours"""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "<root>"


def resolve(root: Any, loc: Loc) -> tuple[list[int | str], tuple[int, int]]:
    """Follow ``loc`` as far as the document goes.

    Returns the part of ``loc`` that exists (plus a final missing key, so the
    path still names it) and the 1-based line and column to point at: the value
    when it exists, the enclosing mapping when a key is missing.
    """
    node = root
    position = _own_position(root)
    walked: list[int | str] = []
    for part in loc:
        if isinstance(node, CommentedMap) and isinstance(part, str):
            if part not in node:
                walked.append(part)
                break
            position = _value_position(node, part)
            walked.append(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            position = _item_position(node, part)
            walked.append(part)
            node = node[part]
        else:
            break
    return walked, position


def key_position(root: Any, loc: Loc) -> tuple[int, int]:
    """Where the last key of ``loc`` is written (for unknown keys)."""
    *parent_loc, key = loc
    _, position = resolve(root, parent_loc)
    parent = node_at(root, parent_loc)
    if isinstance(parent, CommentedMap) and key in parent:
        line, column = parent.lc.key(key)
        return line + 1, column + 1
    return position


def node_at(root: Any, loc: Loc) -> Any:
    node = root
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def _own_position(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return 1, 1
    return lc.line + 1, lc.col + 1


def _value_position(node: CommentedMap, key: str) -> tuple[int, int]:
    line, column = node.lc.value(key)
    return line + 1, column + 1


def _item_position(node: CommentedSeq, index: int) -> tuple[int, int]:
    line, column = node.lc.item(index)
    return line + 1, column + 1
