"""A playbook whose course is 12 hours: the training plan and the task say 12 hours, in both languages."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from okr_rollout.app import create_app
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.engagements import service as engagements
from okr_rollout.engagements.schemas import EngagementCreate
from okr_rollout.models import User
from okr_rollout.organizations import service as organizations
from okr_rollout.organizations.schemas import OrganizationCreate
from okr_rollout.playbooks import PlaybookRegistry
from okr_rollout.settings import Settings
from tests.conftest import ROOT, Clock
from tests.web._pages import text_of
from tests.web._seed import ADMIN, password_hash
from tests.web.conftest import sign_in


@pytest.fixture
def twelve_hours(tmp_path: Path) -> Catalog:
    directory = tmp_path / "playbooks"
    directory.mkdir()
    shutil.copy(ROOT / "playbooks" / "small-company.yaml", directory)
    text = (ROOT / "playbooks" / "standard.yaml").read_text(encoding="utf-8")
    text, count = re.subn(r"(\n  training_hours:\n    type: number\n    default: )18", r"\g<1>12", text)
    assert count == 1
    (directory / "standard.yaml").write_text(text, encoding="utf-8")
    return Catalog(PlaybookRegistry.from_directory(directory))


@pytest.fixture
def client(engine: Engine, database_url: str, clock: Clock, twelve_hours: Catalog) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks"), engine=engine,
                     clock=clock, catalog=twelve_hours)
    with TestClient(app, follow_redirects=False) as web:
        yield web


def test_the_training_plan_and_the_task_follow_twelve_training_hours(
        client: TestClient, engine: Engine, clock: Clock, twelve_hours: Catalog) -> None:
    with session_scope(make_session_factory(engine)) as session:
        organization = organizations.create_organization(session, ADMIN, OrganizationCreate(
            name="Hsinchu Chips", headcount=80), clock.now)
        engagement = engagements.create_engagement(session, ADMIN, twelve_hours, EngagementCreate(
            organization_id=organization.id), clock.now).id
        session.add(User(email="admin@example.com", password_hash=password_hash(), role="admin", created_at=clock.now))
    sign_in(client, "admin@example.com")
    plan = text_of(client.get(f"/engagements/{engagement}/documents/pilot_training_plan").text)
    assert "About 12 hours over 3 days" in plan
    assert "Day 1 4 " in plan and "Total 12" in plan
    assert "18" not in plan and " 6 " not in plan
    chinese = text_of(client.get(f"/engagements/{engagement}/documents/pilot_training_plan",
                                 headers={"Accept-Language": "zh-TW"}).text)
    assert "約 12 小時" in chinese and "18" not in chinese
