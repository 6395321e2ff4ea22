"""``okr-rollout import``: CSV files of people and OKRs. A large file is written in batches as a recorded job,
with a progress bar; should the command be killed, the next `okr-rollout serve` to start finishes it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from okr_rollout.settings import get_settings

if TYPE_CHECKING:
    from okr_rollout.imports.jobs import ImportRunner
    from okr_rollout.imports.service import ImportKind, ImportResult

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


def _import(kind: ImportKind, file: Path, organization_id: int, engagement_id: int | None) -> None:
    from sqlalchemy.exc import OperationalError

    from okr_rollout.auth.caller import Caller, Role
    from okr_rollout.db import make_engine_for, make_session_factory
    from okr_rollout.errors import NotFound, ProblemError
    from okr_rollout.imports.jobs import ImportRunner
    from okr_rollout.models import ImportJob

    settings = get_settings()
    engine = make_engine_for(settings)
    runner = ImportRunner(make_session_factory(engine), settings, lambda: datetime.now(UTC))
    caller = Caller(token_id=0, name="cli", role=Role.admin)
    try:
        outcome = runner.import_file(caller, organization_id, kind, engagement_id, file.read_bytes(),
                                     datetime.now(UTC), background=False)
        result = _run_with_progress(runner, outcome.id, file) if isinstance(outcome, ImportJob) else outcome
    except NotFound:
        typer.echo(f"no organization {organization_id}", err=True)
        raise typer.Exit(1) from None
    except ProblemError as error:
        _print_refusal(file, error.detail, error.errors or [])
        raise typer.Exit(1) from None
    except OperationalError as error:
        typer.echo(f"database error: {error.orig}. Has `okr-rollout db upgrade` run?", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"{file}: {result.rows} rows; {result.created} created, {result.updated} updated, "
               f"{result.unchanged} unchanged" + (f"; new departments: {', '.join(result.departments_created)}"
                                                  if result.departments_created else ""))


def _run_with_progress(runner: ImportRunner, job_id: int, file: Path) -> ImportResult:
    """Run the job here, a progress bar on stderr; its result, or its refusal raised as the API's 422."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"{file.name}: checking", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, description=f"{file.name}: writing", completed=done, total=total)

        runner.run(job_id, progress=advance)
    return runner.result_of(job_id)


def _print_refusal(file: Path, detail: str, errors: list[dict[str, object]]) -> None:
    typer.echo(f"{file}: not imported: {detail.split(':')[0]}", err=True)
    for problem in errors:
        if problem.get("field") == "query.engagement_id":
            typer.echo(f"  --engagement: {problem['message']}; pass --engagement ID", err=True)
            continue
        where = f"row {problem['row']}, column {problem['column']}" if "row" in problem else problem["field"]
        typer.echo(f"  {file}: {where}: {problem['message']}", err=True)
