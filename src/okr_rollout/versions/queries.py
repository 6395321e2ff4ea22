"""Every statement of moving engagements between playbook versions. The services run them.

The tasks read here are not the "open tasks" of ``engagements/queries.py``: a migration plans over every task
of the phase that is still part of the playbook, done or not (finished work is relabelled with its phase).
"""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from okr_rollout.models import Engagement, Task, Wave


def pinned_engagement_ids(playbook_id: str, version: int) -> Select[int]:
    """Every engagement running one version of a playbook, oldest first."""
    return (select(Engagement.id).where(Engagement.playbook_id == playbook_id, Engagement.playbook_version == version)
            .order_by(Engagement.id))


def engagement_to_move(engagement_id: int, *, for_update: bool) -> Select[Engagement]:
    """One engagement, locked for the move unless only planned. Moves in bulk are an operator's command: no
    caller's visibility applies (the API's migration reads the engagement through ``auth.visibility``)."""
    statement = select(Engagement).where(Engagement.id == engagement_id)
    return statement.with_for_update(of=Engagement) if for_update else statement


def tasks_of_phase(engagement_id: int, phase: str) -> Select[Task]:
    """Every round of every task of a phase that no migration made obsolete, with its checklist, by task and
    round (so the latest round of each comes last)."""
    return (select(Task).options(selectinload(Task.checklist))
            .where(Task.engagement_id == engagement_id, Task.wave_id.is_(None), Task.phase == phase,
                   Task.obsolete_at.is_(None))
            .order_by(Task.task_key, Task.round))


def latest_rounds(engagement_id: int, phase: str) -> Select[str, int]:
    """(task key, highest round) of the tasks already in a phase, done, open or obsolete."""
    return (select(Task.task_key, func.max(Task.round))
            .where(Task.engagement_id == engagement_id, Task.wave_id.is_(None), Task.phase == phase)
            .group_by(Task.task_key))


def waves_of(engagement_id: int) -> Select[Wave]:
    """The engagement's waves, each moved with it to the new version (locked with the engagement's row)."""
    return select(Wave).where(Wave.engagement_id == engagement_id).order_by(Wave.id)


def wave_tasks_of_phase(wave_id: int, phase: str) -> Select[Task]:
    """``tasks_of_phase`` of one wave's journey."""
    return (select(Task).options(selectinload(Task.checklist))
            .where(Task.wave_id == wave_id, Task.phase == phase, Task.obsolete_at.is_(None))
            .order_by(Task.task_key, Task.round))


def wave_latest_rounds(wave_id: int, phase: str) -> Select[str, int]:
    return (select(Task.task_key, func.max(Task.round))
            .where(Task.wave_id == wave_id, Task.phase == phase).group_by(Task.task_key))
