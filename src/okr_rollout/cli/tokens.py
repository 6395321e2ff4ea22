"""``okr-rollout token``: API tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from okr_rollout.auth.caller import TRANSITIONS_SCOPE, Role
from okr_rollout.cli._database import unit_of_work

CLI_ACTOR = "cli"  # who the history says issued or revoked a token from the command line
app = typer.Typer(help="API tokens: shown once at creation, stored hashed.", no_args_is_help=True)


@app.command("create")
def token_create(
    role: Annotated[Role, typer.Option(help="admin, coach, internal_coach or integration.")],
    person: Annotated[int | None, typer.Option(help="The person (required for coach and internal_coach).")] = None,
    name: Annotated[str | None, typer.Option(help="A name to recognise the token by (e.g. crm).")] = None,
    scope: Annotated[list[str] | None, typer.Option(help="Extra scope; 'transitions' lets an integration "
                                                         "fire transitions.")] = None,
) -> None:
    """Create an API token and print it once."""
    from okr_rollout.auth.service import create_token, record_issued
    from okr_rollout.errors import ProblemError

    unknown = sorted(set(scope or []) - {TRANSITIONS_SCOPE})
    if unknown:
        typer.echo(f"unknown scope {unknown}; known: {TRANSITIONS_SCOPE}", err=True)
        raise typer.Exit(2)
    try:
        with unit_of_work() as session:
            now = datetime.now(UTC)
            raw, token = create_token(session, role=role, name=name, person_id=person, scopes=scope, at=now)
            record_issued(session, token, actor=CLI_ACTOR, at=now)
            token_id = token.id
    except ProblemError as error:
        typer.echo(f"cannot create the token: {error.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"token {token_id} ({role.value}); keep it now, it is not shown again:")
    typer.echo(raw)


@app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id (printed at creation).")]) -> None:
    """Revoke a token: it stops working at once."""
    from okr_rollout.auth.service import revoke
    from okr_rollout.errors import ProblemError

    try:
        with unit_of_work() as session:
            revoke(session, token_id, datetime.now(UTC), actor=CLI_ACTOR)
    except ProblemError as error:
        typer.echo(f"cannot revoke: {error.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"token {token_id} revoked")
