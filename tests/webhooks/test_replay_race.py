"""A replay racing a delivery: whichever takes the subscription first, the other waits for it, nothing fails on
the version the other changed (StaleDataError), every attempt's row is kept, and the replay's cursor wins.
The interleavings are made step by step, not left to chance."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import time_machine
from sqlalchemy import text

from okr_rollout.db import begin_write, session_scope
from okr_rollout.webhooks import service
from okr_rollout.webhooks.delivery import Batch, Pacer, Sent, http_client, plan, record, send_batch
from tests.webhooks.conftest import ADMIN, Outbox
from tests.webhooks.receiver import Received, Receiver

WAIT_LIMIT_SECONDS = 30  # a guard against a hung test, never a condition of success


def replay(outbox: Outbox, subscription_id: int, from_event_id: int) -> None:
    """What POST …/replay does, in its own unit of work."""
    with session_scope(outbox.factory) as session:
        subscription = service.get(session, subscription_id, for_change=True)
        service.replay(session, ADMIN, subscription, from_event_id, outbox.clock.now)


@pytest.fixture
def http(outbox: Outbox) -> Iterator[httpx.Client]:
    client = http_client(outbox.settings)
    yield client
    client.close()


def planned_and_sent(outbox: Outbox, http: httpx.Client, subscription_id: int) -> tuple[Batch, list[Sent]]:
    with session_scope(outbox.factory, write=False) as session:
        batch = plan(session, subscription_id, outbox.clock.now, outbox.settings.webhook_batch_size)
    assert batch is not None
    with time_machine.travel(outbox.clock.now, tick=False):
        sent = send_batch(http, outbox.settings, batch, outbox.clock, Pacer(0, lambda _: None))
    return batch, sent


def waits_for_a_lock(outbox: Outbox) -> Callable[[], bool]:
    """Whether another transaction is now waiting for a lock (PostgreSQL shows it; SQLite does not, and there
    the waiting side simply runs after the holder commits)."""
    def waiting() -> bool:
        with session_scope(outbox.factory, write=False) as session:
            if session.get_bind().dialect.name != "postgresql":
                return True
            return bool(session.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")))
    return waiting


def until(condition: Callable[[], bool], thread_done: threading.Event) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while not condition():
        assert not thread_done.wait(0.01), "the other side did not wait for the lock"
        assert time.monotonic() < deadline, "the other side never reached the lock"


def in_thread(work: Callable[[], None]) -> tuple[threading.Thread, threading.Event, list[BaseException]]:
    done, failures = threading.Event(), []

    def run() -> None:
        try:
            work()
        except BaseException as failure:
            failures.append(failure)
        finally:
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, done, failures


def test_a_replay_committed_while_the_requests_are_in_flight(outbox: Outbox, receiver: Receiver) -> None:
    subscription_id = outbox.subscribe(receiver)
    first, second = outbox.append(), outbox.append()

    def replay_on_first_arrival(arrived: Received) -> None:
        if len(receiver.received) == 1:
            replay(outbox, subscription_id, first)

    receiver.on_arrival = replay_on_first_arrival
    assert outbox.deliver() == 2
    attempts = outbox.attempts(subscription_id)
    assert [(a.event_id, a.succeeded) for a in attempts] == [(first, True), (second, True)]  # both kept
    assert outbox.subscription(subscription_id).cursor == first - 1  # the replay's, not the delivery's
    receiver.on_arrival = None
    assert outbox.deliver() == 2
    assert [r.event_id for r in receiver.received] == [first, second, first, second]


def test_a_replay_waits_for_a_delivery_being_recorded(outbox: Outbox, receiver: Receiver,
                                                    http: httpx.Client) -> None:
    subscription_id = outbox.subscribe(receiver)
    first, second = outbox.append(), outbox.append()
    batch, sent = planned_and_sent(outbox, http, subscription_id)
    recording = outbox.factory()
    try:
        begin_write(recording)
        assert record(recording, outbox.settings, batch, sent) is False
        recording.flush()  # the cursor moved and the row is locked, not yet committed
        thread, done, failures = in_thread(lambda: replay(outbox, subscription_id, first))
        until(waits_for_a_lock(outbox), done)
        recording.commit()
    finally:
        recording.close()
    thread.join(WAIT_LIMIT_SECONDS)
    assert done.is_set() and failures == []
    subscription = outbox.subscription(subscription_id)
    assert subscription.cursor == first - 1  # the replay came second: its cursor stands
    assert [(a.event_id, a.succeeded) for a in outbox.attempts(subscription_id)] == [(first, True), (second, True)]
    assert [e.payload["from_event_id"] for e in outbox.events_of("webhook.replayed")] == [first]


def test_a_delivery_waits_for_a_replay_being_made(outbox: Outbox, receiver: Receiver,
                                                  http: httpx.Client) -> None:
    subscription_id = outbox.subscribe(receiver)
    first, second = outbox.append(), outbox.append()
    batch, sent = planned_and_sent(outbox, http, subscription_id)
    went_on: list[bool] = []

    def record_delivery() -> None:
        with session_scope(outbox.factory) as session:
            went_on.append(record(session, outbox.settings, batch, sent))

    replaying = outbox.factory()
    try:
        begin_write(replaying)
        subscription = service.get(replaying, subscription_id, for_change=True)
        service.replay(replaying, ADMIN, subscription, first, outbox.clock.now)
        thread, done, failures = in_thread(record_delivery)
        until(waits_for_a_lock(outbox), done)
        replaying.commit()
    finally:
        replaying.close()
    thread.join(WAIT_LIMIT_SECONDS)
    assert done.is_set() and failures == []
    assert went_on == [False]  # the subscription changed under it: no cursor move, no next batch
    assert outbox.subscription(subscription_id).cursor == first - 1
    assert [(a.event_id, a.succeeded) for a in outbox.attempts(subscription_id)] == [(first, True), (second, True)]
