"""/api/v1/tokens: an administrator issues a token for a CRM or a coach (shown once, stored hashed), lists tokens
(never their secrets) and revokes them; each recorded in the history. Anyone else finds nothing there."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from okr_rollout.models import ApiToken, Event
from tests.api._helpers import (
    assert_problem,
    collect_pages,
    create_organization,
    error_fields,
    fire,
    get_json,
    start_journey,
)
from tests.conftest import Clock, Tokens, auth

TOKENS = "/api/v1/tokens"
ZH = {"Accept-Language": "zh-TW"}


def issue(client: TestClient, token: str, **body: Any) -> dict[str, Any]:
    response = client.post(TOKENS, json={"role": "integration", "name": "crm", **body}, headers=auth(token))
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def history(db: Callable[[], Session], *types: str) -> list[Event]:
    with db() as session:
        rows = list(session.scalars(select(Event).where(Event.type.in_(types)).order_by(Event.id)))
        session.expunge_all()
        return rows


def test_an_admin_issues_an_integration_token_shown_once_and_stored_hashed(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock
) -> None:
    response = app_client.post(TOKENS, json={"role": "integration", "name": "crm-2", "scopes": ["transitions"]},
                               headers=auth(tokens.admin))

    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    issued = response.json()
    assert response.headers["location"] == f"{TOKENS}/{issued['id']}"
    raw = issued["token"]
    assert raw.startswith("okr_") and issued["prefix"] == raw[:10]
    assert (issued["role"], issued["name"], issued["scopes"], issued["person_id"], issued["revoked_at"]) == (
        "integration", "crm-2", ["transitions"], None, None)
    assert issued["created_at"] == clock().isoformat().replace("+00:00", "Z")
    # It works, with its scope: it moves an engagement.
    journey = start_journey(app_client, tokens)
    assert fire(app_client, raw, journey.engagement_id, "schedule_executive_meeting").status_code == 200
    # Only its hash is kept, and the history says who issued it, without the secret.
    with db() as session:
        stored = session.get(ApiToken, issued["id"])
        assert stored is not None
        assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    [event] = history(db, "token.issued")
    assert event.actor == "admin:admin"
    assert event.payload == {"token_id": issued["id"], "name": "crm-2", "role": "integration", "person_id": None,
                             "scopes": ["transitions"], "prefix": raw[:10]}
    assert raw not in str(event.payload)


def test_a_retry_under_the_same_idempotency_key_does_not_show_the_token_again(
    app_client: TestClient, tokens: Tokens
) -> None:
    headers = auth(tokens.admin, **{"Idempotency-Key": "issue-crm"})
    body = {"role": "integration", "name": "crm"}
    first = app_client.post(TOKENS, json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = app_client.post(TOKENS, json=body, headers=headers)
    problem = assert_problem(again, 409, slug="secret-shown-once")
    assert first.json()["token"] not in again.text
    assert problem["original_status"] == 201
    assert [t["name"] for t in collect_pages(app_client, tokens.admin, TOKENS)].count("crm") == 2  # fixture's + one


def test_an_admin_issues_a_coach_token_that_sees_what_the_coach_sees(app_client: TestClient, tokens: Tokens) -> None:
    theirs = start_journey(app_client, tokens)
    others = start_journey(app_client, tokens, coach_ids=[tokens.other_coach_person_id])
    issued = issue(app_client, tokens.admin, role="coach", name="chen-laptop", person_id=tokens.coach_person_id)
    assert issued["person_id"] == tokens.coach_person_id
    seen = [e["id"] for e in collect_pages(app_client, issued["token"], "/api/v1/engagements")]
    assert seen == [theirs.engagement_id]
    assert_problem(app_client.get(f"/api/v1/engagements/{others.engagement_id}", headers=auth(issued["token"])), 404)


def test_the_list_is_paginated_and_never_shows_a_secret(app_client: TestClient, tokens: Tokens) -> None:
    issued = [issue(app_client, tokens.admin, name=f"crm-{i}") for i in range(3)]
    listed = collect_pages(app_client, tokens.admin, TOKENS, limit=2)
    assert [t["id"] for t in listed][-3:] == [t["id"] for t in issued]
    assert len(listed) == 5 + 3  # the fixture's five tokens, then these
    for item in listed:
        assert "token" not in item and "token_hash" not in item
    page = app_client.get(TOKENS, params={"limit": 8}, headers=auth(tokens.admin))
    for token in [*(t["token"] for t in issued), tokens.admin, tokens.integration, tokens.coach]:
        assert token not in page.text
        assert hashlib.sha256(token.encode()).hexdigest() not in page.text
    one = get_json(app_client, tokens.admin, f"{TOKENS}/{issued[0]['id']}")
    assert one == {k: v for k, v in issued[0].items() if k != "token"}


def test_a_revoked_token_stops_at_once_and_revoking_again_changes_nothing(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock
) -> None:
    issued = issue(app_client, tokens.admin)
    assert app_client.get("/api/v1/organizations", headers=auth(issued["token"])).status_code == 200
    clock.advance(minutes=5)

    assert app_client.delete(f"{TOKENS}/{issued['id']}", headers=auth(tokens.admin)).status_code == 204

    assert_problem(app_client.get("/api/v1/organizations", headers=auth(issued["token"])), 401)
    revoked_at = get_json(app_client, tokens.admin, f"{TOKENS}/{issued['id']}")["revoked_at"]
    assert revoked_at == clock().isoformat().replace("+00:00", "Z")
    clock.advance(minutes=5)
    assert app_client.delete(f"{TOKENS}/{issued['id']}", headers=auth(tokens.admin)).status_code == 204
    assert get_json(app_client, tokens.admin, f"{TOKENS}/{issued['id']}")["revoked_at"] == revoked_at
    [event] = history(db, "token.revoked")
    assert (event.actor, event.payload["token_id"], event.payload["name"]) == ("admin:admin", issued["id"], "crm")
    assert_problem(app_client.delete(f"{TOKENS}/31337", headers=auth(tokens.admin)), 404)


def test_an_admin_token_does_not_revoke_itself(app_client: TestClient, tokens: Tokens) -> None:
    """Revoking the token of the request would lock its administrator out mid-session: another admin token (or
    the command line) does it."""
    own_id = next(t["id"] for t in collect_pages(app_client, tokens.admin, TOKENS) if t["name"] == "admin")
    problem = assert_problem(app_client.delete(f"{TOKENS}/{own_id}", headers=auth(tokens.admin)), 409)
    assert "okr-rollout token revoke" in problem["detail"]
    chinese = app_client.delete(f"{TOKENS}/{own_id}", headers=auth(tokens.admin, **ZH))
    assert "本次請求所用的權杖" in assert_problem(chinese, 409)["detail"]
    assert get_json(app_client, tokens.admin, f"{TOKENS}/{own_id}")["revoked_at"] is None


def test_only_administrators_find_the_tokens(app_client: TestClient, tokens: Tokens) -> None:
    issued = issue(app_client, tokens.admin)
    for token in (tokens.integration, tokens.integration_transitions, tokens.coach):
        for method, path, body in (("POST", TOKENS, {"role": "integration", "name": "mine"}), ("GET", TOKENS, None),
                                   ("GET", f"{TOKENS}/{issued['id']}", None),
                                   ("DELETE", f"{TOKENS}/{issued['id']}", None)):
            response = app_client.request(method, path, json=body, headers=auth(token))
            assert_problem(response, 404, slug="not-found")
    assert_problem(app_client.get(TOKENS), 401)
    assert app_client.get("/api/v1/organizations", headers=auth(issued["token"])).status_code == 200
    assert [t["name"] for t in collect_pages(app_client, tokens.admin, TOKENS)].count("mine") == 0


def test_what_a_token_acts_as_is_checked_field_by_field_in_the_callers_language(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Session]
) -> None:
    organization = create_organization(app_client, tokens.admin)
    member = app_client.post(f"/api/v1/organizations/{organization['id']}/people", json={"name": "Member"},
                             headers=auth(tokens.admin)).json()
    refused: list[tuple[dict[str, Any], str]] = [
        ({"role": "admin", "name": "root"}, "body.role"),
        ({"role": "integration", "name": "crm", "scopes": ["everything"]}, "body.scopes[0]"),
        ({"role": "integration", "name": "crm", "person_id": tokens.coach_person_id}, "body.person_id"),
        ({"role": "coach", "name": "chen"}, "body.person_id"),
        ({"role": "coach", "name": "chen", "person_id": tokens.coach_person_id, "scopes": ["transitions"]},
         "body.scopes"),
        ({"role": "coach", "name": "someone", "person_id": member["id"]}, "body.person_id"),
        ({"role": "internal_coach", "name": "ic", "person_id": member["id"]}, "body.person_id"),
        ({"role": "coach", "name": "nobody", "person_id": 31337}, "body.person_id"),
        ({"role": "integration", "name": "two\nlines"}, "body.name"),
    ]
    for body, field in refused:
        problem = assert_problem(app_client.post(TOKENS, json=body, headers=auth(tokens.admin)), 422)
        assert error_fields(problem) == [field], body
    chinese = app_client.post(TOKENS, json={"role": "coach", "name": "chen"}, headers=auth(tokens.admin, **ZH))
    assert "教練的權杖代表該名教練" in assert_problem(chinese, 422)["errors"][0]["message"]
    assert history(db, "token.issued") == []


def test_an_internal_coach_token_is_bound_to_the_persons_organization(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    other = start_journey(app_client, tokens)
    internal = app_client.post(f"/api/v1/organizations/{journey.organization_id}/people",
                               json={"name": "Internal", "roles": ["internal_coach"]}, headers=auth(tokens.admin))
    assert internal.status_code == 201, internal.text
    issued = issue(app_client, tokens.admin, role="internal_coach", name="ic", person_id=internal.json()["id"])
    assert issued["organization_id"] == journey.organization_id
    assert [e["id"] for e in collect_pages(app_client, issued["token"], "/api/v1/engagements")] == [
        journey.engagement_id]
    assert_problem(app_client.get(f"/api/v1/engagements/{other.engagement_id}", headers=auth(issued["token"])), 404)
