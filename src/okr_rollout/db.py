"""Engine, session factory, the declarative Base, and the request-session boundary."""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, ExceptionContext, make_url
from sqlalchemy.exc import DataError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from okr_rollout.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; okr-rollout stores timezone-aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime()}


_MEMORY_URLS = ("sqlite://", "sqlite:///:memory:")


def make_engine(
    url: str,
    *,
    sqlite_busy_timeout_ms: int = 15_000,
    postgres_lock_timeout_ms: int | None = None,
    postgres_statement_timeout_ms: int | None = None,
    **kwargs: Any,
) -> Engine:
    """An engine for ``url``. On PostgreSQL, a lock or statement timeout given here is set on every connection
    (None: the server's own setting); a statement it stops fails as an OperationalError, like SQLite's busy
    timeout, which the API answers with 503 and Retry-After."""
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": sqlite_busy_timeout_ms / 1000}
        memory = url in _MEMORY_URLS
        # Pooled (SQLAlchemy's default), not a new connection per unit of work: opening one, with its PRAGMAs and
        # SQLite's reading of the schema, cost as much as a whole GET.
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine, wal=not memory)
        event.listen(engine, "handle_error", _number_out_of_range)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    options = _postgres_options(url, lock_timeout_ms=postgres_lock_timeout_ms,
                                statement_timeout_ms=postgres_statement_timeout_ms)
    if options:
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "options": options}
    engine = create_engine(url, **kwargs)
    _ping_after_idle(engine)
    return engine


# A pooled connection idle this long may have been closed by the server, a restart or a firewall: it is pinged
# before use. One that was in use a moment ago is not: a round trip saved on every busy request (SQLAlchemy's
# pool_pre_ping pings every checkout). Should it have died all the same, the statement fails, the pool drops
# every connection older than the failure and the request answers 503; the next one gets a fresh connection.
PING_AFTER_IDLE_SECONDS = 10.0


def _ping_after_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error:  # e.g. AdminShutdown, which the dialect does not count as gone
            alive = False
        if not alive:
            raise DisconnectionError("the pooled connection is gone; the pool connects again")


def make_engine_for(settings: Settings, **kwargs: Any) -> Engine:
    """The engine of the API, the CLI and the scheduler: ``settings``' database, its pool and its timeouts."""
    if settings.database_url not in _MEMORY_URLS:  # one connection, no pool to size
        # SQLAlchemy's default pool keeps 5: under a web worker's load (its 40 threads) every connection beyond
        # them was opened and closed again per request, on PostgreSQL a new server process each time.
        kwargs = {"pool_size": settings.database_pool_size, "max_overflow": settings.database_max_overflow,
                  **kwargs}
    return make_engine(
        settings.database_url,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        postgres_lock_timeout_ms=settings.postgres_lock_timeout_ms,
        postgres_statement_timeout_ms=settings.postgres_statement_timeout_ms,
        **kwargs,
    )


def _postgres_options(url: str, *, lock_timeout_ms: int | None, statement_timeout_ms: int | None) -> str:
    """libpq's ``options`` (server settings for the session), keeping any the URL already carries."""
    given = make_url(url).query.get("options")
    parts = [given] if isinstance(given, str) else list(given or ())
    if lock_timeout_ms is not None:
        parts.append(f"-c lock_timeout={lock_timeout_ms}")
    if statement_timeout_ms is not None:
        parts.append(f"-c statement_timeout={statement_timeout_ms}")
    return " ".join(parts)


def _number_out_of_range(context: ExceptionContext) -> DataError | None:
    """SQLite's driver refuses an integer beyond 64 bits with a bare OverflowError; raise it as the DataError
    PostgreSQL gives for a value out of range, so both reach the same 422 instead of a server error."""
    error = context.original_exception
    if isinstance(error, OverflowError):
        return DataError(context.statement, context.parameters, error)
    return None


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN; take control so that
        # a write transaction takes the lock at its start (BEGIN IMMEDIATE below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A unit of work that will write takes SQLite's write lock when it starts, so that
        # two of them never both read the same state and then race to write it.
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


WRITE_OPTION = "okr_rollout_write"


def begin_write(session: Session) -> None:
    """Start ``session``'s transaction as a writer: SQLite's BEGIN IMMEDIATE; nothing special elsewhere."""
    session.connection(execution_options={WRITE_OPTION: True})


def begin_read(session: Session) -> None:
    """Start ``session`` as a reader. On PostgreSQL each statement then runs in its own transaction: under READ
    COMMITTED a transaction gives a reader no more (every statement takes a new snapshot), and BEGIN and COMMIT
    would cost a round trip each. A reader that writes all the same commits each statement as it runs."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


_autocommit_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def open_reader(factory: sessionmaker[Session]) -> Session:
    """A reader's session, as ``begin_read`` starts one, but touching no connection until its first statement:
    it can be opened on the event loop, and its first statement (which may wait for a pooled connection) runs in
    the handler's thread. On PostgreSQL it is bound to the engine in AUTOCOMMIT."""
    session = factory()
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        autocommit = _autocommit_engines.get(bind)
        if autocommit is None:
            autocommit = _autocommit_engines[bind] = bind.execution_options(isolation_level="AUTOCOMMIT")
        session.bind = autocommit
    return session


_writer_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def open_writer(factory: sessionmaker[Session]) -> Session:
    """A writer's session, as ``begin_write`` starts one, but touching no connection until its first statement
    (SQLite's BEGIN IMMEDIATE, which may wait for the write lock, runs then, in the handler's thread)."""
    session = factory()
    bind = session.get_bind()
    if isinstance(bind, Engine):
        writer = _writer_engines.get(bind)
        if writer is None:
            writer = _writer_engines[bind] = bind.execution_options(**{WRITE_OPTION: True})
        session.bind = writer
    return session


def end_unit_of_work(session: Session, succeeded: bool) -> None:
    """Commit ``session`` (or roll it back and run its after-rollback actions), then close it."""
    try:
        if not succeeded:
            rollback(session)
            return
        try:
            commit(session)
        except BaseException:
            rollback(session)
            raise
    finally:
        session.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


_AFTER_ROLLBACK = "okr_rollout_after_rollback"
logger = logging.getLogger(__name__)


def after_rollback(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once ``session``'s unit of work is rolled back (e.g. record a refusal in the history, in a
    unit of work of its own); a unit of work that commits drops it."""
    session.info.setdefault(_AFTER_ROLLBACK, []).append(action)


def rollback(session: Session) -> None:
    """Roll ``session`` back, then run the actions registered with ``after_rollback``. One that fails is logged:
    what was rolled back stays rolled back."""
    session.rollback()
    actions: list[Callable[[], None]] = session.info.pop(_AFTER_ROLLBACK, [])
    for action in actions:
        try:
            action()
        except Exception:
            logger.exception("an action after a rollback failed")


def commit(session: Session) -> None:
    session.commit()
    session.info.pop(_AFTER_ROLLBACK, None)


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """End ``session`` as a unit of work: commit on success; on error, roll back and run its after-rollback
    actions; close either way."""
    try:
        yield session
    except BaseException:
        end_unit_of_work(session, False)
        raise
    end_unit_of_work(session, True)


@contextmanager
def session_scope(factory: sessionmaker[Session], *, write: bool = True) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error. Services inside only flush."""
    with unit_of_work(factory()) as session:
        if write:
            begin_write(session)
        else:
            begin_read(session)
        yield session
