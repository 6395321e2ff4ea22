"""`okr-rollout token ...` as a user runs it: the token it prints works, the API lists it (never its secret), and
the history records who issued and revoked it, as for a token issued over the API."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from okr_rollout.models import Event
from tests.api._helpers import assert_problem, get_json
from tests.cli.test_import_cli import run
from tests.conftest import Tokens, auth


def test_a_token_issued_and_revoked_on_the_command_line_is_listed_and_recorded(
        app_client: TestClient, tokens: Tokens, database_url: str, db: Callable[[], Session]) -> None:
    created = run(database_url, "token", "create", "--role", "integration", "--name", "crm-cli",
                  "--scope", "transitions")
    assert created.returncode == 0, created.stderr
    found = re.fullmatch(r"token (\d+) \(integration\); keep it now, it is not shown again:\n(okr_\S+)\n",
                         created.stdout)
    assert found, created.stdout
    token_id, raw = int(found.group(1)), found.group(2)
    assert app_client.get("/api/v1/organizations", headers=auth(raw)).status_code == 200
    listed = get_json(app_client, tokens.admin, f"/api/v1/tokens/{token_id}")
    assert (listed["name"], listed["scopes"], listed["prefix"]) == ("crm-cli", ["transitions"], raw[:10])

    revoked = run(database_url, "token", "revoke", str(token_id))
    assert revoked.returncode == 0, revoked.stderr
    assert_problem(app_client.get("/api/v1/organizations", headers=auth(raw)), 401)
    with db() as session:
        recorded = [(e.type, e.actor, e.payload["token_id"]) for e in session.scalars(
            select(Event).where(Event.type.in_(["token.issued", "token.revoked"])).order_by(Event.id))]
    assert recorded == [("token.issued", "cli", token_id), ("token.revoked", "cli", token_id)]
