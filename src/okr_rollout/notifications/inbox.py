"""The in-app inbox and a person's choice of how e-mail reaches them: the pages and the API read and mark a
person's own notifications here (another person's is 404). Flushes, never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import available_timezones

from sqlalchemy.orm import Session

from okr_rollout.errors import Unprocessable, field_error, not_found
from okr_rollout.models import Notification, Person, Reminder
from okr_rollout.notifications import preferences, queries
from okr_rollout.notifications.preferences import Delivery
from okr_rollout.portfolio.paging import ListPage, clamp_offset
from okr_rollout.texts import LocalizedText


def inbox(session: Session, person_id: int, *, before: int | None, limit: int,
          unread_only: bool) -> list[tuple[Notification, Reminder | None]]:
    """A person's inbox notifications, newest first, ``limit + 1`` of them (the extra one tells of a next page)."""
    statement = queries.inbox_page(person_id, before=before, limit=limit, unread_only=unread_only)
    return [(notification, reminder) for notification, reminder in session.execute(statement)]


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One notification as the inbox page lists it."""

    id: int
    subject: str
    body: str
    created_at: datetime
    unread: bool
    engagement_id: int | None


@dataclass(frozen=True, slots=True)
class InboxView:
    entries: ListPage[InboxEntry]
    unread: int
    timezone: str  # the reader's, for the times shown


def inbox_view(session: Session, person_id: int, offset: int, limit: int) -> InboxView:
    """A page of a person's inbox, newest first, with how many there are and how many are unread."""
    total, unread = inbox_counts(session, person_id)
    offset = clamp_offset(offset, total, limit)
    rows = inbox_page(session, person_id, offset, limit)
    entries = [InboxEntry(n.id, n.subject, n.body, n.created_at, n.read_at is None, n.engagement_id)
               for n, _ in rows]
    return InboxView(ListPage(entries, offset, limit, total), unread, delivery_of(session, person_id).timezone)


def delivery_of(session: Session, person_id: int) -> Delivery:
    """How e-mail reaches the person (their settings page shows it)."""
    row = session.execute(queries.people_by_ids(), {"ids": [person_id]}).first()
    if row is None:
        raise not_found(LocalizedText("person", "人員"))
    return Delivery(row.email_digest, row.quiet_from_hour, row.quiet_until_hour, row.timezone)


def set_delivery(session: Session, person_id: int, choice: str, quiet_from: int | None, quiet_until: int | None,
                 timezone: str | None) -> None:
    """Store how e-mail reaches the person; a choice, hour or timezone that does not exist is refused (422)."""
    errors = []
    if choice not in preferences.CHOICES:
        errors.append(field_error("body.email_digest", LocalizedText(
            "Choose immediate, daily or weekly.", "請選擇即時、每日或每週。"), "enum"))
    for name, hour in (("quiet_from_hour", quiet_from), ("quiet_until_hour", quiet_until)):
        if hour is not None and hour not in preferences.HOURS:
            errors.append(field_error(f"body.{name}", LocalizedText(
                "An hour from 0 to 23.", "請輸入 0 到 23 之間的整點。"), "range"))
    if timezone and timezone not in available_timezones():
        errors.append(field_error("body.timezone", LocalizedText(
            "There is no such timezone.", "沒有這個時區。"), "enum"))
    if errors:
        raise Unprocessable(LocalizedText("The delivery settings were not saved.", "通知設定未儲存。"),
                            errors=errors)
    person = session.get(Person, person_id)
    if person is None:
        raise not_found(LocalizedText("person", "人員"))
    person.email_digest = choice
    person.quiet_from_hour = quiet_from
    person.quiet_until_hour = quiet_until
    person.timezone = timezone or None
    session.flush()


def inbox_counts(session: Session, person_id: int) -> tuple[int, int]:
    """(notifications, unread ones) in a person's inbox."""
    row = session.execute(queries.inbox_counts(person_id)).one()
    return int(row[0]), int(row[1])


def unread_count(session: Session, person_id: int) -> int:
    """How many of a person's inbox notifications are not read yet (the pages' header shows it)."""
    return int(session.scalar(queries.unread_count(person_id)) or 0)


def inbox_page(session: Session, person_id: int, offset: int, limit: int
               ) -> list[tuple[Notification, Reminder | None]]:
    """One page of a person's inbox, newest first, by offset (the pages number their lists)."""
    statement = queries.inbox_offset_page(person_id, offset, limit)
    return [(notification, reminder) for notification, reminder in session.execute(statement)]


def mark_all_read(session: Session, person_id: int, now: datetime) -> None:
    """Mark every unread notification of the person's inbox read."""
    session.execute(queries.mark_all_read(person_id, now))
    session.flush()


def mark_read(session: Session, person_id: int, notification_id: int,
              now: datetime) -> tuple[Notification, Reminder | None]:
    """Mark one of the person's own inbox notifications read (again: the first read time stays)."""
    row = session.execute(queries.inbox_notification(person_id, notification_id)).first()
    if row is None:
        # Someone else's notification is as unknown to the caller as one that does not exist.
        raise not_found(LocalizedText("notification in your inbox", "您收件匣中的通知"))
    notification, reminder = row
    if notification.read_at is None:
        notification.read_at = now
        session.flush()
    return notification, reminder
