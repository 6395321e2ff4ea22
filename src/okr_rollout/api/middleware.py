"""Pure-ASGI middleware: the body size limit, and Idempotency-Key replay for every write (POST, PATCH, DELETE).

How a key is held, and why a dead worker never keeps it
-------------------------------------------------------
A key's record is written in the request's own transaction, with what the request wrote, and nowhere else: no
"running" row is committed ahead of the work. While the request runs, its key is held by that open transaction:
on PostgreSQL by a transaction-scoped advisory lock on a hash of caller and key, taken without waiting as the
transaction's first statement; on SQLite by the database's write lock, which a write transaction takes at its
start (BEGIN IMMEDIATE). Both end with the transaction. When a worker is killed, its connection closes, the
database rolls the transaction back and frees the lock: a retry runs at once, and nothing half-done is kept.
A lease (a worker id and an expiry renewed by a heartbeat) was the other way; it needs a heartbeat thread and an
expiry that is either too long for a retry after a crash or too short for a slow request, while the transaction
ends at the very moment the work is kept or lost.

- A retry after the first request committed replays its response: found by a read before the request's
  transaction opens, or, for a retry that raced the first, by the same read inside it.
- A retry while the first runs: 409 "still running" on PostgreSQL; on SQLite it waits for the write lock, as
  every write does, then replays.
- A replay goes only to the same caller, still valid: the record is keyed by a hash of the Authorization header
  and the token is authenticated again, so a revoked token's replay is 401 like any of its requests.
- A response that carries a secret is marked ``Cache-Control: no-store`` (``carries_secret``: a calendar feed
  URL, a webhook signing secret) and its body is not kept: the record says that the secret was issued (its
  status, no body, state "withheld"), and a replay answers 409 ``secret-shown-once``: issue a new one.
- A 5xx is not recorded: the key stays free for a retry.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from starlette.datastructures import MutableHeaders
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from okr_rollout.api import queries
from okr_rollout.api.body import NUL_FIELDS, nul_fields, read_body, replaying
from okr_rollout.api.problems import carries_if_match, stale_precondition
from okr_rollout.auth.service import authenticate
from okr_rollout.db import open_reader, session_scope, unit_of_work
from okr_rollout.errors import Conflict, PayloadTooLarge, ProblemError, Unauthorized, Unprocessable, unavailable
from okr_rollout.models import IdempotencyRecord
from okr_rollout.texts import DEFAULT_LOCALE, LocalizedText, preferred_locale

PROBLEM_JSON = b"application/problem+json"
logger = logging.getLogger(__name__)
# A database that is locked, unreachable or out of free connections, as the API's handlers see it (503).
_TRANSIENT = (OperationalError, InterfaceError, PoolTimeout)
# The scope key under which a request with an Idempotency-Key receives its unit of work back.
DEFERRED_COMMIT = "okr_rollout.deferred_commit"
DONE, WITHHELD = "done", "withheld"  # the states of a record: its response kept, or only its status (a secret)
# The writes that take an Idempotency-Key (and whose bodies are read here, against the size limit).
KEYED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Expired records of every caller are deleted by a worker at most this often (the one being reused, always).
_PURGE_EVERY = timedelta(minutes=1)


def carries_secret(headers: MutableHeaders) -> None:
    """Mark a response that shows a secret (once): no cache keeps it, nor does an Idempotency-Key's record."""
    headers["Cache-Control"] = "no-store"


def _is_secret(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name.lower() == b"cache-control" and b"no-store" in value.lower() for name, value in headers)


def _routable(scope: Scope) -> bool:
    """Whether a route answers this method on this path (else the router answers 404 or 405)."""
    app = scope.get("app")
    routes = getattr(getattr(app, "router", None), "routes", None)
    if routes is None:
        return True
    return any(route.matches(scope)[0] is Match.FULL for route in routes)


class SecretShownOnce(Conflict):
    title, slug = LocalizedText("Secret shown once", "密鑰只顯示一次"), "secret-shown-once"


_SECRET_SHOWN_ONCE = LocalizedText(
    "The first request with this Idempotency-Key succeeded, and its answer showed a secret once; it is not kept "
    "and cannot be shown again. Issue a new one (with a new Idempotency-Key).",
    "使用此 Idempotency-Key 的第一個請求已成功,其回應中的密鑰只顯示一次,不會保存,也無法再次顯示。"
    "請重新簽發一個(使用新的 Idempotency-Key)。",
)


_STILL_RUNNING = LocalizedText("A request with this Idempotency-Key is still running; retry later.",
                               "使用此 Idempotency-Key 的請求仍在執行中,請稍後再試。")


def _still_running() -> Conflict:
    return Conflict(_STILL_RUNNING)


class KeyTaken(Conflict):
    """The key was taken when the request's transaction claimed it. Raised in the app, which answers it as a
    problem like any other; the middleware then sends what the claim found instead (``_KeyedRequest.taken``)."""

    def __init__(self) -> None:
        super().__init__(_STILL_RUNNING)


@dataclass
class DeferredCommit:
    """Between the middleware and ``api.deps.get_session``: ``claim`` runs first in the request's transaction
    (it holds the key until that transaction ends, or raises ``KeyTaken``); ``session`` is then filled with the
    request's unit of work, flushed, not committed: the middleware commits it together with the key's record."""

    claim: Callable[[Session], None]
    session: Session | None = None


def _locale(scope: Scope) -> str:
    """The language of a problem answered before the app runs: the request's Accept-Language, else English."""
    for name, value in scope.get("headers") or ():
        if name.lower() == b"accept-language":
            return preferred_locale(value.decode("latin-1")) or DEFAULT_LOCALE
    return DEFAULT_LOCALE


async def _send_problem(send: Send, error: ProblemError, path: str, locale: str = DEFAULT_LOCALE) -> None:
    body = json.dumps(error.body(instance=path, locale=locale)).encode()
    headers = [(b"content-type", PROBLEM_JSON), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


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
        self._purged_at: datetime | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in KEYED_METHODS:
            await self.app(scope, receive, send)
            return
        # Header bytes are not always UTF-8 (a client may send any octet): read them as Latin-1, as Starlette does.
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await _send_problem(send, self._too_large(scope["path"]), scope["path"], _locale(scope))
            return
        body = await read_body(receive, self.max_body_bytes)
        if body is None:
            await _send_problem(send, self._too_large(scope["path"]), scope["path"], _locale(scope))
            return
        content_type = headers.get("content-type", "")
        if not content_type or "json" in content_type:
            scope[NUL_FIELDS] = nul_fields(body)
        key = headers.get("idempotency-key")
        if not key or not scope["path"].startswith("/api/"):
            await self.app(scope, replaying(body), send)
            return
        await self._idempotent(scope, send, body, key, headers.get("authorization", ""), headers.get("if-match"))

    def _too_large(self, path: str) -> PayloadTooLarge:
        en = f"The body is larger than {self.max_body_bytes} bytes."
        zh = f"內容超過 {self.max_body_bytes} 位元組。"
        if path.endswith("/imports"):
            en += " Split the file, or import it on the server with `okr-rollout import`, which has no limit."
            zh += "請分割檔案,或在伺服器上以沒有大小限制的 `okr-rollout import` 匯入。"
        return PayloadTooLarge(LocalizedText(en, zh), extra={"max_body_bytes": self.max_body_bytes})

    async def _idempotent(self, scope: Scope, send: Send, body: bytes, key: str, authorization: str,
                          if_match: str | None) -> None:
        path = scope["path"]
        if len(key) > 255:
            await _send_problem(send, Unprocessable(LocalizedText(
                "Idempotency-Key is longer than 255 characters.", "Idempotency-Key 超過 255 個字元。")), path,
                _locale(scope))
            return
        request = _KeyedRequest(
            caller=hashlib.sha256(authorization.encode("latin-1")).hexdigest(), key=key,
            request_hash=hashlib.sha256(scope["method"].encode() + b" " + path.encode() + b"?"
                                        + scope.get("query_string", b"") + b"\n" + body).hexdigest(),
            authorization=authorization, now=self.clock()(), ttl=self.ttl, if_match=if_match)
        factory = self.session_factory()
        # Database work off the event loop: waiting for a connection or SQLite's lock must not stall the others.
        try:
            found = await anyio.to_thread.run_sync(self._lookup, factory, request)
        except _TRANSIENT:  # outside FastAPI's handlers: answer as they do for a database that is away
            await _send_problem(send, unavailable(), path, _locale(scope))
            return
        if found is not None:
            if not _routable(scope):  # a key reused on a method the path does not answer: 405, as without a key
                await self.app(scope, replaying(body), send)
                return
            await self._answer(send, path, factory, request, found, _locale(scope))
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

        # The request's unit of work claims the key first thing (api.deps.get_session calls ``claim``) and is handed
        # back here uncommitted, so that its writes and the key's record commit in one transaction: both, or neither.
        deferred = DeferredCommit(claim=request.claim)
        scope[DEFERRED_COMMIT] = deferred
        try:
            await self.app(scope, replaying(body), capture)
        except BaseException:
            with anyio.CancelScope(shield=True):  # even when cancelled: never leave the unit of work open
                await anyio.to_thread.run_sync(_abandon, deferred)
            raise
        if request.taken is not None:  # the app answered the claim's refusal: what it stood for goes out instead
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_abandon, deferred)
            await self._answer(send, path, factory, request, request.taken, _locale(scope))
            return
        with anyio.CancelScope(shield=True):
            outcome = await anyio.to_thread.run_sync(self._finish, factory, deferred, request, captured)
        if outcome is not None:
            await self._answer(send, path, factory, request, outcome, _locale(scope))
            return
        # Sent only once its record is committed: a client that retries the moment it has the answer gets the
        # replay.
        for message in held:
            await send(message)

    def _lookup(self, factory: sessionmaker[Session], request: _KeyedRequest) -> IdempotencyRecord | None:
        """The live record of the request's key, if any; expired records of every caller deleted now and then."""
        if self._purged_at is None or request.now - self._purged_at >= _PURGE_EVERY:
            self._purged_at = request.now
            try:
                with session_scope(factory) as session:
                    session.execute(queries.expired_records(before=request.now - request.ttl))
            except _TRANSIENT:
                logger.exception("could not delete expired Idempotency-Key records; the next request tries again")
                self._purged_at = None
        with unit_of_work(open_reader(factory)) as session:
            record = session.scalar(queries.live_record(request.caller, request.key, since=request.expired_before))
            if record is not None:
                session.expunge(record)
            return record

    async def _answer(self, send: Send, path: str, factory: sessionmaker[Session], request: _KeyedRequest,
                      outcome: IdempotencyRecord | ProblemError, locale: str) -> None:
        """Send a problem, or replay a record to its caller once its token proves still valid."""
        if isinstance(outcome, IdempotencyRecord):
            try:
                outcome = await anyio.to_thread.run_sync(_replay_refusal, factory, request, outcome) or outcome
            except _TRANSIENT:
                outcome = unavailable()
        if isinstance(outcome, ProblemError):
            await _send_problem(send, outcome, path, locale)
            return
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in outcome.headers.items()]
        headers.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": outcome.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": outcome.body or b""})

    @staticmethod
    def _finish(factory: sessionmaker[Session], deferred: DeferredCommit, request: _KeyedRequest,
                captured: dict[str, Any]) -> IdempotencyRecord | ProblemError | None:
        """Record the outcome: with the request's own unit of work when it wrote (the two commit together, or
        neither does: a problem to answer instead, the key left free), else in a unit of its own. A record
        returned: another request with the key got there first; its answer goes out instead of this one."""
        session, deferred.session = deferred.session, None
        record = None if captured["status"] >= 500 else _record_of(request, captured)
        if session is None:  # nothing written, or rolled back: the record alone
            if record is None:
                return None
            try:
                with session_scope(factory) as own:
                    own.execute(queries.expired_record(request.caller, request.key, before=request.expired_before))
                    own.add(record)
            except IntegrityError:  # recorded meanwhile by a twin that changed nothing either: this answer stands
                pass
            except _TRANSIENT:  # the key stays free; the answer (of a request that changed nothing) still goes out
                logger.exception("could not record the outcome of an Idempotency-Key")
            return None
        try:
            if record is not None:
                session.execute(queries.expired_record(request.caller, request.key, before=request.expired_before))
                session.add(record)
                try:
                    session.flush()
                except IntegrityError:  # a twin committed the key first (not held by a lock: SQLite's was not taken)
                    _rollback(session)
                    return request.recorded_by_twin(factory)
            session.commit()
            return None
        except (*_TRANSIENT, IntegrityError, StaleDataError) as error:
            _rollback(session)
            if isinstance(error, StaleDataError) and carries_if_match(request.if_match):
                return stale_precondition()
            if isinstance(error, (IntegrityError, StaleDataError)):
                return Conflict(LocalizedText("This conflicts with a change made at the same moment; reload and retry.",
                                              "這與同一時間的另一項變更衝突,請重新載入後再試。"))
            return unavailable()
        except BaseException:
            _rollback(session)
            raise
        finally:
            session.close()


@dataclass
class _KeyedRequest:
    """A write with an Idempotency-Key: who sent it (a hash of its Authorization header), the key, what it asked."""

    caller: str
    key: str
    request_hash: str
    authorization: str
    now: datetime
    ttl: timedelta
    if_match: str | None = None
    taken: IdempotencyRecord | ProblemError | None = None

    @property
    def expired_before(self) -> datetime:
        return self.now - self.ttl

    def claim(self, session: Session) -> None:
        """Run by the request's transaction before anything else: hold the key for as long as it runs, or raise
        KeyTaken (another transaction holds it: "still running"; or it committed the key since the lookup)."""
        if session.get_bind().dialect.name == "postgresql" and not session.scalar(
                queries.try_key_lock(self.caller, self.key)):
            self.taken = _still_running()
            raise KeyTaken()
        record = session.scalar(queries.live_record(self.caller, self.key, since=self.expired_before))
        if record is not None:
            session.expunge(record)
            self.taken = record
            raise KeyTaken()

    def recorded_by_twin(self, factory: sessionmaker[Session]) -> IdempotencyRecord | ProblemError:
        with unit_of_work(open_reader(factory)) as session:
            record = session.scalar(queries.live_record(self.caller, self.key, since=self.expired_before))
            if record is None:
                return _still_running()
            session.expunge(record)
            return record


def _record_of(request: _KeyedRequest, captured: dict[str, Any]) -> IdempotencyRecord:
    """The record of a response: all of it, or (a response showing a secret) its status and headers only."""
    secret = _is_secret(captured["headers"])
    return IdempotencyRecord(
        caller=request.caller, key=request.key, request_hash=request.request_hash,
        state=WITHHELD if secret else DONE, status_code=captured["status"],
        headers={k.decode("latin-1"): v.decode("latin-1") for k, v in captured["headers"]
                 if k.decode("latin-1").lower() != "content-length"},
        body=None if secret else captured["body"], created_at=request.now)


def _replay_refusal(factory: sessionmaker[Session], request: _KeyedRequest,
                    record: IdempotencyRecord) -> ProblemError | None:
    """Why ``record`` is not replayed to this request (None: it is): a token no longer valid (401, as any of its
    requests), another request under the same key (422), or a secret shown once (409)."""
    scheme, _, token = request.authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return Unauthorized()
    with unit_of_work(open_reader(factory)) as session:
        if authenticate(session, token.strip()) is None:
            return Unauthorized(LocalizedText("The bearer token is unknown or revoked.",
                                              "此 Bearer 權杖不存在或已撤銷。"))
    if record.request_hash != request.request_hash:
        return Unprocessable(LocalizedText(
            "This Idempotency-Key was used with a different request; use a new key for a new request.",
            "此 Idempotency-Key 已用於另一個不同的請求;新的請求請使用新的金鑰。"))
    if record.state == WITHHELD:
        return SecretShownOnce(_SECRET_SHOWN_ONCE, extra={"original_status": record.status_code,
                                                             "localized": _SECRET_SHOWN_ONCE.as_dict()})
    return None


def _abandon(deferred: DeferredCommit) -> None:
    """The app failed after handing its unit of work back, or the key was taken: undo it (the key stays free)."""
    if deferred.session is not None:
        _rollback(deferred.session)
        deferred.session.close()
        deferred.session = None


def _rollback(session: Session) -> None:
    try:
        session.rollback()
    except Exception:  # a connection that is gone: the server has rolled the transaction back
        logger.exception("rollback failed")
