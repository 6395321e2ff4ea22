"""An engagement's tasks: a phase's tasks and checklists made when it is entered, each given to the people of its
playbook role, and a task read, updated or its checklist ticked by whoever sees the engagement. Flushes only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from okr_rollout.auth.caller import Caller
from okr_rollout.auth.visibility import visible_engagement
from okr_rollout.engagements import queries
from okr_rollout.engagements.schemas import TaskUpdate
from okr_rollout.errors import NotFound, Unprocessable, field_error, not_found
from okr_rollout.events import service as events
from okr_rollout.facts import load_facts
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.journey.machine import TaskToCreate
from okr_rollout.models import Engagement, Person, Task
from okr_rollout.notifications.audience import recipients_of
from okr_rollout.playbooks import LoadedPlaybook
from okr_rollout.texts import LocalizedText

TASK = LocalizedText("task", "任務")
CHECKLIST_ITEM = LocalizedText("checklist item", "檢查項目")
NOT_NULL = LocalizedText("may not be null", "不可為 null")


@dataclass(frozen=True, slots=True)
class OpenChecklistItem:
    id: int
    item_key: str
    title_en: str
    title_zh_tw: str
    checked: bool
    checked_at: datetime | None


@dataclass(frozen=True, slots=True)
class OpenTask:
    """An open task of the current phase, read as rows, with the ORM's attribute names (``Task`` reads alike)."""

    id: int
    engagement_id: int
    phase: str
    task_key: str
    title_en: str
    title_zh_tw: str
    role: str
    due_at: datetime
    done: bool
    done_at: datetime | None
    assignee_id: int | None
    version: int
    checklist: list[OpenChecklistItem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NewTasks:
    """Tasks as written, in the order given, with their checklists. ``only_ones``: their phases had no task of the
    engagement's journey before, so they are those phases' open tasks (nothing to read back)."""

    tasks: list[OpenTask]
    only_ones: bool


def create_tasks(session: Session, engagement_id: int, tasks: Sequence[TaskToCreate], created_at: datetime,
                 playbook: LoadedPlaybook | None = None, *, wave_id: int | None = None,
                 assignees: dict[str, int] | None = None) -> list[int]:
    """Insert a phase's tasks and their checklists; return the new tasks' ids, in the order given (``write_tasks``).
    """
    return [task.id for task in write_tasks(session, engagement_id, tasks, created_at, playbook, wave_id=wave_id,
                                            assignees=assignees).tasks]


def write_tasks(session: Session, engagement_id: int, tasks: Sequence[TaskToCreate], created_at: datetime,
                playbook: LoadedPlaybook | None = None, *, wave_id: int | None = None,
                assignees: dict[str, int] | None = None, facts: EngagementFacts | None = None) -> NewTasks:
    """Insert a phase's tasks and their checklists, in one statement each; return them as written. A task entered
    again (a loop in a playbook) is a new round of it. With ``playbook``, a task of a client's role (the CEO, a
    department lead, a member...) is resolved to the people who hold that role now (``assign_tasks``; from
    ``facts`` when they hold ``ASSIGNEE_FACTS``). ``wave_id``: tasks of that wave's journey; ``assignees``: who is
    given a task of each role from the start."""
    if not tasks:
        return NewTasks([], only_ones=False)
    session.flush()  # the rounds count the tasks pending in the session too
    connection = session.connection()
    rounds = {(phase, key): last for phase, key, last in connection.execute(
        queries.last_rounds(of_wave=wave_id is not None),
        {"engagement_id": engagement_id, "phases": sorted({spec.phase for spec in tasks}),
         **({"wave_id": wave_id} if wave_id is not None else {})})}
    assignee_ids = [assignees.get(spec.role) if assignees else None for spec in tasks]
    # Rows come back in no promised order: each is matched by its phase and key (one task of each in a phase).
    task_ids = {(phase, key): task_id for task_id, phase, key in connection.execute(queries.insert_tasks(), [{
        "engagement_id": engagement_id, "wave_id": wave_id, "phase": spec.phase, "task_key": spec.task_id,
        "round": rounds.get((spec.phase, spec.task_id), 0) + 1, "title_en": spec.title.en,
        "title_zh_tw": spec.title.zh_tw, "role": spec.role, "due_at": spec.due_at, "done": False,
        "created_at": created_at, "version": 1, "assignee_id": assignee_id}
        for spec, assignee_id in zip(tasks, assignee_ids, strict=True)])}
    written = [OpenTask(task_ids[(spec.phase, spec.task_id)], engagement_id, spec.phase, spec.task_id, spec.title.en,
                        spec.title.zh_tw, spec.role, spec.due_at.astimezone(UTC), False, None, assignee_id, 1)
               for spec, assignee_id in zip(tasks, assignee_ids, strict=True)]
    items = [(task, position, key, title) for task, spec in zip(written, tasks, strict=True)
             for position, (key, title) in enumerate(spec.checklist)]
    if items:
        item_ids = {(task_id, position): item_id for item_id, task_id, position in connection.execute(
            queries.insert_checklist_items(),
            [{"task_id": task.id, "item_key": key, "position": position, "title_en": title.en,
              "title_zh_tw": title.zh_tw, "checked": False} for task, position, key, title in items])}
        for task, position, key, title in items:
            task.checklist.append(OpenChecklistItem(item_ids[(task.id, position)], key, title.en, title.zh_tw, False,
                                                    None))
    if playbook is not None:
        assign_tasks(session, engagement_id, playbook, [(task.id, task.role) for task in written], created_at, facts)
    phases = {spec.phase for spec in tasks}
    return NewTasks(written, only_ones=not any(phase in phases for phase, _ in rounds))


# The external coaches' tasks stay the coaches' (the engagement page lists them); the others go to the client's
# people who hold the role when the phase is entered.
COACH_ROLE = "coach"
ROLE_FACTS = ("people", "departments", "appointments")
ASSIGNEE_FACTS = frozenset((*ROLE_FACTS, "coach_ids"))


def facts_to_assign(playbook: LoadedPlaybook, phase: str) -> frozenset[str]:
    """The groups of facts ``assign_tasks`` reads for the tasks of ``phase``: none when they are all the coaches'.
    A transition loads them with its gate's facts, in one load."""
    if all(task.spec.role == COACH_ROLE for task in playbook.tasks.get(phase, ())):
        return frozenset()
    return ASSIGNEE_FACTS


def assign_tasks(session: Session, engagement_id: int, playbook: LoadedPlaybook, tasks: Sequence[tuple[int, str]],
                 now: datetime, facts: EngagementFacts | None = None) -> None:
    """Record who each task is for, from its playbook role, as the organization stands now: from ``facts`` when
    given (loaded with ``ASSIGNEE_FACTS``), else read here."""
    roles = {role for _, role in tasks if role != COACH_ROLE}
    if not roles:
        return
    if facts is None:
        facts = load_facts(session, [engagement_id], now, ASSIGNEE_FACTS)[engagement_id]
    people = {role: recipients_of(facts, playbook, role) for role in roles}
    rows = [{"task_id": task_id, "person_id": person_id}
            for task_id, role in tasks if role != COACH_ROLE for person_id in people[role]]
    if rows:
        session.connection().execute(queries.insert_task_assignees(), rows)


def list_tasks(session: Session, engagement: Engagement, *, after: int, limit: int) -> list[Task]:
    return list(session.scalars(queries.tasks_page(engagement.id, after=after, limit=limit)))


def visible_task(session: Session, caller: Caller, task_id: int) -> Task:
    task = session.scalar(queries.task_with_checklist(task_id))
    if task is None:
        raise not_found(TASK)
    try:
        visible_engagement(session, caller, task.engagement_id)
    except NotFound:
        raise not_found(TASK) from None
    return task


def update_task(session: Session, caller: Caller, task: Task, data: TaskUpdate, now: datetime) -> Task:
    changes = data.model_dump(exclude_unset=True)
    if "done" in changes and changes["done"] is None:
        raise Unprocessable(LocalizedText("body.done may not be null.", "body.done 不可為 null。"),
                            errors=[field_error("body.done", NOT_NULL, "null")])
    if "due_at" in changes and changes["due_at"] is None:
        raise Unprocessable(LocalizedText("body.due_at may not be null.", "body.due_at 不可為 null。"),
                            errors=[field_error("body.due_at", NOT_NULL, "null")])
    if changes.get("assignee_id") is not None:
        engagement = session.get(Engagement, task.engagement_id)
        assignee = session.get(Person, changes["assignee_id"])
        if engagement is None or assignee is None or assignee.organization_id not in (
                None, engagement.organization_id):
            raise Unprocessable(
                LocalizedText("body.assignee_id: this person cannot be assigned the engagement's tasks (unknown, or of "
                              "another organization).",
                              "body.assignee_id:無法將此輔導專案的任務指派給此人(不存在或屬於其他組織)。"),
                errors=[field_error("body.assignee_id", LocalizedText("unknown or of another organization",
                                                                      "不存在或屬於其他組織"), "foreign_organization")])
    if "due_at" in changes and changes["due_at"].tzinfo is None:
        raise Unprocessable(LocalizedText("body.due_at needs a timezone offset (RFC 3339).",
                                          "body.due_at 需要時區位移(RFC 3339)。"),
                            errors=[field_error("body.due_at", LocalizedText("a timezone offset is required",
                                                                             "需要時區位移"), "naive_datetime")])
    if "due_at" in changes:
        changes["due_at"] = changes["due_at"].astimezone(UTC)
    changed = sorted(k for k, v in changes.items() if getattr(task, k) != v)
    for name in changed:
        setattr(task, name, changes[name])
    if "done" in changed:
        task.done_at = now if task.done else None
    if changed:
        session.flush()
        engagement = session.get(Engagement, task.engagement_id)
        events.append(session, type="task.updated", actor=caller.actor, at=now,
                      organization_id=engagement.organization_id if engagement else None,
                      engagement_id=task.engagement_id,
                      payload={"task_id": task.id, "changed": changed, "done": task.done})
    return task


def check_item(session: Session, caller: Caller, task: Task, item_id: int, checked: bool, now: datetime) -> Task:
    item = next((i for i in task.checklist if i.id == item_id), None)
    if item is None:
        raise not_found(CHECKLIST_ITEM)
    if item.checked != checked:
        item.checked = checked
        item.checked_at = now if checked else None
        flag_modified(task, "done")  # a checklist change is a change of its task: its version moves
        session.flush()
        engagement = session.get(Engagement, task.engagement_id)
        events.append(session, type="checklist.checked" if checked else "checklist.unchecked", actor=caller.actor,
                      at=now, organization_id=engagement.organization_id if engagement else None,
                      engagement_id=task.engagement_id, payload={"task_id": task.id, "item_id": item.id})
    return task
