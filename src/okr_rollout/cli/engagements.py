"""``okr-rollout engagements``: engagements in bulk (moving them to another playbook version)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from okr_rollout.cli.playbooks import Locale
from okr_rollout.playbooks import UnknownPlaybook
from okr_rollout.settings import get_settings

if TYPE_CHECKING:  # the commands import the database layers only when they run
    from okr_rollout.versions.bulk import BulkResult

app = typer.Typer(help="Engagements in bulk.", no_args_is_help=True)


@app.command("migrate")
def engagements_migrate(
    playbook: Annotated[str, typer.Option(help="The playbook id, e.g. standard.")],
    from_version: Annotated[int, typer.Option("--from", min=1, help="Move the engagements pinned to this version…")],
    to_version: Annotated[int, typer.Option("--to", min=1, help="…to this version.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would change; write nothing.")] = False,
    phase_map: Annotated[list[str] | None, typer.Option(
        "--phase-map", help="OLD=NEW: where engagements in a phase the new version lacks go (repeatable).")] = None,
    locale: Locale = "en",
) -> None:
    """Move every engagement pinned to one playbook version to another, one transaction per engagement: each
    moves entirely or not at all, and one that cannot move is reported without stopping the others."""
    from okr_rollout.catalog.service import Catalog
    from okr_rollout.db import make_engine_for, make_session_factory, session_scope
    from okr_rollout.errors import ProblemError, localized
    from okr_rollout.versions.bulk import Outcome, migrate_all, pinned_engagements
    from okr_rollout.versions.service import check_phase_map

    mapping = _phase_map(phase_map or [])
    settings = get_settings()
    catalog = Catalog.from_settings(settings)
    engine = make_engine_for(settings)
    console = Console()
    try:
        with session_scope(make_session_factory(engine), write=False) as session:
            try:  # a wrong version or phase map is the same mistake for every engagement: say it once
                check_phase_map(catalog.version(session, playbook, from_version), catalog.current(playbook, to_version),
                                mapping)
            except UnknownPlaybook as unknown:
                typer.echo(str(unknown), err=True)
                raise typer.Exit(2) from None
            except ProblemError as problem:
                for error in problem.errors or []:
                    typer.echo(f"--phase-map: {localized(error['message'], 'en')}", err=True)
                raise typer.Exit(2) from None
            ids = pinned_engagements(session, playbook, from_version)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            bar = progress.add_task(f"{playbook} {from_version} → {to_version}", total=len(ids))

            def advance(_: Outcome) -> None:
                progress.advance(bar)

            result = migrate_all(engine, catalog, playbook, from_version, to_version, mapping, dry_run=dry_run,
                                 actor="cli", now=datetime.now(UTC), engagement_ids=ids, on_each=advance)
    finally:
        engine.dispose()
    zh = locale.lower().startswith("zh")
    console.print(_summary_table(result, zh))
    if result.failed:
        failures = Table(title="未能遷移的專案" if zh else "Engagements not migrated")
        for column in (("專案", "階段", "原因") if zh else ("engagement", "phase", "reason")):
            failures.add_column(column)
        for outcome in result.failed:
            assert outcome.error is not None
            failures.add_row(str(outcome.engagement_id), outcome.from_phase, outcome.error.get(locale))
        console.print(failures)
        raise typer.Exit(1)


def _phase_map(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            typer.echo(f"--phase-map {pair}: expected OLD=NEW", err=True)
            raise typer.Exit(2)
        mapping[old.strip()] = new.strip()
    return mapping


def _summary_table(result: BulkResult, zh: bool) -> Table:
    verb = ("將遷移" if result.dry_run else "已遷移") if zh else ("would move" if result.dry_run else "moved")
    title = ("試跑(未寫入任何資料)" if result.dry_run else "遷移結果") if zh else (
        "Dry run (nothing written)" if result.dry_run else "Migration")
    table = Table(title=title)
    headers = ("從階段", "到階段", verb, "新增任務", "作廢任務", "轉換現可通過", "轉換現不通過") if zh else (
        "from phase", "to phase", verb, "tasks added", "tasks obsolete", "ways out now open", "ways out now closed")
    for header in headers:
        table.add_column(header)
    for (source, target), count in sorted(result.phases().items()):
        rows = [o for o in result.moved if (o.from_phase, o.to_phase) == (source, target)]
        table.add_row(source, target, str(count), str(sum(o.tasks_added for o in rows)),
                      str(sum(o.tasks_obsolete for o in rows)), str(sum(o.gates_now_open for o in rows)),
                      str(sum(o.gates_now_closed for o in rows)))
    table.add_section()
    total = ("合計" if zh else "total")
    failed = f"{len(result.failed)} " + ("失敗" if zh else "failed")
    table.add_row(total, failed, str(len(result.moved)),
                  str(sum(o.tasks_added for o in result.moved)), str(sum(o.tasks_obsolete for o in result.moved)),
                  str(sum(o.gates_now_open for o in result.moved)), str(sum(o.gates_now_closed for o in result.moved)))
    return table
