"""Delivery of the event outbox to webhook subscriptions, signed the Standard Webhooks way.

Each subscription reads the events table past its own cursor, in id order, and sends one event at a time:
the next is sent only once the previous one succeeded, so a receiver sees events in the order they happened.
Subscriptions do not wait for each other: each is delivered by its own task in a bounded pool of threads
(``webhook_concurrency``), one task per subscription at a time, so a slow or failing receiver holds only its
own thread. Each message is stamped and signed when it is sent, not when its batch was planned: a receiver
checks the webhook-timestamp against its own clock on arrival, however long the messages before it took.

A task works in batches: one short read plans up to ``webhook_batch_size`` events (plain rows, the
subscription read once), they are sent over the worker's one HTTP client (one connection pool, one SSL
context), then one short write records every attempt and moves the cursor. No database transaction is open
while a request is in flight (a slow receiver must not hold SQLite's write lock). The write locks the
subscription's row and moves the cursor only if nobody changed the subscription meanwhile (a replay, a
delete); a replay waits for that lock too, so neither fails on the version the other changed, and the
attempts are recorded either way. At least once: a crash between the send and the record sends the events
again, under the same webhook-ids.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

import httpx
from sqlalchemy import Row, insert
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from okr_rollout.db import session_scope
from okr_rollout.models import WebhookAttempt
from okr_rollout.settings import Settings
from okr_rollout.webhooks import guard, queries
from okr_rollout.webhooks.mapping import internal_types_for, public_event_type, wants
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
SHORT_BODY_BYTES = 64 * 1024  # an answer's body up to this size is read to keep the connection alive


@dataclass(frozen=True, slots=True)
class Message:
    """One event as one subscription receives it."""

    event_id: int
    webhook_id: str
    body: str


@dataclass(frozen=True, slots=True)
class Batch:
    """What one subscription is sent next, planned in one read (copied out of the read's session)."""

    subscription_id: int
    version: int
    url: str
    secret: str
    first_attempt: int  # the attempt number of the first message (its earlier failures + 1)
    messages: tuple[Message, ...]  # in history order; empty: nothing subscribed up to ``end``
    end: int  # the cursor once every message succeeded
    full: bool  # the read stopped at the batch size: more may follow


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


@dataclass(frozen=True, slots=True)
class Sent:
    message: Message
    outcome: Outcome
    attempted_at: datetime


def message_body(event: Row[tuple[int, str, datetime, int | None, int | None, str, dict[str, Any]]],
                 public_type: str) -> str:
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


def plan(session: Session, subscription_id: int, now: datetime, size: int) -> Batch | None:
    """The next batch of one subscription: up to ``size`` events read once, or None when nothing is due."""
    subscription = session.scalar(queries.subscription_by_id(subscription_id))
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
    subscribed = list(subscription.event_types)
    rows = session.execute(queries.events_after(subscription.cursor, end, internal_types_for(subscribed),
                                                size)).all()
    messages: list[Message] = []
    for row in rows:
        public_type = public_event_type(row.type, row.payload or {})
        if public_type is not None and wants(subscribed, public_type):
            messages.append(Message(row.id, webhook_id(subscription.secret, subscription.id, row.id),
                                    message_body(row, public_type)))
    full = len(rows) == size
    # A full read ends at its last row (more may follow), a short one at the end of the history.
    return Batch(subscription_id=subscription.id, version=subscription.version, url=subscription.url,
                 secret=subscription.secret, first_attempt=subscription.retry_count + 1, messages=tuple(messages),
                 end=rows[-1].id if full else end, full=full)


def send(client: httpx.Client, settings: Settings, url: str, signer: Webhook, message: Message,
         now: datetime) -> Outcome:
    """One POST, stamped and signed at ``now`` (the moment it is sent)."""
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message.webhook_id,
        "webhook-timestamp": str(math.floor(now.timestamp())),
        "webhook-signature": signer.sign(message.webhook_id, now.astimezone(UTC), message.body),
    }
    started = time.monotonic()
    try:
        request = client.build_request("POST", url, content=message.body.encode(), headers=headers,
                                       timeout=settings.webhook_timeout_seconds)
        response = client.send(request, follow_redirects=False, stream=True)
    except httpx.TimeoutException:
        return Outcome(False, error=f"no answer within {settings.webhook_timeout_seconds:g} s",
                       duration_ms=_since(started))
    except (httpx.HTTPError, httpx.InvalidURL) as failure:
        return Outcome(False, error=f"{type(failure).__name__}: {failure}", duration_ms=_since(started))
    # The body is not needed, and a receiver may not make us read megabytes of it; a short one is read, so that
    # the connection is kept for the next message instead of being closed half-read.
    if 0 <= _content_length(response) <= SHORT_BODY_BYTES:
        with contextlib.suppress(httpx.HTTPError):  # the status is what counts; a cut body closes the connection
            response.read()
    response.close()
    code = response.status_code
    if response.is_success:
        return Outcome(True, code, duration_ms=_since(started))
    if response.is_redirect:
        error = f"HTTP {code}: redirects are not followed (to {response.headers.get('location', '?')})"
    else:
        error = f"HTTP {code}"
    after = retry_after(response.headers.get("retry-after"), now) if code in RETRY_AFTER_STATUSES else None
    return Outcome(False, code, error, after, _since(started))


def _content_length(response: httpx.Response) -> int:
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else -1


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def send_batch(client: httpx.Client, settings: Settings, batch: Batch, clock: Callable[[], datetime],
               pace: Callable[[], None], stopping: Callable[[], bool] = lambda: False) -> list[Sent]:
    """Send the batch's messages in order, each when its turn comes, up to the first that fails (or until
    ``stopping``: a worker shutting down records what it sent rather than wait for a slow receiver's rest)."""
    if not batch.messages:
        return []
    try:
        guard.check_url(batch.url, allow_private=settings.webhooks_allow_private)
    except guard.RefusedAddress as refused:
        return [Sent(batch.messages[0], Outcome(False, error=f"not sent: {refused}"), clock())]
    signer = Webhook(batch.secret)
    sent: list[Sent] = []
    for message in batch.messages:
        pace()
        if stopping():
            break
        at = clock()
        outcome = send(client, settings, batch.url, signer, message, at)
        sent.append(Sent(message, outcome, at))
        if not outcome.succeeded:
            break
    return sent


def record(session: Session, settings: Settings, batch: Batch, sent: list[Sent]) -> bool:
    """Record a batch's attempts and move the subscription on; True when its next batch may follow now. Times
    are the attempts' own (a retry is due counted from the failed attempt)."""
    subscription = session.scalar(queries.subscription_by_id(batch.subscription_id, lock=True))
    if subscription is None:
        return False  # deleted while the requests were in flight; its attempts went with it
    if sent:  # one multi-row insert for the batch
        session.execute(insert(WebhookAttempt), [
            {"subscription_id": subscription.id, "event_id": done.message.event_id,
             "webhook_id": done.message.webhook_id, "attempt": batch.first_attempt if number == 0 else 1,
             "status_code": done.outcome.status_code, "error": done.outcome.error,
             "succeeded": done.outcome.succeeded, "duration_ms": done.outcome.duration_ms,
             "attempted_at": done.attempted_at} for number, done in enumerate(sent)])
    if subscription.version != batch.version:
        return False  # replayed or changed meanwhile: the attempts are history, the cursor is not ours to move
    failed = next((done for done in sent if not done.outcome.succeeded), None)
    if failed is None:
        cut_short = len(sent) < len(batch.messages)  # a worker stopping: the rest was never sent
        reached = (sent[-1].message.event_id if sent else subscription.cursor) if cut_short else batch.end
        subscription.cursor = max(subscription.cursor, reached)
        if sent:
            subscription.retry_count = 0
            subscription.failing_since = None
            subscription.next_attempt_at = None
        return batch.full and not cut_short
    at, outcome, event_id = failed.attempted_at, failed.outcome, failed.message.event_id
    subscription.cursor = max(subscription.cursor, event_id - 1)  # what came before was sent or not wanted
    subscription.retry_count = (subscription.retry_count + 1) if failed is sent[0] else 1
    subscription.failing_since = (subscription.failing_since or at) if failed is sent[0] else at
    failing_for = at - subscription.failing_since
    if outcome.status_code == HTTPStatus.GONE:
        disable(session, subscription, GONE, at, event_id=event_id, status_code=outcome.status_code)
    elif (subscription.retry_count >= settings.webhook_disable_after_failures
          and failing_for >= timedelta(hours=settings.webhook_disable_after_hours)):
        disable(session, subscription, FAILING, at, event_id=event_id,
                failing_since=rfc3339(subscription.failing_since), last_error=outcome.error)
    else:
        subscription.next_attempt_at = at + retry_delay(subscription.retry_count, outcome.retry_after,
                                                        settings.webhook_retry_jitter)
    return False


def http_client(settings: Settings) -> httpx.Client:
    """The HTTP client of one worker: one connection pool and one SSL context, kept for the worker's life."""
    return httpx.Client(transport=guard.transport(allow_private=settings.webhooks_allow_private),
                        timeout=settings.webhook_timeout_seconds, follow_redirects=False, trust_env=False)


class Pacer:
    """Spaces one subscription's sends at most ``rate`` a second (0: no limit)."""

    def __init__(self, rate: float, wait: Callable[[float], object],
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._gap = 1 / rate if rate > 0 else 0.0
        self._wait = wait
        self._monotonic = monotonic
        self._next = float("-inf")

    def __call__(self) -> None:
        if not self._gap:
            return
        now = self._monotonic()
        if self._next > now:
            self._wait(self._next - now)
            now = self._next
        self._next = now + self._gap


class Deliveries:
    """One worker's webhook delivery. Each due subscription is delivered by a task of a bounded thread pool,
    never two tasks for one subscription at once (its order holds). ``deliver_pending`` is one pass (a batch
    per due subscription, waited for); ``dispatch(keep_going=True)`` starts tasks and returns at once, each
    task going on batch after batch (queued behind the others, so a long backlog takes turns) until its
    subscription is caught up or waits for a retry."""

    def __init__(self, session_factory: sessionmaker[Session], settings: Settings, clock: Callable[[], datetime],
                 client: httpx.Client | None = None) -> None:
        self._factory = session_factory
        self._settings = settings
        self._clock = clock
        self._own_client = client is None
        self._client = client or http_client(settings)
        self._pool = ThreadPoolExecutor(max_workers=settings.webhook_concurrency,
                                        thread_name_prefix="webhook-delivery")
        self._lock = threading.Lock()
        self._busy: set[int] = set()
        self._pacers: dict[int, Pacer] = {}
        self._stopping = threading.Event()

    def dispatch(self, *, keep_going: bool) -> list[Future[int]]:
        """Start a task for every due subscription that has none running; each future gives its successes."""
        with session_scope(self._factory, write=False) as session:
            due = due_subscriptions(session, self._clock())
        started: list[Future[int]] = []
        for subscription_id in due:
            with self._lock:
                if subscription_id in self._busy or self._stopping.is_set():
                    continue
                self._busy.add(subscription_id)
            started.append(self._pool.submit(self._turn, subscription_id, keep_going))
        return started

    def deliver_pending(self) -> int:
        """One pass: a batch to every due subscription, concurrently; the number of events delivered."""
        return sum(future.result() for future in self.dispatch(keep_going=False))

    def run(self, interval_seconds: float, may_deliver: Callable[[], bool]) -> None:
        """Dispatch every ``interval_seconds`` until ``close()`` (the body of a worker's dispatcher thread)."""
        while not self._stopping.is_set():
            try:
                if may_deliver():
                    self.dispatch(keep_going=True)
            except Exception:  # a lost database connection must not end delivery for good
                logger.exception("webhook dispatch failed")
            self._stopping.wait(interval_seconds)

    def stop(self) -> None:
        """Start no new task and no new message; what is in flight finishes and is recorded."""
        self._stopping.set()

    def close(self) -> None:
        """Stop, wait for the requests in flight to be recorded, close the HTTP client."""
        self.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._own_client:
            self._client.close()

    def _pacer(self, subscription_id: int) -> Pacer:
        with self._lock:
            pacer = self._pacers.get(subscription_id)
            if pacer is None:
                pacer = self._pacers[subscription_id] = Pacer(self._settings.webhook_rate_per_subscription,
                                                              self._stopping.wait)
            return pacer

    def _turn(self, subscription_id: int, keep_going: bool) -> int:
        delivered, more = 0, False
        try:
            delivered, more = self._deliver(subscription_id)
        except Exception:
            # One subscription's trouble (a bug, a lost database connection) must not starve the others.
            logger.exception("webhook delivery to subscription %s failed", subscription_id)
        if keep_going and more and not self._stopping.is_set():
            try:
                self._pool.submit(self._turn, subscription_id, keep_going)
                return delivered
            except RuntimeError:  # the pool is shutting down
                pass
        with self._lock:
            self._busy.discard(subscription_id)
        return delivered

    def _deliver(self, subscription_id: int) -> tuple[int, bool]:
        """One turn: batches until one sent something (or as many as a batch's size skipped nothing but
        unsubscribed events); the successes, and whether more may follow at once."""
        settings, delivered = self._settings, 0
        for _ in range(settings.webhook_batch_size):
            with session_scope(self._factory, write=False) as session:
                batch = plan(session, subscription_id, self._clock(), settings.webhook_batch_size)
            if batch is None:
                return delivered, False
            sent = send_batch(self._client, settings, batch, self._clock, self._pacer(subscription_id),
                              self._stopping.is_set)
            with session_scope(self._factory) as session:  # one commit per batch
                go_on = record(session, settings, batch, sent)
            delivered += sum(done.outcome.succeeded for done in sent)
            if not go_on:
                return delivered, False
            if sent:
                return delivered, True
        return delivered, True


def deliver_pending(session_factory: sessionmaker[Session], settings: Settings,
                    now: datetime | Callable[[], datetime], client: httpx.Client | None = None) -> int:
    """One delivery pass over every subscription that is due; the number of events delivered. ``now`` is the
    clock (or a fixed time) each message is stamped with when it is sent."""
    clock: Callable[[], datetime] = now if callable(now) else (lambda: now)
    deliveries = Deliveries(session_factory, settings, clock, client)
    try:
        return deliveries.deliver_pending()
    finally:
        deliveries.close()
