"""/api/v1/webhook-subscriptions: who may use it, what it validates, the secret shown once, attempts, replay."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from standardwebhooks import Webhook

from okr_rollout.db import make_session_factory
from okr_rollout.settings import Settings
from okr_rollout.webhooks.delivery import deliver_pending
from tests.api._helpers import assert_problem, collect_pages, error_fields, get_json, start_journey
from tests.conftest import Clock, Tokens, auth
from tests.webhooks.conftest import allow_private
from tests.webhooks.receiver import Receiver

HOOKS = "/api/v1/webhook-subscriptions"
PUBLIC_ADDRESS = "93.184.215.14"


def subscribe(client: TestClient, token: str, url: str, event_types: list[str] | None = None,
              **fields: Any) -> dict[str, Any]:
    body = {"url": url, "event_types": event_types or ["engagement.created"], **fields}
    response = client.post(HOOKS, json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def deliver(client: TestClient, engine: Engine, clock: Clock) -> int:
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    unpaced = settings.model_copy(update={"webhook_rate_per_subscription": 0})  # the clock stands still
    with time_machine.travel(clock.now, tick=False):
        return deliver_pending(make_session_factory(engine), unpaced, clock.now)


@pytest.fixture
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """crm.example.com resolves to a public address; every other name as usual."""
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "crm.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_ADDRESS, port or 443))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_the_secret_is_shown_once(api: TestClient, tokens: Tokens, public_dns: None) -> None:
    start_journey(api, tokens)  # some history already exists
    response = api.post(HOOKS, json={"url": "https://crm.example.com/hooks", "description": "CRM",
                                     "event_types": ["engagement.created", "task.completed", "engagement.created"]},
                        headers=auth(tokens.integration))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secret"].startswith("whsec_")
    Webhook(created["secret"])  # a secret the standardwebhooks package accepts
    assert response.headers["location"] == f"{HOOKS}/{created['id']}"
    assert response.headers["etag"] == f'"v{created["version"]}"'
    assert created["event_types"] == ["engagement.created", "task.completed"]
    assert (created["enabled"], created["disabled_reason"], created["retry_count"]) == (True, None, 0)
    assert created["created_by"] == "integration:crm"
    assert created["created_at"] == "2026-01-05T09:00:00Z"
    assert created["cursor"] > 0  # starts at the end of the history: nothing from before is sent
    read = get_json(api, tokens.admin, f"{HOOKS}/{created['id']}")
    listed = collect_pages(api, tokens.integration, HOOKS)
    assert "secret" not in read and all("secret" not in s for s in listed)
    assert read == {k: v for k, v in created.items() if k != "secret"}
    assert listed == [read]


def test_only_admins_and_integrations_see_webhooks(api: TestClient, tokens: Tokens) -> None:
    allow_private(api)
    created = subscribe(api, tokens.admin, "http://127.0.0.1:9/hook")
    item = f"{HOOKS}/{created['id']}"
    requests: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", HOOKS, None), ("POST", HOOKS, {"url": "http://127.0.0.1:9/x", "event_types": ["gate.refused"]}),
        ("GET", item, None), ("DELETE", item, None), ("GET", f"{item}/attempts", None),
        ("POST", f"{item}/replay?from=1", None)]
    for token in (tokens.coach, tokens.other_coach):
        for method, path, body in requests:
            assert_problem(api.request(method, path, json=body, headers=auth(token)), 404, slug="not-found")
    for method, path, body in requests:
        assert_problem(api.request(method, path, json=body), 401)
    assert [s["id"] for s in collect_pages(api, tokens.integration, HOOKS)] == [created["id"]]
    assert get_json(api, tokens.admin, item)["version"] == created["version"]


INVALID: list[tuple[dict[str, Any], str, str]] = [
    ({"url": "ftp://crm.example.com/x"}, "body.url", "url"),
    ({"url": "/hooks/relative"}, "body.url", "url"),
    ({"url": "https://"}, "body.url", "url"),
    ({"url": "http://crm.example.com:99999/x"}, "body.url", "url"),
    ({"url": ""}, "body.url", "string_too_short"),
    ({"event_types": ["engagement.deleted"]}, "body.event_types[0]", "literal_error"),
    ({"event_types": []}, "body.event_types", "too_short"),
    ({"event_types": "engagement.created"}, "body.event_types", "list_type"),
    ({"secret": "whsec_mine"}, "body.secret", "extra_forbidden"),
]


def test_invalid_subscriptions_are_422_naming_field_and_rule(api: TestClient, tokens: Tokens,
                                                             public_dns: None) -> None:
    for body, field, rule in INVALID:
        payload = {"url": "https://crm.example.com/hooks", "event_types": ["engagement.created"], **body}
        response = api.post(HOOKS, json=payload, headers=auth(tokens.admin))
        problem = assert_problem(response, 422, slug="validation-error")
        assert error_fields(problem) == [field], body
        assert problem["errors"][0]["type"] == rule, body
        assert problem["errors"][0]["message"]
    assert collect_pages(api, tokens.admin, HOOKS) == []


PRIVATE = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://0.0.0.0/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://224.0.0.1/hook",
    "http://100.64.0.1/hook",
    "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::]/latest/meta-data",  # 6to4 of 169.254.169.254
    "http://[fec0::1]/hook",  # site-local
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",  # NAT64 of 169.254.169.254
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",  # Teredo, client 127.0.0.1
    "http://[::7f00:1]/hook",  # IPv4-compatible 127.0.0.1
    "http://[fc00::1]/hook",
    "http://[ff0e::1]/hook",
]


def test_private_addresses_are_refused_unless_allowed(api: TestClient, tokens: Tokens) -> None:
    """Refused with "not a public address" in both languages, never saying what the host resolved to."""
    for url in PRIVATE:
        problem = assert_problem(api.post(HOOKS, json={"url": url, "event_types": ["gate.refused"]},
                                          headers=auth(tokens.admin)), 422)
        assert error_fields(problem) == ["body.url"], url
        [error] = problem["errors"]
        assert (error["type"], error["message"]) == ("private_address", "is not a public address"), url
        assert error["localized"] == {"en": "is not a public address", "zh-TW": "不是公開位址"}
        assert problem["detail"] == "body.url is not a public address"
    localhost = assert_problem(api.post(HOOKS, json={"url": "http://localhost/hook", "event_types": ["gate.refused"]},
                                        headers=auth(tokens.admin)), 422)
    assert "127.0.0.1" not in json.dumps(localhost) and "loopback" not in json.dumps(localhost)
    assert collect_pages(api, tokens.admin, HOOKS) == []
    allow_private(api)
    for url in PRIVATE:
        assert subscribe(api, tokens.admin, url, ["gate.refused"])["url"] == url


def test_a_host_that_does_not_resolve_is_422(api: TestClient, tokens: Tokens,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*_args: Any, **_kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    problem = assert_problem(api.post(HOOKS, json={"url": "https://crm.invalid/h", "event_types": ["gate.refused"]},
                                      headers=auth(tokens.admin)), 422)
    assert (problem["errors"][0]["type"], problem["errors"][0]["message"]) == ("private_address",
                                                                           "is not a public address")


def test_delete_removes_the_subscription_and_its_attempts(api: TestClient, tokens: Tokens, receiver: Receiver,
                                                          engine: Engine, clock: Clock) -> None:
    allow_private(api)
    created = subscribe(api, tokens.admin, receiver.url())
    start_journey(api, tokens)
    assert deliver(api, engine, clock) == 1
    item = f"{HOOKS}/{created['id']}"
    assert len(collect_pages(api, tokens.admin, f"{item}/attempts")) == 1
    stale = api.delete(item, headers=auth(tokens.admin, **{"If-Match": '"v99"'}))
    assert_problem(stale, 412)
    assert api.delete(item, headers=auth(tokens.integration)).status_code == 204
    assert_problem(api.get(item, headers=auth(tokens.admin)), 404)
    assert_problem(api.get(f"{item}/attempts", headers=auth(tokens.admin)), 404)
    assert_problem(api.delete(item, headers=auth(tokens.admin)), 404)
    assert collect_pages(api, tokens.admin, HOOKS) == []
    start_journey(api, tokens)
    assert deliver(api, engine, clock) == 0
    assert len(receiver.received) == 1


def test_journey_events_reach_the_crm_and_attempts_are_listed_newest_first(
        api: TestClient, tokens: Tokens, receiver: Receiver, engine: Engine, clock: Clock) -> None:
    allow_private(api)
    created = subscribe(api, tokens.integration, receiver.url(),
                        ["engagement.created", "engagement.phase_changed", "task.completed"])
    receiver.secret = created["secret"]
    journey = start_journey(api, tokens)
    task = collect_pages(api, tokens.coach, f"/api/v1/engagements/{journey.engagement_id}/tasks")[0]
    # A change of due date is a task.updated event too, but not a completion: not sent.
    assert api.patch(f"/api/v1/tasks/{task['id']}", json={"due_at": "2026-02-01T09:00:00Z"},
                     headers=auth(tokens.coach)).status_code == 200
    assert api.patch(f"/api/v1/tasks/{task['id']}", json={"done": True},
                     headers=auth(tokens.coach)).status_code == 200
    moved = api.post(f"/api/v1/engagements/{journey.engagement_id}/transitions",
                     json={"trigger": "schedule_executive_meeting"}, headers=auth(tokens.coach))
    assert moved.status_code == 200, moved.text
    receiver.answer(500)
    assert deliver(api, engine, clock) == 0
    clock.advance(minutes=1)
    assert deliver(api, engine, clock) == 3
    documents = [r.verified for r in receiver.delivered]
    assert [d["type"] for d in documents] == ["engagement.created", "task.completed", "engagement.phase_changed"]
    assert {d["data"]["engagement_id"] for d in documents} == {journey.engagement_id}
    assert documents[1]["data"]["task_id"] == task["id"]
    assert documents[2]["data"]["to"] == moved.json()["engagement"]["phase"]

    item = f"{HOOKS}/{created['id']}"
    attempts = collect_pages(api, tokens.admin, f"{item}/attempts", limit=1)
    assert [(a["attempt"], a["succeeded"], a["status_code"]) for a in attempts] == [
        (1, True, 200), (1, True, 200), (2, True, 200), (1, False, 500)]
    assert [a["event_id"] for a in attempts] == [d["data"]["event_id"] for d in reversed(documents)] + [
        documents[0]["data"]["event_id"]]
    assert attempts[-1]["error"] == "HTTP 500"
    assert attempts[-1]["webhook_id"] == attempts[-2]["webhook_id"] == receiver.received[0].webhook_id
    assert [a["attempted_at"] for a in attempts] == ["2026-01-05T09:01:00Z"] * 3 + ["2026-01-05T09:00:00Z"]
    assert [a["id"] for a in attempts] == sorted((a["id"] for a in attempts), reverse=True)


def test_replay_sends_again_from_an_event(api: TestClient, tokens: Tokens, receiver: Receiver, engine: Engine,
                                          clock: Clock) -> None:
    allow_private(api)
    created = subscribe(api, tokens.admin, receiver.url())
    receiver.secret = created["secret"]
    for _ in range(3):
        start_journey(api, tokens)
    assert deliver(api, engine, clock) == 3
    _first, second, third = receiver.delivered
    item = f"{HOOKS}/{created['id']}"
    replayed = api.post(f"{item}/replay", params={"from": second.event_id}, headers=auth(tokens.integration))
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["cursor"] == second.event_id - 1
    assert replayed.headers["etag"] == f'"v{replayed.json()["version"]}"'
    assert deliver(api, engine, clock) == 2
    again = receiver.delivered[3:]
    assert [r.event_id for r in again] == [second.event_id, third.event_id]
    assert [r.webhook_id for r in again] == [second.webhook_id, third.webhook_id]
    assert all(r.verify_error is None for r in receiver.received)


def test_replay_rules(api: TestClient, tokens: Tokens, receiver: Receiver, engine: Engine, clock: Clock) -> None:
    allow_private(api)
    created = subscribe(api, tokens.admin, receiver.url())
    item = f"{HOOKS}/{created['id']}"
    problem = assert_problem(api.post(f"{item}/replay", params={"from": 10_000}, headers=auth(tokens.admin)), 422)
    assert (error_fields(problem), problem["errors"][0]["type"]) == (["query.from"], "unknown_event")
    problem = assert_problem(api.post(f"{item}/replay", headers=auth(tokens.admin)), 422)
    assert error_fields(problem) == ["query.from"]
    start_journey(api, tokens)
    start_journey(api, tokens)
    receiver.answer(500)
    deliver(api, engine, clock)
    cursor = get_json(api, tokens.admin, item)["cursor"]
    forward = api.post(f"{item}/replay", params={"from": cursor + 2}, headers=auth(tokens.admin))
    assert assert_problem(forward, 422)["errors"][0]["type"] == "replay_forward"
    assert_problem(api.post(f"{HOOKS}/999/replay", params={"from": 1}, headers=auth(tokens.admin)), 404)
    stale = api.post(f"{item}/replay", params={"from": 1}, headers=auth(tokens.admin, **{"If-Match": '"v1"'}))
    assert_problem(stale, 412)


def test_a_disabled_subscription_says_why_and_replay_resumes_it(api: TestClient, tokens: Tokens,
                                                                receiver: Receiver, engine: Engine,
                                                                clock: Clock) -> None:
    allow_private(api)
    created = subscribe(api, tokens.admin, receiver.url())
    start_journey(api, tokens)
    receiver.answer(410)
    deliver(api, engine, clock)
    item = f"{HOOKS}/{created['id']}"
    disabled = get_json(api, tokens.admin, item)
    assert disabled["enabled"] is False
    assert "410" in disabled["disabled_reason"]["en"] and "410" in disabled["disabled_reason"]["zh-TW"]
    first_event = receiver.received[0].event_id
    resumed = api.post(f"{item}/replay", params={"from": first_event}, headers=auth(tokens.admin)).json()
    assert (resumed["enabled"], resumed["disabled_reason"], resumed["retry_count"]) == (True, None, 0)
    assert deliver(api, engine, clock) == 1
    assert [r.event_id for r in receiver.delivered] == [first_event]


def test_webhook_routes_are_documented(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    operations: list[tuple[str, str, str]] = [
        ("post", HOOKS, "201"), ("get", HOOKS, "200"), ("get", HOOKS + "/{subscription_id}", "200"),
        ("delete", HOOKS + "/{subscription_id}", "204"), ("get", HOOKS + "/{subscription_id}/attempts", "200"),
        ("post", HOOKS + "/{subscription_id}/replay", "200")]
    for method, path, success in operations:
        missing = {success, "401", "404", "422", "503"} - set(paths[path][method]["responses"])
        assert not missing, (method, path, missing)
    schema = api.get("/openapi.json").json()["components"]["schemas"]["SubscriptionCreate"]
    assert "task.completed" in str(schema)

