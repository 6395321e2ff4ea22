"""The OpenAPI document a CRM generates its client from, and the pages that show it (``/docs``, ``/redoc``).

FastAPI writes the document from the routes; ``complete`` then states, in one place for every operation, what the
routes share rather than each route repeating it:

- every error an operation can answer, as ``application/problem+json`` with the one ``Problem`` schema (or a
  route's own problem schema, such as the gate report of a refused transition) from ``components/schemas``:
  401 where a bearer token is needed, 400 where a JSON body or a cursor is read, 409 and 413 on writes, 412 where
  ``If-Match`` is read, 404, 422 and 503 everywhere;
- the headers: ``Idempotency-Key`` on the writes that accept it and ``Idempotent-Replayed`` on their answers,
  ``ETag`` on an answer that carries a ``version``, ``Location`` on 201 and 202, ``Retry-After`` on 503 and
  ``WWW-Authenticate`` on 401, each defined once in ``components``.

The documentation pages load Swagger UI and ReDoc from the files the ``fastapi-offline`` package ships, served
by this application: they work without a connection to any other host.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

from okr_rollout.api import middleware
from okr_rollout.api.problems import PROBLEM_DESCRIPTIONS, PROBLEM_JSON

JSON = "application/json"
# The writes whose Idempotency-Key the middleware honours.
KEYED_METHODS = frozenset(method.lower() for method in middleware.KEYED_METHODS)
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
BODY_METHODS = frozenset({"post", "put", "patch"})  # the body size limit applies to these
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_STANDARD_ERRORS = {str(status): text for status, text in PROBLEM_DESCRIPTIONS.items()}
# The components/responses of the standard problems (and, for the writes that take an Idempotency-Key, their
# variant that may be a replay).
_RESPONSE_NAMES = {"400": "BadRequest", "401": "Unauthorized", "404": "NotFound", "409": "Conflict",
                   "412": "PreconditionFailed", "413": "PayloadTooLarge", "422": "Unprocessable",
                   "503": "Unavailable"}

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {"description": "The version of the resource in this answer; send it back as If-Match to update it.",
             "schema": {"type": "string", "examples": ['"v3"']}},
    "Location": {"description": "The URL of the resource this request created.",
                 "schema": {"type": "string"}},
    "Idempotent-Replayed": {"description": "`true` when this is the recorded answer of an earlier request with "
                                           "the same Idempotency-Key, replayed: nothing was done again.",
                            "schema": {"type": "string", "enum": ["true"]}},
    "Retry-After": {"description": "Seconds to wait before retrying.",
                    "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "WWW-Authenticate": {"description": "The authentication scheme to use: a bearer token.",
                         "schema": {"type": "string"}},
}
_HEADER_KEYS = {name: name.replace("-", "") for name in HEADERS}  # the component names: ETag, RetryAfter...

IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Any unique string (a UUID): a retry with the same key and the same request gets the first "
                   "answer again, marked Idempotent-Replayed, instead of doing the work twice. Kept for "
                   "OKR_ROLLOUT_IDEMPOTENCY_TTL_HOURS. An empty key is no key.",
    "schema": {"type": "string", "maxLength": 255},
}


# For a route whose answer carries a version deeper than its top level (``responses={200: CARRIES_ETAG}``).
CARRIES_ETAG: dict[str, Any] = {"headers": {"ETag": {"$ref": "#/components/headers/ETag"}}}


def _header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{_HEADER_KEYS[name]}"}


def _schema_of(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema``, its ``$ref`` into components followed."""
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        found: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
        return found
    return schema


def _carries_version(document: dict[str, Any], response: dict[str, Any]) -> bool:
    """An answer whose JSON body is one versioned resource: its ETag is that version."""
    schema = response.get("content", {}).get(JSON, {}).get("schema")
    if not schema:
        return False
    properties = _schema_of(document, schema).get("properties", {})
    return "version" in properties or "engagement_version" in properties


def _error_statuses(method: str, operation: dict[str, Any]) -> set[str]:
    """The problems an operation can answer, from what it reads."""
    parameters = {(p.get("in"), p.get("name", "").lower()) for p in operation.get("parameters", [])}
    json_body = JSON in operation.get("requestBody", {}).get("content", {})
    statuses = {"404", "422", "503"}
    if operation.get("security"):
        statuses.add("401")
    if json_body or ("query", "cursor") in parameters:
        statuses.add("400")
    if method in WRITE_METHODS:
        statuses.add("409")
    if method in BODY_METHODS:
        statuses.add("413")
    if ("header", "if-match") in parameters:
        statuses.add("412")
    return statuses


def _complete_operation(document: dict[str, Any], path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    expected = _error_statuses(method, operation)
    for status in [s for s in responses if s in _STANDARD_ERRORS and s not in expected]:
        del responses[status]  # shared by a whole router, but not something this operation can answer
    for status in sorted(expected):
        responses.setdefault(status, {"description": _STANDARD_ERRORS[status]})
    keyed = method in KEYED_METHODS and path.startswith("/api/")
    if keyed:
        operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/IdempotencyKey"})
    for status, response in responses.items():
        code = int(status) if status.isdigit() else 0
        if code >= 400:
            content = response.setdefault("content", {})
            # A route's own problem model comes from FastAPI as JSON: it is a problem document.
            as_json = content.pop(JSON, None) or {}
            if not content.get(PROBLEM_JSON, {}).get("schema"):
                content[PROBLEM_JSON] = {"schema": as_json.get("schema") or _PROBLEM_REF}
        headers: dict[str, Any] = {}
        if 200 <= code < 300 and _carries_version(document, response):
            headers["ETag"] = _header_ref("ETag")
        if code in (201, 202):
            headers["Location"] = _header_ref("Location")
        if code == 401:
            headers["WWW-Authenticate"] = _header_ref("WWW-Authenticate")
        if code == 503:
            headers["Retry-After"] = _header_ref("Retry-After")
        if keyed and code < 500:  # any answer but a 5xx is recorded, and replayed to a retry
            headers["Idempotent-Replayed"] = _header_ref("Idempotent-Replayed")
        if headers:
            response["headers"] = {**response.get("headers", {}), **headers}
        _share(document, status, keyed, responses)
    operation["responses"] = dict(sorted(responses.items()))


def _share(document: dict[str, Any], status: str, keyed: bool, responses: dict[str, Any]) -> None:
    """A standard problem answer, stated once in ``components/responses`` and referred to."""
    response = responses[status]
    if (status not in _RESPONSE_NAMES or response.get("description") != _STANDARD_ERRORS[status]
            or response.get("content") != {PROBLEM_JSON: {"schema": _PROBLEM_REF}}):
        return
    name = _RESPONSE_NAMES[status] + ("MaybeReplayed" if keyed and int(status) < 500 else "")
    shared = document["components"].setdefault("responses", {}).setdefault(name, response)
    if shared == response:
        responses[status] = {"$ref": f"#/components/responses/{name}"}


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's document with the shared problems and headers stated (see the module's docstring)."""
    document = copy.deepcopy(document)
    components = document.setdefault("components", {})
    components.setdefault("headers", {}).update({_HEADER_KEYS[name]: header for name, header in HEADERS.items()})
    components.setdefault("parameters", {})["IdempotencyKey"] = IDEMPOTENCY_KEY
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                _complete_operation(document, path, method, item[method])
    schemas = components.get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422, replaced by the Problem
        if unused in schemas and f'"#/components/schemas/{unused}"' not in json.dumps(document):
            del schemas[unused]
    return document


def operation_id(route: APIRoute) -> str:
    """The handler's name (``create_organization``): the name of its function in a generated client."""
    return route.name


def install(app: FastAPI) -> None:
    """Serve the completed document at ``/openapi.json`` and the pages at ``/docs`` and ``/redoc``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(get_openapi(
                title=app.title, version=app.version, openapi_version=app.openapi_version,
                description=app.description, routes=app.routes, tags=app.openapi_tags, servers=app.servers))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    install_docs(app)


ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/api-docs-assets"


# The pages may load and reach nothing but this application: ReDoc's "API docs by Redocly" footer would
# otherwise fetch its logo from Redocly's CDN. Both pages start their viewer with an inline script and style
# themselves inline; ReDoc searches in a worker it makes from a blob.
DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
               "frame-ancestors 'none'; base-uri 'none'")


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_POLICY
    return page


def install_docs(app: FastAPI) -> None:
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="api-docs-assets")
    title = f"{app.title} API"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _offline(get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=title,
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None}))  # no badge from swagger.io's validator

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _offline(get_redoc_html(openapi_url=f"{root}{app.openapi_url}", title=title,
                                       redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
                                       redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png", with_google_fonts=False))
