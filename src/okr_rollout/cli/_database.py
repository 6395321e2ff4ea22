"""What the commands that write share: one unit of work on the configured database, and its URL to print."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from okr_rollout.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """A session committed at the end; a database that is missing or not migrated says what to run."""
    from sqlalchemy.exc import OperationalError

    from okr_rollout.db import make_engine_for, make_session_factory, session_scope

    settings = get_settings()
    engine = make_engine_for(settings)
    try:
        with session_scope(make_session_factory(engine)) as session:
            yield session
    except OperationalError as error:
        typer.echo(f"database error: {error.orig}. Has `okr-rollout db upgrade` run?", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
