"""A wave's journey reminds its own people: its cadences on the facts scoped to the wave, under cadence ids of its
own, beside the engagement's reminders."""

from __future__ import annotations

from sqlalchemy import Engine, select

from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.models import Department, Engagement, Notification, Wave
from okr_rollout.settings import Settings
from tests.notifications._seed import ENTERED, Q1_START, catalog_of, local, playbook, reminders, run, seed

SETTINGS = Settings(database_url="sqlite://")


def test_a_wave_in_its_quarter_reminds_its_members_to_check_in(engine: Engine) -> None:
    catalog = catalog_of(playbook())
    seeded = seed(engine, catalog)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        engagement = session.get(Engagement, seeded.engagement_id)
        assert engagement is not None
        engagement.phase = "expansion"
        department_id = session.scalar(select(Department.id).where(Department.name == "Ops"))
        session.add(Wave(engagement_id=seeded.engagement_id, name="Wave 1", department_ids=[department_id],
                         owner_ids=[seeded.people["Ivy"]], phase="wave_quarter", entered_phase_at=ENTERED,
                         opened_at=ENTERED, created_at=ENTERED, updated_at=ENTERED))
    run(factory, catalog, SETTINGS, local(Q1_START, 8))
    run(factory, catalog, SETTINGS, local(Q1_START.replace(day=12), 12))
    sent = [r for r in reminders(engine) if r.cadence_id.startswith("wave")]
    assert sent and {r.cadence_id for r in sent} == {f"wave{_wave_id(engine)}:wave_weekly_check_in"}
    with make_session_factory(engine)() as session:
        told = set(session.scalars(select(Notification.person_id).where(
            Notification.reminder_id.in_([r.id for r in sent]))))
    assert told == {seeded.people["Ivy"], seeded.people["Olu"]}  # the wave's members (Ops), not the pilot's


def _wave_id(engine: Engine) -> int:
    with make_session_factory(engine)() as session:
        return int(session.scalars(select(Wave.id)).one())
