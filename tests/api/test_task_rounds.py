"""Entering a phase again starts a new round of its tasks, each with its own checklist, ids in the given order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload

from okr_rollout.engagements.tasks import ASSIGNEE_FACTS, create_tasks, facts_to_assign, write_tasks
from okr_rollout.facts import load_facts
from okr_rollout.journey.machine import machine_for
from okr_rollout.models import Engagement, Task
from tests.api._helpers import create_engagement, create_organization
from tests.conftest import Tokens
from tests.versions._seed import catalog_of

AT = datetime(2026, 1, 5, 9, tzinfo=UTC)


def test_a_phase_entered_again_gets_a_second_round_of_its_tasks(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    organization = create_organization(app_client, tokens.admin)
    engagement_id = create_engagement(app_client, tokens.admin, organization["id"])["id"]
    with db() as session:
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None
        playbook = catalog_of(app_client).pinned(session, engagement.playbook_sha256)
        specs = machine_for(playbook).tasks_on_entry("kickoff", AT)
        assert len(specs) >= 2 and any(spec.checklist for spec in specs)
        first = create_tasks(session, engagement_id, specs, AT)
        second = create_tasks(session, engagement_id, specs, AT)
        session.commit()
    with db() as session:
        tasks = {task.id: task for task in session.scalars(
            select(Task).options(selectinload(Task.checklist)).where(Task.phase == "kickoff"))}
    assert len(first) == len(second) == len(specs)
    for task_ids, round_number in ((first, 1), (second, 2)):
        for task_id, spec in zip(task_ids, specs, strict=True):
            task = tasks[task_id]
            assert (task.task_key, task.round, task.engagement_id) == (spec.task_id, round_number, engagement_id)
            assert (task.title_en, task.title_zh_tw, task.due_at) == (spec.title.en, spec.title.zh_tw, spec.due_at)
            assert [(item.item_key, item.position, item.title_en) for item in task.checklist] == [
                (key, position, title.en) for position, (key, title) in enumerate(spec.checklist)]
            assert not task.done and task.version == 1


def test_tasks_written_are_returned_as_stored_and_given_to_their_roles_from_the_facts_given(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    organization = create_organization(app_client, tokens.admin)
    engagement_id = create_engagement(app_client, tokens.admin, organization["id"])["id"]
    with db() as session:
        engagement = session.get(Engagement, engagement_id)
        assert engagement is not None
        playbook = catalog_of(app_client).pinned(session, engagement.playbook_sha256)
        phase = next(p for p in playbook.tasks if facts_to_assign(playbook, p))  # a phase with a client's role
        specs = machine_for(playbook).tasks_on_entry(phase, AT)
        facts = load_facts(session, [engagement_id], AT, ASSIGNEE_FACTS)[engagement_id]
        statements: list[str] = []
        event.listen(session.connection(), "before_cursor_execute",
               lambda *args: statements.append(args[2].lower()))  # the statement's text
        first = write_tasks(session, engagement_id, specs, AT, playbook, facts=facts)
        assert not any("from people" in statement for statement in statements)  # the facts given were used
        second = write_tasks(session, engagement_id, specs, AT, playbook, facts=facts)
        session.commit()
    assert first.only_ones and not second.only_ones  # the second round: the phase had tasks already
    with db() as session:
        stored = {task.id: task for task in session.scalars(
            select(Task).options(selectinload(Task.checklist)).where(Task.phase == phase))}
    for written in (*first.tasks, *second.tasks):
        task = stored[written.id]
        assert (written.task_key, written.title_en, written.role, written.due_at, written.version) == (
            task.task_key, task.title_en, task.role, task.due_at, task.version)
        assert [(item.id, item.item_key) for item in written.checklist] == [
            (item.id, item.item_key) for item in sorted(task.checklist, key=lambda item: item.position)]
