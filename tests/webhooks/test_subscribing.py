"""Subscribing to every event type with "*", and subscription ids that never come back after a delete."""

from __future__ import annotations

from fastapi.testclient import TestClient

from okr_rollout.webhooks.mapping import PUBLIC_EVENT_TYPES
from tests.api._helpers import assert_problem
from tests.conftest import Tokens, auth
from tests.webhooks.conftest import Outbox, allow_private
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_api import HOOKS, subscribe


def test_a_star_subscription_receives_every_public_event_type(outbox: Outbox, receiver: Receiver) -> None:
    outbox.subscribe(receiver, ["*"])
    created = outbox.append("engagement.created")
    outbox.append("organization.updated", changed=["name"])  # internal only: no public type
    outbox.append("task.updated", task_id=1, changed=["title"], done=False)  # a change, not a completion
    completed = outbox.append("task.updated", task_id=1, changed=["done"], done=True)
    moved = outbox.append("engagement.transitioned", trigger="go", to="expansion")
    refused = outbox.append("gate.refused", trigger="go")
    scored = outbox.append("quarter.scored", quarter="2026-Q1")
    overdue = outbox.append("reminder.overdue", task_id=2)
    readiness = outbox.append("readiness.changed", ready=True)
    corrected = outbox.append("record.corrected", record="meeting", record_id=1, before={}, after={})
    voided = outbox.append("record.voided", record="meeting", record_id=1, reason="entered twice")
    reopened = outbox.append("quarter.reopened", quarter_id=1, reason="a score was wrong")
    health = outbox.append("engagement.health_changed", phase="kickoff", before="on_track", after="at_risk")
    wave = {"id": 3, "name": "Wave 1", "variant": None}
    opened = outbox.append("wave.opened", wave=wave, phase="wave_training")
    wave_moved = outbox.append("wave.transitioned", wave=wave, trigger="start_wave_drafting", to="wave_drafting")
    handed = outbox.append("engagement.handed_to_internal_coaches", coach_ids=[1])
    assert outbox.deliver() == 14
    assert [r.event_id for r in receiver.received] == [created, completed, moved, refused, scored, overdue,
                                                       readiness, corrected, voided, reopened, health, opened,
                                                       wave_moved, handed]
    assert {r.verified["type"] for r in receiver.received} == set(PUBLIC_EVENT_TYPES)
    by_type = {r.verified["type"]: r.verified for r in receiver.received}
    assert by_type["wave.phase_changed"]["data"]["wave"] == by_type["wave.opened"]["data"]["wave"] == wave


def test_a_subscription_to_health_changes_receives_them_only(outbox: Outbox, receiver: Receiver) -> None:
    outbox.subscribe(receiver, ["engagement.health_changed"])
    outbox.append("readiness.changed", ready=True)
    changed = outbox.append("engagement.health_changed", phase="kickoff", before="on_track", after="stuck")
    assert outbox.deliver() == 1
    [received] = receiver.received
    assert received.event_id == changed and received.verified["type"] == "engagement.health_changed"


def test_star_is_accepted_beside_names_and_nothing_else_is(api: TestClient, tokens: Tokens,
                                                           receiver: Receiver) -> None:
    allow_private(api)
    created = subscribe(api, tokens.admin, receiver.url(), ["*"])
    assert created["event_types"] == ["*"]
    both = subscribe(api, tokens.admin, receiver.url(), ["engagement.created", "*"])
    assert both["event_types"] == ["engagement.created", "*"]
    for wrong in (["**"], ["engagement.*"], ["*", "engagement.deleted"]):
        response = api.post(HOOKS, json={"url": receiver.url(), "event_types": wrong}, headers=auth(tokens.admin))
        assert_problem(response, 422)
    documented = api.get("/openapi.json").json()["components"]["schemas"]
    assert "*" in str(documented["SubscriptionCreate"]["properties"]["event_types"])


def test_a_deleted_subscriptions_id_is_never_given_again(api: TestClient, tokens: Tokens,
                                                         receiver: Receiver) -> None:
    allow_private(api)
    first = subscribe(api, tokens.admin, receiver.url())["id"]
    last = subscribe(api, tokens.admin, receiver.url())["id"]
    assert api.delete(f"{HOOKS}/{last}", headers=auth(tokens.admin)).status_code == 204
    after = subscribe(api, tokens.admin, receiver.url())["id"]
    assert after > last > first
    assert api.get(f"{HOOKS}/{last}", headers=auth(tokens.admin)).status_code == 404
