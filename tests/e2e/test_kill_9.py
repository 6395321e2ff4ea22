"""Kill -9 the server in the middle of a burst from several clients on loopback, then restart it.

Clients fire transitions and record check-ins, meetings and people as fast as the server answers; once enough
of them got a 2xx the server process is killed with SIGKILL (no shutdown, no flush), whatever it is doing.
A scheduler process delivering webhooks meanwhile is killed the same way. After a restart on the same database:
- every request that got a 2xx is in the database, with its event in the history;
- nothing is half-written: phases, tasks and records match their events exactly (``_history``);
- the restarted server serves reads and writes as before;
- a restarted scheduler delivers every event of the subscription to the receiver, signed, in history order, at
  least once (an event whose delivery the kill cut short comes again, under the same webhook-id).
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import Engine

from okr_rollout.webhooks.mapping import public_event_type
from tests.conftest import Tokens, auth
from tests.e2e._server import Scheduler, Server, wait_until
from tests.reliability._history import Snapshot, assert_consistent, snapshot
from tests.reliability._seed import API, TAIPEI, engagement_ready_for_kickoff, organization_with_people
from tests.webhooks.receiver import Receiver

CLIENTS = 6
ENGAGEMENTS = 4
KILL_AFTER = 60  # successful requests of the burst before the kill
TRIGGERS = ["schedule_executive_meeting", "hold_kickoff", "start_pilot_training"]  # the last one is refused
WAIT = 120.0  # seconds: the most the burst, or the deliveries, may take on a loaded machine
SUBSCRIBED = {"engagement.created", "engagement.phase_changed", "gate.refused"}


@dataclass
class Target:
    organization_id: int
    engagements: dict[int, int]  # engagement id -> its key result
    quarters: dict[int, int]  # engagement id -> its quarter
    people: list[int]


@dataclass
class Outcome:
    """What the clients were told: every 2xx (kind, request, body), and the refusals of a gate."""

    succeeded: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    gate_refusals: dict[int, int] = field(default_factory=dict)  # engagement id -> 409s of its gate
    lock: threading.Lock = field(default_factory=threading.Lock)
    enough: threading.Event = field(default_factory=threading.Event)

    def record(self, kind: str, request: dict[str, Any], body: dict[str, Any]) -> None:
        with self.lock:
            self.succeeded.append((kind, request, body))
            if len(self.succeeded) >= KILL_AFTER:
                self.enough.set()

    def refused(self, engagement_id: int) -> None:
        with self.lock:
            self.gate_refusals[engagement_id] = self.gate_refusals.get(engagement_id, 0) + 1


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    running = Server(database_url, tmp_path / "serve.log", webhooks_allow_private="true")
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.start()
    yield running
    running.stop()


def seed(client: httpx2.Client, tokens: Tokens, today: Any) -> Target:
    organization_id, people = organization_with_people(client, tokens.admin, "Burst")
    engagements: dict[int, int] = {}
    quarters: dict[int, int] = {}
    for _ in range(ENGAGEMENTS):
        engagement_id = engagement_ready_for_kickoff(client, tokens.admin, organization_id, tokens.coach_person_id,
                                                     today, people["ceo_id"])
        base = f"{API}/engagements/{engagement_id}"
        quarter = client.post(f"{base}/quarters", headers=auth(tokens.admin), json={
            "label": "Q1", "starts_on": (today - timedelta(days=14)).isoformat(),
            "ends_on": (today + timedelta(days=69)).isoformat()}).json()
        okr = client.post(f"{base}/quarters/{quarter['id']}/okrs", headers=auth(tokens.admin), json={
            "objective": "Grow", "owner_id": people["member_id"],
            "key_results": [{"metric": "NPS", "start": 0, "target": 50}]}).json()
        engagements[engagement_id] = okr["key_results"][0]["id"]
        quarters[engagement_id] = quarter["id"]
    return Target(organization_id, engagements, quarters, [people["ceo_id"], people["member_id"]])


def burst(url: str, token: str, target: Target, today: Any, number: int, outcome: Outcome,
          stop: threading.Event) -> None:
    """One client: random writes until the server stops answering (or the test says stop)."""
    chooser = random.Random(number)
    engagement_ids = list(target.engagements)
    with httpx2.Client(base_url=url, headers=auth(token), timeout=60) as client:
        for n in itertools.count():
            if stop.is_set():
                return
            engagement_id = chooser.choice(engagement_ids)
            base = f"{API}/engagements/{engagement_id}"
            kind = chooser.choice(["transition", "transition", "transition", "check_in", "meeting", "person"])
            if kind == "transition":
                path, body = f"{base}/transitions", {"trigger": chooser.choice(TRIGGERS)}
            elif kind == "check_in":
                path, body = f"{base}/quarters/{target.quarters[engagement_id]}/check-ins", {
                    "key_result_id": target.engagements[engagement_id], "value": n,
                    "week_of": (today - timedelta(days=chooser.randint(0, 13))).isoformat(),
                    "note": f"client {number} #{n}"}
            elif kind == "meeting":
                held_at = datetime.combine(today - timedelta(days=1), time(9), tzinfo=TAIPEI)
                path, body = f"{base}/meetings", {"kind": "weekly_team", "held_at": held_at.isoformat(),
                                                  "attendee_ids": target.people, "notes": f"client {number} #{n}"}
            else:
                path, body = f"{API}/organizations/{target.organization_id}/people", {
                    "name": f"Client {number} person {n}"}
            try:
                response = client.post(path, json=body)
            except httpx2.HTTPError:
                return  # the server is gone: whatever happened to this request is unknown to the client
            if response.is_success:
                outcome.record(kind, {"engagement_id": engagement_id, **body}, response.json())
            elif response.status_code == 409 and response.json()["type"] == "/problems/gate-refused":
                outcome.refused(engagement_id)
            else:
                assert response.status_code == 409, f"{path}: {response.text}"


def check_acknowledged(state: Snapshot, outcome: Outcome) -> None:
    """Every 2xx the clients got is in the database with its event; every refusal of a gate is in the history."""
    assert_consistent(state)
    transitioned = {(e.engagement_id, e.payload["trigger"], e.payload["to"])
                    for e in state.of_type("engagement.transitioned")}
    kinds = {"check_in": state.check_ins, "meeting": state.meetings, "person": state.people}
    for kind, request, body in outcome.succeeded:
        if kind == "transition":
            assert (request["engagement_id"], request["trigger"], body["engagement"]["phase"]) in transitioned, body
        else:
            assert body["id"] in kinds[kind], (kind, request, body)  # and its event: assert_consistent
    for engagement_id, refusals in outcome.gate_refusals.items():
        recorded = [e for e in state.of_type("gate.refused") if e.engagement_id == engagement_id]
        assert len(recorded) >= refusals, (engagement_id, refusals, len(recorded))


def check_delivered(state: Snapshot, receiver: Receiver, subscribed_after: int) -> None:
    """Each event the subscription covers reached the receiver, signed, in the order of the history; a repeat
    (a batch sent but not yet recorded when the kill came) is sent again from its first unrecorded event, in
    order, under the same webhook-ids: a receiver that drops webhook-ids it has seen gets the history in order."""
    expected = [e.id for e in state.events if e.id > subscribed_after
                and public_event_type(e.type, e.payload) in SUBSCRIBED]
    delivered = receiver.delivered
    assert all(d.verified is not None for d in delivered), [d.verify_error for d in delivered]
    arrived = [d.event_id for d in delivered]
    first_arrivals = list(dict.fromkeys(arrived))
    assert first_arrivals == sorted(first_arrivals), f"out of order: {arrived}"
    repeats = [event_id for n, event_id in enumerate(arrived) if event_id in arrived[:n]]
    assert repeats == sorted(repeats), f"repeats out of order: {arrived}"
    assert sorted(set(arrived)) == expected
    webhook_ids: dict[int, set[str]] = {}
    for d in delivered:
        webhook_ids.setdefault(d.event_id, set()).add(d.webhook_id)
    assert all(len(ids) == 1 for ids in webhook_ids.values())


def test_every_acknowledged_write_survives_a_kill_9_and_every_event_is_delivered(
        server: Server, tokens: Tokens, engine: Engine, database_url: str, tmp_path: Path,
        receiver: Receiver) -> None:
    today = datetime.now(UTC).astimezone(TAIPEI).date()  # the served app runs on the system clock
    scheduler_settings = {"webhooks_allow_private": "true", "webhook_poll_seconds": "0.2",
                          "scheduler_lock_key": str(server.port)}
    with httpx2.Client(base_url=server.url, timeout=60, headers=auth(tokens.admin)) as client:
        subscription = client.post(f"{API}/webhook-subscriptions", json={"url": receiver.url(),
                                                                         "event_types": sorted(SUBSCRIBED)})
        assert subscription.status_code == 201, subscription.text
        receiver.secret = subscription.json()["secret"]
        subscribed_after = snapshot(engine).events[-1].id
        target = seed(client, tokens, today)
    scheduler = Scheduler(database_url, tmp_path / "scheduler.log", **scheduler_settings).start()
    restarted_scheduler = None
    try:
        assert wait_until(lambda: len(receiver.delivered) > 0, WAIT), scheduler.log_tail()

        outcome, stop = Outcome(), threading.Event()
        clients = [threading.Thread(target=burst, args=(server.url, tokens.admin, target, today, i, outcome, stop))
                   for i in range(CLIENTS)]
        for thread in clients:
            thread.start()
        try:
            assert outcome.enough.wait(WAIT), f"only {len(outcome.succeeded)} answers:\n{server.log_tail()}"
            server.kill_9()
            scheduler.kill_9()
        finally:
            stop.set()
            for thread in clients:
                thread.join(WAIT)
        assert not any(thread.is_alive() for thread in clients)

        restarted = Server(database_url, tmp_path / "restarted.log", webhooks_allow_private="true").start()
        try:
            check_acknowledged(snapshot(engine), outcome)
            with httpx2.Client(base_url=restarted.url, headers=auth(tokens.admin), timeout=60) as client:
                engagement_id = next(iter(target.engagements))
                base = f"{API}/engagements/{engagement_id}"
                check_in = client.post(f"{base}/quarters/{target.quarters[engagement_id]}/check-ins", json={
                    "key_result_id": target.engagements[engagement_id], "value": 1, "week_of": today.isoformat()})
                assert check_in.status_code == 201, check_in.text
                moved = client.post(f"{base}/transitions", json={"trigger": TRIGGERS[-1]})
                assert moved.status_code == 409, moved.text  # refused or not from here, and now in the history
        finally:
            restarted.stop()
        state = snapshot(engine)
        assert_consistent(state)

        restarted_scheduler = Scheduler(database_url, tmp_path / "scheduler-2.log", **scheduler_settings).start()
        expected = len({e.id for e in state.events if e.id > subscribed_after
                        and public_event_type(e.type, e.payload) in SUBSCRIBED})
        assert wait_until(lambda: len({d.event_id for d in receiver.delivered}) >= expected, WAIT), \
            restarted_scheduler.log_tail()
        check_delivered(state, receiver, subscribed_after)
    finally:
        scheduler.stop()
        if restarted_scheduler is not None:
            restarted_scheduler.stop()
