"""A simulated quarter of reminders: exactly the expected ones, each once, at the local hour."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, delete, select

from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.models import Engagement, Event
from okr_rollout.models.notification import SchedulerState
from okr_rollout.notifications.service import last_run
from okr_rollout.settings import Settings
from tests.notifications._seed import (
    ENTERED,
    Q1_END,
    Q1_START,
    Seeded,
    catalog_of,
    check_in,
    days,
    local,
    notifications,
    per_person,
    playbook,
    reminders,
    run,
    seed,
)

SETTINGS = Settings(database_url="sqlite://", smtp_host=None)


def simulate_quarter(engine: Engine) -> Seeded:
    """Amy checks in every Monday, Bo never; the scheduler ticks every 8 hours through Q1 (and once at entry)."""
    catalog = catalog_of(playbook())
    seeded = seed(engine, catalog)
    for monday in days(Q1_START, 13, step=7):
        check_in(engine, seeded, "Amy", monday)
    factory = make_session_factory(engine)
    now = ENTERED
    end = local(Q1_END, 23, 59)
    while now <= end:
        run(factory, catalog, SETTINGS, now)
        now += timedelta(hours=8)
    run(factory, catalog, SETTINGS, end)
    return seeded


def test_a_quarter_produces_exactly_the_expected_reminders(engine: Engine) -> None:
    seeded = simulate_quarter(engine)
    recorded = reminders(engine)
    assert Counter(r.cadence_id for r in recorded) == {
        "weekly_check_in": 13,  # every Monday of the 13 weeks
        "weekly_team_meeting": 13,
        "one_on_one": 6,  # every 14 days from phase entry: 19 Jan ... 30 Mar
        "quarter_scoring": 1,  # 7 days before the quarter ends
        "stale_ceo_support": 1,  # support of 2 January fades after 90 days: 3 April
        "check_in_escalation": 13 + 13 + 12,  # Bo's missing check-ins: repeat, internal coach, OKR Master
    }
    escalation = Counter(r.details["step"] for r in recorded if r.cadence_id == "check_in_escalation")
    assert escalation == {"repeat": 13, "internal_coach": 13, "okr_master": 12}  # the 13th reaches the OKR
    # Master on 6 April, after the quarter

    weekly = [r for r in recorded if r.cadence_id == "weekly_check_in"]
    assert [r.due_at for r in weekly] == [local(d) for d in days(Q1_START, 13, step=7)]
    assert all(r.due_at.astimezone(UTC).hour == 1 for r in recorded)  # 09:00 in Taipei is 01:00 UTC
    assert len({(r.engagement_id, r.cadence_id, r.occurrence) for r in recorded}) == len(recorded)

    # Per person, in the inbox. Lee (pilot member and lead) would get a 4th reminder on 30 March (scoring on
    # Sunday, then check-in, team meeting and 1:1 on Monday): the weekly cap of 3 holds the team meeting for his
    # digest, sent in the same run.
    assert per_person(engine, seeded, channel="inbox", status="sent") == {
        "Lee": 13 + 12 + 6 + 1 + 1,
        "Amy": 13 + 1,
        "Bo": 13 + 13 + 1,
        "Ivy": 13,
        "Olu": 12,
        "Chen": 1,
    }
    digested = notifications(engine, status="digested")
    assert [(n.channel, n.person_id) for n in digested] == [("inbox", seeded.people["Lee"])]
    (held_meeting,) = [r for r in recorded if r.details["capped_ids"]]
    assert (held_meeting.cadence_id, held_meeting.due_at) == ("weekly_team_meeting", local(date(2026, 3, 30)))
    assert not [r for r in recorded if r.status == "skipped"]
    assert notifications(engine, channel="email") == []  # no SMTP server configured


def test_the_escalation_names_bo_to_the_coaches_and_reminds_only_bo(engine: Engine) -> None:
    names = simulate_quarter(engine).people
    recorded = reminders(engine)
    steps = [r for r in recorded if r.cadence_id == "check_in_escalation"]
    assert {tuple(r.details["subject_ids"]) for r in steps} == {(names["Bo"],)}
    first_week = [(r.occurrence, r.due_at, r.details["recipient_ids"]) for r in steps[:3]]
    assert first_week == [
        ("2026-01-05:repeat", local(date(2026, 1, 6)), [names["Bo"]]),
        ("2026-01-05:internal_coach", local(date(2026, 1, 8)), [names["Ivy"]]),
        ("2026-01-05:okr_master", local(date(2026, 1, 12)), [names["Olu"]]),
    ]
    to_ivy = notifications(engine, person_id=names["Ivy"])[0]
    assert "Bo" in to_ivy.body and "Amy" not in to_ivy.body
    to_olu = notifications(engine, person_id=names["Olu"])[0]
    assert to_olu.locale == "zh-TW" and "Bo" in to_olu.body and "尚未更新" in to_olu.body


def test_running_again_over_the_same_time_sends_nothing_twice(engine: Engine) -> None:
    simulate_quarter(engine)
    before = (len(reminders(engine)), len(notifications(engine)))
    catalog = catalog_of(playbook())
    factory = make_session_factory(engine)
    end = local(Q1_END, 23, 59)

    again = run(factory, catalog, SETTINGS, end)
    assert (again.due, again.inserted, again.notifications) == (0, 0, 0)  # nothing new since the last run

    # Forget the last run time: the next run looks at the whole quarter again, and the keys refuse every row.
    with session_scope(factory) as session:
        session.execute(delete(SchedulerState))
    settings = Settings(database_url="sqlite://", reminder_catch_up_hours=24 * 100)
    replay = run(factory, catalog, settings, end)
    assert replay.due == before[0] and replay.inserted == 0 and replay.notifications == 0
    assert (len(reminders(engine)), len(notifications(engine))) == before


def test_the_last_run_time_is_kept_and_never_moves_back(engine: Engine) -> None:
    catalog = catalog_of(playbook())
    seed(engine, catalog)
    factory = make_session_factory(engine)
    later, earlier = local(Q1_START, 12), local(Q1_START, 10)
    run(factory, catalog, SETTINGS, later)
    run(factory, catalog, SETTINGS, earlier)  # a slower concurrent run finishing last
    with factory() as session:
        assert last_run(session) == later


def test_the_overdue_next_quarter_deadline_also_appends_an_event_for_the_crm(engine: Engine) -> None:
    catalog = catalog_of(playbook())
    seeded = seed(engine, catalog)
    factory = make_session_factory(engine)
    review_entered = local(Q1_END + timedelta(days=1), 0)
    with session_scope(factory) as session:
        engagement = session.get(Engagement, seeded.engagement_id)
        assert engagement is not None
        engagement.phase, engagement.entered_phase_at = "quarter_review", review_entered
    now = review_entered
    while now <= local(Q1_END + timedelta(days=30)):
        run(factory, catalog, SETTINGS, now)
        now += timedelta(hours=12)

    deadline = Q1_END + timedelta(days=21)
    found = [r for r in reminders(engine) if r.cadence_id == "next_quarter_deadline"]
    steps = [(r.occurrence, r.due_at, r.audience) for r in found]
    assert steps == [
        (f"2026-Q1:warning:{deadline}", local(deadline - timedelta(days=7)), "coach"),
        (f"2026-Q1:due:{deadline}", local(deadline), "coach"),
        (f"2026-Q1:overdue:{deadline}", local(deadline + timedelta(days=1)), "coach"),
    ]
    with factory() as session:
        (event,) = session.scalars(select(Event).where(Event.type == "reminder.overdue"))
    assert event.engagement_id == seeded.engagement_id
    assert event.payload["deadline"] == deadline.isoformat() and event.payload["cadence_id"] == "next_quarter_deadline"
    chen = [n for n in notifications(engine, person_id=seeded.people["Chen"]) if n.reminder_id in {r.id for r in found}]
    assert [n.subject.split(" ")[0] for n in chen] == ["Coming", "Reminder", "OVERDUE"]
    assert f"The deadline of {deadline} has passed" in chen[-1].body


def test_first_run_looks_back_only_over_the_catch_up_window(engine: Engine) -> None:
    catalog = catalog_of(playbook())
    seed(engine, catalog)
    factory = make_session_factory(engine)
    now = datetime(2026, 2, 4, 12, tzinfo=UTC)  # a month into the quarter, the scheduler never ran
    first = run(factory, catalog, SETTINGS, now)
    assert first.since == now - timedelta(hours=SETTINGS.reminder_catch_up_hours)
    assert all(r.due_at > first.since for r in reminders(engine))
