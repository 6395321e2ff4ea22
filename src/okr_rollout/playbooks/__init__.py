"""The playbook definition language: schema, loader, registry. Imports no model and no web code."""

from okr_rollout.playbooks.loader import (
    LoadedPlaybook,
    PlaybookError,
    PlaybookInvalid,
    ResolvedCadence,
    ResolvedCriterion,
    ResolvedTask,
    load,
    load_text,
    validate,
    validate_text,
)
from okr_rollout.playbooks.registry import PlaybookRegistry, UnknownPlaybook

__all__ = [
    "LoadedPlaybook",
    "PlaybookError",
    "PlaybookInvalid",
    "PlaybookRegistry",
    "ResolvedCadence",
    "ResolvedCriterion",
    "ResolvedTask",
    "UnknownPlaybook",
    "load",
    "load_text",
    "validate",
    "validate_text",
]
