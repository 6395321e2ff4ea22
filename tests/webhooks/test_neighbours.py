"""Subscriptions do not wait for each other: behind a receiver that takes 7 s to answer, every message still
verifies on arrival (stamped when sent, not when its batch was planned), a healthy receiver is served at once,
and each receiver gets its events in order. Time is simulated: the slow receiver advances the shared clock (and
the receivers' own clocks, through time-machine) by 7 s for each answer; waits are on events, never sleeps."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine

from okr_rollout.webhooks.delivery import Deliveries, Pacer, deliver_pending
from tests.webhooks.conftest import Outbox
from tests.webhooks.receiver import Received, Receiver

WAIT_LIMIT_SECONDS = 20  # a guard against a hung test, never a condition of success
SLOW_ANSWER = timedelta(seconds=7)


class SharedClock:
    """The simulated time of the whole test: the deliveries' clock and, through time-machine, the clock the
    receivers check webhook-timestamps against."""

    def __init__(self, start: datetime, traveller: Any) -> None:
        self._now = start
        self._traveller = traveller
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, by: timedelta) -> None:
        with self._lock:
            self._now += by
            self._traveller.move_to(self._now)


@pytest.fixture
def shared_clock(outbox: Outbox) -> Iterator[SharedClock]:
    with time_machine.travel(outbox.clock.now, tick=False) as traveller:
        yield SharedClock(outbox.clock.now, traveller)


@pytest.fixture
def slow() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


def test_every_message_verifies_on_arrival_behind_a_slow_receiver(
        outbox: Outbox, receiver: Receiver, slow: Receiver, shared_clock: SharedClock) -> None:
    healthy = receiver
    batch = outbox.settings.webhook_batch_size
    slow_subscription = outbox.subscribe(slow, path="/slow")  # the older one: served first by a serial pass
    slow_secret = slow.secret
    healthy_subscription = outbox.subscribe(healthy, path="/healthy")
    slow.secret = slow_secret
    events = [outbox.append() for _ in range(batch)]
    healthy_done = threading.Event()
    healthy_first: list[bool] = []

    def healthy_arrival(_: Received) -> None:
        if len(healthy.received) == batch:
            healthy_done.set()

    def slow_arrival(_: Received) -> None:
        if len(slow.received) == 1:  # the healthy receiver is served while the slow one is still answering
            healthy_first.append(healthy_done.wait(WAIT_LIMIT_SECONDS))
        shared_clock.advance(SLOW_ANSWER)

    healthy.on_arrival, slow.on_arrival = healthy_arrival, slow_arrival
    assert deliver_pending(outbox.factory, outbox.settings, shared_clock) == 2 * batch

    assert healthy_first == [True]
    for got in (slow, healthy):
        assert [r.event_id for r in got.received] == events  # in order, each once
        assert [r.verify_error for r in got.received] == [None] * batch
    # The last message to the slow receiver left (batch - 1) x 7 s after the pass began, past the five minutes
    # a Standard Webhooks receiver tolerates: it verified because it was stamped when it was sent.
    stamps = [int(r.headers["webhook-timestamp"]) for r in slow.received]
    assert stamps[-1] - stamps[0] == (batch - 1) * SLOW_ANSWER.total_seconds() > 5 * 60
    for subscription_id in (slow_subscription, healthy_subscription):
        assert outbox.subscription(subscription_id).cursor == events[-1]
        assert [a.succeeded for a in outbox.attempts(subscription_id)] == [True] * batch


def test_a_stuck_receiver_neither_delays_the_others_nor_gets_a_second_task(
        outbox: Outbox, receiver: Receiver, slow: Receiver) -> None:
    """Dispatching starts a task per due subscription and returns at once; a subscription whose task is still
    waiting on its receiver gets no second one (so its order holds), while the others are served each time."""
    healthy = receiver
    outbox.subscribe(slow, path="/stuck")
    stuck_secret = slow.secret
    outbox.subscribe(healthy, path="/healthy")
    slow.secret = stuck_secret
    release = threading.Event()
    slow.on_arrival = lambda _: release.wait(WAIT_LIMIT_SECONDS) and None
    deliveries = Deliveries(outbox.factory, outbox.settings, outbox.clock)
    try:
        with time_machine.travel(outbox.clock.now, tick=False):
            first = outbox.append()
            stuck_task, healthy_task = deliveries.dispatch(keep_going=True)  # in subscription order
            assert healthy_task.result(timeout=WAIT_LIMIT_SECONDS) == 1
            second = outbox.append()
            [again] = deliveries.dispatch(keep_going=True)  # the healthy one only: the stuck one is busy
            assert again.result(timeout=WAIT_LIMIT_SECONDS) == 1
            assert [r.event_id for r in healthy.received] == [first, second]
            assert [r.event_id for r in slow.received] == [first]
            assert not stuck_task.done()
            release.set()
            assert stuck_task.result(timeout=WAIT_LIMIT_SECONDS) == 1
            assert deliveries.deliver_pending() == 1
    finally:
        release.set()
        deliveries.close()
    assert [r.event_id for r in slow.received] == [first, second]
    assert all(r.verify_error is None for r in slow.received + healthy.received)


def test_stopping_records_the_message_in_flight_and_sends_no_more(outbox: Outbox, slow: Receiver) -> None:
    """A worker shutting down behind a slow receiver does not wait for the rest of its batch."""
    subscription_id = outbox.subscribe(slow)
    first, _second, _third = outbox.append(), outbox.append(), outbox.append()
    deliveries = Deliveries(outbox.factory, outbox.settings, outbox.clock)
    slow.on_arrival = lambda _: deliveries.stop()  # the shutdown comes while the first request is answered
    try:
        with time_machine.travel(outbox.clock.now, tick=False):
            [task] = deliveries.dispatch(keep_going=True)
            assert task.result(timeout=WAIT_LIMIT_SECONDS) == 1
            assert deliveries.dispatch(keep_going=True) == []  # stopped: no new task either
    finally:
        deliveries.close()
    assert [r.event_id for r in slow.received] == [first]
    assert [(a.event_id, a.succeeded) for a in outbox.attempts(subscription_id)] == [(first, True)]
    assert outbox.subscription(subscription_id).cursor == first
    assert outbox.deliver() == 2  # the next worker goes on from there


def test_the_pacer_spaces_sends_at_the_rate() -> None:
    now = [100.0]
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    pace = Pacer(4.0, wait, monotonic=lambda: now[0])
    for _ in range(3):
        pace()
    assert waits == [0.25, 0.25]  # the first goes at once, then one every quarter of a second
    now[0] += 10  # idle for a while: no burst is saved up beyond the next send
    pace()
    pace()
    assert waits == [0.25, 0.25, 0.25]
    unpaced = Pacer(0, wait, monotonic=lambda: now[0])
    for _ in range(10):
        unpaced()
    assert len(waits) == 3
