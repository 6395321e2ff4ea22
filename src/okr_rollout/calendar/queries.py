"""The statements of the calendar feeds. The service runs them."""

from __future__ import annotations

from sqlalchemy import Delete, Select, delete, select

from okr_rollout.models import CalendarFeed, Engagement, Person


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
