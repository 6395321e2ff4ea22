"""The ``okr-rollout`` command: one module per group of commands.

Each module imports the database layers, the web application and uvicorn inside the commands that need them, so
that ``--help`` and the playbook commands start without them.
"""

from __future__ import annotations

import typer

from okr_rollout.cli import coaches, db, engagements, imports, playbooks, serve, tokens, users
from okr_rollout.cli.demo import demo_command

app = typer.Typer(
    help="okr-rollout: a workflow engine for OKR rollout coaching.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("demo")(demo_command)
app.command("serve")(serve.serve)
app.command("scheduler")(serve.scheduler)
app.add_typer(playbooks.app, name="playbook")
app.add_typer(db.app, name="db")
app.add_typer(tokens.app, name="token")
app.add_typer(imports.app, name="import")
app.add_typer(engagements.app, name="engagements")
app.add_typer(users.app, name="user")
app.add_typer(coaches.app, name="coach")


def main() -> None:
    app(prog_name="okr-rollout")
