"""Who a reminder goes to: the cadence's audience, only the late owners for a missed check-in, never more than
max_nudges_per_week in 7 days, in each person's language."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, delete

from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.models import Appointment, Engagement
from okr_rollout.playbooks import load
from okr_rollout.settings import Settings
from tests.notifications._seed import (
    ROOT,
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

SETTINGS = Settings(database_url="sqlite://")


def test_people_who_checked_in_are_skipped(engine: Engine) -> None:
    catalog = catalog_of(playbook())
    seeded = seed(engine, catalog)
    check_in(engine, seeded, "Amy", date(2026, 1, 5))  # on time
    check_in(engine, seeded, "Bo", date(2026, 1, 7))  # two days late, after the reminder of Tuesday
    factory = make_session_factory(engine)
    for day in range(5, 13):
        run(factory, catalog, SETTINGS, local(date(2026, 1, day), 12))

    steps = [(r.occurrence, r.details["recipient_ids"]) for r in reminders(engine)
             if r.cadence_id == "check_in_escalation"]
    # Tuesday: only Bo is reminded again; by Thursday he has checked in, so no coach or OKR Master is told.
    assert steps == [("2026-01-05:repeat", [seeded.people["Bo"]])]
    assert per_person(engine, seeded, channel="inbox") == {"Lee": 4, "Amy": 2, "Bo": 3}


def test_nobody_gets_more_than_the_weekly_cap_and_the_excess_comes_in_a_digest(engine: Engine) -> None:
    catalog = catalog_of(playbook(max_nudges_per_week="2"))
    seeded = seed(engine, catalog)
    factory = make_session_factory(engine)
    # Monday 19 January: check-in, team meeting and the first 1:1 all fall due for Lee at 09:00.
    for day in (12, 19, 26):
        run(factory, catalog, SETTINGS, local(date(2026, 1, day), 12))

    lee = notifications(engine, person_id=seeded.people["Lee"], channel="inbox")
    by_reminder = {r.id: r for r in reminders(engine)}
    seen = [(by_reminder[n.reminder_id].cadence_id, by_reminder[n.reminder_id].due_at.date(), n.status)
            for n in lee if n.reminder_id is not None]
    monday = {d: local(date(2026, 1, d)).date() for d in (12, 19, 26)}
    assert sorted(seen) == sorted([
        ("weekly_check_in", monday[12], "sent"), ("weekly_team_meeting", monday[12], "sent"),
        ("one_on_one", monday[19], "sent"), ("weekly_check_in", monday[19], "sent"),
        ("weekly_team_meeting", monday[19], "digested"),  # the third within 7 days
        ("weekly_check_in", monday[26], "sent"), ("weekly_team_meeting", monday[26], "sent"),
    ])
    (held,) = [n for n in lee if n.status == "digested"]
    assert held.last_error == ("max_nudges_per_week (2) reached: 2 reminders in the last 7 days; told in the next "
                               "digest")
    # The third reminder of the 19th is not lost: Lee's digest of that run tells it.
    (digest,) = [n for n in lee if n.reminder_id is None]
    assert digest.status == "sent" and digest.created_at == held.sent_at == local(date(2026, 1, 19), 12)
    assert digest.subject == "Digest · Acme Tea Co.: 1 reminder this week"
    assert "2026-01-19 09:00 (Asia/Taipei): Hold the team meeting (every 7 days)" in digest.body
    (meeting,) = [r for r in reminders(engine)
                  if r.occurrence == "2026-01-19" and r.cadence_id == "weekly_team_meeting"]
    assert meeting.status == "sent" and meeting.details["capped_ids"] == [seeded.people["Lee"]]


def test_the_culture_phase_reminds_the_ceo_and_the_okr_master_in_their_language(engine: Engine) -> None:
    catalog = catalog_of(playbook())
    seeded = seed(engine, catalog)
    factory = make_session_factory(engine)
    entered = local(date(2026, 7, 1), 0)
    with session_scope(factory) as session:
        engagement = session.get(Engagement, seeded.engagement_id)
        assert engagement is not None
        engagement.phase, engagement.entered_phase_at = "culture", entered
    for week in range(5):
        run(factory, catalog, SETTINGS, entered + timedelta(days=7 * week, hours=12))

    culture = [(r.cadence_id, r.occurrence, r.details["recipient_ids"]) for r in reminders(engine)
               if r.cadence_id.startswith("culture")]
    assert culture == [
        ("culture_ceo", "2026-07-15", [seeded.people["Cai"]]),
        ("culture_okr_master", "2026-07-15", [seeded.people["Olu"]]),
        ("culture_ceo", "2026-07-29", [seeded.people["Cai"]]),
        ("culture_okr_master", "2026-07-29", [seeded.people["Olu"]]),
    ]
    to_cai = notifications(engine, person_id=seeded.people["Cai"])
    assert {n.locale for n in to_cai} == {"zh-TW"}
    assert "持續推動 OKRs" in to_cai[0].body and to_cai[0].subject.startswith("【提醒】")


def test_a_reminder_with_nobody_to_tell_is_recorded_as_skipped(engine: Engine) -> None:
    catalog = catalog_of(playbook())
    seeded = seed(engine, catalog)
    factory = make_session_factory(engine)
    entered = local(date(2026, 7, 1), 0)
    with session_scope(factory) as session:
        session.execute(delete(Appointment).where(Appointment.role == "okr_master"))
        engagement = session.get(Engagement, seeded.engagement_id)
        assert engagement is not None
        engagement.phase, engagement.entered_phase_at = "culture", entered
    run(factory, catalog, SETTINGS, entered + timedelta(days=14, hours=12))
    (master,) = [r for r in reminders(engine) if r.cadence_id == "culture_okr_master"]
    assert (master.status, master.skip_reason) == ("skipped", "nobody to tell: no okr_master in this engagement")
    assert [n for n in notifications(engine) if n.reminder_id == master.id] == []


def test_a_small_company_reminds_everyone_and_the_ceo_holds_the_team_meeting(engine: Engine) -> None:
    catalog = catalog_of(load(ROOT / "playbooks" / "small-company.yaml"))
    seeded = seed(engine, catalog)  # the small-company playbook has the same cycle phases and cadence kinds
    factory = make_session_factory(engine)
    run(factory, catalog, SETTINGS, local(date(2026, 1, 5), 12))
    run(factory, catalog, SETTINGS, local(date(2026, 1, 6), 12))
    sent = {(r.cadence_id, r.occurrence): sorted(r.details["recipient_ids"]) for r in reminders(engine)}
    everyone = sorted(pid for name, pid in seeded.people.items() if name != "Chen")  # all but the external coach
    assert sent == {
        ("weekly_check_in", "2026-01-05"): everyone,
        ("weekly_team_meeting", "2026-01-05"): [seeded.people["Cai"]],
        ("check_in_escalation", "2026-01-05:repeat"): sorted([seeded.people["Amy"], seeded.people["Bo"]]),
    }
