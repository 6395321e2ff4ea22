"""Rebuilding webhook_subscriptions with AUTOINCREMENT on SQLite keeps every row and attempt, and the next id
comes after every id the history ever handed out, a deleted subscription's too."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from tests.conftest import alembic_config

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
NOW = "2026-01-05 09:00:00.000000"


def test_subscriptions_and_attempts_survive_and_ids_go_on(tmp_path_factory: pytest.TempPathFactory) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('ids')}/ids.db"
    config = alembic_config(url)
    command.upgrade(config, "0013")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("PRAGMA foreign_keys=ON"))
        for event_id, subscription_id in ((1, 1), (2, 2), (3, 5)):  # subscription 5 was made, then deleted
            connection.execute(text(
                "INSERT INTO events (id, type, actor, occurred_at, payload) VALUES "
                "(:id, 'webhook.created', 'admin', :now, :payload)"),
                {"id": event_id, "now": NOW, "payload": f'{{"subscription_id": {subscription_id}}}'})
        for subscription_id in (1, 2):
            connection.execute(text(
                "INSERT INTO webhook_subscriptions (id, url, event_types, secret, description, enabled, cursor, "
                "retry_count, created_by, created_at, version) VALUES (:id, 'https://crm.example.com', "
                "'[\"*\"]', 'whsec_x', '', 1, 3, 0, 'admin', :now, 1)"), {"id": subscription_id, "now": NOW})
            connection.execute(text(
                "INSERT INTO webhook_attempts (subscription_id, event_id, webhook_id, attempt, succeeded, "
                "duration_ms, attempted_at) VALUES (:id, 3, 'msg_x', 1, 1, 5, :now)"), {"id": subscription_id,
                                                                                         "now": NOW})
    command.upgrade(config, "head")
    with engine.begin() as connection:
        assert connection.execute(text("SELECT subscription_id FROM webhook_attempts ORDER BY id")).scalars().all() \
            == [1, 2]
        connection.execute(text(
            "INSERT INTO webhook_subscriptions (url, event_types, secret, description, enabled, cursor, "
            "retry_count, created_by, created_at, version) VALUES ('https://crm.example.com', '[\"*\"]', "
            "'whsec_y', '', 1, 3, 0, 'admin', :now, 1)"), {"now": NOW})
        assert connection.execute(text("SELECT max(id) FROM webhook_subscriptions")).scalar() == 6
    command.downgrade(config, "0013")
    with engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM webhook_attempts")).scalar() == 2
        assert connection.execute(text("SELECT count(*) FROM webhook_subscriptions")).scalar() == 3
    engine.dispose()
