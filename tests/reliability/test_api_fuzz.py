"""Schemathesis against the app's own OpenAPI document, every operation, on SQLite and on PostgreSQL.

- As the admin, with data that fits the schema and with data that breaks it: never a 5xx, and every response
  (status, content type, headers, body) is one the document describes.
- With no token: every operation behind a bearer token answers 401, as a problem document that asks for one.
- As a coach who does not coach the seeded engagement: requests naming its rows answer exactly what they answer
  for ids that do not exist (404, or the same 422 of a body that breaks a rule), and no response to that coach
  anywhere carries the seeded data.

Half of the generated requests name the seeded rows (``_seed.seed_engagement``), so they reach the code behind
the lookup instead of stopping at the 404 of a random id. Example counts are kept small: this runs in CI.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Clock, Tokens, auth
from tests.reliability._seed import Seeded, seed_engagement

PROBLEM_JSON = "application/problem+json"
MISSING_ID = 2_000_000_000  # an id no test ever reaches
# The headers this API sets: each one sent must be declared on the operation's answer of that status.
API_HEADERS = ("etag", "location", "idempotent-replayed", "retry-after", "www-authenticate")


def documented_headers(ctx: Any, response: Any, case: Case) -> bool:
    """No undocumented header: schemathesis checks the declared ones, this one checks that none is missing."""
    document = case.operation.schema.raw_schema
    responses = case.operation.definition.raw.get("responses", {})
    answer = responses.get(str(response.status_code)) or responses.get("default") or {}
    while "$ref" in answer:  # a shared answer of components/responses
        answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    declared = {name.lower() for name in answer.get("headers", {})}
    sent = {name.lower() for name in response.headers}
    undocumented = sorted(name for name in API_HEADERS if name in sent and name not in declared)
    assert not undocumented, (f"{case.operation.label} answered {response.status_code} with the undocumented "
                              f"header(s) {undocumented}")
    return True


CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
               response_headers_conformance, documented_headers]


@dataclass
class Target:
    app: FastAPI
    schema: Any  # schemathesis' OpenApiSchema
    seeded: Seeded
    tokens: Tokens


@pytest.fixture
def target(app_client: TestClient, tokens: Tokens, clock: Clock) -> Iterator[Target]:
    today: date = clock().date()
    seeded = seed_engagement(app_client, tokens.admin, tokens.coach_person_id, today, f"SEED{uuid.uuid4().hex[:8]}")
    app: FastAPI = app_client.app  # type: ignore[assignment]
    yield Target(app, schemathesis.openapi.from_asgi("/openapi.json", app), seeded, tokens)


def operations(target: Target) -> Iterator[Any]:
    for result in target.schema.get_all_operations():
        yield result.ok()


def path_names(operation: Any) -> list[str]:
    return [parameter.name for parameter in operation.path_parameters]


def needs_bearer(operation: Any) -> bool:
    return bool(operation.definition.raw.get("security"))


def seeded_or_random(target: Target, operation: Any, mode: GenerationMode) -> st.SearchStrategy[Case]:
    """Cases whose path names the seeded rows, and cases with generated path parameters."""
    generated: st.SearchStrategy[Case] = operation.as_strategy(generation_mode=mode)
    fixed = target.seeded.path_parameters(operation.path, path_names(operation))
    if not fixed:
        return generated
    return st.one_of(operation.as_strategy(generation_mode=mode, path_parameters=fixed), generated)


def explore(target: Target, examples: int, strategy_of: Callable[[Any], st.SearchStrategy[Case] | None],
            check: Callable[[Any, Case], None]) -> None:
    """Run ``check`` on generated cases of every operation; fail once at the end, listing every operation that
    failed with its first failure (Hypothesis prints the smallest case it found)."""
    failures: dict[str, str] = {}
    for operation in operations(target):
        strategy = strategy_of(operation)
        if strategy is None:
            continue
        try:
            _run(examples, strategy, lambda case, operation=operation: check(operation, case))
        except Exception as error:  # collected: one report of every failing operation
            failures[operation.label] = f"{type(error).__name__}: {error}"[:4000]
    assert failures == {}, "\n\n".join(f"=== {label}\n{text}" for label, text in failures.items())


def _run(examples: int, strategy: st.SearchStrategy[Case], check: Callable[[Case], None]) -> None:
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate, Phase.shrink], print_blob=True)
    @given(case=strategy)
    def run(case: Case) -> None:
        check(case)

    run()


def test_as_admin_every_response_is_documented_and_none_is_a_server_error(target: Target) -> None:
    headers = auth(target.tokens.admin)

    def check(_operation: Any, case: Case) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CONFORMANCE, headers=headers)

    explore(target, 12, lambda op: seeded_or_random(target, op, GenerationMode.POSITIVE), check)


def test_as_admin_invalid_input_is_a_documented_4xx(target: Target) -> None:
    headers = auth(target.tokens.admin)

    def check(_operation: Any, case: Case) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CONFORMANCE, headers=headers)
        assert 400 <= response.status_code < 500 or response.status_code < 300, response.text

    explore(target, 5, lambda op: seeded_or_random(target, op, GenerationMode.NEGATIVE), check)


def test_without_a_token_every_protected_operation_is_401(target: Target) -> None:
    def strategy(operation: Any) -> st.SearchStrategy[Case]:
        if needs_bearer(operation):
            return seeded_or_random(target, operation, GenerationMode.POSITIVE)
        # A secret-URL feed: its credential is the path itself, so only unknown secrets are sent.
        generated: st.SearchStrategy[Case] = operation.as_strategy()
        return generated

    def check(operation: Any, case: Case) -> None:
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        response = case.call()
        case.validate_response(response, checks=CONFORMANCE)
        if needs_bearer(operation):
            assert response.status_code == 401, response.text
            assert _header(response, "www-authenticate").startswith("Bearer")
        else:
            assert response.status_code in (404, 422), response.text
        assert _header(response, "content-type").startswith(PROBLEM_JSON)
        assert target.seeded.marker not in response.text

    explore(target, 3, strategy, check)


def test_another_coach_learns_nothing_of_an_engagement_they_do_not_coach(target: Target) -> None:
    """What the other coach gets for the seeded rows is what they get for rows that do not exist."""
    headers = auth(target.tokens.other_coach)
    marker = target.seeded.marker

    def strategy(operation: Any) -> st.SearchStrategy[Case] | None:
        if not needs_bearer(operation):
            return None  # not a matter of tokens: a secret-URL feed
        names = path_names(operation)
        fixed = target.seeded.path_parameters(operation.path, names)
        if names and len(fixed) == len(names):
            seeded: st.SearchStrategy[Case] = operation.as_strategy(path_parameters=fixed)
            return seeded
        generated: st.SearchStrategy[Case] = operation.as_strategy()
        return generated

    def check(operation: Any, case: Case) -> None:
        # The same request is sent again for rows that do not exist: under one Idempotency-Key, that second
        # request would be refused as another request reusing the key.
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "idempotency-key"}
        names = path_names(operation)
        names_seeded_rows = bool(names) and case.path_parameters == target.seeded.path_parameters(operation.path,
                                                                                                  names)
        response = case.call(headers=headers)
        case.validate_response(response, checks=CONFORMANCE, headers=headers)
        assert marker not in response.text, f"{operation.label} showed seeded data: {response.text[:500]}"
        if not names_seeded_rows:
            return
        assert response.status_code in (400, 401, 404, 422), response.text
        case.path_parameters = {name: MISSING_ID for name in names}
        try:
            unknown = case.call(headers=headers)
        finally:
            case.path_parameters = target.seeded.path_parameters(operation.path, names)
        assert (response.status_code, _problem_type(response)) == (unknown.status_code, _problem_type(unknown)), (
            f"{operation.label}: {response.status_code} {response.text[:300]} for the seeded rows, but "
            f"{unknown.status_code} {unknown.text[:300]} for rows that do not exist")

    explore(target, 5, strategy, check)


def _header(response: Any, name: str) -> str:
    """One header of a schemathesis response (its headers map lower-case names to lists of values)."""
    values: list[str] = response.headers.get(name) or [""]
    return values[0]


def _problem_type(response: Any) -> str | None:
    if not _header(response, "content-type").startswith(PROBLEM_JSON):
        return None
    body: dict[str, Any] = response.json()
    return str(body.get("type"))
