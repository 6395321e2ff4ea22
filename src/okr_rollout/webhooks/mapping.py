"""Which internal events a CRM receives, and under which public name."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Literal, get_args

# The public names a subscription may ask for (the API documents them from this Literal).
PublicEventType = Literal[
    "engagement.created",
    "engagement.phase_changed",
    "gate.refused",
    "task.completed",
    "quarter.scored",
    "reminder.overdue",
    "readiness.changed",
    "engagement.health_changed",
    "record.corrected",
    "record.voided",
    "quarter.reopened",
    "wave.opened",
    "wave.phase_changed",
    "engagement.handed_to_internal_coaches",
]
PUBLIC_EVENT_TYPES: tuple[str, ...] = get_args(PublicEventType)
# A subscription listing it receives every public event type, those added later too (as Stripe's "*").
EVERY_EVENT_TYPE = "*"
SubscribedEventType = Literal[PublicEventType, "*"]  # one Literal: one error naming every choice

# Internal event type -> the public name it is delivered under. Internal names are the history's own
# vocabulary and may change; the public names are a contract with the CRM and may not.
_SOURCES: dict[str, str] = {
    "engagement.created": "engagement.created",
    "engagement.transitioned": "engagement.phase_changed",
    "gate.refused": "gate.refused",
    "task.updated": "task.completed",
    "quarter.scored": "quarter.scored",
    "reminder.overdue": "reminder.overdue",
    "readiness.changed": "readiness.changed",
    "engagement.health_changed": "engagement.health_changed",
    "record.corrected": "record.corrected",
    "record.voided": "record.voided",
    "quarter.reopened": "quarter.reopened",
    "wave.opened": "wave.opened",
    "wave.transitioned": "wave.phase_changed",
    "engagement.handed_to_internal_coaches": "engagement.handed_to_internal_coaches",
}
assert set(_SOURCES.values()) == set(PUBLIC_EVENT_TYPES), "every public type needs a source and vice versa"


def public_event_type(internal_type: str, payload: Mapping[str, Any]) -> str | None:
    """The public type an event is delivered as, or None when no subscriber ever receives it."""
    public = _SOURCES.get(internal_type)
    if public == "task.completed":
        # task.updated records any change of a task; only the one that marks it done is a completion.
        changed = payload.get("changed")
        completed = payload.get("done") is True and isinstance(changed, list) and "done" in changed
        return public if completed else None
    return public


def wants(subscribed: Collection[str], public_type: str) -> bool:
    """Whether a subscription to ``subscribed`` receives events of ``public_type``."""
    return EVERY_EVENT_TYPE in subscribed or public_type in subscribed


def internal_types_for(public_types: Collection[str]) -> list[str]:
    """The internal event types that may become one of ``public_types`` (a filter before public_event_type)."""
    return sorted(internal for internal, public in _SOURCES.items() if wants(public_types, public))
