"""``okr-rollout coach``: the coaching firm's coaches, and who coaches which engagement."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.cli._database import unit_of_work

app = typer.Typer(help="The coaching firm's coaches: create them, assign them to engagements, hand over.",
                  no_args_is_help=True)


def _admin() -> Caller:
    return Caller(token_id=0, name="cli", role=Role.admin)


@app.command("create")
def coach_create(
    name: Annotated[str, typer.Option(help="The coach's name, as people see it.")],
    email: Annotated[str | None, typer.Option(help="Their e-mail address (for reminders).")] = None,
    locale: Annotated[str, typer.Option(help="en or zh-TW: the language of their messages.")] = "en",
) -> None:
    """Add a coach to the firm's directory; `user create --role coach --person ID` then gives them a login."""
    from pydantic import ValidationError

    from okr_rollout.coaches.schemas import CoachCreate
    from okr_rollout.coaches.service import create_coach

    try:
        data = CoachCreate(name=name, email=email, locale=locale)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            typer.echo(f"--{detail['loc'][0]}: {detail['msg']}", err=True)
        raise typer.Exit(1) from None
    caller = _admin()
    with unit_of_work() as session:
        coach = create_coach(session, caller, data, datetime.now(UTC))
        coach_id, coach_name = coach.id, coach.name
    typer.echo(f"coach {coach_id} created: {coach_name}")


@app.command("list")
def coach_list() -> None:
    """Every coach of the firm: id, name, e-mail."""
    from okr_rollout.coaches.service import all_coaches

    with unit_of_work() as session:
        rows = [(c.id, c.name, c.email or "") for c in all_coaches(session)]
    for coach_id, name, email in rows:
        typer.echo(f"{coach_id}\t{name}\t{email}")
    typer.echo(f"{len(rows)} coach(es)", err=True)


@app.command("assign")
def coach_assign(
    engagement: Annotated[int, typer.Option(help="The engagement.")],
    coach: Annotated[int, typer.Option(help="The coach to assign.")],
    hand_over_from: Annotated[int | None, typer.Option(help="A coach of the engagement who hands it over.")] = None,
) -> None:
    """Assign a coach to an engagement, or hand it over from another coach (recorded in its history)."""
    from okr_rollout.coaches.schemas import CoachAssignment
    from okr_rollout.coaches.service import assign
    from okr_rollout.errors import ProblemError

    caller = _admin()
    try:
        with unit_of_work() as session:
            assign(session, caller, engagement, CoachAssignment(coach_id=coach, hand_over_from=hand_over_from),
                   datetime.now(UTC))
    except ProblemError as error:
        typer.echo(f"cannot assign the coach: {error.detail}", err=True)
        raise typer.Exit(1) from None
    done = f"handed over from coach {hand_over_from} to coach {coach}" if hand_over_from else f"coach {coach} assigned"
    typer.echo(f"engagement {engagement}: {done}")


@app.command("unassign")
def coach_unassign(
    engagement: Annotated[int, typer.Option(help="The engagement.")],
    coach: Annotated[int, typer.Option(help="The coach to take off it.")],
) -> None:
    """Take a coach off an engagement (recorded in its history)."""
    from okr_rollout.coaches.service import unassign
    from okr_rollout.errors import ProblemError

    caller = _admin()
    try:
        with unit_of_work() as session:
            unassign(session, caller, engagement, coach, datetime.now(UTC))
    except ProblemError as error:
        typer.echo(f"cannot unassign the coach: {error.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"engagement {engagement}: coach {coach} unassigned")
