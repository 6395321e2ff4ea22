"""/openapi.json as a CRM's developer uses it: a valid OpenAPI 3.1 document, a client generated from it by
openapi-python-client without a warning (but the CSV import's body), and that client driving a CRM's workflow
against the served API: typed problems, the gate report of a refused transition, Idempotency-Key and If-Match."""

from __future__ import annotations

import inspect
import json
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from okr_rollout.app import create_app
from okr_rollout.db import make_engine
from okr_rollout.settings import Settings
from tests.api._generated import GeneratedClient, generate, unexpected_messages
from tests.conftest import ROOT, Tokens, playbooks_catalog

PROBLEM_JSON = "application/problem+json"
# Measured as served with 80 operations: 676,710 bytes (8.5 KB an operation) when every answer inlined its
# problem schema, 154,803 (1.9 KB an operation) with the shared components.
MAX_BYTES_PER_OPERATION = 3_000


@pytest.fixture(scope="module")
def document(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document of an application (it does not depend on the data: one per module)."""
    database = tmp_path_factory.mktemp("openapi") / "openapi.db"
    shutil.copy(sqlite_template, database)
    engine = make_engine(f"sqlite:///{database}")
    try:
        app = create_app(Settings(database_url=f"sqlite:///{database}", playbooks_dir=ROOT / "playbooks"),
                         engine=engine, catalog=playbooks_catalog())
        return app.openapi()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def generated(document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> GeneratedClient:
    return generate(document, tmp_path_factory.mktemp("client"))


def _resolve(document: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in item:
        section, name = item["$ref"].split("/")[-2:]
        item = document["components"][section][name]
    return item


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_served_document_is_valid_openapi_3_1_with_shared_schemas(app_client: TestClient) -> None:
    response = app_client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)  # raises, naming what is wrong
    assert "$defs" not in response.text  # every schema is in components/schemas, and every $ref resolves
    assert {"Problem", "FieldError", "GateRefusal"} <= set(document["components"]["schemas"])
    operations = sum(len(methods) for methods in document["paths"].values())
    assert len(response.content) / operations < MAX_BYTES_PER_OPERATION


def test_every_operation_states_its_problems_and_headers(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for path, method, operation in _operations(document):
        where = f"{method.upper()} {path}"
        responses = {status: _resolve(document, answer) for status, answer in operation["responses"].items()}
        parameters = {(parameter["in"], parameter["name"].lower())
                      for parameter in (_resolve(document, p) for p in operation.get("parameters", []))}
        assert {"404", "422", "503"} <= set(responses), where
        for status, answer in responses.items():
            if int(status) >= 400:
                assert list(answer["content"]) == [PROBLEM_JSON], where
                schema = _resolve(document, answer["content"][PROBLEM_JSON]["schema"])
                assert {"type", "title", "status", "detail"} <= set(schema["required"]), where
        assert "Retry-After" in responses["503"]["headers"], where
        if operation.get("security"):
            assert "WWW-Authenticate" in responses["401"]["headers"], where
        if ("header", "if-match") in parameters:
            assert "412" in responses, where
        if method in ("post", "put", "patch", "delete"):
            assert ("header", "idempotency-key") in parameters, where
            assert "409" in responses, where
            for status, answer in responses.items():
                if int(status) < 500:
                    assert "Idempotent-Replayed" in answer["headers"], where
        else:
            assert ("header", "idempotency-key") not in parameters, where
        # Only a body can be too large.
        assert ("413" in responses) == (method in ("post", "put", "patch")), where
        for status in ("201", "202"):
            if status in responses:
                assert "Location" in responses[status]["headers"], where
        ok = next(answer for status, answer in responses.items() if status.startswith("2"))
        body = _resolve(document, ok.get("content", {}).get("application/json", {}).get("schema", {}))
        if "version" in body.get("properties", {}):
            assert "ETag" in ok["headers"], where
    refused = document["paths"]["/api/v1/engagements/{engagement_id}/transitions"]["post"]["responses"]["409"]
    assert refused["content"][PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/GateRefusal"}
    assert schemas["GateRefusal"]["properties"]["readiness"]["anyOf"][0] == {
        "$ref": "#/components/schemas/TransitionReadinessOut"}


def test_a_client_generates_without_warnings_with_typed_problems_and_header_arguments(
    generated: GeneratedClient,
) -> None:
    assert unexpected_messages(generated.output) == "", generated.output
    fire = generated.operation("engagements", "fire_transition")
    assert {"if_match", "idempotency_key"} <= set(inspect.signature(fire.sync_detailed).parameters)
    update = generated.operation("organizations", "update_organization")
    assert {"if_match", "idempotency_key"} <= set(inspect.signature(update.sync_detailed).parameters)
    assert "GateRefusal" in inspect.getsource(fire)  # the 409 parses into the gate report


@pytest.fixture
def served(app_client: TestClient) -> Iterator[str]:
    """The test's app on a real HTTP server (uvicorn in a thread) on a socket bound before it starts: requests
    wait in the backlog until it accepts them, so there is nothing to wait for."""
    app: FastAPI = app_client.app  # type: ignore[assignment]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def test_a_crm_drives_the_workflow_through_the_generated_client(
    served: str, generated: GeneratedClient, tokens: Tokens
) -> None:
    client_class = generated.module("client").AuthenticatedClient
    with (client_class(base_url=served, token=tokens.integration_transitions,
                       raise_on_unexpected_status=True) as client,
          client_class(base_url=served, token=tokens.integration_transitions, raise_on_unexpected_status=True,
                       headers={"Accept-Language": "zh-TW"}) as in_chinese):
        crm_workflow(generated, client, in_chinese, tokens)


def crm_workflow(generated: GeneratedClient, client: Any, in_chinese: Any, tokens: Tokens) -> None:
    """What a CRM does, each step through the generated client: ``client`` in English, ``in_chinese`` asking
    for Traditional Chinese."""
    models = generated.module("models")
    organizations = "organizations"

    # An organization, created with an Idempotency-Key; the retry gets the first answer back, marked replayed.
    create = generated.operation(organizations, "create_organization")
    key = str(uuid.uuid4())
    body = models.OrganizationCreate(name="Formosa Tea", headcount=120, timezone="Asia/Taipei", crm_id="ACC-77")
    first = create.sync_detailed(client=client, body=body, idempotency_key=key)
    assert first.status_code == 201, first.content
    organization = first.parsed
    assert isinstance(organization, models.OrganizationOut)
    assert first.headers["location"] == f"/api/v1/organizations/{organization.id}"
    assert first.headers["etag"] == f'"v{organization.version}"'
    again = create.sync_detailed(client=client, body=body, idempotency_key=key)
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
    assert again.parsed.id == organization.id

    # Its people.
    add_person = generated.operation(organizations, "create_person")
    for name, role in (("Lin Mei", "ceo"), ("Chang Wei", "department_lead")):
        added = add_person.sync_detailed(organization.id, client=client, body=models.PersonCreate(
            name=name, roles=[models.PersonCreateRolesItem(role)]))
        assert added.status_code == 201, added.content
        assert added.parsed.name == name

    # Updated with If-Match: the current ETag passes, the one it replaced is refused with a typed 412.
    update = generated.operation(organizations, "update_organization")
    renamed = update.sync_detailed(organization.id, client=client, body=models.OrganizationUpdate(
        name="Formosa Tea Co."), if_match=first.headers["etag"])
    assert renamed.status_code == 200, renamed.content
    assert renamed.headers["etag"] == f'"v{organization.version + 1}"'
    stale = update.sync_detailed(organization.id, client=client, body=models.OrganizationUpdate(headcount=130),
                                 if_match=first.headers["etag"])
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.Problem)
    assert stale.parsed.type_ == "/problems/precondition-failed"

    # An engagement without a coach: its first transition is refused, and the refusal reads as a gate report,
    # in the language the CRM asks for.
    engagement = generated.operation("engagements", "create_engagement").sync_detailed(
        client=client, body=models.EngagementCreate(organization_id=organization.id)).parsed
    assert isinstance(engagement, models.EngagementOut)
    fire = generated.operation("engagements", "fire_transition")
    refused = fire.sync_detailed(engagement.id, client=in_chinese,
                                 body=models.TransitionRequest(trigger="schedule_executive_meeting"))
    assert refused.status_code == 409
    report = refused.parsed
    assert isinstance(report, models.GateRefusal)
    assert (report.type_, report.phase) == ("/problems/gate-refused", "coach_engaged")
    assert isinstance(report.readiness, models.TransitionReadinessOut)
    assert (report.readiness.allowed, report.readiness.passed, report.readiness.total) == (False, 0, 1)
    blocking = report.readiness.criteria[0]
    assert (blocking.id, blocking.passed) == ("coach_assigned", False)
    assert blocking.reason == blocking.reasons.zh_tw != blocking.reasons.en

    # A coach assigned under If-Match (the engagement's ETag), then the transition passes.
    current = generated.operation("engagements", "get_engagement").sync_detailed(engagement.id, client=client)
    assign = generated.operation("coaches", "assign_coach")
    assigned = assign.sync_detailed(engagement.id, client=client, if_match=current.headers["etag"],
                                    body=models.CoachAssignment(coach_id=tokens.coach_person_id))
    assert assigned.status_code == 200, assigned.content
    assert [coach.id for coach in assigned.parsed.coaches] == [tokens.coach_person_id]
    moved = fire.sync_detailed(engagement.id, client=client, if_match=assigned.headers["etag"],
                               body=models.TransitionRequest(trigger="schedule_executive_meeting"),
                               idempotency_key=str(uuid.uuid4()))
    assert moved.status_code == 200, moved.content
    assert isinstance(moved.parsed, models.TransitionResult)
    assert (moved.parsed.from_phase, moved.parsed.engagement.phase) == ("coach_engaged", "executive_meeting")
    assert moved.headers["etag"] == f'"v{moved.parsed.engagement.version}"'

    # A documented problem parses too, rather than raising as an unexpected status.
    missing = generated.operation("engagements", "get_engagement").sync_detailed(2_000_000_000, client=client)
    assert missing.status_code == 404 and isinstance(missing.parsed, models.Problem)
    assert json.loads(missing.content)["type"] == "/problems/not-found"
