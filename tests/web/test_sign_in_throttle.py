"""How failed sign-ins slow down: at most 100 an hour on an account from browsers it does not know (OWASP ASVS),
a limit per client address over every account (password spraying, the address read through trusted proxies
only), and a browser that signed in to the account before keeping its own allowance, so an attacker elsewhere
cannot lock the real user out. Old counters are pruned by the scheduler; a busy database's page says when to
come back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from okr_rollout.app import create_app
from okr_rollout.catalog.service import Catalog
from okr_rollout.models import SignInThrottle
from okr_rollout.scheduler import Scheduler
from okr_rollout.settings import Settings
from tests.conftest import ROOT, Clock
from tests.web._seed import PASSWORD, World
from tests.web.conftest import csrf_of, sign_in

Browser = Callable[..., TestClient]


@pytest.fixture
def browser(engine: Engine, database_url: str, clock: Clock, catalog: Catalog) -> Iterator[Browser]:
    """A new browser at a client address (``via``: the proxy it connects through), on an app with ``settings``."""
    clients: list[TestClient] = []

    def open_browser(address: str, **settings: Any) -> TestClient:
        app = create_app(Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks", **settings),
                         engine=engine, clock=clock, catalog=catalog)
        client = TestClient(app, raise_server_exceptions=True, follow_redirects=False, client=(address, 50000))
        clients.append(client)
        return client

    yield open_browser
    for client in clients:
        client.close()


def _try(client: TestClient, email: str, password: str, **headers: str) -> tuple[int, str, dict[str, str]]:
    token = csrf_of(client.get("/sign-in", headers=headers).text)
    response = client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token},
                           headers=headers)
    return response.status_code, response.text, dict(response.headers)


def test_an_account_takes_at_most_a_hundred_failures_in_any_hour(browser: Browser, world: World,
                                                                 clock: Clock) -> None:
    """Before, five a minute: about 300 guesses an hour. Failures spread evenly over an hour all count."""
    attacker = browser("203.0.113.9")
    for _ in range(100):
        assert _try(attacker, "chen@example.com", "guess")[0] == 401
        clock.advance(seconds=36)
    status, text, headers = _try(attacker, "chen@example.com", "guess", **{"Accept-Language": "zh-TW"})
    assert status == 429
    # Counted per quarter hour: the first quarter's 25 failures leave the window in 15 minutes.
    assert headers["retry-after"] == "900"
    assert "此帳號登入失敗次數過多。請在 900 秒後再試。" in text
    owner = browser("198.51.100.7")
    assert _try(owner, "chen@example.com", PASSWORD)[0] == 429  # a browser the account does not know waits too
    clock.advance(seconds=899)
    assert _try(owner, "chen@example.com", PASSWORD)[0] == 429
    clock.advance(seconds=1)
    assert _try(owner, "chen@example.com", PASSWORD)[0] == 303


def test_refused_attempts_are_not_checked_and_do_not_count(browser: Browser, world: World, clock: Clock,
                                                          db: Callable[[], Session]) -> None:
    attacker = browser("203.0.113.9", web_sign_in_account_failures=3)
    for _ in range(3):
        assert _try(attacker, "nobody@example.com", "guess")[0] == 401
    for _ in range(5):
        assert _try(attacker, "nobody@example.com", "guess")[0] == 429
    with db() as session:  # unknown addresses are counted as known ones are, and never in clear
        assert session.scalar(select(func.sum(SignInThrottle.failures))
                              .where(SignInThrottle.kind == "account")) == 3
        assert "nobody@example.com" not in session.scalars(select(SignInThrottle.key)).all()
    assert _try(attacker, "chen@example.com", PASSWORD)[0] == 303  # other accounts are not affected


def test_one_client_spraying_many_accounts_is_slowed_down(browser: Browser, world: World) -> None:
    sprayer = browser("203.0.113.9")
    for number in range(100):
        assert _try(sprayer, f"person{number}@example.com", "Summer2026!")[0] == 401
    status, text, headers = _try(sprayer, "chen@example.com", PASSWORD)
    assert status == 429
    assert int(headers["retry-after"]) > 0
    assert "Too many failed sign-ins from your network address." in text
    assert _try(browser("198.51.100.7"), "chen@example.com", PASSWORD)[0] == 303  # another address signs in


def test_the_client_address_is_read_through_trusted_proxies_only(browser: Browser, world: World) -> None:
    proxied = browser("10.0.0.5", web_sign_in_client_failures=2, web_trusted_proxies="10.0.0.0/8, ::1")
    for _ in range(2):
        assert _try(proxied, "nobody@example.com", "guess", **{"X-Forwarded-For": "198.51.100.1, 10.0.0.7"})[0] == 401
    assert _try(proxied, "other@example.com", "guess", **{"X-Forwarded-For": "198.51.100.1"})[0] == 429
    assert _try(proxied, "other@example.com", "guess", **{"X-Forwarded-For": "198.51.100.2"})[0] == 401
    # Anyone may write X-Forwarded-For: from a peer that is no trusted proxy it is not believed.
    direct = browser("192.0.2.1", web_sign_in_client_failures=2, web_trusted_proxies="10.0.0.0/8")
    for number in range(2):
        assert _try(direct, "nobody@example.com", "guess", **{"X-Forwarded-For": f"198.51.100.{50 + number}"})[0] == 401
    assert _try(direct, "nobody@example.com", "guess", **{"X-Forwarded-For": "198.51.100.60"})[0] == 429


def test_an_attacker_elsewhere_cannot_lock_the_real_user_out(browser: Browser, world: World) -> None:
    """A browser the account signed in from before has its own allowance; guesses from elsewhere, which slow the
    account down for every other browser, do not hold it back."""
    own = browser("198.51.100.7")
    token = sign_in(own, "chen@example.com")
    assert own.cookies.get("okr_device")
    own.post("/sign-out", data={"csrf_token": token})
    attacker = browser("203.0.113.9")
    for _ in range(100):
        assert _try(attacker, "chen@example.com", "guess")[0] == 401
    assert _try(attacker, "chen@example.com", PASSWORD)[0] == 429
    assert _try(browser("198.51.100.7"), "chen@example.com", PASSWORD)[0] == 429  # a new browser waits
    assert _try(own, "chen@example.com", PASSWORD)[0] == 303


def test_a_known_browser_has_its_own_small_allowance_and_a_forged_one_none(browser: Browser, world: World) -> None:
    own = browser("198.51.100.7")
    token = sign_in(own, "chen@example.com")
    own.post("/sign-out", data={"csrf_token": token})
    for _ in range(10):
        assert _try(own, "chen@example.com", "guess")[0] == 401
    assert _try(own, "chen@example.com", PASSWORD)[0] == 429
    nonce = own.cookies["okr_device"].split(".")[0]
    forged = browser("198.51.100.8", web_sign_in_account_failures=1)
    forged.cookies.set("okr_device", f"{nonce}.{'0' * 64}")
    assert _try(forged, "chen@example.com", "guess")[0] == 401
    assert _try(forged, "chen@example.com", PASSWORD)[0] == 429  # counted as the unknown browser it is


def test_the_scheduler_prunes_counters_no_window_reaches(browser: Browser, world: World, clock: Clock,
                                                        engine: Engine, database_url: str, catalog: Catalog,
                                                        db: Callable[[], Session]) -> None:
    attacker = browser("203.0.113.9")
    assert _try(attacker, "nobody@example.com", "guess")[0] == 401
    assert _try(attacker, "chen@example.com", "guess")[0] == 401
    clock.advance(hours=1, minutes=15)
    assert _try(attacker, "someone@example.com", "guess")[0] == 401
    scheduler = Scheduler(Settings(database_url=database_url, playbooks_dir=ROOT / "playbooks"), engine, catalog,
                          clock)
    try:
        scheduler.throttle_pruning_tick()
    finally:
        scheduler.leadership.release()
    with db() as session:
        rows = session.execute(select(SignInThrottle.kind, SignInThrottle.failures))
        kept = [(kind, failures) for kind, failures in rows]
    assert sorted(kept) == [("account", 1), ("client", 1)]  # only the latest attempt's


def test_a_page_answering_503_says_when_to_come_back(web: TestClient, world: World, engine: Engine) -> None:
    sign_in(web, "chen@example.com")

    def busy(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        raise OperationalError("(injected)", {}, Exception("database is locked"))

    event.listen(engine, "before_cursor_execute", busy)
    try:
        response = web.get("/portfolio", headers={"Accept-Language": "zh-TW"})
    finally:
        event.remove(engine, "before_cursor_execute", busy)
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert "資料庫忙碌中或無法連線。請稍候幾秒再試。" in response.text
