"""Hostile bodies and bytes: a 10 MB body, deeply nested JSON, bytes that are not UTF-8 (in bodies, files,
paths, queries and raw header bytes on a real server). Each gets a clear 4xx problem document; nothing is
written; nothing reaches a 5xx."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx2
import pytest
import uvicorn
from fastapi.testclient import TestClient
from httpx2 import Response

from tests.conftest import Tokens, auth
from tests.reliability._seed import API

MIB = 1024 * 1024
ORGS = f"{API}/organizations"
PROBLEM_JSON = "application/problem+json"


def problem(response: Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, object] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def history_size(client: TestClient, token: str) -> tuple[int, int]:
    """How many organizations, and how many people in the first one: unchanged means nothing was written."""
    organizations = client.get(f"{ORGS}?limit=500", headers=auth(token)).json()["items"]
    people = client.get(f"{ORGS}/{organizations[0]['id']}/people?limit=500", headers=auth(token)).json()["items"]
    return len(organizations), len(people)


@pytest.fixture
def organization_id(app_client: TestClient, tokens: Tokens) -> int:
    created = app_client.post(ORGS, json={"name": "Acme", "headcount": 40}, headers=auth(tokens.admin))
    assert created.status_code == 201, created.text
    identifier: int = created.json()["id"]
    return identifier


def test_a_10_mb_body_is_413_declared_or_streamed_and_writes_nothing(
        app_client: TestClient, tokens: Tokens, organization_id: int) -> None:
    before = history_size(app_client, tokens.admin)
    ten_mb = b'{"name": "' + b"x" * (10 * MIB) + b'", "headcount": 3}'

    def streamed() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while reading
        for start in range(0, len(ten_mb), MIB):
            yield ten_mb[start:start + MIB]

    headers = auth(tokens.admin, **{"Content-Type": "application/json"})
    for response in [
        app_client.post(ORGS, content=ten_mb, headers=headers),
        app_client.post(ORGS, content=streamed(), headers=headers),
        app_client.patch(f"{ORGS}/{organization_id}", content=ten_mb, headers=headers),
        app_client.post(f"{ORGS}/{organization_id}/people", content=streamed(),
                        headers=auth(tokens.admin, **{"Content-Type": "application/json", "Idempotency-Key": "big"})),
        app_client.post(f"{ORGS}/{organization_id}/imports?kind=people", content=b"name\n" + b"x\n" * (5 * MIB),
                        headers=auth(tokens.admin, **{"Content-Type": "text/csv"})),
    ]:
        body = problem(response, 413)
        assert body["max_body_bytes"] == MIB
    assert history_size(app_client, tokens.admin) == before


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_400(app_client: TestClient, tokens: Tokens, organization_id: int,
                                   depth: int) -> None:
    before = history_size(app_client, tokens.admin)
    headers = auth(tokens.admin, **{"Content-Type": "application/json"})
    bodies = [
        b"[" * depth + b"]" * depth,
        b'{"a":' * depth + b"1" + b"}" * depth,
        b'{"name": "x", "headcount": 3, "strategies": ' + b"[" * depth + b"]" * depth + b"}",
    ]
    for body in bodies:
        problem(app_client.post(ORGS, content=body, headers=headers), 400)
        problem(app_client.post(f"{ORGS}/{organization_id}/people", content=body, headers=headers), 400)
    assert history_size(app_client, tokens.admin) == before


def test_bytes_that_are_not_utf8_are_a_clear_4xx(app_client: TestClient, tokens: Tokens,
                                                 organization_id: int) -> None:
    before = history_size(app_client, tokens.admin)
    json_headers = auth(tokens.admin, **{"Content-Type": "application/json"})
    problem(app_client.post(ORGS, content=b'{"name": "\xff\xfe", "headcount": 3}', headers=json_headers), 400)
    problem(app_client.post(ORGS, content=b'{"name": "\xc3\x28", "headcount": 3}', headers=json_headers), 400)

    csv = app_client.post(f"{ORGS}/{organization_id}/imports?kind=people", content=b"name\nAda\n\xff\xfeBob\n",
                          headers=auth(tokens.admin, **{"Content-Type": "text/csv"}))
    errors = problem(csv, 422)["errors"]
    assert isinstance(errors, list) and errors[0]["row"] == 3 and "UTF-8" in errors[0]["message"]

    problem(app_client.get(f"{ORGS}/%FF%FE", headers=auth(tokens.admin)), 422)
    problem(app_client.get(f"{ORGS}?cursor=%FF%FE", headers=auth(tokens.admin)), 400)
    assert app_client.get(f"{API}/engagements?phase=%FF%FE", headers=auth(tokens.admin)).json()["items"] == []
    problem(app_client.get(f"{API}/calendar/%FF%FE.ics"), 404)
    assert history_size(app_client, tokens.admin) == before


@pytest.fixture
def served(app_client: TestClient) -> Iterator[str]:
    """The test's app on a real HTTP server (uvicorn, in a thread): a TestClient re-encodes header bytes, a real
    client sends them as they are."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # connections wait in the backlog until the server accepts them
    server = uvicorn.Server(uvicorn.Config(app_client.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def test_header_bytes_that_are_not_utf8_on_a_real_server(served: str, tokens: Tokens, organization_id: int) -> None:
    """An Idempotency-Key of raw bytes 0xFF 0xFE was a 500 (the middleware decoded headers as UTF-8)."""
    with httpx2.Client(base_url=served, timeout=30) as client:
        headers = {"Authorization": f"Bearer {tokens.admin}", "Idempotency-Key": b"\xff\xfe-key"}
        first = client.post(f"{ORGS}/{organization_id}/people", json={"name": "Ada"}, headers=headers)
        assert first.status_code == 201, first.text
        again = client.post(f"{ORGS}/{organization_id}/people", json={"name": "Ada"}, headers=headers)
        assert (again.status_code, again.json()["id"]) == (201, first.json()["id"])
        assert again.headers["idempotent-replayed"] == "true"

        problem(client.patch(f"{ORGS}/{organization_id}", json={"name": "X"},
                             headers={"Authorization": f"Bearer {tokens.admin}", "If-Match": b'"\xff"'}), 412)
        problem(client.get(ORGS, headers={"Authorization": b"Bearer \xff\xfe"}), 401)
        people = client.get(f"{ORGS}/{organization_id}/people", headers={"Authorization": f"Bearer {tokens.admin}"})
        assert [p["name"] for p in people.json()["items"]] == ["Ada"]


def test_nul_in_any_json_text_is_422_naming_the_field_on_both_databases(
        app_client: TestClient, tokens: Tokens, organization_id: int) -> None:
    """SQLite stored a NUL character where PostgreSQL refused it with an anonymous 422: now both refuse it before
    anything is written, naming each field, in a value or a key, however deep, in a create or an update."""
    before = history_size(app_client, tokens.admin)
    created = problem(app_client.post(ORGS, headers=auth(tokens.admin), json={
        "name": "Ac\u0000me", "headcount": 3, "strategies": ["grow", "a\u0000b"]}), 422)
    assert created["errors"] == [
        {"field": "body.name", "message": "text must not contain the NUL character (\\u0000)", "type": "string_nul"},
        {"field": "body.strategies[1]", "message": "text must not contain the NUL character (\\u0000)",
         "type": "string_nul"},
    ]
    updated = problem(app_client.patch(f"{ORGS}/{organization_id}", json={"mission": "\u0000"},
                                       headers=auth(tokens.admin)), 422)
    assert [e["field"] for e in updated["errors"]] == ["body.mission"]
    keyed = problem(app_client.post(f"{ORGS}/{organization_id}/people", json={"name": "Ada", "ro\u0000le": "x"},
                                    headers=auth(tokens.admin, **{"Idempotency-Key": "nul"})), 422)
    assert [e["field"] for e in keyed["errors"]] == ["body.ro\\u0000le"]
    # The same bytes in UTF-16, which FastAPI also reads as JSON.
    utf16 = '{"name": "Ada\\u0000"}'.encode("utf-16")
    wide = problem(app_client.post(f"{ORGS}/{organization_id}/people", content=utf16,
                                   headers=auth(tokens.admin, **{"Content-Type": "application/json"})), 422)
    assert [e["field"] for e in wide["errors"]] == ["body.name"]
    # A token is still checked first, as for every other rule of a body.
    problem(app_client.post(ORGS, json={"name": "\u0000", "headcount": 3}), 401)
    # An escaped backslash followed by "u0000" is ordinary text.
    fine = app_client.post(f"{ORGS}/{organization_id}/people", json={"name": "C:\\u0000"}, headers=auth(tokens.admin))
    assert (fine.status_code, fine.json()["name"]) == (201, "C:\\u0000"), fine.text
    organizations, people = before
    assert history_size(app_client, tokens.admin) == (organizations, people + 1)
    assert app_client.get(f"{ORGS}/{organization_id}", headers=auth(tokens.admin)).json()["mission"] is None


def test_nul_in_a_query_or_path_parameter_is_422_naming_it_on_both_databases(
        app_client: TestClient, tokens: Tokens, organization_id: int) -> None:
    """SQLite answered ?phase=%00 with 200 and PostgreSQL with an anonymous 422: now both name the parameter, in
    a value or a name, in a read or a write, before anything is looked up or written; a token is checked first."""
    before = history_size(app_client, tokens.admin)
    nul = {"message": "text must not contain the NUL character (\\u0000)", "type": "string_nul"}
    phase = problem(app_client.get(f"{API}/engagements?phase=%00", headers=auth(tokens.admin)), 422)
    assert phase["errors"] == [{"field": "query.phase", **nul}]
    assert phase["detail"] == "Invalid input: query.phase"
    crm = problem(app_client.get(f"{ORGS}?crm_id=a%00b&crm_id=%00&x%00y=1", headers=auth(tokens.admin)), 422)
    assert [e["field"] for e in crm["errors"]] == ["query.crm_id", "query.x\\u0000y"]
    # A path parameter that is text: a playbook's id (looked up among the pinned snapshots too).
    playbook = problem(app_client.get(f"{API}/playbooks/okr%00/versions/1", headers=auth(tokens.admin)), 422)
    assert playbook["errors"] == [{"field": "path.playbook_id", **nul}]
    # Parameters first, then the body, as FastAPI orders its own errors.
    both = problem(app_client.post(f"{ORGS}/{organization_id}/people?note=%00", json={"name": "A\u0000da"},
                                   headers=auth(tokens.admin)), 422)
    assert [e["field"] for e in both["errors"]] == ["query.note", "body.name"]
    imported = problem(app_client.post(f"{ORGS}/{organization_id}/imports?kind=people%00", content=b"name\nAda\n",
                                       headers=auth(tokens.admin, **{"Content-Type": "text/csv"})), 422)
    assert [e["field"] for e in imported["errors"]] == ["query.kind"]
    # Without a token the answer stays 401, whatever the parameters carry.
    problem(app_client.get(f"{API}/engagements?phase=%00"), 401)
    problem(app_client.get(f"{API}/playbooks/okr%00/versions/1"), 401)
    problem(app_client.post(f"{ORGS}/{organization_id}/people?note=%00", json={"name": "Ada"}), 401)
    # The person feed has no bearer token: its secret is the path, and one with a NUL is no feed, as any unknown.
    problem(app_client.get(f"{API}/calendar/%00.ics"), 404)
    assert history_size(app_client, tokens.admin) == before
