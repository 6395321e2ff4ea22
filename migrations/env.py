"""Alembic environment: one linear history, batch mode on SQLite, the URL from settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import okr_rollout.models  # noqa: F401  (registers every table on Base.metadata)
from okr_rollout.db import Base, make_engine
from okr_rollout.settings import get_settings

config = context.config
target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as fresh:
        run_with(fresh)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("okr-rollout migrations run online only: set OKR_ROLLOUT_DATABASE_URL and run upgrade")
run_migrations_online()
