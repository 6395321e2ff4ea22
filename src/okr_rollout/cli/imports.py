"""``okr-rollout import``: CSV files of people and OKRs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from okr_rollout.cli._database import unit_of_work

app = typer.Typer(help="Import CSV files (UTF-8, with or without BOM): all rows or none.", no_args_is_help=True)

CsvFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file.")]
OrganizationOption = Annotated[int, typer.Option("--organization", help="The organization's id.")]


@app.command("people")
def import_people(file: CsvFile, organization: OrganizationOption) -> None:
    """People with columns name, email, department, role (several values separated by ';')."""
    _import("people", file, organization, None)


@app.command("okrs")
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
        with unit_of_work() as session:
            organization = session.get(Organization, organization_id)
            if organization is None:
                typer.echo(f"no organization {organization_id}", err=True)
                raise typer.Exit(1)
            content = file.read_bytes()
            if kind == "people":
                result = service.import_people(session, organization, content, "cli", now)
            else:
                engagement = service.engagement_for_okrs(
                    session, Caller(token_id=0, name="cli", role=Role.admin), organization.id, engagement_id)
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
