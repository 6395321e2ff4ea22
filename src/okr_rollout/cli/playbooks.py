"""``okr-rollout playbook``: check, draw, describe and compare playbook files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from okr_rollout.playbooks import LoadedPlaybook, PlaybookInvalid, UnknownPlaybook, load, validate
from okr_rollout.settings import get_settings

app = typer.Typer(help="Check, draw and describe playbook files.", no_args_is_help=True)

Locale = Annotated[str, typer.Option(help="Language of the words: en or zh-TW.")]


@app.command("validate")
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


@app.command("diagram")
def playbook_diagram(
    file: Annotated[Path, typer.Argument(help="A playbook YAML file.")],
    locale: Annotated[str, typer.Option(help="Language of the phase titles: en or zh-TW.")] = "en",
) -> None:
    """Print the journey as a Mermaid stateDiagram-v2, transitions labelled with trigger and gate."""
    from okr_rollout.playbooks.diagram import mermaid

    try:
        playbook = load(file)
    except PlaybookInvalid as invalid:
        _print_errors(invalid)
        raise typer.Exit(1) from None
    typer.echo(mermaid(playbook.spec, locale=locale), nl=False)


@app.command("schema")
def playbook_schema() -> None:
    """Print the JSON Schema of a playbook file (for editors)."""
    from okr_rollout.playbooks.json_schema import playbook_json_schema

    typer.echo(json.dumps(playbook_json_schema(), indent=2, ensure_ascii=False))


@app.command("diff")
def playbook_diff(
    old: Annotated[str, typer.Argument(help="The older version: a playbook file, or ID@VERSION from the "
                                            "playbook directories (e.g. standard@1).")],
    new: Annotated[str, typer.Argument(help="The newer version, the same way.")],
    locale: Locale = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as the API returns it.")] = False,
) -> None:
    """What changed from OLD to NEW: phases, tasks, checklist items, gate criteria, parameters and cadences
    added, removed and changed, in words."""
    from okr_rollout.versions.diff import diff_playbooks
    from okr_rollout.versions.schemas import PlaybookDiffOut

    diff = diff_playbooks(_playbook(old), _playbook(new))
    if as_json:
        typer.echo(PlaybookDiffOut.of(diff).model_dump_json(indent=2, by_alias=True))
        return
    zh = locale.lower().startswith("zh")
    typer.echo(f"{diff.playbook_id}: {diff.from_version} → {diff.to_version} "
               f"({diff.from_sha256[:12]} → {diff.to_sha256[:12]})")
    if not diff.changes:
        typer.echo("沒有差異。" if zh else "No differences.")
    for change in diff.changes:
        typer.echo(f"- {change.words.get(locale)}")
    if diff.suggested_phase_map:
        pairs = " ".join(f"--phase-map {a}={b}" for a, b in diff.suggested_phase_map.items())
        typer.echo(("建議的階段對應:" if zh else "Suggested phase map: ") + pairs)


def _print_errors(invalid: PlaybookInvalid) -> None:
    for error in invalid.errors:
        typer.echo(str(error) if error.line else f"{error.file}: {error.message}", err=True)


def _playbook(reference: str) -> LoadedPlaybook:
    try:
        if Path(reference).exists() or "@" not in reference:
            return load(reference)
        playbook_id, _, version = reference.rpartition("@")
        if not version.isdigit():
            typer.echo(f"{reference}: expected a file or ID@VERSION (e.g. standard@2)", err=True)
            raise typer.Exit(2)
        from okr_rollout.catalog.service import Catalog

        return Catalog.from_settings(get_settings()).current(playbook_id, int(version))
    except PlaybookInvalid as invalid:
        _print_errors(invalid)
        raise typer.Exit(1) from None
    except UnknownPlaybook as unknown:
        typer.echo(f"{reference}: {unknown}", err=True)
        raise typer.Exit(1) from None
