"""The ``okr-rollout`` command."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import TRANSITIONS_SCOPE, Role
from okr_rollout.db import make_engine_for, make_session_factory, session_scope
from okr_rollout.playbooks import PlaybookInvalid, load, validate
from okr_rollout.playbooks.diagram import mermaid
from okr_rollout.playbooks.json_schema import playbook_json_schema
from okr_rollout.settings import PROJECT_ROOT, get_settings

app = typer.Typer(
    help="okr-rollout: a workflow engine for OKR rollout coaching.",
    no_args_is_help=True,
    add_completion=False,
)
playbook_app = typer.Typer(help="Check, draw and describe playbook files.", no_args_is_help=True)
app.add_typer(playbook_app, name="playbook")
db_app = typer.Typer(help="The database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
token_app = typer.Typer(help="API tokens: shown once at creation, stored hashed.", no_args_is_help=True)
app.add_typer(token_app, name="token")
import_app = typer.Typer(help="Import CSV files (UTF-8, with or without BOM): all rows or none.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@playbook_app.command("validate")
def playbook_validate(
    files: Annotated[list[Path], typer.Argument(help="Playbook YAML files to check.")],
) -> None:
    """Check playbook files; print every error as FILE:LINE:COL: PATH: MESSAGE and exit 1 if any."""
    failures = 0
    for file in files:
        errors = validate(file)
        for error in errors:
            if error.line:
                typer.echo(str(error), err=True)
            else:
                typer.echo(f"{error.file}: {error.message}", err=True)
        failures += len(errors)
        if not errors:
            typer.echo(f"{file}: ok")
    if failures:
        typer.echo(f"{failures} error(s) in {len(files)} file(s)", err=True)
        raise typer.Exit(1)


@playbook_app.command("diagram")
def playbook_diagram(
    file: Annotated[Path, typer.Argument(help="A playbook YAML file.")],
    locale: Annotated[str, typer.Option(help="Language of the phase titles: en or zh-TW.")] = "en",
) -> None:
    """Print the journey as a Mermaid stateDiagram-v2, transitions labelled with trigger and gate."""
    try:
        playbook = load(file)
    except PlaybookInvalid as invalid:
        for error in invalid.errors:
            typer.echo(str(error) if error.line else f"{error.file}: {error.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(mermaid(playbook.spec, locale=locale), nl=False)


@playbook_app.command("schema")
def playbook_schema() -> None:
    """Print the JSON Schema of a playbook file (for editors)."""
    typer.echo(json.dumps(playbook_json_schema(), indent=2, ensure_ascii=False))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the database (OKR_ROLLOUT_DATABASE_URL; ./okr-rollout.db by default) to the latest schema."""
    from alembic import command
    from alembic.config import Config

    settings = get_settings()
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    command.upgrade(config, revision)
    typer.echo(f"database at {revision}: {_safe_url(settings.database_url)}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def _unit_of_work() -> Iterator[Session]:
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


@app.command("demo")
def demo() -> None:
    """Load the demo portfolio (a dozen clients at different phases) and print an admin token."""
    from okr_rollout.catalog.service import Catalog
    from okr_rollout.demo import demo_logins, load_demo

    catalog = Catalog.from_settings(get_settings())
    with _unit_of_work() as session:
        token = load_demo(session, catalog, datetime.now(UTC))
        logins = demo_logins(session, datetime.now(UTC))
    typer.echo("Demo portfolio loaded. Admin API token (shown once):")
    typer.echo(token)
    typer.echo("Sign in to the pages at /sign-in with (new passwords, shown once):")
    for email, password in logins:
        typer.echo(f"  {email}  {password}")


@token_app.command("create")
def token_create(
    role: Annotated[Role, typer.Option(help="admin, coach, internal_coach or integration.")],
    person: Annotated[int | None, typer.Option(help="The person (required for coach and internal_coach).")] = None,
    name: Annotated[str | None, typer.Option(help="A name to recognise the token by (e.g. crm).")] = None,
    scope: Annotated[list[str] | None, typer.Option(help="Extra scope; 'transitions' lets an integration "
                                                         "fire transitions.")] = None,
) -> None:
    """Create an API token and print it once."""
    from okr_rollout.auth.service import create_token
    from okr_rollout.errors import ProblemError

    unknown = sorted(set(scope or []) - {TRANSITIONS_SCOPE})
    if unknown:
        typer.echo(f"unknown scope {unknown}; known: {TRANSITIONS_SCOPE}", err=True)
        raise typer.Exit(2)
    try:
        with _unit_of_work() as session:
            raw, token = create_token(session, role=role, name=name, person_id=person, scopes=scope)
            token_id = token.id
    except ProblemError as error:
        typer.echo(f"cannot create the token: {error.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"token {token_id} ({role.value}); keep it now, it is not shown again:")
    typer.echo(raw)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id (printed at creation).")]) -> None:
    """Revoke a token: it stops working at once."""
    from okr_rollout.auth.service import revoke_token
    from okr_rollout.errors import ProblemError

    try:
        with _unit_of_work() as session:
            revoke_token(session, token_id, datetime.now(UTC))
    except ProblemError as error:
        typer.echo(f"cannot revoke: {error.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"token {token_id} revoked")


CsvFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file.")]
OrganizationOption = Annotated[int, typer.Option("--organization", help="The organization's id.")]


@import_app.command("people")
def import_people(file: CsvFile, organization: OrganizationOption) -> None:
    """People with columns name, email, department, role (several values separated by ';')."""
    _import("people", file, organization, None)


@import_app.command("okrs")
def import_okrs(
    file: CsvFile,
    organization: OrganizationOption,
    engagement: Annotated[int | None, typer.Option(help="The engagement, if the organization has several.")] = None,
) -> None:
    """OKRs, one row per key result: quarter, department, owner, objective, key_result, start, target, current,
    unit."""
    _import("okrs", file, organization, engagement)


def _import(kind: str, file: Path, organization_id: int, engagement_id: int | None) -> None:
    from okr_rollout.auth.caller import Caller, Role
    from okr_rollout.errors import ProblemError
    from okr_rollout.imports import service
    from okr_rollout.models import Organization

    now = datetime.now(UTC)
    try:
        with _unit_of_work() as session:
            organization = session.get(Organization, organization_id)
            if organization is None:
                typer.echo(f"no organization {organization_id}", err=True)
                raise typer.Exit(1)
            content = file.read_bytes()
            if kind == "people":
                result = service.import_people(session, organization, content, "cli", now)
            else:
                engagement = service.engagement_for_okrs(session, Caller(token_id=0, name="cli", role=Role.admin),
                                                          organization.id, engagement_id)
                result = service.import_okrs(session, engagement, content, "cli", now)
    except ProblemError as error:
        typer.echo(f"{file}: not imported: {error.detail.split(':')[0]}", err=True)
        for problem in error.errors or []:
            if problem.get("field") == "query.engagement_id":
                typer.echo(f"  --engagement: {problem['message']}; pass --engagement ID", err=True)
                continue
            where = f"row {problem['row']}, column {problem['column']}" if "row" in problem else problem["field"]
            typer.echo(f"  {file}: {where}: {problem['message']}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{file}: {result.rows} rows; {result.created} created, {result.updated} updated, "
               f"{result.unchanged} unchanged" + (f"; new departments: {', '.join(result.departments_created)}"
                                                  if result.departments_created else ""))


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Web worker processes.")] = 1,
) -> None:
    """Serve the API (docs at /docs) with uvicorn; the scheduler runs inside unless
    OKR_ROLLOUT_SCHEDULER_IN_WEB=false (then run `okr-rollout scheduler`)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run("okr_rollout.app:create_served_app", factory=True, host=host or settings.host,
                port=port or settings.port, workers=workers)


@app.command("scheduler")
def scheduler() -> None:
    """Run reminders, readiness changes, webhook and e-mail delivery without the web API (one is active at a
    time; start as many as you like on PostgreSQL). Stop with Ctrl-C or SIGTERM."""
    import signal
    import threading

    from okr_rollout.app import system_clock
    from okr_rollout.catalog.service import Catalog, check_pins
    from okr_rollout.scheduler import Scheduler

    settings = get_settings()
    engine = make_engine_for(settings)
    catalog = Catalog.from_settings(settings)
    check_pins(engine, catalog)
    running = Scheduler(settings, engine, catalog, system_clock)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    running.start()
    typer.echo(f"scheduler running against {_safe_url(settings.database_url)} (pid {os.getpid()})")
    try:
        while not stop.wait(1.0):  # wake regularly so signals are handled promptly
            pass
    finally:
        running.stop()
        engine.dispose()
    typer.echo("scheduler stopped")


def _add_version_commands() -> None:
    # Playbook versions (issue 8) keep their commands in their own module: `playbook diff`, `engagements migrate`.
    from okr_rollout.cli_versions import register

    register(app, playbook_app)


_add_version_commands()


user_app = typer.Typer(help="Logins for the pages (coaches, internal coaches, administrators).", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("create")
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
        with _unit_of_work() as session:
            user = create_user(session, email=email, role=role, password=password, person_id=person,
                               now=datetime.now(UTC))
            user_id, address = user.id, user.email
    except ProblemError as error:
        typer.echo(f"cannot create the login: {error.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"user {user_id} ({role.value}) created: {address}")


def main() -> None:
    app(prog_name="okr-rollout")


if __name__ == "__main__":
    main()
