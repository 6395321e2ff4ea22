"""Delivery to a real receiver on loopback: signatures, order, retries, Retry-After, 410, redirects, disabling."""

from __future__ import annotations

from datetime import UTC, timedelta
from email.utils import format_datetime
from itertools import pairwise

import pytest

from okr_rollout.db import session_scope
from okr_rollout.events import service as events
from okr_rollout.webhooks.delivery import RETRY_SCHEDULE
from tests.webhooks.conftest import Outbox
from tests.webhooks.receiver import Receiver


def test_events_arrive_signed_in_order_with_the_standard_envelope(outbox: Outbox, receiver: Receiver) -> None:
    before = outbox.append()  # older than the subscription: not sent
    subscription_id = outbox.subscribe(receiver, ["engagement.created", "task.completed",
                                                  "engagement.phase_changed"])
    created = outbox.append("engagement.created", playbook="standard")
    outbox.append("organization.updated", changed=["name"])  # never delivered
    outbox.append("task.updated", task_id=1, changed=["assignee_id"], done=False)  # a change, not a completion
    completed = outbox.append("task.updated", task_id=1, changed=["done"], done=True)
    moved = outbox.append("engagement.transitioned", trigger="go", to="expansion")
    last = outbox.append("gate.refused", trigger="go")  # not subscribed to

    assert outbox.deliver() == 3
    assert [r.event_id for r in receiver.received] == [created, completed, moved]
    assert all(r.verify_error is None and r.verified is not None for r in receiver.received)
    documents = [r.verified for r in receiver.received]
    assert [d["type"] for d in documents] == ["engagement.created", "task.completed", "engagement.phase_changed"]
    assert documents[0] == {"type": "engagement.created", "timestamp": "2026-01-05T09:00:00Z",
                            "data": {"event_id": created, "organization_id": None, "engagement_id": None,
                                     "actor": "coach:Chen", "playbook": "standard"}}
    assert documents[2]["data"]["to"] == "expansion"
    for request in receiver.received:
        assert request.method == "POST" and request.path == "/hook"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["webhook-id"].startswith("msg_")
        assert request.headers["webhook-timestamp"] == str(int(outbox.clock.now.timestamp()))
        assert request.headers["webhook-signature"].startswith("v1,")
    assert len({r.webhook_id for r in receiver.received}) == 3
    # The cursor passed the unsubscribed tail too, so nothing is left to look at.
    subscription = outbox.subscription(subscription_id)
    assert (subscription.cursor, subscription.retry_count, subscription.next_attempt_at) == (last, 0, None)
    assert before not in [r.event_id for r in receiver.received]
    assert outbox.deliver() == 0
    assert len(receiver.received) == 3
    attempts = outbox.attempts(subscription_id)
    assert [(a.event_id, a.attempt, a.status_code, a.succeeded) for a in attempts] == [
        (created, 1, 200, True), (completed, 1, 200, True), (moved, 1, 200, True)]


def test_a_tampered_secret_does_not_verify(outbox: Outbox, receiver: Receiver) -> None:
    """The receiver's check is real: with another secret the same request fails verification."""
    outbox.subscribe(receiver)
    receiver.secret = "whsec_" + "A" * 43 + "="
    outbox.append()
    assert outbox.deliver() == 1
    assert receiver.received[0].verified is None
    assert receiver.received[0].verify_error == "No matching signature found"


def test_a_receiver_failing_for_a_while_still_gets_every_event_in_order(outbox: Outbox, receiver: Receiver) -> None:
    subscription_id = outbox.subscribe(receiver)
    first, second, third = outbox.append(), outbox.append(), outbox.append()
    receiver.answer(500, 500, 503, 500)
    started = outbox.clock.now

    assert outbox.deliver() == 0
    outbox.clock.advance(seconds=1)  # the first retry waits 5 s: not due yet
    assert outbox.deliver() == 0
    assert len(receiver.received) == 1
    attempts_at = [started]
    while len(receiver.delivered) == 0:
        attempts_at.append(outbox.until_due(subscription_id))
        outbox.deliver()
    assert [r.event_id for r in receiver.received] == [first] * 5 + [second, third]
    assert [r.event_id for r in receiver.delivered] == [first, second, third]
    assert len({r.webhook_id for r in receiver.received[:5]}) == 1  # the same webhook-id on every retry
    assert all(r.verify_error is None for r in receiver.received)
    # Waits follow the Standard Webhooks schedule (5 s, 5 min, 30 min, 2 h), stretched by at most the jitter.
    jitter = outbox.settings.webhook_retry_jitter
    for failures, (earlier, later) in enumerate(pairwise(attempts_at), start=1):
        step = RETRY_SCHEDULE[failures]
        assert step <= later - earlier <= step * (1 + jitter), failures
    attempts = outbox.attempts(subscription_id)
    assert [(a.event_id, a.attempt, a.succeeded) for a in attempts] == [
        (first, 1, False), (first, 2, False), (first, 3, False), (first, 4, False), (first, 5, True),
        (second, 1, True), (third, 1, True)]
    assert [a.status_code for a in attempts[:4]] == [500, 500, 503, 500]
    subscription = outbox.subscription(subscription_id)
    assert (subscription.cursor, subscription.retry_count, subscription.failing_since) == (third, 0, None)


def test_nothing_follows_an_event_that_has_not_succeeded(outbox: Outbox, receiver: Receiver) -> None:
    subscription_id = outbox.subscribe(receiver)
    first = outbox.append()
    outbox.append()
    receiver.answer(500)
    outbox.deliver()
    outbox.clock.advance(days=1)  # long past the retry, and one pass only sends the head of the queue first
    receiver.answer(500)
    outbox.deliver()
    assert [r.event_id for r in receiver.received] == [first, first]
    assert outbox.subscription(subscription_id).cursor == first - 1


def test_a_pass_sends_a_bounded_batch(outbox: Outbox, receiver: Receiver) -> None:
    outbox.subscribe(receiver)
    ids = [outbox.append() for _ in range(5)]
    assert [outbox.deliver(webhook_batch_size=2) for _ in range(4)] == [2, 2, 1, 0]
    assert [r.event_id for r in receiver.received] == ids


def test_long_stretches_of_unsubscribed_events_are_passed_in_steps(outbox: Outbox, receiver: Receiver) -> None:
    subscription_id = outbox.subscribe(receiver, ["task.completed"])
    for task_id in range(9):
        outbox.append("task.updated", task_id=task_id, changed=["title"], done=False)
    wanted = outbox.append("task.updated", task_id=9, changed=["done", "title"], done=True)
    tail = outbox.append("task.updated", task_id=9, changed=["title"], done=True)  # done, but not just now
    assert outbox.deliver(webhook_batch_size=3) == 0  # three steps of three: not there yet
    assert outbox.subscription(subscription_id).cursor < wanted
    assert outbox.deliver(webhook_batch_size=3) == 1
    assert [r.event_id for r in receiver.received] == [wanted]
    assert outbox.subscription(subscription_id).cursor == tail


def test_gone_disables_the_subscription_at_once(outbox: Outbox, receiver: Receiver) -> None:
    subscription_id = outbox.subscribe(receiver)
    event = outbox.append()
    receiver.answer(410)
    assert outbox.deliver() == 0
    subscription = outbox.subscription(subscription_id)
    assert (subscription.enabled, subscription.disabled_reason, subscription.next_attempt_at) == (False, "gone", None)
    [disabled] = outbox.events_of("webhook.disabled")
    assert disabled.payload["subscription_id"] == subscription_id
    assert disabled.payload["reason"] == "gone"
    assert disabled.payload["event_id"] == event
    outbox.append()
    outbox.clock.advance(days=2)
    assert outbox.deliver() == 0
    assert len(receiver.received) == 1


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retry_after_is_honoured(outbox: Outbox, receiver: Receiver, status: int) -> None:
    subscription_id = outbox.subscribe(receiver)
    event = outbox.append()
    receiver.answer((status, {"Retry-After": "120"}))
    started = outbox.clock.now
    outbox.deliver()
    assert outbox.subscription(subscription_id).next_attempt_at == started + timedelta(seconds=120)
    outbox.clock.advance(seconds=119)
    assert outbox.deliver() == 0
    outbox.clock.advance(seconds=1)
    assert outbox.deliver() == 1
    assert [r.event_id for r in receiver.received] == [event, event]


def test_retry_after_as_an_http_date(outbox: Outbox, receiver: Receiver) -> None:
    subscription_id = outbox.subscribe(receiver)
    outbox.append()
    later = outbox.clock.now + timedelta(minutes=7)
    receiver.answer((503, {"Retry-After": format_datetime(later.astimezone(UTC), usegmt=True)}))
    outbox.deliver()
    assert outbox.subscription(subscription_id).next_attempt_at == later


def test_retry_after_is_ignored_where_it_does_not_apply(outbox: Outbox, receiver: Receiver) -> None:
    subscription_id = outbox.subscribe(receiver)
    outbox.append()
    receiver.answer((500, {"Retry-After": "3600"}))
    started = outbox.clock.now
    outbox.deliver()
    due = outbox.subscription(subscription_id).next_attempt_at
    assert due is not None
    assert RETRY_SCHEDULE[1] <= due - started <= RETRY_SCHEDULE[1] * (1 + outbox.settings.webhook_retry_jitter)


def test_redirects_are_not_followed(outbox: Outbox, receiver: Receiver) -> None:
    subscription_id = outbox.subscribe(receiver)
    event = outbox.append()
    receiver.answer((307, {"Location": receiver.url("/elsewhere")}))
    assert outbox.deliver() == 0
    assert [(r.method, r.path) for r in receiver.received] == [("POST", "/hook")]
    [attempt] = outbox.attempts(subscription_id)
    assert (attempt.event_id, attempt.status_code, attempt.succeeded) == (event, 307, False)
    assert attempt.error is not None and "redirects are not followed" in attempt.error
    assert outbox.subscription(subscription_id).retry_count == 1


def test_repeated_failures_over_a_day_disable_and_record_it(outbox: Outbox, receiver: Receiver) -> None:
    outbox.settings = outbox.settings.model_copy(update={"webhook_disable_after_failures": 3,
                                                        "webhook_disable_after_hours": 24})
    subscription_id = outbox.subscribe(receiver)
    event = outbox.append()
    receiver.answer(*[500] * 20)
    started = outbox.clock.now
    outbox.deliver()
    while outbox.subscription(subscription_id).enabled:
        outbox.until_due(subscription_id)
        outbox.deliver()
    attempts = outbox.attempts(subscription_id)
    # Three failures come within minutes: the count alone is not enough, the failing must also span a day.
    spans = [a.attempted_at - started for a in attempts]
    assert all(span < timedelta(hours=24) for span in spans[:-1])
    assert spans[-1] >= timedelta(hours=24)
    assert len(attempts) > 3
    subscription = outbox.subscription(subscription_id)
    assert (subscription.disabled_reason, subscription.retry_count, subscription.next_attempt_at) == (
        "failing", len(attempts), None)
    [disabled] = outbox.events_of("webhook.disabled")
    assert disabled.actor == "system:webhooks"
    assert disabled.payload["reason"] == "failing"
    assert disabled.payload["failures"] == len(attempts)
    assert disabled.payload["event_id"] == event
    assert disabled.payload["last_error"] == "HTTP 500"
    outbox.clock.advance(days=3)
    assert outbox.deliver() == 0
    assert len(receiver.received) == len(attempts)


def test_a_transaction_that_rolls_back_sends_nothing(outbox: Outbox, receiver: Receiver) -> None:
    subscription_id = outbox.subscribe(receiver)
    with pytest.raises(RuntimeError), session_scope(outbox.factory) as session:
        events.append(session, type="engagement.created", actor="coach:Chen", at=outbox.clock.now,
                      payload={"ghost": True})
        raise RuntimeError("the change fails after its event was written")
    assert outbox.deliver() == 0
    assert receiver.received == []
    assert outbox.attempts(subscription_id) == []
    real = outbox.append()
    assert outbox.deliver() == 1
    assert [r.event_id for r in receiver.received] == [real]
    assert "ghost" not in receiver.received[0].verified["data"]


def test_private_addresses_are_refused_at_delivery_unless_allowed(outbox: Outbox, receiver: Receiver) -> None:
    subscription_id = outbox.subscribe(receiver)  # created while private addresses were allowed
    event = outbox.append()
    assert outbox.deliver(webhooks_allow_private=False) == 0
    assert receiver.received == []
    [attempt] = outbox.attempts(subscription_id)
    assert (attempt.event_id, attempt.status_code, attempt.succeeded) == (event, None, False)
    assert attempt.error is not None
    assert attempt.error == "not sent: host '127.0.0.1' is not a public address"
    outbox.until_due(subscription_id)
    assert outbox.deliver() == 1
    assert [r.event_id for r in receiver.received] == [event]


def test_an_unreachable_receiver_is_a_failed_attempt(outbox: Outbox, receiver: Receiver) -> None:
    subscription_id = outbox.subscribe(receiver)
    outbox.append()
    receiver.stop()  # nothing listens on its port any more
    try:
        assert outbox.deliver() == 0
    finally:
        receiver.start()
    [attempt] = outbox.attempts(subscription_id)
    assert (attempt.status_code, attempt.succeeded) == (None, False)
    assert attempt.error is not None and attempt.error.startswith("ConnectError")
    assert outbox.subscription(subscription_id).retry_count == 1


def test_subscriptions_do_not_hold_each_other_up(outbox: Outbox, receiver: Receiver) -> None:
    failing_receiver = Receiver()
    failing_receiver.start()
    try:
        failing = outbox.subscribe(failing_receiver, path="/failing")
        healthy = outbox.subscribe(receiver, path="/healthy")
        event = outbox.append()
        failing_receiver.answer(500)
        assert outbox.deliver() == 1
    finally:
        failing_receiver.stop()
    assert [(r.path, r.status) for r in failing_receiver.received] == [("/failing", 500)]
    assert [(r.path, r.status) for r in receiver.received] == [("/healthy", 200)]
    assert outbox.subscription(failing).cursor == event - 1
    assert outbox.subscription(healthy).cursor == event
    # Each subscription signs its own way: its own webhook-id for the same event.
    assert failing_receiver.received[0].webhook_id != receiver.received[0].webhook_id
