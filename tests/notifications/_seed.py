"""One pilot engagement in its first quarter, seeded through the ORM, and helpers to read what reminders did.

Acme Tea Co. (Asia/Taipei, 40 people) runs the standard playbook. Sales is the pilot department: its lead Lee
and members Amy (English) and Bo (zh-TW) are the pilot members; Amy and Bo own Q1 OKRs with a key result each.
Ivy is the internal coach and Olu the OKR Master (both in Ops, outside the pilot); Cai is the CEO; Chen the
external coach. Q1 runs 13 weeks from Monday 5 January 2026; the engagement entered q1_cycle at its first
local midnight.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.models import (
    Appointment,
    CeoSupportStatement,
    CheckIn,
    Department,
    Engagement,
    EngagementCoach,
    KeyResult,
    Notification,
    Okr,
    Organization,
    Person,
    PersonDepartment,
    Quarter,
    Reminder,
)
from okr_rollout.notifications.service import ReminderRun, run_reminders
from okr_rollout.playbooks import LoadedPlaybook, PlaybookRegistry, load_text
from okr_rollout.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
STANDARD = ROOT / "playbooks" / "standard.yaml"
TAIPEI = ZoneInfo("Asia/Taipei")
Q1_START = date(2026, 1, 5)  # a Monday
Q1_END = date(2026, 4, 5)  # 13 weeks later, a Sunday
ENTERED = datetime(2026, 1, 5, tzinfo=TAIPEI).astimezone(UTC)
CEO_SUPPORT_ON = date(2026, 1, 2)


def local(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A Taipei wall-clock time, in UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TAIPEI).astimezone(UTC)


def playbook(**defaults: str) -> LoadedPlaybook:
    """standard.yaml, with some parameters' defaults rewritten (``name="value"``)."""
    text = STANDARD.read_text(encoding="utf-8")
    for name, value in defaults.items():
        block = re.compile(rf"^(  {name}:\n(?:    .*\n)*?    default: ).*$", re.MULTILINE)
        text, count = block.subn(lambda match, value=value: match.group(1) + value, text)
        assert count == 1, name
    return load_text(text, f"standard.yaml with {defaults}")


def catalog_of(loaded: LoadedPlaybook) -> Catalog:
    return Catalog(PlaybookRegistry([loaded]))


@dataclass
class Seeded:
    engagement_id: int
    people: dict[str, int]  # first name -> person id
    okr_key_results: dict[str, int]  # owner's first name -> key result id


def seed(engine: Engine, catalog: Catalog, *, emails: bool = False, email_digest: str = "daily") -> Seeded:
    factory = make_session_factory(engine)
    loaded = catalog.registry.all()[0]
    with session_scope(factory) as session:
        organization = Organization(name="Acme Tea Co.", headcount=40, timezone="Asia/Taipei", created_at=ENTERED,
                                    updated_at=ENTERED)
        session.add(organization)
        session.flush()

        def person(name: str, roles: list[str], locale: str = "en", *, external: bool = False) -> Person:
            email = f"{name.lower()}@example.com" if emails else None
            found = Person(organization_id=None if external else organization.id, name=name, roles=roles,
                           locale=locale, email=email, email_digest=email_digest, created_at=ENTERED)
            session.add(found)
            return found

        chen = person("Chen", ["coach"], external=True)
        cai = person("Cai", ["ceo"], "zh-TW")
        lee = person("Lee", ["department_lead"])
        amy = person("Amy", ["member"])
        bo = person("Bo", ["member"], "zh-TW")
        ivy = person("Ivy", ["internal_coach"])
        olu = person("Olu", ["okr_master"], "zh-TW")
        session.flush()
        sales = Department(organization_id=organization.id, name="Sales", is_pilot=True, lead_id=lee.id,
                           created_at=ENTERED)
        ops = Department(organization_id=organization.id, name="Ops", is_pilot=False, created_at=ENTERED)
        session.add_all([sales, ops])
        session.flush()
        session.add_all([PersonDepartment(person_id=p.id, department_id=sales.id) for p in (lee, amy, bo)])
        session.add_all([PersonDepartment(person_id=p.id, department_id=ops.id) for p in (ivy, olu)])
        catalog.pin(session, loaded)
        engagement = Engagement(organization_id=organization.id, playbook_id=loaded.id,
                                playbook_version=loaded.version, playbook_sha256=loaded.sha256, phase="q1_cycle",
                                entered_phase_at=ENTERED, created_at=ENTERED, updated_at=ENTERED)
        session.add(engagement)
        session.flush()
        session.add(EngagementCoach(engagement_id=engagement.id, person_id=chen.id))
        session.add(CeoSupportStatement(engagement_id=engagement.id, level="full", stated_on=CEO_SUPPORT_ON,
                                        created_at=ENTERED))
        session.add_all([
            Appointment(engagement_id=engagement.id, person_id=ivy.id, role="internal_coach", created_at=ENTERED,
                        updated_at=ENTERED),
            Appointment(engagement_id=engagement.id, person_id=olu.id, role="okr_master", created_at=ENTERED,
                        updated_at=ENTERED),
        ])
        quarter = Quarter(engagement_id=engagement.id, label="2026-Q1", starts_on=Q1_START, ends_on=Q1_END,
                          created_at=ENTERED)
        session.add(quarter)
        session.flush()
        key_results: dict[str, int] = {}
        for owner in (amy, bo):
            okr = Okr(engagement_id=engagement.id, quarter_id=quarter.id, department_id=sales.id,
                      owner_id=owner.id, objective=f"{owner.name} delights customers", created_at=ENTERED)
            session.add(okr)
            session.flush()
            kr = KeyResult(engagement_id=engagement.id, okr_id=okr.id, metric="NPS", start_value=0,
                           target_value=50, current_value=0, created_at=ENTERED)
            session.add(kr)
            session.flush()
            key_results[owner.name] = kr.id
        people = {p.name: p.id for p in (chen, cai, lee, amy, bo, ivy, olu)}
        return Seeded(engagement.id, people, key_results)


def check_in(engine: Engine, seeded: Seeded, owner: str, on: date) -> None:
    with session_scope(make_session_factory(engine)) as session:
        session.add(CheckIn(engagement_id=seeded.engagement_id, key_result_id=seeded.okr_key_results[owner],
                            week_of=on, value=10, author_id=seeded.people[owner], created_at=local(on, 18)))


def run(factory: sessionmaker[Session], catalog: Catalog, settings: Settings, now: datetime) -> ReminderRun:
    """One scheduler tick in its own unit of work, as the scheduler runs it."""
    with session_scope(factory) as session:
        return run_reminders(session, catalog, settings, now)


def reminders(engine: Engine) -> list[Reminder]:
    with make_session_factory(engine)() as session:
        return list(session.scalars(select(Reminder).order_by(Reminder.due_at, Reminder.cadence_id)))


def notifications(engine: Engine, **where: object) -> list[Notification]:
    with make_session_factory(engine)() as session:
        query = select(Notification).order_by(Notification.id)
        for name, value in where.items():
            query = query.where(getattr(Notification, name) == value)
        return list(session.scalars(query))


def per_person(engine: Engine, seeded: Seeded, **where: object) -> Counter[str]:
    names = {person_id: name for name, person_id in seeded.people.items()}
    return Counter(names[n.person_id] for n in notifications(engine, **where))


def days(start: date, count: int, step: int = 1) -> list[date]:
    return [start + timedelta(days=step * k) for k in range(count)]
