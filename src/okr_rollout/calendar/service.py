"""Calendar feeds: an engagement's calendar for those who see it, and a person's feeds at secret URLs.

A person's feed holds what that person takes part in: the meetings they attend, the training they attend, their
drafting groups and recurring pilot meetings, and the quarter ends of the engagements they take part in; never an
engagement of their organization they have no part in. Only the person (a token or login bound to them), an
internal coach of their organization or an administrator may issue, list or revoke their feeds: an external
coach sees only the engagements they coach, and a feed is read with no questions asked.

Each feed's secret is stored hashed in ``calendar_feeds`` (like API tokens): the URL is shown once, when it is
issued. A person may hold several (a phone, a laptop, a shared calendar); issuing one leaves the others working,
revoking one stops only that one. The feed itself is read with no bearer token, because calendar clients cannot
send one; the secret in the URL is the credential.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.auth.service import hash_token
from okr_rollout.auth.visibility import visible_engagement, visible_organization
from okr_rollout.calendar import feed, queries, texts
from okr_rollout.catalog.service import Catalog
from okr_rollout.errors import NotFound, not_found
from okr_rollout.events import service as events
from okr_rollout.facts import load_facts
from okr_rollout.models import CalendarFeed, Organization, Person
from okr_rollout.playbooks import LoadedPlaybook, UnknownPlaybook
from okr_rollout.playbooks.schema import ParameterValue
from okr_rollout.texts import LocalizedText

FEED_TOKEN_PREFIX = "cal_"
FEED_PATH = "/api/v1/calendar/{token}.ics"


@dataclass(frozen=True, slots=True)
class IssuedFeed:
    id: int
    person_id: int
    url: str
    issued_at: datetime

    @property
    def webcal_url(self) -> str:
        """The same URL for calendar apps that subscribe to webcal:// links (they fetch it over https)."""
        return "webcal://" + self.url.partition("://")[2]


def installation_id(session: Session, now: datetime) -> str:
    """This installation's id, made the first time it is asked for and kept in the database for good."""
    found = session.scalar(queries.installation_id())
    if found is None:
        session.execute(queries.make_installation(session.get_bind().dialect.name, uuid.uuid4().hex, now))
        found = session.scalar(queries.installation_id())
        assert found is not None  # ours, or the one a concurrent first request made
    return found


def current_parameters(catalog: Catalog, pinned: LoadedPlaybook) -> Mapping[str, ParameterValue]:
    """The parameters of the current version of a pinned playbook (for those added since it was pinned)."""
    try:
        return catalog.current(pinned.id).parameters
    except UnknownPlaybook:  # no longer in the catalog: the pinned version is all there is
        return {}


def engagement_calendar(session: Session, caller: Caller, catalog: Catalog, engagement_id: int, now: datetime,
                        locale: str) -> bytes:
    """The whole engagement's calendar; 404 for a caller who may not see the engagement."""
    engagement = visible_engagement(session, caller, engagement_id)
    facts = load_facts(session.connection(), [engagement.id], now)[engagement.id]
    playbook = catalog.pinned(session, engagement.playbook_sha256)
    entries = feed.engagement_entries(playbook, facts, locale=locale, now=now,
                                      installation=installation_id(session, now),
                                      defaults=current_parameters(catalog, playbook))
    title = texts.text(locale, "calendar.engagement", organization=facts.organization.name)
    return feed.calendar_bytes(title, facts.organization.timezone, entries)


def person_calendar(session: Session, catalog: Catalog, raw_token: str, now: datetime, lang: str | None) -> bytes:
    """What the token's person takes part in, in the engagements of their organization, in their language."""
    person = _person_by_token(session, raw_token)
    organization = session.get(Organization, person.organization_id)
    if organization is None:
        raise NotFound(LocalizedText("There is no calendar feed here.", "此處沒有行事曆訂閱。"))
    locale = texts.negotiate_locale(lang, None, person.locale)
    engagements = list(session.scalars(queries.engagements_of(organization.id)))
    entries: list[feed.Entry] = []
    installation = installation_id(session, now)
    if engagements:
        facts = load_facts(session.connection(), [e.id for e in engagements], now)
        for engagement in engagements:
            playbook = catalog.pinned(session, engagement.playbook_sha256)
            entries.extend(feed.engagement_entries(playbook, facts[engagement.id], locale=locale, now=now,
                                                   installation=installation, person_id=person.id,
                                                   defaults=current_parameters(catalog, playbook)))
    title = texts.text(locale, "calendar.person", person=person.name, organization=organization.name)
    return feed.calendar_bytes(title, organization.timezone, entries)


def issue_feed(session: Session, caller: Caller, organization_id: int, person_id: int, now: datetime,
               public_url: str) -> IssuedFeed:
    """A new secret feed URL for the person; the URLs issued before keep working."""
    person = _feed_holder(session, caller, organization_id, person_id)
    raw = FEED_TOKEN_PREFIX + secrets.token_urlsafe(32)
    issued = CalendarFeed(person_id=person.id, token_hash=hash_token(raw), created_at=now)
    session.add(issued)
    session.flush()
    # The event says that a feed was issued, never its secret: events are delivered to the CRM.
    events.append(session, type="person.calendar_feed_issued", actor=caller.actor, at=now,
                  organization_id=person.organization_id, payload={"person_id": person.id, "feed_id": issued.id})
    return IssuedFeed(issued.id, person.id, feed_url(public_url, raw), now)


def feeds_of(session: Session, caller: Caller, organization_id: int, person_id: int) -> list[CalendarFeed]:
    """The person's live feeds (when each was issued; never a secret, which is not kept)."""
    person = _feed_holder(session, caller, organization_id, person_id)
    return list(session.scalars(queries.feeds_of(person.id)))


def revoke_feed(session: Session, caller: Caller, organization_id: int, person_id: int, feed_id: int,
                now: datetime) -> None:
    """One feed URL of the person stops working; the others keep working. 404 for a feed not theirs."""
    person = _feed_holder(session, caller, organization_id, person_id)
    revoked = session.scalar(queries.feed_of(person.id, feed_id))
    if revoked is None:
        raise not_found(LocalizedText("calendar feed", "行事曆訂閱"))
    _revoke(session, caller, person, [revoked.id], now)


def revoke_feeds(session: Session, caller: Caller, organization_id: int, person_id: int, now: datetime) -> None:
    """Every feed URL of the person stops working (idempotent)."""
    person = _feed_holder(session, caller, organization_id, person_id)
    _revoke(session, caller, person, [f.id for f in session.scalars(queries.feeds_of(person.id))], now)


def feed_url(public_url: str, raw_token: str) -> str:
    return public_url.rstrip("/") + FEED_PATH.format(token=raw_token)


def may_manage_feeds(caller: Caller, person: Person) -> bool:
    """The person themself, an internal coach of their organization, or an administrator: a feed shows what the
    person takes part in across the organization, more than an external coach of one engagement may see."""
    if caller.role == Role.admin:
        return True
    if caller.person_id is not None and caller.person_id == person.id:
        return True
    return caller.role == Role.internal_coach and caller.organization_id == person.organization_id


def _revoke(session: Session, caller: Caller, person: Person, feed_ids: list[int], now: datetime) -> None:
    if not feed_ids:
        return
    session.execute(queries.delete_feeds(feed_ids))
    for feed_id in feed_ids:
        events.append(session, type="person.calendar_feed_revoked", actor=caller.actor, at=now,
                      organization_id=person.organization_id, payload={"person_id": person.id, "feed_id": feed_id})


def _feed_holder(session: Session, caller: Caller, organization_id: int, person_id: int) -> Person:
    organization = visible_organization(session, caller, organization_id)
    person = session.get(Person, person_id)
    if person is None or person.organization_id != organization.id:
        raise not_found(LocalizedText("person", "人員"))
    if not may_manage_feeds(caller, person):
        # Like anything a caller may not act on: 404, the same as for a person they cannot see.
        raise not_found(LocalizedText("person whose calendar feeds you manage", "您可管理其行事曆訂閱的人員"))
    return person


def _person_by_token(session: Session, raw_token: str) -> Person:
    person = None
    if raw_token.startswith(FEED_TOKEN_PREFIX):
        person = session.scalar(queries.person_with_feed(hash_token(raw_token)))
    if person is None or person.organization_id is None:
        # The same answer for a malformed, unknown or revoked token: nothing tells them apart.
        raise NotFound(LocalizedText("There is no calendar feed here.", "此處沒有行事曆訂閱。"))
    return person
