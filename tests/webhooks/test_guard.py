"""The address guard and the event mapping, on their own; DNS rebinding between check and connection."""

from __future__ import annotations

import ipaddress
import socket
from collections import Counter
from typing import Any

import pytest

from okr_rollout.db import session_scope
from okr_rollout.webhooks import guard, service
from okr_rollout.webhooks.mapping import PUBLIC_EVENT_TYPES, internal_types_for, public_event_type
from okr_rollout.webhooks.schemas import SubscriptionCreate
from tests.webhooks.conftest import ADMIN, Outbox
from tests.webhooks.receiver import Receiver


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("10.0.0.1", "private"), ("172.16.5.4", "private"), ("192.168.1.1", "private"), ("fd00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("224.0.0.251", "multicast"), ("ff02::1", "multicast"), ("240.0.0.1", "private"),
    ("100.64.0.1", "non-global"), ("93.184.215.14", None), ("2606:4700::1111", None),
])
def test_address_kinds(address: str, kind: str | None) -> None:
    assert guard.address_kind(ipaddress.ip_address(address)) == kind


def test_url_shapes() -> None:
    assert guard.url_problem("https://crm.example.com/hooks?x=1") is None
    assert guard.url_problem("HTTP://crm.example.com") is None
    for url in ("crm.example.com/hooks", "mailto:a@b.c", "https:///path", "http://:80/", "http://h:0/",
                "http://h:http/", "javascript:alert(1)", "file:///etc/passwd"):
        assert guard.url_problem(url) is not None, url


def test_every_address_of_a_name_must_be_public(monkeypatch: pytest.MonkeyPatch) -> None:
    def two_addresses(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    with pytest.raises(guard.RefusedAddress, match=r"10\.0\.0\.7, a private address"):
        guard.check_url("https://crm.example.com/h", allow_private=False)
    guard.check_url("https://crm.example.com/h", allow_private=True)  # allowed: not even resolved


def test_a_name_repointed_after_the_check_is_not_connected_to(outbox: Outbox, receiver: Receiver,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name is public when checked, then resolves to loopback when the connection is made.
    The connection only goes to addresses checked at that moment, so the loopback receiver gets nothing."""
    real = socket.getaddrinfo
    lookups: Counter[str] = Counter()

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "crm.example.com":
            return real(host, port, *args, **kwargs)
        lookups[host] += 1
        address = "93.184.215.14" if lookups[host] <= 2 else "127.0.0.1"  # subscribe, pre-send check, connect
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = receiver.url().rsplit(":", 1)[1].split("/")[0]
    with session_scope(outbox.factory) as session:
        subscription = service.create(session, ADMIN, SubscriptionCreate(
            url=f"http://crm.example.com:{port}/hook", event_types=["engagement.created"]), outbox.clock.now,
            allow_private=False)
        subscription_id = subscription.id
    outbox.append()
    assert outbox.deliver(webhooks_allow_private=False) == 0
    assert receiver.received == []
    assert lookups["crm.example.com"] == 3
    [attempt] = outbox.attempts(subscription_id)
    assert attempt.error is not None
    assert attempt.error.startswith("ConnectError") and "127.0.0.1, a loopback address" in attempt.error


def test_the_event_mapping() -> None:
    assert set(PUBLIC_EVENT_TYPES) == {"engagement.created", "engagement.phase_changed", "gate.refused",
                                       "task.completed", "quarter.scored", "reminder.overdue", "readiness.changed"}
    assert public_event_type("engagement.transitioned", {}) == "engagement.phase_changed"
    assert public_event_type("engagement.created", {}) == "engagement.created"
    for internal in ("gate.refused", "quarter.scored", "reminder.overdue", "readiness.changed"):
        assert public_event_type(internal, {}) == internal
    assert public_event_type("task.updated", {"changed": ["done"], "done": True}) == "task.completed"
    assert public_event_type("task.updated", {"changed": ["done"], "done": False}) is None  # reopened
    assert public_event_type("task.updated", {"changed": ["due_at"], "done": True}) is None
    for internal in ("organization.created", "checklist.checked", "webhook.disabled", "engagement.phase_changed"):
        assert public_event_type(internal, {}) is None
    assert internal_types_for(["task.completed", "engagement.phase_changed"]) == ["engagement.transitioned",
                                                                                  "task.updated"]
