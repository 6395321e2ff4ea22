"""``okr-rollout demo``: a realistic portfolio (``portfolio``) whose journeys carry their history (``history``)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from okr_rollout.cli._database import unit_of_work
from okr_rollout.settings import get_settings


def demo_command() -> None:
    """Load the demo portfolio (a dozen clients at different phases) and print an admin token."""
    from okr_rollout.catalog.service import Catalog
    from okr_rollout.cli.demo.portfolio import demo_client_access, demo_logins, load_demo
    from okr_rollout.engagements.readiness_watch import note_readiness_changes

    settings = get_settings()
    catalog = Catalog.from_settings(settings)
    with unit_of_work() as session:
        token = load_demo(session, catalog, datetime.now(UTC))
        logins = demo_logins(session, datetime.now(UTC))
        access = demo_client_access(session, settings, datetime.now(UTC))
    with unit_of_work() as session:  # readiness and health kept at once, so the portfolio sorts by urgency
        note_readiness_changes(session, catalog, datetime.now(UTC))
    typer.echo("Demo portfolio loaded. Admin API token (shown once):")
    typer.echo(token)
    typer.echo("Sign in to the pages at /sign-in with (new passwords, shown once):")
    for email, password in logins:
        typer.echo(f"  {email}  {password}")
    if access.internal_coach is not None:
        name, email, password = access.internal_coach
        typer.echo(f"An internal coach ({name}) signs in with:")
        typer.echo(f"  {email}  {password}")
    if access.member_link is not None:
        name, organization, url = access.member_link
        typer.echo(f"A pilot member of {organization} ({name}) signs in with this link (works once, "
                   f"{settings.client_link_days} days):")
        typer.echo(f"  {url}")
