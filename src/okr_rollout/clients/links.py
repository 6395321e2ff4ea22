"""Sign-in links for the people of a client organization: sent by a coach, single-use, expiring, revocable,
rate-limited, and stored as a SHA-256 only. Opening one signs its person in, bound to that person of that
organization (a login of role ``client``, which sees its own page only). Flushes, never commits."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import quote

from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.auth.visibility import visible_engagement
from okr_rollout.clients import queries
from okr_rollout.errors import NotFound, ProblemError, not_found
from okr_rollout.events import service as events
from okr_rollout.models import ClientLink, Notification, Organization, Person, User
from okr_rollout.notifications import messages
from okr_rollout.settings import Settings
from okr_rollout.texts import LocalizedText
from okr_rollout.users import service as users

LINK_PATH = "/link/"
ISSUED, USED, REVOKED = "client_link.issued", "client_link.used", "client_link.revoked"
# The senders of links: the firm's coaches and the organization's internal coaches (and an administrator).
SENDERS = (Role.admin, Role.coach, Role.internal_coach)
# A client login has no password anyone could type: this is no PHC string, so no password ever matches it.
NO_PASSWORD = "!sign-in-link-only"
LINKS_SHOWN = 50

Refusal = Literal["unknown", "used", "expired", "revoked", "throttled"]


class TooManyLinks(ProblemError):
    status, title, slug = 429, LocalizedText("Too many requests", "請求過多"), "too-many-requests"


def hash_link(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def link_url(public_url: str, raw: str) -> str:
    return f"{public_url.rstrip('/')}{LINK_PATH}{quote(raw)}"


@dataclass(frozen=True)
class IssuedLink:
    link: ClientLink
    person: Person
    url: str  # shown once, to be printed or passed on; never stored
    emailed: bool


@dataclass(frozen=True)
class LinkRow:
    id: int
    person_name: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    state: Literal["live", "used", "expired", "revoked"]


def _require_sender(caller: Caller) -> None:
    if caller.role not in SENDERS:
        raise NotFound(LocalizedText("There is nothing here.", "此處沒有任何資源。"))


def issue_link(session: Session, caller: Caller, settings: Settings, engagement_id: int, person_id: int,
               now: datetime, *, send_email: bool = True) -> IssuedLink:
    """A new link for ``person_id``, a person of the engagement's organization (anyone else: 404), e-mailed to
    them when they have an address and mail is configured; at most ``client_link_issue_limit`` an hour each."""
    _require_sender(caller)
    engagement = visible_engagement(session, caller, engagement_id)
    person = session.get(Person, person_id)
    if person is None or person.organization_id != engagement.organization_id:
        raise not_found(LocalizedText("person of this organization", "此組織的人員"))
    admission = users.admit_buckets(session, (("link_issue", users.bucket_key(f"person:{person.id}"),
                                               settings.client_link_issue_limit),), now)
    if admission.refused:
        minutes = max(1, (admission.retry_after + 59) // 60)
        raise TooManyLinks(LocalizedText(
            f"{person.name} was sent {settings.client_link_issue_limit} links in the last hour; send another in "
            f"{minutes} minutes, or revoke one and pass on the newest.",
            f"過去一小時內已寄給 {person.name} {settings.client_link_issue_limit} 個連結;請於 {minutes} 分鐘後再寄,"
            "或撤銷舊連結並轉交最新的連結。"), extra={"retry_after": admission.retry_after})
    raw = secrets.token_urlsafe(32)  # 256 bits
    link = ClientLink(token_hash=hash_link(raw), person_id=person.id, organization_id=engagement.organization_id,
                      created_by=caller.actor[:400], created_at=now,
                      expires_at=now + timedelta(days=settings.client_link_days))
    session.add(link)
    session.flush()
    url = link_url(settings.public_url, raw)
    emailed = False
    if send_email and settings.smtp_host and person.email:
        organization = session.get(Organization, engagement.organization_id)
        rendered = messages.render_client_link(
            person.name, person.locale, sender=_sender_name(session, caller), url=url, expires_at=link.expires_at,
            context=messages.Context(organization.name if organization else "", organization.timezone
                                     if organization else "UTC", settings.public_url))
        session.add(Notification(engagement_id=engagement.id, person_id=person.id, channel="email",
                                 locale=rendered.locale, subject=rendered.subject, body=rendered.body,
                                 status="pending", attempts=0, next_attempt_at=now, created_at=now))
        session.flush()
        emailed = True
    events.append(session, type=ISSUED, actor=caller.actor, at=now, organization_id=engagement.organization_id,
                  engagement_id=engagement.id,
                  payload={"link_id": link.id, "person_id": person.id, "person": person.name,
                           "expires_at": link.expires_at.isoformat(), "emailed": emailed})
    return IssuedLink(link, person, url, emailed)


def _sender_name(session: Session, caller: Caller) -> str:
    person = session.get(Person, caller.person_id) if caller.person_id else None
    return person.name if person is not None else caller.name


def revoke_link(session: Session, caller: Caller, engagement_id: int, link_id: int, now: datetime) -> ClientLink:
    """Revoke a link of the engagement's organization (it stops working at once); again: nothing changes."""
    _require_sender(caller)
    engagement = visible_engagement(session, caller, engagement_id)
    link = session.get(ClientLink, link_id)
    if link is None or link.organization_id != engagement.organization_id:
        raise not_found(LocalizedText("sign-in link", "登入連結"))
    if link.revoked_at is None:
        link.revoked_at = now
        session.flush()
        events.append(session, type=REVOKED, actor=caller.actor, at=now, organization_id=link.organization_id,
                      engagement_id=engagement.id, payload={"link_id": link.id, "person_id": link.person_id})
    return link


def links_of(session: Session, caller: Caller, engagement_id: int, now: datetime) -> list[LinkRow]:
    """The organization's links, newest first, each with its state."""
    _require_sender(caller)
    engagement = visible_engagement(session, caller, engagement_id)
    rows = []
    for link, name in session.execute(queries.links_of_organization(engagement.organization_id, LINKS_SHOWN)):
        rows.append(LinkRow(link.id, name, link.created_by, link.created_at, link.expires_at, state_of(link, now)))
    return rows


def people_to_invite(session: Session, caller: Caller, engagement_id: int) -> list[Person]:
    _require_sender(caller)
    engagement = visible_engagement(session, caller, engagement_id)
    return list(session.scalars(queries.people_of_organization(engagement.organization_id)))


def state_of(link: ClientLink, now: datetime) -> Literal["live", "used", "expired", "revoked"]:
    if link.revoked_at is not None:
        return "revoked"
    if link.used_at is not None:
        return "used"
    if link.expires_at <= now:
        return "expired"
    return "live"


# --- opening a link ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """What opening a link found: the link's person (when it may be used), or why it is refused."""

    refusal: Refusal | None
    person: Person | None = None
    link_id: int | None = None
    retry_after: int = 0


def look_up(session: Session, raw: str, now: datetime) -> Opened:
    """Whether ``raw`` is a link that may be used now (nothing is written: a preview by a mail scanner uses
    nothing up)."""
    link = session.scalar(queries.link_with_hash(hash_link(raw))) if raw else None
    if link is None:
        return Opened("unknown")
    state = state_of(link, now)
    if state != "live":
        return Opened(state)
    return Opened(None, session.get(Person, link.person_id), link.id)


def redeem(session: Session, raw: str, client_address: str, settings: Settings, now: datetime
           ) -> tuple[Opened, User | None]:
    """Use the link ``raw`` once: its person's client login (made the first time), or why not. A refusal counts
    against the client address (at most ``client_link_open_failures`` an hour), so links cannot be guessed in
    bulk even at 256 bits, and a throttled address is refused before the link is even looked at."""
    admission = users.admit_buckets(session, (("link", users.bucket_key(client_address),
                                               settings.client_link_open_failures),), now)
    if admission.refused:
        return Opened("throttled", retry_after=admission.retry_after), None
    opened = look_up(session, raw, now)
    if opened.refusal is not None or opened.person is None or opened.link_id is None:
        return opened, None
    used = session.execute(queries.use_link(opened.link_id, now))
    if getattr(used, "rowcount", 0) != 1:  # used at the same moment, in another browser
        return Opened("used"), None
    users.conclude_sign_in(session, admission, users.Verdict(None))  # a good link is no failure
    person = opened.person
    user = session.scalar(queries.client_user_of(person.id))
    if user is None:
        user = User(email=f"client-{person.id}@sign-in-link.invalid", password_hash=NO_PASSWORD,
                    role=Role.client.value, person_id=person.id, organization_id=person.organization_id,
                    created_at=now)
        session.add(user)
        session.flush()
    caller = users.caller_of(user, person)
    events.append(session, type=USED, actor=caller.actor, at=now, organization_id=person.organization_id,
                  payload={"link_id": opened.link_id, "person_id": person.id})
    return opened, user
