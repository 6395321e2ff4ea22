"""The journey machine: gate evaluation and phase changes for one playbook version.

One ``transitions.Machine`` is built per (playbook id, version, content hash)
and cached, with no models: a transition fires the machine's event on a
small subject holding the engagement's phase, so the shared machine is never
changed and never accumulates models.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from transitions import Machine

from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.journey.gates import CLOCKED, READS, check
from okr_rollout.playbooks.loader import LoadedPlaybook, ResolvedCriterion
from okr_rollout.texts import LocalizedText


@dataclass(frozen=True, slots=True)
class CriterionOutcome:
    id: str
    kind: str
    severity: str
    title: LocalizedText | None
    passed: bool
    reason: LocalizedText
    evidence: dict[str, Any]

    @property
    def blocks(self) -> bool:
        return not self.passed and self.severity == "blocking"


@dataclass(frozen=True, slots=True)
class TransitionReadiness:
    trigger: str
    source: str
    dest: str
    title: LocalizedText | None
    criteria: tuple[CriterionOutcome, ...]

    @property
    def allowed(self) -> bool:
        return not any(criterion.blocks for criterion in self.criteria)

    @property
    def passed_count(self) -> int:
        return sum(1 for criterion in self.criteria if criterion.passed)


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    engagement_id: int
    phase: str
    transitions: tuple[TransitionReadiness, ...]


@dataclass(frozen=True, slots=True)
class TaskToCreate:
    phase: str
    task_id: str
    title: LocalizedText
    role: str
    due_at: datetime
    checklist: tuple[tuple[str, LocalizedText], ...]


@dataclass(frozen=True, slots=True)
class Moved:
    trigger: str
    source: str
    dest: str
    readiness: TransitionReadiness
    tasks: tuple[TaskToCreate, ...]


@dataclass(frozen=True, slots=True)
class Refused:
    trigger: str
    source: str
    readiness: TransitionReadiness


class PhaseHolder(Protocol):
    """Anything that records a phase: an engagement row, for instance."""

    phase: str
    entered_phase_at: datetime


def enter_phase(holder: PhaseHolder, phase: str, at: datetime) -> None:
    """The one place where an engagement's phase is set, always from the machine's verdict."""
    holder.phase = phase
    holder.entered_phase_at = at


class UnknownTrigger(LookupError):
    """The trigger does not leave the engagement's current phase."""

    def __init__(self, trigger: str, phase: str, available: list[str]) -> None:
        self.trigger = trigger
        self.phase = phase
        self.available = available
        choices = ", ".join(available) or "none: the phase is final"
        super().__init__(f"trigger '{trigger}' does not leave phase '{phase}' (available: {choices})")


@dataclass
class _Subject:
    """What the machine moves for one operation: a phase, and whether the gate allowed it."""

    state: str
    gate_allows: bool = False


class JourneyMachine:
    def __init__(self, playbook: LoadedPlaybook) -> None:
        self.playbook = playbook
        spec = playbook.spec
        self._facts_read: dict[tuple[str, str | None], frozenset[str]] = {}
        self.machine = Machine(
            model=None,
            states=[phase.id for phase in spec.phases],
            transitions=[
                {
                    "trigger": t.trigger,
                    "source": t.source,
                    "dest": t.dest,
                    "conditions": [self._condition],
                }
                for t in spec.transitions
            ],
            initial=spec.start_phase,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )

    def facts_read(self, phase: str, trigger: str | None = None) -> frozenset[str]:
        """The groups of facts the gate of ``trigger`` reads (every gate out of ``phase`` when None): what a
        transition or a readiness report needs loaded."""
        key = (phase, trigger)
        groups = self._facts_read.get(key)
        if groups is None:
            if trigger is not None:
                self._require_trigger(phase, trigger)
            triggers = [trigger] if trigger is not None else self.triggers_from(phase)
            groups = frozenset().union(*(READS[criterion.kind] for t in triggers
                                         for criterion in self.playbook.gate(phase, t)))
            self._facts_read[key] = groups
        return groups

    @staticmethod
    def _condition(event: Any) -> bool:
        subject: _Subject = event.model
        return subject.gate_allows

    # --- readiness ----------------------------------------------------------------------------

    def readiness(self, facts: EngagementFacts) -> ReadinessReport:
        """Every transition out of the current phase, with every criterion evaluated."""
        return ReadinessReport(
            engagement_id=facts.engagement_id,
            phase=facts.phase,
            transitions=tuple(
                self._evaluate(facts, t.trigger) for t in self.playbook.spec.transitions_from(facts.phase)
            ),
        )

    def readiness_later(self, facts: EngagementFacts, earlier: ReadinessReport) -> ReadinessReport:
        """``readiness(facts)``, given ``earlier``: the readiness of the same facts at another moment. A criterion
        whose check does not read the clock keeps its outcome; only the others are checked again."""
        if earlier.phase != facts.phase or earlier.engagement_id != facts.engagement_id:
            return self.readiness(facts)
        transitions = []
        for before in earlier.transitions:
            gate = self.playbook.gate(facts.phase, before.trigger)
            criteria = tuple(_outcome(criterion, facts) if CLOCKED.get(criterion.kind, True) else kept
                             for criterion, kept in zip(gate, before.criteria, strict=True))
            transitions.append(replace(before, criteria=criteria))
        return ReadinessReport(engagement_id=facts.engagement_id, phase=facts.phase, transitions=tuple(transitions))

    def evaluate(self, facts: EngagementFacts, trigger: str) -> TransitionReadiness:
        self._require_trigger(facts.phase, trigger)
        return self._evaluate(facts, trigger)

    def _evaluate(self, facts: EngagementFacts, trigger: str) -> TransitionReadiness:
        transition = self.playbook.transition(facts.phase, trigger)
        assert transition is not None
        criteria = tuple(
            _outcome(criterion, facts) for criterion in self.playbook.gate(facts.phase, trigger)
        )
        return TransitionReadiness(trigger, transition.source, transition.dest, transition.title, criteria)

    # --- firing -------------------------------------------------------------------------------

    def fire(self, facts: EngagementFacts, trigger: str) -> Moved | Refused:
        readiness = self.evaluate(facts, trigger)
        subject = _Subject(state=facts.phase, gate_allows=readiness.allowed)
        # The event is fired on the subject directly: attaching it as a model would add a method per trigger
        # and state to it, and change the shared machine, for one call. Unqueued, firing changes only the subject.
        moved = bool(self.machine.events[trigger].trigger(subject))
        if not moved:
            return Refused(trigger, facts.phase, readiness)
        return Moved(trigger, facts.phase, subject.state, readiness, self.tasks_on_entry(subject.state, facts.now))

    def start(self, holder: PhaseHolder, at: datetime) -> tuple[TaskToCreate, ...]:
        """Put a new engagement in the playbook's initial phase; returns that phase's tasks."""
        phase = self.playbook.spec.start_phase
        enter_phase(holder, phase, at)
        return self.tasks_on_entry(phase, at)

    def apply(self, holder: PhaseHolder, moved: Moved, at: datetime) -> None:
        """Record a move the machine decided on ``holder``."""
        if holder.phase != moved.source:
            raise RuntimeError(f"cannot apply {moved.trigger}: the phase is {holder.phase}, not {moved.source}")
        enter_phase(holder, moved.dest, at)

    def tasks_on_entry(self, phase: str, entered_at: datetime) -> tuple[TaskToCreate, ...]:
        return tuple(
            TaskToCreate(
                phase=phase,
                task_id=task.spec.id,
                title=task.spec.title,
                role=task.spec.role,
                due_at=entered_at + timedelta(days=task.due_days),
                checklist=tuple((item.id, item.title) for item in task.spec.checklist),
            )
            for task in self.playbook.tasks.get(phase, ())
        )

    def triggers_from(self, phase: str) -> list[str]:
        return [t.trigger for t in self.playbook.spec.transitions_from(phase)]

    def _require_trigger(self, phase: str, trigger: str) -> None:
        if self.playbook.transition(phase, trigger) is None:
            raise UnknownTrigger(trigger, phase, self.triggers_from(phase))


def _outcome(criterion: ResolvedCriterion, facts: EngagementFacts) -> CriterionOutcome:
    result = check(criterion.kind, facts, criterion.params)
    return CriterionOutcome(
        id=criterion.id,
        kind=criterion.kind,
        severity=criterion.severity,
        title=criterion.title,
        passed=result.passed,
        reason=result.reason,
        evidence=dict(result.evidence),
    )


_machines: dict[tuple[str, int, str], JourneyMachine] = {}
_machines_lock = threading.Lock()


def machine_for(playbook: LoadedPlaybook) -> JourneyMachine:
    """The shared machine of this playbook version (built on first use)."""
    key = (playbook.id, playbook.version, playbook.sha256)
    with _machines_lock:
        machine = _machines.get(key)
        if machine is None:
            machine = _machines[key] = JourneyMachine(playbook)
        return machine
