"""Every error as application/problem+json, and every such status documented in OpenAPI."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from okr_rollout.errors import BadRequest, Conflict, NotFound, ProblemError, Unprocessable, unavailable

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    field: str
    message: str
    type: str
    row: int | None = None  # imports: the CSV line (header = 1)
    column: str | None = None  # imports: the CSV column


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


def field_path(location: tuple[int | str, ...] | list[int | str]) -> str:
    """``("body", "outcomes", 0)`` -> ``body.outcomes[0]``: the same notation as the services' own errors."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def problem_response(status: int, description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}}}


COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: problem_response(400, "Malformed request (bad JSON, bad cursor)"),
    401: problem_response(401, "No valid bearer token"),
    404: problem_response(404, "Not found, or not visible to the caller"),
    413: problem_response(413, "Body over the size limit"),
    422: problem_response(422, "A field is unknown, missing, of the wrong type, or breaks a rule"),
    503: problem_response(503, "The database is busy or unreachable; retry after Retry-After seconds"),
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: problem_response(409, "Conflicts with the current state (or an Idempotency-Key in use)"),
    412: problem_response(412, "If-Match names a stale version"),
}


def render(error: ProblemError, request: Request) -> JSONResponse:
    return JSONResponse(
        error.body(instance=request.url.path),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=error.headers,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, error: ProblemError) -> JSONResponse:
        return render(error, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        details = list(error.errors())
        if any(d.get("type") == "json_invalid" for d in details):
            message = next(str(d.get("ctx", {}).get("error", "")) for d in details if d.get("type") == "json_invalid")
            return render(BadRequest(f"The body is not valid JSON: {message}".rstrip(": ")), request)
        errors = [
            {
                "field": field_path(d["loc"]),
                "message": ("unknown field" if d["type"] == "extra_forbidden" else str(d["msg"])),
                "type": str(d["type"]),
            }
            for d in details
        ]
        fields = ", ".join(e["field"] for e in errors)
        return render(Unprocessable(f"Invalid input: {fields}", errors=errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        problem: ProblemError
        if error.status_code == 404:
            problem = NotFound(f"no route {request.url.path}")
        elif error.status_code == 405:
            problem = ProblemError(f"{request.method} is not allowed on {request.url.path}")
            problem.status, problem.title, problem.slug = 405, "Method not allowed", "method-not-allowed"
        else:
            problem = ProblemError(str(error.detail))
            problem.status = error.status_code
        return render(problem, request)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, error: StaleDataError) -> JSONResponse:
        return render(Conflict("The resource changed while this request ran; reload and retry."), request)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, error: IntegrityError) -> JSONResponse:
        # A uniqueness rule broken by a concurrent request that committed first.
        return render(Conflict("This conflicts with a change made at the same moment; reload and retry."), request)

    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, error: DataError) -> JSONResponse:
        # The database refused a value the request carried (a number beyond its integer range, a NUL
        # character in text on PostgreSQL): the client's input, not a server failure.
        return render(Unprocessable("A value in the request cannot be stored: a number is out of range or a "
                                    "text contains a character the database refuses."), request)

    async def _unavailable(request: Request, error: Exception) -> JSONResponse:
        return render(unavailable(), request)

    # Locked (SQLite), unreachable or cut off (PostgreSQL), or no pooled connection free in time: transient.
    for transient in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(transient, _unavailable)
