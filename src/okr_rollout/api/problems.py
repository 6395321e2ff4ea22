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
from starlette.routing import BaseRoute, Match, Mount
from starlette.staticfiles import StaticFiles

from okr_rollout.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PreconditionFailed,
    ProblemError,
    Unprocessable,
    unavailable,
)
from okr_rollout.texts import DEFAULT_LOCALE, LocalizedText, preferred_locale, supported_locale

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    """What is wrong with one field of the request, and where."""

    field: str
    message: str
    type: str
    row: int | None = None  # imports: the CSV line (header = 1)
    column: str | None = None  # imports: the CSV column


class Problem(BaseModel):
    """An RFC 9457 problem document, written in the caller's language (Accept-Language, else the token's
    person's). A problem may carry more members (``current_version`` on 412, ``max_body_bytes`` on 413...)."""

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


def problem_response(status: int, description: str, model: type[Problem] = Problem) -> dict[str, Any]:
    """A problem answer of a route, its schema in ``components`` (``api.openapi`` files it as problem+json)."""
    return {"description": description, "model": model}


# What each problem status an operation may answer means; ``api.openapi`` gives each operation the ones it can.
PROBLEM_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request: the body is not JSON, or the cursor is not one this API gave out",
    401: "No valid bearer token",
    404: "Not found, or not visible to the caller",
    409: "Conflicts with the current state, with a change made at the same moment, or with a request still "
         "running under the same Idempotency-Key",
    412: "If-Match names another version than the current one",
    413: "The body is over the size limit",
    422: "A field is unknown, missing, of the wrong type, or breaks a rule (errors[] names each one)",
    503: "The database is busy or unreachable; retry after Retry-After seconds",
}
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: problem_response(status, PROBLEM_DESCRIPTIONS[status]) for status in (400, 401, 404, 413, 422, 503)}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: problem_response(status, PROBLEM_DESCRIPTIONS[status]) for status in (409, 412)}


def request_locale(request: Request) -> str:
    """The language of the answer: the request's Accept-Language, else the caller's person's language (set on the
    request once the token is read), else English."""
    return (preferred_locale(request.headers.get("accept-language"))
            or supported_locale(getattr(request.state, "caller_locale", None))
            or DEFAULT_LOCALE)


def remember_caller_locale(request: Request, locale: str | None) -> None:
    """What the token's person prefers, for the answers (and the problems) of this request."""
    request.state.caller_locale = locale


def invalid_input(errors: list[dict[str, Any]]) -> Unprocessable:
    """422 naming every field (``errors``: field, message, type) in its detail."""
    fields = ", ".join(str(e["field"]) for e in errors)
    return Unprocessable(LocalizedText(f"Invalid input: {fields}", f"輸入無效:{fields}"), errors=errors)


# zh-TW of the messages of the validation errors a request most often meets; the others keep pydantic's English.
_VALIDATION_ZH: dict[str, str] = {
    "missing": "必填欄位",
    "extra_forbidden": "未知的欄位",
    "string_type": "必須是文字",
    "int_type": "必須是整數",
    "int_parsing": "必須是整數",
    "float_type": "必須是數字",
    "float_parsing": "必須是數字",
    "bool_type": "必須是布林值",
    "bool_parsing": "必須是布林值",
    "list_type": "必須是清單",
    "dict_type": "必須是物件",
    "model_type": "必須是物件",
    "date_type": "必須是日期",
    "date_parsing": "必須是日期(YYYY-MM-DD)",
    "date_from_datetime_parsing": "必須是日期(YYYY-MM-DD)",
    "datetime_type": "必須是日期時間",
    "datetime_parsing": "必須是日期時間(RFC 3339)",
    "datetime_from_date_parsing": "必須是日期時間(RFC 3339)",
    "timezone_aware": "必須包含時區",
    "string_too_short": "至少需要 {min_length} 個字元",
    "string_too_long": "最多 {max_length} 個字元",
    "too_short": "至少需要 {min_length} 項",
    "too_long": "最多 {max_length} 項",
    "greater_than": "必須大於 {gt}",
    "greater_than_equal": "必須大於或等於 {ge}",
    "less_than": "必須小於 {lt}",
    "less_than_equal": "必須小於或等於 {le}",
    "literal_error": "必須是以下之一:{expected}",
    "enum": "必須是以下之一:{expected}",
    "string_pattern_mismatch": "格式不符",
    "value_error": "值無效",
    "json_invalid": "JSON 格式錯誤",
}


def validation_message(error: Any) -> LocalizedText:
    """One pydantic validation error's message in English and Traditional Chinese."""
    kind = str(error.get("type", ""))
    en = "unknown field" if kind == "extra_forbidden" else str(error.get("msg") or kind or "invalid")
    template = _VALIDATION_ZH.get(kind)
    if template is None:
        return LocalizedText(en, en)
    try:
        zh = template.format(**{key: value for key, value in (error.get("ctx") or {}).items()})
    except (KeyError, IndexError, ValueError):
        zh = template.split("{")[0].rstrip().rstrip(":").rstrip(":") or en
    return LocalizedText(en, zh)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at the request's path (RFC 9110: a 405 says which ones in ``Allow``).
    Starlette names only those of the first route matching the path, while GET and POST of one path are often
    two routes: each method is tried against every route."""
    routes = request.app.router.routes
    # Matched from the application's root: inside a mount (the static files) the scope's root_path is the mount's.
    scope = {**request.scope, "root_path": request.scope.get("app_root_path", request.scope.get("root_path", ""))}
    return [method for method in _METHODS if any(_answers(route, {**scope, "method": method}) for route in routes)]


def _answers(route: BaseRoute, scope: dict[str, Any]) -> bool:
    if route.matches(scope)[0] != Match.FULL:
        return False
    if isinstance(route, Mount) and isinstance(route.app, StaticFiles):  # a mount matches any method; files: two
        return scope["method"] in ("GET", "HEAD")
    return True


def carries_if_match(if_match: str | None) -> bool:
    """Whether a request names the version it changes (``*`` names none)."""
    return if_match is not None and if_match.strip() not in ("", "*")


def stale_precondition() -> PreconditionFailed:
    return PreconditionFailed(LocalizedText(
        "If-Match named the current version, but another change was saved first; reload and retry.",
        "If-Match 所指的版本在讀取時是最新的,但另一項變更先完成儲存;請重新載入後再試。"))


def render(error: ProblemError, request: Request) -> JSONResponse:
    return JSONResponse(
        error.body(instance=request.url.path, locale=request_locale(request)),
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
            return render(BadRequest(LocalizedText(f"The body is not valid JSON: {message}".rstrip(": "),
                                                   f"內容不是有效的 JSON:{message}".rstrip(":"))), request)
        errors: list[dict[str, Any]] = [
            {"field": field_path(d["loc"]), "message": validation_message(d), "type": str(d["type"])}
            for d in details
        ]
        return render(invalid_input(errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        problem: ProblemError
        if error.status_code == 404:
            problem = NotFound(LocalizedText(f"There is nothing at {request.url.path}.",
                                             f"{request.url.path} 沒有任何資源。"))
        elif error.status_code == 405:
            problem = ProblemError(LocalizedText(f"{request.method} is not allowed on {request.url.path}.",
                                                 f"{request.url.path} 不接受 {request.method}。"))
            problem.status, problem.slug = 405, "method-not-allowed"
            problem.title = LocalizedText("Method not allowed", "不允許的方法")
            problem.headers["Allow"] = ", ".join(allowed_methods(request))
        else:
            said = str(error.detail)  # Starlette's reason phrase: the same words in both languages
            problem = ProblemError(LocalizedText(said, said))
            problem.status = error.status_code
        return render(problem, request)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, error: StaleDataError) -> JSONResponse:
        if carries_if_match(request.headers.get("if-match")):
            # The version the client named matched when read, and another writer moved past it before this one
            # wrote: its precondition failed, as it would have had the other committed a moment sooner.
            return render(stale_precondition(), request)
        return render(Conflict(LocalizedText("The resource changed while this request ran; reload and retry.",
                                             "此資源在處理請求期間已被變更,請重新載入後再試。")), request)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, error: IntegrityError) -> JSONResponse:
        # A uniqueness rule broken by a concurrent request that committed first.
        return render(Conflict(LocalizedText("This conflicts with a change made at the same moment; reload and retry.",
                                             "這與同一時間的另一項變更衝突,請重新載入後再試。")), request)

    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, error: DataError) -> JSONResponse:
        # The database refused a value the request carried (a number beyond its integer range, a NUL
        # character in text on PostgreSQL): the client's input, not a server failure.
        return render(Unprocessable(LocalizedText(
            "A value in the request cannot be stored: a number is out of range or a text contains a character the "
            "database refuses.",
            "請求中的某個值無法儲存:數字超出範圍,或文字含有資料庫不接受的字元。")), request)

    async def _unavailable(request: Request, error: Exception) -> JSONResponse:
        return render(unavailable(), request)

    # Locked (SQLite), unreachable or cut off (PostgreSQL), or no pooled connection free in time: transient.
    for transient in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(transient, _unavailable)
