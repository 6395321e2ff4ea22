"""Each engagement's health (``journey/health.py``) computed from what is recorded: its facts, its open tasks and
its last activity, for one engagement or a whole portfolio in a fixed number of statements.

The readiness watch keeps it beside the readiness (``readiness_snapshots.health``), so that the portfolio sorts
and filters on it in SQL; ``health_now`` computes it afresh, for one engagement's page or API answer and for the
rows the watch has not evaluated since their last write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog
from okr_rollout.clients.pulses import milestone_title
from okr_rollout.engagements import queries
from okr_rollout.facts import load_facts
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.journey.health import (
    ActivityFacts,
    GateProgress,
    Health,
    HealthParams,
    HealthSignal,
    PulseFacts,
    assess,
)
from okr_rollout.journey.machine import ReadinessReport, machine_for
from okr_rollout.playbooks import LoadedPlaybook

# What ``health_now`` runs whatever the number of engagements: the pins, the activity, the pulses, and the facts.
STATEMENTS_BEFORE_FACTS = 3


def activity(session: Session, engagement_ids: Sequence[int] | None, now: datetime) -> dict[int, ActivityFacts]:
    """Overdue open tasks, the last activity and the rated milestone pulses of the given engagements (None: of
    all), in two statements."""
    if engagement_ids is not None and not engagement_ids:
        return {}
    rated: dict[int, list[PulseFacts]] = {}
    for engagement_id, milestone, held_on, asked, answered, total in session.execute(
            queries.rated_pulses_of(engagement_ids)):
        rated.setdefault(engagement_id, []).append(
            PulseFacts(milestone_title(milestone), held_on, int(asked), int(answered), int(total or 0)))
    return {engagement_id: ActivityFacts(int(overdue or 0), last, tuple(rated.get(engagement_id, ())))
            for engagement_id, overdue, last in session.execute(queries.activity_of(engagement_ids, now))}


_health_params: dict[tuple[str, int, str], HealthParams] = {}


def health_params(playbook: LoadedPlaybook) -> HealthParams:
    """The health thresholds of this playbook version, resolved once: an evaluation looks at each coming day."""
    key = (playbook.id, playbook.version, playbook.sha256)
    found = _health_params.get(key)
    if found is None:
        found = _health_params[key] = HealthParams.of(playbook.parameters)
    return found


def assess_engagement(playbook: LoadedPlaybook, facts: EngagementFacts, found: ActivityFacts,
                      readiness: ReadinessReport | None = None) -> Health:
    """The engagement's health from its facts; ``readiness`` (evaluated on the same facts) when the caller has it."""
    report = readiness if readiness is not None else machine_for(playbook).readiness(facts)
    first = report.transitions[0] if report.transitions else None
    gate = None
    if first is not None:
        title = first.title or playbook.phase(first.dest).title
        gate = GateProgress(title, first.allowed, first.passed_count, len(first.criteria))
    return assess(facts, found, health_params(playbook), phase_title=playbook.phase(facts.phase).title,
                  expected_days=playbook.expected_days.get(facts.phase), gate=gate)


def health_now(session: Session, catalog: Catalog, engagement_ids: Sequence[int] | None, now: datetime
               ) -> dict[int, Health]:
    """The health of the given engagements (None: of every one) at ``now``, in a fixed number of statements
    whatever their count."""
    if engagement_ids is not None and not engagement_ids:
        return {}
    ids = None if engagement_ids is None else list(engagement_ids)
    pins = {engagement_id: sha256 for engagement_id, sha256, _ in session.execute(queries.pins_and_organizations(ids))}
    found = activity(session, ids, now)
    facts = load_facts(session.connection(), ids, now)
    return {engagement_id: assess_engagement(catalog.pinned(session, pins[engagement_id]), engagement_facts,
                                             found.get(engagement_id, ActivityFacts(0, None)))
            for engagement_id, engagement_facts in facts.items()}


def health_of(session: Session, catalog: Catalog, engagement_id: int, now: datetime) -> Health:
    """One engagement's health now (the caller has checked that it may see the engagement)."""
    return health_now(session, catalog, [engagement_id], now)[engagement_id]


def signal_json(signal: HealthSignal, locale: str) -> dict[str, Any]:
    """A signal as the API shows it: its reason in ``locale`` and in both languages, its evidence."""
    return {"id": signal.id, "status": signal.status, "reason": signal.reason.get(locale),
            "reasons": signal.reason.as_dict(), "evidence": dict(signal.evidence)}
