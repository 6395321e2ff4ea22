"""The inbox on the pages: the unread count in every page's header, the inbox listed in pages, mark one read and
mark all read (forms with the CSRF token); and the settings page where a person chooses how e-mail reaches them."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.models import Notification, Person
from tests.conftest import Clock
from tests.web._pages import post_form, text_of
from tests.web._seed import World
from tests.web.conftest import sign_in

UNREAD = re.compile(r'class="inbox-link" href="/inbox" data-unread="(\d+)"')
PAGE = 50  # Settings.page_size_default


def notify(engine: Engine, person_id: int, clock: Clock, count: int, *, engagement_id: int | None = None,
           read: int = 0) -> list[int]:
    with session_scope(make_session_factory(engine)) as session:
        rows = [Notification(person_id=person_id, engagement_id=engagement_id, channel="inbox", locale="en",
                             subject=f"Reminder {k + 1}", body=f"Body of reminder {k + 1}", status="sent",
                             created_at=clock.now - timedelta(hours=count - k), sent_at=clock.now,
                             read_at=clock.now if k < read else None)
                for k in range(count)]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def unread_in_header(html: str) -> int:
    found = UNREAD.search(html)
    assert found, "the page header has no inbox link"
    return int(found.group(1))


def test_the_header_counts_unread_and_the_inbox_marks_one_and_all_read(
        web: TestClient, world: World, engine: Engine, clock: Clock) -> None:
    ids = notify(engine, world.chen_person, clock, 3, engagement_id=world.formosa, read=1)
    notify(engine, world.member_id, clock, 2)  # someone else's
    token = sign_in(web, "chen@example.com")

    portfolio = web.get("/portfolio").text
    assert unread_in_header(portfolio) == 2 and 'aria-label="2 unread"' in portfolio
    assert unread_in_header(web.get(f"/engagements/{world.formosa}").text) == 2

    inbox = web.get("/inbox").text
    text = text_of(inbox)
    assert "3 notifications · 2 unread" in text
    assert re.findall(r'data-notification="(\d+)"', inbox) == [str(i) for i in reversed(ids)]  # newest first
    assert text.index("Reminder 3") < text.index("Reminder 2") < text.index("Reminder 1")
    assert f'href="/engagements/{world.formosa}"' in inbox
    assert inbox.count('action="/inbox/') == 3  # two "mark read" and one "mark all read"

    status, location, _ = post_form(web, token, f"/inbox/{ids[2]}/read", {"next": "/inbox"})
    assert (status, location) == (303, "/inbox")
    assert "3 notifications · 1 unread" in text_of(web.get("/inbox").text)
    assert unread_in_header(web.get("/portfolio").text) == 1

    assert web.post(f"/inbox/{ids[1]}/read", data={"csrf_token": "forged"}).status_code == 403
    assert unread_in_header(web.get("/portfolio").text) == 1

    status, location, _ = post_form(web, token, "/inbox/read-all", {"next": "/portfolio"})
    assert (status, location) == (303, "/portfolio")
    after = web.get("/portfolio").text
    assert unread_in_header(after) == 0 and 'class="badge unread"' not in after
    assert "Mark all read" not in web.get("/inbox").text


def test_nobody_marks_someone_elses_notification_read(web: TestClient, world: World, engine: Engine,
                                                     clock: Clock) -> None:
    (other,) = notify(engine, world.member_id, clock, 1)
    token = sign_in(web, "chen@example.com")
    status, _, _ = post_form(web, token, f"/inbox/{other}/read", {"next": "/inbox"})
    assert status == 404
    with make_session_factory(engine)() as session:
        assert session.get(Notification, other).read_at is None  # type: ignore[union-attr]


def test_the_inbox_pages_and_its_empty_state(web: TestClient, world: World, engine: Engine, clock: Clock) -> None:
    sign_in(web, "chen@example.com")
    empty = text_of(web.get("/inbox").text)
    assert "0 notifications" in empty and "Reminders of your OKR rollout appear here when they fall due" in empty

    notify(engine, world.chen_person, clock, PAGE + 3)
    first = web.get("/inbox").text
    assert f"{PAGE + 3} notifications" in text_of(first)
    assert len(re.findall(r'data-notification="', first)) == PAGE
    assert 'href="/inbox?from=50#inbox"' in first
    second = web.get("/inbox?from=50").text
    assert len(re.findall(r'data-notification="', second)) == 3
    assert "Reminder 1" in text_of(second) and "Reminder 53" not in text_of(second)


def test_the_inbox_in_traditional_chinese(web: TestClient, world: World, engine: Engine, clock: Clock) -> None:
    notify(engine, world.chen_person, clock, 2)
    token = sign_in(web, "chen@example.com")
    post_form(web, token, "/locale", {"locale": "zh-TW", "next": "/inbox"})
    text = text_of(web.get("/inbox").text)
    assert "2 則通知 · 2 則未讀" in text and "全部標為已讀" in text and "收件匣" in text


def test_an_account_without_a_person_has_no_inbox_to_show(web: TestClient, world: World) -> None:
    sign_in(web, "admin@example.com")
    page = web.get("/inbox")
    assert page.status_code == 200
    assert "no reminder is sent to you" in text_of(page.text)


def test_the_settings_page_stores_the_email_choice_prefilled(web: TestClient, world: World,
                                                           engine: Engine) -> None:
    token = sign_in(web, "chen@example.com")
    page = web.get("/settings").text
    assert re.search(r'value="daily" checked', page)  # the default: one digest a day
    assert not re.search(r'name="quiet_from_hour">.*?selected', page)

    status, location, _ = post_form(web, token, "/settings", {
        "email_digest": "weekly", "quiet_from_hour": "22", "quiet_until_hour": "7", "timezone": "Europe/Berlin"})
    assert (status, location) == (303, "/settings?saved=true")
    page = web.get("/settings?saved=true").text
    assert "Your settings are saved." in page
    assert re.search(r'value="weekly" checked', page) and not re.search(r'value="daily" checked', page)
    assert '<option value="22" selected>22:00</option>' in page and '<option value="7" selected>07:00</option>' in page
    assert '<option value="Europe/Berlin" selected>' in page
    with make_session_factory(engine)() as session:
        chen = session.scalars(select(Person).where(Person.id == world.chen_person)).one()
        assert (chen.email_digest, chen.quiet_from_hour, chen.quiet_until_hour, chen.timezone) == (
            "weekly", 22, 7, "Europe/Berlin")

    status, _, body = post_form(web, token, "/settings", {"email_digest": "hourly", "quiet_from_hour": "25",
                                                          "quiet_until_hour": "", "timezone": "Mars/Base"})
    assert status == 422 and "The delivery settings were not saved." in text_of(body)
    with make_session_factory(engine)() as session:
        assert session.get(Person, world.chen_person).email_digest == "weekly"  # type: ignore[union-attr]
