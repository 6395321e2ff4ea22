"""What "nothing half-written" means, checked on the whole database after a fault.

Every change of consequence is written with its event in one transaction, so after any crash or race:
- an engagement's phase is where its ``engagement.transitioned`` events lead, each leaving the phase the
  previous one entered;
- each phase entered has its tasks exactly once: those the event names, no task the event does not name;
- each check-in, meeting, person and organization has exactly one event naming it, and each such event names
  a row that exists.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from okr_rollout.models import CheckIn, Engagement, Event, Meeting, Organization, Person, Task


@dataclass(frozen=True)
class Snapshot:
    events: list[Event]
    engagements: dict[int, str]  # id -> phase
    tasks: list[tuple[int, int, str, str, int]]  # id, engagement_id, phase, key, round
    check_ins: set[int]
    meetings: set[int]
    people: set[int]  # people of organizations (coaches are created outside the API, without events)
    organizations: set[int]

    def of_type(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.type == kind]

    def transitions(self, engagement_id: int) -> list[dict[str, Any]]:
        return [e.payload for e in self.events
                if e.type == "engagement.transitioned" and e.engagement_id == engagement_id]


def snapshot(engine: Engine) -> Snapshot:
    with engine.connect() as connection:
        events = [Event(id=r.id, type=r.type, organization_id=r.organization_id, engagement_id=r.engagement_id,
                        payload=r.payload) for r in connection.execute(select(Event).order_by(Event.id))]
        return Snapshot(
            events=events,
            engagements={r.id: r.phase for r in connection.execute(select(Engagement.id, Engagement.phase))},
            tasks=[(r.id, r.engagement_id, r.phase, r.task_key, r.round) for r in connection.execute(
                select(Task.id, Task.engagement_id, Task.phase, Task.task_key, Task.round))],
            check_ins=set(connection.scalars(select(CheckIn.id))),
            meetings=set(connection.scalars(select(Meeting.id))),
            people=set(connection.scalars(select(Person.id).where(Person.organization_id.is_not(None)))),
            organizations=set(connection.scalars(select(Organization.id))),
        )


def assert_consistent(state: Snapshot) -> None:
    problems: list[str] = []
    created = {e.engagement_id: e.payload["phase"] for e in state.of_type("engagement.created")}
    assert set(created) == set(state.engagements), "an engagement without its engagement.created event, or " \
                                                   "an event without its engagement"
    for engagement_id, phase in state.engagements.items():
        at = created[engagement_id]
        for moved in state.transitions(engagement_id):
            if moved["from"] != at:
                problems.append(f"engagement {engagement_id}: moved from {moved['from']} while in {at}")
            at = moved["to"]
        if at != phase:
            problems.append(f"engagement {engagement_id} is in {phase} but its history leads to {at}")

    duplicates = [k for k, n in Counter((t[1], t[2], t[3], t[4]) for t in state.tasks).items() if n > 1]
    if duplicates:
        problems.append(f"tasks created twice: {duplicates}")
    tasks_by_phase: dict[tuple[int, str], set[int]] = defaultdict(set)
    for task_id, engagement_id, phase, _key, _round in state.tasks:
        tasks_by_phase[(engagement_id, phase)].add(task_id)
    for engagement_id in state.engagements:
        for moved in state.transitions(engagement_id):
            named, present = set(moved["task_ids"]), tasks_by_phase[(engagement_id, moved["to"])]
            if named != present:
                problems.append(f"engagement {engagement_id}, phase {moved['to']}: the event names tasks "
                                f"{sorted(named)} but the phase has {sorted(present)}")

    for rows, kind, key in [(state.check_ins, "check_in.recorded", "check_in_id"),
                            (state.meetings, "meeting.recorded", "meeting_id"),
                            (state.people, "person.created", "person_id")]:
        named_ids = Counter(e.payload[key] for e in state.of_type(kind))
        if set(named_ids) != rows or any(n != 1 for n in named_ids.values()):
            problems.append(f"{kind}: rows without their event {sorted(rows - set(named_ids))}, events without "
                            f"their row {sorted(set(named_ids) - rows)}, "
                            f"events twice {sorted(k for k, n in named_ids.items() if n > 1)}")
    organizations = Counter(e.organization_id for e in state.of_type("organization.created"))
    if set(organizations) != state.organizations or any(n != 1 for n in organizations.values()):
        problems.append(f"organization.created does not match the organizations: {organizations} vs "
                        f"{sorted(state.organizations)}")
    assert problems == [], "\n".join(problems)
