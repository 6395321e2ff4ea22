"""Statements run on the driver's cursor fail as SQLAlchemy's own would: the same exception classes reach the
API's handlers, so a client gets the same answer whichever path served it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, bindparam, insert, select
from sqlalchemy.exc import DataError, IntegrityError

from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.driver import DriverStatement, fetch_all_each, fetch_one
from okr_rollout.models import Person
from tests.conftest import Tokens, auth

BEYOND_64_BITS = 2 ** 70
_PERSON_BY_ID = DriverStatement(select(Person.__table__.c.id).where(Person.__table__.c.id == bindparam("id")))
_INSERT_PERSON = DriverStatement(insert(Person.__table__).values(
    id=bindparam("id"), name=bindparam("name"), roles=bindparam("roles"), created_at=bindparam("created_at")))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_integer_beyond_64_bits_is_a_data_error_on_sqlite(engine: Engine) -> None:
    with engine.connect() as connection:
        with pytest.raises(DataError):
            fetch_one(connection, _PERSON_BY_ID, {"id": BEYOND_64_BITS})
        with pytest.raises(DataError):
            fetch_all_each(connection, [(_PERSON_BY_ID, {"id": 1}), (_PERSON_BY_ID, {"id": BEYOND_64_BITS})])


def test_a_broken_uniqueness_rule_is_an_integrity_error(engine: Engine) -> None:
    values = {"id": 7, "name": "Coach Wu", "roles": ["coach"], "created_at": datetime(2026, 1, 5, tzinfo=UTC)}
    with session_scope(make_session_factory(engine)) as session:
        connection = session.connection()
        fetch_all_each(connection, [])  # nothing to run is nothing read
        connection.execute(_INSERT_PERSON.statement, values)
        with pytest.raises(IntegrityError):
            fetch_one(connection, DriverStatement(_INSERT_PERSON.statement.returning(Person.__table__.c.id)),
                      values)
        session.rollback()


@pytest.mark.parametrize("route", ["", "/readiness", "/tasks", "/events"])
def test_an_engagement_id_beyond_64_bits_is_a_client_error_on_every_route(
        app_client: TestClient, tokens: Tokens, route: str) -> None:
    response = app_client.get(f"/api/v1/engagements/{BEYOND_64_BITS}{route}", headers=auth(tokens.admin))
    assert response.status_code in (404, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
