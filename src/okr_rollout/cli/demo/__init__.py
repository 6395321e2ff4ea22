"""``okr-rollout demo``: a realistic portfolio (``portfolio``) whose journeys carry their history (``history``)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from okr_rollout.cli._database import unit_of_work
from okr_rollout.settings import get_settings


def demo_command() -> None:
    """Load the demo portfolio (a dozen clients at different phases) and print an admin token."""
    from okr_rollout.catalog.service import Catalog
    from okr_rollout.cli.demo.portfolio import demo_logins, load_demo
    from okr_rollout.engagements.readiness_watch import note_readiness_changes

    catalog = Catalog.from_settings(get_settings())
    with unit_of_work() as session:
        token = load_demo(session, catalog, datetime.now(UTC))
        logins = demo_logins(session, datetime.now(UTC))
    with unit_of_work() as session:  # readiness and health kept at once, so the portfolio sorts by urgency
        note_readiness_changes(session, catalog, datetime.now(UTC))
    typer.echo("Demo portfolio loaded. Admin API token (shown once):")
    typer.echo(token)
    typer.echo("Sign in to the pages at /sign-in with (new passwords, shown once):")
    for email, password in logins:
        typer.echo(f"  {email}  {password}")
