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
from okr_rollout.playbooks import LoadedPlaybook


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
    take_watch_lock(session)
    facts = load_facts(session, None, now)
    pins: dict[int, str] = {}
    organizations: dict[int, int] = {}
    for engagement_id, sha256, organization_id in session.execute(queries.pins_and_organizations()):
        pins[engagement_id], organizations[engagement_id] = sha256, organization_id
    snapshots = {s.engagement_id: s for s in session.scalars(queries.readiness_snapshots())}
    changes = 0
    for engagement_id, engagement_facts in facts.items():
        summary = summarize(machine_for(catalog.pinned(session, pins[engagement_id])).readiness(engagement_facts))
        if _note(session, engagement_id, organizations[engagement_id], snapshots.get(engagement_id), summary, now,
                 "system:scheduler"):
            changes += 1
    session.flush()
    return changes


def take_watch_lock(session: Session) -> None:
    """PostgreSQL: the lock of the readiness watch, taken by a correction before it appends its first event (the
    order the scheduler takes its locks in: this one, then the outbox's)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(queries.take_readiness_watch_lock())


def readiness_summary(session: Session, engagement_id: int, playbook: LoadedPlaybook, now: datetime
                      ) -> dict[str, Any]:
    """The verdicts of one engagement's readiness now (what a change is judged on)."""
    facts = load_facts(session, [engagement_id], now)[engagement_id]
    return summarize(machine_for(playbook).readiness(facts))


def note_readiness_change(session: Session, engagement_id: int, organization_id: int, playbook: LoadedPlaybook,
                          now: datetime, actor: str, before: dict[str, Any] | None = None) -> bool:
    """Re-evaluate one engagement's readiness right after a record of it was corrected or voided, and record a
    change as the scheduler's watch would (``readiness.changed``, delivered by webhook). ``before`` is the summary
    before the correction, for an engagement the watch has not looked at yet. Returns whether it changed."""
    take_watch_lock(session)
    session.flush()
    snapshot = session.scalar(queries.readiness_snapshot_of(engagement_id))
    summary = readiness_summary(session, engagement_id, playbook, now)
    if snapshot is None and before is not None:
        snapshot = ReadinessSnapshot(engagement_id=engagement_id, phase=before["phase"],
                                     digest=_digest(before), summary=before, updated_at=now)
        session.add(snapshot)
    changed = _note(session, engagement_id, organization_id, snapshot, summary, now, actor)
    session.flush()
    return changed


def _digest(summary: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()


def _note(session: Session, engagement_id: int, organization_id: int, snapshot: ReadinessSnapshot | None,
          summary: dict[str, Any], now: datetime, actor: str) -> bool:
    """Compare with the last snapshot (the first look is the baseline); record a change, keep the new snapshot."""
    digest = _digest(summary)
    if snapshot is None:
        session.add(ReadinessSnapshot(engagement_id=engagement_id, phase=summary["phase"], digest=digest,
                                      summary=summary, updated_at=now))
        return False
    if snapshot.digest == digest:
        return False
    changed: bool = snapshot.phase == summary["phase"]  # a phase change is already engagement.transitioned
    if changed:
        events.append(session, type="readiness.changed", actor=actor, at=now, organization_id=organization_id,
                      engagement_id=engagement_id, payload={"phase": summary["phase"],
                                                            "before": snapshot.summary["transitions"],
                                                            "after": summary["transitions"]})
    snapshot.phase, snapshot.digest, snapshot.summary, snapshot.updated_at = (summary["phase"], digest, summary, now)
    return changed


def has_snapshot(session: Session, engagement_id: int) -> bool:
    """Whether the watch has looked at this engagement already (its snapshot is the readiness before a change)."""
    return session.scalar(queries.readiness_snapshot_of(engagement_id)) is not None
