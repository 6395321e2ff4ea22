"""After downtime one reminder per missed occurrence within the catch-up window, the rest recorded as skipped; two
schedulers at once never send anything twice (the unique key decides, not the job store)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

from sqlalchemy import Engine, text

from okr_rollout.db import begin_write, make_session_factory
from okr_rollout.notifications.service import ReminderRun, run_reminders
from okr_rollout.settings import Settings
from tests.notifications._seed import (
    ENTERED,
    catalog_of,
    check_in,
    local,
    notifications,
    per_person,
    playbook,
    reminders,
    run,
    seed,
)

SETTINGS = Settings(database_url="sqlite://", reminder_catch_up_hours=96)


def test_after_a_ten_day_outage_recent_occurrences_are_sent_once_and_older_ones_skipped(engine: Engine) -> None:
    catalog = catalog_of(playbook())
    seeded = seed(engine, catalog)
    check_in(engine, seeded, "Amy", date(2026, 1, 5))
    check_in(engine, seeded, "Amy", date(2026, 1, 12))
    factory = make_session_factory(engine)
    run(factory, catalog, SETTINGS, local(date(2026, 1, 5), 12))  # Monday noon: the week's reminders go out
    before = len(reminders(engine))

    # Down from Monday 5 January noon to Thursday 15 January noon (10 days); the window reaches back 96 hours.
    back = run(factory, catalog, SETTINGS, local(date(2026, 1, 15), 12))
    missed = reminders(engine)[before:]
    assert [(r.cadence_id, r.occurrence, r.status) for r in missed] == [
        ("check_in_escalation", "2026-01-05:repeat", "skipped"),  # Tuesday 6th: 9 days ago
        ("check_in_escalation", "2026-01-05:internal_coach", "skipped"),  # Thursday 8th: 7 days ago
        ("check_in_escalation", "2026-01-05:okr_master", "sent"),  # Monday 12th: 3 days ago
        ("weekly_check_in", "2026-01-12", "sent"),
        ("weekly_team_meeting", "2026-01-12", "sent"),
        ("check_in_escalation", "2026-01-12:repeat", "sent"),  # Tuesday 13th
        ("check_in_escalation", "2026-01-12:internal_coach", "sent"),  # Thursday 15th, this morning
    ]
    assert all("catch-up window" in (r.skip_reason or "") for r in missed if r.status == "skipped")
    assert (back.due, back.inserted, back.skipped) == (7, 7, 2)

    sent_ids = {r.id for r in missed if r.status == "sent"}
    fanned = [n for n in notifications(engine) if n.reminder_id in sent_ids]
    assert len(fanned) == back.notifications == 7  # one inbox notification per person per occurrence
    assert Counter(n.reminder_id for n in notifications(engine) if n.reminder_id not in sent_ids) == Counter(
        {r.id: n for r, n in zip(reminders(engine)[:before], [3, 1], strict=True)})  # only Monday 5th's, once
    assert per_person(engine, seeded) == {"Lee": 4, "Amy": 2, "Bo": 3, "Olu": 1, "Ivy": 1}


def _tick(engine: Engine, catalog_settings: tuple[object, Settings], now: object, found: dict[str, ReminderRun],
          name: str) -> None:
    catalog, settings = catalog_settings
    factory = make_session_factory(engine)
    session = factory()
    try:
        begin_write(session)
        found[name] = run_reminders(session, catalog, settings, now)  # type: ignore[arg-type]
        session.commit()
    finally:
        session.close()


def test_two_schedulers_at_once_record_and_send_each_reminder_once(engine: Engine) -> None:
    catalog = catalog_of(playbook())
    seed(engine, catalog)
    factory = make_session_factory(engine)
    run(factory, catalog, SETTINGS, ENTERED)  # both schedulers start from the same last run
    now = local(date(2026, 1, 12), 12)

    # Scheduler A computes and inserts, and has not committed yet.
    first = factory()
    begin_write(first)
    a = run_reminders(first, catalog, SETTINGS, now)
    assert a.inserted > 0 and a.notifications > 0

    # Scheduler B runs the same tick meanwhile in another transaction.
    found: dict[str, ReminderRun] = {}
    other = threading.Thread(target=_tick, args=(engine, (catalog, SETTINGS), now, found, "b"))
    other.start()
    if engine.dialect.name == "postgresql":
        # B read the old last-run time and now waits on A's uncommitted keys; on SQLite B waits at BEGIN IMMEDIATE.
        assert _waits_on_a_lock(engine), "the second scheduler never reached the keyed insert"
    first.commit()
    first.close()
    other.join(timeout=60)
    assert not other.is_alive()

    b = found["b"]
    if engine.dialect.name == "postgresql":
        assert b.due == a.due  # B saw the same reminders due (the old last-run time) ...
    assert b.inserted == 0 and b.notifications == 0  # ... and the keys let none of them through
    keys = [(r.engagement_id, r.cadence_id, r.occurrence) for r in reminders(engine)]
    assert len(keys) == len(set(keys))
    pairs = [(n.reminder_id, n.person_id, n.channel) for n in notifications(engine)]
    assert len(pairs) == len(set(pairs))
    assert len(notifications(engine)) == a.notifications  # the first tick (at phase entry) had nothing due


def _waits_on_a_lock(engine: Engine) -> bool:
    """Poll (without sleeping: each poll is a round trip) until another session of this database waits on a lock."""
    with engine.connect() as watcher:
        for _ in range(20_000):
            waiting = watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")).scalar_one()
            watcher.rollback()
            if waiting:
                return True
    return False
