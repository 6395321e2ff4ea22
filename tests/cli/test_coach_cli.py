"""`okr-rollout coach ...` as a user runs it: a real process on the test database; what it did is read over the API."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.api._helpers import collect_pages, create_engagement, create_organization, get_json
from tests.cli.test_import_cli import run
from tests.conftest import Tokens


def test_a_coach_is_created_listed_assigned_handed_over_and_unassigned_from_the_command_line(
        app_client: TestClient, tokens: Tokens, database_url: str) -> None:
    organization = create_organization(app_client, tokens.admin)["id"]
    engagement = create_engagement(app_client, tokens.admin, organization)["id"]

    created = run(database_url, "coach", "create", "--name", "Kao Shu-fen", "--email", "kao@firm.example",
                  "--locale", "zh-TW")
    assert created.returncode == 0, created.stderr
    found = re.fullmatch(r"coach (\d+) created: Kao Shu-fen\n", created.stdout)
    assert found, created.stdout
    coach = int(found.group(1))
    listed = run(database_url, "coach", "list")
    assert f"{coach}\tKao Shu-fen\tkao@firm.example" in listed.stdout.splitlines()

    assigned = run(database_url, "coach", "assign", "--engagement", str(engagement), "--coach", str(coach))
    assert assigned.returncode == 0, assigned.stderr
    assert get_json(app_client, tokens.admin, f"/api/v1/engagements/{engagement}")["coach_ids"] == [coach]
    handed = run(database_url, "coach", "assign", "--engagement", str(engagement), "--coach",
                 str(tokens.coach_person_id), "--hand-over-from", str(coach))
    assert handed.returncode == 0, handed.stderr
    assert get_json(app_client, tokens.coach, f"/api/v1/engagements/{engagement}")["coach_ids"] == [
        tokens.coach_person_id]
    types = [e["type"] for e in collect_pages(app_client, tokens.admin, f"/api/v1/engagements/{engagement}/events")]
    assert types[-2:] == ["engagement.coach_assigned", "engagement.handed_over"]

    again = run(database_url, "coach", "unassign", "--engagement", str(engagement), "--coach", str(coach))
    assert again.returncode == 1 and "no such coach of this engagement" in again.stderr
    bad = run(database_url, "coach", "create", "--name", "", "--locale", "fr")
    assert bad.returncode == 1 and "--name" in bad.stderr and "--locale" in bad.stderr
