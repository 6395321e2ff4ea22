"""Lists in the pages say how many there are and page on: the engagement's history, each kind of record and the
check-ins ("21–40 of 73", previous and next)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from okr_rollout.models import CheckIn, Event, KeyResult, Meeting, Okr, Quarter
from tests.web._pages import post_form, text_of
from tests.web._seed import World
from tests.web.conftest import sign_in


def _links(html: str, rel: str) -> list[str]:
    return [link.replace("&amp;", "&") for link in re.findall(rf'<a rel="{rel}" href="([^"]+)"', html)]


def _section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start:html.index("</section>", start)]


def test_the_history_says_how_many_events_and_pages_through_all_of_them(
        web: TestClient, world: World, db: Callable[[], Session]) -> None:
    with db() as session:
        for n in range(220):
            session.add(Event(type="task.updated", actor=f"coach:tester-{n}", engagement_id=world.formosa,
                              occurred_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n), payload={}))
    sign_in(web, "chen@example.com")
    url = f"/engagements/{world.formosa}"
    first = _section(web.get(url).text, "history")
    total = int(re.search(r"1–40 of (\d+)", text_of(first)).group(1))  # type: ignore[union-attr]
    assert total >= 222  # the 220 added, the engagement's creation and its first transition
    assert first.count("<li data-event=") == 40 and _links(first, "prev") == []
    (next_url,) = _links(first, "next")
    assert next_url == f"{url}?history_from=40#history"
    second = _section(web.get(next_url).text, "history")
    assert f"41–80 of {total}" in text_of(second)
    assert _links(second, "prev") == [f"{url}#history"]
    seen: list[str] = []
    page_url: str | None = url
    while page_url:
        section = _section(web.get(page_url).text, "history")
        seen += re.findall(r'<span class="actor">([^<]+)</span>', section)
        found = _links(section, "next")
        page_url = found[0] if found else None
    assert len(seen) == total and len(set(s for s in seen if s.startswith("coach:tester-"))) == 220
    last = _section(web.get(f"{url}?history_from=99999").text, "history")  # a stale link shows the last page
    assert f"of {total}" in text_of(last) and _links(last, "next") == []


def test_records_and_check_ins_page_on_each_on_its_own(web: TestClient, world: World,
                                                       db: Callable[[], Session]) -> None:
    with db() as session:
        for n in range(73):
            session.add(Meeting(engagement_id=world.formosa, kind="weekly_team", held_at=datetime(
                2025, 1, 1, 9, tzinfo=UTC) + timedelta(days=n), attendee_ids=[world.ceo_id], outcomes=[],
                notes=f"meeting {n}"))
        quarter = Quarter(engagement_id=world.formosa, label="2025-Q3", starts_on=date(2025, 7, 1),
                          ends_on=date(2025, 9, 30))
        session.add(quarter)
        session.flush()
        okr = Okr(engagement_id=world.formosa, quarter_id=quarter.id, owner_id=world.member_id,
                  objective="Delight riders")
        session.add(okr)
        session.flush()
        kr = KeyResult(engagement_id=world.formosa, okr_id=okr.id, metric="NPS", start_value=0, target_value=50,
                       current_value=0)
        session.add(kr)
        session.flush()
        for week in range(25):
            session.add(CheckIn(engagement_id=world.formosa, key_result_id=kr.id, value=week,
                                week_of=date(2025, 7, 7) + timedelta(weeks=week), author_id=world.member_id,
                                note=f"week {week}"))
    token = sign_in(web, "chen@example.com")
    url = f"/engagements/{world.formosa}/records"
    html = web.get(url).text
    meetings, check_ins = _section(html, "meetings"), _section(html, "check_ins")
    assert "1–20 of 73" in text_of(meetings) and meetings.count("<tr data-record=\"meeting-") == 20
    assert "1–20 of 25" in text_of(check_ins) and "Delight riders · NPS" in text_of(check_ins)
    assert "Wang Internal" in text_of(check_ins) and "week 24" in check_ins  # newest week first
    (next_check_ins,) = _links(check_ins, "next")
    html = web.get(next_check_ins).text
    assert "21–25 of 25" in text_of(_section(html, "check_ins"))
    assert "1–20 of 73" in text_of(_section(html, "meetings"))  # the other lists stay where they were
    html = web.get(f"{url}?meetings_from=60").text
    assert "61–73 of 73" in text_of(_section(html, "meetings"))
    assert post_form(web, token, "/locale", {"locale": "zh-TW", "next": url})[0] == 303
    chinese = web.get(url).text
    assert "第 1–20 筆,共 73 筆" in text_of(_section(chinese, "meetings"))
    assert "下一頁" in _section(chinese, "meetings")
