"""``okr-rollout db``: the database schema."""

from __future__ import annotations

from typing import Annotated

import typer

from okr_rollout.cli._database import safe_url
from okr_rollout.settings import PROJECT_ROOT, get_settings

app = typer.Typer(help="The database schema (Alembic migrations).", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the database (OKR_ROLLOUT_DATABASE_URL; ./okr-rollout.db by default) to the latest schema."""
    from alembic import command
    from alembic.config import Config

    settings = get_settings()
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    command.upgrade(config, revision)
    typer.echo(f"database at {revision}: {safe_url(settings.database_url)}")
