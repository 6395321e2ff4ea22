"""The journey engine: facts, gates, the machine and cadences. Imports no web framework and no ORM."""

from okr_rollout.journey.cadences import DueReminder, due_reminders
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.journey.gates import CHECKS, CriterionResult
from okr_rollout.journey.machine import (
    JourneyMachine,
    Moved,
    ReadinessReport,
    Refused,
    TaskToCreate,
    TransitionReadiness,
    UnknownTrigger,
    machine_for,
)

__all__ = [
    "CHECKS",
    "CriterionResult",
    "DueReminder",
    "EngagementFacts",
    "JourneyMachine",
    "Moved",
    "ReadinessReport",
    "Refused",
    "TaskToCreate",
    "TransitionReadiness",
    "UnknownTrigger",
    "due_reminders",
    "machine_for",
]
