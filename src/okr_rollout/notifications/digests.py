"""A person's notifications as they are delivered: who receives them and how (``Recipient``, the e-mail's delivery
columns), the digests of reminders held beyond the weekly cap, and the daily or weekly e-mail digests. The reminder
run (``notifications.service``) calls these; like every service they flush and never commit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Table
from sqlalchemy.orm import Session

from okr_rollout.models import Notification
from okr_rollout.notifications import queries
from okr_rollout.notifications.messages import (
    Context,
    DigestItem,
    EmailDigestItem,
    Rendered,
    render_digest,
    render_email_digest,
)
from okr_rollout.notifications.preferences import Delivery
from okr_rollout.settings import Settings

CAP_WINDOW = timedelta(days=7)
CHUNK = 500  # rows per statement: far below SQLite's limit on bound parameters


@dataclass(frozen=True, slots=True)
class Recipient:
    id: int
    name: str
    email: str | None
    locale: str
    delivery: Delivery

    @classmethod
    def of(cls, row: Any) -> Recipient:
        return cls(row.id, row.name, row.email, row.locale,
                   Delivery(row.email_digest, row.quiet_from_hour, row.quiet_until_hour, row.timezone))


def email_columns(person: Recipient, now: datetime, *, urgent: bool = False) -> dict[str, Any]:
    """The e-mail's delivery columns: at once when urgent; else queued for the person's digest, or (one message a
    reminder) pending from the end of their quiet hours."""
    if urgent:
        return {"channel": "email", "status": "pending", "sent_at": None, "next_attempt_at": now}
    if person.delivery.digest:
        return {"channel": "email", "status": queries.QUEUED, "sent_at": None, "next_attempt_at": None}
    return {"channel": "email", "status": "pending", "sent_at": None,
            "next_attempt_at": person.delivery.quiet_ends(now)}


def send_digests(session: Session, settings: Settings, now: datetime) -> int:
    """One message to each person with reminders held beyond the cap, unless they had a digest in the last 7 days
    (then the held reminders wait for the next run after that): at most cap + 1 messages a week, none lost."""
    held = session.execute(queries.held_for_digest()).all()
    if not held:
        return 0
    recent = {(row[0], row[1]): row[2] for row in session.execute(queries.last_digests(now - CAP_WINDOW))}
    groups: dict[tuple[int, int], list[Row[Any]]] = defaultdict(list)
    for row in held:
        if (row.engagement_id, row.person_id) not in recent:
            groups[(row.engagement_id, row.person_id)].append(row)
    if not groups:
        return 0
    people = {row.id: Recipient.of(row) for row in
              session.execute(queries.people_by_ids(), {"ids": sorted({p for _, p in groups})})}
    sent = 0
    for (engagement_id, person_id), rows in groups.items():
        by_id = {row.id: row for row in rows}
        claimed = {i for (i,) in session.execute(queries.claim_held(sorted(by_id), now))}
        person = people.get(person_id)
        if not claimed or person is None:
            continue
        items = [by_id[i] for i in sorted(claimed, key=lambda i: (by_id[i].due_at, i))]
        first = items[0]
        context = Context(first.name, first.timezone, settings.public_url)
        message = render_digest([DigestItem(row.due_at, row.details.get("message", {})) for row in items],
                                person.name, person.locale, context)
        base = {"reminder_id": None, "engagement_id": engagement_id, "person_id": person_id,
                "locale": message.locale, "subject": message.subject, "body": message.body, "attempts": 0,
                "created_at": now, "read_at": None, "last_error": None}
        rows_out = [{**base, "channel": "inbox", "status": "sent", "sent_at": now, "next_attempt_at": None}]
        if settings.smtp_host and person.email:
            rows_out.append({**base, **email_columns(person, now)})
        session.execute(queries.insert_notifications(), rows_out)
        sent += 1
    return sent


def send_email_digests(session: Session, settings: Settings, now: datetime) -> int:
    """One e-mail to each person with e-mails queued, once per period (day or week) of their choice, from the
    digest hour of its first day and outside their quiet hours. The period's key is unique per person: of two
    runs (two ticks, two schedulers) only the one whose insert took it sends, and it claims only what is still
    queued, so nothing is told twice and nothing is lost (what is queued later waits for the next period)."""
    if not settings.smtp_host:
        return 0
    queued: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(queries.queued_email()):
        queued[row.person_id].append(row)
    if not queued:
        return 0
    people = {row.id: Recipient.of(row) for row in
              session.execute(queries.people_by_ids(), {"ids": sorted(queued)})}
    table = Notification.__table__
    assert isinstance(table, Table)
    sent = 0
    for person_id, rows in queued.items():
        person = people.get(person_id)
        if person is None or not person.email or not person.delivery.digest_due(now, settings.email_digest_hour):
            continue
        key = person.delivery.period(now)
        message = _email_digest(person, rows, settings)
        taken = insert_new(session, table, [{
            "reminder_id": None, "engagement_id": None, "person_id": person_id, "channel": "email",
            "locale": message.locale, "subject": message.subject, "body": message.body, "status": "pending",
            "attempts": 0, "next_attempt_at": now, "last_error": None, "created_at": now, "sent_at": None,
            "read_at": None, "digest_key": key}], ["person_id", "channel", "digest_key"], [table.c.id])
        if not taken:
            continue  # this period's digest is sent already: the rest waits for the next period
        digest = session.get(Notification, taken[0].id)
        assert digest is not None
        claimed = {i for (i,) in session.execute(queries.claim_queued([row.id for row in rows], now))}
        if not claimed:
            session.delete(digest)  # a concurrent run told them all in another period's digest
            continue
        if len(claimed) < len(rows):
            told = _email_digest(person, [row for row in rows if row.id in claimed], settings)
            digest.subject, digest.body = told.subject, told.body
        sent += 1
    session.flush()
    return sent


def _email_digest(person: Recipient, rows: Sequence[Any], settings: Settings) -> Rendered:
    base = settings.public_url.rstrip("/")
    zone = person.delivery.zone
    items = [EmailDigestItem((row.due_at or row.created_at).astimezone(zone), row.subject,
                             f"{base}/engagements/{row.engagement_id}" if row.engagement_id else f"{base}/inbox")
             for row in rows]
    return render_email_digest(items, person.name, person.locale, person.delivery, base)


def insert_new(session: Session, table: Table, rows: list[dict[str, Any]], key: list[str],
                returning: list[ColumnElement[Any]]) -> list[Row[Any]]:
    """INSERT ... ON CONFLICT (key) DO NOTHING; returns the rows this statement inserted (not the others)."""
    found: list[Row[Any]] = []
    dialect = session.connection().dialect.name
    for start in range(0, len(rows), CHUNK):
        result = session.execute(queries.insert_new(dialect, table, rows[start:start + CHUNK], key, returning))
        if returning:
            found.extend(result.all())
    return found
