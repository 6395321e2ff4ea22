"""The ``okr-rollout`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from okr_rollout.playbooks import PlaybookInvalid, load, validate
from okr_rollout.playbooks.diagram import mermaid
from okr_rollout.playbooks.json_schema import playbook_json_schema

app = typer.Typer(
    help="okr-rollout: a workflow engine for OKR rollout coaching.",
    no_args_is_help=True,
    add_completion=False,
)
playbook_app = typer.Typer(help="Check, draw and describe playbook files.", no_args_is_help=True)
app.add_typer(playbook_app, name="playbook")


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


def main() -> None:
    app(prog_name="okr-rollout")


if __name__ == "__main__":
    main()
