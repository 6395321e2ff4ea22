"""Domain errors, each carrying its HTTP status, rendered as RFC 9457 problem details."""

from __future__ import annotations

from typing import Any


class ProblemError(Exception):
    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self, instance: str | None = None) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            problem["instance"] = instance
        if self.errors is not None:
            problem["errors"] = self.errors
        problem.update(self.extra)
        return problem


class BadRequest(ProblemError):
    pass


class Unauthorized(ProblemError):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str = "A valid bearer token is required.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="okr-rollout"'})


class NotFound(ProblemError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(ProblemError):
    status, title, slug = 409, "Conflict", "conflict"


class GateRefused(Conflict):
    title, slug = "Transition refused by its gate", "gate-refused"


class PreconditionFailed(ProblemError):
    status, title, slug = 412, "Precondition failed", "precondition-failed"


class PayloadTooLarge(ProblemError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class Unprocessable(ProblemError):
    status, title, slug = 422, "Unprocessable content", "validation-error"


class ServiceUnavailable(ProblemError):
    status, title, slug = 503, "Service unavailable", "unavailable"


RETRY_AFTER_SECONDS = 2


def unavailable() -> ServiceUnavailable:
    """The database is locked, unreachable or out of free connections: a transient state the client retries."""
    problem = ServiceUnavailable("The database is busy or unreachable; retry shortly.")
    problem.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return problem


class UnsupportedMediaType(ProblemError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"
