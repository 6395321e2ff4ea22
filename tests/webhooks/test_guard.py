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
    # IPv6 addresses that lead to an IPv4 one are judged by it: 6to4, Teredo, NAT64, IPv4-mapped and -compatible.
    ("2002:7f00:1::", "loopback"), ("2002:a9fe:a9fe::", "link-local"), ("2002:0a00:0001::1", "private"),
    ("2002:c0a8:0101::", "private"), ("2002:5db8:d70e::1", None),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo, client 127.0.0.1 (obfuscated: 80ff:fffe)
    ("2001:0:4136:e378:8000:63bf:5647:2af1", "private"),  # Teredo to a public client: 2001::/32 is not global
    ("64:ff9b::7f00:1", "loopback"), ("64:ff9b::a9fe:a9fe", "link-local"), ("64:ff9b::a00:1", "private"),
    ("64:ff9b::5db8:d70e", None), ("64:ff9b:1::a00:1", "reserved"),
    ("::ffff:169.254.169.254", "link-local"), ("::ffff:10.0.0.1", "private"), ("::ffff:93.184.215.14", None),
    ("::7f00:1", "loopback"), ("::a9fe:a9fe", "link-local"), ("::5db8:d70e", "reserved"),
    ("fec0::1", "site-local"), ("feff::1", "site-local"), ("fc00::1", "private"), ("fdff::1", "private"),
    ("ff0e::1", "multicast"), ("ff05::2", "multicast"), ("2001:db8::1", "private"), ("100::1", "private"),
])
def test_address_kinds(address: str, kind: str | None) -> None:
    assert guard.address_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["2002:7f00:1::", "2002:a9fe:a9fe::", "fec0::1", "64:ff9b::7f00:1",
                                     "2001:0:4136:e378:8000:63bf:80ff:fffe", "::ffff:127.0.0.1", "::7f00:1",
                                     "fc00::1", "ff0e::1", "::", "10.0.0.7"])
def test_a_name_leading_to_an_internal_address_is_refused_without_saying_which(
        address: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The refusal says "not a public address", never the address the name resolved to (nor its kind); the
    server's log keeps it for the operator."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET

    def internal(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", internal)
    with caplog.at_level("WARNING", logger="okr_rollout.webhooks.guard"), \
            pytest.raises(guard.RefusedAddress) as refused:
        guard.check_url("https://metadata.internal.example/h", allow_private=False)
    assert str(refused.value) == "host 'metadata.internal.example' is not a public address"
    assert refused.value.reason.as_dict() == {"en": "is not a public address", "zh-TW": "不是公開位址"}
    assert refused.value.rule == "private_address"
    assert str(ipaddress.ip_address(address)) in caplog.text


def test_a_name_that_does_not_resolve_is_refused_like_an_internal_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether an internal name exists is not told either."""
    def no_such_host(*_args: Any, **_kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(guard.RefusedAddress) as refused:
        guard.check_url("https://intranet.invalid/h", allow_private=False)
    assert (str(refused.value), refused.value.rule) == ("host 'intranet.invalid' is not a public address",
                                                       "private_address")


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
    with pytest.raises(guard.RefusedAddress, match=r"^host 'crm.example.com' is not a public address$"):
        guard.check_url("https://crm.example.com/h", allow_private=False)
    guard.check_url("https://crm.example.com/h", allow_private=True)  # allowed: not even resolved


def test_a_name_repointed_after_the_check_is_not_connected_to(outbox: Outbox, receiver: Receiver,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
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
    assert attempt.error.startswith("ConnectError") and "is not a public address" in attempt.error
    assert "127.0.0.1" not in attempt.error
    assert "127.0.0.1, a loopback address" in caplog.text


def test_the_event_mapping() -> None:
    assert set(PUBLIC_EVENT_TYPES) == {"engagement.created", "engagement.phase_changed", "gate.refused",
                                       "task.completed", "quarter.scored", "reminder.overdue", "readiness.changed",
                                       "engagement.health_changed", "record.corrected", "record.voided",
                                       "quarter.reopened", "wave.opened", "wave.phase_changed",
                                       "engagement.handed_to_internal_coaches"}
    assert public_event_type("wave.transitioned", {}) == "wave.phase_changed"
    assert public_event_type("engagement.transitioned", {}) == "engagement.phase_changed"
    assert public_event_type("engagement.created", {}) == "engagement.created"
    for internal in ("gate.refused", "quarter.scored", "reminder.overdue", "readiness.changed", "record.corrected",
                     "record.voided", "quarter.reopened", "engagement.health_changed"):
        assert public_event_type(internal, {}) == internal
    assert public_event_type("task.updated", {"changed": ["done"], "done": True}) == "task.completed"
    assert public_event_type("task.updated", {"changed": ["done"], "done": False}) is None  # reopened
    assert public_event_type("task.updated", {"changed": ["due_at"], "done": True}) is None
    for internal in ("organization.created", "checklist.checked", "webhook.disabled", "engagement.phase_changed"):
        assert public_event_type(internal, {}) is None
    assert internal_types_for(["task.completed", "engagement.phase_changed"]) == ["engagement.transitioned",
                                                                                  "task.updated"]
