"""No reminder is lost to the weekly cap: over a simulated quarter (the clock injected, the scheduler ticking every
8 hours) the department lead receives every scoring and 1:1 reminder, individually or in a digest, and never more
than max_nudges_per_week + 1 messages in any 7 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from okr_rollout.auth.caller import Role
from okr_rollout.auth.service import create_token
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.models import Person
from okr_rollout.settings import Settings
from tests.conftest import auth
from tests.notifications._seed import (
    ENTERED,
    Q1_END,
    Q1_START,
    catalog_of,
    local,
    notifications,
    playbook,
    reminders,
    run,
    seed,
)

SETTINGS = Settings(database_url="sqlite://", smtp_host=None)
WEEK = timedelta(days=7)


@pytest.mark.parametrize("cap", [1, 3])
def test_every_gate_reminder_reaches_the_lead_in_at_most_cap_plus_one_messages_a_week(engine: Engine, cap: int
                                                                                      ) -> None:
    catalog = catalog_of(playbook(max_nudges_per_week=str(cap)))
    seeded = seed(engine, catalog)
    lee = seeded.people["Lee"]
    factory = make_session_factory(engine)
    now, end = ENTERED, local(Q1_END, 23, 59)
    # A week past the quarter: a reminder held near its end waits at most that long for the next digest.
    while now <= end + WEEK:
        run(factory, catalog, SETTINGS, now)
        now += timedelta(hours=8)

    in_quarter = [r for r in reminders(engine) if r.due_at <= end and lee in r.details["recipient_ids"]]
    for_gates = [r for r in in_quarter if r.cadence_id in ("one_on_one", "quarter_scoring")]
    assert {r.cadence_id for r in for_gates} == {"one_on_one", "quarter_scoring"}
    inbox = notifications(engine, person_id=lee, channel="inbox")
    by_reminder = {n.reminder_id: n for n in inbox if n.reminder_id is not None}
    digests = [n for n in inbox if n.reminder_id is None]
    assert digests, "the cap never held a reminder: the test would prove nothing"
    digest_times = {d.created_at for d in digests}
    for reminder in in_quarter:
        told = by_reminder[reminder.id]
        # Sent on its own, or held and then told in a digest sent at that very moment; never left waiting.
        assert told.status == "sent" or (told.status == "digested" and told.sent_at in digest_times), reminder
    assert any(by_reminder[r.id].status == "digested" for r in for_gates) or cap > 1

    messages = sorted(n.created_at for n in inbox if n.status == "sent")
    for start in messages:
        assert sum(start <= at < start + WEEK for at in messages) <= cap + 1, start
    # What a digest says: every reminder it tells, in the lead's language.
    told_together = [n for n in inbox if n.status == "digested" and n.sent_at == digests[0].created_at]
    assert digests[0].subject.endswith(f"{len(told_together)} reminder{'s' if len(told_together) > 1 else ''} "
                                       "this week")
    assert digests[0].body.count("\n  - ") == len(told_together)


def test_a_second_run_sends_no_second_digest(engine: Engine) -> None:
    catalog = catalog_of(playbook(max_nudges_per_week="1"))
    seeded = seed(engine, catalog)
    factory = make_session_factory(engine)
    monday = local(Q1_START + timedelta(days=14), 12)  # check-in, team meeting and the first 1:1 fall due
    first = run(factory, catalog, SETTINGS, monday)
    again = run(factory, catalog, SETTINGS, monday + timedelta(minutes=5))
    assert first.digests >= 1 and again.digests == 0
    lee_digests = [n for n in notifications(engine, person_id=seeded.people["Lee"]) if n.reminder_id is None]
    assert len(lee_digests) == 1


def test_the_digest_is_in_the_leads_inbox_over_http_in_their_language(engine: Engine, app_client: TestClient
                                                                      ) -> None:
    catalog = catalog_of(playbook(max_nudges_per_week="1"))
    seeded = seed(engine, catalog)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        lead = session.get(Person, seeded.people["Lee"])
        assert lead is not None
        lead.locale = "zh-TW"
        token, _ = create_token(session, role=Role.internal_coach, person_id=lead.id)
    run(factory, catalog, SETTINGS, local(Q1_START + timedelta(days=14), 12))

    inbox = app_client.get("/api/v1/me/notifications", headers=auth(token)).json()["items"]
    (digest,) = [n for n in inbox if n["reminder_id"] is None]
    # Check-in, team meeting and 1:1 fall due together: one on its own (the cap of 1), two in the digest.
    assert digest["subject"] == "【彙整】Acme Tea Co.:本週另有 2 則提醒"
    assert "一則也不會遺漏" in digest["body"] and "2026-01-19 09:00(Asia/Taipei)" in digest["body"]
    assert len(inbox) == 2 and digest["body"].count("\n  - ") == 2
