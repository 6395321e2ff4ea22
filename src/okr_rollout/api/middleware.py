"""Pure-ASGI middleware: the body size limit, and Idempotency-Key replay for POSTs."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import anyio
import anyio.to_thread
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from okr_rollout.db import session_scope
from okr_rollout.errors import Conflict, PayloadTooLarge, ProblemError, Unprocessable, unavailable
from okr_rollout.models import IdempotencyRecord

PROBLEM_JSON = b"application/problem+json"
logger = logging.getLogger(__name__)
# A first request still "running" after this long died with its process: its key may be used again.
_ABANDONED_AFTER = timedelta(minutes=5)
# A database that is locked, unreachable or out of free connections, as the API's handlers see it (503).
_TRANSIENT = (OperationalError, InterfaceError, PoolTimeout)
# The scope key under which a request with an Idempotency-Key receives its unit of work back.
DEFERRED_COMMIT = "okr_rollout.deferred_commit"


@dataclass
class DeferredCommit:
    """Filled by ``api.deps.get_session`` with the request's unit of work, flushed, not committed: the middleware
    commits it together with the Idempotency-Key's outcome."""

    session: Session | None = None


NUL_FIELDS = "okr_rollout.nul_fields"


def nul_fields(body: bytes) -> list[tuple[int | str, ...]]:
    """Where a JSON body carries the NUL character, in a string or in a key (FastAPI's location notation,
    under "body"). PostgreSQL cannot store it in text and SQLite can: refused on both (api.deps.get_caller)."""
    if b"\\u0000" not in body and b"\x00" not in body:  # escaped (UTF-8), or a body in UTF-16 or UTF-32
        return []
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return []  # FastAPI answers it as malformed JSON
    found: list[tuple[int | str, ...]] = []
    pending: list[tuple[tuple[int | str, ...], Any]] = [(("body",), document)]
    while pending:  # not recursive: a body may nest deeply
        path, value = pending.pop()
        if isinstance(value, str):
            if "\0" in value:
                found.append(path)
        elif isinstance(value, list):
            pending.extend(((*path, index), item) for index, item in enumerate(value))
        elif isinstance(value, dict):
            for name, item in value.items():
                if "\0" in name:
                    found.append((*path, name.replace("\0", "\\u0000")))
                else:
                    pending.append(((*path, name), item))
    return sorted(found, key=str)


async def _send_problem(send: Send, error: ProblemError, path: str) -> None:
    body = json.dumps(error.body(instance=path)).encode()
    headers = [(b"content-type", PROBLEM_JSON), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None when it exceeds ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replaying(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class BodyLimitAndIdempotency:
    def __init__(
        self,
        app: ASGIApp,
        *,
        session_factory: Callable[[], sessionmaker[Session]],
        clock: Callable[[], Callable[[], datetime]],
        max_body_bytes: int,
        ttl: timedelta,
    ) -> None:
        self.app = app
        self.session_factory = session_factory
        self.clock = clock
        self.max_body_bytes = max_body_bytes
        self.ttl = ttl

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        # Header bytes are not always UTF-8 (a client may send any octet): read them as Latin-1, as Starlette does.
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await _send_problem(send, self._too_large(scope["path"]), scope["path"])
            return
        body = await read_body(receive, self.max_body_bytes)
        if body is None:
            await _send_problem(send, self._too_large(scope["path"]), scope["path"])
            return
        content_type = headers.get("content-type", "")
        if not content_type or "json" in content_type:
            scope[NUL_FIELDS] = nul_fields(body)
        key = headers.get("idempotency-key")
        if scope["method"] != "POST" or not key or not scope["path"].startswith("/api/"):
            await self.app(scope, _replaying(body), send)
            return
        await self._idempotent(scope, send, body, key, headers.get("authorization", ""))

    def _too_large(self, path: str) -> PayloadTooLarge:
        detail = f"The body is larger than {self.max_body_bytes} bytes."
        if path.endswith("/imports"):
            detail += " Split the file, or import it on the server with `okr-rollout import`, which has no limit."
        return PayloadTooLarge(detail, extra={"max_body_bytes": self.max_body_bytes})

    async def _idempotent(self, scope: Scope, send: Send, body: bytes, key: str, authorization: str) -> None:
        if len(key) > 255:
            await _send_problem(send, Unprocessable("Idempotency-Key is longer than 255 characters."), scope["path"])
            return
        caller = hashlib.sha256(authorization.encode("latin-1")).hexdigest()
        request_hash = hashlib.sha256(
            scope["method"].encode() + b" " + scope["path"].encode() + b"?" + scope.get("query_string", b"")
            + b"\n" + body
        ).hexdigest()
        factory = self.session_factory()
        now = self.clock()()
        # Database work off the event loop: waiting for SQLite's write lock must not stall other requests.
        try:
            outcome = await anyio.to_thread.run_sync(self._claim, factory, caller, key, request_hash, now)
        except _TRANSIENT:  # outside FastAPI's handlers: answer as they do for a database that is away
            await _send_problem(send, unavailable(), scope["path"])
            return
        if isinstance(outcome, ProblemError):
            await _send_problem(send, outcome, scope["path"])
            return
        if isinstance(outcome, IdempotencyRecord):
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in outcome.headers.items()]
            headers.append((b"idempotent-replayed", b"true"))
            await send({"type": "http.response.start", "status": outcome.status_code, "headers": headers})
            await send({"type": "http.response.body", "body": outcome.body or b""})
            return
        claim = outcome

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": b""}
        held: list[Message] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            held.append(message)

        # The request's unit of work is handed back here uncommitted (api.deps.get_session), so that its writes
        # and the key's outcome commit in one transaction: both, or neither.
        deferred = DeferredCommit()
        scope[DEFERRED_COMMIT] = deferred
        try:
            await self.app(scope, _replaying(body), capture)
        except BaseException:
            with anyio.CancelScope(shield=True):  # even when cancelled: never leave the unit of work open
                await anyio.to_thread.run_sync(self._abandon, factory, deferred, claim)
            raise
        with anyio.CancelScope(shield=True):
            problem = await anyio.to_thread.run_sync(self._finish, factory, deferred, claim, captured)
        if problem is not None:
            await _send_problem(send, problem, scope["path"])
            return
        # Sent only once its outcome is recorded: a client that retries the moment it has the answer gets
        # the replay, not "still running".
        for message in held:
            await send(message)

    def _claim(
        self, factory: sessionmaker[Session], caller: str, key: str, request_hash: str, now: datetime
    ) -> IdempotencyRecord | ProblemError | int:
        """The id of this request's claim on the key: it goes ahead. A record: replay it. A problem: refuse."""
        try:
            with session_scope(factory) as session:
                session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - self.ttl))
                record = session.scalar(
                    select(IdempotencyRecord).where(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key)
                )
                if record is not None and record.state == "running" and record.created_at < now - _ABANDONED_AFTER:
                    session.delete(record)
                    session.flush()
                    record = None
                if record is None:
                    claim = IdempotencyRecord(caller=caller, key=key, request_hash=request_hash, state="running",
                                              created_at=now)
                    session.add(claim)
                    session.flush()
                    return claim.id
                if record.request_hash != request_hash:
                    return Unprocessable(
                        "This Idempotency-Key was used with a different request; use a new key for a new request."
                    )
                if record.state == "running":
                    return Conflict("A request with this Idempotency-Key is still running; retry later.")
                session.expunge(record)
                return record
        except IntegrityError:
            return Conflict("A request with this Idempotency-Key is still running; retry later.")

    def _finish(
        self, factory: sessionmaker[Session], deferred: DeferredCommit, claim: int, captured: dict[str, Any]
    ) -> ProblemError | None:
        """Record the outcome. With the request's own unit of work when it wrote (the two commit together, or
        neither does: a problem to answer instead, the key released for a retry); else in a unit of its own."""
        session = deferred.session
        if session is None:  # nothing written, or rolled back: the outcome alone
            try:
                with session_scope(factory) as own:
                    _record(own, claim, captured)
            except (*_TRANSIENT, _ClaimLost):
                # The key stays "running" until it counts as abandoned; the response (of a request that
                # changed nothing) still goes out.
                logger.exception("could not record the outcome of Idempotency-Key claim %s", claim)
            return None
        deferred.session = None
        try:
            _record(session, claim, captured)
            session.commit()
            return None
        except _ClaimLost:
            _rollback(session)
            return Conflict("This request ran for so long that a retry with the same Idempotency-Key took its "
                            "place; nothing of it was kept. Read the resource to see the retry's outcome.")
        except (*_TRANSIENT, IntegrityError, StaleDataError) as error:
            _rollback(session)
            self._release(factory, claim)
            if isinstance(error, (IntegrityError, StaleDataError)):
                return Conflict("This conflicts with a change made at the same moment; reload and retry.")
            return unavailable()
        except BaseException:
            _rollback(session)
            self._release(factory, claim)
            raise
        finally:
            session.close()

    def _abandon(self, factory: sessionmaker[Session], deferred: DeferredCommit, claim: int) -> None:
        """The app failed after handing its unit of work back: undo it and free the key for a retry."""
        if deferred.session is not None:
            _rollback(deferred.session)
            deferred.session.close()
            deferred.session = None
        self._release(factory, claim)

    @staticmethod
    def _release(factory: sessionmaker[Session], claim: int) -> None:
        """Free the key of a request that failed, so that a retry runs it. Only while it is still "running": when
        a commit whose answer was lost in fact happened, the key is "done" and its retry gets the replay."""
        try:
            with session_scope(factory) as session:
                session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == claim,
                                                                IdempotencyRecord.state == "running"))
        except _TRANSIENT:
            logger.exception("could not release Idempotency-Key claim %s; it is free again once abandoned", claim)


class _ClaimLost(Exception):
    """The claim is gone: it ran past _ABANDONED_AFTER and a retry reclaimed the key."""


def _record(session: Session, claim: int, captured: dict[str, Any]) -> None:
    """Write the outcome of the request holding ``claim``: its response, or (a server failure, which may be
    retried with the same key) the key released."""
    if captured["status"] >= 500:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == claim,
                                                        IdempotencyRecord.state == "running"))
        return
    recorded = cast("CursorResult[Any]", session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == claim, IdempotencyRecord.state == "running")
        .values(
            state="done",
            status_code=captured["status"],
            headers={
                k.decode("latin-1"): v.decode("latin-1") for k, v in captured["headers"]
                if k.decode("latin-1").lower() != "content-length"
            },
            body=captured["body"],
        )
    ))
    if recorded.rowcount != 1:
        raise _ClaimLost(claim)


def _rollback(session: Session) -> None:
    try:
        session.rollback()
    except Exception:  # a connection that is gone: the server has rolled the transaction back
        logger.exception("rollback failed")
