"""Logins: `okr-rollout user create` as an administrator runs it, and the rules of a login."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Role
from okr_rollout.errors import Conflict, NotFound, Unprocessable
from okr_rollout.models import User
from okr_rollout.users.service import caller_of, create_user, verify_password
from tests.conftest import ROOT
from tests.web._seed import World

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def run(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OKR_ROLLOUT_DATABASE_URL": database_url, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "okr_rollout.cli", "user", "create", *args], input=stdin,
                          capture_output=True, text=True, encoding="utf-8", cwd=ROOT, env=env, check=False)


def test_user_create_with_a_password(database_url: str, world: World, db: Callable[[], Session]) -> None:
    done = run(database_url, "--email", "Ops@Example.com", "--role", "internal_coach", "--person",
               str(world.member_id), "--password", "a long enough secret")
    assert done.returncode == 0, done.stderr
    assert "created: ops@example.com" in done.stdout
    with db() as session:
        user = session.scalar(select(User).where(User.email == "ops@example.com"))
        assert user is not None and user.role == "internal_coach"
        assert user.organization_id == world.formosa_org  # an internal coach sees their person's organization
        assert verify_password(user.password_hash, "a long enough secret")


def test_user_create_asks_for_the_password(database_url: str, world: World, db: Callable[[], Session]) -> None:
    done = run(database_url, "--email", "boss@example.com", "--role", "admin",
               stdin="typed secret 123\ntyped secret 123\n")
    assert done.returncode == 0, done.stderr
    assert "typed secret" not in done.stdout  # hidden input
    with db() as session:
        user = session.scalar(select(User).where(User.email == "boss@example.com"))
        assert user is not None and verify_password(user.password_hash, "typed secret 123")


def test_user_create_refuses_what_it_cannot_do(database_url: str, world: World) -> None:
    missing_person = run(database_url, "--email", "x@example.com", "--role", "coach", "--password", "0123456789")
    assert missing_person.returncode == 1 and "needs its person (--person)" in missing_person.stderr
    duplicate = run(database_url, "--email", "chen@example.com", "--role", "admin", "--password", "0123456789")
    assert duplicate.returncode == 1 and "exists already" in duplicate.stderr


def test_login_rules(world: World, db: Callable[[], Session]) -> None:
    with db() as session:
        with pytest.raises(Unprocessable, match="at least 10 characters"):
            create_user(session, email="a@example.com", role=Role.admin, password="short", now=NOW)
        with pytest.raises(Unprocessable, match="API token"):
            create_user(session, email="a@example.com", role=Role.integration, password="0123456789", now=NOW)
        with pytest.raises(Unprocessable, match="not an e-mail"):
            create_user(session, email="nobody", role=Role.admin, password="0123456789", now=NOW)
        with pytest.raises(NotFound):
            create_user(session, email="a@example.com", role=Role.coach, password="0123456789", person_id=999,
                        now=NOW)
        with pytest.raises(Unprocessable, match="belongs to no organization"):
            create_user(session, email="a@example.com", role=Role.internal_coach, password="0123456789",
                        person_id=world.chen_person, now=NOW)
        with pytest.raises(Conflict):
            create_user(session, email=" LIN@example.com", role=Role.admin, password="0123456789", now=NOW)


def test_a_login_acts_as_the_same_caller_as_a_token(world: World, db: Callable[[], Session]) -> None:
    with db() as session:
        user = session.scalar(select(User).where(User.email == "wang@example.com"))
        assert user is not None
        caller = caller_of(user)
    assert (caller.role, caller.person_id, caller.organization_id) == (Role.internal_coach, world.member_id,
                                                                       world.formosa_org)
    assert caller.actor == "internal_coach:wang@example.com"
    assert not caller.may_fire_transitions
