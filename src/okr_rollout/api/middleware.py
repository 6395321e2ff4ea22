"""Pure-ASGI middleware: the body size limit, and Idempotency-Key replay for POSTs."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from okr_rollout.db import session_scope
from okr_rollout.errors import Conflict, PayloadTooLarge, ProblemError, Unprocessable, unavailable
from okr_rollout.models import IdempotencyRecord

PROBLEM_JSON = b"application/problem+json"
logger = logging.getLogger(__name__)
# A first request still "running" after this long died with its process: its key may be used again.
_ABANDONED_AFTER = timedelta(minutes=5)


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
        except OperationalError:  # outside FastAPI's handlers: answer as they do for a database that is away
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

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": b""}
        held: list[Message] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            held.append(message)

        try:
            await self.app(scope, _replaying(body), capture)
        finally:
            try:
                await anyio.to_thread.run_sync(self._finish, factory, caller, key, captured)
            except OperationalError:
                # The key stays "running" until it counts as abandoned; the response still goes out.
                logger.exception("could not record the outcome of Idempotency-Key %r", key)
        # Sent only once its outcome is recorded: a client that retries the moment it has the answer gets
        # the replay, not "still running".
        for message in held:
            await send(message)

    def _claim(
        self, factory: sessionmaker[Session], caller: str, key: str, request_hash: str, now: datetime
    ) -> IdempotencyRecord | ProblemError | None:
        """None: this request goes ahead. A record: replay it. A problem: refuse."""
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
                    session.add(
                        IdempotencyRecord(caller=caller, key=key, request_hash=request_hash, state="running",
                                          created_at=now)
                    )
                    return None
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

    def _finish(self, factory: sessionmaker[Session], caller: str, key: str, captured: dict[str, Any]) -> None:
        with session_scope(factory) as session:
            record = session.scalar(
                select(IdempotencyRecord).where(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key)
            )
            if record is None:
                return
            if captured["status"] >= 500:
                session.delete(record)  # a server failure may be retried with the same key
                return
            record.state = "done"
            record.status_code = captured["status"]
            record.headers = {
                k.decode("latin-1"): v.decode("latin-1") for k, v in captured["headers"]
                if k.decode("latin-1").lower() != "content-length"
            }
            record.body = captured["body"]
