"""Two web workers and two schedulers over one simulated week: no reminder twice, none lost.

The cluster: two applications, each with its own engine (connection pool), serving the coach's records; two
schedulers, each with its own engine and its own leadership lock connection, both ticking at every step of a
clock that moves three hours at a time through the first week of Q1 (``tests.notifications._seed``: an engagement
in q1_cycle). Both ticks of a step run at once; on Wednesday noon the active scheduler dies (its lock
connection closes) and the other one must take over.

The oracle is the same week run by a single web worker and a single scheduler on a fresh SQLite database: the
cluster must end with exactly its reminders (key, status), its notifications and its history, each once.
"""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from okr_rollout.app import create_app
from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from okr_rollout.db import make_engine, make_session_factory, session_scope
from okr_rollout.models import Event, Notification, Reminder
from okr_rollout.scheduler import Scheduler
from okr_rollout.settings import Settings
from tests.conftest import ROOT, Clock, auth
from tests.notifications._seed import ENTERED, TAIPEI, catalog_of, playbook, seed

STEP = timedelta(hours=3)
WEEK = timedelta(days=7)
DEATH = datetime(2026, 1, 7, 12, tzinfo=TAIPEI)  # Wednesday noon: the active scheduler dies
LOCK_KEY = 7_303_909
WAIT = 120  # seconds: an upper bound for a tick that should finish at once, never a pause


@dataclass(frozen=True)
class Outcome:
    reminders: Counter[tuple[str, str, str]]  # (cadence, occurrence, status)
    notifications: Counter[tuple[str, str, str, str]]  # (cadence, occurrence, person's name, channel)
    events: Counter[str]


def week(url: str, engines: Callable[[], Engine], workers: int, schedulers: int) -> Outcome:
    """Run the week on ``url`` with that many web workers and schedulers; what it left in the database."""
    catalog = catalog_of(playbook())
    main = engines()
    seeded = seed(main, catalog)
    with session_scope(make_session_factory(main)) as session:
        token, _ = create_token(session, role=Role.admin, name="crm")
    clock = Clock(ENTERED)
    settings = Settings(database_url=url, playbooks_dir=ROOT / "playbooks", scheduler_lock_key=LOCK_KEY)
    with ExitStack() as stack:
        clients = [stack.enter_context(TestClient(create_app(settings, engine=engines(), clock=clock)))
                   for _ in range(workers)]
        running = [Scheduler(settings, engines(), catalog, clock) for _ in range(schedulers)]
        for scheduler in running:
            stack.callback(scheduler.leadership.release)
        base = f"/api/v1/engagements/{seeded.engagement_id}"
        quarter_id = clients[0].get(f"{base}/quarters", headers=auth(token)).json()[0]["id"]
        step = 0
        while clock.now < ENTERED + WEEK:
            if len(running) == schedulers > 1 and clock.now >= DEATH:
                leader = next(s for s in running if s.leadership.held)
                running.remove(leader)
                leader.leadership.release()  # its lock connection closes, as when its process dies
            tick_all(running)
            day = clock.now.astimezone(TAIPEI).date()
            if clock.now.astimezone(TAIPEI).hour == 18 and day.weekday() in (1, 4):  # Tuesday and Friday evening
                client = clients[step % workers]
                recorded = client.post(f"{base}/quarters/{quarter_id}/check-ins", headers=auth(token), json={
                    "key_result_id": seeded.okr_key_results["Amy"], "week_of": day.isoformat(), "value": step,
                    "author_id": seeded.people["Amy"]})
                assert recorded.status_code == 201, recorded.text
            clock.advance(seconds=STEP.total_seconds())
            step += 1
    return collected(main, {person_id: name for name, person_id in seeded.people.items()})


def tick_all(schedulers: list[Scheduler]) -> None:
    """Every scheduler's reminder and delivery tick, all at once; only the active one may act."""
    errors: list[BaseException] = []

    def tick(scheduler: Scheduler) -> None:
        try:
            scheduler.reminders_tick()
            scheduler.delivery_tick()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads), "a scheduler tick never finished"
    assert errors == []
    assert sum(s.leadership.held for s in schedulers) == 1, "not exactly one active scheduler"


def collected(engine: Engine, names: dict[int, str]) -> Outcome:
    with engine.connect() as connection:
        reminders = {r.id: r for r in connection.execute(select(Reminder))}
        notifications = connection.execute(select(Notification.reminder_id, Notification.person_id,
                                                  Notification.channel)).all()
        events = connection.scalars(select(Event.type)).all()
    return Outcome(
        reminders=Counter((r.cadence_id, r.occurrence, r.status) for r in reminders.values()),
        notifications=Counter((reminders[n.reminder_id].cadence_id, reminders[n.reminder_id].occurrence,
                               names[n.person_id], n.channel) for n in notifications),
        events=Counter(events),
    )


def test_two_workers_and_two_schedulers_send_each_reminder_of_the_week_once(
        database_url: str, sqlite_template: Path, tmp_path: Path) -> None:
    made: list[Engine] = []

    def factory(url: str) -> Callable[[], Engine]:
        def make() -> Engine:
            made.append(make_engine(url))
            return made[-1]
        return make

    try:
        reference_db = tmp_path / "reference.db"
        shutil.copy(sqlite_template, reference_db)
        expected = week(f"sqlite:///{reference_db}", factory(f"sqlite:///{reference_db}"), workers=1,
                        schedulers=1)
        cluster = week(database_url, factory(database_url), workers=2, schedulers=2)
    finally:
        for engine in made:
            engine.dispose()

    assert expected.reminders and expected.notifications  # the week has reminders to send
    for outcome in (expected, cluster):
        assert max(outcome.reminders.values()) == 1
        assert max(outcome.notifications.values()) == 1
    assert cluster.reminders == expected.reminders
    assert cluster.notifications == expected.notifications
    assert cluster.events == expected.events
