"""``okr-rollout user``: logins for the pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from okr_rollout.auth.caller import Role
from okr_rollout.cli._database import unit_of_work

app = typer.Typer(help="Logins for the pages (coaches, internal coaches, administrators).", no_args_is_help=True)


@app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="The e-mail address they sign in with.")],
    role: Annotated[Role, typer.Option(help="admin, coach or internal_coach.")],
    person: Annotated[int | None, typer.Option(help="The person (required for coach and internal_coach).")] = None,
    password: Annotated[str | None, typer.Option(help="Asked for (hidden, twice) when not given.")] = None,
) -> None:
    """Create a login for the pages; the password is stored as an argon2id hash."""
    from okr_rollout.errors import ProblemError
    from okr_rollout.users.service import create_user

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work() as session:
            user = create_user(session, email=email, role=role, password=password, person_id=person,
                               now=datetime.now(UTC))
            user_id, address = user.id, user.email
    except ProblemError as error:
        typer.echo(f"cannot create the login: {error.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"user {user_id} ({role.value}) created: {address}")
