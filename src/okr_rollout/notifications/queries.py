"""Every statement of reminders, notifications and the scheduler's last run. Services run them.

Two writes depend on the database: "insert unless the key exists" and "move the last run forward" are
written with each dialect's ON CONFLICT; the caller passes its connection's dialect name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Insert, Select, Table, Update, bindparam, func, insert, or_, select, union, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import Executable

from okr_rollout.models import Engagement, Notification, Organization, Person, ReadinessSnapshot, Reminder
from okr_rollout.models.notification import SchedulerState

# --- reminders ---------------------------------------------------------------------------------------------------


def engagement_pins() -> Select[int, str, int | None]:
    """(id, playbook sha256, marks of its readiness row) of every engagement."""
    return (select(Engagement.id, Engagement.playbook_sha256, ReadinessSnapshot.marks)
            .outerjoin(ReadinessSnapshot, ReadinessSnapshot.engagement_id == Engagement.id))


def engagements_due(now: datetime) -> Select[int, str, int | None]:
    """(id, playbook sha256, marks) of the engagements whose next reminder has come by ``now`` or is unknown (their
    facts changed): each condition reads the index of the next reminder times."""
    columns = (ReadinessSnapshot.engagement_id, ReadinessSnapshot.marks)
    unknown = select(*columns).where(ReadinessSnapshot.next_reminder_at.is_(None))
    come = select(*columns).where(ReadinessSnapshot.next_reminder_at <= now)
    due = union(unknown, come).subquery()
    return (select(Engagement.id, Engagement.playbook_sha256, due.c.marks)
            .join(due, due.c.engagement_id == Engagement.id))


def plan_next_reminder() -> Update:
    """Store an engagement's next reminder time (bound at execution) unless a write marked it meanwhile."""
    return _PLAN_NEXT_REMINDER


_SNAPSHOTS: Table = ReadinessSnapshot.__table__  # type: ignore[assignment]
_PLAN_NEXT_REMINDER = (update(_SNAPSHOTS)
                       .where(_SNAPSHOTS.c.engagement_id == bindparam("id"),
                              _SNAPSHOTS.c.marks == bindparam("read_marks"))
                       .values(next_reminder_at=bindparam("next_reminder_at")))


def snapshots_table() -> Table:
    return _SNAPSHOTS


def people_by_ids() -> Select[int, str, str | None, str, str, int | None, int | None, str]:
    """(id, name, e-mail, locale, e-mail choice, quiet from, quiet until, timezone) of the people whose ids are bound
    as ``ids`` (an expanding parameter); the timezone is the person's own, else their organization's, else UTC."""
    return (select(Person.id, Person.name, Person.email, Person.locale, Person.email_digest, Person.quiet_from_hour,
                   Person.quiet_until_hour,
                   func.coalesce(Person.timezone, Organization.timezone, "UTC").label("timezone"))
            .outerjoin(Organization, Organization.id == Person.organization_id)
            .where(Person.id.in_(bindparam("ids", expanding=True))))


def nudges_since(since: datetime) -> Select[int, int, datetime]:
    """(engagement id, person id, due at) of every reminder sent to an inbox that was due after ``since``."""
    return (select(Reminder.engagement_id, Notification.person_id, Reminder.due_at)
            .join(Reminder, Reminder.id == Notification.reminder_id)
            .where(Notification.channel == "inbox", Notification.status == "sent", Reminder.due_at > since))


# --- digests: reminders beyond the weekly cap, held for one message per person a week ---------------------------
# A digest is the one kind of notification that no single reminder owns: its reminder_id is NULL.
HELD = "held"  # a reminder beyond the cap, waiting for its person's next digest
DIGESTED = "digested"  # a held reminder, told in the digest sent at its sent_at


def held_for_digest() -> Select[int, int, int, str, datetime, Any, str, str]:
    """(notification id, engagement id, person id, locale, reminder due at, reminder details, organization name,
    organization timezone) of every reminder held for a digest, oldest first."""
    return (select(Notification.id, Notification.engagement_id, Notification.person_id, Notification.locale,
                   Reminder.due_at, Reminder.details, Organization.name, Organization.timezone)
            .join(Reminder, Reminder.id == Notification.reminder_id)
            .join(Engagement, Engagement.id == Notification.engagement_id)
            .join(Organization, Organization.id == Engagement.organization_id)
            .where(Notification.status == HELD, Notification.channel == "inbox")
            .order_by(Reminder.due_at, Notification.id))


def last_digests(since: datetime) -> Select[int | None, int, datetime]:
    """(engagement id, person id, latest) of the digests sent after ``since``."""
    return (select(Notification.engagement_id, Notification.person_id, func.max(Notification.created_at))
            .where(Notification.reminder_id.is_(None), Notification.channel == "inbox",
                   Notification.created_at > since)
            .group_by(Notification.engagement_id, Notification.person_id))


def claim_held(ids: Sequence[int], at: datetime) -> Update:
    """Mark held notifications as told in a digest; only those still held (a concurrent run took the others)."""
    return (update(Notification).where(Notification.id.in_(list(ids)), Notification.status == HELD)
            .values(status=DIGESTED, sent_at=at).returning(Notification.id))


# --- e-mail digests: a person's e-mails queued for one message a day or a week -----------------------------------
QUEUED = "queued"  # an e-mail waiting for its person's next digest


def queued_email() -> Select[int, int, int | None, str, datetime, datetime | None]:
    """(notification id, person id, engagement id, subject, created at, reminder due at) of every e-mail queued for
    a digest, by person, oldest first."""
    return (select(Notification.id, Notification.person_id, Notification.engagement_id, Notification.subject,
                   Notification.created_at, Reminder.due_at)
            .outerjoin(Reminder, Reminder.id == Notification.reminder_id)
            .where(Notification.channel == "email", Notification.status == QUEUED)
            .order_by(Notification.person_id, Notification.created_at, Notification.id))


def claim_queued(ids: Sequence[int], at: datetime) -> Update:
    """Mark queued e-mails as told in a digest; only those still queued (a concurrent run took the others)."""
    return (update(Notification).where(Notification.id.in_(list(ids)), Notification.status == QUEUED)
            .values(status=DIGESTED, sent_at=at).returning(Notification.id))


def insert_notifications() -> Insert:
    return insert(Notification)


def insert_new(dialect: str, table: Table, rows: Sequence[dict[str, Any]], key: list[str],
               returning: Sequence[ColumnElement[Any]]) -> Executable:
    """INSERT ... ON CONFLICT (key) DO NOTHING of ``rows``, returning ``returning`` of the rows it inserted."""
    if dialect == "postgresql":
        pg = postgresql.insert(table).values(list(rows)).on_conflict_do_nothing(index_elements=key)
        return pg.returning(*returning) if returning else pg
    if dialect == "sqlite":
        lite = sqlite.insert(table).values(list(rows)).on_conflict_do_nothing(index_elements=key)
        return lite.returning(*returning) if returning else lite
    raise NotImplementedError(f"reminders need SQLite or PostgreSQL, not {dialect}")  # pragma: no cover


def remember_run(dialect: str, name: str, at: datetime) -> Executable:
    """Store ``at`` as the last run of ``name``, never moving it back (a slower concurrent run may finish after
    a faster one)."""
    table = SchedulerState.__table__
    assert isinstance(table, Table)
    values = {"name": name, "last_run_at": at}
    if dialect == "postgresql":
        pg = postgresql.insert(table).values(values)
        later = func.greatest(table.c.last_run_at, pg.excluded.last_run_at)
        return pg.on_conflict_do_update(index_elements=["name"], set_={"last_run_at": later})
    lite = sqlite.insert(table).values(values)
    return lite.on_conflict_do_update(index_elements=["name"],
                                      set_={"last_run_at": func.max(table.c.last_run_at, lite.excluded.last_run_at)})


def last_run_at(name: str) -> Select[datetime]:
    return select(SchedulerState.last_run_at).where(SchedulerState.name == name)


# --- the in-app inbox --------------------------------------------------------------------------------------------


def _sent_to_inbox() -> Select[Notification, Reminder | None]:
    return (select(Notification, Reminder)
            .outerjoin(Reminder, Reminder.id == Notification.reminder_id)
            .where(Notification.channel == "inbox", Notification.status == "sent"))


def inbox_page(person_id: int, *, before: int | None, limit: int, unread_only: bool
               ) -> Select[Notification, Reminder | None]:
    """A person's inbox, newest first, ``limit + 1`` rows (the extra one tells of a next page)."""
    statement = _sent_to_inbox().where(Notification.person_id == person_id)
    if before is not None:
        statement = statement.where(Notification.id < before)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return statement.order_by(Notification.id.desc()).limit(limit + 1)


def inbox_notification(person_id: int, notification_id: int) -> Select[Notification, Reminder | None]:
    return _sent_to_inbox().where(Notification.id == notification_id, Notification.person_id == person_id)


def _inbox_of(person_id: int) -> list[ColumnElement[bool]]:
    return [Notification.person_id == person_id, Notification.channel == "inbox", Notification.status == "sent"]


def inbox_counts(person_id: int) -> Select[int, int]:
    """(notifications, unread ones) in a person's inbox: one row, read by the person_id, id index."""
    return select(func.count(Notification.id), func.count(Notification.id).filter(Notification.read_at.is_(None))
                  ).where(*_inbox_of(person_id))


def unread_count(person_id: int) -> Select[int]:
    return select(func.count(Notification.id)).where(*_inbox_of(person_id), Notification.read_at.is_(None))


def inbox_offset_page(person_id: int, offset: int, limit: int) -> Select[Notification, Reminder | None]:
    """One page of a person's inbox, newest first, for the pages (numbered by offset, as their other lists)."""
    return (_sent_to_inbox().where(Notification.person_id == person_id)
            .order_by(Notification.id.desc()).offset(offset).limit(limit))


def mark_all_read(person_id: int, at: datetime) -> Update:
    return update(Notification).where(*_inbox_of(person_id), Notification.read_at.is_(None)).values(read_at=at)


# --- e-mail ------------------------------------------------------------------------------------------------------


def _email_due(now: datetime) -> ColumnElement[bool]:
    return or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now)


def pending_email_ids(now: datetime) -> Select[int]:
    """E-mail notifications whose (next) attempt is due, in the order they fell due."""
    return (select(Notification.id)
            .where(Notification.channel == "email", Notification.status == "pending", _email_due(now))
            .order_by(Notification.next_attempt_at, Notification.id))


def claim_email(notification_id: int, now: datetime) -> Select[Notification, str, str | None]:
    """The pending notification with its person's name and address, locked unless another sender holds it."""
    return (select(Notification, Person.name, Person.email)
            .join(Person, Person.id == Notification.person_id)
            .where(Notification.id == notification_id, Notification.status == "pending", _email_due(now))
            .with_for_update(of=Notification, skip_locked=True))
