"""The engagement page's coaches: an administrator assigns and hands over; the coaches' sign-ins follow."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web._pages import post_form, text_of
from tests.web._seed import World
from tests.web.conftest import sign_in


def _lin_id(html: str) -> str:
    import re

    found = re.search(r'<option value="(\d+)">Lin Hao</option>', html)
    assert found, "Lin Hao is not offered"
    return found.group(1)


def test_an_administrator_hands_an_engagement_over_and_the_old_coach_loses_it(web: TestClient, world: World) -> None:
    url = f"/engagements/{world.formosa}"
    sign_in(web, "chen@example.com")
    page = web.get(url).text
    assert "Chen Mei-ling" in text_of(page) and 'id="assign-coach"' not in page  # a coach does not reassign
    web.cookies.clear()

    token = sign_in(web, "admin@example.com")
    page = web.get(url).text
    status, location, _ = post_form(web, token, f"{url}/coaches",
                                    {"coach_id": _lin_id(page), "hand_over_from": str(world.chen_person)})
    assert (status, location) == (303, f"{url}#coaches")
    page = text_of(web.get(url).text)
    assert "Engagement handed over to another coach Chen Mei-ling → Lin Hao" in page
    web.cookies.clear()

    sign_in(web, "chen@example.com")
    assert web.get(url).status_code == 404
    web.cookies.clear()
    sign_in(web, "lin@example.com")
    assert web.get(url).status_code == 200


def test_the_page_says_when_no_coach_is_assigned_and_offers_one_in_chinese(web: TestClient, world: World) -> None:
    url = f"/engagements/{world.formosa}"
    token = sign_in(web, "admin@example.com")
    status, _, _ = post_form(web, token, f"{url}/coaches/{world.chen_person}/unassign", {})
    assert status == 303
    page = web.get(url, headers={"Accept-Language": "zh-TW"}).text
    assert "尚未指派教練" in text_of(page)
    assert 'id="assign-coach"' in page and "Lin Hao" in page
