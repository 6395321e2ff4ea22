"""English and Traditional Chinese: a complete catalog, the reader's language chosen and switchable, no English
left in a Chinese page, dates and numbers in the reader's format."""

from __future__ import annotations

import re
from collections.abc import Callable

from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from okr_rollout.models import Person, User
from okr_rollout.web import messages
from tests.web._pages import post_form, text_of
from tests.web._seed import World
from tests.web.conftest import csrf_of, sign_in

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_every_message_of_the_pages_is_translated_to_zh_tw() -> None:
    extracted = [m for m in messages.extract() if m.id]
    assert len(extracted) > 250  # the extraction found the templates and the Python labels
    assert messages.missing("zh-TW") == []


def test_translations_keep_their_placeholders() -> None:
    with messages.po_path("zh-TW").open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, message.id


def test_the_sign_in_page_follows_accept_language(web: TestClient) -> None:
    chinese = web.get("/sign-in", headers={"Accept-Language": "zh-TW,zh;q=0.9"}).text
    assert '<html lang="zh-Hant-TW">' in chinese and "電子郵件地址" in chinese
    english = web.get("/sign-in", headers={"Accept-Language": "de-DE,en;q=0.5"}).text
    assert '<html lang="en">' in english and "E-mail address" in english


def test_the_persons_setting_wins_over_the_browser(web: TestClient, world: World,
                                                   db: Callable[[], Session]) -> None:
    with db() as session:
        person = session.get(Person, world.chen_person)
        assert person is not None
        person.locale = "zh-TW"
    sign_in(web, "chen@example.com")
    page = web.get("/portfolio", headers={"Accept-Language": "en"}).text
    assert "專案總覽" in page


def test_switching_the_language_on_any_page_is_kept(web: TestClient, world: World,
                                                   db: Callable[[], Session]) -> None:
    token = sign_in(web, "chen@example.com")
    here = f"/engagements/{world.formosa}"
    assert f'name="next" value="{here}"' in web.get(here).text  # the switch on this page returns to it
    status, location, _ = post_form(web, token, "/locale", {"locale": "zh-TW", "next": here})
    assert (status, location) == (303, here)
    assert "本階段的任務" in web.get(here).text
    with db() as session:
        assert session.scalar(select(User.locale).where(User.email == "chen@example.com")) == "zh-TW"
    web.cookies.clear()  # another browser: the user's choice follows them
    sign_in(web, "chen@example.com")
    assert "本階段的任務" in web.get(here).text


def test_the_switch_works_before_signing_in(web: TestClient) -> None:
    token = csrf_of(web.get("/sign-in").text)
    web.post("/locale", data={"csrf_token": token, "locale": "zh-TW", "next": "/sign-in"})
    assert "電子郵件地址" in web.get("/sign-in").text


def _english_left(html: str) -> list[str]:
    """Messages of the catalog that appear untranslated in a page."""
    catalog = messages.read("zh-TW")
    text = text_of(html)
    left = []
    for message in catalog:
        if not message.id or isinstance(message.id, tuple) or PLACEHOLDER.search(message.id):
            continue
        if message.string != message.id and len(message.id) > 3 and re.search(
                rf"(?<![\w(]){re.escape(message.id)}(?![\w])", text):  # "(OKR Master)" glosses a term
            left.append(message.id)
    return left


def test_chinese_pages_have_no_english_left(web: TestClient, world: World) -> None:
    token = sign_in(web, "chen@example.com")
    post_form(web, token, "/locale", {"locale": "zh-TW", "next": "/"})
    post_form(web, token, f"/engagements/{world.formosa}/transitions", {"trigger": "hold_kickoff"})
    pages = ["/portfolio", f"/engagements/{world.formosa}?refused=hold_kickoff",
             f"/engagements/{world.formosa}/records", "/readiness"]
    pages += [f"/engagements/{world.formosa}/records/{slug}" for slug in ("meeting", "training", "appointment")]
    pages += [f"/engagements/{world.formosa}/documents/{doc}" for doc in (
        "executive_meeting_agenda", "kickoff_worksheet", "pilot_training_plan", "quarter_review",
        "expansion_readiness_report")]
    for url in pages:
        response = web.get(url)
        assert response.status_code == 200, url
        assert _english_left(response.text) == [], url
    engagement = text_of(web.get(f"/engagements/{world.formosa}?refused=hold_kickoff").text)
    assert "初步高管會議" in engagement  # the playbook's own Chinese (phase titles)
    # The gate's reason in Chinese, naming the meeting by its title, never by its key.
    assert "尚未舉行初步高管會議。" in engagement


def test_the_pages_show_the_titled_reasons_in_the_pages_language(web: TestClient, world: World) -> None:
    """The same reasons the API gives, by titles, in English and in Traditional Chinese."""
    token = sign_in(web, "chen@example.com")
    post_form(web, token, f"/engagements/{world.formosa}/transitions", {"trigger": "hold_kickoff"})
    page = f"/engagements/{world.formosa}?refused=hold_kickoff"

    def reasons(html: str) -> list[str]:
        return [text_of(found) for found in re.findall(r'class="reason">(.*?)</div>', html, re.DOTALL)]

    english = web.get(page).text
    assert "No executive meeting has been held yet." in reasons(english)
    assert "No statement of CEO support is recorded." in reasons(english)
    def refusal_in_history(html: str) -> str:
        found = re.search(r'<li data-event="gate.refused">(.*?)</li>', html, re.DOTALL)
        assert found is not None
        return text_of(found.group(1))

    # The history names the criteria the refusal failed by their titles too.
    assert "Executive meeting: CEO support, OKRs introduced, expectations set, The CEO backs the rollout" in \
        refusal_in_history(english)
    readiness_en = reasons(web.get("/readiness").text)
    post_form(web, token, "/locale", {"locale": "zh-TW", "next": "/"})
    chinese = web.get(page).text
    assert "尚未舉行初步高管會議。" in reasons(chinese) and "尚未記錄 CEO 的支持聲明。" in reasons(chinese)
    assert "初步高管會議:獲得 CEO 支持、介紹 OKRs、設立期望、CEO 支持導入" in refusal_in_history(chinese)
    readiness_zh = reasons(web.get("/readiness").text)
    shown = reasons(english) + reasons(chinese) + readiness_en + readiness_zh
    assert shown
    for reason in shown:
        assert not re.search(r"\b[a-z]+_[a-z0-9_]+\b|「[a-z_0-9]+」|'[a-z_0-9]+'|\[", reason), reason


def test_dates_are_formatted_for_the_reader(web: TestClient, world: World) -> None:
    token = sign_in(web, "chen@example.com")
    assert "due Jan 12, 2026" in web.get(f"/engagements/{world.formosa}").text
    post_form(web, token, "/locale", {"locale": "zh-TW", "next": "/"})
    assert "2026年1月12日 到期" in web.get(f"/engagements/{world.formosa}").text
