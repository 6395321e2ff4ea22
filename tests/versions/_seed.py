"""Engagements pinned to standard v1, placed in a phase the way the journey service leaves them there.

One at a time over the API (``engagement_in``), or a thousand at once with bulk inserts (``seed_bulk``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.engagements.service import create_tasks
from okr_rollout.journey.machine import enter_phase, machine_for
from okr_rollout.models import ChecklistItem, Engagement, EngagementCoach, Organization, Task
from tests.api._helpers import create_engagement, create_organization
from tests.conftest import Tokens, auth


def catalog_of(client: TestClient) -> Catalog:
    catalog: Catalog = client.app.state.catalog  # type: ignore[attr-defined]
    return catalog


def engagement_in(client: TestClient, tokens: Tokens, db: Callable[[], Session], phase: str, at: datetime,
                  *, coach_ids: list[int] | None = None, version: int = 1) -> int:
    """A new engagement on standard ``version``, moved to ``phase`` with that phase's tasks (entered at ``at``)."""
    organization = create_organization(client, tokens.admin)
    coaches = [tokens.coach_person_id] if coach_ids is None else coach_ids
    body = create_engagement(client, tokens.admin, organization["id"], playbook="standard",
                             playbook_version=version, coach_ids=coaches)
    assert body["playbook"]["version"] == version
    if phase != body["phase"]:
        with db() as session:
            engagement = session.get(Engagement, body["id"])
            assert engagement is not None
            playbook = catalog_of(client).pinned(session, engagement.playbook_sha256)
            enter_phase(engagement, phase, at)
            create_tasks(session, engagement.id, machine_for(playbook).tasks_on_entry(phase, at), at)
    return int(body["id"])


def tasks_by_key(db: Callable[[], Session], engagement_id: int) -> dict[tuple[str, str], Task]:
    """(phase, key) -> the latest round of that task, with its checklist loaded."""
    from sqlalchemy.orm import selectinload

    with db() as session:
        rows = session.scalars(select(Task).options(selectinload(Task.checklist))
                               .where(Task.engagement_id == engagement_id).order_by(Task.round))
        return {(t.phase, t.task_key): t for t in rows}


def finish_task(client: TestClient, token: str, task_id: int) -> None:
    response = client.patch(f"/api/v1/tasks/{task_id}", json={"done": True}, headers=auth(token))
    assert response.status_code == 200, response.text


def seed_bulk(engine: Engine, catalog: Catalog, phases: Sequence[str], at: datetime, *, coach_id: int) -> list[int]:
    """One organization and engagement per entry of ``phases`` (its phase), pinned to standard v1, with the
    tasks and checklists of that phase: a handful of multi-row INSERTs, not one request per engagement."""
    playbook = catalog.current("standard", 1)
    machine = machine_for(playbook)
    with session_scope(make_session_factory(engine)) as session:
        catalog.pin(session, playbook)
        organization_ids = list(session.scalars(
            insert(Organization).returning(Organization.id, sort_by_parameter_order=True),
            [{"name": f"Bulk {i}", "headcount": 40, "timezone": "UTC", "strategies": [], "challenges": [],
              "created_at": at, "updated_at": at} for i in range(len(phases))]))
        engagement_ids = list(session.scalars(
            insert(Engagement).returning(Engagement.id, sort_by_parameter_order=True),
            [{"organization_id": organization_id, "playbook_id": playbook.id, "playbook_version": playbook.version,
              "playbook_sha256": playbook.sha256, "phase": phase, "entered_phase_at": at, "created_at": at,
              "updated_at": at, "version": 1}
             for organization_id, phase in zip(organization_ids, phases, strict=True)]))
        session.execute(insert(EngagementCoach), [{"engagement_id": e, "person_id": coach_id} for e in engagement_ids])
        task_rows: list[dict[str, Any]] = []
        checklists: list[list[tuple[str, Any]]] = []
        for engagement_id, phase in zip(engagement_ids, phases, strict=True):
            for task in machine.tasks_on_entry(phase, at):
                task_rows.append({"engagement_id": engagement_id, "phase": phase, "task_key": task.task_id,
                                  "round": 1, "title_en": task.title.en, "title_zh_tw": task.title.zh_tw,
                                  "role": task.role, "due_at": task.due_at, "done": False, "created_at": at,
                                  "version": 1})
                checklists.append(list(task.checklist))
        if task_rows:
            task_ids = list(session.scalars(insert(Task).returning(Task.id, sort_by_parameter_order=True), task_rows))
            items = [{"task_id": task_id, "item_key": key, "position": position, "title_en": title.en,
                      "title_zh_tw": title.zh_tw, "checked": False}
                     for task_id, checklist in zip(task_ids, checklists, strict=True)
                     for position, (key, title) in enumerate(checklist)]
            if items:
                session.execute(insert(ChecklistItem), items)
        return engagement_ids
