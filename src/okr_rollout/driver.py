"""Prebuilt statements run on the driver's own cursor, inside the session's transaction.

For the hot write path (a transition): SQLAlchemy's execution and result layers cost more than SQLite takes
to run a one-row insert, and on PostgreSQL they cannot pipeline, so each statement would be its own round
trip. The statements are still SQLAlchemy Core, compiled once per dialect, and their values go through the
column types' own bind processors: what is stored is exactly what the ORM would have stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Delete, Insert, Select, Update

_REQUIRED = object()  # a bind whose value each execution gives


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Each bind in the order of a positional paramstyle: its name, its type's processor, and the value the
    # statement carries itself if any (a literal such as the 0 of a COALESCE).
    binds: tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]
    positional: bool
    columns: tuple[Callable[[Any], Any] | None, ...]  # a SELECT's result processors, column by column


class DriverStatement:
    """A Core statement whose every value is a named ``bindparam`` (or a literal), ready for the driver's
    cursor; a SELECT's rows come back through its columns' result processors."""

    def __init__(self, statement: Insert | Update | Delete | Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            sql_compiler = self.statement.compile(dialect=dialect)
            names = sql_compiler.positiontup or () if dialect.positional else sql_compiler.binds
            binds = []
            for name in names:
                bind = sql_compiler.binds[name]
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                fixed = _REQUIRED if bind.required else bind.effective_value
                binds.append((name, processor, fixed))
            columns = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                            for column in self.statement.selected_columns) if isinstance(self.statement,
                                                                                         Select) else ()
            compiled = self._compiled[dialect.name] = _Compiled(sql_compiler.string, tuple(binds),
                                                                dialect.positional, columns)
        return compiled

    def sql(self, dialect: Dialect) -> str:
        return self._for(dialect).sql

    def parameters(self, dialect: Dialect, values: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """``values`` (every bind name) as the driver takes them: processed, positional where it must be."""
        compiled = self._for(dialect)
        processed = []
        for name, processor, fixed in compiled.binds:
            value = values[name] if fixed is _REQUIRED else fixed
            processed.append(processor(value) if processor is not None else value)
        if compiled.positional:
            return processed
        return dict(zip((name for name, _, _ in compiled.binds), processed, strict=True))


    def row(self, dialect: Dialect, row: Sequence[Any]) -> tuple[Any, ...]:
        """A row as SQLAlchemy would have given it (an SQLite timestamp as an aware datetime, for instance)."""
        columns = self._for(dialect).columns
        return tuple(process(value) if process is not None else value
                     for process, value in zip(columns, row, strict=True))


def fetch_one(connection: Connection, statement: DriverStatement, values: dict[str, Any]) -> tuple[Any, ...] | None:
    """The first row of a SELECT, on the driver's cursor. On PostgreSQL in a pipeline: when it is the first
    statement of the transaction, its BEGIN goes with it, one round trip for both."""
    dialect = connection.dialect
    sql, parameters = statement.sql(dialect), statement.parameters(dialect, values)
    driver: Any = connection.connection.driver_connection
    with driver_errors(connection, sql, parameters):
        if dialect.name == "postgresql":
            with driver.pipeline():
                cursor = driver.execute(sql, parameters)
            found = cursor.fetchone()
        else:
            found = driver.execute(sql, parameters).fetchone()
    return None if found is None else statement.row(dialect, found)


def fetch_all_each(connection: Connection, queries: Sequence[tuple[DriverStatement, dict[str, Any]]]
                   ) -> list[list[tuple[Any, ...]]]:
    """Every row of each SELECT, on the driver's cursor; on PostgreSQL all of them in one pipeline (one round
    trip, its BEGIN too when it opens the transaction)."""
    dialect = connection.dialect
    prepared = [(statement, statement.sql(dialect), statement.parameters(dialect, values))
                for statement, values in queries]
    driver: Any = connection.connection.driver_connection
    with driver_errors(connection, prepared[0][1] if prepared else "", None):
        if dialect.name == "postgresql":
            with driver.pipeline():
                cursors = [driver.execute(sql, parameters) for _, sql, parameters in prepared]
            fetched = [cursor.fetchall() for cursor in cursors]
        else:
            fetched = [driver.execute(sql, parameters).fetchall() for _, sql, parameters in prepared]
    return [[statement.row(dialect, row) for row in rows]
            for (statement, _, _), rows in zip(prepared, fetched, strict=True)]


@contextmanager
def driver_errors(connection: Connection, statement: str = "", parameters: Any = None) -> Iterator[None]:
    """Handle the driver's errors as SQLAlchemy handles those of its own statements: the engine's
    ``handle_error`` hooks run, a connection the server dropped is invalidated (not returned to the pool), and
    the exception raised is the one SQLAlchemy would raise (an IntegrityError is still one, a locked database
    still an OperationalError: the API's 409 and 503 stay as they are)."""
    try:
        yield
    # SQLite's driver refuses an integer beyond 64 bits with an OverflowError, before any statement runs: the
    # engine's hooks turn it into the DataError PostgreSQL gives, as they do for SQLAlchemy's own statements.
    except (connection.dialect.loaded_dbapi.Error, OverflowError) as error:
        # SQLAlchemy's own handler of a failed execution (not public API; pinned by tests/db/test_driver.py).
        connection._handle_dbapi_exception(error, statement, parameters, None, None)
