"""API conventions a client relies on: problem details, documented statuses, idempotent retries,
ETag / If-Match, cursor pagination, RFC 3339 UTC times."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from okr_rollout.auth.service import hash_token, revoke_token
from okr_rollout.models import ApiToken, Event, IdempotencyRecord
from tests.api._helpers import (
    PROBLEM_JSON,
    RFC3339_UTC,
    assert_problem,
    collect_pages,
    create_organization,
    documented_answer,
    error_fields,
    event_types,
    fire,
    get_json,
    start_journey,
    times_in,
)
from tests.conftest import Clock, Tokens, auth

ORGS = "/api/v1/organizations"
MIB = 1024 * 1024


# --- problem details ---------------------------------------------------------------------------


def test_unknown_field_and_wrong_type_are_422_naming_each_field(app_client: TestClient, tokens: Tokens) -> None:
    response = app_client.post(ORGS, json={"name": 7, "headcount": "many", "colour": "red"},
                               headers=auth(tokens.admin))
    problem = assert_problem(response, 422, slug="validation-error")
    assert problem["instance"] == ORGS
    by_field = {e["field"]: e for e in problem["errors"]}
    assert set(by_field) == {"body.name", "body.headcount", "body.colour"}
    assert by_field["body.colour"]["message"] == "unknown field"
    assert by_field["body.colour"]["type"] == "extra_forbidden"
    assert by_field["body.headcount"]["type"] == "int_parsing"
    assert by_field["body.name"]["type"] == "string_type"
    for error in problem["errors"]:
        assert error["message"]
        assert error["field"] in problem["detail"]
    assert collect_pages(app_client, tokens.admin, ORGS) == []


def test_query_parameters_are_validated_as_problems(app_client: TestClient, tokens: Tokens) -> None:
    for query, field in [("limit=0", "query.limit"), ("limit=501", "query.limit"), ("limit=ten", "query.limit")]:
        problem = assert_problem(app_client.get(f"{ORGS}?{query}", headers=auth(tokens.admin)), 422)
        assert error_fields(problem) == [field]
    problem = assert_problem(app_client.get("/api/v1/engagements?coach_id=someone", headers=auth(tokens.admin)), 422)
    assert error_fields(problem) == ["query.coach_id"]


def test_malformed_json_is_400(app_client: TestClient, tokens: Tokens) -> None:
    org = create_organization(app_client, tokens.admin)
    headers = auth(tokens.admin, **{"Content-Type": "application/json"})
    for method, path in [("POST", ORGS), ("PATCH", f"{ORGS}/{org['id']}"), ("POST", "/api/v1/engagements")]:
        response = app_client.request(method, path, content=b'{"name": "Acme", "headcount": ', headers=headers)
        assert_problem(response, 400, slug="bad-request")
    assert collect_pages(app_client, tokens.admin, ORGS) == [org]


def test_a_body_that_is_not_an_object_is_422(app_client: TestClient, tokens: Tokens) -> None:
    problem = assert_problem(app_client.post(ORGS, json=["Acme", 40], headers=auth(tokens.admin)), 422)
    assert error_fields(problem) == ["body"]


def test_unknown_ids_and_routes_are_404_problems(app_client: TestClient, tokens: Tokens) -> None:
    for path in (f"{ORGS}/31337", "/api/v1/engagements/31337", "/api/v1/nowhere"):
        problem = assert_problem(app_client.get(path, headers=auth(tokens.admin)), 404, slug="not-found")
        assert problem["instance"] == path


def test_body_over_one_mib_is_413_and_nothing_is_written(app_client: TestClient, tokens: Tokens) -> None:
    payload = {"name": "Big", "headcount": 3, "mission": "m" * MIB}
    response = app_client.post(ORGS, json=payload, headers=auth(tokens.admin))
    assert_problem(response, 413, slug="payload-too-large")
    keyed = app_client.post(ORGS, json=payload, headers=auth(tokens.admin, **{"Idempotency-Key": "big-1"}))
    assert_problem(keyed, 413)
    org = create_organization(app_client, tokens.admin)
    patched = app_client.patch(f"{ORGS}/{org['id']}", json={"mission": "m" * MIB}, headers=auth(tokens.admin))
    assert_problem(patched, 413)
    assert collect_pages(app_client, tokens.admin, ORGS) == [org]
    # Just under the limit is accepted (the limit is about the body, not the field).
    small = app_client.post(ORGS, json={"name": "Fits", "headcount": 3, "mission": "m" * 4000},
                            headers=auth(tokens.admin))
    assert small.status_code == 201, small.text


# --- OpenAPI documents what the API answers ----------------------------------------------------

WRITE_OPERATIONS = [
    ("post", "/api/v1/organizations", "201"),
    ("patch", "/api/v1/organizations/{organization_id}", "200"),
    ("post", "/api/v1/organizations/{organization_id}/people", "201"),
    ("post", "/api/v1/organizations/{organization_id}/departments", "201"),
    ("post", "/api/v1/engagements", "201"),
    ("post", "/api/v1/engagements/{engagement_id}/transitions", "200"),
    ("patch", "/api/v1/tasks/{task_id}", "200"),
    ("patch", "/api/v1/tasks/{task_id}/checklist/{item_id}", "200"),
]
READ_OPERATIONS = [
    "/api/v1/organizations",
    "/api/v1/organizations/{organization_id}",
    "/api/v1/organizations/{organization_id}/people",
    "/api/v1/organizations/{organization_id}/departments",
    "/api/v1/engagements",
    "/api/v1/engagements/{engagement_id}",
    "/api/v1/engagements/{engagement_id}/readiness",
    "/api/v1/engagements/{engagement_id}/tasks",
    "/api/v1/engagements/{engagement_id}/events",
    "/api/v1/playbooks",
    "/api/v1/playbooks/{playbook_id}/versions/{version}",
]


def openapi(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


def _reads(operation: dict[str, Any], location: str, name: str) -> bool:
    return any(p.get("in") == location and p.get("name", "").lower() == name for p in operation.get("parameters", []))


def test_write_operations_document_every_status_they_answer(app_client: TestClient) -> None:
    paths = openapi(app_client)["paths"]
    for method, path, success in WRITE_OPERATIONS:
        operation = paths[path][method]
        precondition = {"412"} if _reads(operation, "header", "if-match") else set()
        missing = {success, "400", "401", "404", "409", "413", "422", "503", *precondition} - set(
            operation["responses"])
        assert not missing, (method, path, missing)


def test_read_operations_document_every_status_they_answer(app_client: TestClient) -> None:
    paths = openapi(app_client)["paths"]
    for path in READ_OPERATIONS:
        operation = paths[path]["get"]
        bad_cursor = {"400"} if _reads(operation, "query", "cursor") else set()
        missing = {"200", "401", "404", "422", "503", *bad_cursor} - set(operation["responses"])
        assert not missing, (path, missing)


def test_documented_errors_are_problem_documents(app_client: TestClient) -> None:
    """A client generated from the spec must know every 4xx body is application/problem+json."""
    undocumented = []
    document = openapi(app_client)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                response = documented_answer(document, answer)
                if status.startswith("4") and PROBLEM_JSON not in response.get("content", {}):
                    undocumented.append(f"{method.upper()} {path} {status}")
    assert undocumented == []


# --- idempotent retries ------------------------------------------------------------------------


def test_idempotent_replay_returns_the_first_response_and_creates_once(
    app_client: TestClient, tokens: Tokens
) -> None:
    payload = {"name": "Acme", "headcount": 40, "crm_id": "crm-77"}
    headers = auth(tokens.integration, **{"Idempotency-Key": "create-acme-1"})
    first = app_client.post(ORGS, json=payload, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    second = app_client.post(ORGS, json=payload, headers=headers)
    assert second.status_code == 201
    assert second.content == first.content
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["idempotent-replayed"] == "true"
    assert [o["id"] for o in collect_pages(app_client, tokens.admin, ORGS)] == [first.json()["id"]]


@pytest.mark.parametrize("moment", ["INSERT INTO IDEMPOTENCY_RECORDS", "COMMIT"])
def test_a_failure_while_recording_a_keys_outcome_keeps_neither_the_write_nor_the_key(
    app_client: TestClient, tokens: Tokens, engine: Engine, moment: str
) -> None:
    """The write and its key's outcome commit together or not at all. The database fails as the outcome is
    written, or at the commit that follows: 503, no organization, the key free. (Before, the outcome was its own
    later transaction: the organization stayed, the key stayed "running", and the retry got 409 for 5 minutes.)
    The retry then creates it once, and the retry after that is a replay that writes nothing."""
    payload = {"name": "Acme", "headcount": 40}
    headers = auth(tokens.integration, **{"Idempotency-Key": "fails-once"})
    armed, recording = [True], [False]

    def fail() -> None:
        armed[0] = False
        raise OperationalError("(injected)", {}, Exception("the database failed"))

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if armed[0] and statement.lstrip().upper().startswith("INSERT INTO IDEMPOTENCY_RECORDS"):
            recording[0] = True
            if moment != "COMMIT":
                fail()

    def on_commit(_conn: Any) -> None:
        if armed[0] and recording[0] and moment == "COMMIT":
            fail()

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", on_commit)
    try:
        failed = app_client.post(ORGS, json=payload, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "commit", on_commit)
    assert not armed[0], "the failure was never injected"
    assert_problem(failed, 503, slug="unavailable")
    assert int(failed.headers["retry-after"]) > 0
    assert collect_pages(app_client, tokens.admin, ORGS) == []
    with engine.connect() as connection:
        assert list(connection.scalars(select(IdempotencyRecord.state))) == []
        assert list(connection.scalars(select(Event.type))) == []

    retried = app_client.post(ORGS, json=payload, headers=headers)
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers

    writes: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        replayed = app_client.post(ORGS, json=payload, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert (replayed.status_code, replayed.content) == (201, retried.content)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert writes == []
    assert [o["id"] for o in collect_pages(app_client, tokens.admin, ORGS)] == [retried.json()["id"]]
    with engine.connect() as connection:
        assert list(connection.scalars(select(IdempotencyRecord.state))) == ["done"]
        assert list(connection.scalars(select(Event.type))) == ["organization.created"]


def test_same_key_with_another_body_is_422(app_client: TestClient, tokens: Tokens) -> None:
    headers = auth(tokens.integration, **{"Idempotency-Key": "k-1"})
    first = app_client.post(ORGS, json={"name": "Acme", "headcount": 40}, headers=headers)
    assert first.status_code == 201, first.text
    other = app_client.post(ORGS, json={"name": "Acme", "headcount": 41}, headers=headers)
    assert_problem(other, 422)
    assert [o["headcount"] for o in collect_pages(app_client, tokens.admin, ORGS)] == [40]


def test_idempotency_keys_belong_to_their_caller(app_client: TestClient, tokens: Tokens) -> None:
    """Another caller's key never replays someone else's response to it."""
    payload = {"name": "Acme", "headcount": 40}
    first = app_client.post(ORGS, json=payload, headers=auth(tokens.integration, **{"Idempotency-Key": "shared"}))
    second = app_client.post(ORGS, json=payload, headers=auth(tokens.admin, **{"Idempotency-Key": "shared"}))
    assert (first.status_code, second.status_code) == (201, 201)
    assert "idempotent-replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]


def test_idempotent_replay_of_a_transition_moves_once(app_client: TestClient, tokens: Tokens) -> None:
    journey = start_journey(app_client, tokens)
    key = {"Idempotency-Key": "move-1"}
    first = fire(app_client, tokens.coach, journey.engagement_id, "schedule_executive_meeting", **key)
    again = fire(app_client, tokens.coach, journey.engagement_id, "schedule_executive_meeting", **key)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.content == first.content
    assert event_types(app_client, tokens.admin, journey.engagement_id) == ["engagement.created",
                                                                           "engagement.transitioned"]


def test_idempotency_keys_expire(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    headers = auth(tokens.integration, **{"Idempotency-Key": "daily"})
    payload = {"name": "Acme", "headcount": 40}
    first = app_client.post(ORGS, json=payload, headers=headers)
    clock.advance(hours=23)
    assert app_client.post(ORGS, json=payload, headers=headers).headers.get("idempotent-replayed") == "true"
    clock.advance(hours=2)
    later = app_client.post(ORGS, json=payload, headers=headers)
    assert later.status_code == 201
    assert "idempotent-replayed" not in later.headers
    assert later.json()["id"] != first.json()["id"]


def test_a_replay_requires_the_token_to_be_still_valid(app_client: TestClient, tokens: Tokens,
                                                      db: Callable[[], Session]) -> None:
    """A revoked token's retry is 401, like any of its requests: the key's record does not outlive the caller."""
    payload = {"name": "Acme", "headcount": 40}
    headers = auth(tokens.integration, **{"Idempotency-Key": "before-revoking"})
    first = app_client.post(ORGS, json=payload, headers=headers)
    assert first.status_code == 201, first.text
    assert app_client.post(ORGS, json=payload, headers=headers).headers["idempotent-replayed"] == "true"
    with db() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(tokens.integration)))
        assert token is not None
        revoke_token(session, token.id, datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    for body in (payload, {"name": "Other", "headcount": 1}):
        replayed = app_client.post(ORGS, json=body, headers=headers)
        problem = assert_problem(replayed, 401, slug="unauthorized")
        assert problem["detail"] == "The bearer token is unknown or revoked."
        assert replayed.headers["www-authenticate"].startswith("Bearer")
        assert "idempotent-replayed" not in replayed.headers
    assert [o["id"] for o in collect_pages(app_client, tokens.admin, ORGS)] == [first.json()["id"]]


SECRET_OF: dict[str, Callable[[dict[str, Any]], str]] = {
    "calendar feed": lambda body: body["url"].rsplit("/", 1)[1].removesuffix(".ics"),
    "webhook subscription": lambda body: body["secret"],
}


@pytest.mark.parametrize("kind", list(SECRET_OF))
def test_a_response_showing_a_secret_is_recorded_without_it(app_client: TestClient, tokens: Tokens, engine: Engine,
                                                            kind: str) -> None:
    """The feed URL (the feed's only credential, stored hashed) or the webhook signing secret is shown once: the
    key's record keeps that it was issued, never the secret, and a retry is told to issue a new one."""
    if kind == "calendar feed":
        org = create_organization(app_client, tokens.admin)
        person = app_client.post(f"{ORGS}/{org['id']}/people", json={"name": "Ada"}, headers=auth(tokens.admin))
        path, payload = f"{ORGS}/{org['id']}/people/{person.json()['id']}/calendar-token", None
    else:
        app = cast(FastAPI, app_client.app)
        app.state.settings = app.state.settings.model_copy(update={"webhooks_allow_private": True})
        path = "/api/v1/webhook-subscriptions"
        payload = {"url": "http://127.0.0.1:9/h", "event_types": ["gate.refused"]}
    secret_of = SECRET_OF[kind]
    headers = auth(tokens.admin, **{"Idempotency-Key": f"{kind} once"})
    first = app_client.post(path, json=payload, headers=headers)
    assert first.status_code in (200, 201), first.text
    assert first.headers["cache-control"] == "no-store"
    secret = secret_of(first.json())
    with engine.connect() as connection:
        [(state, status, body, stored_headers)] = connection.execute(
            select(IdempotencyRecord.state, IdempotencyRecord.status_code, IdempotencyRecord.body,
                   IdempotencyRecord.headers)).all()
        dumped = b"\n".join(bytes(row[0] or b"") + json.dumps(row[1]).encode() for row in connection.execute(
            select(IdempotencyRecord.body, IdempotencyRecord.headers)))
    assert (state, status, body) == ("withheld", first.status_code, None)
    assert secret.encode() not in dumped and stored_headers["cache-control"] == "no-store"

    retried = app_client.post(path, json=payload, headers=headers)
    problem = assert_problem(retried, 409, slug="secret-shown-once")
    assert problem["original_status"] == first.status_code
    assert set(problem["localized"]) == {"en", "zh-TW"} and problem["localized"]["en"] == problem["detail"]
    assert secret not in retried.text
    assert "idempotent-replayed" not in retried.headers
    fresh = app_client.post(path, json=payload, headers=auth(tokens.admin, **{"Idempotency-Key": f"{kind} again"}))
    assert fresh.status_code == first.status_code and secret_of(fresh.json()) != secret


def test_idempotency_key_too_long_is_422(app_client: TestClient, tokens: Tokens) -> None:
    response = app_client.post(ORGS, json={"name": "A", "headcount": 1},
                               headers=auth(tokens.admin, **{"Idempotency-Key": "k" * 256}))
    assert_problem(response, 422)
    assert collect_pages(app_client, tokens.admin, ORGS) == []


# --- ETag / If-Match ---------------------------------------------------------------------------


def test_reads_carry_an_etag_that_follows_the_version(app_client: TestClient, tokens: Tokens) -> None:
    org = create_organization(app_client, tokens.admin)
    read = app_client.get(f"{ORGS}/{org['id']}", headers=auth(tokens.admin))
    assert read.headers["etag"] == '"v1"'
    app_client.patch(f"{ORGS}/{org['id']}", json={"headcount": 41}, headers=auth(tokens.admin))
    assert app_client.get(f"{ORGS}/{org['id']}", headers=auth(tokens.admin)).headers["etag"] == '"v2"'
    journey = start_journey(app_client, tokens)
    engagement = app_client.get(f"/api/v1/engagements/{journey.engagement_id}", headers=auth(tokens.admin))
    assert engagement.headers["etag"] == f'"v{engagement.json()["version"]}"'


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(app_client: TestClient, tokens: Tokens) -> None:
    org = create_organization(app_client, tokens.admin)
    path = f"{ORGS}/{org['id']}"
    etag = app_client.get(path, headers=auth(tokens.admin)).headers["etag"]
    moved_on = app_client.patch(path, json={"name": "Renamed"}, headers=auth(tokens.admin, **{"If-Match": etag}))
    assert moved_on.status_code == 200, moved_on.text

    stale = app_client.patch(path, json={"name": "Lost update"}, headers=auth(tokens.admin, **{"If-Match": etag}))

    problem = assert_problem(stale, 412, slug="precondition-failed")
    assert problem["current_version"] == 2
    assert get_json(app_client, tokens.admin, path) == moved_on.json()
    fresh = app_client.patch(path, json={"name": "Final"},
                             headers=auth(tokens.admin, **{"If-Match": moved_on.headers["etag"]}))
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["name"] == "Final"


def test_if_match_accepts_lists_and_star(app_client: TestClient, tokens: Tokens) -> None:
    org = create_organization(app_client, tokens.admin)
    path = f"{ORGS}/{org['id']}"
    for if_match, headcount in [('"v1"', 2), ('"v9", "v2"', 3), ("*", 4)]:
        response = app_client.patch(path, json={"headcount": headcount},
                                    headers=auth(tokens.admin, **{"If-Match": if_match}))
        assert response.status_code == 200, (if_match, response.text)
    assert get_json(app_client, tokens.admin, path)["headcount"] == 4


def test_if_match_compares_strongly_so_a_weak_tag_never_matches(app_client: TestClient, tokens: Tokens) -> None:
    """RFC 9110: If-Match uses the strong comparison; W/"v1" is refused even while the version is 1."""
    org = create_organization(app_client, tokens.admin)
    path = f"{ORGS}/{org['id']}"
    for if_match in ('W/"v1"', 'W/"v1", W/"v2"'):
        response = app_client.patch(path, json={"headcount": 2}, headers=auth(tokens.admin, **{"If-Match": if_match}))
        problem = assert_problem(response, 412, slug="precondition-failed")
        assert "weak" in problem["detail"] and '"v1"' in problem["detail"]
    chinese = app_client.patch(path, json={"headcount": 2},
                               headers=auth(tokens.admin, **{"If-Match": 'W/"v1"', "Accept-Language": "zh-TW"}))
    assert "弱標籤" in assert_problem(chinese, 412)["detail"]
    assert get_json(app_client, tokens.admin, path)["headcount"] == org["headcount"]
    engagement = start_journey(app_client, tokens).engagement_id
    assert_problem(fire(app_client, tokens.admin, engagement, "schedule_executive_meeting", **{"If-Match": 'W/"v1"'}),
                   412)


# --- pagination --------------------------------------------------------------------------------


def test_pagination_walks_every_item_once(app_client: TestClient, tokens: Tokens) -> None:
    created = [create_organization(app_client, tokens.admin)["id"] for _ in range(7)]
    pages: list[list[int]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = app_client.get(ORGS, params=params, headers=auth(tokens.admin)).json()
        pages.append([o["id"] for o in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str) and cursor
        assert len(pages) < 10
    assert [len(p) for p in pages] == [3, 3, 1]
    walked = [i for p in pages for i in p]
    assert walked == created
    assert len(set(walked)) == len(walked)


def test_a_full_last_page_ends_the_walk(app_client: TestClient, tokens: Tokens) -> None:
    created = [create_organization(app_client, tokens.admin)["id"] for _ in range(6)]
    first = app_client.get(ORGS, params={"limit": 3}, headers=auth(tokens.admin)).json()
    second = app_client.get(ORGS, params={"limit": 3, "cursor": first["next_cursor"]},
                            headers=auth(tokens.admin)).json()
    assert [o["id"] for o in first["items"] + second["items"]] == created
    assert second["next_cursor"] is None


def test_pagination_sees_items_created_between_pages(app_client: TestClient, tokens: Tokens) -> None:
    created = [create_organization(app_client, tokens.admin)["id"] for _ in range(3)]
    first = app_client.get(ORGS, params={"limit": 2}, headers=auth(tokens.admin)).json()
    created.append(create_organization(app_client, tokens.admin)["id"])
    rest = collect_pages(app_client, tokens.admin, f"{ORGS}?cursor={first['next_cursor']}", limit=2)
    assert [o["id"] for o in first["items"] + rest] == created


def test_bad_cursor_is_400(app_client: TestClient, tokens: Tokens) -> None:
    for cursor in ("not-a-cursor", "aWQ6LTE", "eDox", "%%%"):
        problem = assert_problem(app_client.get(ORGS, params={"cursor": cursor}, headers=auth(tokens.admin)), 400,
                                 slug="bad-request")
        assert "cursor" in problem["detail"]
    journey = start_journey(app_client, tokens)
    for sub in ("tasks", "events"):
        assert_problem(app_client.get(f"/api/v1/engagements/{journey.engagement_id}/{sub}",
                                      params={"cursor": "garbage!"}, headers=auth(tokens.admin)), 400)


# --- times -------------------------------------------------------------------------------------


def test_every_time_is_rfc3339_utc(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    journey = start_journey(app_client, tokens)
    clock.advance(days=1, minutes=7)
    moved = fire(app_client, tokens.coach, journey.engagement_id, "schedule_executive_meeting")
    task = moved.json()["engagement"]["open_tasks"][0]
    checked = app_client.patch(f"/api/v1/tasks/{task['id']}/checklist/{task['checklist'][0]['id']}",
                               json={"checked": True}, headers=auth(tokens.coach))
    done = app_client.patch(f"/api/v1/tasks/{task['id']}", json={"done": True}, headers=auth(tokens.coach))
    base = f"/api/v1/engagements/{journey.engagement_id}"
    documents = [
        journey.body, moved.json(), checked.json(), done.json(),
        get_json(app_client, tokens.admin, f"{ORGS}/{journey.organization_id}"),
        get_json(app_client, tokens.admin, base),
        get_json(app_client, tokens.admin, f"{base}/tasks"),
        get_json(app_client, tokens.admin, f"{base}/events"),
        get_json(app_client, tokens.admin, "/api/v1/engagements"),
    ]
    times = [pair for document in documents for pair in times_in(document)]
    assert {key for key, _ in times} >= {"created_at", "updated_at", "entered_phase_at", "due_at", "done_at",
                                         "checked_at", "occurred_at"}
    bad = [(key, value) for key, value in times if not RFC3339_UTC.match(value)]
    assert bad == []
    assert done.json()["done_at"] == "2026-01-06T09:07:00Z"


def test_problem_bodies_are_json_with_the_problem_media_type(app_client: TestClient) -> None:
    response = app_client.get(ORGS)
    assert response.headers["content-type"] == PROBLEM_JSON
    assert json.loads(response.content)["status"] == 401
