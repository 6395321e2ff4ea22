"""Seed a realistic portfolio with bulk inserts: by default 10,000 engagements spread over every phase of the
standard playbook, each with the history its phase implies. Prints rows per second.

Every engagement has walked the journey up to its phase, on a timeline ending at ``NOW``: each phase it left has
its tasks done (checklists ticked) and its records (the executive and kickoff meetings with their outcomes, CEO
support, the three training days with attendance, drafting groups, Q1 and Q2 with OKRs, key results and weekly
check-ins, weekly team meetings and 1:1s every two weeks, appointments of an internal coach and an OKR Master,
quarter reviews, culture meetings, pulses of the milestones), and the history of its transitions and records in
``events``. Its current phase has its tasks too, some done, some open, some past due. A few engagements lag (a
missed team meeting every other week, check-ins skipped, CEO support left to fade), so that gates and health
judge real data both ways. ``Seeder.add_engagements`` adds engagements in one phase, every gate of its way out met
(the benchmark of a heavy gate moves them).

    python benchmarks/seed.py [--engagements N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Boolean, Date, DateTime, Engine, Table, func, select
from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_engine
from okr_rollout.journey.machine import machine_for
from okr_rollout.models import (
    Appointment,
    CeoSupportStatement,
    CheckIn,
    ChecklistItem,
    Department,
    DraftingGroup,
    Engagement,
    EngagementCoach,
    Event,
    KeyResult,
    Meeting,
    Okr,
    Organization,
    Person,
    PersonDepartment,
    Pulse,
    Quarter,
    Task,
    TaskAssignee,
    TrainingSession,
)
from okr_rollout.playbooks import PlaybookRegistry

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
TIMEZONE = "Asia/Taipei"
ZONE = ZoneInfo(TIMEZONE)
MEMBERS, KEY_RESULTS_PER_MEMBER, QUARTER_WEEKS = 8, 2, 13
LEAD, INTERNAL_COACH, OKR_MASTER = 0, 1, 2  # which pilot member leads the department, coaches, is the OKR Master
# Days spent in each phase once left (a playbook's expected pace, give or take): Q1 ends three days before the
# engagement moves on, and Q2 is prepared within the playbook's three weeks after Q1's end.
PHASE_DAYS = {"coach_engaged": 10, "executive_meeting": 18, "kickoff": 16, "pilot_training": 5,
              "pilot_drafting": 17, "coaches_appointed": 10, "q1_cycle": 94, "quarter_review": 10,
              "next_quarter": 8, "q2_cycle": 94, "train_the_trainers": 40, "culture": 45}
# Days in the current phase: a q1_cycle engagement has its Q1 behind it (ready to be closed) unless it lags.
CURRENT_DAYS = {"pilot_training": 2, "q1_cycle": 95, "q2_cycle": 50}
CURRENT_DAYS_DEFAULT = 10
MID_QUARTER_DAYS = 40
TRAINING_DAYS = ((6.0, ("basic_concepts", "deep_principles")), (6.0, ("case_studies",)),
                 (6.0, ("practice_and_coaching",)))
ACTOR = "coach:benchmark"
BATCH = 500
# Tables whose ids the seed chooses (PostgreSQL's sequences are moved past them afterwards).
CHOSEN_IDS = (Organization, Person, Department, Engagement, Quarter, Okr, KeyResult, Task, ChecklistItem, Meeting,
              TrainingSession, DraftingGroup, Appointment, CeoSupportStatement, Pulse)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _chunks(rows: list[dict[str, Any]], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


@lru_cache(maxsize=65536)
def _stored_time(value: datetime) -> str:
    # Many rows share a time (a week's check-ins, a phase's tasks): each converted once.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


@lru_cache(maxsize=65536)
def _stored_date(value: date) -> str:
    return value.isoformat()


def _stored(column_type: Any, postgresql: bool) -> Callable[[Any], Any] | None:
    """How the driver gets a value of ``column_type`` as SQLAlchemy would store it (None: as it is)."""
    kind = getattr(column_type, "impl", column_type)
    if isinstance(kind, JSON):
        if postgresql:
            from psycopg.types.json import Jsonb

            return Jsonb
        return json.dumps
    if postgresql:
        return None
    if isinstance(kind, DateTime):
        return _stored_time
    if isinstance(kind, Date):
        return _stored_date
    if isinstance(kind, Boolean):
        return int
    return None


def _local(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock on the client's calendar day, as a UTC time."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE).astimezone(UTC)


def _day(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


class Seeder:
    def __init__(self, engine: Engine, engagements: int) -> None:
        self.engine = engine
        self.engagements = engagements
        self.rows = 0
        self.catalog = Catalog(PlaybookRegistry.from_directory(ROOT / "playbooks"))
        self.seeded = 0  # engagements seeded so far: the next one's index
        self._next_ids: dict[str, int] = {}

    def bulk(self, model: Any, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` (dicts with the same keys) on the driver: each value converted once by its column's type
        as SQLAlchemy would store it, the rows sent with the driver's executemany (SQLAlchemy's per-row binding
        took most of the seed's time)."""
        table = _table(model)
        names = list(rows[0])
        postgresql = self.engine.dialect.name == "postgresql"
        converters = [_stored(table.c[name].type, postgresql) for name in names]
        marker = "%s" if postgresql else "?"
        sql = (f"INSERT INTO {table.name} ({', '.join(names)}) "
               f"VALUES ({', '.join([marker] * len(names))})")
        with self.engine.begin() as connection:
            for chunk in _chunks(rows):
                connection.exec_driver_sql(sql, [
                    tuple(value if convert is None or value is None else convert(value)
                          for convert, value in zip(converters, row.values(), strict=True)) for row in chunk])
        self.rows += len(rows)

    def _ids(self, model: Any, count: int) -> int:
        """The first of ``count`` fresh ids of ``model``'s table (after whatever it holds)."""
        name = _table(model).name
        if name not in self._next_ids:
            with self.engine.connect() as connection:
                self._next_ids[name] = (connection.execute(select(func.max(_table(model).c.id))).scalar() or 0) + 1
        first = self._next_ids[name]
        self._next_ids[name] += count
        return first

    def run(self, progress: bool = True) -> None:
        playbook = self.catalog.current("standard")
        with Session(self.engine) as session, session.begin():
            self.catalog.pin(session, playbook)
        phases = [phase.id for phase in playbook.spec.phases]
        started = time.perf_counter()
        for first in range(0, self.engagements, BATCH):
            count = min(BATCH, self.engagements - first)
            self._batch(first, [phases[(first + n) % len(phases)] for n in range(count)], lagging=True)
            if progress:
                done = min(first + BATCH, self.engagements)
                rate = self.rows / (time.perf_counter() - started)
                bar = "#" * (30 * done // self.engagements)
                print(f"\r[{bar:<30}] {done}/{self.engagements} engagements, {self.rows:,} rows, {rate:,.0f} rows/s",
                      end="", file=sys.stderr, flush=True)
        if progress:
            print(file=sys.stderr)
        self.settle()

    def add_engagements(self, count: int, phase: str) -> list[int]:
        """``count`` more engagements in ``phase``, none lagging (a q1_cycle one has its Q1 ended, its check-ins,
        team meetings and 1:1s on time): their ids."""
        with self.engine.connect() as connection:
            # Past every organization there is: an organization's rows take their ids from its index (``_batch``).
            highest = connection.execute(select(func.max(_table(Organization).c.id))).scalar() or 0
        self.seeded = max(self.seeded, highest // 1000 + 1)
        ids: list[int] = []
        while len(ids) < count:
            size = min(BATCH, count - len(ids))
            ids.extend(self._batch(self.seeded, [phase] * size, lagging=False))
        self.settle()
        return ids

    def settle(self) -> None:
        if self.engine.dialect.name == "sqlite":
            # As after any bulk load: fold the write-ahead log into the database, so that the benchmarks read
            # the tables themselves rather than a log of a million and a half rows.
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        with self.engine.begin() as connection:
            # The ids were chosen here: the sequences go past them, so that the application's inserts do not
            # collide with the seeded rows.
            for model in CHOSEN_IDS:
                name = _table(model).name
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name})) "
                    f"WHERE EXISTS (SELECT 1 FROM {name})")
        # Statistics for the planner and a visibility map for index-only scans, as autovacuum would give a
        # served database soon after the load (and where autovacuum is off, as on the CI machines, never).
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")

    def _batch(self, first: int, phase_of: list[str], *, lagging: bool) -> list[int]:
        self._next_ids.clear()  # the application may have written rows since the last batch: ids past them
        playbook = self.catalog.current("standard")
        journey = _Journey(self, playbook, first, lagging)
        for n, phase in enumerate(phase_of):
            journey.engagement(first + n, n, phase)
        self.seeded = max(self.seeded, first + len(phase_of))
        for model, rows in journey.tables():
            if rows:
                self.bulk(model, rows)
        return journey.engagement_ids


class _Journey:
    """The rows of one batch of engagements, each walked through the playbook up to its phase."""

    def __init__(self, seeder: Seeder, playbook: Any, first: int, lagging: bool) -> None:
        self.seeder = seeder
        self.playbook = playbook
        self.machine = machine_for(playbook)
        self.phases = [phase.id for phase in playbook.spec.phases]
        self.trigger_to = {t.dest: t.trigger for t in playbook.spec.transitions}
        self.lagging = lagging
        self.offset = first * 1000  # ids of the organization's rows chosen here, as before: see ``engagement``
        self.coach_id = 2_000_000_000 + first  # one coach per batch, apart from every organization's people
        self.engagement_ids: list[int] = []
        self.rows: dict[Any, list[dict[str, Any]]] = {model: [] for model in (
            Organization, Person, Department, PersonDepartment, Engagement, EngagementCoach, Quarter, Okr, KeyResult,
            CheckIn, Task, ChecklistItem, TaskAssignee, Meeting, TrainingSession, DraftingGroup, Appointment,
            CeoSupportStatement, Pulse, Event)}
        self.rows[Person].append({"id": self.coach_id, "organization_id": None, "name": f"Coach {first}",
                                  "roles": ["coach"], "locale": "en", "created_at": NOW, "version": 1})

    def tables(self) -> list[tuple[Any, list[dict[str, Any]]]]:
        return list(self.rows.items())

    def _id(self, model: Any, count: int = 1) -> int:
        return self.seeder._ids(model, count)

    def _add(self, model: Any, **row: Any) -> dict[str, Any]:
        self.rows[model].append(row)
        return row

    def _event(self, engagement_id: int, organization_id: int, type: str, at: datetime, payload: dict[str, Any]
               ) -> None:
        self._add(Event, type=type, actor=ACTOR, occurred_at=at, organization_id=organization_id,
                  engagement_id=engagement_id, payload=payload)

    def engagement(self, index: int, n: int, phase: str) -> None:
        org_id = engagement_id = self.offset + n + 1
        base = self.offset + n
        reached = self.phases.index(phase)
        lags = self.lagging and index % 8 == 5
        days_in = CURRENT_DAYS.get(phase, CURRENT_DAYS_DEFAULT)
        if phase == "q1_cycle" and self.lagging and index % 4 == 3:
            days_in = MID_QUARTER_DAYS
        entered = {phase: NOW - timedelta(days=days_in)}
        for k in range(reached - 1, -1, -1):
            entered[self.phases[k]] = entered[self.phases[k + 1]] - timedelta(days=PHASE_DAYS[self.phases[k]])
        began = entered[self.phases[0]]

        def past(name: str) -> bool:
            return self.phases.index(name) < reached

        def at_least(name: str) -> bool:
            return self.phases.index(name) <= reached

        self.engagement_ids.append(engagement_id)
        self._add(Organization, id=org_id, name=f"Client {index}", headcount=40, timezone=TIMEZONE,
                  crm_id=f"bench-{org_id}", mission="m", vision_1y="v", vision_5y="v", vision_10y="v",
                  strategies=["s"], challenges=[], okr_software="x", created_at=began, updated_at=began, version=1)
        member_ids = [10_000_000 + base * 10 + m for m in range(MEMBERS)]
        ceo_id, operations_id = 10_000_000 + base * 10 + MEMBERS, 10_000_000 + base * 10 + MEMBERS + 1
        lead_id = member_ids[LEAD]
        pilot_id, other_department_id = org_id, 1_000_000_000 + org_id
        for person_id in member_ids:
            roles = ["department_lead"] if person_id == lead_id else ["member"]
            self._add(Person, id=person_id, organization_id=org_id, name=f"Member {person_id}", roles=roles,
                      locale="en", created_at=began, version=1)
            self._add(PersonDepartment, person_id=person_id, department_id=pilot_id)
        self._add(Person, id=ceo_id, organization_id=org_id, name=f"CEO {index}", roles=["ceo"], locale="zh-TW",
                  created_at=began, version=1)
        self._add(Person, id=operations_id, organization_id=org_id, name=f"Operator {index}", roles=["member"],
                  locale="en", created_at=began, version=1)
        self._add(Department, id=pilot_id, organization_id=org_id, name="Sales", is_pilot=True, lead_id=lead_id,
                  created_at=began, version=1)
        self._add(Department, id=other_department_id, organization_id=org_id, name="Operations", is_pilot=False,
                  lead_id=None, created_at=began, version=1)
        self._add(PersonDepartment, person_id=operations_id, department_id=other_department_id)
        self._add(Engagement, id=engagement_id, organization_id=org_id, playbook_id="standard",
                  playbook_version=self.playbook.version, playbook_sha256=self.playbook.sha256, phase=phase,
                  entered_phase_at=entered[phase], created_at=began, updated_at=entered[phase], version=reached + 1)
        self._add(EngagementCoach, engagement_id=engagement_id, person_id=self.coach_id)
        self._event(engagement_id, org_id, "engagement.created", began,
                    {"phase": self.phases[0], "playbook": {"id": "standard", "version": self.playbook.version,
                                                           "sha256": self.playbook.sha256},
                     "coach_ids": [self.coach_id]})
        appointed = past("coaches_appointed") or (phase == "coaches_appointed" and index % 2 == 0)
        people_of_role = {"ceo": [ceo_id], "department_lead": [lead_id], "pilot_member": member_ids,
                          "member": [*member_ids, ceo_id, operations_id]}
        for k in range(reached + 1):
            name = self.phases[k]
            if k:
                self._event(engagement_id, org_id, "engagement.transitioned", entered[name],
                            {"trigger": self.trigger_to[name], "from": self.phases[k - 1], "to": name})
            if name in ("q1_cycle", "q2_cycle", "train_the_trainers", "culture", "expansion"):
                people_of_role["internal_coach"] = [member_ids[INTERNAL_COACH]]
                people_of_role["okr_master"] = [member_ids[OKR_MASTER]]
            left = entered[self.phases[k + 1]] if k < reached else None
            self._tasks(engagement_id, index, name, entered[name], left, people_of_role)

        context = (engagement_id, org_id, member_ids, ceo_id, lead_id, pilot_id)
        if past("executive_meeting"):
            held = _local(_day(entered["executive_meeting"]) + timedelta(days=7))
            self._meeting(context, "executive", held, [ceo_id, self.coach_id],
                          ["ceo_support", "okrs_introduced", "expectations_set"], event=True)
            self._ceo_support(context, "partial", _day(held))
        if past("kickoff"):
            held = _local(_day(entered["kickoff"]) + timedelta(days=7))
            meeting_id = self._meeting(context, "kickoff", held, [ceo_id, lead_id, self.coach_id],
                                       ["foundations_agreed", "pilot_leads_committed"], event=True)
            self._ceo_support(context, "full", _day(held))
            self._pulses(context, "kickoff", "meeting", meeting_id, _day(held), [ceo_id, lead_id])
        if at_least("pilot_training"):
            self._training(context, entered["pilot_training"], index)
        if at_least("pilot_drafting"):
            self._drafting(context, entered["pilot_drafting"], done=past("pilot_drafting"))
            okrs_on = entered["pilot_drafting"] + timedelta(days=10 if past("pilot_drafting") else 5)
            planned_start = timedelta(days=PHASE_DAYS["pilot_drafting"] + PHASE_DAYS["coaches_appointed"])
            q1_starts = (_day(entered["q1_cycle"]) if at_least("q1_cycle")
                         else _day(entered["pilot_drafting"] + planned_start))
            self._quarter(context, "2026-Q1", q1_starts, okrs_on, cycle_from=entered.get("q1_cycle"),
                          scored=past("quarter_review") or (phase == "quarter_review" and index % 2 == 0),
                          lags=lags)
        if appointed:
            trained = past("train_the_trainers")
            trained_on = _day(entered["culture"]) - timedelta(days=5) if trained else None
            made = entered["coaches_appointed"] + timedelta(days=3)
            for role, member in (("internal_coach", INTERNAL_COACH), ("okr_master", OKR_MASTER)):
                appointment_id = self._id(Appointment)
                self._add(Appointment, id=appointment_id, engagement_id=engagement_id,
                          person_id=member_ids[member], role=role, trained=trained, trained_on=trained_on,
                          ready=trained, created_at=made, updated_at=made, version=1)
                self._event(engagement_id, org_id, "appointment.made", made,
                            {"appointment_id": appointment_id, "role": role, "person_id": member_ids[member]})
        if past("q1_cycle"):
            held = _local(_day(entered["quarter_review"]) + timedelta(days=7))
            meeting_id = self._meeting(context, "quarter_review", held, [*member_ids, ceo_id, self.coach_id], [],
                                       event=True)
            self._pulses(context, "quarter_review", "meeting", meeting_id, _day(held), member_ids)
        if at_least("next_quarter"):
            q2_starts = _day(entered["q2_cycle"]) if at_least("q2_cycle") else _day(
                entered["next_quarter"] + timedelta(days=PHASE_DAYS["next_quarter"]))
            self._quarter(context, "2026-Q2", q2_starts, entered["next_quarter"] + timedelta(days=2),
                          cycle_from=entered.get("q2_cycle"), scored=past("q2_cycle"), lags=lags)
        if at_least("q1_cycle") and not (lags and index % 5 == 0):
            # Confirmed again a month ago, unless left to fade.
            self._ceo_support(context, "full", _day(NOW - timedelta(days=30)))
        if at_least("culture"):
            day = _day(entered["culture"])
            while _local(day) < NOW:
                self._meeting(context, "culture", _local(day), [ceo_id, member_ids[OKR_MASTER], *member_ids[3:6]],
                              [])
                day += timedelta(days=14)

    def _tasks(self, engagement_id: int, index: int, phase: str, entered: datetime, left: datetime | None,
               people_of_role: dict[str, list[int]]) -> None:
        for position, task in enumerate(self.machine.tasks_on_entry(phase, entered)):
            done = left is not None or (index + position) % 3 == 0
            finished = min(task.due_at, (left or NOW) - timedelta(hours=1)) if left else entered + timedelta(days=1)
            task_id = self._id(Task)
            self._add(Task, id=task_id, engagement_id=engagement_id, phase=phase, task_key=task.task_id, round=1,
                      title_en=task.title.en, title_zh_tw=task.title.zh_tw, role=task.role, due_at=task.due_at,
                      done=done, done_at=finished if done else None, created_at=entered, version=2 if done else 1)
            for item, (key, title) in enumerate(task.checklist):
                checked = done or item == 0
                self._add(ChecklistItem, id=self._id(ChecklistItem), task_id=task_id, item_key=key, position=item,
                          title_en=title.en, title_zh_tw=title.zh_tw, checked=checked,
                          checked_at=finished if checked else None)
            for person_id in people_of_role.get(task.role, ()):
                self._add(TaskAssignee, task_id=task_id, person_id=person_id)

    def _meeting(self, context: tuple[Any, ...], kind: str, held_at: datetime, attendee_ids: list[int],
                 outcomes: list[str], *, department_id: int | None = None, counts_for: list[int] | None = None,
                 event: bool = False) -> int:
        engagement_id, org_id = context[0], context[1]
        meeting_id = self._id(Meeting)
        self._add(Meeting, id=meeting_id, engagement_id=engagement_id, kind=kind, held_at=held_at,
                  department_id=department_id, attendee_ids=attendee_ids, outcomes=outcomes, notes="", status="held",
                  counts_for_ids=counts_for, created_at=held_at, version=1)
        if event:
            self._event(engagement_id, org_id, "meeting.recorded", held_at,
                        {"meeting_id": meeting_id, "kind": kind, "attendees": len(attendee_ids)})
        return meeting_id

    def _ceo_support(self, context: tuple[Any, ...], level: str, stated_on: date) -> None:
        engagement_id, org_id = context[0], context[1]
        statement_id = self._id(CeoSupportStatement)
        self._add(CeoSupportStatement, id=statement_id, engagement_id=engagement_id, level=level, stated_on=stated_on,
                  note="", created_at=_local(stated_on, 18), version=1)
        self._event(engagement_id, org_id, "ceo_support.stated", _local(stated_on, 18),
                    {"statement_id": statement_id, "level": level, "stated_on": stated_on.isoformat()})

    def _pulses(self, context: tuple[Any, ...], milestone: str, record_kind: str, record_id: int, held_on: date,
                person_ids: list[int]) -> None:
        engagement_id = context[0]
        for n, person_id in enumerate(person_ids):
            pulse_id = self._id(Pulse)
            answered = n % 3 != 2  # a third never answers
            self._add(Pulse, id=pulse_id, engagement_id=engagement_id, milestone=milestone, record_kind=record_kind,
                      record_id=record_id, held_on=held_on, person_id=person_id, token_hash=f"{pulse_id:064x}",
                      rating=4 - n % 2 if answered else None, comment="", created_at=_local(held_on, 18),
                      answered_at=_local(held_on + timedelta(days=1), 9) if answered else None)

    def _training(self, context: tuple[Any, ...], entered: datetime, index: int) -> None:
        engagement_id, org_id, member_ids = context[0], context[1], context[2]
        for day, (hours, modules) in enumerate(TRAINING_DAYS):
            held_on = _day(entered) + timedelta(days=day)
            if _local(held_on, 17) > NOW:
                break
            attendees = member_ids if (index + day) % 3 else member_ids[:-1]  # someone misses a day
            session_id = self._id(TrainingSession)
            self._add(TrainingSession, id=session_id, engagement_id=engagement_id, held_on=held_on, hours=hours,
                      modules=list(modules), attendee_ids=attendees, notes="", status="held",
                      trainer_id=self.coach_id, created_at=_local(held_on, 17), version=1)
            self._event(engagement_id, org_id, "training_session.recorded", _local(held_on, 17),
                        {"training_session_id": session_id, "hours": hours, "modules": list(modules)})
            if day == 0:
                self._pulses(context, "pilot_training", "training", session_id, held_on, attendees)

    def _drafting(self, context: tuple[Any, ...], entered: datetime, done: bool) -> None:
        engagement_id, org_id, member_ids, pilot_id = context[0], context[1], context[2], context[5]
        started = _day(entered) + timedelta(days=1)
        for members in (member_ids[:4], member_ids[4:]):
            group_id = self._id(DraftingGroup)
            self._add(DraftingGroup, id=group_id, engagement_id=engagement_id, department_id=pilot_id,
                      member_ids=members, started_on=started, ended_on=started + timedelta(days=15) if done else None,
                      created_at=_local(started), version=1)
            self._event(engagement_id, org_id, "drafting_group.recorded", _local(started),
                        {"drafting_group_id": group_id, "members": len(members)})

    def _quarter(self, context: tuple[Any, ...], label: str, starts_on: date, okrs_on: datetime,
                 cycle_from: datetime | None, *, scored: bool, lags: bool) -> None:
        """A quarter with an OKR of two key results per pilot member; once it runs (``cycle_from``), the weekly
        check-ins, team meetings and 1:1s held so far."""
        engagement_id, member_ids, lead_id, pilot_id = context[0], context[2], context[4], context[5]
        quarter_id = self._id(Quarter)
        ends_on = starts_on + timedelta(weeks=QUARTER_WEEKS) - timedelta(days=1)
        self._add(Quarter, id=quarter_id, engagement_id=engagement_id, label=label, starts_on=starts_on,
                  ends_on=ends_on, created_at=okrs_on, version=1)
        today = _day(NOW)
        last = min(ends_on, today)
        first_okr = self._id(Okr, len(member_ids))
        first_key_result = self._id(KeyResult, len(member_ids) * KEY_RESULTS_PER_MEMBER)
        decided = _local(ends_on + timedelta(days=8)) if scored else None
        for m, member in enumerate(member_ids):
            okr_id = first_okr + m
            self._add(Okr, id=okr_id, engagement_id=engagement_id, quarter_id=quarter_id, department_id=pilot_id,
                      owner_id=member, objective="Grow", score=(0.7, 0.3, 1.0)[m % 3] if scored else None,
                      scored_at=decided, decision=("complete", "continue", "abandon")[m % 3] if scored else None,
                      decided_at=decided, created_at=okrs_on, version=3 if scored else 1)
            for k in range(KEY_RESULTS_PER_MEMBER):
                key_result_id = first_key_result + m * KEY_RESULTS_PER_MEMBER + k
                self._add(KeyResult, id=key_result_id, engagement_id=engagement_id, okr_id=okr_id, metric="Demos",
                          start_value=0.0, target_value=10.0, current_value=7.0, unit="", created_at=okrs_on,
                          version=1)
                if cycle_from is None:
                    continue
                for week in range(QUARTER_WEEKS):
                    week_of = starts_on + timedelta(weeks=week)
                    if week_of > last or (lags and week % 3 == 1):
                        continue
                    self._add(CheckIn, engagement_id=engagement_id, key_result_id=key_result_id, week_of=week_of,
                              value=float(week), confidence=7.0, note="", author_id=member,
                              created_at=_local(week_of, 17), version=1)
        if cycle_from is None:
            return
        for week in range(QUARTER_WEEKS):
            day = starts_on + timedelta(weeks=week, days=1)
            if day > last or week == 6 or (lags and week % 2):
                continue  # one week without a team meeting; a lagging department misses every other one
            self._meeting(context, "weekly_team", _local(day), member_ids, [], department_id=pilot_id)
        for m, member in enumerate(member_ids):
            lead = self.coach_id if member == lead_id else lead_id
            day = starts_on + timedelta(days=3 + m % 5)
            while day <= last:
                self._meeting(context, "one_on_one", _local(day, 14), [lead, member], [], counts_for=[member])
                day += timedelta(days=14)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engagements", type=int, default=10_000)
    parser.add_argument("--database-url", default="sqlite:///./benchmark.db",
                        help="A migrated, empty database (run `okr-rollout db upgrade` with it first).")
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    seeder = Seeder(engine, args.engagements)
    started = time.perf_counter()
    seeder.run()
    elapsed = time.perf_counter() - started
    print(f"seeded {args.engagements:,} engagements, {seeder.rows:,} rows in {elapsed:.1f} s "
          f"({seeder.rows / elapsed:,.0f} rows/s)")


if __name__ == "__main__":
    main()
