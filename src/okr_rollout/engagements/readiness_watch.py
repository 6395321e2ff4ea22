"""Each engagement's readiness, kept current: evaluated again when a write marked it stale or when the clock
alone may change it, and a change (a criterion passes or fails) recorded as a ``readiness.changed`` event.

Nothing here reads every engagement. ``events.append`` marks the engagements a write may change, in the write's
transaction; ``due`` reads the marked ones and those whose ``next_change_at`` has passed, by index, a batch at a
time. ``evaluate`` needs only a reader; ``store`` writes a batch in one short transaction, and skips an
engagement marked again since it was read (it stays stale for the next batch). Only verdicts count (which
criteria pass, whether each transition is allowed), not evidence such as days left, so a change means something
a coach or the CRM would act on.

The next change the clock brings is found by evaluating the same facts at the coming local midnights (gates
count days in the organization's time zone) and at the moments meetings on record take place (a meeting counts
once held), up to ``lookahead_days`` ahead; when none changes a verdict, the engagement is looked at again then.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog
from okr_rollout.engagements import queries
from okr_rollout.engagements.health import activity, assess_engagement
from okr_rollout.events import service as events
from okr_rollout.facts import load_facts
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.journey.health import ActivityFacts, Health
from okr_rollout.journey.machine import JourneyMachine, ReadinessReport, machine_for
from okr_rollout.playbooks import LoadedPlaybook

ACTOR = "system:scheduler"


def summarize(report: ReadinessReport) -> dict[str, Any]:
    return {
        "phase": report.phase,
        "transitions": {
            t.trigger: {"allowed": t.allowed, "failed": sorted(c.id for c in t.criteria if not c.passed)}
            for t in report.transitions
        },
    }


@dataclass(frozen=True, slots=True)
class Due:
    """An engagement to evaluate, as it was when read: a store checks nobody marked it since."""

    engagement_id: int
    marks: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    engagement_id: int
    organization_id: int
    read_marks: int
    summary: dict[str, Any]
    digest: str
    gate_met: bool | None  # the first transition out of the phase; None in a final phase
    failed_criteria: list[str]
    gate_passed: int
    gate_total: int
    next_change_at: datetime
    health: Health


@dataclass
class WatchRun:
    """What the watch did, for logs and tests."""

    evaluated: int = 0  # engagements evaluated
    stored: int = 0  # evaluations stored (the others were marked again meanwhile)
    changes: int = 0  # readiness.changed events recorded
    health_changes: int = 0  # engagement.health_changed events recorded
    batches: int = 0


def due(session: Session, now: datetime, limit: int, after: int = 0) -> list[Due]:
    """Up to ``limit`` engagements with ids above ``after`` marked stale or whose next change by the clock has
    come, lowest ids first."""
    return [Due(engagement_id, marks)
            for engagement_id, marks, _ in session.execute(queries.readiness_due(now, limit, after))]


def queue(session: Session, now: datetime, limit: int) -> list[Due]:
    """Up to ``limit`` engagements marked stale or whose next change by the clock has come, those whose readiness
    was stored longest ago first (a tick that evaluates only so many leaves the rest first in line)."""
    return [Due(engagement_id, marks) for engagement_id, marks in session.execute(queries.readiness_queue(now, limit))]


def evaluate(session: Session, catalog: Catalog, now: datetime, engagements: Sequence[Due],
             lookahead_days: int, preloaded: Mapping[int, EngagementFacts] | None = None) -> list[Evaluation]:
    """The readiness of ``engagements`` at ``now`` and when the clock alone would next change it (reads only).

    ``preloaded``: facts at ``now`` already read for some of them (by the tick's reminders), read after their
    marks in ``engagements`` were: a write in between changed the marks, so the store skips that evaluation."""
    if not engagements:
        return []
    ids = [d.engagement_id for d in engagements]
    preloaded = preloaded or {}
    missing = [engagement_id for engagement_id in ids if engagement_id not in preloaded]
    facts = {**load_facts(session.connection(), missing, now), **preloaded} if missing else dict(preloaded)
    found_activity = activity(session, ids, now)
    pins = {engagement_id: (sha256, organization_id)
            for engagement_id, sha256, organization_id in session.execute(queries.pins_and_organizations(ids))}
    found: list[Evaluation] = []
    for item in engagements:
        engagement_facts = facts.get(item.engagement_id)
        if engagement_facts is None:
            continue  # deleted meanwhile
        sha256, organization_id = pins[item.engagement_id]
        playbook = catalog.pinned(session, sha256)
        found.append(_evaluation(item, organization_id, playbook, engagement_facts,
                                 found_activity.get(item.engagement_id, ActivityFacts(0, None)), lookahead_days))
    return found


def _evaluation(item: Due, organization_id: int, playbook: LoadedPlaybook, facts: EngagementFacts,
                found: ActivityFacts, lookahead_days: int) -> Evaluation:
    machine = machine_for(playbook)
    report = machine.readiness(facts)
    health = assess_engagement(playbook, facts, found, report)
    summary = summarize(report)
    first = report.transitions[0] if report.transitions else None
    return Evaluation(
        engagement_id=item.engagement_id, organization_id=organization_id, read_marks=item.marks,
        summary=summary, digest=_digest(summary), gate_met=first.allowed if first else None,
        failed_criteria=sorted(c.id for c in first.criteria if not c.passed) if first else [],
        gate_passed=first.passed_count if first else 0, gate_total=len(first.criteria) if first else 0,
        next_change_at=next_change(machine, facts, summary, lookahead_days,
                                   lambda at, r: assess_engagement(playbook, at, found, r).status, health.status,
                                   report),
        health=health)


def store(session: Session, evaluations: Sequence[Evaluation], now: datetime, actor: str = ACTOR) -> WatchRun:
    """Store evaluations, recording ``readiness.changed`` for each verdict that changed within a phase (a phase
    change is already ``engagement.transitioned``). The first evaluation of an engagement is its baseline."""
    run = WatchRun()
    if not evaluations:
        return run
    if session.get_bind().dialect.name == "postgresql":
        session.execute(queries.take_readiness_watch_lock())
    current = {s.engagement_id: s for s in session.scalars(
        queries.readiness_snapshots([e.engagement_id for e in evaluations], for_update=True))}
    rows: list[dict[str, Any]] = []
    for evaluation in evaluations:
        snapshot = current.get(evaluation.engagement_id)
        if snapshot is None or snapshot.marks != evaluation.read_marks:
            continue  # marked again since it was read: evaluated again in a later batch
        if snapshot.evaluated_at is not None and snapshot.evaluated_at >= now and not snapshot.stale:
            continue  # a concurrent watch stored it already
        if snapshot.digest and snapshot.digest != evaluation.digest and snapshot.phase == evaluation.summary["phase"]:
            events.append(session, type="readiness.changed", actor=actor, at=now,
                          organization_id=evaluation.organization_id, engagement_id=evaluation.engagement_id,
                          payload={"phase": evaluation.summary["phase"], "before": snapshot.summary["transitions"],
                                   "after": evaluation.summary["transitions"]})
            run.changes += 1
        if snapshot.health is not None and snapshot.health != evaluation.health.status:
            events.append(session, type="engagement.health_changed", actor=actor, at=now,
                          organization_id=evaluation.organization_id, engagement_id=evaluation.engagement_id,
                          payload={"phase": evaluation.summary["phase"], "before": snapshot.health,
                                   "after": evaluation.health.status,
                                   "reasons": [s.as_dict() for s in evaluation.health.reasons]})
            run.health_changes += 1
        rows.append({"id": evaluation.engagement_id, "read_marks": evaluation.read_marks,
                     "phase": evaluation.summary["phase"], "digest": evaluation.digest, "summary": evaluation.summary,
                     "at": now, "gate_met": evaluation.gate_met, "failed_criteria": evaluation.failed_criteria,
                     "gate_passed": evaluation.gate_passed, "gate_total": evaluation.gate_total,
                     "next_change_at": evaluation.next_change_at, "health": evaluation.health.status,
                     "health_reasons": [s.as_dict() for s in evaluation.health.reasons]})
    if rows:
        session.connection().execute(queries.store_readiness(), rows)
    session.expire_all()
    run.stored = len(rows)
    return run


def note_readiness_changes(session: Session, catalog: Catalog, now: datetime, *, limit: int = 200,
                           lookahead_days: int = 7) -> int:
    """One batch in one unit of work (read, evaluate, store): the engagements due, up to ``limit`` of them;
    returns the number of changes recorded. The scheduler runs ``due``/``evaluate`` and ``store`` in separate
    transactions instead, so that the write lock is held only while storing."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(queries.take_readiness_watch_lock())
    return store(session, evaluate(session, catalog, now, due(session, now, limit), lookahead_days), now).changes


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


def has_snapshot(session: Session, engagement_id: int) -> bool:
    """Whether the watch has evaluated this engagement already (its snapshot is the readiness before a change)."""
    snapshot = session.scalar(queries.readiness_snapshot_of(engagement_id))
    return snapshot is not None and bool(snapshot.digest)


def note_readiness_change(session: Session, engagement_id: int, organization_id: int, playbook: LoadedPlaybook,
                          now: datetime, actor: str, before: dict[str, Any] | None = None,
                          lookahead_days: int = 7) -> bool:
    """Re-evaluate one engagement's readiness right after a record of it was corrected or voided, and record a
    change as the watch would (``readiness.changed``, delivered by webhook), in the correction's transaction.
    ``before`` is the summary before the correction, for an engagement the watch has not evaluated yet. Returns
    whether it changed."""
    take_watch_lock(session)
    session.flush()  # the correction's events have marked the snapshot: read its marks as they now are
    snapshot = session.scalar(queries.readiness_snapshot_of(engagement_id))
    if snapshot is None:
        return False
    if before is not None and not snapshot.digest:
        snapshot.phase, snapshot.digest, snapshot.summary = before["phase"], _digest(before), before
        session.flush()
    facts = load_facts(session, [engagement_id], now)[engagement_id]
    found = activity(session, [engagement_id], now).get(engagement_id, ActivityFacts(0, None))
    evaluation = _evaluation(Due(engagement_id, snapshot.marks), organization_id, playbook, facts, found,
                             lookahead_days)
    return store(session, [evaluation], now, actor).changes > 0


def next_change(machine: JourneyMachine, facts: EngagementFacts, summary: dict[str, Any],
                lookahead_days: int, health: Callable[[EngagementFacts, ReadinessReport], str] | None = None,
                status: str | None = None, report: ReadinessReport | None = None) -> datetime:
    """The first moment within ``lookahead_days`` at which the same facts give other verdicts, or (given
    ``health``) another health status than ``status``; else the end of that window (look again then).
    ``report``: the readiness at ``facts.now`` (``summary``'s), whose criteria that do not read the clock are not
    checked again at each moment."""
    zone = _zone(facts.organization.timezone)
    now = facts.now
    today = now.astimezone(zone).date()
    moments = {datetime.combine(today + timedelta(days=k), time(), tzinfo=zone).astimezone(now.tzinfo)
               for k in range(1, lookahead_days + 1)}
    horizon = max(moments)
    moments.update(m.held_at for m in facts.meetings if now < m.held_at < horizon)
    # The same facts at each moment, made directly: ``dataclasses.replace`` checks every field each time.
    values = {f.name: getattr(facts, f.name) for f in fields(facts)}
    for moment in sorted(moments):
        values["now"] = moment
        later = EngagementFacts(**values)
        found = machine.readiness(later) if report is None else machine.readiness_later(later, report)
        if summarize(found) != summary or (health is not None and health(later, found) != status):
            return moment
    return horizon


def _digest(summary: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
