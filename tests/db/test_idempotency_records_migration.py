"""The migration that stops Idempotency-Key records from keeping secrets, on the records already there."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL, alembic_config
from tests.db.test_migrations import _fresh_url

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FEED = {"person_id": 3, "url": "https://okr.example/api/v1/calendar/cal_SECRET.ics",
        "webcal_url": "webcal://okr.example/api/v1/calendar/cal_SECRET.ics"}
HOOK = {"id": 1, "url": "https://crm.example/h", "secret": "whsec_SECRET"}
ORGANIZATION = {"id": 7, "name": "Acme"}


@pytest.mark.parametrize("backend", ["sqlite"] + (["postgresql"] if POSTGRES_URL else []))
def test_kept_secrets_are_withheld_and_abandoned_claims_freed(backend: str,
                                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    url = _fresh_url(backend, tmp_path_factory)
    config = alembic_config(url)
    command.upgrade(config, "0010")
    engine = create_engine(url)
    rows = [("feed", "done", 200, json.dumps(FEED).encode()), ("hook", "done", 201, json.dumps(HOOK).encode()),
            ("org", "done", 201, json.dumps(ORGANIZATION).encode()), ("claim", "running", None, None)]
    with engine.begin() as connection:
        for key, state, status, body in rows:
            connection.execute(text(
                "INSERT INTO idempotency_records (caller, key, request_hash, state, status_code, headers, body, "
                "created_at) VALUES ('c', :key, 'h', :state, :status, :headers, :body, :at)"),
                {"key": key, "state": state, "status": status, "headers": "{}", "body": body,
                 "at": datetime(2026, 12, 1, tzinfo=UTC)})
    command.upgrade(config, "head")
    with engine.connect() as connection:
        kept = {key: (state, body) for key, state, body in connection.execute(text(
            "SELECT key, state, body FROM idempotency_records"))}
    assert kept == {"feed": ("withheld", None), "hook": ("withheld", None),
                    "org": ("done", json.dumps(ORGANIZATION).encode())}
    command.downgrade(config, "0010")
    with engine.connect() as connection:
        assert list(connection.execute(text("SELECT key FROM idempotency_records")).scalars()) == ["org"]
    engine.dispose()
