"""A scheduled week in which reminders are sent exactly once while schedulers die and take over, shared by the
in-process cluster (``tests/reliability/test_scheduled_week.py``) and the cluster of real processes
(``tests/e2e/test_scheduled_week_processes.py``).

The week: ``tests.notifications._seed`` (an engagement in q1_cycle from Monday 5 January 2026, Taipei), a clock
moving three hours at a time from its entry into q1_cycle for seven days, every scheduler ticking (reminders,
then deliveries) at every step, and a check-in recorded over HTTP on Tuesday and Friday at 18:00. In a cluster
the active scheduler dies on Wednesday noon, before that step's ticks.

The oracle is the same week run by a single web worker and a single scheduler in this process on a fresh SQLite
database (:func:`oracle`); a cluster must end with exactly its reminders (key, status), its notifications and its
history, each once (:func:`assert_same_as_oracle`).
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
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from okr_rollout.app import create_app
from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from okr_rollout.db import make_engine, make_session_factory, session_scope
from okr_rollout.models import Event, Notification, Reminder
from okr_rollout.scheduler import Scheduler
from okr_rollout.settings import Settings
from tests.conftest import ROOT, Clock, auth, playbooks_catalog
from tests.notifications._seed import ENTERED, TAIPEI, Seeded, catalog_of, playbook, seed

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


def steps() -> list[datetime]:
    """Every time the clock shows during the week, in order."""
    times = [ENTERED]
    while times[-1] + STEP < ENTERED + WEEK:
        times.append(times[-1] + STEP)
    return times


def seeded_week(engine: Engine) -> tuple[Seeded, str]:
    """The engagement of the week in the database behind ``engine``, and an admin token for its API."""
    seeded = seed(engine, catalog_of(playbook()))
    with session_scope(make_session_factory(engine)) as session:
        token, _ = create_token(session, role=Role.admin, name="crm")
    return seeded, token


def check_in_request(seeded: Seeded, quarter_id: int, now: datetime, step: int) -> tuple[str, dict[str, Any]] | None:
    """The check-in recorded at ``now`` (the step-th step), if any: Amy's, on Tuesday and Friday evening."""
    day = now.astimezone(TAIPEI).date()
    if now.astimezone(TAIPEI).hour != 18 or day.weekday() not in (1, 4):
        return None
    path = f"/api/v1/engagements/{seeded.engagement_id}/quarters/{quarter_id}/check-ins"
    return path, {"key_result_id": seeded.okr_key_results["Amy"], "week_of": day.isoformat(), "value": step,
                  "author_id": seeded.people["Amy"]}


def week(url: str, engines: Callable[[], Engine], workers: int, schedulers: int) -> Outcome:
    """Run the week on ``url`` with that many web workers and schedulers in this process; what it left in the
    database."""
    catalog = catalog_of(playbook())
    main = engines()
    seeded, token = seeded_week(main)
    clock = Clock(ENTERED)
    settings = Settings(database_url=url, playbooks_dir=ROOT / "playbooks", scheduler_lock_key=LOCK_KEY)
    with ExitStack() as stack:
        clients = [stack.enter_context(TestClient(create_app(settings, engine=engines(), clock=clock,
                                                             catalog=playbooks_catalog())))
                   for _ in range(workers)]
        running = [Scheduler(settings, engines(), catalog, clock) for _ in range(schedulers)]
        for scheduler in running:
            stack.callback(scheduler.leadership.release)
        base = f"/api/v1/engagements/{seeded.engagement_id}"
        quarter_id = clients[0].get(f"{base}/quarters", headers=auth(token)).json()[0]["id"]
        recorded_so_far = 0
        for step, now in enumerate(steps()):
            clock.now = now
            if len(running) == schedulers > 1 and clock.now >= DEATH:
                leader = next(s for s in running if s.leadership.held)
                running.remove(leader)
                leader.leadership.release()  # its lock connection closes, as when its process dies
            tick_all(running)
            request = check_in_request(seeded, quarter_id, clock.now, step)
            if request is not None:
                # Each check-in through the next worker in turn: every worker serves the coach.
                recorded = clients[recorded_so_far % workers].post(request[0], headers=auth(token), json=request[1])
                assert recorded.status_code == 201, recorded.text
                recorded_so_far += 1
    return collected(main, seeded)


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


def collected(engine: Engine, seeded: Seeded) -> Outcome:
    """The reminders, notifications and history the week left in the database."""
    names = {person_id: name for name, person_id in seeded.people.items()}
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


def oracle(sqlite_template: Path, tmp_path: Path) -> Outcome:
    """The week with one web worker and one scheduler on a fresh SQLite database."""
    database = tmp_path / "reference.db"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    made: list[Engine] = []

    def make() -> Engine:
        made.append(make_engine(url))
        return made[-1]

    try:
        return week(url, make, workers=1, schedulers=1)
    finally:
        for engine in made:
            engine.dispose()


def assert_same_as_oracle(expected: Outcome, cluster: Outcome) -> None:
    """No reminder twice, none lost; every notification and every event of the oracle, each once."""
    assert expected.reminders and expected.notifications  # the week has reminders to send
    for outcome in (expected, cluster):
        assert max(outcome.reminders.values()) == 1
        assert max(outcome.notifications.values()) == 1
    assert cluster.reminders == expected.reminders
    assert cluster.notifications == expected.notifications
    assert cluster.events == expected.events
