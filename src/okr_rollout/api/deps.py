"""FastAPI dependencies: the request's session (one unit of work), the caller, the clock, the catalog."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Query, Request, Response
from fastapi.concurrency import contextmanager_in_threadpool, run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.orm import Session

from okr_rollout.api.body import NUL_FIELDS
from okr_rollout.api.middleware import DEFERRED_COMMIT, DeferredCommit
from okr_rollout.api.pagination import Cursor as Cursor  # re-exported: the routers take it from here
from okr_rollout.api.problems import field_path, invalid_input, remember_caller_locale
from okr_rollout.auth.caller import Caller
from okr_rollout.auth.service import authenticate
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import (
    begin_write,
    end_unit_of_work,
    open_reader,
    open_writer,
    rollback,
    session_scope,
    unit_of_work,
)
from okr_rollout.errors import NotFound, PreconditionFailed, Unauthorized
from okr_rollout.settings import Settings
from okr_rollout.texts import LocalizedText

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UNKNOWN_TOKEN = LocalizedText("The bearer token is unknown or revoked.", "此 Bearer 權杖不存在或已撤銷。")
NUL_MESSAGE = LocalizedText("text must not contain the NUL character (\\u0000)", "文字不得包含 NUL 字元(\\u0000)")
_bearer = HTTPBearer(auto_error=False, description="An API token: okr-rollout token create")


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: commit when the handler succeeds, roll back when it raises.

    Under an Idempotency-Key the middleware commits instead, together with the key's outcome (the response,
    known only once the handler is done): the unit of work claims the key first, is flushed here and handed back
    to it."""
    deferred: DeferredCommit | None = request.scope.get(DEFERRED_COMMIT)
    if deferred is None or request.method not in WRITE_METHODS:
        with session_scope(request.app.state.session_factory, write=request.method in WRITE_METHODS) as session:
            yield session
        return
    session = request.app.state.session_factory()
    try:
        begin_write(session)
        deferred.claim(session)
        yield session
        session.flush()  # a refused write still fails here, inside the app's error handlers
    except BaseException:
        rollback(session)
        session.close()
        raise
    deferred.session = session


async def get_api_session(request: Request) -> AsyncIterator[Session]:
    """``get_session`` for the API. A read opens and ends its unit of work on the event loop (opening it touches
    no connection; ending a read commits nothing to disk), so that a GET costs one hop to a worker thread for
    its handler, not two more; a write opens on the event loop too (touching no connection) and commits in a
    worker thread. Under an Idempotency-Key, ``get_session`` as it is."""
    factory = request.app.state.session_factory
    if request.method not in WRITE_METHODS:
        with unit_of_work(open_reader(factory)) as session:
            yield session
        return
    if request.scope.get(DEFERRED_COMMIT) is not None:
        async with contextmanager_in_threadpool(contextmanager(get_session)(request)) as session:
            yield session
        return
    # Its first statement (SQLite: BEGIN IMMEDIATE, which may wait for the write lock) runs in the handler's
    # thread; the commit in one of its own.
    session = open_writer(factory)
    try:
        yield session
    except BaseException:
        if not session.info.get(_ENDED):
            await run_in_threadpool(end_unit_of_work, session, False)
        raise
    if not session.info.get(_ENDED):
        await run_in_threadpool(end_unit_of_work, session, True)


_ENDED = "okr_rollout_unit_of_work_ended"


def end_in_handler(request: Request, session: Session) -> None:
    """Commit the request's unit of work now, in the handler's own worker thread, rather than in one more hop after
    it returns (for the hot write path: a hop to a worker thread costs about what a transition's statements do).
    The handler calls it last, once its answer is built; under an Idempotency-Key the middleware still commits,
    together with the key's record, so nothing happens here."""
    if request.scope.get(DEFERRED_COMMIT) is None and request.method in WRITE_METHODS:
        session.info[_ENDED] = True
        end_unit_of_work(session, True)


# "function" scope: the unit of work commits when the handler returns, before the response is sent. With FastAPI's
# default ("request") it would commit after the client already had its 2xx, so a crash or a failed commit in
# between would lose a write the client was told had happened.
SessionDep = Annotated[Session, Depends(get_api_session, scope="function")]


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_caller(request: Request, session: SessionDep, credentials: BearerDep) -> Caller:
    return accept_caller(request, authenticate(session, bearer_token(credentials)))


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    """The raw token of an ``Authorization: Bearer`` header; 401 without one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    return credentials.credentials


def accept_caller(request: Request, caller: Caller | None) -> Caller:
    """The caller a bearer token named (None: unknown or revoked, 401), once the request's parameters pass."""
    if caller is None:
        raise Unauthorized(UNKNOWN_TOKEN)
    remember_caller_locale(request, caller.locale)
    refuse_nul(request)
    refuse_ids_out_of_range(request)
    return caller


# Every id is an INTEGER column (BIGINT for events, whose ids never appear in a path): a larger number names
# nothing. Said as 404 on both databases, rather than what each driver makes of it (PostgreSQL: a value out of
# range, SQLite: a Python int it cannot bind).
LARGEST_ID = 2**31 - 1


def refuse_ids_out_of_range(request: Request) -> None:
    """404 for a path whose id (a ``*_id`` parameter) is a number no row can have."""
    for name, value in request.path_params.items():
        if name.endswith("_id") and isinstance(value, str) and _is_integer(value) and not 0 < int(value) <= LARGEST_ID:
            path = request.url.path
            raise NotFound(LocalizedText(f"There is nothing at {path}.", f"{path} 沒有任何資源。"))


def _is_integer(text: str) -> bool:
    digits = text[1:] if text[:1] in ("-", "+") else text
    return digits.isascii() and digits.isdigit()


def refuse_nul(request: Request) -> None:
    """422 naming every path or query parameter and every field of the JSON body (found by the middleware) that
    carries a NUL character: stored by SQLite but refused by PostgreSQL, so refused on both. Checked once the
    caller is known, as the other rules of a request are: without a valid token the answer stays 401."""
    located: list[tuple[int | str, ...]] = [*nul_parameters(request), *(request.scope.get(NUL_FIELDS) or [])]
    if located:
        errors: list[dict[str, object]] = [
            {"field": field_path(location), "message": NUL_MESSAGE, "type": "string_nul"} for location in located]
        raise invalid_input(errors)


def nul_parameters(request: Request) -> list[tuple[int | str, ...]]:
    """The path and query parameters carrying a NUL character (``%00``), in a value or a name, as FastAPI
    locates them (``("query", "phase")``); each named once."""
    found: dict[tuple[int | str, ...], None] = {}
    for source, items in (("path", list(request.path_params.items())),
                          ("query", request.query_params.multi_items())):
        for name, value in items:
            if "\0" in name:
                found[(source, name.replace("\0", "\\u0000"))] = None
            elif isinstance(value, str) and "\0" in value:
                found[(source, name)] = None
    return list(found)


# The trivial dependencies are coroutines: FastAPI runs a plain function in a worker thread, a hop that costs more
# than what they do.
async def get_clock(request: Request) -> Callable[[], datetime]:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock


async def get_now(clock: Annotated[Callable[[], datetime], Depends(get_clock)]) -> datetime:
    return clock()


async def get_catalog(request: Request) -> Catalog:
    return app_catalog(request)


def app_now(request: Request) -> datetime:
    """Now, by the app's clock (``NowDep`` without a dependency, for a hot handler)."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def app_catalog(request: Request) -> Catalog:
    """The app's playbook catalog (``CatalogDep`` without a dependency, for a hot handler)."""
    catalog: Catalog = request.app.state.catalog
    return catalog


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def etag(version: int) -> str:
    return f'"v{version}"'


def check_if_match(if_match: str | None, version: int) -> None:
    """412 when the client's If-Match names another version than the stored one.

    If-Match compares strongly (RFC 9110, 13.1.1): a weak tag (``W/"v3"``) never matches, even the current
    version's, since it only promises an equivalent representation, not this one."""
    if if_match is None or if_match.strip() == "*":
        return
    accepted = {tag.strip() for tag in if_match.split(",")}
    if etag(version) in accepted:
        return
    if f"W/{etag(version)}" in accepted:
        detail = LocalizedText(
            f"If-Match {if_match} is a weak tag, and If-Match compares strongly: send the ETag as it was given, "
            f"{etag(version)}.",
            f"If-Match {if_match} 是弱標籤,而 If-Match 採強比較:請原樣送出收到的 ETag {etag(version)}。")
    else:
        detail = LocalizedText(
            f"If-Match {if_match} does not match the current version {etag(version)}; reload and retry.",
            f"If-Match {if_match} 與目前的版本 {etag(version)} 不符,請重新載入後再試。")
    raise PreconditionFailed(detail, extra={"current_version": version})


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def serialized(model: BaseModel, *, version: int) -> Response:
    """``model`` as the JSON response, with its ETag: serialized once. Returned from a handler whose
    ``response_model`` is the model's class (for the documentation), it is not validated and serialized again."""
    return Response(model.model_dump_json(by_alias=True), media_type="application/json",
                    headers={"ETag": etag(version)})


CallerDep = Annotated[Caller, Depends(get_caller)]
NowDep = Annotated[datetime, Depends(get_now)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
IfMatch = Annotated[str | None, Header(description="An ETag from a previous read; 412 when stale.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size (1-500).")]
# A filter naming a row by id: a number past any id is refused naming the parameter, alike on both databases.
IdFilter = Annotated[int | None, Query(le=LARGEST_ID)]
PortfolioCursor = Annotated[str | None, Query(description="next_cursor of the previous page.")]
