"""Reminders: ask the journey's cadences what became due since the last run, record each occurrence once, and
fan it out to the people it is for (the in-app inbox, and e-mail when SMTP is configured).

The unique key (engagement, cadence, occurrence) decides what was already handled: rows are inserted with
INSERT ... ON CONFLICT DO NOTHING and only the run whose insert took the row fans it out. A second run over
the same window, a second scheduler process, or a catch-up after downtime therefore sends nothing twice.
Like every service this one flushes and never commits: the caller's unit of work does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog
from okr_rollout.events import service as events
from okr_rollout.facts import load_facts
from okr_rollout.journey.cadences import DueReminder, due_reminders
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.models import Notification, Reminder
from okr_rollout.notifications import queries
from okr_rollout.notifications.audience import recipients_of
from okr_rollout.notifications.digests import (
    CAP_WINDOW,
    CHUNK,
    Recipient,
    email_columns,
    insert_new,
    send_digests,
    send_email_digests,
)
from okr_rollout.notifications.messages import (
    Context,
    render,
)
from okr_rollout.playbooks import LoadedPlaybook
from okr_rollout.settings import Settings
from okr_rollout.waves import service as waves

STATE_NAME = "reminders"
ACTOR = "scheduler"
OVERDUE_EVENT = "reminder.overdue"
CAP_PARAMETER = "max_nudges_per_week"
# The cap counts reminders "per week": seven days is the unit the parameter is stated in, not a domain number.


@dataclass
class ReminderRun:
    """What one run did, for logs and tests."""

    due: int = 0  # occurrences due in the run's window, including any another run already recorded
    inserted: int = 0  # occurrences this run recorded (sent or skipped)
    skipped: int = 0  # of those, recorded as skipped (missed beyond the catch-up window, nobody to tell)
    notifications: int = 0  # inbox and e-mail notifications created for delivery
    capped: int = 0  # reminders held for a digest because the person reached max_nudges_per_week
    digests: int = 0  # digests sent (each tells one person every reminder held for them)
    email_digests: int = 0  # e-mail digests made (each tells one person the e-mails queued for their period)
    since: datetime | None = None
    until: datetime | None = None
    # The facts read for the engagements named in ``keep_facts_of``: the scheduler's tick hands them on to the
    # readiness watch, so that one tick reads an engagement's facts once.
    kept_facts: dict[int, EngagementFacts] = field(default_factory=dict, repr=False)
    new_readiness_rows: int = 0  # engagements that had no readiness row yet (made here, stale)


@dataclass
class _Plan:
    reminder: DueReminder
    facts: EngagementFacts
    playbook: LoadedPlaybook
    status: str = "sent"
    reason: str | None = None
    recipient_ids: list[int] = field(default_factory=list)
    capped_ids: list[int] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)


def run_reminders(session: Session, catalog: Catalog, settings: Settings, now: datetime, *,
                  keep_facts_of: Collection[int] = ()) -> ReminderRun:
    """Record and fan out every reminder that became due since the last run, up to ``now``.

    Each engagement keeps the time its next reminder may fall due (``next_reminder_at``, found by looking
    ``reminder_lookahead_days`` ahead; unknown once a write changed its facts): a run reads only the engagements
    whose time has come or is unknown. A first run (or one after the last run time was forgotten) has no such
    times to go by and looks at every engagement.

    The facts read of the engagements in ``keep_facts_of`` are returned in ``kept_facts`` (read at ``now``)."""
    catch_up = timedelta(hours=settings.reminder_catch_up_hours)
    last = last_run(session)
    # A first run has missed nothing: it looks back no further than the catch-up window.
    since = last if last is not None else now - catch_up
    run = ReminderRun(since=since, until=now)
    if since >= now:
        return run
    plans, upcoming = _due(session, catalog, now, since, every=last is None,
                           lookahead=timedelta(days=settings.reminder_lookahead_days),
                           keep=frozenset(keep_facts_of), kept=run.kept_facts)
    run.due = len(plans)
    if plans:
        people = _people(session, plans)
        nudges = _recent_nudges(session, since)
        for plan in plans:
            _fan_out(plan, people, nudges, settings, now, catch_up)
        _record(session, plans, now, run)
    run.new_readiness_rows = _plan_next(session, upcoming, now)
    run.digests = send_digests(session, settings, now)
    run.email_digests = send_email_digests(session, settings, now)
    _remember(session, now)
    session.flush()
    return run


@dataclass(frozen=True, slots=True)
class _Upcoming:
    engagement_id: int
    read_marks: int | None  # None: the engagement has no readiness row yet
    at: datetime


def _due(session: Session, catalog: Catalog, now: datetime, since: datetime, *, every: bool,
         lookahead: timedelta, keep: frozenset[int], kept: dict[int, EngagementFacts]
         ) -> tuple[list[_Plan], list[_Upcoming]]:
    """What fell due in (since, now] for the engagements to look at, and when each one's next reminder may; the
    facts read of those in ``keep`` go into ``kept``."""
    rows = session.execute(queries.engagement_pins() if every else queries.engagements_due(now)).all()
    if not rows:
        return [], []
    facts = load_facts(session.connection(), None if every else [row[0] for row in rows], now)
    kept.update((engagement_id, facts[engagement_id]) for engagement_id in keep & facts.keys())
    plans: list[_Plan] = []
    upcoming: list[_Upcoming] = []
    horizon = now + lookahead
    running = waves.waves_by_engagement(session, [row[0] for row in rows])
    for engagement_id, sha256, marks in rows:
        engagement = facts.get(engagement_id)
        if engagement is not None:
            playbook = catalog.pinned(session, sha256)
            plans.extend(_Plan(r, engagement, playbook) for r in due_reminders(playbook, engagement, now, since))
            # The same facts give the same reminders whenever asked: until they change (a write marks them), none
            # falls due before the first one found ahead.
            ahead = list(due_reminders(playbook, engagement, horizon, now))
            # Each wave's journey reminds its own people, on the facts scoped to it.
            for prefix, journey, scoped in waves.running_journeys(playbook, engagement, running.get(engagement_id, [])):
                plans.extend(_Plan(replace(r, cadence_id=prefix + r.cadence_id), scoped, journey)
                             for r in due_reminders(journey, scoped, now, since))
                ahead += due_reminders(journey, scoped, horizon, now)
            first = min((r.due_at for r in ahead), default=horizon)
            upcoming.append(_Upcoming(engagement_id, marks, first))
    # Earlier reminders first, so that the weekly cap keeps a person's earliest reminders.
    # A total order also makes concurrent schedulers insert keys in the same order (no deadlock between them).
    plans.sort(key=lambda p: (p.reminder.due_at, p.reminder.key))
    return plans, upcoming


def _plan_next(session: Session, upcoming: Sequence[_Upcoming], now: datetime) -> int:
    """Keep each engagement's next reminder time; an engagement marked since it was read keeps its mark. Returns
    how many engagements had no readiness row yet."""
    known = [{"id": u.engagement_id, "read_marks": u.read_marks, "next_reminder_at": u.at}
             for u in upcoming if u.read_marks is not None]
    if known:
        session.connection().execute(queries.plan_next_reminder(), known)
    new = [{"engagement_id": u.engagement_id, "phase": "", "digest": "", "summary": {}, "updated_at": now,
            "failed_criteria": [], "gate_passed": 0, "gate_total": 0, "stale": True, "marks": 0,
            "next_reminder_at": u.at} for u in upcoming if u.read_marks is None]
    if new:
        insert_new(session, queries.snapshots_table(), new, ["engagement_id"], [])
    return len(new)


def _people(session: Session, plans: Sequence[_Plan]) -> dict[int, Recipient]:
    """Name, address and language of everyone a reminder may go to or name, in one query per chunk of ids."""
    wanted: set[int] = set()
    for plan in plans:
        wanted.update(recipients_of(plan.facts, plan.playbook, plan.reminder.audience))
        wanted.update(plan.reminder.subject_ids)
    found: dict[int, Recipient] = {}
    ids = sorted(wanted)
    statement = queries.people_by_ids()
    for start in range(0, len(ids), CHUNK):
        for row in session.execute(statement, {"ids": ids[start:start + CHUNK]}):
            found[row.id] = Recipient.of(row)
    return found


def _recent_nudges(session: Session, since: datetime) -> dict[tuple[int, int], list[datetime]]:
    """(engagement, person) -> due times of the reminders they got within the cap's window before ``since``."""
    rows = session.execute(queries.nudges_since(since - CAP_WINDOW))
    nudges: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for engagement_id, person_id, due_at in rows:
        nudges[(engagement_id, person_id)].append(due_at)
    return nudges


def _fan_out(plan: _Plan, people: dict[int, Recipient], nudges: dict[tuple[int, int], list[datetime]],
             settings: Settings, now: datetime, catch_up: timedelta) -> None:
    reminder = plan.reminder
    if reminder.due_at < now - catch_up:
        plan.status = "skipped"
        plan.reason = (f"missed: due at {reminder.due_at.isoformat()}, more than {settings.reminder_catch_up_hours} "
                       f"hours before this run (the catch-up window)")
        return
    audience = recipients_of(plan.facts, plan.playbook, reminder.audience)
    if reminder.to_subjects:
        concerned = set(reminder.subject_ids)
        audience = [pid for pid in audience if pid in concerned]
    plan.recipient_ids = [pid for pid in audience if pid in people]
    if not plan.recipient_ids:
        plan.status = "skipped"
        plan.reason = f"nobody to tell: no {reminder.audience} in this engagement"
        return
    cap = _cap(plan.playbook)
    others = () if reminder.to_subjects else tuple(people[p].name for p in reminder.subject_ids if p in people)
    context = Context(plan.facts.organization.name, plan.facts.organization.timezone, settings.public_url, others)
    for person_id in plan.recipient_ids:
        person = people[person_id]
        received = nudges[(reminder.engagement_id, person_id)]
        recent = [d for d in received if reminder.due_at - CAP_WINDOW < d <= reminder.due_at]
        capped = cap is not None and len(recent) >= cap
        if capped:
            plan.capped_ids.append(person_id)
        else:
            received.append(reminder.due_at)
        message = render(reminder, person.name, person.locale, context)
        base = {"engagement_id": reminder.engagement_id, "person_id": person_id, "locale": message.locale,
                "subject": message.subject, "body": message.body, "attempts": 0, "created_at": now,
                "read_at": None}
        if capped:
            # Beyond the cap a reminder is not lost: it waits for the person's digest (one message a week at most).
            plan.notifications.append({**base, "channel": "inbox", "status": queries.HELD, "sent_at": None,
                                       "next_attempt_at": None,
                                       "last_error": f"{CAP_PARAMETER} ({cap}) reached: {len(recent)} reminders in "
                                                     "the last 7 days; told in the next digest"})
            continue
        plan.notifications.append({**base, "channel": "inbox", "status": "sent", "sent_at": now,
                                   "next_attempt_at": None, "last_error": None})
        if settings.smtp_host and person.email:
            plan.notifications.append({**base, **email_columns(person, now, urgent=reminder.urgent),
                                       "last_error": None})


def _cap(playbook: LoadedPlaybook) -> int | None:
    """The playbook's weekly cap; a playbook without the parameter caps nothing (no number invented here)."""
    value = playbook.parameters.get(CAP_PARAMETER)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _record(session: Session, plans: Sequence[_Plan], now: datetime, run: ReminderRun) -> None:
    rows = [_reminder_row(plan, now) for plan in plans]
    table = Reminder.__table__
    assert isinstance(table, Table)
    inserted = insert_new(session, table, rows, ["engagement_id", "cadence_id", "occurrence"],
                           [table.c.id, table.c.engagement_id, table.c.cadence_id, table.c.occurrence])
    ids = {(row.engagement_id, row.cadence_id, row.occurrence): row.id for row in inserted}
    notifications: list[dict[str, Any]] = []
    for plan in plans:
        reminder_id = ids.get(plan.reminder.key)
        if reminder_id is None:
            continue  # recorded by an earlier or a concurrent run, which also fanned it out
        run.inserted += 1
        run.skipped += plan.status == "skipped"
        for notification in plan.notifications:
            notifications.append({**notification, "reminder_id": reminder_id})
            if notification["status"] == queries.HELD:
                run.capped += 1
            else:
                run.notifications += 1
        if plan.reminder.step == "overdue":
            _overdue_event(session, plan, reminder_id)
    notification_table = Notification.__table__
    assert isinstance(notification_table, Table)
    insert_new(session, notification_table, notifications, ["reminder_id", "person_id", "channel"], [])


def _reminder_row(plan: _Plan, now: datetime) -> dict[str, Any]:
    reminder = plan.reminder
    return {
        "engagement_id": reminder.engagement_id,
        "cadence_id": reminder.cadence_id,
        "occurrence": reminder.occurrence,
        "kind": reminder.kind,
        "audience": reminder.audience,
        "due_at": reminder.due_at,
        "status": plan.status,
        "skip_reason": plan.reason,
        "details": {
            "step": reminder.step,
            "about": reminder.about.isoformat() if reminder.about is not None else None,
            "subject_ids": list(reminder.subject_ids),
            "recipient_ids": plan.recipient_ids,
            "capped_ids": plan.capped_ids,
            "message": {"en": reminder.message.en, "zh-TW": reminder.message.zh_tw},
        },
        "created_at": now,
    }


def _overdue_event(session: Session, plan: _Plan, reminder_id: int) -> None:
    """The CRM learns of an overdue deadline through the event outbox, whether or not anyone was notified."""
    reminder = plan.reminder
    events.append(
        session, type=OVERDUE_EVENT, actor=ACTOR, at=reminder.due_at,
        organization_id=plan.facts.organization.id, engagement_id=reminder.engagement_id,
        payload={
            "reminder_id": reminder_id,
            "cadence_id": reminder.cadence_id,
            "occurrence": reminder.occurrence,
            "deadline": reminder.about.isoformat() if reminder.about is not None else None,
            "due_at": reminder.due_at.isoformat(),
            "audience": reminder.audience,
            "status": plan.status,
            "message": {"en": reminder.message.en, "zh-TW": reminder.message.zh_tw},
        },
    )


def _remember(session: Session, now: datetime) -> None:
    """Move the last run time forward, never back (a slower concurrent run may finish after a faster one)."""
    session.execute(queries.remember_run(session.connection().dialect.name, STATE_NAME, now))


def last_run(session: Session) -> datetime | None:
    """When reminders were last computed (None before the first run)."""
    return session.scalar(queries.last_run_at(STATE_NAME))
