"""The outbox read past a cursor loses nothing: writers cannot commit events out of id order."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from okr_rollout.db import begin_write, session_scope
from okr_rollout.events import service as events
from tests.webhooks.conftest import Outbox
from tests.webhooks.receiver import Receiver

WAIT_LIMIT_SECONDS = 30  # a guard against a hung test, never a condition of success


def waiting_for_an_advisory_lock(outbox: Outbox) -> bool:
    with session_scope(outbox.factory, write=False) as session:
        return bool(session.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")))


def test_two_writers_cannot_commit_in_reverse_id_order(outbox: Outbox, receiver: Receiver) -> None:
    """Writer A takes an event id and keeps its transaction open; writer B starts after it. Were B to take the
    next id and commit first, a reader at "id > cursor" would move past A's id before A's row is visible and
    never send it. Instead B waits for A (PostgreSQL: the outbox lock in events.append; SQLite: the write
    lock), so ids are committed in order, and both events are delivered, in id order."""
    outbox.subscribe(receiver)
    timeline: list[str] = []
    b_ids: list[int] = []
    b_done = threading.Event()

    def writer_b() -> None:
        with session_scope(outbox.factory) as session:
            b_ids.append(events.append(session, type="engagement.created", actor="b", at=outbox.clock.now).id)
            timeline.append("B appended")
        timeline.append("B committed")
        b_done.set()

    a = outbox.factory()
    try:
        begin_write(a)
        a_id = events.append(a, type="engagement.created", actor="a", at=outbox.clock.now).id
        b = threading.Thread(target=writer_b)
        b.start()
        if a.get_bind().dialect.name == "postgresql":
            # Observe B actually blocked on the outbox lock (not merely not yet started).
            deadline = time.monotonic() + WAIT_LIMIT_SECONDS
            while not waiting_for_an_advisory_lock(outbox):
                assert not b_done.wait(0.01), "B appended while A's transaction was open"
                assert time.monotonic() < deadline, "B never reached the outbox lock"
        # While A is open nothing is visible, so nothing is sent and the cursor stays put.
        assert outbox.deliver() == 0
        assert not b_done.is_set()
        timeline.append("A committed")
        a.commit()
    finally:
        a.close()
    b.join(WAIT_LIMIT_SECONDS)
    assert b_done.is_set()
    assert timeline == ["A committed", "B appended", "B committed"]
    assert b_ids[0] > a_id
    assert outbox.deliver() == 2
    assert [r.event_id for r in receiver.received] == [a_id, b_ids[0]]
    assert [r.verified["data"]["actor"] for r in receiver.received] == ["a", "b"]


def test_an_event_committed_during_a_pass_is_sent_by_the_next(outbox: Outbox, receiver: Receiver) -> None:
    """A subscription whose cursor sits at the end of history picks up a later commit on the next pass."""
    subscription_id = outbox.subscribe(receiver)
    first = outbox.append()
    assert outbox.deliver() == 1
    second = outbox.append()
    assert outbox.subscription(subscription_id).cursor == first
    assert outbox.deliver() == 1
    assert [r.event_id for r in receiver.received] == [first, second]
