"""Notice when an engagement's readiness changes (a criterion passes or fails) and record it as an event.

Run by the scheduler over every engagement at once: one facts load, one readiness evaluation each. Only the
verdicts count (which criteria pass, whether each transition is allowed), not evidence such as days left, so a
change means something a coach or the CRM would act on.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog
from okr_rollout.engagements import queries
from okr_rollout.events import service as events
from okr_rollout.facts import load_facts
from okr_rollout.journey.machine import ReadinessReport, machine_for
from okr_rollout.models import ReadinessSnapshot


def summarize(report: ReadinessReport) -> dict[str, Any]:
    return {
        "phase": report.phase,
        "transitions": {
            t.trigger: {"allowed": t.allowed, "failed": sorted(c.id for c in t.criteria if not c.passed)}
            for t in report.transitions
        },
    }


def note_readiness_changes(session: Session, catalog: Catalog, now: datetime) -> int:
    """Compare every engagement's readiness with the last one seen; returns the number of changes recorded.

    Two runs never overlap: the second waits for the first to commit and then finds its snapshots, so a change
    is recorded once even if two schedulers ever tick together (SQLite's writers are serialized already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(queries.take_readiness_watch_lock())
    facts = load_facts(session, None, now)
    pins: dict[int, str] = {}
    organizations: dict[int, int] = {}
    for engagement_id, sha256, organization_id in session.execute(queries.pins_and_organizations()):
        pins[engagement_id], organizations[engagement_id] = sha256, organization_id
    snapshots = {s.engagement_id: s for s in session.scalars(queries.readiness_snapshots())}
    changes = 0
    for engagement_id, engagement_facts in facts.items():
        summary = summarize(machine_for(catalog.pinned(session, pins[engagement_id])).readiness(engagement_facts))
        digest = hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()
        snapshot = snapshots.get(engagement_id)
        if snapshot is None:
            session.add(ReadinessSnapshot(engagement_id=engagement_id, phase=summary["phase"], digest=digest,
                                          summary=summary, updated_at=now))
            continue
        if snapshot.digest == digest:
            continue
        if snapshot.phase == summary["phase"]:  # a phase change is already engagement.transitioned
            events.append(session, type="readiness.changed", actor="system:scheduler", at=now,
                          organization_id=organizations[engagement_id], engagement_id=engagement_id,
                          payload={"phase": summary["phase"], "before": snapshot.summary["transitions"],
                                   "after": summary["transitions"]})
            changes += 1
        snapshot.phase, snapshot.digest, snapshot.summary, snapshot.updated_at = (
            summary["phase"], digest, summary, now)
    session.flush()
    return changes
