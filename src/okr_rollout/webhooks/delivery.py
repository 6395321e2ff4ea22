"""Delivery of the event outbox to webhook subscriptions, signed the Standard Webhooks way.

Each subscription reads the events table past its own cursor, in id order, and sends one event at a time:
the next is sent only once the previous one succeeded, so a receiver sees events in the order they happened.
No database transaction is open while a request is in flight (a slow receiver must not hold SQLite's write
lock): the event is planned in a short read, sent, then the attempt is recorded in a short write, which
moves the cursor only if nobody changed the subscription meanwhile (a replay, a delete). At least once: a
crash between the send and the record sends the event again, under the same webhook-id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus

import httpx
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from okr_rollout.db import session_scope
from okr_rollout.models import Event, WebhookAttempt, WebhookSubscription
from okr_rollout.settings import Settings
from okr_rollout.webhooks import guard, queries
from okr_rollout.webhooks.mapping import internal_types_for, public_event_type
from okr_rollout.webhooks.service import FAILING, GONE, disable

logger = logging.getLogger(__name__)

# The Standard Webhooks retry schedule: the wait before attempt n+1 after n failures in a row (the first
# attempt is immediate). Past its end, the last step repeats.
RETRY_SCHEDULE = (
    timedelta(0), timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
    timedelta(hours=5), timedelta(hours=10), timedelta(hours=14), timedelta(hours=20), timedelta(hours=24),
)
# Statuses whose Retry-After header says when to come back (the others follow the schedule).
RETRY_AFTER_STATUSES = frozenset({HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.BAD_GATEWAY,
                                  HTTPStatus.SERVICE_UNAVAILABLE, HTTPStatus.GATEWAY_TIMEOUT})
USER_AGENT = "okr-rollout-webhooks"


@dataclass(frozen=True, slots=True)
class Planned:
    """The next event for one subscription, ready to send (copied out of the read's session)."""

    subscription_id: int
    version: int
    url: str
    secret: str
    event_id: int
    webhook_id: str
    body: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Skip:
    """No subscribed event up to ``to``: the cursor moves there without sending anything."""

    subscription_id: int
    version: int
    to: int


@dataclass(frozen=True, slots=True)
class Outcome:
    succeeded: bool
    status_code: int | None = None
    error: str | None = None
    retry_after: timedelta | None = None
    duration_ms: int = 0


def webhook_id(secret: str, subscription_id: int, event_id: int) -> str:
    """The webhook-id of one event for one subscription: the same on every retry and replay, so receivers can
    deduplicate, and not guessable or shared across subscriptions (it is keyed by the subscription's secret)."""
    digest = hmac.new(secret.encode(), f"{subscription_id}.{event_id}".encode(), hashlib.sha256).hexdigest()
    return f"msg_{digest[:32]}"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def message_body(event: Event, public_type: str) -> str:
    """The Standard Webhooks JSON document of one event."""
    data: dict[str, object] = {"event_id": event.id, "organization_id": event.organization_id,
                               "engagement_id": event.engagement_id, "actor": event.actor}
    # The event's own payload follows; it may not overwrite the envelope's fields.
    data.update({key: value for key, value in (event.payload or {}).items() if key not in data})
    document = {"type": public_type, "timestamp": rfc3339(event.occurred_at), "data": data}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str)


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A Retry-After header (seconds or an HTTP date) as a wait from ``now``; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


def retry_delay(failures: int, after: timedelta | None, jitter: float) -> timedelta:
    """How long to wait after ``failures`` failures in a row. Retry-After wins (but never parks delivery past
    the schedule's longest step); otherwise the schedule, stretched by a random part of ``jitter``."""
    if after is not None:
        return min(after, RETRY_SCHEDULE[-1])
    step = RETRY_SCHEDULE[min(failures, len(RETRY_SCHEDULE) - 1)]
    return step * (1 + random.random() * jitter)  # not a secret: spreading retries needs no strong randomness


def due_subscriptions(session: Session, now: datetime) -> list[int]:
    return list(session.scalars(queries.due_subscription_ids(now)))


def plan(session: Session, subscription_id: int, now: datetime, scan: int) -> Planned | Skip | None:
    """The next thing to do for one subscription: send an event, move past unsubscribed ones, or nothing."""
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None or not subscription.enabled:
        return None
    if subscription.next_attempt_at is not None and subscription.next_attempt_at > now:
        return None
    # The end of the history is read first, then the events up to it. An event committed after that read
    # has a higher id (events.append makes writers take ids in commit order), so it is met on a later
    # pass and never passed over; a transaction that rolls back leaves nothing to meet.
    end = session.scalar(queries.last_event_id()) or 0
    if end <= subscription.cursor:
        return None
    rows = list(session.scalars(
        queries.events_after(subscription.cursor, end, internal_types_for(subscription.event_types), scan)))
    for event in rows:
        public_type = public_event_type(event.type, event.payload or {})
        if public_type is not None and public_type in subscription.event_types:
            return Planned(subscription_id=subscription.id, version=subscription.version, url=subscription.url,
                           secret=subscription.secret, event_id=event.id,
                           webhook_id=webhook_id(subscription.secret, subscription.id, event.id),
                           body=message_body(event, public_type), attempt=subscription.retry_count + 1)
    # Nothing subscribed in this stretch: a full page ends at its last row, a short one at the end.
    return Skip(subscription.id, subscription.version, rows[-1].id if len(rows) == scan else end)


def send(client: httpx.Client, settings: Settings, planned: Planned, now: datetime) -> Outcome:
    try:
        guard.check_url(planned.url, allow_private=settings.webhooks_allow_private)
    except guard.RefusedAddress as refused:
        return Outcome(False, error=f"not sent: {refused}")
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": planned.webhook_id,
        "webhook-timestamp": str(math.floor(now.timestamp())),
        "webhook-signature": Webhook(planned.secret).sign(planned.webhook_id, now.astimezone(UTC), planned.body),
    }
    started = time.monotonic()
    try:
        request = client.build_request("POST", planned.url, content=planned.body.encode(), headers=headers,
                                       timeout=settings.webhook_timeout_seconds)
        response = client.send(request, follow_redirects=False, stream=True)
    except httpx.TimeoutException:
        return Outcome(False, error=f"no answer within {settings.webhook_timeout_seconds:g} s",
                       duration_ms=_since(started))
    except (httpx.HTTPError, httpx.InvalidURL) as failure:
        return Outcome(False, error=f"{type(failure).__name__}: {failure}", duration_ms=_since(started))
    response.close()  # the body is not needed, and a receiver may not make us read megabytes of it
    code = response.status_code
    if response.is_success:
        return Outcome(True, code, duration_ms=_since(started))
    if response.is_redirect:
        error = f"HTTP {code}: redirects are not followed (to {response.headers.get('location', '?')})"
    else:
        error = f"HTTP {code}"
    after = retry_after(response.headers.get("retry-after"), now) if code in RETRY_AFTER_STATUSES else None
    return Outcome(False, code, error, after, _since(started))


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def record(session: Session, settings: Settings, planned: Planned, outcome: Outcome, now: datetime) -> bool:
    """Record one attempt and move the subscription on; True when its next event may be sent in this pass."""
    subscription = session.get(WebhookSubscription, planned.subscription_id)
    if subscription is None:
        return False  # deleted while the request was in flight; its attempts went with it
    session.add(WebhookAttempt(subscription_id=subscription.id, event_id=planned.event_id,
                               webhook_id=planned.webhook_id, attempt=planned.attempt,
                               status_code=outcome.status_code, error=outcome.error, succeeded=outcome.succeeded,
                               duration_ms=outcome.duration_ms, attempted_at=now))
    if subscription.version != planned.version:
        return False  # replayed or changed meanwhile: the attempt is history, the cursor is not ours to move
    if outcome.succeeded:
        subscription.cursor = planned.event_id
        subscription.retry_count = 0
        subscription.failing_since = None
        subscription.next_attempt_at = None
        return True
    subscription.cursor = max(subscription.cursor, planned.event_id - 1)  # what came before was not wanted
    subscription.retry_count += 1
    subscription.failing_since = subscription.failing_since or now
    failing_for = now - subscription.failing_since
    if outcome.status_code == HTTPStatus.GONE:
        disable(session, subscription, GONE, now, event_id=planned.event_id, status_code=outcome.status_code)
    elif (subscription.retry_count >= settings.webhook_disable_after_failures
          and failing_for >= timedelta(hours=settings.webhook_disable_after_hours)):
        disable(session, subscription, FAILING, now, event_id=planned.event_id,
                failing_since=rfc3339(subscription.failing_since), last_error=outcome.error)
    else:
        subscription.next_attempt_at = now + retry_delay(subscription.retry_count, outcome.retry_after,
                                                         settings.webhook_retry_jitter)
    return False


def skip(session: Session, step: Skip) -> bool:
    subscription = session.get(WebhookSubscription, step.subscription_id)
    if subscription is None or subscription.version != step.version:
        return False
    subscription.cursor = max(subscription.cursor, step.to)
    return True


def deliver_subscription(session_factory: sessionmaker[Session], settings: Settings, now: datetime,
                         client: httpx.Client, subscription_id: int) -> int:
    """Up to a batch of steps for one subscription, stopping at the first failure; the successes."""
    delivered = 0
    for _ in range(settings.webhook_batch_size):
        with session_scope(session_factory, write=False) as session:
            step = plan(session, subscription_id, now, settings.webhook_batch_size)
        if step is None:
            break
        if isinstance(step, Skip):
            with session_scope(session_factory) as session:
                if not skip(session, step):
                    break
            continue
        outcome = send(client, settings, step, now)
        with session_scope(session_factory) as session:  # one commit per attempt
            go_on = record(session, settings, step, outcome, now)
        delivered += outcome.succeeded
        if not go_on:
            break
    return delivered


def deliver_pending(session_factory: sessionmaker[Session], settings: Settings, now: datetime,
                    client: httpx.Client | None = None) -> int:
    """One delivery pass over every subscription that is due; returns the number of events delivered."""
    own_client = client is None
    http = client or httpx.Client(transport=guard.transport(allow_private=settings.webhooks_allow_private),
                                  timeout=settings.webhook_timeout_seconds, follow_redirects=False,
                                  trust_env=False)
    delivered = 0
    try:
        with session_scope(session_factory, write=False) as session:
            due = due_subscriptions(session, now)
        for subscription_id in due:
            try:
                delivered += deliver_subscription(session_factory, settings, now, http, subscription_id)
            except Exception:
                # One subscription's trouble (a bug, a lost database connection) must not starve the others.
                logger.exception("webhook delivery to subscription %s failed", subscription_id)
    finally:
        if own_client:
            http.close()
    return delivered
