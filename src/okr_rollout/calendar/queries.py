"""The statements of the calendar feeds. The service runs them."""

from __future__ import annotations

from sqlalchemy import Select, select

from okr_rollout.models import Engagement, Person


def engagements_of(organization_id: int) -> Select[Engagement]:
    return select(Engagement).where(Engagement.organization_id == organization_id).order_by(Engagement.id)


def person_with_feed(token_hash: str) -> Select[Person]:
    return select(Person).where(Person.calendar_token == token_hash)
