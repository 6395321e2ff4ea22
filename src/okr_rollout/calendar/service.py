"""Calendar feeds: an engagement's calendar for those who see it, and a person's feed at a secret URL.

The secret is stored hashed in ``Person.calendar_token`` (like API tokens): the URL is shown once, when it
is issued, and issuing a new one invalidates the old URL. The feed itself is read with no bearer token,
because calendar clients cannot send one; the secret in the URL is the credential.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller
from okr_rollout.auth.service import hash_token
from okr_rollout.auth.visibility import visible_engagement, visible_organization
from okr_rollout.calendar import feed, queries, texts
from okr_rollout.catalog.service import Catalog
from okr_rollout.errors import NotFound
from okr_rollout.events import service as events
from okr_rollout.facts import load_facts
from okr_rollout.models import Organization, Person

FEED_TOKEN_PREFIX = "cal_"
FEED_PATH = "/api/v1/calendar/{token}.ics"


@dataclass(frozen=True, slots=True)
class IssuedFeed:
    person_id: int
    url: str
    rotated: bool
    issued_at: datetime

    @property
    def webcal_url(self) -> str:
        """The same URL for calendar apps that subscribe to webcal:// links (they fetch it over https)."""
        return "webcal://" + self.url.partition("://")[2]


def engagement_calendar(session: Session, caller: Caller, catalog: Catalog, engagement_id: int, now: datetime,
                        locale: str) -> bytes:
    """The whole engagement's calendar; 404 for a caller who may not see the engagement."""
    engagement = visible_engagement(session, caller, engagement_id)
    facts = load_facts(session.connection(), [engagement.id], now)[engagement.id]
    playbook = catalog.pinned(session, engagement.playbook_sha256)
    entries = feed.engagement_entries(playbook, facts, locale=locale, now=now)
    title = texts.text(locale, "calendar.engagement", organization=facts.organization.name)
    return feed.calendar_bytes(title, facts.organization.timezone, entries)


def person_calendar(session: Session, catalog: Catalog, raw_token: str, now: datetime, lang: str | None) -> bytes:
    """What concerns the token's person in every engagement of their organization, in their language."""
    person = _person_by_token(session, raw_token)
    organization = session.get(Organization, person.organization_id)
    if organization is None:
        raise NotFound("no calendar feed here")
    locale = texts.negotiate_locale(lang, None, person.locale)
    engagements = list(session.scalars(queries.engagements_of(organization.id)))
    entries: list[feed.Entry] = []
    if engagements:
        facts = load_facts(session.connection(), [e.id for e in engagements], now)
        for engagement in engagements:
            playbook = catalog.pinned(session, engagement.playbook_sha256)
            entries.extend(feed.engagement_entries(playbook, facts[engagement.id], locale=locale, now=now,
                                                   person_id=person.id))
    title = texts.text(locale, "calendar.person", person=person.name, organization=organization.name)
    return feed.calendar_bytes(title, organization.timezone, entries)


def issue_feed(session: Session, caller: Caller, organization_id: int, person_id: int, now: datetime,
               public_url: str) -> IssuedFeed:
    """A new secret feed URL for the person; an earlier one stops working."""
    person = _person_of(session, caller, organization_id, person_id)
    raw = FEED_TOKEN_PREFIX + secrets.token_urlsafe(32)
    rotated = person.calendar_token is not None
    person.calendar_token = hash_token(raw)
    session.flush()
    # The event says that a feed was issued, never its secret: events are delivered to the CRM.
    events.append(session, type="person.calendar_feed_issued", actor=caller.actor, at=now,
                  organization_id=person.organization_id, payload={"person_id": person.id, "rotated": rotated})
    return IssuedFeed(person.id, feed_url(public_url, raw), rotated, now)


def revoke_feed(session: Session, caller: Caller, organization_id: int, person_id: int, now: datetime) -> None:
    """The person's feed URL stops working and none replaces it (idempotent)."""
    person = _person_of(session, caller, organization_id, person_id)
    if person.calendar_token is None:
        return
    person.calendar_token = None
    session.flush()
    events.append(session, type="person.calendar_feed_revoked", actor=caller.actor, at=now,
                  organization_id=person.organization_id, payload={"person_id": person.id})


def feed_url(public_url: str, raw_token: str) -> str:
    return public_url.rstrip("/") + FEED_PATH.format(token=raw_token)


def _person_of(session: Session, caller: Caller, organization_id: int, person_id: int) -> Person:
    organization = visible_organization(session, caller, organization_id)
    person = session.get(Person, person_id)
    if person is None or person.organization_id != organization.id:
        raise NotFound(f"organization {organization.id} has no person {person_id}")
    return person


def _person_by_token(session: Session, raw_token: str) -> Person:
    person = None
    if raw_token.startswith(FEED_TOKEN_PREFIX):
        person = session.scalar(queries.person_with_feed(hash_token(raw_token)))
    if person is None or person.organization_id is None:
        # The same answer for a malformed, unknown or rotated token: nothing tells them apart.
        raise NotFound("no calendar feed here")
    return person
