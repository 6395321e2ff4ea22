"""E-mail digests over a simulated month: the clock advanced day by day and the scheduler ticking every three hours
(twice, a minute apart, as two schedulers might), each person gets e-mail as they chose: at most one digest a day
(daily), one a week (weekly), one e-mail a reminder (immediate), nothing in their quiet hours (sent after), and
an urgent cadence's e-mails at once whatever they chose."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, update

from okr_rollout.catalog.service import Catalog
from okr_rollout.db import begin_write, make_session_factory, session_scope
from okr_rollout.models import Notification, Person
from okr_rollout.notifications.preferences import Delivery
from okr_rollout.notifications.service import ReminderRun, run_reminders
from okr_rollout.playbooks import load_text
from okr_rollout.settings import Settings
from tests.notifications._seed import (
    Q1_START,
    STANDARD,
    TAIPEI,
    Seeded,
    catalog_of,
    local,
    notifications,
    playbook,
    reminders,
    run,
    seed,
)
from tests.notifications.test_catch_up_and_concurrency import _tick, _waits_on_a_lock

SETTINGS = Settings(database_url="sqlite://", smtp_host="127.0.0.1", public_url="https://okr.example.com")
TICK_HOURS = range(0, 24, 3)
MONTH = 31


def prefer(engine: Engine, seeded: Seeded, name: str, choice: str, quiet: tuple[int, int] | None = None,
           timezone: str | None = None) -> None:
    with session_scope(make_session_factory(engine)) as session:
        session.execute(update(Person).where(Person.id == seeded.people[name]).values(
            email_digest=choice, quiet_from_hour=quiet[0] if quiet else None,
            quiet_until_hour=quiet[1] if quiet else None, timezone=timezone))


def simulate(engine: Engine, catalog: Catalog, days: int = MONTH) -> None:
    factory = make_session_factory(engine)
    for day in range(days):
        for hour in TICK_HOURS:
            moment = local(Q1_START + timedelta(days=day), hour)
            run(factory, catalog, SETTINGS, moment)
            run(factory, catalog, SETTINGS, moment + timedelta(minutes=1))  # a second scheduler, a minute later


def digests_of(engine: Engine, person_id: int) -> list[Notification]:
    return [n for n in notifications(engine, person_id=person_id, channel="email") if n.digest_key is not None]


def month_seeded(engine: Engine, catalog: Catalog) -> Seeded:
    seeded = seed(engine, catalog, emails=True)  # everyone daily: the default
    prefer(engine, seeded, "Bo", "weekly")
    prefer(engine, seeded, "Lee", "immediate", quiet=(8, 10))  # the 09:00 reminders wait until 10:00
    prefer(engine, seeded, "Amy", "daily", quiet=(22, 11))  # the 08:00 digest waits until 11:00
    prefer(engine, seeded, "Ivy", "daily", timezone="Europe/Berlin")  # in a timezone of her own
    return seeded


def test_a_month_of_reminders_sends_each_person_email_as_they_chose(engine: Engine) -> None:
    catalog = catalog_of(playbook())
    seeded = month_seeded(engine, catalog)
    simulate(engine, catalog)
    people = seeded.people

    # Daily: at most one digest a local day, from the digest hour on, and never in quiet hours.
    for name, zone, quiet in (("Amy", TAIPEI, Delivery("daily", 22, 11, "Asia/Taipei")),
                              ("Ivy", ZoneInfo("Europe/Berlin"), Delivery("daily", timezone="Europe/Berlin"))):
        digests = digests_of(engine, people[name])
        per_day = Counter(d.created_at.astimezone(zone).date() for d in digests)
        assert len(digests) >= 4, name  # several weeks of reminders: the test proves something
        assert max(per_day.values()) == 1, name
        assert {d.digest_key for d in digests} == {f"daily:{day.isoformat()}" for day in per_day}
        for digest in digests:
            hour = digest.created_at.astimezone(zone).hour
            assert hour >= SETTINGS.email_digest_hour and not quiet.quiet(digest.created_at), (name, digest.created_at)
            assert digest.status == "pending" and digest.next_attempt_at == digest.created_at
    assert all(d.created_at.astimezone(TAIPEI).hour >= 11 for d in digests_of(engine, people["Amy"]))

    # Weekly: at most one digest an ISO week.
    bo = digests_of(engine, people["Bo"])
    per_week = Counter(d.created_at.astimezone(TAIPEI).isocalendar()[:2] for d in bo)
    assert len(bo) >= 3 and max(per_week.values()) == 1
    assert all(d.digest_key and d.digest_key.startswith("weekly:") for d in bo)

    # Nothing is lost: every e-mail queued for a digest was told in one, apart from what came after the last.
    for name in ("Amy", "Bo", "Chen", "Cai", "Ivy", "Olu"):
        queued = [n for n in notifications(engine, person_id=people[name], channel="email") if n.digest_key is None]
        assert {n.status for n in queued} <= {"digested", "queued"}, name
        last = max((d.created_at for d in digests_of(engine, people[name])), default=None)
        assert all(n.status == "digested" for n in queued if last is not None and n.created_at < last), name

    # Immediate: one e-mail a reminder, none in quiet hours (those due then go when they end).
    lee = people["Lee"]
    to_lee = [r for r in reminders(engine) if lee in r.details["recipient_ids"]]
    mails = notifications(engine, person_id=lee, channel="email")
    assert not digests_of(engine, lee)
    assert len({m.reminder_id for m in mails if m.reminder_id}) == len(to_lee) > 8
    for mail in mails:
        assert mail.status == "pending" and mail.next_attempt_at is not None
        sent_at = mail.next_attempt_at.astimezone(TAIPEI)
        assert not 8 <= sent_at.hour < 10, sent_at
        if 8 <= mail.created_at.astimezone(TAIPEI).hour < 10:
            assert sent_at == mail.created_at.astimezone(TAIPEI).replace(hour=10, minute=0, second=0, microsecond=0)
    assert any(m.next_attempt_at != m.created_at for m in mails)  # some did wait for the quiet hours to end


def test_the_digest_is_in_the_recipients_language_with_a_link_for_each_item(engine: Engine) -> None:
    catalog = catalog_of(playbook())
    seeded = month_seeded(engine, catalog)
    simulate(engine, catalog, days=9)
    (first_bo, *_) = digests_of(engine, seeded.people["Bo"])
    assert first_bo.locale == "zh-TW" and first_bo.subject.startswith("【每週摘要】")
    assert "Bo 您好" in first_bo.body
    assert f"https://okr.example.com/engagements/{seeded.engagement_id}" in first_bo.body
    assert "請在 OKR 軟體上更新關鍵結果的進度" in first_bo.body
    (first_amy, *_) = digests_of(engine, seeded.people["Amy"])
    assert first_amy.locale == "en" and first_amy.subject.startswith("Your daily digest:")
    told = [n for n in notifications(engine, person_id=seeded.people["Amy"], channel="email")
            if n.digest_key is None and n.sent_at == first_amy.created_at]
    assert told and all(n.subject in first_amy.body for n in told)
    assert first_amy.body.count(f"https://okr.example.com/engagements/{seeded.engagement_id}") == len(told)


def test_an_urgent_cadence_goes_at_once_even_to_a_digest_reader_in_quiet_hours(engine: Engine) -> None:
    text = STANDARD.read_text(encoding="utf-8").replace(
        "  - id: check_in_escalation\n    kind: check_in_escalation\n",
        "  - id: check_in_escalation\n    kind: check_in_escalation\n    urgent: true\n")
    urgent = load_text(text, "standard.yaml with an urgent escalation")
    assert [c.id for c in urgent.cadences if c.urgent] == ["check_in_escalation"]
    catalog = catalog_of(urgent)
    seeded = seed(engine, catalog, emails=True)
    prefer(engine, seeded, "Ivy", "daily", quiet=(0, 23))  # nearly always quiet
    simulate(engine, catalog, days=14)
    ivy = seeded.people["Ivy"]
    escalations = {r.id for r in reminders(engine) if r.cadence_id == "check_in_escalation"
                   and ivy in r.details["recipient_ids"]}
    assert escalations
    for mail in notifications(engine, person_id=ivy, channel="email"):
        if mail.reminder_id in escalations:
            assert mail.status == "pending" and mail.next_attempt_at == mail.created_at
        else:
            assert mail.status in {"queued", "digested"} or mail.digest_key is not None


def test_a_second_run_in_the_same_period_sends_no_second_digest_and_keeps_the_rest(engine: Engine) -> None:
    catalog = catalog_of(playbook())
    seeded = seed(engine, catalog, emails=True)
    amy = seeded.people["Amy"]
    factory = make_session_factory(engine)
    monday = local(date(2026, 1, 5), 9)
    run(factory, catalog, SETTINGS, monday)
    (digest,) = digests_of(engine, amy)
    assert digest.digest_key == "daily:2026-01-05"
    with session_scope(factory) as session:  # another e-mail queued later that day
        session.add(Notification(person_id=amy, channel="email", locale="en", subject="Later that day", body="-",
                                 status="queued", created_at=monday + timedelta(hours=2)))
    run(factory, catalog, SETTINGS, monday + timedelta(hours=3))
    assert len(digests_of(engine, amy)) == 1
    assert [n.status for n in notifications(engine, person_id=amy, subject="Later that day")] == ["queued"]
    run(factory, catalog, SETTINGS, local(date(2026, 1, 6), 8))
    second = digests_of(engine, amy)[1]
    assert second.digest_key == "daily:2026-01-06" and "Later that day" in second.body
    assert "https://okr.example.com/inbox" in second.body
    assert [n.status for n in notifications(engine, person_id=amy, subject="Later that day")] == ["digested"]


def test_the_digest_periods_and_quiet_hours_in_the_persons_timezone() -> None:
    taipei = Delivery("weekly", 22, 7, "Asia/Taipei")
    sunday_night = datetime(2026, 1, 11, 23, 30, tzinfo=TAIPEI)
    assert taipei.quiet(sunday_night) and taipei.period(sunday_night) == "weekly:2026-W02"
    assert taipei.quiet_ends(sunday_night) == datetime(2026, 1, 12, 7, tzinfo=TAIPEI)
    assert not taipei.digest_due(datetime(2026, 1, 12, 6, tzinfo=TAIPEI), 8)  # quiet
    assert not taipei.digest_due(datetime(2026, 1, 12, 7, 30, tzinfo=TAIPEI), 8)  # before the digest hour
    assert taipei.digest_due(datetime(2026, 1, 14, 3, tzinfo=TAIPEI).replace(hour=12), 8)  # any later day of the week
    assert Delivery("daily", 9, 9).quiet(datetime(2026, 1, 12, 9, tzinfo=TAIPEI)) is False  # no window
    assert Delivery("daily", timezone="Not/AZone").zone == ZoneInfo("UTC")


def test_two_schedulers_at_once_send_one_digest(engine: Engine) -> None:
    catalog = catalog_of(playbook())
    seeded = seed(engine, catalog, emails=True)
    amy = seeded.people["Amy"]
    factory = make_session_factory(engine)
    monday = local(date(2026, 1, 5), 12)
    run(factory, catalog, SETTINGS, monday - timedelta(hours=5))  # before the digest hour: reminders queue
    with session_scope(factory) as session:
        session.add(Notification(person_id=amy, channel="email", locale="en", subject="Queued before", body="-",
                                 status="queued", created_at=monday - timedelta(hours=4)))

    # Scheduler A makes the digests and has not committed yet; scheduler B runs the same tick meanwhile.
    first = factory()
    begin_write(first)
    a = run_reminders(first, catalog, SETTINGS, monday)
    assert a.email_digests > 0
    found: dict[str, ReminderRun] = {}
    other = threading.Thread(target=_tick, args=(engine, (catalog, SETTINGS), monday, found, "b"))
    other.start()
    if engine.dialect.name == "postgresql":
        assert _waits_on_a_lock(engine), "the second scheduler never reached the keyed insert"
    first.commit()
    first.close()
    other.join(timeout=60)
    assert not other.is_alive()
    assert found["b"].email_digests == 0
    keys = [(n.person_id, n.digest_key) for n in notifications(engine, channel="email") if n.digest_key]
    assert len(keys) == len(set(keys)) == a.email_digests
    (digest,) = digests_of(engine, amy)
    assert "Queued before" in digest.body
