"""The statements of the calendar feeds. The service runs them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Delete, Insert, Select, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from okr_rollout.models import CalendarFeed, Engagement, Installation, Person
from okr_rollout.models.installation import INSTALLATION_ROW


def engagements_of(organization_id: int) -> Select[Engagement]:
    return select(Engagement).where(Engagement.organization_id == organization_id).order_by(Engagement.id)


def person_with_feed(token_hash: str) -> Select[Person]:
    return select(Person).join(CalendarFeed, CalendarFeed.person_id == Person.id).where(
        CalendarFeed.token_hash == token_hash)


def feeds_of(person_id: int) -> Select[CalendarFeed]:
    return select(CalendarFeed).where(CalendarFeed.person_id == person_id).order_by(CalendarFeed.id)


def feed_of(person_id: int, feed_id: int) -> Select[CalendarFeed]:
    return select(CalendarFeed).where(CalendarFeed.person_id == person_id, CalendarFeed.id == feed_id)


def delete_feeds(feed_ids: list[int]) -> Delete:
    return delete(CalendarFeed).where(CalendarFeed.id.in_(feed_ids))


def installation_id() -> Select[str]:
    return select(Installation.installation_id).where(Installation.id == INSTALLATION_ROW)


def make_installation(dialect: str, installation_id: str, now: datetime) -> Insert:
    """The installation's one row, unless another process made it first (then theirs stays)."""
    values = {"id": INSTALLATION_ROW, "installation_id": installation_id, "created_at": now}
    if dialect == "postgresql":
        return postgresql.insert(Installation).values(values).on_conflict_do_nothing(index_elements=["id"])
    return sqlite.insert(Installation).values(values).on_conflict_do_nothing(index_elements=["id"])
